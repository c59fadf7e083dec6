"""Parity fixtures: train a small model of every kind, export it, and record what the library
(scikit-learn, XGBoost, LightGBM) predicts on a held-out set, for tests/model_parity.rs.

    python tools/parity.py --out fixtures/models/parity          # the committed fixtures
    python tools/parity.py --out /tmp/parity                      # what CI checks afresh

Until ``chatguard features`` exists, features come from real text (the SMS Spam Collection
copy in fixtures/models/sms/) through a stand-in featurizer written here: a few dense
statistics plus scikit-learn's HashingVectorizer, so the hashed block is realistic. Every value
is rounded to float32, as chatguard's features are.

Writes into --out:
  schema.json           the feature schema of the stand-in featurizer
  <kind>.json           one chatguard model file per kind, with golden checks
  heldout.svm           the held-out rows (svmlight, zero-based, float32 values)
  heldout_proba.tsv     header "row<TAB>label<TAB><kind>...", then predict_proba[:, 1] per row
  edges.svm             held-out rows with one feature moved onto a split threshold: the f32
                        just below, at and just above it, for splits of every tree model
  edges_proba.tsv       as heldout_proba.tsv, for edges.svm
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chatguard_export as cx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SMS = os.path.join(HERE, "..", "fixtures", "models", "sms", "SMSSpamCollection")
SEED = 20240611
BITS = 12

DENSE_NAMES = [
    "log_len_chars",
    "log_len_bytes",
    "log_words",
    "caps_ratio",
    "digit_ratio",
    "symbol_ratio",
    "non_ascii_ratio",
    "url_count",
    "longest_run",
    "exclamations",
    "currency",
    "long_digit_runs",
]

SCHEMA = {
    "version": 1,
    "names": DENSE_NAMES,
    "hashing": {
        "seed": 0,
        "bits": BITS,
        "word_ngrams": [1, 2],
        "char_ngrams": [0, 0],
        "tokenizer": "sklearn-default-token-pattern",
        "alternate_sign": True,
    },
}

URL = re.compile(r"(https?://|www\.)\S+|\b\S+\.(com|net|org|co\.uk)\b", re.I)
DIGIT_RUN = re.compile(r"\d{5,}")


def read_sms(path):
    labels, texts, seen = [], [], set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if text in seen:  # the corpus has duplicates; keep the first of each
                continue
            seen.add(text)
            labels.append(1 if label == "spam" else 0)
            texts.append(text)
    return np.array(labels), texts


def dense_stats(text):
    n = max(len(text), 1)
    letters = sum(c.isalpha() for c in text)
    run, longest, prev = 0, 0, None
    for c in text:
        run = run + 1 if c == prev else 1
        longest = max(longest, run)
        prev = c
    return [
        np.log1p(len(text)),
        np.log1p(len(text.encode("utf-8"))),
        np.log1p(len(text.split())),
        sum(c.isupper() for c in text) / max(letters, 1),
        sum(c.isdigit() for c in text) / n,
        sum(not c.isalnum() and not c.isspace() for c in text) / n,
        sum(ord(c) > 127 for c in text) / n,
        len(URL.findall(text)),
        longest,
        text.count("!"),
        sum(text.count(c) for c in "£$€"),
        len(DIGIT_RUN.findall(text)),
    ]


def featurize(texts):
    from sklearn.feature_extraction.text import HashingVectorizer

    dense = sp.csr_matrix(np.array([dense_stats(t) for t in texts], dtype=np.float64))
    hv = HashingVectorizer(n_features=1 << BITS, ngram_range=(1, 2), alternate_sign=True, norm=None)
    hashed = hv.transform(texts)
    return cx.to_float32_values(sp.hstack([dense, hashed]).tocsr())


def models(seed):
    """The estimators, small enough that the committed fixtures stay a few MB."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    lr = lambda: LogisticRegression(C=1.0, max_iter=5000)
    out = {
        "linear": lr(),
        "calibrated_sigmoid": CalibratedClassifierCV(lr(), method="sigmoid", cv=3, ensemble=True),
        "calibrated_isotonic": CalibratedClassifierCV(lr(), method="isotonic", cv=3, ensemble=True),
        "tree": DecisionTreeClassifier(max_depth=8, min_samples_leaf=2, random_state=seed),
        "forest": RandomForestClassifier(n_estimators=25, max_depth=7, random_state=seed, n_jobs=1),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=60, max_depth=3, learning_rate=0.1,
                                                        random_state=seed),
    }
    try:
        import xgboost as xgb

        out["xgboost"] = xgb.XGBClassifier(n_estimators=60, max_depth=4, learning_rate=0.2,
                                           random_state=seed, n_jobs=1, tree_method="hist")
    except ImportError:
        print("xgboost is not installed; skipping it", file=sys.stderr)
    try:
        import lightgbm as lgb

        out["lightgbm"] = lgb.LGBMClassifier(n_estimators=60, num_leaves=15, learning_rate=0.1,
                                             random_state=seed, n_jobs=1, verbose=-1)
    except ImportError:
        print("lightgbm is not installed; skipping it", file=sys.stderr)
    return out


def f32_around(t):
    """The float32 just below, at-or-below and just above a float64 threshold."""
    lo = np.float32(t)
    if float(lo) > t:
        lo = np.nextafter(lo, np.float32(-np.inf))
    return [np.nextafter(lo, np.float32(-np.inf)), lo, np.nextafter(lo, np.float32(np.inf))]


def split_points(fitted, X_held, rng):
    """(feature, threshold, base row) for splits of every tree model. For scikit-learn trees the
    base row is one whose decision path reaches the split, so moving the feature matters."""
    points = []

    def sklearn_tree(t):
        paths = t.decision_path(X_held).tocsc()
        tree = t.tree_
        for node in range(tree.node_count):
            if tree.children_left[node] == -1:
                continue
            reached = paths[:, node].nonzero()[0]
            base = int(reached[0]) if len(reached) else int(rng.integers(X_held.shape[0]))
            points.append((int(tree.feature[node]), float(tree.threshold[node]), base))

    for kind, est in fitted.items():
        if kind == "tree":
            sklearn_tree(est)
        elif kind == "forest":
            for t in est.estimators_:
                sklearn_tree(t)
        elif kind == "gradient_boosting":
            for t in est.estimators_[:, 0]:
                sklearn_tree(t)
        elif kind == "xgboost":
            import json

            doc = json.loads(bytes(est.get_booster().save_raw(raw_format="json")).decode())
            for tree in doc["learner"]["gradient_booster"]["model"]["trees"]:
                for i, left in enumerate(tree["left_children"]):
                    if left != -1:
                        points.append((int(tree["split_indices"][i]), float(tree["split_conditions"][i]),
                                       int(rng.integers(X_held.shape[0]))))
        elif kind == "lightgbm":
            def walk(node):
                if "split_feature" in node:
                    points.append((int(node["split_feature"]), float(node["threshold"]),
                                   int(rng.integers(X_held.shape[0]))))
                    walk(node["left_child"])
                    walk(node["right_child"])

            for info in est.booster_.dump_model()["tree_info"]:
                walk(info["tree_structure"])
    return points


def edge_rows(fitted, X_held, y_held, limit, seed):
    rng = np.random.default_rng(seed)
    points = split_points(fitted, X_held, rng)
    if len(points) > limit:
        points = [points[i] for i in sorted(rng.choice(len(points), limit, replace=False))]
    rows, labels = [], []
    for feature, threshold, base in points:
        for v in f32_around(threshold):
            if not np.isfinite(v):
                continue
            row = X_held[base].toarray()[0]
            row[feature] = v
            rows.append(row)
            labels.append(y_held[base])
    return cx.to_float32_values(sp.csr_matrix(np.array(rows))), np.array(labels)


def write_set(out, name, X, y, fitted):
    cx.write_svmlight(os.path.join(out, f"{name}.svm"), X, y)
    columns = {kind: est.predict_proba(X)[:, 1].astype(np.float64) for kind, est in fitted.items()}
    with open(os.path.join(out, f"{name}_proba.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(["row", "label", *columns]) + "\n")
        for i in range(len(y)):
            f.write("\t".join([str(i), str(int(y[i])), *(repr(float(columns[k][i])) for k in columns)]) + "\n")
    return columns


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory to write into")
    ap.add_argument("--sms", default=DEFAULT_SMS, help="the SMS Spam Collection file")
    ap.add_argument("--train-rows", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--golden", type=int, default=24, help="golden checks per model file")
    ap.add_argument("--edge-splits", type=int, default=400, help="splits sampled for edges.svm")
    args = ap.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    y, texts = read_sms(args.sms)
    X = featurize(texts)
    order = np.random.default_rng(args.seed).permutation(len(y))
    train, held = order[: args.train_rows], order[args.train_rows:]
    X_train, y_train, X_held, y_held = X[train], y[train], X[held], y[held]
    held_texts = [texts[i] for i in held]

    with open(os.path.join(args.out, "schema.json"), "w", encoding="utf-8") as f:
        f.write(cx._dumps(cx.normalize_schema(SCHEMA)) + "\n")
    fitted = {}
    for kind, est in models(args.seed).items():
        est.fit(X_train, y_train)
        fitted[kind] = est
        path = os.path.join(args.out, f"{kind}.json")
        golden = dict(golden_X=X_held[: args.golden], golden_texts=held_texts[: args.golden],
                      name=f"parity-{kind}", description="parity fixture trained on the SMS Spam Collection")
        if kind == "xgboost":
            cx.export_xgboost(est, SCHEMA, path, input="sparse", **golden)
        elif kind == "lightgbm":
            cx.export_lightgbm(est, SCHEMA, path, **golden)
        else:
            cx.export(est, SCHEMA, path, **golden)

    columns = write_set(args.out, "heldout", X_held, y_held, fitted)
    for kind, p in columns.items():
        acc = float(((p >= 0.5) == y_held).mean())
        size = os.path.getsize(os.path.join(args.out, f"{kind}.json"))
        print(f"{kind:20s} held-out accuracy {acc:.4f}  file {size:>9,d} bytes")
    X_edges, y_edges = edge_rows(fitted, X_held, y_held, args.edge_splits, args.seed)
    write_set(args.out, "edges", X_edges, y_edges, fitted)
    print(f"{len(y_held)} held-out rows, {len(y_edges)} edge rows, {len(y_train)} training rows -> {args.out}")


if __name__ == "__main__":
    main()
