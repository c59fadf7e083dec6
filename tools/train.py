"""Train a model on chatguard features and write a chatguard model file with golden checks.

    tools/.venv/bin/python tools/train.py --data features/train.svm --kind gradient_boosting \
        --out models/spam.json

--data is svmlight as ``chatguard features`` writes it (``label idx:val ...``, zero-based
indices over the full dimension, float32 values) with ``schema.json`` beside it (or --schema).
Labels are 0/1 (1 = spam / toxic). A fixed seed makes the split and the model reproducible.
The data is split into train and test (stratified, --test-fraction); the model is fitted on
the train part, scored on the test part (precision, recall, F1, MCC printed), and the file's
golden checks are the first --golden test rows plus an all-zero row. With --texts (one text per
svmlight line, as ``chatguard features --texts`` may write them) the checks also record texts.

Kinds: linear, calibrated_sigmoid, calibrated_isotonic, tree, forest, gradient_boosting,
xgboost, lightgbm.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chatguard_export as cx  # noqa: E402

KINDS = ["linear", "calibrated_sigmoid", "calibrated_isotonic", "tree", "forest",
         "gradient_boosting", "xgboost", "lightgbm"]


def estimator(kind: str, seed: int):
    """The estimator for a kind, with fixed hyperparameters and seed."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    lr = lambda: LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced")
    if kind == "linear":
        return lr()
    if kind == "calibrated_sigmoid":
        return CalibratedClassifierCV(lr(), method="sigmoid", cv=5, ensemble=True)
    if kind == "calibrated_isotonic":
        return CalibratedClassifierCV(lr(), method="isotonic", cv=5, ensemble=True)
    if kind == "tree":
        return DecisionTreeClassifier(max_depth=12, min_samples_leaf=3, random_state=seed)
    if kind == "forest":
        return RandomForestClassifier(n_estimators=100, max_depth=16, min_samples_leaf=2,
                                      random_state=seed, n_jobs=1)
    if kind == "gradient_boosting":
        return GradientBoostingClassifier(n_estimators=200, max_depth=3, learning_rate=0.1,
                                          subsample=0.8, random_state=seed)
    if kind == "xgboost":
        import xgboost as xgb

        return xgb.XGBClassifier(n_estimators=200, max_depth=5, learning_rate=0.1, subsample=0.8,
                                 random_state=seed, n_jobs=1, tree_method="hist")
    if kind == "lightgbm":
        import lightgbm as lgb

        return lgb.LGBMClassifier(n_estimators=200, num_leaves=31, learning_rate=0.05,
                                  random_state=seed, n_jobs=1, verbose=-1, deterministic=True)
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def report(y_true, proba, threshold=0.5):
    pred = (proba >= threshold).astype(int)
    tp = int(((pred == 1) & (y_true == 1)).sum())
    tn = int(((pred == 0) & (y_true == 0)).sum())
    fp = int(((pred == 1) & (y_true == 0)).sum())
    fn = int(((pred == 0) & (y_true == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    denom = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5
    mcc = (tp * tn - fp * fn) / denom if denom else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "mcc": mcc,
            "tp": tp, "fp": fp, "tn": tn, "fn": fn}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="svmlight file from `chatguard features`")
    ap.add_argument("--schema", help="schema.json (default: beside --data)")
    ap.add_argument("--kind", required=True, choices=KINDS)
    ap.add_argument("--out", required=True, help="chatguard model file to write")
    ap.add_argument("--texts", help="file with the text of each svmlight line, one per line")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--golden", type=int, default=64, help="golden checks (from the test split)")
    ap.add_argument("--name", help="model name recorded in the file")
    ap.add_argument("--heldout-out", help="also write the test split (svmlight) and its "
                                          "probabilities (<path>.proba) for parity checks")
    args = ap.parse_args(argv)

    from sklearn.model_selection import train_test_split

    schema_path = args.schema or os.path.join(os.path.dirname(os.path.abspath(args.data)), "schema.json")
    schema = cx.read_schema(schema_path)
    X, y = cx.read_svmlight(args.data, schema)
    if set(np.unique(y)) - {0, 1}:
        sys.exit(f"{args.data}: labels must be 0 or 1")
    texts = None
    if args.texts:
        with open(args.texts, encoding="utf-8") as f:
            texts = [line.rstrip("\n") for line in f]
        if len(texts) != X.shape[0]:
            sys.exit(f"{args.texts}: {len(texts)} texts for {X.shape[0]} rows")
    rows = np.arange(X.shape[0])
    train, test = train_test_split(rows, test_size=args.test_fraction, random_state=args.seed, stratify=y)
    est = estimator(args.kind, args.seed)
    est.fit(X[train], y[train])

    golden = dict(golden_X=X[test[: args.golden]],
                  golden_texts=[texts[i] for i in test[: args.golden]] if texts else None,
                  name=args.name,
                  description=f"{args.kind} trained by tools/train.py on {os.path.basename(args.data)} "
                              f"(seed {args.seed}, test fraction {args.test_fraction})")
    if args.kind == "xgboost":
        cx.export_xgboost(est, schema, args.out, input="sparse", **golden)
    elif args.kind == "lightgbm":
        cx.export_lightgbm(est, schema, args.out, **golden)
    else:
        cx.export(est, schema, args.out, **golden)

    proba = est.predict_proba(X[test])[:, 1]
    m = report(y[test], proba)
    print(f"{args.kind}: {len(train)} train rows, {len(test)} test rows; "
          f"precision {m['precision']:.4f} recall {m['recall']:.4f} F1 {m['f1']:.4f} MCC {m['mcc']:.4f} "
          f"(tp {m['tp']} fp {m['fp']} tn {m['tn']} fn {m['fn']}) -> {args.out}")
    if args.heldout_out:
        cx.write_svmlight(args.heldout_out, X[test], y[test])
        with open(args.heldout_out + ".proba", "w", encoding="utf-8") as f:
            for p in proba:
                f.write(repr(float(p)) + "\n")


if __name__ == "__main__":
    main()
