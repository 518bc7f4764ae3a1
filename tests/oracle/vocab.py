"""Tokenizers for the tests, built without any model hub.

- `smollm2_tokenizer_json(gguf_path)`: SmolLM2's HF tokenizer.json rebuilt from
  the GGUF's tokenizer.ggml.* arrays and SmolLM2's known pipeline (no
  normalizer; pre-tokenizer Digits(individual) then ByteLevel with the GPT-2
  regex; ByteLevel decoder; control tokens as special added tokens).
- `SpmVocab`: a small SentencePiece-style BPE vocabulary with byte fallback,
  trained here by plain BPE on a fixed corpus, in two flavours: Llama-2
  ("▁" prepended, <unk>/<s>/</s>) and Gemma (no dummy prefix,
  <pad>/<eos>/<bos>/<unk> and turn markers). It is written both as GGUF
  tokenizer.ggml.* metadata (scores = merge priority) and as an HF
  tokenizer.json (BPE with byte_fallback, merges ordered like HF's
  SentencePiece converter does).
"""
import collections
import dataclasses
import json

from gguf import GGUFReader

SPACE = "\u2581"  # ▁

TRAINING_TEXT = """
The quick brown fox jumps over the lazy dog. A model reads tokens and writes tokens.
Once upon a time there was a little robot who liked to count: one, two, three, four.
In the beginning the network was small, and the weights were random; then it learned.
def forward(self, x): return self.norm(x) + self.attention(x) # residual stream
for (int i = 0; i < n; ++i) { sum += weights[i] * inputs[i]; }
Tokens are pieces of words. The tokenizer splits the text, and the model predicts the next piece.
She sells sea shells by the sea shore; the shells she sells are surely sea shells.
Inference engines run on every core; memory bandwidth limits the decoding speed.
Café, naïve, résumé: accents are characters too. Numbers like 2024 and 3.14159 appear often.
"""


@dataclasses.dataclass
class Special:
    text: str
    token_type: int  # GGUF token type: 2 unknown, 3 control
    role: str = ""   # "unk", "bos", "eos", "pad"


def _train_bpe(text, n_merges, prepend):
    """Plain BPE over words that start at each ▁; ties broken by the pair's text."""
    normalized = text.replace("\n", " ").replace(" ", SPACE)
    if prepend:
        normalized = SPACE + normalized
    words = collections.Counter()
    start = 0
    for i in range(1, len(normalized) + 1):
        if i == len(normalized) or normalized[i] == SPACE:
            if i > start:
                words[tuple(normalized[start:i])] += 1
            start = i
    chars = sorted({ch for word in words for ch in word})
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for word, count in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        best_count = max(pairs.values())
        if best_count < 2:
            break
        pair = min(p for p, count in pairs.items() if count == best_count)
        merges.append(pair)
        merged = pair[0] + pair[1]
        new_words = collections.Counter()
        for word, count in words.items():
            out = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
                    out.append(merged)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] += count
        words = new_words
    return chars, merges


class SpmVocab:
    def __init__(self, style, n_merges=260):
        if style not in ("llama", "gemma"):
            raise ValueError(style)
        self.style = style
        self.add_space_prefix = style == "llama"
        if style == "llama":
            self.specials = [Special("<unk>", 2, "unk"), Special("<s>", 3, "bos"), Special("</s>", 3, "eos")]
        else:
            self.specials = [Special("<pad>", 3, "pad"), Special("<eos>", 3, "eos"), Special("<bos>", 3, "bos"),
                             Special("<unk>", 2, "unk"), Special("<start_of_turn>", 3),
                             Special("<end_of_turn>", 3)]
        chars, merges = _train_bpe(TRAINING_TEXT, n_merges, self.add_space_prefix)
        if SPACE not in chars:
            chars.append(SPACE)
        self.tokens = [s.text for s in self.specials]
        self.token_types = [s.token_type for s in self.specials]
        self.tokens += [f"<0x{b:02X}>" for b in range(256)]
        self.token_types += [6] * 256
        n_fixed = len(self.tokens)
        # Merged pieces come first in priority: the earlier the merge, the higher the score.
        merged_pieces = []
        for a, b in merges:
            if a + b not in merged_pieces:
                merged_pieces.append(a + b)
        pieces = merged_pieces + [ch for ch in chars if ch not in merged_pieces]
        self.tokens += pieces
        self.token_types += [1] * len(pieces)
        self.scores = [0.0] * n_fixed + [-float(i) for i in range(len(pieces))]
        self.ids = {token: i for i, token in enumerate(self.tokens)}
        self.merges = self._hf_merges(n_fixed)

    def special_id(self, role):
        for i, special in enumerate(self.specials):
            if special.role == role:
                return i
        return None

    def _hf_merges(self, n_fixed):
        """Every split of every multi-character piece into two vocabulary pieces,
        ordered by the merged piece's score, as HF's SentencePiece converter does."""
        out = []
        for token_id in range(n_fixed, len(self.tokens)):
            piece = self.tokens[token_id]
            local = []
            for i in range(1, len(piece)):
                left, right = piece[:i], piece[i:]
                if left in self.ids and right in self.ids and self.ids[left] >= n_fixed \
                        and self.ids[right] >= n_fixed:
                    local.append((self.ids[left], self.ids[right], left, right))
            local.sort()
            out += [(left, right) for _, _, left, right in local]
        return out

    def tokenizer_json(self):
        added = [{"id": i, "content": s.text, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for i, s in enumerate(self.specials)]
        replace_space = {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}
        if self.add_space_prefix:
            normalizer = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": SPACE}, replace_space]}
        else:
            normalizer = replace_space
        decoders = [{"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
                    {"type": "ByteFallback"}, {"type": "Fuse"}]
        if self.add_space_prefix:
            decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
        unk = self.tokens[self.special_id("unk")]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": normalizer,
            "pre_tokenizer": None,
            "post_processor": None,
            "decoder": {"type": "Sequence", "decoders": decoders},
            "model": {"type": "BPE", "dropout": None, "unk_token": unk, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                      "ignore_merges": False, "vocab": self.ids, "merges": [list(m) for m in self.merges]},
        }

    def write_gguf_metadata(self, writer):
        writer.add_tokenizer_model("llama")
        writer.add_token_list(self.tokens)
        writer.add_token_scores(self.scores)
        writer.add_token_types(self.token_types)
        writer.add_bos_token_id(self.special_id("bos"))
        writer.add_eos_token_id(self.special_id("eos"))
        writer.add_unk_token_id(self.special_id("unk"))
        if self.special_id("pad") is not None:
            writer.add_pad_token_id(self.special_id("pad"))
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        writer.add_add_space_prefix(self.add_space_prefix)


def smollm2_tokenizer_json(gguf_path):
    reader = GGUFReader(str(gguf_path))

    def field(key):
        return reader.fields[key].contents()

    if field("tokenizer.ggml.model") != "gpt2":
        raise ValueError("expected a byte-level BPE (gpt2) tokenizer")
    tokens = field("tokenizer.ggml.tokens")
    types = field("tokenizer.ggml.token_type")
    merges = field("tokenizer.ggml.merges")
    added = [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in range(len(tokens)) if types[i] == 3]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {token: i for i, token in enumerate(tokens)}, "merges": list(merges)},
    }


def load_hf_tokenizer(tokenizer_json):
    from tokenizers import Tokenizer
    return Tokenizer.from_str(json.dumps(tokenizer_json))


def chatml_prompt(user_text, system=None):
    """SmolLM2's template (GGUF tokenizer.chat_template) for one user turn plus the generation prompt."""
    if system is None:
        system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    return (f"<|im_start|>system\n{system}<|im_end|>\n"
            f"<|im_start|>user\n{user_text}<|im_end|>\n<|im_start|>assistant\n")


def gemma_prompt(user_text):
    return f"<bos><start_of_turn>user\n{user_text}<end_of_turn>\n<start_of_turn>model\n"

