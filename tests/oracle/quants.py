"""Quantizers that turn float32 rows into ggml blocks, for writing test GGUFs.

The `gguf` package quantizes F16, BF16, Q8_0, Q4_0 and Q4_1 itself; it can
only *dequantize* the K-quants, so Q4_K, Q5_K and Q6_K blocks are packed here
following the ggml block layout (ggml-common.h). These quantizers are simple
(no search for the best scale, unlike llama.cpp's), because the tests only
need valid blocks whose meaning is defined by gguf's dequantizer; the
round-trip error is still checked so a packing bug cannot hide.

`random_blocks` makes blocks from random bytes with sane f16 scales: every
bit pattern of the packed scales and quants is exercised, which a real
quantizer would not do.
"""
import numpy as np
from gguf import GGMLQuantizationType as QT
from gguf import GGML_QUANT_SIZES
from gguf import quants as gq

QK_K = 256


def _f16_bytes(values):
    return np.asarray(values, dtype=np.float16).reshape(-1, 1).view(np.uint8)


def _pack_scale_min_k4(scales, mins):
    """8 six-bit scales and 8 six-bit mins (n, 8) -> the 12-byte packing (n, 12)."""
    sc = scales.astype(np.uint8)
    mn = mins.astype(np.uint8)
    out = np.zeros((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = mn[:, 0:4] | ((mn[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 0x0F) | ((mn[:, 4:8] & 0x0F) << 4)
    return out


def _affine_k(x, levels):
    """Per 32-element sub-block scale and (positive) min for x (nb, 8, 32), plus 6-bit super scales."""
    lo = np.minimum(x.min(axis=2), 0.0)
    hi = x.max(axis=2)
    scale = (hi - lo) / levels
    mins = -lo
    d = scale.max(axis=1) / 63.0
    dmin = mins.max(axis=1) / 63.0
    d = np.asarray(np.float16(d), dtype=np.float32)
    dmin = np.asarray(np.float16(dmin), dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc_q = np.where(d[:, None] > 0, np.rint(scale / d[:, None]), 0)
        m_q = np.where(dmin[:, None] > 0, np.rint(mins / dmin[:, None]), 0)
    sc_q = np.clip(sc_q, 0, 63)
    m_q = np.clip(m_q, 0, 63)
    eff_scale = d[:, None] * sc_q
    eff_min = dmin[:, None] * m_q
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(eff_scale[:, :, None] > 0, np.rint((x + eff_min[:, :, None]) / eff_scale[:, :, None]), 0)
    q = np.clip(q, 0, levels).astype(np.uint8)
    return d, dmin, sc_q, m_q, q


def quantize_q4_k(rows):
    x = rows.reshape(-1, 8, 32).astype(np.float32)
    d, dmin, sc_q, m_q, q = _affine_k(x, 15)
    nb = x.shape[0]
    # 64 elements (two sub-blocks) share 32 bytes: low nibble = first sub-block.
    q = q.reshape(nb, 4, 2, 32)
    qs = (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(nb, 128)
    blocks = np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_scale_min_k4(sc_q, m_q), qs], axis=1)
    return blocks.reshape(rows.shape[0], -1)


def quantize_q5_k(rows):
    x = rows.reshape(-1, 8, 32).astype(np.float32)
    d, dmin, sc_q, m_q, q = _affine_k(x, 31)
    nb = x.shape[0]
    q = q.reshape(nb, 4, 2, 32)
    low = q & 0x0F
    high = (q >> 4) & 1
    qs = (low[:, :, 0, :] | (low[:, :, 1, :] << 4)).reshape(nb, 128)
    # qh[l] bit 2j holds the 5th bit of element l of sub-block 2j, bit 2j+1 of sub-block 2j+1.
    qh = np.zeros((nb, 32), dtype=np.uint8)
    for j in range(4):
        qh |= (high[:, j, 0, :] << (2 * j)).astype(np.uint8)
        qh |= (high[:, j, 1, :] << (2 * j + 1)).astype(np.uint8)
    blocks = np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_scale_min_k4(sc_q, m_q), qh, qs], axis=1)
    return blocks.reshape(rows.shape[0], -1)


def quantize_q6_k(rows):
    x = rows.reshape(-1, 16, 16).astype(np.float32)
    nb = x.shape[0]
    amax = np.abs(x).max(axis=2)
    scale = amax / 31.0
    d = np.asarray(np.float16(scale.max(axis=1) / 127.0), dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(d[:, None] > 0, np.rint(scale / d[:, None]), 0)
    sc = np.clip(sc, -128, 127)
    eff = d[:, None] * sc
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(eff[:, :, None] > 0, np.rint(x / eff[:, :, None]), 0)
    q = (np.clip(q, -32, 31) + 32).astype(np.uint8).reshape(nb, 2, 4, 32)  # [half][quarter][l]
    ql = np.zeros((nb, 2, 64), dtype=np.uint8)
    qh = np.zeros((nb, 2, 32), dtype=np.uint8)
    # Within each 128-element half: quarters 0,1 use the low nibbles of ql[0:32], ql[32:64];
    # quarters 2,3 the high nibbles; qh[l] holds the top 2 bits of all four quarters.
    ql[:, :, 0:32] = (q[:, :, 0, :] & 0x0F) | ((q[:, :, 2, :] & 0x0F) << 4)
    ql[:, :, 32:64] = (q[:, :, 1, :] & 0x0F) | ((q[:, :, 3, :] & 0x0F) << 4)
    for k in range(4):
        qh[:, :, :] |= ((q[:, :, k, :] >> 4) << (2 * k)).astype(np.uint8)
    blocks = np.concatenate([ql.reshape(nb, 128), qh.reshape(nb, 64), sc.astype(np.int8).view(np.uint8),
                             _f16_bytes(d)], axis=1)
    return blocks.reshape(rows.shape[0], -1)


_OWN_QUANTIZERS = {QT.Q4_K: quantize_q4_k, QT.Q5_K: quantize_q5_k, QT.Q6_K: quantize_q6_k}

SUPPORTED_TYPES = (QT.F32, QT.F16, QT.BF16, QT.Q8_0, QT.Q4_0, QT.Q4_1, QT.Q4_K, QT.Q5_K, QT.Q6_K)


def quantize(matrix, qtype):
    """float32 (rows, cols) -> array to hand to GGUFWriter.add_tensor(raw_dtype=qtype)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if qtype == QT.F32:
        return matrix
    if qtype == QT.F16:
        return matrix.astype(np.float16)
    if qtype in _OWN_QUANTIZERS:
        if matrix.shape[-1] % QK_K:
            raise ValueError(f"{qtype.name} needs rows that are a multiple of {QK_K}")
        return _OWN_QUANTIZERS[qtype](matrix.reshape(-1, matrix.shape[-1]))
    return gq.quantize(matrix, qtype)


def dequantize(data, qtype):
    return gq.dequantize(data, qtype).astype(np.float32)


def random_blocks(rows, cols, qtype, rng):
    """Blocks of random bytes with finite, modest f16 scales: covers every bit pattern."""
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    if cols % block_size:
        raise ValueError("cols must be a multiple of the block size")
    nb = rows * cols // block_size
    raw = rng.integers(0, 256, size=(nb, type_size), dtype=np.uint8)

    def scales(n):
        return _f16_bytes(rng.uniform(-0.05, 0.05, size=n))

    if qtype in (QT.Q4_0, QT.Q8_0):
        raw[:, 0:2] = scales(nb)
    elif qtype == QT.Q4_1:
        raw[:, 0:2] = scales(nb)
        raw[:, 2:4] = scales(nb)
    elif qtype in (QT.Q4_K, QT.Q5_K):
        raw[:, 0:2] = scales(nb)
        raw[:, 2:4] = scales(nb)
    elif qtype == QT.Q6_K:
        raw[:, 208:210] = scales(nb)
    else:
        raise ValueError(f"no random blocks for {qtype.name}")
    return raw.reshape(rows, -1)
