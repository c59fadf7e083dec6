#!/usr/bin/env python3
"""Builds fixtures/corpora/chat_short.txt: short, real chat-like lines for benchmarks.

Source: the Davidson et al. tweets and the SMS Spam Collection ham messages (both copied in
fixtures/corpora with their licenses). Tweets are cleaned the way a chat line looks: the
"RT @user:" prefix, @mentions, URLs and HTML entities removed, white space squeezed. Lines
of 4 to 80 characters are kept, deduplicated, in a fixed order (seeded shuffle), 20,000 lines.

    python3 tools/make_chat_corpus.py
"""
import csv
import html
import pathlib
import random
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPORA = ROOT / "fixtures" / "corpora"


def clean(text: str) -> str:
    text = html.unescape(html.unescape(text))
    text = re.sub(r"^RT\s+@\w+:?", " ", text)
    text = re.sub(r"\bRT\b", " ", text)
    text = re.sub(r"@\w+:?", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    return re.sub(r"\s+", " ", text).strip(" :")


def chat_lines(classes, seed: int, limit: int) -> list:
    """Cleaned Davidson tweets of the given classes (None: every class) and SMS ham, 4 to 80
    characters, deduplicated, shuffled with `seed`, at most `limit` lines."""
    lines = []
    with open(CORPORA / "davidson_hate_offensive" / "labeled_data.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if classes is None or row["class"] in classes:
                lines.append(clean(row["tweet"]))
    for line in (CORPORA / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label == "ham":
            lines.append(clean(text))
    seen = set()
    kept = []
    for line in lines:
        if 4 <= len(line) <= 80 and line not in seen:
            seen.add(line)
            kept.append(line)
    random.Random(seed).shuffle(kept)
    return kept[:limit]


def main() -> None:
    kept = chat_lines(None, 20261126, 20000)
    out = CORPORA / "chat_short.txt"
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"{out}: {len(kept)} lines")


if __name__ == "__main__":
    main()
