"""Tokenizers: the engine's ids must equal the `tokenizers` package's, exactly.

- SmolLM2 (byte-level BPE, digit-split pre-tokenizer): from the GGUF metadata
  (-m model --tokenize) and from a tokenizer.json rebuilt from that metadata
  (--tokenizer-json), in both merge encodings ("a b" strings and ["a","b"] pairs).
- SentencePiece-style BPE with byte fallback, Llama-2 flavour (dummy "▁"
  prefix) and Gemma flavour (none), as tokenizer.json (--tokenizer-json), and
  from a tiny model's GGUF metadata (scores instead of merges).
- The ChatML (SmolLM2) and Gemma chat templates with --chat.
- Detokenize: --detokenize of the ids gives back the text.
"""
import json

import pytest

from oracle import tiny, vocab

CORPUS = [
    "Hello world",
    "Hello, world! How are you today?",
    "  leading spaces and trailing spaces  ",
    "multiple   internal    spaces\tand\ttabs",
    "line one\nline two\n\nline four\r\nwindows line",
    "\n\n\n",
    "    ",
    "The year 2024 had 366 days; π ≈ 3.14159 and 1,000,000 > 999999.",
    "1234567890 0.5 -42 +7 1e10 0x1F",
    "I'm sure they'll say it's fine, don't you think? We've seen it.",
    "Café naïve résumé façade Ångström Straße",
    "你好，世界！这是一个测试。",
    "日本語のテキストとカタカナ、ひらがな。",
    "한국어 텍스트입니다",
    "Россия и Україна; Ελληνικά; עברית; العربية",
    "Emoji: 😀👍🏽🇫🇷 ❤️ 🚀🚀🚀 and a family 👨‍👩‍👧",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } // C++\n",
    "<html><body><p class=\"x\">Hi &amp; bye</p></body></html>",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "https://example.com/path?query=value&other=42#frag",
    "ALL CAPS SENTENCE WITH NUMBERS 42 AND SYMBOLS #@!$%^&*()",
    "tab\tseparated\tvalues\t1\t2\t3",
    "zero\u200bwidth and non\u00a0breaking",
    "a",
    " ",
    "é",
]

SMOLLM2_SPECIAL_CORPUS = [
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "text before<|endoftext|>text after",
    "<|im_start|><|im_end|>",
    "a<|im_start|>b",
]


def hf_ids(tokenizer, text):
    return tokenizer.encode(text, add_special_tokens=False).ids


def write_prompt(tmp_path, text):
    path = tmp_path / "prompt.txt"
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def smollm2_json(smollm2_tokenizer_data, tmp_path_factory):
    data = smollm2_tokenizer_data
    directory = tmp_path_factory.mktemp("smollm2-tokenizer")
    strings = directory / "tokenizer-string-merges.json"
    strings.write_text(json.dumps(data, ensure_ascii=False))
    pairs_data = dict(data, model=dict(data["model"], merges=[m.split(" ", 1) for m in data["model"]["merges"]]))
    pairs = directory / "tokenizer-pair-merges.json"
    pairs.write_text(json.dumps(pairs_data, ensure_ascii=False))
    return {"strings": strings, "pairs": pairs}


@pytest.mark.parametrize("text", CORPUS + SMOLLM2_SPECIAL_CORPUS)
def test_smollm2_gguf_tokenizer(cli, smollm2_path, smollm2_tokenizer, tmp_path, text):
    # -f passes the exact bytes (argv cannot carry everything a file can).
    got = cli.ids("-m", smollm2_path, "--tokenize", "-f", write_prompt(tmp_path, text))
    assert got == hf_ids(smollm2_tokenizer, text), repr(text)


@pytest.mark.parametrize("merges", ["strings", "pairs"])
def test_smollm2_tokenizer_json(cli, smollm2_json, smollm2_tokenizer, tmp_path, merges):
    for text in CORPUS + SMOLLM2_SPECIAL_CORPUS:
        got = cli.ids("--tokenizer-json", smollm2_json[merges], "--tokenize", "-f", write_prompt(tmp_path, text))
        assert got == hf_ids(smollm2_tokenizer, text), repr(text)


def test_smollm2_detokenize_round_trip(cli, smollm2_path, smollm2_tokenizer):
    for text in CORPUS:
        ids = hf_ids(smollm2_tokenizer, text)
        if not ids:
            continue
        out = cli.run("-m", smollm2_path, "--detokenize", " ".join(map(str, ids))).stdout
        # The CLI ends its output with one newline of its own.
        assert out.decode("utf-8") == text + "\n", repr(text)


def test_smollm2_chat_template(cli, smollm2_path, smollm2_tokenizer, tmp_path):
    for text in ["What is the capital of France?", "Écris un poème.\nDeux lignes.", "emoji 🚀 and 数字 42"]:
        got = cli.ids("-m", smollm2_path, "--chat", "--tokenize", "-f", write_prompt(tmp_path, text))
        assert got == hf_ids(smollm2_tokenizer, vocab.chatml_prompt(text)), repr(text)


@pytest.fixture(scope="module", params=["llama", "gemma"])
def spm(request, tmp_path_factory):
    spm_vocab = vocab.SpmVocab(request.param)
    data = spm_vocab.tokenizer_json()
    path = tmp_path_factory.mktemp(f"spm-{request.param}") / "tokenizer.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return request.param, spm_vocab, path, vocab.load_hf_tokenizer(data)


SPM_SPECIAL_CORPUS = {"llama": ["<s>Hello</s> world", "text<unk>more"],
                      "gemma": ["<start_of_turn>user\nHi<end_of_turn>\n", "<bos>x<eos>"]}


def test_spm_tokenizer_json(cli, spm, tmp_path):
    """--tokenizer-json with a SentencePiece-style BPE (byte fallback for every character
    outside the small vocabulary: CJK, emoji, newlines)."""
    style, _, path, tokenizer = spm
    for text in CORPUS + SPM_SPECIAL_CORPUS[style]:
        got = cli.ids("--tokenizer-json", path, "--tokenize", "-f", write_prompt(tmp_path, text))
        assert got == hf_ids(tokenizer, text), f"{style}: {text!r}"


def test_spm_detokenize_round_trip(cli, spm):
    style, _, path, tokenizer = spm
    for text in CORPUS:
        ids = hf_ids(tokenizer, text)
        if not ids:
            continue
        out = cli.run("--tokenizer-json", path, "--detokenize", " ".join(map(str, ids))).stdout.decode("utf-8")
        assert out == tokenizer.decode(ids, skip_special_tokens=False) + "\n", f"{style}: {text!r}"


def test_spm_gguf_tokenizer(cli, spm, tiny_models, tmp_path):
    """The same vocabulary from a GGUF (tokenizer.ggml.model 'llama': tokens, scores, types;
    merges by score) must tokenize exactly like the tokenizer.json's merges."""
    style, _, _, tokenizer = spm
    model = tiny_models[(style, "gguf", "Q8_0")]
    for text in CORPUS + SPM_SPECIAL_CORPUS[style]:
        got = cli.ids("-m", model, "--tokenize", "-f", write_prompt(tmp_path, text))
        assert got == hf_ids(tokenizer, text), f"{style}: {text!r}"


def test_gemma_chat_template(cli, tiny_models, tmp_path):
    tokenizer = vocab.load_hf_tokenizer(vocab.SpmVocab("gemma").tokenizer_json())
    for fmt, key in (("gguf", "Q8_0"), ("safetensors", "F32")):
        model = tiny_models[("gemma", fmt, key)]
        for text in ["Hello there", "two\nlines"]:
            got = cli.ids("-m", model, "--chat", "--tokenize", "-f", write_prompt(tmp_path, text))
            assert got == hf_ids(tokenizer, tiny.gemma_prompt(text)), f"{fmt}: {text!r}"
