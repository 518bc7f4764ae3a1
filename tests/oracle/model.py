"""The reference forward pass: Llama family and Gemma, in float64.

Written to be read top to bottom, not to be fast. All arithmetic is float64
on the (dequantized) weights, so the oracle's own rounding error (~1e-12
relative) is far below any tolerance the tests use: what the tests measure
is the engine's error alone.

The whole sequence is evaluated at once with a causal mask, which gives the
logits at every position; greedy decoding is checked by teacher forcing
(the logits at each position given the engine's own earlier tokens), which
is exactly what a step-by-step greedy decoder with a KV cache computes.
"""
import numpy as np


class Model:
    def __init__(self, config, weights, emulate_q8_activations=False):
        """emulate_q8_activations: round every matmul input to Q8_0 blocks (32 values, scale
        amax/127), as ggml-style engines do before integer dot products. Used only to
        estimate how far an engine that does this may honestly drift from the exact result."""
        self.config = config
        self.emulate_q8 = emulate_q8_activations
        # float64 copies of everything; a 135M-parameter model takes ~1.1 GB.
        self.w = {name: np.asarray(array, dtype=np.float64) for name, array in weights.items()}
        self.w["lm_head"] = self.w["lm_head"] if not config.tied_embeddings else self.w["embed"]
        half = config.head_dim // 2
        self.inv_freq = config.rope_theta ** (-np.arange(half, dtype=np.float64) * 2.0 / config.head_dim)

    def variant(self, emulate_q8_activations):
        """The same weights (shared, not copied) with another activation mode."""
        other = object.__new__(Model)
        other.__dict__.update(self.__dict__)
        other.emulate_q8 = emulate_q8_activations
        return other

    def _mm(self, x, name):
        if self.emulate_q8:
            blocks = x.reshape(*x.shape[:-1], -1, 32)
            scale = np.abs(blocks).max(axis=-1, keepdims=True) / 127.0
            scale = scale.astype(np.float16).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.where(scale > 0, np.rint(blocks / scale), 0.0)
            x = (q * scale).reshape(x.shape)
        return x @ self.w[name].T

    def _rms_norm(self, x, weight):
        c = self.config
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + c.rms_eps) * (weight + c.norm_offset)

    def _rope(self, x, positions):
        """x: (T, heads, head_dim)."""
        angles = positions[:, None].astype(np.float64) * self.inv_freq[None, :]  # (T, half)
        cos = np.cos(angles)[:, None, :]
        sin = np.sin(angles)[:, None, :]
        if self.config.rope_layout == "interleaved":
            a, b = x[..., 0::2], x[..., 1::2]
        else:
            half = self.config.head_dim // 2
            a, b = x[..., :half], x[..., half:]
        ra = a * cos - b * sin
        rb = a * sin + b * cos
        out = np.empty_like(x)
        if self.config.rope_layout == "interleaved":
            out[..., 0::2], out[..., 1::2] = ra, rb
        else:
            half = self.config.head_dim // 2
            out[..., :half], out[..., half:] = ra, rb
        return out

    def _activation(self, x):
        if self.config.activation == "silu":
            return x / (1.0 + np.exp(-x))
        # GELU, tanh approximation (transformers' gelu_pytorch_tanh, ggml's gelu).
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))

    def hidden_states(self, ids):
        """Final normed hidden states (T, hidden) for token ids at positions 0..T-1."""
        c, w = self.config, self.w
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) == 0:
            raise ValueError("need a non-empty 1-D list of token ids")
        if ids.min() < 0 or ids.max() >= c.vocab:
            raise ValueError("token id out of range")
        T = len(ids)
        positions = np.arange(T)
        x = w["embed"][ids] * c.embed_scale
        group = c.n_heads // c.n_kv_heads
        causal = np.triu(np.full((T, T), -np.inf), k=1)
        for layer in range(c.n_layers):
            p = f"{layer}."
            h = self._rms_norm(x, w[p + "attn_norm"])
            q = (self._mm(h, p + "wq")).reshape(T, c.n_heads, c.head_dim)
            k = (self._mm(h, p + "wk")).reshape(T, c.n_kv_heads, c.head_dim)
            v = (self._mm(h, p + "wv")).reshape(T, c.n_kv_heads, c.head_dim)
            q = self._rope(q, positions)
            k = self._rope(k, positions)
            # Query head i uses key/value head i // group (GQA; MQA when n_kv_heads == 1).
            k = np.repeat(k, group, axis=1)
            v = np.repeat(v, group, axis=1)
            scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(c.head_dim) + causal[None]
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            attn = np.einsum("hts,shd->thd", probs, v).reshape(T, c.n_heads * c.head_dim)
            x = x + self._mm(attn, p + "wo")
            h = self._rms_norm(x, w[p + "ffn_norm"])
            ff = self._activation(self._mm(h, p + "w_gate")) * self._mm(h, p + "w_up")
            x = x + self._mm(ff, p + "w_down")
        return self._rms_norm(x, w["out_norm"])

    def logits(self, ids, positions=None):
        """Logits (len(positions), vocab) at the given positions (default: all)."""
        h = self.hidden_states(ids)
        if positions is not None:
            h = h[np.asarray(positions)]
        return self._mm(h, "lm_head")

    def greedy(self, prompt_ids, n_tokens):
        """Plain greedy decoding; returns (generated ids, logits rows as the engine writes them)."""
        ids = list(prompt_ids)
        rows = []
        for _ in range(n_tokens):
            row = self.logits(ids, [len(ids) - 1])[0]
            rows.append(row)
            ids.append(int(np.argmax(row)))
        return ids[len(prompt_ids):], np.array(rows)


def top2_margin(row):
    """Logit gap between the best and second-best token."""
    top = np.partition(row, -2)[-2:]
    return float(top[1] - top[0])
