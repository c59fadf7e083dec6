#!/usr/bin/env python3
"""Builds labelled evaluation sets for `chatguard eval` in fixtures/eval/ (seeded, re-runnable).

* evasion_generated.tsv — chat lines hiding an abusive term, one trick or several stacked:
  case, leetspeak, any single-character TR39 confusable of each letter (from the committed
  tools/unicode/confusables.txt), Cyrillic and Greek look-alikes, fullwidth, mathematical
  alphanumerics (every style), enclosed alphanumerics (circled, negative circled, squared,
  negative squared, parenthesized, regional indicators), small capitals, superscripts,
  precomposed diacritics, combining marks, zalgo stacks, strike-through overlays, invisible
  characters (zero-width, joiners, soft hyphen, BOM, word joiner, bidi controls), separators
  between letters (spaces, dots, dashes, underscores, asterisks, slashes, emoji) and repeated
  letters. Terms: the canonical forms of the surge-ai list and the single-word LDNOOBW terms
  (../shared/data; the script says which), so terms the default rules chose to leave out
  count as misses. Columns: id, category, term, transform, text (like evasion-dev).
* innocent_scunthorpe.tsv — chat lines around words of the held-out npm word list that
  contain a blocked term as a substring (Scunthorpe, cocktail, therapist style).
  Columns: id, text.

    python3 tools/make_eval_sets.py [--shared ../shared/data] [--per-term 3]
"""
import argparse
import csv
import pathlib
import random
import re
import unicodedata

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = 20261126

TEMPLATES = [
    "{}", "you {}", "ur such a {} bro", "@mod this guy is a {}", "{} this game", "what the {}",
    "go away {}", "{} off", "omg {} lmao", "the ref is a {} tbh", "lol {}", "shut up you {}",
    "gg ez {}", "stop being a {} ok", "{}!!!", "why is everyone a {} today", "typical {} behaviour",
]
INNOCENT_TEMPLATES = [
    "{}", "I live near {}", "{} ftw", "my favourite word is {}", "have you heard of {}?", "lol {}",
    "we talked about {} today", "{} is great", "the {} thing again", "anyone know about {}",
]

LEET = {"a": "4@", "b": "8", "e": "3", "g": "96", "i": "1!|", "l": "1|", "o": "0", "s": "5$", "t": "7+", "u": "v"}
CYRILLIC = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "s": "ѕ", "i": "і", "j": "ј", "h": "һ", "k": "к"}
GREEK = {"a": "α", "o": "ο", "v": "ν", "u": "υ", "i": "ι", "k": "κ", "p": "ρ", "t": "τ", "y": "γ", "n": "η", "x": "χ"}
SMALL_CAPS = dict(zip("abcdefghijklmnopqrstuvwxyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡxʏᴢ"))
SUPERSCRIPT = dict(zip("abcdefghijklmnoprstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"))
MATH_STYLES = [0x1D41A, 0x1D44E, 0x1D482, 0x1D4B6, 0x1D4EA, 0x1D51E, 0x1D552, 0x1D586, 0x1D5BA, 0x1D5EE, 0x1D622, 0x1D656, 0x1D68A]
# Letterlike symbols that fill holes of the mathematical alphabets.
HOLES = {(0x1D4B6, "e"): "ℯ", (0x1D4B6, "g"): "ℊ", (0x1D4B6, "o"): "ℴ", (0x1D44E, "h"): "ℎ"}
ENCLOSED = [0x24D0, 0x1F150, 0x1F130, 0x1F170, 0x249C, 0x1F1E6]  # circled, neg. circled, squared, neg. squared, parenthesized, regional
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u202a", "\u202c", "\u2066", "\u2069", "\u180e"]
SEPARATORS = [" ", ".", "-", "_", "*", "/", " . ", "~", "🔥", "🍆", "💀", "❤️", "👉"]
MARKS = [chr(c) for c in range(0x300, 0x370) if c not in (0x34F,)]
OVERLAYS = ["\u0334", "\u0335", "\u0336", "\u0337", "\u0338"]


def tr39_lookalikes():
    """Single code points whose TR39 prototype is one lower-case ASCII letter."""
    out = {}
    for line in (ROOT / "tools" / "unicode" / "confusables.txt").read_text(encoding="utf-8").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        src, dst = [f.strip() for f in data.split(";")[:2]]
        target = "".join(chr(int(h, 16)) for h in dst.split())
        c = chr(int(src, 16))
        if len(target) == 1 and "a" <= target.lower() <= "z" and not c.isascii():
            out.setdefault(target.lower(), []).append(c)
    return out


def per_letter(term, rng, table, share=1.0):
    return "".join(rng.choice(table[c]) if c in table and rng.random() < share else c for c in term)


def transforms(rng, lookalikes):
    def case(t):
        out = "".join(c.upper() if rng.random() < 0.5 else c for c in t)
        return out if out != t else t.upper()

    def leet(t):
        idx = [i for i, c in enumerate(t) if c in LEET]
        if not idx:
            return t
        pick = set(rng.sample(idx, max(1, len(idx) // 2)))
        return "".join(rng.choice(LEET[c]) if i in pick else c for i, c in enumerate(t))

    def styled(t, styles):
        # Some styles have holes (unassigned code points, e.g. script small e, whose letter
        # lives in Letterlike Symbols): use the letterlike character there.
        base = rng.choice(styles)
        out = []
        for c in t:
            if not c.islower():
                out.append(c)
                continue
            ch = chr(base + ord(c) - 97)
            if unicodedata.category(ch) == "Cn":
                ch = HOLES.get((base, c), c)
            out.append(ch)
        return "".join(out)

    def math(t):
        return styled(t, MATH_STYLES)

    def enclosed(t):
        return styled(t, ENCLOSED)

    def fullwidth(t):
        return "".join(chr(0xFF41 + ord(c) - 97) if c.islower() else c for c in t)

    def diacritics(t):
        out = []
        for c in t:
            options = [unicodedata.normalize("NFC", c + m) for m in MARKS[:0x30]]
            options = [o for o in options if len(o) == 1]
            out.append(rng.choice(options) if options and rng.random() < 0.6 else c)
        return "".join(out)

    def combining(t):
        return "".join(c + "".join(rng.choice(MARKS) for _ in range(rng.randint(1, 2))) for c in t)

    def zalgo(t):
        return "".join(c + "".join(rng.choice(MARKS) for _ in range(rng.randint(4, 12))) for c in t)

    def strike(t):
        o = rng.choice(OVERLAYS)
        return "".join(c + o for c in t)

    def zero_width(t):
        z = rng.choice(INVISIBLE)
        if rng.random() < 0.5:
            return z.join(t)
        i = rng.randint(1, len(t) - 1)
        return t[:i] + z + t[i:]

    def separated(t):
        return rng.choice(SEPARATORS).join(t)

    def repeated(t):
        i = rng.randrange(len(t))
        return t[:i] + t[i] * rng.randint(3, 8) + t[i + 1:]

    return {
        "plain": lambda t: t,
        "case": case,
        "leet": leet,
        "cyrillic": lambda t: per_letter(t, rng, {k: [v] for k, v in CYRILLIC.items()}),
        "greek": lambda t: per_letter(t, rng, {k: [v] for k, v in GREEK.items()}),
        "tr39": lambda t: per_letter(t, rng, lookalikes, 0.7),
        "fullwidth": fullwidth,
        "math": math,
        "enclosed": enclosed,
        "small_caps": lambda t: per_letter(t, rng, {k: [v] for k, v in SMALL_CAPS.items()}),
        "superscript": lambda t: per_letter(t, rng, {k: [v] for k, v in SUPERSCRIPT.items()}),
        "diacritics": diacritics,
        "combining": combining,
        "zalgo": zalgo,
        "strike": strike,
        "zero_width": zero_width,
        "separated": separated,
        "repeated": repeated,
    }


# Stacks apply letter substitutions first, then marks, then invisibles/separators.
ORDER = ["case", "leet", "cyrillic", "greek", "tr39", "fullwidth", "math", "enclosed", "small_caps", "superscript",
         "diacritics", "repeated", "combining", "zalgo", "strike", "zero_width", "separated"]
SUBSTITUTIONS = {"case", "leet", "cyrillic", "greek", "tr39", "fullwidth", "math", "enclosed", "small_caps", "superscript", "diacritics"}


def surge_terms(shared):
    terms = {}
    cat_map = {
        "sexual anatomy / sexual acts": "sexual", "racial / ethnic slurs": "slur", "sexual orientation / gender": "slur",
        "mental disability": "slur", "physical disability": "slur", "other / general insult": "insult",
        "animal references": "insult", "political": "insult", "physical attributes": "insult",
        "bodily fluids / excrement": "profanity", "religious offense": "profanity",
    }
    ldnoobw = {line.strip().lower() for line in (shared / "ldnoobw" / "en").read_text(encoding="utf-8").splitlines()}
    severity = {}
    with open(shared / "surge_ai_profanity" / "profanity_en.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = row["canonical_form_1"].strip().lower()
            if re.fullmatch(r"[a-z]{3,}", t):
                terms.setdefault(t, cat_map.get(row["category_1"], "profanity"))
                severity[t] = max(severity.get(t, 0.0), float(row["severity_rating"]))
    # Unambiguous abuse only: terms both lists hold, or that surge's raters found strong or
    # severe (mean rating >= 1.8). Everyday words with an abusive sense (bang, ape) are out.
    return {t: c for t, c in terms.items() if t in ldnoobw or severity[t] >= 1.8}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--per-term", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(SEED)
    lookalikes = tr39_lookalikes()
    tf = transforms(rng, lookalikes)
    terms = surge_terms(pathlib.Path(args.shared))
    out = ROOT / "fixtures" / "eval"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    names = [n for n in ORDER]
    for term in sorted(terms):
        picks = ["plain"] + rng.sample(names, args.per_term)
        for _ in range(args.per_term):
            k = rng.choice([2, 2, 3])
            stack = rng.sample(names, k)
            if sum(s in SUBSTITUTIONS for s in stack) > 1:  # one alphabet change per stack
                stack = [s for s in stack if s not in SUBSTITUTIONS] + [next(s for s in stack if s in SUBSTITUTIONS)]
            picks.append("+".join(sorted(stack, key=ORDER.index)))
        for p in picks:
            text = term
            for step in p.split("+"):
                text = tf[step](text)
            rows.append((terms[term], term, p, rng.choice(TEMPLATES).format(text)))
    with open(out / "evasion_generated.tsv", "w", encoding="utf-8") as f:
        f.write("id\tcategory\tterm\ttransform\ttext\n")
        for i, r in enumerate(rows, 1):
            f.write(f"{i}\t" + "\t".join(x.replace("\t", " ").replace("\n", " ") for x in r) + "\n")
    # Innocent Scunthorpe-style lines from the held-out word list.
    words = (ROOT / "fixtures" / "wordlists" / "npm-word-list" / "words.txt").read_text(encoding="utf-8").split()
    roots = sorted({t for t in terms if len(t) >= 3})
    pattern = re.compile("|".join(map(re.escape, sorted(roots, key=len, reverse=True))))
    holders = [w for w in words if w not in terms and pattern.search(w)]
    sample = rng.sample(holders, min(4000, len(holders)))
    with open(out / "innocent_scunthorpe.tsv", "w", encoding="utf-8") as f:
        f.write("id\ttext\n")
        for i, w in enumerate(sorted(sample), 1):
            f.write(f"{i}\t{rng.choice(INNOCENT_TEMPLATES).format(w)}\n")
    print(f"{len(rows)} evasion lines over {len(terms)} terms; {len(sample)} innocent lines from {len(holders)} holder words")


if __name__ == "__main__":
    main()
