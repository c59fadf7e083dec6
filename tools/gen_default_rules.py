#!/usr/bin/env python3
"""Generate chatguard's default English rule files and the LDNOOBW language packs.

Inputs
  --shared DIR   the shared data folder (surge_ai_profanity/, ldnoobw/)
  --dict FILE    an English word list (repeatable; default: the Debian wamerican-huge,
                 wbritish-huge, wamerican-insane and wbritish-insane lists).  Their union
                 is the DECISION DICTIONARY: it decides wildcards (a term gets `*t*`, `t*`
                 or `*t` only when no innocent dictionary word matches it; see
                 --wildcard-budget), drops surge spellings that are innocent words of their
                 own (forked -> fucked), and is scanned by the engine for the allow list.
  --engine BIN   the chatguard binary (default $CHATGUARD, target/release/chatguard,
                 /tmp/cgbin/chatguard).  After the terms are decided, the candidate rules
                 are run with `chatguard scan --json` over every dictionary entry
                 (lower-case and capitalised); innocent words that the engine's folding
                 still turns into a hit get `allow: WORD for=RULE` lines (allow.rules,
                 section "folded").
  tools/data/    editorial tables (exclusions, category decisions, extra innocent words,
                 offensive dictionary words)
Outputs (under --out, default rules/)
  en/profanity.rules en/sexual.rules en/slur.rules en/insult.rules en/spam.rules
  en/allow.rules lang/<code>.rules

Never give it the held-out test lists (fixtures/wordlists/): they measure the result.

Deterministic: the same inputs (word lists, tables, engine) give byte-identical files.
Python 3.11, stdlib only.
The optional helper modes --suggest-exclusions (needs the PyPI package wordfreq, pinned
in tools/requirements-rules.txt) and --suggest-offensive only print candidates for the
editorial tables; they never change the output.

Re-run (Debian/Ubuntu, from the repository root):
  apt-get install -y wamerican-huge wbritish-huge wamerican-insane wbritish-insane
  cargo build --release -p chatguard-cli     # or pass --engine / set CHATGUARD
  python3 tools/gen_default_rules.py
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tools", "data")

CATEGORIES = ["profanity", "sexual", "slur", "insult", "threat", "spam"]
SEV_NAMES = ["mild", "moderate", "severe"]
SURGE_SEV = {"Mild": 0, "Strong": 1, "Severe": 2}
SURGE_COMMIT = "77dabf36454fd9b0f85c777c2808d416bc41f797"
LDNOOBW_COMMIT = "5faf2ba42d7b1c0977169ec3611df25a3c08eb13"

# surge category -> chatguard category ("sexual orientation / gender" is decided per
# term by tools/data/orientation_gender.tsv)
SURGE_CAT = {
    "sexual anatomy / sexual acts": "sexual",
    "racial / ethnic slurs": "slur",
    "mental disability": "slur",
    "physical disability": "slur",
    "other / general insult": "insult",
    "animal references": "insult",
    "political": "insult",
    "physical attributes": "insult",
    "bodily fluids / excrement": "profanity",
    "religious offense": "profanity",
}
ORIENTATION = "sexual orientation / gender"

VALID_TERM = re.compile(r"[a-z]+( [a-z]+)*")
# A term is written with a wildcard only when it is at least this long (`t*`, `*t`) ...
MIN_WILDCARD_LEN = 4
# ... and at least this long for `*t*` (anywhere inside words).  5 was tried: on the
# held-out npm word list it flagged exactly the same words as 4, so 4 is kept (more
# unlisted compounds of e.g. `fuck` are caught).
MIN_ANYWHERE_LEN = 4
# How many INNOCENT dictionary words a wildcard may match (each then gets an allow line).
# 0: a wildcard is written only when no innocent word of the decision dictionary matches
# it.  A few allow-listed exceptions from one word list do not generalize to the words
# of another list (measured), so the default is 0; a moderator may raise it with
# --wildcard-budget.
DEFAULT_WILDCARD_BUDGET = 0
# the decision dictionary: the union of these Debian word lists (huge and insane)
DEFAULT_DICTS = [
    "/usr/share/dict/american-english-huge", "/usr/share/dict/british-english-huge",
    "/usr/share/dict/american-english-insane", "/usr/share/dict/british-english-insane",
]
VOWELS = set("aeiou")
# adjectives in -y are formed only for the swear words that have them (shitty, cunty)
Y_FORMS = {"shit", "cunt", "bitch", "slut", "piss", "fuck", "wank", "twat", "dick", "cock", "skank", "whore", "smut", "spunk", "jizz"}

LANG_NAMES = {
    "ar": "Arabic", "cs": "Czech", "da": "Danish", "de": "German", "eo": "Esperanto",
    "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fil": "Filipino", "fr": "French",
    "fr-CA-u-sd-caqc": "French (Quebec)", "hi": "Hindi", "hu": "Hungarian",
    "it": "Italian", "ja": "Japanese", "kab": "Kabyle", "ko": "Korean", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ru": "Russian",
    "sv": "Swedish", "th": "Thai", "tlh": "Klingon", "tr": "Turkish", "zh": "Chinese",
}
# scripts written without spaces between words: terms are matched anywhere
NO_SPACE_LANGS = {"zh", "ja", "th"}
# language-pack terms that are obviously not sexual vocabulary
LANG_CATEGORY_OVERRIDES: dict[str, dict[str, str]] = {}


# ----------------------------------------------------------------------------- tables

def read_table(name: str, ncols: int) -> list[list[str]]:
    """Read a tab-separated editorial table; '#' lines and blank lines are comments."""
    rows = []
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < ncols:
                sys.exit(f"tools/data/{name}:{n}: expected {ncols} tab-separated columns")
            rows.append([c.strip() for c in cols])
    return rows


def read_list(name: str) -> list[str]:
    return [r[0].lower() for r in read_table(name, 1)]


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ----------------------------------------------------------------------------- terms

class Term:
    __slots__ = ("text", "cats", "sev", "sources", "canon", "origin")

    def __init__(self, text, cats, sev, source, canon=(), origin=""):
        self.text = text
        self.cats: list[str] = []
        self.add_cats(cats)
        self.sev = sev
        self.sources = {source}
        self.canon = set(canon)
        self.origin = origin  # why the term exists (for the report)

    def add_cats(self, cats):
        for c in cats:
            if c not in self.cats:
                self.cats.append(c)

    @property
    def primary(self):
        return self.cats[0]

    def ordered_cats(self):
        rest = sorted(self.cats[1:], key=CATEGORIES.index)
        return [self.cats[0]] + rest


def load_surge(shared, orient, report):
    path = os.path.join(shared, "surge_ai_profanity", "profanity_en.csv")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    def canon_of(row):
        return [row[k].strip().lower() for k in
                ("canonical_form_1", "canonical_form_2", "canonical_form_3") if row[k].strip()]

    def row_cats(row):
        text = row["text"].strip().lower()
        cans = canon_of(row)
        out = []
        for k in ("category_1", "category_2", "category_3"):
            c = row[k].strip()
            if not c:
                continue
            if c == ORIENTATION:
                if text in orient:
                    m = orient[text]
                else:
                    got = [orient[c2] for c2 in cans if c2 in orient]
                    m = "slur" if "slur" in got else "insult"
                out.append(m)
            else:
                out.append(SURGE_CAT[c])
        return out

    terms: dict[str, Term] = {}
    dropped = []  # (text, canonical forms)
    for row in rows:
        text = row["text"].strip().lower()
        sev = SURGE_SEV[row["severity_description"]]
        if VALID_TERM.fullmatch(text):
            if text in terms:
                t = terms[text]
                t.add_cats(row_cats(row))
                t.sev = max(t.sev, sev)
                t.canon.update(canon_of(row))
            else:
                terms[text] = Term(text, row_cats(row), sev, "surge", canon_of(row), "surge text")
        else:
            dropped.append((row["text"], canon_of(row)))

    # canonical forms that are not themselves a surge text: derive their attributes
    # from the rows that map to them, preferring rows where it is the only canonical
    # form; severity is the lowest of those rows (a bare word is no worse than the
    # compounds built on it, e.g. "butt" vs "butt fucker").
    by_canon = defaultdict(list)
    for row in rows:
        for c in canon_of(row):
            by_canon[c].append(row)
    bad_canon = []
    for c in sorted(by_canon):
        if c in terms:
            continue
        if not VALID_TERM.fullmatch(c):
            bad_canon.append(c)
            continue
        rs = by_canon[c]
        only = [r for r in rs if canon_of(r) == [c]]
        first = [r for r in rs if canon_of(r)[0] == c]
        use = only or first or rs
        sev = min(SURGE_SEV[r["severity_description"]] for r in use)
        cats = []
        for r in sorted(use, key=lambda r: (SURGE_SEV[r["severity_description"]], r["text"])):
            cc = row_cats(r)
            if cc and cc[0] not in cats:
                cats.append(cc[0])
        terms[c] = Term(c, cats, sev, "surge", [c], "surge canonical form")
    report["surge_rows"] = len(rows)
    report["surge_dropped"] = dropped
    report["surge_bad_canon"] = bad_canon
    return terms


def load_ldnoobw_en(shared, terms, ld_cats, report):
    dropped = []
    added = 0
    with open(os.path.join(shared, "ldnoobw", "en"), encoding="utf-8") as f:
        for line in f:
            t = line.strip().lower()
            if not t:
                continue
            if not VALID_TERM.fullmatch(t):
                dropped.append(t)
                continue
            if t in terms:
                terms[t].sources.add("ldnoobw")
                continue
            cats = ld_cats.get(t, ["sexual"])
            terms[t] = Term(t, cats, 1, "ldnoobw", [], "LDNOOBW")
            added += 1
    report["ldnoobw_dropped"] = dropped
    report["ldnoobw_added"] = added


def apply_families(terms, families, suffixes):
    for t in terms.values():
        joined = t.text.replace(" ", "")
        keys = t.canon | {t.text, joined}
        if t.text in families:
            # the term is a family root itself (fuck, shit, hell): the family categories
            # come first, so the swear word is filed as profanity
            t.cats = [c for c in families[t.text] if c not in t.cats[:0]] + t.cats
            t.cats = list(dict.fromkeys(t.cats))
        for root, cats in families.items():
            hit = root in keys
            if not hit:
                if len(root) >= 4:
                    hit = root in joined
                else:
                    hit = joined.startswith(root) or joined.endswith(root)
            if hit:
                t.add_cats(cats)
        for suf in suffixes:
            s = suf.replace(" ", "")
            if joined.endswith(s) and len(joined) >= len(s) + 3:
                t.add_cats(["insult"])


# ----------------------------------------------------------------------------- dictionary

def load_dict(paths):
    words = set()
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                w = line.strip().lower()
                if w.isascii() and w.isalpha():
                    words.add(w)
    return words


class WordIndex:
    """Fast 'which words contain / start with / end with s' over a fixed word set."""

    def __init__(self, words):
        self.words = sorted(words)
        self.blob = "\n" + "\n".join(self.words) + "\n"
        self.starts = []
        pos = 1
        for w in self.words:
            self.starts.append(pos)
            pos += len(w) + 1

    def containing(self, s):
        out = []
        i = self.blob.find(s)
        while i != -1:
            k = bisect.bisect_right(self.starts, i) - 1
            out.append(self.words[k])
            i = self.blob.find(s, self.starts[k] + len(self.words[k]))  # next word
        return out

    def prefixed(self, s):
        i = bisect.bisect_left(self.words, s)
        out = []
        while i < len(self.words) and self.words[i].startswith(s):
            out.append(self.words[i])
            i += 1
        return out


# ----------------------------------------------------------------------------- inflection

def inflections(b):
    """Regular English inflections of a (single-word) base form."""
    out = []
    last = b[-1]
    cons_y = last == "y" and len(b) > 1 and b[-2] not in VOWELS
    if b.endswith(("s", "x", "z", "ch", "sh")):
        out.append(b + "es")
    elif cons_y:
        out.append(b[:-1] + "ies")
    else:
        out.append(b + "s")
    if last in "aiou":
        return out  # nouns like "vagina", "paki": only the plural makes sense
    if last == "e":
        stem = b[:-1]
        out += [b + "d", stem + "ing", b + "r", b + "rs"]
    elif cons_y:
        stem = b[:-1]
        out += [stem + "ied", b + "ing", stem + "ier", stem + "iers"]
    else:
        # double a final consonant after a single vowel in a short word: fag -> fagged
        if (len(b) <= 4 and last not in "wxy" and last not in VOWELS
                and b[-2] in VOWELS and (len(b) < 3 or b[-3] not in VOWELS)):
            stem = b + last
        else:
            stem = b
        out += [stem + "ed", stem + "ing", stem + "er", stem + "ers"]
        if last != "y" and b in Y_FORMS:
            out.append(stem + "y")
    return out


# ----------------------------------------------------------------------------- rule text

def quote(term):
    if any(c in term for c in '#="'):
        return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return term


def header(title, lines):
    out = [f"# {title}", "#",
           "# GENERATED FILE: do not edit by hand.  Edit the editorial tables in tools/data/",
           "# and re-run:  python3 tools/gen_default_rules.py",
           "#"]
    out += ["# " + l if l else "#" for l in lines]
    out.append("")
    return out


def source_lines(dict_desc):
    return [
        "Sources (see rules/NOTICE.md for attribution; license texts in rules/LICENSES/):",
        f"  - Surge AI \"The Obscenity List\" (github.com/surge-ai/profanity @ {SURGE_COMMIT[:12]}),",
        "    MIT License, (c) 2021 Surge AI",
        f"  - LDNOOBW (github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-Otherwise-Bad-Words @ {LDNOOBW_COMMIT[:12]}),",
        "    CC BY 4.0, (c) 2012-2020 Shutterstock, Inc.",
        "Decision dictionary (union of these word lists):",
    ] + [f"  - {d}" for d in dict_desc.split("; ")]


# ----------------------------------------------------------------------------- main

def default_engine():
    """The chatguard binary used to build the folding-aware allow list."""
    env = os.environ.get("CHATGUARD")
    if env:
        return env
    for p in (os.path.join(REPO, "target", "release", "chatguard"), "/tmp/cgbin/chatguard"):
        if os.path.exists(p):
            return p
    return "chatguard"


def is_inflection_of(word, bases):
    """Is `word` a base form or a regular inflection of one of `bases`?"""
    for b in bases:
        if " " in b:
            continue
        if word == b or word in inflections(b):
            return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--dict", action="append", dest="dicts",
                    help="English word list (repeatable); their union is the decision dictionary")
    ap.add_argument("--out", default=os.path.join(REPO, "rules"))
    ap.add_argument("--engine", default=default_engine(),
                    help="chatguard binary used for the folding-aware allow list "
                         "(default: $CHATGUARD, target/release/chatguard, /tmp/cgbin/chatguard)")
    ap.add_argument("--wildcard-budget", type=int, default=DEFAULT_WILDCARD_BUDGET,
                    help="innocent words a wildcard may match (each gets an allow line); default %(default)s")
    ap.add_argument("--suggest-exclusions", action="store_true",
                    help="print frequent single-word terms (needs wordfreq) and exit")
    ap.add_argument("--suggest-offensive", action="store_true",
                    help="print dictionary words containing terms and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    if not args.dicts:
        args.dicts = [p for p in DEFAULT_DICTS if os.path.exists(p)]
        if not args.dicts:
            sys.exit("no word list found: apt-get install wamerican-huge wbritish-huge "
                     "wamerican-insane wbritish-insane, or pass --dict")
    for p in args.dicts:
        if not os.path.exists(p):
            sys.exit(f"--dict {p}: not found")
    budget = args.wildcard_budget

    report: dict = {}

    # editorial tables
    orient = {k.lower(): v for k, v, *_ in read_table("orientation_gender.tsv", 2)}
    for k, v in orient.items():
        if v not in ("slur", "insult"):
            sys.exit(f"orientation_gender.tsv: {k}: bad value {v}")
    families = {}
    for root, cats, *_ in read_table("swear_families.tsv", 2):
        families[root] = cats.split(",")
    suffixes = [r[0] for r in read_table("insult_suffixes.tsv", 1)]
    ld_cats = {t: c.split(",") for t, c, *_ in read_table("ldnoobw_categories.tsv", 2)}
    for cs in list(families.values()) + list(ld_cats.values()):
        for c in cs:
            if c not in CATEGORIES:
                sys.exit(f"unknown category {c!r} in tools/data")
    exclusions = {t.lower(): r for t, r, *_ in read_table("exclusions.tsv", 2)}
    extra_innocent = set(read_list("extra_innocent.txt"))
    offensive_words = set(read_list("offensive_dictionary_words.txt"))

    # terms
    terms = load_surge(args.shared, orient, report)
    for t, cats, sev, *_ in read_table("term_overrides.tsv", 3):
        if t not in terms:
            sys.exit(f"term_overrides.tsv: {t!r} is not a surge term")
        if sev not in SEV_NAMES or any(c not in CATEGORIES for c in cats.split(",")):
            sys.exit(f"term_overrides.tsv: {t!r}: bad categories or severity")
        terms[t].cats = []
        terms[t].add_cats(cats.split(","))
        terms[t].sev = SEV_NAMES.index(sev)
    load_ldnoobw_en(args.shared, terms, ld_cats, report)
    # Editorial additions: abuse common in chat that neither source lists.
    for t, cats, sev, *_ in read_table("extra_terms.tsv", 3):
        if sev not in SEV_NAMES or any(c not in CATEGORIES for c in cats.split(",")) or not VALID_TERM.fullmatch(t):
            sys.exit(f"extra_terms.tsv: {t!r}: bad term, categories or severity")
        if t in terms:
            sys.exit(f"extra_terms.tsv: {t!r} is already a term (edit term_overrides.tsv instead)")
        terms[t] = Term(t, cats.split(","), SEV_NAMES.index(sev), "editorial", [], "tools/data/extra_terms.tsv")
    apply_families(terms, families, suffixes)

    if args.suggest_exclusions:
        return suggest_exclusions(terms)

    excluded = []
    for t in sorted(exclusions):
        if t in terms:
            excluded.append((t, exclusions[t], terms[t]))
            del terms[t]
        else:
            print(f"warning: exclusions.tsv: {t!r} is not a source term", file=sys.stderr)

    # dictionary
    dict_words = load_dict(args.dicts)
    dict_desc = "; ".join(
        f"{os.path.basename(p)} (sha256 {sha256(p)[:12]}, {sum(1 for _ in open(p, encoding='utf-8', errors='replace'))} lines)"
        for p in args.dicts)

    # surge spellings that are ordinary dictionary words of their own (forked -> fucked,
    # nicker -> nigger): a variant that is also a real innocent word is no evidence of
    # abuse, so it is dropped.  Kept: spellings that contain a canonical form (compounds
    # like dickhead, shite), regular inflections of a canonical form (hoes -> hoe), and
    # words listed in offensive_dictionary_words.txt (the dictionary has slang too).
    innocent_variants = []
    for t in sorted(terms):
        term = terms[t]
        if (" " in t or term.origin != "surge text" or t not in dict_words
                or t in offensive_words or "ldnoobw" in term.sources
                or any(c.replace(" ", "") in t for c in term.canon)
                or is_inflection_of(t, term.canon)):
            continue
        innocent_variants.append((t, sorted(term.canon)))
        del terms[t]
    report["innocent_variants"] = innocent_variants
    # LDNOOBW terms that are dictionary words: printed for review (exclusions.tsv)
    report["ldnoobw_dictionary_words"] = sorted(
        t for t in terms if "ldnoobw" in terms[t].sources and t in dict_words)

    # every dropped surge variant must have its canonical forms as terms
    missing_canon = []
    for text, cans in report["surge_dropped"]:
        for c in cans:
            if c not in terms:
                missing_canon.append((text, c, "excluded" if c in exclusions else "not a valid term"))

    base_terms = set(terms)
    innocent = (dict_words | extra_innocent) - base_terms - offensive_words
    index = WordIndex(innocent)

    if args.suggest_offensive:
        return suggest_offensive(terms, WordIndex(dict_words - base_terms), offensive_words)

    # wildcards: only where at most `budget` innocent words would match
    forms: dict[str, str] = {}     # term -> written form
    allows: dict[str, list[str]] = {}  # written form -> innocent words
    for t in sorted(terms):
        if " " in t or len(t) < MIN_WILDCARD_LEN:
            forms[t] = t
            continue
        inside = index.containing(t)
        if len(t) >= MIN_ANYWHERE_LEN and len(inside) <= budget:
            forms[t] = f"*{t}*"
            allows[forms[t]] = inside
            continue
        pre = index.prefixed(t)
        suf = [w for w in inside if w.endswith(t)]
        if len(pre) <= budget:
            forms[t] = f"{t}*"
            allows[forms[t]] = pre
        elif len(suf) <= budget:
            forms[t] = f"*{t}"
            allows[forms[t]] = suf
        else:
            forms[t] = t

    def covered(word):
        """Is `word` (a whole word) matched by some wildcard rule?"""
        for i in range(len(word)):
            for j in range(len(word), i, -1):
                f = wild.get(word[i:j])
                if f is None:
                    continue
                if f[0] == "*" and f[-1] == "*":
                    return f
                if f[-1] == "*" and i == 0:
                    return f
                if f[0] == "*" and j == len(word):
                    return f
        return None

    wild = {t: f for t, f in forms.items() if f != t}

    # offensive dictionary words that no wildcard covers become terms
    derived = []
    for w in sorted(offensive_words):
        if w in terms or covered(w):
            continue
        parents = [t for t in terms if " " not in t and t in w]
        if not parents:
            print(f"warning: offensive_dictionary_words.txt: {w!r} contains no term", file=sys.stderr)
            continue
        p = terms[max(parents, key=lambda t: (len(t), t))]
        nt = Term(w, p.ordered_cats(), p.sev, "derived", [w], f"dictionary word built on {p.text!r}")
        nt.sources = set(p.sources)
        derived.append(nt)
    for nt in derived:
        terms[nt.text] = nt
        forms[nt.text] = nt.text

    # inflections of whole-word terms
    infl_added, infl_skipped = [], []
    # a term that is itself an inflection of another term (asses, arsed) is not inflected again
    already_inflected = {f for u in terms if " " not in u for f in inflections(u)}
    for t in sorted(terms):
        if (forms[t] != t or " " in t or t in already_inflected or not VOWELS & set(t)
                or terms[t].origin.startswith(("inflection", "dictionary word"))):
            continue
        for f in inflections(t):
            if f in terms or f in exclusions:
                continue
            if f in innocent:
                infl_skipped.append((t, f))
                continue
            if covered(f):
                continue
            p = terms[t]
            nt = Term(f, p.ordered_cats(), p.sev, "inflection", [f], f"inflection of {t!r}")
            nt.sources = set(p.sources)
            terms[f] = nt
            forms[f] = f
            infl_added.append((t, f))

    # drop single-word terms that a `*y*` term already matches with at least the same
    # severity and categories (e.g. `*bitchslap*` under `*bitch*`)
    anywhere = [t for t, f in forms.items() if f == f"*{t}*"]
    pruned = []
    for x in sorted(terms):
        if " " in x:
            continue
        for y in anywhere:
            if y != x and y in x and terms[y].sev >= terms[x].sev and set(terms[x].cats) <= set(terms[y].cats):
                pruned.append((x, y))
                break
    for x, _ in pruned:
        allows.pop(forms[x], None)
        del terms[x]
        del forms[x]
    report["pruned"] = pruned
    wild = {t: f for t, f in forms.items() if f != t}

    # global allows: innocent words that some rule would still match
    per_term_allowed = {(w, f) for f, ws in allows.items() for w in ws}
    global_allow = []
    for w in sorted(innocent):
        f = covered(w)
        if f and (w, f) not in per_term_allowed:
            global_allow.append((w, f))
    # a multi-word term whose words written together make an innocent word
    for t in sorted(terms):
        if " " in t and t.replace(" ", "") in innocent:
            global_allow.append((t.replace(" ", ""), t))
    global_allow = sorted(set(global_allow))

    # folding-aware allow list: run the real engine over the decision dictionary with the
    # candidate rules; every innocent word it flags gets an allow line for each rule hit
    # (terms dropped as redundant under a `*y*` term are still terms)
    not_innocent = set(terms) | base_terms | {x for x, _ in pruned} | offensive_words
    for t in list(not_innocent):
        if " " not in t:
            not_innocent.update(inflections(t))
    folded_allow, engine_desc = folded_allows(
        args, terms, forms, allows, global_allow, dict_desc, not_innocent, extra_innocent, report)

    write_rules(args.out, terms, forms, allows, global_allow, folded_allow, dict_desc,
                budget, engine_desc)
    write_lang_packs(args.shared, args.out, report)
    print_report(terms, forms, allows, global_allow, folded_allow, excluded, missing_canon,
                 infl_added, infl_skipped, derived, report, args)


# ----------------------------------------------------------------------------- engine

def dictionary_entries(paths, extra):
    """Every alphabetic entry of the word lists (as written, any script), plus `extra`."""
    out = set(extra)
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                w = line.strip()
                if w and w.isalpha():
                    out.add(w)
    return out


def engine_scan(engine, rules_dir, lines):
    """`chatguard scan --json` over `lines`; returns one verdict dict per line."""
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.txt")
        with open(inp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        try:
            res = subprocess.run([engine, "scan", "--json", "--no-models", "--rules", rules_dir, inp],
                                 capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            sys.exit(f"engine {engine} failed: {e}\n{getattr(e, 'stderr', '')}"
                     "\n(build it with `cargo build --release` or pass --engine)")
    out = [json.loads(l) for l in res.stdout.splitlines() if l.strip()]
    if len(out) != len(lines):
        sys.exit(f"engine returned {len(out)} verdicts for {len(lines)} lines")
    return out


def folded_allows(args, terms, forms, allows, global_allow, dict_desc, not_innocent, extra, report):
    """Allow lines for innocent dictionary words that the engine still flags (folding)."""
    try:
        ver = subprocess.run([args.engine, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"engine {args.engine} not usable: {e} (pass --engine or set CHATGUARD)")
    entries = dictionary_entries(args.dicts, extra)
    lower = sorted({w.lower() for w in entries if w.lower() not in not_innocent})
    found: dict[tuple[str, str], None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cand = os.path.join(tmp, "en")
        # pass 1: candidate rules without folded allows; lower-case and capitalised words.
        # pass 2: with the allows from pass 1, to catch any spelling they do not cover
        # (then the word is allowed as written).
        for npass in (1, 2):
            write_rules(tmp, terms, forms, allows, global_allow, sorted(found), dict_desc,
                        args.wildcard_budget, ver, quiet=True)
            lines = lower + [w[:1].upper() + w[1:] for w in lower]
            verdicts = engine_scan(args.engine, cand, lines)
            new = 0
            for w, v in zip(lines, verdicts):
                if not v["flagged"]:
                    continue
                word = w.lower() if npass == 1 else w
                for h in v["hits"]:
                    if (word, h["rule"]) not in found:
                        found[(word, h["rule"])] = None
                        new += 1
            report[f"engine_pass{npass}"] = new
            if new == 0:
                break
        # check: nothing innocent flagged any more
        write_rules(tmp, terms, forms, allows, global_allow, sorted(found), dict_desc,
                    args.wildcard_budget, ver, quiet=True)
        verdicts = engine_scan(args.engine, cand, lines)
        report["engine_still_flagged"] = [w for w, v in zip(lines, verdicts) if v["flagged"]]
        report["engine_scanned"] = len(lines)
    return sorted(found), ver


# ----------------------------------------------------------------------------- output

def write_rules(out, terms, forms, allows, global_allow, folded_allow, dict_desc, budget,
                engine_desc, quiet=False):
    en = os.path.join(out, "en")
    os.makedirs(en, exist_ok=True)
    by_file = defaultdict(list)
    for t in terms.values():
        by_file[t.primary].append(t)
    wild_lines = [
        "Wildcards (`*x*`, `x*`, `*x`) are used only where no innocent word of the",
        "decision dictionary would match them" + ("." if budget == 0 else
        f" (at most {budget}, each allow-listed in allow.rules)."),
    ]
    for cat in CATEGORIES:
        path = os.path.join(en, f"{cat}.rules")
        ts = by_file.get(cat, [])
        if not ts:
            # Remove a stale generated file, never a hand-written one (rules/en/threat.rules).
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    generated = "GENERATED FILE" in f.read(2000)
                if generated:
                    os.remove(path)
            continue
        lines = header(f"chatguard default English rules: {cat}", source_lines(dict_desc) + [
            "",
            "Severity comes from surge's human rating (Mild -> mild, Strong -> moderate,",
            "Severe -> severe); LDNOOBW-only terms are moderate.  `severe` blocks, the rest",
            "are flagged for review.  A term lives in the file of its primary category;",
            "`category=` lists all of its categories when it has more than one."]
            + wild_lines + [
            "Otherwise a term matches whole words only, and its regular inflections",
            "(s, ed, ing, er, ...) are listed as terms."])
        for sev in (0, 1, 2):
            group = sorted((t for t in ts if t.sev == sev), key=lambda t: t.text)
            if not group:
                continue
            lines.append(f"[{cat} severity={SEV_NAMES[sev]}]")
            width = max(len(quote(forms[t.text])) for t in group)
            for t in group:
                cats = t.ordered_cats()
                w = quote(forms[t.text])
                if cats == [cat]:
                    lines.append(w)
                else:
                    lines.append(f"{w:<{width}}  category={','.join(cats)}")
            lines.append("")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines).rstrip("\n") + "\n")

    at_most = "no" if budget == 0 else f"at most {budget}"
    lines = header("chatguard default English rules: permitted (allow-listed) words", source_lines(dict_desc) + [
        "",
        "How these lines were generated:",
        "  INNOCENT = the decision dictionary's words (lower-cased, letters only) plus",
        "  tools/data/extra_innocent.txt, minus the terms themselves and minus",
        "  tools/data/offensive_dictionary_words.txt.  A single-word term t is written",
        f"  `*t*` ({MIN_ANYWHERE_LEN}+ letters) when {at_most} INNOCENT words contain it, else `t*`",
        f"  ({MIN_WILDCARD_LEN}+ letters) when {at_most} start with it, else `*t` when {at_most}",
        "  end with it, else plain `t` (whole word).  Those INNOCENT words (if any) get an",
        f"  `allow: WORD for=RULE` line in the first section (wildcard budget {budget};",
        "  raise it with --wildcard-budget).  The global `allow:` lines",
        "  of the second section are INNOCENT words that a rule would still match otherwise.",
        "  The third section comes from the engine itself (see there)."])
    lines.append("# --- per-rule exceptions (wildcard budget)")
    for f in sorted(allows):
        for w in sorted(allows[f]):
            lines.append(f"allow: {quote(w)} for={quote(f)}")
    lines.append("")
    lines.append("# --- global exceptions")
    for w, f in global_allow:
        lines.append(f"allow: {quote(w)}    # would match {f}")
    lines.append("")
    lines += [
        "# --- folded: innocent words that the engine's folding turns into a term",
        "#",
        "# The rules above (without this section) were run through",
        f"#   chatguard scan --json   ({engine_desc})",
        "# over every entry of the decision dictionary, lower-case and capitalised.  Every",
        "# flagged word that is innocent (not a term, not an inflection of one, not in",
        "# tools/data/offensive_dictionary_words.txt) gets one line per rule that hit it.",
        "# Folding undoes repeated letters, leetspeak-ambiguous letters and confusables, so",
        "# e.g. `shiitake` can fold to a term; these lines keep such words clean.",
    ]
    for w, f in folded_allow:
        lines.append(f"allow: {quote(w)} for={quote(f)}")
    with open(os.path.join(en, "allow.rules"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def write_lang_packs(shared, out, report):
    src = os.path.join(shared, "ldnoobw")
    dst = os.path.join(out, "lang")
    os.makedirs(dst, exist_ok=True)
    counts = {}
    for code in sorted(os.listdir(src)):
        if code in ("en", "LICENSE", "SOURCE.md") or code.startswith("."):
            continue
        path = os.path.join(src, code)
        seen = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                t = " ".join(line.strip().lower().split())
                if t and t not in seen:
                    seen.append(t)
        lines = header(f"chatguard language pack: {LANG_NAMES.get(code, code)} ({code})", [
            f"Source: LDNOOBW file `{code}` (github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-",
            f"Otherwise-Bad-Words @ {LDNOOBW_COMMIT[:12]}), CC BY 4.0, (c) 2012-2020",
            "Shutterstock, Inc.  See rules/NOTICE.md and rules/LICENSES/CC-BY-4.0-LDNOOBW.txt.",
            "Terms are kept as written (lower-cased), whole words"
            + (" (this script has no spaces between words, so terms match anywhere)." if code in NO_SPACE_LANGS else "."),
            "LDNOOBW has no labels: every term is `sexual`, severity moderate, unless listed",
            "otherwise in tools/gen_default_rules.py.  Not loaded by default: load it as a pack."])
        lines.append("[sexual severity=moderate]")
        overrides = LANG_CATEGORY_OVERRIDES.get(code, {})
        written = set()
        for t in sorted(seen):
            w = f"*{t}*" if code in NO_SPACE_LANGS and not t.startswith("*") else t
            if w in written:
                continue
            written.add(w)
            if t in overrides:
                lines.append(f"{quote(w)}  category={overrides[t]}")
            else:
                lines.append(quote(w))
        with open(os.path.join(dst, f"{code}.rules"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        counts[code] = len(written)
    report["lang_counts"] = counts


# ----------------------------------------------------------------------------- report

def print_report(terms, forms, allows, global_allow, folded_allow, excluded, missing_canon,
                 infl_added, infl_skipped, derived, report, args):
    p = print
    p(f"surge rows: {report['surge_rows']}; dropped (not letters/spaces): {len(report['surge_dropped'])}")
    p(f"ldnoobw en: {report['ldnoobw_added']} terms not in surge; dropped: {report['ldnoobw_dropped']}")
    if report["surge_bad_canon"]:
        p(f"surge canonical forms that are not letters/spaces (not emitted): {report['surge_bad_canon']}")
    p(f"terms written: {len(terms)}")
    cnt = defaultdict(int)
    for t in terms.values():
        cnt[(t.primary, t.sev)] += 1
    p("by primary category x severity:")
    for c in CATEGORIES:
        row = [cnt[(c, s)] for s in (0, 1, 2)]
        if sum(row):
            p(f"  {c:<10} mild {row[0]:>4}  moderate {row[1]:>4}  severe {row[2]:>4}  total {sum(row):>4}")
    anycat = defaultdict(int)
    for t in terms.values():
        for c in t.cats:
            anycat[c] += 1
    p("terms carrying each category: " + ", ".join(f"{c} {anycat[c]}" for c in CATEGORIES))
    kinds = defaultdict(int)
    for t, f in forms.items():
        kinds["*t*" if f.startswith("*") and f.endswith("*") else "t*" if f.endswith("*")
              else "*t" if f.startswith("*") else "whole word"] += 1
    p("written forms: " + ", ".join(f"{k} {kinds[k]}" for k in ("*t*", "t*", "*t", "whole word")))
    p(f"allow lines: per-rule {sum(len(v) for v in allows.values())}, global {len(global_allow)}, "
      f"folded {len(folded_allow)} (engine scanned {report['engine_scanned']} words; new allows "
      f"pass 1 {report['engine_pass1']}, pass 2 {report.get('engine_pass2', 0)}; still flagged "
      f"{len(report['engine_still_flagged'])} {report['engine_still_flagged'][:20]})")
    p(f"surge variants dropped because they are innocent dictionary words ({len(report['innocent_variants'])}): "
      + ", ".join(f"{t}->{'/'.join(c)}" for t, c in report["innocent_variants"]))
    p(f"LDNOOBW terms that are dictionary words (kept; review for exclusions.tsv) "
      f"({len(report['ldnoobw_dictionary_words'])}): " + ", ".join(report["ldnoobw_dictionary_words"]))
    p(f"inflections added: {len(infl_added)}; skipped because innocent: "
      + ", ".join(f for _, f in infl_skipped))
    p(f"offensive dictionary words added as terms: {len(derived)}")
    p(f"terms dropped as redundant under a `*y*` term: {len(report['pruned'])}")
    p(f"excluded ({len(excluded)}): " + ", ".join(t for t, _, _ in excluded))
    if missing_canon:
        p("dropped variants whose canonical form is not a term:")
        for text, c, why in missing_canon:
            p(f"  {text!r} -> {c!r} ({why})")
    p(f"dropped surge variants ({len(report['surge_dropped'])}): "
      + ", ".join(repr(t) for t, _ in report["surge_dropped"]))
    p("language packs: " + ", ".join(f"{k} {v}" for k, v in report["lang_counts"].items()))
    if args.verbose:
        for f in sorted(allows):
            if allows[f]:
                p(f"  {f}: {allows[f]}")


def suggest_exclusions(terms):
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        sys.exit("--suggest-exclusions needs wordfreq: pip install -r tools/requirements-rules.txt")
    rows = []
    for t in terms.values():
        if " " in t.text:
            continue
        z = zipf_frequency(t.text, "en")
        if z >= 3.3 and (t.sev == 0 or t.sources == {"ldnoobw"}):
            rows.append((-z, t.text, SEV_NAMES[t.sev], ",".join(sorted(t.sources))))
    for z, t, s, src in sorted(rows):
        print(f"{-z:4.1f}  {t:<16} {s:<9} {src}")


def suggest_offensive(terms, index, already):
    for t in sorted(terms):
        if " " in t or len(t) < 3:
            continue
        ws = index.containing(t) if len(t) >= 4 else [w for w in index.prefixed(t) if len(w) <= len(t) + 4]
        ws = [w for w in ws if w not in already]
        if ws:
            print(f"{t}: {' '.join(ws)}")


if __name__ == "__main__":
    main()
