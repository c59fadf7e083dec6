"""Train chatguard's default spam and toxicity models; anyone can re-run it and get the same files.

    cargo build --release -p chatguard-cli
    tools/.venv/bin/python tools/train_default_models.py            # writes models/*.json

This is the only script that reads ``../shared/data`` (the raw corpora beside the repository);
tests read ``fixtures/`` only. It writes:

- ``models/spam.json`` and ``models/toxicity.json``: logistic regressions over the features
  ``chatguard features`` computes, exported with golden checks (features and texts) that the
  loader re-runs through the Rust extractor;
- ``models/metrics.json``: the test-split metrics quoted in ``models/README.md``;
- ``fixtures/hashing/extractor_sklearn.jsonl``: tokens from the extractor and what
  scikit-learn's ``HashingVectorizer`` makes of them (``tests/features.rs`` compares).

Data and splits (seed ``SEED``):

- spam: the SMS Spam Collection, exact duplicate texts removed first (a text that appears
  with both labels keeps its first label), then a stratified 80/20 train/test split; plus
  ``TWEETS_AS_HAM`` Davidson tweets of its train split as ordinary (not spam) text, so that
  length alone does not read as spam (in SMS spam is long and ham short), a quarter as many
  of its test split measuring false positives on them; plus
  SYNTHETIC chat lines from the templates below (self-promotion spam: links, "follow me",
  "check out my channel", free game currency, account selling; and ordinary game-chat lines
  that use the same words innocently, share clips and guides by link, and talk in numbers),
  split 80/20 the same way. Synthetic lines are a
  minority of the spam data. The SMS MCC is reported on the SMS test split alone.
- toxicity: Davidson et al. (2017), class 0 (hate) and 1 (offensive) = toxic, 2 (neither) =
  not, stratified 80/20. Tweets are cleaned of Twitter artifacts that chat has not (HTML
  entities unescaped, "RT @user:" prefixes and t.co links removed, other @mentions kept).

The regularization strength and class weighting are chosen by cross-validation on the train
split only (spam: 5 folds over C in 0.3..30; toxicity: 3 folds over C in 0.1..3, kept small
because the set is larger).
Hashed columns seen in fewer than ``MIN_DF`` training messages are zeroed before fitting, so
they get no weight (this keeps the files small and changes nothing else: a zero weight is
what the file would say anyway).
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import random
import re
import subprocess
import sys
import tempfile

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chatguard_export as cx  # noqa: E402

SEED = 20240611
MIN_DF = 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")

# --------------------------------------------------------------------------- synthetic chat

PLATFORMS = ["twitch", "youtube", "tiktok", "insta", "kick", "twitter", "discord"]
GAMES = ["fortnite", "valorant", "roblox", "minecraft", "league", "csgo", "genshin", "apex", "wow"]
CURRENCY = ["robux", "v-bucks", "vbucks", "gems", "coins", "gold", "skins", "diamonds", "primogems",
            "riot points", "minecoins", "battle pass"]
HOSTS = ["free-robux.xyz", "vbucks-gen.online", "bit.ly/3xFr33", "tinyurl.com/freegems", "giftz.click",
         "skinsdrop.site", "claim-rewards.top", "twitch.tv/{h}", "youtube.com/@{h}", "discord.gg/{c}",
         "www.{h}.com", "https://{h}.link/free", "http://getcoins.store/{c}", "{h}.tv"]
HANDLES = ["xXsniperXx", "gamerkid99", "proplayz", "lil_streamz", "nightowl_tv", "epicgamer", "zoe_plays",
           "kingdom_tv", "fastfingers", "noobmaster", "ttv_ace", "vibes4days"]
ITEMS = ["all skins", "rare knife", "og account", "max level", "full gear", "200 skins", "stacked inventory"]
EMOJI = ["", "", "", " 🔥", " 💰", " 🎁", " 👉", " ✅", " 💯", " 😍", " 🚀"]

SPAM_TEMPLATES = [
    "follow me on {platform} {handle}",
    "follow my {platform} {handle} for {currency} giveaways",
    "pls follow me on {platform}!! {url}",
    "check out my channel {url}",
    "check out my stream {url} going live now",
    "come watch me play {game} live at {url}",
    "sub to my {platform} {url} i sub back",
    "sub4sub? {url}",
    "f4f follow for follow {platform} {handle}",
    "free {currency} at {url}",
    "get {amount} free {currency} here {url}",
    "FREE {currency_u} GIVEAWAY go to {url}",
    "{amount} {currency} for free, just log in at {url}",
    "claim your free {currency} before it ends {url}",
    "{currency} generator working 2024 {url}",
    "selling {game} account {items}, dm me",
    "selling my {game} acc lvl {n} cheap, add me",
    "cheap {game} accounts and {currency} at {url}",
    "buy {currency} cheap {price} for {amount} {url}",
    "wts {game} account {items} paypal only",
    "want free {currency}? dm me or visit {url}",
    "join my discord for free {currency} {url}",
    "who wants free {currency}?? {url}",
    "i got {amount} {currency} from {url} legit",
    "visit {url} for free {game} skins",
]

HAM_TEMPLATES = [
    "gg wp", "gg everyone", "nice shot", "lol that was close", "anyone want to duo {game}?",
    "follow me i know the way to the boss", "follow me to the next room", "follow the river then go left",
    "check out the new patch notes, {game} got nerfed", "check out this build i made",
    "did you see the new {game} update", "how do i get more {currency} in this game",
    "i spent all my {currency} on skins lol", "the shop has {currency} on sale this week",
    "free loot in the chest behind the waterfall", "the free battle pass is kinda mid",
    "is the server lagging for anyone else", "brb getting food", "who is streaming tonight?",
    "my channel on the guild radio is 3", "that streamer was so good yesterday", "can you drop me some {currency}?",
    "i need {amount} more {currency} for the upgrade", "selling is disabled in this mode right?",
    "add me after the match, my tag is {handle}", "where is the link to the event page in the menu",
    "level {n} finally!!", "lmao you fell off the map", "we need a healer", "ty for the carry",
    "watch out behind you", "the boss has {amount} hp", "rank up! {game} is so fun", "wp team",
    "does anyone know how to beat level {n}?", "my internet is dying", "haha nice one",
]


# Ordinary chat shares links (clips, VODs, guides, screenshots) and numbers (scores, ranks,
# times, codes) all the time; without such lines the model learns that a link or a number is
# spam. Links to the same platforms the spam templates promote (twitch, youtube, discord), so
# that what separates the two is the promotion, not the host.
LINK_HAM_TEMPLATES = [
    "clip of that {play}: {link}", "check out this clip {link}", "lol look at this {link}",
    "vod from last night {link}", "here's the build guide {link}", "patch notes are up {link}",
    "the wiki says you need {n} {material} {link}", "screenshot of the bug {link}", "tier list {link}",
    "watch this play {link}", "{link} this was insane", "anyone seen this? {link}",
    "the route for the speedrun {link}", "map with all the chests {link}", "my setup {link}",
    "reported it here {link}", "{link} the ending of this one lmao", "dev tracker post: {link}",
    "the full match is here {link}", "this is the bug i meant {link}",
]
NUMBER_HAM_TEMPLATES = [
    "{n} elo now", "hit {n} elo finally", "new pb {time} on this track", "{score} at half time",
    "gg {score}", "{n} kills that round", "{n} dmg in one ult lol", "level {n} after {n2} hours",
    "coords {x} {y} {x2}", "lobby code {code}", "ping is {n}ms on {region}", "{n} fps after the patch",
    "rank {n} on the ladder", "{n} wins in a row", "need {n} more {material}", "{time} left on the timer",
    "the boss has {n} hp at phase {n2}", "i got {n} {material} from the last raid",
]
SHARED_WORD_HAM_TEMPLATES = [
    "my account got hacked, had to reset everything", "how do i link my {platform} account",
    "log out of your account and back in, fixed it for me", "delete your save file if it keeps crashing",
    "is it free to play now?", "free weekend for {game} starts tomorrow", "the giveaway winners were announced",
    "i subscribed to the streamer after that raid", "follow the road north to the {material} mine",
    "is the battle pass worth buying", "price of the rare knife dropped a lot", "join the discord for scrim times",
    "visit the blacksmith to upgrade your {material}", "the shop resets in {n} minutes",
]
LINK_HOSTS = [
    "https://clips.twitch.tv/{Word}{Word2}-{id}", "clips.twitch.tv/{Word}{Word2}{id}",
    "https://www.twitch.tv/videos/{digits}", "https://youtu.be/{id}", "youtube.com/watch?v={id}",
    "https://www.youtube.com/watch?v={id}", "https://medal.tv/clips/{digits}", "streamable.com/{id}",
    "https://imgur.com/a/{id}", "i.imgur.com/{id}.png", "https://{game}.fandom.com/wiki/{Word}",
    "reddit.com/r/{game}/comments/{id}", "https://www.reddit.com/r/{game}/comments/{id}/{word}",
    "https://discord.com/channels/{digits}/{digits}", "steamcommunity.com/sharedfiles/filedetails/?id={digits}",
    "https://www.speedrun.com/{game}", "tiermaker.com/list/{game}-{n}",
]
PLAYS = ["ace", "clutch", "1v4", "snipe", "triple kill", "comeback", "wipe", "pentakill", "no-scope", "fail"]
MATERIALS = ["iron", "gold", "wood", "crystals", "scrap", "essence", "ore", "shards"]
REGIONS = ["eu west", "na east", "asia", "oce", "brazil"]
WORDS = ["Sleepy", "Brave", "Otter", "Tiny", "Fierce", "Lazy", "Crispy", "Jungle", "Boss", "Raid", "Guide",
         "Shiny", "Angry", "Potato", "Dragon", "Frog"]


def synthetic(rng: random.Random, n_spam: int, n_ham: int):
    """SYNTHETIC chat lines: (label, text) with label 1 for spam."""

    def fill(template: str) -> str:
        h = rng.choice(HANDLES)
        url = rng.choice(HOSTS).format(h=h.lower(), c="".join(rng.choice("abcdefgh123") for _ in range(6)))
        cur = rng.choice(CURRENCY)
        game = rng.choice(GAMES)
        ident = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                        for _ in range(rng.choice([6, 7, 11])))
        link = rng.choice(LINK_HOSTS).format(
            Word=rng.choice(WORDS), Word2=rng.choice(WORDS), word=rng.choice(WORDS).lower(), id=ident,
            digits=str(rng.randrange(10**6, 10**10)), game=game, n=rng.randrange(1, 30))
        text = template.format(
            platform=rng.choice(PLATFORMS), handle=rng.choice(["", "@"]) + h, url=url, game=game,
            currency=cur, currency_u=cur.upper(), amount=rng.choice(["100", "500", "1000", "10k", "5,000", "2500"]),
            price=rng.choice(["$5", "$10", "5 dollars", "€3"]), items=rng.choice(ITEMS),
            n=rng.choice([7, 30, 50, 99, 120, 250, rng.randrange(2, 3000)]), h=h, link=link,
            play=rng.choice(PLAYS), material=rng.choice(MATERIALS), region=rng.choice(REGIONS),
            n2=rng.randrange(2, 60), x=rng.randrange(-3000, 3000), x2=rng.randrange(-3000, 3000),
            y=rng.randrange(0, 320), code=ident.upper()[:6],
            time=rng.choice(["1:32.456", "4:05", "12:48.3", "0:58", "2m 13s", "3:21.07"]),
            score=rng.choice(["2-1", "3-0", "13-11", "1-1", "0-2", "16-14", "4-3"]))
        text += rng.choice(EMOJI)
        r = rng.random()
        if r < 0.15:
            text = text.upper()
        elif r < 0.35:
            text = text.capitalize()
        if rng.random() < 0.2:
            text += rng.choice(["!!", "!!!", " !!", " :)", " pls", " <3"])
        return text

    ham = HAM_TEMPLATES + LINK_HAM_TEMPLATES + NUMBER_HAM_TEMPLATES + SHARED_WORD_HAM_TEMPLATES
    out, seen = [], set()
    for label, templates, n in ((1, SPAM_TEMPLATES, n_spam), (0, ham, n_ham)):
        tries = 0
        count = 0
        while count < n and tries < n * 50:
            tries += 1
            text = fill(rng.choice(templates))
            if text in seen:
                continue
            seen.add(text)
            out.append((label, text))
            count += 1
    return out


# --------------------------------------------------------------------------- data

# Davidson tweets (train split) the spam model learns as ordinary text; a quarter as many from
# the test split measure its false positives on them.
TWEETS_AS_HAM = int(os.environ.get("CHATGUARD_TWEETS_AS_HAM", "3000"))

# Share of toxic lines assumed in game chat, for the toxicity model's prior shift (Davidson is
# 83% toxic because it was sampled by a lexicon; live chat is mostly not). An assumption, not a
# measurement: moderators tune `toxicity_review_at` against their own traffic.
CHAT_TOXIC_PRIOR = 0.05

# The game-chat development set (fixtures/eval/game_chat/dev.tsv: lines written for the project,
# labelled toxic or innocent) joins Davidson's train split in the toxicity model, each line
# weighted GAME_CHAT_WEIGHT times a tweet. Davidson's toxic tweets are mostly slurs and swearing;
# game chat's toxicity is mostly put-downs, exclusion and threats in gamer words, and its hard
# innocent lines (game violence, banter, "trash mobs") are what the tweets lack. The weight was
# chosen by 2-fold cross-validation within the dev set (see models/README.md); the held-out
# game-chat set was not used for it.
GAME_CHAT_DEV = os.path.join(ROOT, "fixtures", "eval", "game_chat", "dev.tsv")
GAME_CHAT_WEIGHT = float(os.environ.get("CHATGUARD_GAME_CHAT_WEIGHT", "100"))


def read_sms():
    path = os.path.join(DATA, "sms_spam_collection", "SMSSpamCollection")
    rows, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            label, text = line.split("\t", 1)
            if text in seen:
                continue
            seen.add(text)
            rows.append((1 if label == "spam" else 0, text))
    return rows


RT = re.compile(r"(^|\s)RT\s+@\w+:?")
LINK = re.compile(r"https?://\S+")


def clean_tweet(text: str) -> str:
    text = html.unescape(html.unescape(text))
    text = RT.sub(" ", text)
    text = LINK.sub(" ", text)
    return " ".join(text.split())


def read_davidson():
    path = os.path.join(DATA, "davidson_hate_offensive", "labeled_data.csv")
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            text = clean_tweet(rec["tweet"])
            if text:
                rows.append((1 if rec["class"] in ("0", "1") else 0, text))
    return rows


def split(rows, seed):
    from sklearn.model_selection import train_test_split

    y = [r[0] for r in rows]
    train, test = train_test_split(list(range(len(rows))), test_size=0.2, random_state=seed, stratify=y)
    return [rows[i] for i in train], [rows[i] for i in test]


# --------------------------------------------------------------------------- features

def features(chatguard, rows, work, name):
    """Runs ``chatguard features`` on rows; returns (X, y, texts, schema)."""
    tsv = os.path.join(work, f"{name}.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        for label, text in rows:
            f.write(f"{label}\t{' '.join(text.splitlines())}\n")
    svm = os.path.join(work, f"{name}.svm")
    texts = os.path.join(work, f"{name}.txt")
    subprocess.run(chatguard + ["features", tsv, "--out", svm, "--texts", texts], check=True)
    schema = cx.read_schema(os.path.join(work, "schema.json"))
    X, y = cx.read_svmlight(svm, schema)
    with open(texts, encoding="utf-8") as f:
        t = [line.rstrip("\n") for line in f]
    assert len(t) == X.shape[0]
    return X, y, t, schema


def min_df_mask(X, named, min_df):
    """Zero hashed columns seen in fewer than min_df rows (named columns are kept)."""
    df = np.asarray((X != 0).sum(axis=0)).ravel()
    keep = df >= min_df
    keep[:named] = True
    return sp.diags(keep.astype(np.float64))


def metrics(y, proba, t=0.5):
    pred = (proba >= t).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum()); tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum()); fn = int(((pred == 0) & (y == 1)).sum())
    p1 = tp / (tp + fp) if tp + fp else 0.0; r1 = tp / (tp + fn) if tp + fn else 0.0
    p0 = tn / (tn + fn) if tn + fn else 0.0; r0 = tn / (tn + fp) if tn + fp else 0.0
    f1 = 2 * p1 * r1 / (p1 + r1) if p1 + r1 else 0.0
    f0 = 2 * p0 * r0 / (p0 + r0) if p0 + r0 else 0.0
    d = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5
    return {"threshold": t, "rows": int(len(y)), "precision": round(p1, 4), "recall": round(r1, 4),
            "f1": round(f1, 4), "macro_f1": round((f1 + f0) / 2, 4),
            "mcc": round((tp * tn - fp * fn) / d, 4) if d else 0.0, "tp": tp, "fp": fp, "tn": tn, "fn": fn}


def fit(X, y, seed, scoring, grid_c, folds, sample_weight):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    grid = GridSearchCV(LogisticRegression(max_iter=5000, solver="liblinear"),
                        {"C": grid_c, "class_weight": [None, "balanced"]},
                        scoring=scoring, cv=StratifiedKFold(folds, shuffle=True, random_state=seed), n_jobs=1)
    grid.fit(X, y, sample_weight=sample_weight)
    print(f"  cross-validated {scoring}: {grid.best_score_:.4f} with {grid.best_params_}", flush=True)
    return grid.best_estimator_, grid.best_params_


def logit(p):
    import math
    return math.log(p / (1.0 - p))


def read_game_chat(path):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f, delimiter="\t"):
            rows.append((1 if rec["label"] == "toxic" else 0, rec["text"]))
    return rows


def train_one(chatguard, work, name, train_rows, test_sets, scoring, description, out, grid_c, folds,
              deploy_prior=None, weights=None):
    X, y, texts, schema = features(chatguard, train_rows, work, f"{name}-train")
    named = len(schema["names"])
    mask = min_df_mask(X, named, MIN_DF)
    Xm = (X @ mask).tocsr()
    Xm.eliminate_zeros()
    sw = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    assert len(sw) == len(y)
    est, params = fit(Xm, y, SEED, scoring, grid_c, folds, sw)
    results = {"params": {k: v for k, v in params.items()}, "train_rows": int(X.shape[0]), "min_df": MIN_DF}
    threshold = 0.5
    if deploy_prior is not None:
        # Prior shift: the training data's share of positives is not chat's. Moving the
        # intercept by logit(deploy prior) - logit(training prior) gives the probabilities the
        # same model would give where positives are that rare (Saerens et al. 2002); ranking is
        # unchanged, so the test metrics are reported at the equivalent threshold too.
        train_prior = float((sw * y).sum() / sw.sum())
        shift = logit(deploy_prior) - logit(train_prior)
        est.intercept_ = est.intercept_ + shift
        threshold = 1.0 / (1.0 + __import__("math").exp(-shift))
        results["prior_shift"] = {"train_prior": round(train_prior, 4), "deploy_prior": deploy_prior,
                                  "intercept_shift": round(shift, 4),
                                  "equivalent_threshold_of_0.5": round(threshold, 4)}
    golden_X = golden_t = None
    for test_name, rows in test_sets:
        Xt, yt, tt, _ = features(chatguard, rows, work, f"{name}-{test_name}")
        proba = est.predict_proba(Xt)[:, 1]
        results[test_name] = metrics(yt, proba, threshold)
        if threshold != 0.5:
            results[test_name + "_at_0.5"] = metrics(yt, proba)
        print(f"  {test_name}: {results[test_name]}", flush=True)
        if golden_X is None:
            golden_X, golden_t = Xt[:48], tt[:48]
    cx.export(est, schema, out, golden_X=golden_X, golden_texts=golden_t, name=name,
              description=description)
    return results


def hashing_fixture(chatguard, work, out):
    """Tokens from the extractor, hashed by scikit-learn's HashingVectorizer with an analyzer
    callable producing the word n-grams: tests/features.rs checks Rust gets the same block."""
    from sklearn.feature_extraction.text import HashingVectorizer

    texts = [
        "FREE robux!!! visit www.free-robux.xyz now", "gg wp everyone, good game",
        "Ѕ𝐮𝐜𝐤 ｍｙ dick 😂 @bob", "follow me on twitch.tv/someone 🔥🔥", "naïve café crème brûlée",
        "Ｆｕｌｌｗｉｄｔｈ ＴＥＸＴ", "call 09061701461 now to claim £1000", "soooo goooood lmaooo",
        "日本語のチャット 楽しい", "Привет как дела", "مرحبا بالعالم", "emoji 👍🏽 skin tones 👨‍👩‍👧",
        "z̷a̷l̷g̷o̷ text", "f.u.c.k this", "h\u200bidden zero\u200dwidth", "https://bit.ly/3xFr33?ref=chat",
        "1 22 333 4444 55555", "a", "", "   ", "vvv very vivid", "I'm can't won't", "@everyone look @ this",
        "s3x 4 fr33 $$$", "ᴄʜᴇᴄᴋ ᴏᴜᴛ ᴍʏ ᴄʜᴀɴɴᴇʟ", "check out my channel youtube.com/@gamer",
    ]
    tsv = os.path.join(work, "hashing.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(f"0\t{t}\n")
    tokens_path = os.path.join(work, "hashing.jsonl")
    subprocess.run(chatguard + ["features", tsv, "--out", os.path.join(work, "hashing.svm"),
                                "--tokens", tokens_path], check=True)
    with open(tokens_path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]

    lo, hi = tuple(cx.read_schema(os.path.join(work, "schema.json"))["hashing"]["word_ngrams"])

    def analyzer(tokens):
        # scikit-learn's word n-grams: the tokens joined by one space, shortest first.
        return [" ".join(tokens[i:i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)]

    schema = cx.read_schema(os.path.join(work, "schema.json"))
    hv = HashingVectorizer(analyzer=analyzer, n_features=2 ** schema["hashing"]["bits"], alternate_sign=True,
                           norm="l2")
    X = hv.transform([r["tokens"] for r in rows]).tocsr()
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    with open(out, "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            lo, hi = X.indptr[i], X.indptr[i + 1]
            hashed = [[int(j), float(v)] for j, v in zip(X.indices[lo:hi], X.data[lo:hi])]
            f.write(json.dumps({"text": r["text"], "tokens": r["tokens"], "sklearn_hashed": hashed},
                               ensure_ascii=False) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chatguard", default=os.path.join(ROOT, "target", "release", "chatguard"),
                    help="the chatguard binary (default: target/release/chatguard)")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--only", choices=["spam", "toxicity", "hashing"])
    args = ap.parse_args(argv)
    chatguard = [args.chatguard]
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="chatguard-train-")
    os.makedirs(args.out_dir, exist_ok=True)
    metrics_path = os.path.join(args.out_dir, "metrics.json")
    all_metrics = {}
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            all_metrics = json.load(f)
    if args.only in (None, "hashing"):
        hashing_fixture(chatguard, work, os.path.join(ROOT, "fixtures", "hashing", "extractor_sklearn.jsonl"))
    if args.only in (None, "spam"):
        sms = read_sms()
        sms_train, sms_test = split(sms, SEED)
        chat = synthetic(rng, 360, 720)
        chat_train, chat_test = split(chat, SEED)
        # Tweets as ordinary text of every length up to 280 characters: in SMS spam is long and
        # ham short, and without these the model reads length alone as spam.
        dav_train, dav_test = split(read_davidson(), SEED)
        tweets_train = [(0, t) for _, t in random.Random(SEED).sample(dav_train, TWEETS_AS_HAM)]
        tweets_test = [(0, t) for _, t in random.Random(SEED).sample(dav_test, TWEETS_AS_HAM // 4)]
        print(f"spam: SMS {len(sms)} unique ({sum(r[0] for r in sms)} spam), synthetic chat {len(chat)} "
              f"({sum(r[0] for r in chat)} spam), {len(tweets_train)} tweets as ordinary text", flush=True)
        train = sms_train + chat_train + tweets_train
        random.Random(SEED).shuffle(train)
        tests = [("sms_test", sms_test), ("synthetic_chat_test", chat_test)]
        if tweets_test:
            tests.append(("tweets_test", tweets_test))
        m = train_one(chatguard, work, "spam", train, tests, "matthews_corrcoef",
                      "spam: logistic regression on chatguard features; SMS Spam Collection (deduplicated, "
                      "stratified 80/20, seed %d) plus SYNTHETIC chat self-promotion lines and %d Davidson "
                      "tweets as ordinary text; tools/train_default_models.py" % (SEED, TWEETS_AS_HAM),
                      os.path.join(args.out_dir, "spam.json"), [0.3, 1.0, 3.0, 10.0, 30.0], 5)
        m["data"] = {"tweets_as_ordinary_text": len(tweets_train), "tweets_test": len(tweets_test),
                     "sms_unique": len(sms), "sms_spam": sum(r[0] for r in sms), "synthetic": len(chat),
                     "synthetic_spam": sum(r[0] for r in chat), "sms_test": len(sms_test)}
        all_metrics["spam"] = m
    if args.only in (None, "toxicity"):
        dav = read_davidson()
        dav_train, dav_test = split(dav, SEED)
        print(f"toxicity: Davidson {len(dav)} tweets ({sum(r[0] for r in dav)} toxic)", flush=True)
        game = read_game_chat(GAME_CHAT_DEV) if GAME_CHAT_WEIGHT > 0 else []
        # The SMS Spam Collection's ham of its train split as ordinary text: chat-like lines
        # that say "u", "ur" and "ho ho ho" innocently, which the game-chat lines alone would
        # teach the model to read as aimed at someone.
        sms_train, sms_test = split(read_sms(), SEED)
        sms_ham = [(0, t) for label, t in sms_train if label == 0]
        sms_ham_test = [(0, t) for label, t in sms_test if label == 0]
        print(f"toxicity: game-chat dev set {len(game)} lines ({sum(r[0] for r in game)} toxic), "
              f"weight {GAME_CHAT_WEIGHT:g}; {len(sms_ham)} SMS ham", flush=True)
        weights = [1.0] * len(dav_train) + [GAME_CHAT_WEIGHT] * len(game) + [1.0] * len(sms_ham)
        m = train_one(chatguard, work, "toxicity", dav_train + game + sms_ham,
                      [("davidson_test", dav_test), ("sms_ham_test", sms_ham_test)], "f1_macro",
                      "toxicity: logistic regression on chatguard features; Davidson et al. 2017, classes 0-1 "
                      "toxic vs 2, tweets cleaned, stratified 80/20, seed %d; plus the %d lines of the game-chat "
                      "development set, each weighted %g, and the SMS Spam Collection's ham (train split) as "
                      "ordinary text; tools/train_default_models.py" % (SEED, len(game), GAME_CHAT_WEIGHT),
                      os.path.join(args.out_dir, "toxicity.json"), [0.1, 0.3, 1.0, 3.0], 3,
                      deploy_prior=CHAT_TOXIC_PRIOR, weights=weights)
        m["data"] = {"davidson_train": len(dav_train), "game_chat_dev": len(game),
                     "game_chat_dev_toxic": sum(r[0] for r in game), "game_chat_weight": GAME_CHAT_WEIGHT,
                     "sms_ham_train": len(sms_ham), "sms_ham_test": len(sms_ham_test)}
        all_metrics["toxicity"] = m
    with open(metrics_path, "w", encoding="utf-8") as f:
        json.dump(all_metrics, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(all_metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
