"""SmolLM2-135M-Instruct Q4_1 (the default model) against the oracle.

12 prompts (6 chat through the ChatML template, 6 plain; English, French,
code, Unicode), 32 greedy steps each. The prompt ids come from the
`tokenizers` package (the engine's own tokenizer is tested separately in
test_tokenizer.py) and are passed with --ids, so a tokenizer bug cannot
hide as a model bug or the reverse. See compare.py for the tolerances:
logits within 3x the error 8-bit activation rounding alone causes, and every
greedy token equal to the oracle's argmax for the same prefix unless the
oracle's own gap at that step is within the tie tolerance (reported).
"""
import json

import pytest

from compare import judge_rows
from conftest import ROOT, cached_oracle_rows
from oracle import vocab
from prompts import SMOLLM2_PROMPTS

STEPS = 32
REPORT = ROOT / "build" / "oracle-cache" / "smollm2-report.json"


@pytest.fixture(scope="module")
def report():
    results = {}
    yield results
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(results, indent=2))


def prompt_ids(tokenizer, text, chat):
    return tokenizer.encode(vocab.chatml_prompt(text) if chat else text, add_special_tokens=False).ids


@pytest.mark.parametrize("name,text,chat", SMOLLM2_PROMPTS, ids=[p[0] for p in SMOLLM2_PROMPTS])
def test_greedy_32_steps(cli, smollm2_path, smollm2_digest, smollm2_tokenizer, oracle_cache, tmp_path, report,
                        name, text, chat):
    prompt = prompt_ids(smollm2_tokenizer, text, chat)
    # --ignore-eos: every prompt is compared for all 32 steps, even when a near-tie early on
    # (8-bit activations make float summation order visible) leads to an earlier end of text.
    engine_ids, engine_logits = cli.generate(smollm2_path, prompt, STEPS, tmp_path, extra=("--ignore-eos",))
    assert len(engine_ids) >= STEPS, f"only {len(engine_ids)} tokens although --ignore-eos was given"
    engine_ids = engine_ids[:STEPS]
    engine_logits = engine_logits[:STEPS * smollm2_tokenizer.get_vocab_size()]
    oracle = cached_oracle_rows(oracle_cache, smollm2_path, smollm2_digest, prompt, engine_ids)
    verdict = judge_rows(oracle, engine_ids, engine_logits)
    report[name] = {"steps": verdict.steps, "identical": verdict.identical,
                    "logits_rms_over_std_mean": float(verdict.row_errors.mean()),
                    "logits_rms_over_std_max": float(verdict.row_errors.max()),
                    "q8_emulation_mean": float(verdict.q8_row_errors.mean()),
                    "flips": verdict.flips, "tie_tolerance": verdict.tie_tolerance,
                    "text": smollm2_tokenizer.decode(engine_ids)}
    print(f"{name}: {verdict.summary()}")
    assert verdict.logits_ok(), verdict.summary()
    assert verdict.tokens_ok(), verdict.summary()


F32_PROMPTS = [p for p in SMOLLM2_PROMPTS if p[0] in ("chat_python", "plain_story", "plain_unicode")]


@pytest.mark.parametrize("name,text,chat", F32_PROMPTS, ids=[p[0] for p in F32_PROMPTS])
def test_float_activation_mode_is_exact(cli, smollm2_path, smollm2_digest, smollm2_tokenizer, oracle_cache, tmp_path,
                                        name, text, chat):
    """--f32-activations: dequantized Q4_1 weights times float activations. Only float32
    rounding separates the engine from the float64 oracle here, so logits must agree to 1e-3
    (rms/std per row) and greedy tokens may differ only at exact ties (gap <= 0.01)."""
    prompt = prompt_ids(smollm2_tokenizer, text, chat)
    engine_ids, engine_logits = cli.generate(smollm2_path, prompt, STEPS, tmp_path, extra=("--f32-activations",))
    assert len(engine_ids) >= STEPS
    engine_ids = engine_ids[:STEPS]
    engine_logits = engine_logits[:STEPS * smollm2_tokenizer.get_vocab_size()]
    verdict = judge_rows(cached_oracle_rows(oracle_cache, smollm2_path, smollm2_digest, prompt, engine_ids),
                         engine_ids, engine_logits)
    print(f"{name} f32: {verdict.summary()}")
    assert verdict.row_errors.max() <= 1e-3, verdict.summary()
    assert all(gap <= 0.01 for _, _, _, gap in verdict.flips), verdict.summary()
