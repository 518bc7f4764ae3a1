"""tokenizer.json Unicode normalizers (NFC, NFKC): the engine's ids must equal
the `tokenizers` package's, exactly.

Tokenizers built here from the test vocabularies, each with a Unicode normalizer:
- Qwen2's pipeline (normalizer NFC; Split with Qwen2's regex, then ByteLevel
  without its own regex) over SmolLM2's byte-level vocabulary;
- SmolLM2's pipeline (Digits, ByteLevel) with NFKC;
- both with extra added tokens whose text changes under normalization, one
  "normalized": true (matched in the normalized text) and one false (raw text);
- the SentencePiece-style vocabulary (byte fallback) with NFKC before and
  after its Prepend/Replace normalizers (the order decides what NBSP becomes).
"""
import json

import pytest

from oracle import vocab
from test_tokenizer import CORPUS, hf_ids, write_prompt

QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

NORMALIZATION_CORPUS = [
    "Cafe\u0301 nai\u0308ve re\u0301sume\u0301 and e\u0301e\u0301e\u0301",   # decomposed accents
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9",                                   # composed already
    "s\u0307\u0323 a\u0323\u0301 a\u0301\u0301 o\u031b\u0323\u0301",          # marks in the wrong order, blocked marks
    "\ufb01nd the \ufb02ow \u2460\u2461\u2462 \uff21\uff22\uff23\uff41\uff42 \u338f \u339e \u2163",  # compatibility
    "\u212b \u2126 \u0958 \u0344 \u1e9b\u0323",                                # singletons, exclusions
    "\u1112\u1161\u11ab\u1100\u1173\u11af \ud55c\uad6d\uc5b4 \u3131\u314f",    # Hangul jamo, syllables, compatibility jamo
    "\u4f60\u597d \u6771\u4eac \u2f00 \uf900 \u3000\u3000full-width space",    # CJK, radicals, compatibility ideographs
    "\U0001f600\U0001f44d\U0001f3fd \u2764\ufe0f \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001d400\U0001d7d8",
    "x\u00a0y\u2002z \u00bd \u2075 \u00b5 \u017f\u0307 \u1e9b",              # spaces, fractions, super/subscripts
    "\u0301 leading mark, ka\u3099 \u30ab\u3099 \uff76\uff9e",                 # kana voicing marks, half-width
    "\u0627\u0653 \u0627\u0654 \ufdfa \ufb50",                                  # Arabic compositions and ligatures
    "\u0b47\u0b3e \u0b47\u0b56 \u0dd9\u0dcf\u0dca \u1025\u102e",              # Indic two-starter compositions
]

ADDED_CORPUS = [
    "xe\u0301y and x\u00e9y",
    "<tag>e\u0301 <tag>\u00e9 \uff1ctag\uff1e",
    "a\ufb01b ab",
]


def extra_added_tokens(data):
    """Two added tokens past the vocabulary: normalized (content decomposed) and raw."""
    next_id = max(max(data["model"]["vocab"].values()), max(t["id"] for t in data["added_tokens"])) + 1
    common = {"single_word": False, "lstrip": False, "rstrip": False, "special": False}
    return data["added_tokens"] + [
        dict(common, id=next_id, content="xe\u0301y", normalized=True),
        dict(common, id=next_id + 1, content="<tag>e\u0301", normalized=False),
    ]


def byte_level_variants(smollm2_data):
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    qwen2 = dict(smollm2_data, normalizer={"type": "NFC"}, pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False}, byte_level]})
    nfkc = dict(smollm2_data, normalizer={"type": "NFKC"})
    return {
        "qwen2-nfc": qwen2,
        "smollm2-nfkc": nfkc,
        "qwen2-nfc-added": dict(qwen2, added_tokens=extra_added_tokens(qwen2)),
        "smollm2-nfkc-added": dict(nfkc, added_tokens=extra_added_tokens(nfkc)),
    }


def spm_variants():
    data = vocab.SpmVocab("llama").tokenizer_json()
    spaces = data["normalizer"]["normalizers"]
    return {
        "spm-nfkc-first": dict(data, normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}] + spaces}),
        "spm-nfkc-last": dict(data, normalizer={"type": "Sequence", "normalizers": spaces + [{"type": "NFKC"}]}),
        "spm-nfc": dict(data, normalizer={"type": "Sequence", "normalizers": [{"type": "NFC"}] + spaces}),
    }


def check(cli, name, data, texts, tmp_path):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    tokenizer = vocab.load_hf_tokenizer(data)
    for text in texts:
        got = cli.ids("--tokenizer-json", path, "--tokenize", "-f", write_prompt(tmp_path, text))
        assert got == hf_ids(tokenizer, text), f"{name}: {text!r}"


@pytest.mark.parametrize("name", ["qwen2-nfc", "smollm2-nfkc", "qwen2-nfc-added", "smollm2-nfkc-added"])
def test_byte_level_normalizers(cli, smollm2_tokenizer_data, tmp_path, name):
    data = byte_level_variants(smollm2_tokenizer_data)[name]
    # The general corpus in one text keeps the number of CLI runs down.
    texts = NORMALIZATION_CORPUS + ["\n".join(CORPUS)]
    if name.endswith("-added"):
        texts += ADDED_CORPUS + ["text<|endoftext|>e\u0301"]
    check(cli, name, data, texts, tmp_path)


@pytest.mark.parametrize("name", ["spm-nfkc-first", "spm-nfkc-last", "spm-nfc"])
def test_sentencepiece_normalizers(cli, tmp_path, name):
    texts = NORMALIZATION_CORPUS + ["\n".join(CORPUS), "<s>e\u0301</s>\u00a0x"]
    check(cli, name, spm_variants()[name], texts, tmp_path)


def test_invalid_utf8_with_normalizer(cli, smollm2_tokenizer_data, tmp_path):
    """Bytes that are not UTF-8 cannot reach `tokenizers` (it takes str); the engine must
    take them without failing and give the same ids as without the normalizer for the
    invalid bytes, while the valid text around them is normalized."""
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(smollm2_tokenizer_data, ensure_ascii=False))
    nfc = tmp_path / "nfc.json"
    nfc.write_text(json.dumps(dict(smollm2_tokenizer_data, normalizer={"type": "NFC"}), ensure_ascii=False))
    bad = b"\xff\xfe" + b" \xc0\xaf \xed\xa0\x80 \xe2\x82"
    prompt = tmp_path / "bad.txt"
    prompt.write_bytes(bad)
    assert cli.ids("--tokenizer-json", nfc, "--tokenize", "-f", prompt) == \
        cli.ids("--tokenizer-json", plain, "--tokenize", "-f", prompt)
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes(b"\xff" + "Cafe\u0301".encode() + b"\x80")
    got = cli.ids("--tokenizer-json", nfc, "--tokenize", "-f", mixed)
    composed = tmp_path / "composed.txt"
    composed.write_bytes(b"\xff" + "Caf\u00e9".encode() + b"\x80")
    assert got == cli.ids("--tokenizer-json", plain, "--tokenize", "-f", composed)
