"""Writes fixtures/models/schema_fingerprints.jsonl: schemas with the canonical JSON and
fingerprint chatguard_export.py computes, so tests/hashing_sklearn.rs can check that Rust
computes the same bytes and the same fingerprint.

    tools/.venv/bin/python tools/gen_schema_fixture.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chatguard_export as cx  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "models",
                   "schema_fingerprints.jsonl")


def hashing(**kw):
    h = {"seed": 0, "bits": 18, "word_ngrams": [1, 2], "char_ngrams": [0, 0],
         "tokenizer": "words-v1", "alternate_sign": True}
    h.update(kw)
    return h


SCHEMAS = [
    {"version": 1, "names": [], "hashing": hashing()},
    {"version": 1, "names": ["len_chars", "caps_ratio"], "hashing": hashing(bits=10)},
    {"version": 7, "names": ["quote\"d", "back\\slash", "new\nline", "tab\t", "\u0001ctl", "\u007fdel",
                             "émoji 🎉", "日本", "\u2028sep"],
     "hashing": hashing(seed=4294967295, bits=31, word_ngrams=[0, 0], char_ngrams=[2, 5],
                        tokenizer="ünï \"tok\"", alternate_sign=False)},
]


def main():
    with open(OUT, "w", encoding="utf-8") as f:
        for s in SCHEMAS:
            line = {"schema": s, "canonical": cx.canonical_schema_json(s), "fingerprint": cx.schema_fingerprint(s)}
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{len(SCHEMAS)} schemas -> {OUT}")


if __name__ == "__main__":
    main()
