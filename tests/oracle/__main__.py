"""Command line for the oracle (run from tests/: python -m oracle ...).

  python -m oracle tiny OUT_DIR
      write every tiny model (GGUF in all types, safetensors in F32/F16/BF16)
  python -m oracle greedy -m MODEL --ids "1 2 3" [-n N] [--logits-out FILE]
      greedy decode; prints the generated ids, writes logits rows like aisos-llm
  python -m oracle tokenizer-json SMOLLM2.gguf OUT.json
      SmolLM2's HF tokenizer.json rebuilt from the GGUF metadata
"""
import argparse
import json
import sys

import numpy as np

from . import tiny, vocab
from .model import Model, top2_margin
from .weights import load_model


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m oracle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    tiny_parser = commands.add_parser("tiny")
    tiny_parser.add_argument("out_dir")
    greedy = commands.add_parser("greedy")
    greedy.add_argument("-m", dest="model", required=True)
    greedy.add_argument("--ids", required=True)
    greedy.add_argument("-n", type=int, default=16)
    greedy.add_argument("--logits-out")
    greedy.add_argument("--emulate-q8", action="store_true", help="round matmul inputs to Q8_0 blocks")
    tok = commands.add_parser("tokenizer-json")
    tok.add_argument("gguf")
    tok.add_argument("out")
    args = parser.parse_args(argv)

    if args.command == "tiny":
        for key, path in sorted(tiny.write_all(args.out_dir).items()):
            print(" ".join(key), path)
    elif args.command == "greedy":
        config, weights = load_model(args.model)
        model = Model(config, weights, emulate_q8_activations=args.emulate_q8)
        prompt = [int(x) for x in args.ids.split()]
        ids, rows = model.greedy(prompt, args.n)
        print(" ".join(map(str, ids)))
        print("top-2 margins: " + " ".join(f"{top2_margin(r):.3f}" for r in rows), file=sys.stderr)
        if args.logits_out:
            rows.astype("<f4").tofile(args.logits_out)
    elif args.command == "tokenizer-json":
        with open(args.out, "w") as f:
            json.dump(vocab.smollm2_tokenizer_json(args.gguf), f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    np.seterr(over="ignore")
    sys.exit(main())
