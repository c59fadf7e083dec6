"""Writes fixtures/hashing/sklearn_murmur3.jsonl: what scikit-learn's murmurhash3_32,
FeatureHasher and HashingVectorizer give on a corpus with Unicode, emoji and URLs.
tests/hashing_sklearn.rs checks chatguard's hashing against it.

    tools/.venv/bin/python tools/gen_hashing_fixture.py

Lines are JSON objects of three kinds:
  {"kind": "hash", "token": t, "seed": s, "hash": h}            murmurhash3_32(t, s)
  {"kind": "slot", "token": t, "bits": b, "index": i, "sign": g} FeatureHasher(2**b) on [t]
  {"kind": "doc", "text": x, "bits": b, "tokens": [...], "row": [[i, v], ...]}
        HashingVectorizer(n_features=2**b, ngram_range=(1, 2), norm=None) on x, with the
        tokens its analyzer produced (n-grams joined by one space)
It also plants tokens whose hash is exactly -2**31, 2**31-1, 0 and -1 (found by inverting
MurmurHash3), to pin the abs(i32::MIN) rule.
"""

import json
import os

import numpy as np
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "hashing", "sklearn_murmur3.jsonl")
SMS = os.path.join(HERE, "..", "fixtures", "models", "sms", "SMSSpamCollection")

M = 0xFFFFFFFF
C1, C2 = 0xCC9E2D51, 0x1B873593


def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M


def rotr(x, r):
    return ((x >> r) | (x << (32 - r))) & M


def inv(a):
    return pow(a, -1, 1 << 32)


def mix_k(k):
    return (rotl((k * C1) & M, 15) * C2) & M


def unmix_k(v):
    return (rotr((v * inv(C2)) & M, 15) * inv(C1)) & M


def mix_h(h, k):
    return (rotl(h ^ mix_k(k), 13) * 5 + 0xE6546B64) & M


def unfmix(h):
    h ^= h >> 16
    h = (h * inv(0xC2B2AE35)) & M
    h ^= (h >> 13) ^ (h >> 26)
    h = (h * inv(0x85EBCA6B)) & M
    h ^= h >> 16
    return h


def token_with_hash(target, seed=0):
    """An 8-byte printable ASCII token whose murmurhash3_32 is `target` (signed)."""
    want = unfmix(target & M) ^ 8
    for n in range(1_000_000):
        first = f"h{n:03d}"[:4].encode() if n < 1000 else n.to_bytes(4, "little")
        if not all(0x21 <= b <= 0x7E for b in first):
            continue
        h1 = mix_h(seed, int.from_bytes(first, "little"))
        x = rotr(((want - 0xE6546B64) * inv(5)) & M, 13)
        second = unmix_k(x ^ h1).to_bytes(4, "little")
        if all(0x21 <= b <= 0x7E for b in second):
            token = (first + second).decode("ascii")
            assert murmurhash3_32(token, seed) == target, token
            return token
    raise RuntimeError(f"no token found for {target}")


CORPUS = [
    "Ünïcödé façade naïve café crème brûlée",
    "日本語のテキストと漢字",
    "Привет мир, это тест",
    "Γειά σου κόσμε",
    "العربية نص تجريبي",
    "emoji 🎉🔥 party 👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇯🇵",
    "visit https://example.com/path?q=1&x=2#frag or www.test.org/free",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and 𝐦𝐚𝐭𝐡 𝒃𝒐𝒍𝒅",
    "zero\u200bwidth soft\u00adhyphen bidi\u202eoverride",
    "e\u0301 combining cafe\u0301 z̸̡a̴l̶g̷o̵",
    "FREE!!! Win £1000 cash now txt WIN to 87121",
    "@streamer check out my channel twitch.tv/someone lol",
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "abcde",
    "tab\tseparated\ttext and\nnewlines",
]


def main():
    texts = list(CORPUS)
    with open(SMS, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 60:
                break
            texts.append(line.rstrip("\n").partition("\t")[2])

    tokens = []
    for t in texts:
        tokens.append(t)
        tokens.extend(t.split())
    for target in (-(2**31), 2**31 - 1, 0, -1):
        tokens.append(token_with_hash(target))
    seen, unique = set(), []
    for t in tokens:
        if t not in seen:
            seen.add(t)
            unique.append(t)

    lines = []
    for t in unique:
        for seed in (0, 1, 42, 2**32 - 1):
            lines.append({"kind": "hash", "token": t, "seed": seed, "hash": int(murmurhash3_32(t, seed))})
        for bits in (1, 10, 18, 20, 31):
            row = FeatureHasher(n_features=2**bits, input_type="string", alternate_sign=True).transform([[t]])
            row = row.tocsr()
            assert row.nnz == 1, t
            lines.append({"kind": "slot", "token": t, "bits": bits, "index": int(row.indices[0]),
                          "sign": int(np.sign(row.data[0]))})
    for bits in (10, 18):
        hv = HashingVectorizer(n_features=2**bits, ngram_range=(1, 2), alternate_sign=True, norm=None)
        analyze = hv.build_analyzer()
        for t in texts:
            row = hv.transform([t]).tocsr()
            row.sort_indices()
            lines.append({"kind": "doc", "text": t, "bits": bits, "tokens": analyze(t),
                          "row": [[int(i), float(v)] for i, v in zip(row.indices, row.data)]})

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{len(lines)} lines, {len(unique)} tokens, {len(texts)} texts -> {OUT}")


if __name__ == "__main__":
    main()
