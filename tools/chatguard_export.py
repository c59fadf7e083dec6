"""Export fitted models to chatguard model files.

Usable from a notebook on an already fitted estimator::

    import sys; sys.path.insert(0, "tools")
    from chatguard_export import export, read_schema, read_svmlight

    schema = read_schema("features/schema.json")
    X, y = read_svmlight("features/train.svm", schema)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    export(clf, schema, "spam.json", golden_X=X[:50])

Supported estimators (binary classifiers, classes_[1] is the positive class):

- ``LogisticRegression``                       -> ``linear``
- ``CalibratedClassifierCV`` of a logistic regression, sigmoid or isotonic
                                               -> ``calibrated_linear``
- ``DecisionTreeClassifier``                   -> ``tree``
- ``RandomForestClassifier`` / ``ExtraTreesClassifier`` -> ``tree_ensemble`` (mean)
- ``GradientBoostingClassifier`` (log loss, prior or zero init) -> ``tree_ensemble`` (sum)
- an XGBoost ``Booster`` / ``XGBClassifier``  -> ``xgboost`` via :func:`export_xgboost`
- a LightGBM ``Booster`` / ``LGBMClassifier`` -> ``lightgbm`` via :func:`export_lightgbm`

XGBoost and LightGBM models are embedded in their own native format (XGBoost JSON, LightGBM
text) and converted by chatguard's loader, so there is one converter per format, in Rust.

Every file carries golden checks: rows of ``golden_X`` with the probability the estimator
gave them. Feature values are float32 in chatguard, so rows are rounded to float32 first and
the estimator is asked for its probability on the rounded rows: what it would say on exactly
the values chatguard will compute. ``golden_texts`` (optional, one per golden row) records the
message each row was computed from; chatguard re-runs those through its feature extractor when
it has one.

The format is documented in docs/model-format.md. Only the standard library, numpy and scipy
are needed here; scikit-learn, xgboost and lightgbm are imported only for the estimators you
pass.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
import scipy.sparse as sp

FORMAT = "chatguard-model"
FORMAT_VERSION = 1
EXPORTER = "chatguard_export.py 1"
DEFAULT_GOLDEN_ROWS = 64

__all__ = [
    "export",
    "export_xgboost",
    "export_lightgbm",
    "read_schema",
    "read_svmlight",
    "write_svmlight",
    "canonical_schema_json",
    "schema_fingerprint",
    "dimension",
]


# --------------------------------------------------------------------------- schema


def normalize_schema(schema: dict) -> dict:
    """The schema as plain JSON types in canonical key order; raises ValueError if malformed."""
    try:
        h = schema["hashing"]
        out = {
            "version": int(schema["version"]),
            "names": [str(n) for n in schema["names"]],
            "hashing": {
                "seed": int(h["seed"]),
                "bits": int(h["bits"]),
                "word_ngrams": [int(v) for v in h["word_ngrams"]],
                "char_ngrams": [int(v) for v in h["char_ngrams"]],
                "tokenizer": str(h["tokenizer"]),
                "alternate_sign": bool(h["alternate_sign"]),
            },
        }
    except (KeyError, TypeError) as e:
        raise ValueError(f"malformed feature schema: {e!r}") from e
    if not 0 <= out["hashing"]["bits"] <= 31:
        raise ValueError("hashing.bits must be in 0..=31")
    if len(set(out["names"])) != len(out["names"]):
        raise ValueError("feature names must be unique")
    return out


def canonical_schema_json(schema: dict) -> str:
    """The canonical JSON text of a schema (same bytes as chatguard's FeatureSchema::canonical_json)."""
    return json.dumps(normalize_schema(schema), ensure_ascii=False, separators=(",", ":"))


def schema_fingerprint(schema: dict) -> str:
    """FNV-1a 64 of the canonical JSON, as 16 lowercase hex digits."""
    h = 0xCBF29CE484222325
    for b in canonical_schema_json(schema).encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def dimension(schema: dict) -> int:
    """Named features plus 2**bits hashed columns."""
    s = normalize_schema(schema)
    return len(s["names"]) + (1 << s["hashing"]["bits"])


def read_schema(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return normalize_schema(json.load(f))


# --------------------------------------------------------------------------- svmlight


def read_svmlight(path: str, schema: dict):
    """Reads an svmlight file as written by ``chatguard features``: zero-based indices over the
    full dimension, float32 values. Returns (X as CSR float64 holding float32 values, y)."""
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(path, n_features=dimension(schema), zero_based=True, dtype=np.float64)
    X = to_float32_values(X)
    return X, y.astype(np.int64)


def write_svmlight(path: str, X, y) -> None:
    """Writes rows as ``label idx:val ...``, values as the shortest text that reads back to the
    same float32 (read them as float32, or round to float32 after reading as float64)."""
    X = sp.csr_matrix(X)
    X.sort_indices()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(X.shape[0]):
            lo, hi = X.indptr[i], X.indptr[i + 1]
            parts = [str(int(y[i]))]
            for j, v in zip(X.indices[lo:hi], X.data[lo:hi]):
                if v != 0:
                    parts.append(f"{int(j)}:{float32_text(v)}")
            f.write(" ".join(parts) + "\n")


def float32_text(v) -> str:
    """Shortest decimal text that parses back to the same float32."""
    text = np.format_float_positional(np.float32(v), unique=True, trim="-")
    if len(text) > 12:
        text = np.format_float_scientific(np.float32(v), unique=True, trim="-")
    return text


def to_float32_values(X):
    """X with every value rounded to float32 (kept in float64), zeros dropped from sparse X."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64, copy=True)
        X.data = X.data.astype(np.float32).astype(np.float64)
        X.eliminate_zeros()
        X.sort_indices()
        return X
    return np.asarray(X, dtype=np.float32).astype(np.float64)


# --------------------------------------------------------------------------- export


def export(estimator, schema: dict, path: str, golden_X=None, golden_texts=None, *, name=None,
           description=None, golden_rows=DEFAULT_GOLDEN_ROWS) -> dict:
    """Writes a fitted scikit-learn estimator as a chatguard model file at ``path``.

    ``golden_X``: rows (dense or sparse, full dimension) to record with the estimator's
    probability; at most ``golden_rows`` are used, plus an all-zero row. Returns the document.
    """
    schema = normalize_schema(schema)
    dim = dimension(schema)
    _check_binary(estimator)
    n_in = getattr(estimator, "n_features_in_", dim)
    if n_in != dim:
        raise ValueError(f"the estimator was fitted on {n_in} features, the schema has {dim}")
    model = _model_section(estimator, dim)
    golden = _golden(lambda X: estimator.predict_proba(X)[:, 1], golden_X, golden_texts, dim, golden_rows)
    return _write(path, schema, model, golden, name, description, _producer(estimator))


def export_xgboost(booster, schema: dict, path: str, golden_X=None, golden_texts=None, *,
                   input: str = "sparse", name=None, description=None,
                   golden_rows=DEFAULT_GOLDEN_ROWS) -> dict:
    """Writes an XGBoost binary:logistic booster (or XGBClassifier) as a chatguard model file.

    ``input`` is "sparse" when the booster was trained on sparse matrices (svmlight files:
    absent entries, which chatguard sees as 0.0, are missing values) or "dense" (only NaN is
    missing). Golden probabilities are computed on the same kind of input.
    """
    import xgboost as xgb

    if input not in ("sparse", "dense"):
        raise ValueError('input must be "sparse" or "dense"')
    if hasattr(booster, "get_booster"):
        booster = booster.get_booster()
    schema = normalize_schema(schema)
    dim = dimension(schema)
    if booster.num_features() > dim:
        raise ValueError(f"the booster uses {booster.num_features()} features, the schema has {dim}")
    native = json.loads(bytes(booster.save_raw(raw_format="json")).decode("utf-8"))

    def proba(X):
        if input == "sparse":
            X = sp.csr_matrix(X)
            X.eliminate_zeros()
        else:
            X = X.toarray() if sp.issparse(X) else np.asarray(X)
        return booster.predict(xgb.DMatrix(X)).astype(np.float64)

    golden = _golden(proba, golden_X, golden_texts, dim, golden_rows)
    model = {"xgboost": {"input": input, "booster": native}}
    return _write(path, schema, model, golden, name, description, f"xgboost {xgb.__version__}")


def export_lightgbm(booster, schema: dict, path: str, golden_X=None, golden_texts=None, *,
                    name=None, description=None, golden_rows=DEFAULT_GOLDEN_ROWS) -> dict:
    """Writes a LightGBM binary booster (or LGBMClassifier) as a chatguard model file."""
    import lightgbm as lgb

    if hasattr(booster, "booster_"):
        booster = booster.booster_
    schema = normalize_schema(schema)
    dim = dimension(schema)
    if booster.num_feature() > dim:
        raise ValueError(f"the booster uses {booster.num_feature()} features, the schema has {dim}")
    text = booster.model_to_string()
    golden = _golden(lambda X: np.asarray(booster.predict(X), dtype=np.float64), golden_X,
                     golden_texts, dim, golden_rows)
    model = {"lightgbm": {"text": text}}
    return _write(path, schema, model, golden, name, description, f"lightgbm {lgb.__version__}")


# --------------------------------------------------------------------------- estimators


def _check_binary(estimator):
    classes = getattr(estimator, "classes_", None)
    if classes is None or len(classes) != 2:
        raise ValueError("only fitted binary classifiers can be exported (classes_ must have 2 entries)")


def _unwrap(estimator):
    # CalibratedClassifierCV(ensemble=False) and prefit calibration may wrap the estimator.
    while type(estimator).__name__ == "FrozenEstimator":
        estimator = estimator.estimator
    return estimator


def _model_section(estimator, dim):
    kind = type(estimator).__name__
    if kind == "LogisticRegression":
        return {"linear": _linear(estimator, dim)}
    if kind == "CalibratedClassifierCV":
        return {"calibrated_linear": {"members": [_calibrated_member(cc, dim)
                                                  for cc in estimator.calibrated_classifiers_]}}
    if kind == "DecisionTreeClassifier":
        return {"tree": _tree(estimator.tree_, _proba_leaf)}
    if kind in ("RandomForestClassifier", "ExtraTreesClassifier"):
        return {"tree_ensemble": {
            "aggregate": "mean", "link": "identity", "base_margin": 0.0,
            "trees": [_tree(t.tree_, _proba_leaf) for t in estimator.estimators_],
        }}
    if kind == "GradientBoostingClassifier":
        return {"tree_ensemble": _gradient_boosting(estimator, dim)}
    raise TypeError(f"cannot export {kind}; see the module docstring for supported estimators")


def _linear(lr, dim):
    lr = _unwrap(lr)
    if type(lr).__name__ != "LogisticRegression":
        raise TypeError(f"calibrated members must be LogisticRegression, not {type(lr).__name__}")
    coef = np.asarray(lr.coef_, dtype=np.float64)
    if coef.shape != (1, dim):
        raise ValueError(f"expected a binary logistic regression over {dim} features, coef_ is {coef.shape}")
    nz = np.flatnonzero(coef[0])
    return {
        "intercept": float(np.asarray(lr.intercept_, dtype=np.float64).reshape(-1)[0]),
        "weights": [[int(j), float(coef[0, j])] for j in nz],
    }


def _calibrated_member(cc, dim):
    if getattr(cc, "method", "sigmoid") not in ("sigmoid", "isotonic"):
        raise TypeError(f"calibration method {cc.method!r} is not supported (sigmoid, isotonic)")
    if len(cc.calibrators) != 1:
        raise ValueError("expected one calibrator per member (a binary problem)")
    cal = cc.calibrators[0]
    cname = type(cal).__name__
    if cname == "_SigmoidCalibration":
        calibrator = {"sigmoid": {"a": float(cal.a_), "b": float(cal.b_)}}
    elif cname == "IsotonicRegression":
        if getattr(cal, "out_of_bounds", "clip") != "clip":
            raise ValueError("isotonic calibrators must clip out-of-bounds values")
        x = np.asarray(cal.X_thresholds_, dtype=np.float64)
        y = np.asarray(cal.y_thresholds_, dtype=np.float64)
        calibrator = {"isotonic": {"x": [float(v) for v in x], "y": [float(v) for v in y]}}
    else:
        raise TypeError(f"calibrator {cname} is not supported")
    return {"linear": _linear(cc.estimator, dim), "calibrator": calibrator}


def _proba_leaf(value):
    # What DecisionTreeClassifier.predict_proba computes: the class-1 share of the leaf.
    v = np.asarray(value[0], dtype=np.float64)
    total = v.sum()
    if total == 0.0:
        total = 1.0
    return float(v[1] / total)


def _tree(tree, leaf_value):
    """Nodes in preorder (children after parents), as chatguard wants them."""
    left, right = tree.children_left, tree.children_right
    feature, threshold, value = tree.feature, tree.threshold, tree.value
    missing_left = getattr(tree, "missing_go_to_left", None)
    order, stack = [], [0]
    while stack:
        i = stack.pop()
        order.append(i)
        if left[i] != -1:
            stack.append(int(right[i]))
            stack.append(int(left[i]))
    position = {node: k for k, node in enumerate(order)}
    nodes = []
    for i in order:
        if left[i] == -1:
            nodes.append({"leaf": leaf_value(value[i])})
        else:
            node = {"feature": int(feature[i]), "threshold": float(threshold[i]),
                    "left": position[int(left[i])], "right": position[int(right[i])]}
            if missing_left is not None and missing_left[i]:
                node["missing"] = "left"
            nodes.append(node)
    return {"nodes": nodes}


def _gradient_boosting(gb, dim):
    loss = getattr(gb, "loss", "log_loss")
    if loss not in ("log_loss", "deviance"):
        raise TypeError(f"GradientBoostingClassifier loss {loss!r} is not supported (log_loss)")
    init = gb.init_
    if not (init == "zero" or (type(init).__name__ == "DummyClassifier" and init.strategy == "prior")):
        raise TypeError("only the default (prior) or 'zero' init estimator is supported")
    base = float(gb._raw_predict_init(np.zeros((1, dim), dtype=np.float32))[0, 0])
    scale = float(gb.learning_rate)
    # sklearn adds learning_rate * value at each leaf; the product is stored as the leaf.
    trees = [_tree(est[0].tree_, lambda v: float(scale * float(v[0][0]))) for est in gb.estimators_]
    return {"aggregate": "sum", "link": "logistic", "base_margin": base, "trees": trees}


def _producer(estimator):
    import sklearn

    return f"{EXPORTER}; scikit-learn {sklearn.__version__}; {type(estimator).__name__}"


# --------------------------------------------------------------------------- golden checks


def _golden(proba, golden_X, golden_texts, dim, max_rows):
    if golden_X is None:
        if golden_texts is not None:
            raise ValueError("golden_texts needs golden_X: the chatguard features of those texts")
        warnings.warn("no golden_X given: the model file gets only an all-zero golden check")
        X = sp.csr_matrix((0, dim))
    else:
        X = sp.csr_matrix(golden_X)
        if X.shape[1] != dim:
            raise ValueError(f"golden_X has {X.shape[1]} columns, the schema has {dim}")
        X = X[:max_rows]
    texts = list(golden_texts)[: X.shape[0]] if golden_texts is not None else None
    if texts is not None and len(texts) != X.shape[0]:
        raise ValueError("golden_texts must have one text per golden row")
    X32 = to_float32_values(X)
    if X.shape[0] and abs(X32 - X).max() > 0:
        warnings.warn("golden_X had values that are not float32; checks use the float32-rounded rows")
    X32 = sp.vstack([X32, sp.csr_matrix((1, dim))]).tocsr()
    p = proba(X32)
    checks = []
    for i in range(X32.shape[0]):
        lo, hi = X32.indptr[i], X32.indptr[i + 1]
        check = {"features": [[int(j), float(v)] for j, v in zip(X32.indices[lo:hi], X32.data[lo:hi])]}
        if texts is not None and i < len(texts):
            check["text"] = str(texts[i])
        check["proba"] = float(p[i])
        if not math.isfinite(check["proba"]):
            raise ValueError(f"golden row {i}: the estimator gave a non-finite probability")
        checks.append(check)
    return checks


# --------------------------------------------------------------------------- writing


def _write(path, schema, model, golden, name, description, producer):
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION}
    if name is not None:
        doc["name"] = name
    if description is not None:
        doc["description"] = description
    doc["producer"] = producer
    doc["schema"] = schema
    doc["schema_fingerprint"] = schema_fingerprint(schema)
    doc["model"] = model
    doc["golden"] = golden
    text = _dumps(doc) + "\n"
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return doc


def _is_flat(v):
    """Scalars, and lists/dicts of scalars or of short scalar lists, go on one line."""
    if isinstance(v, (list, tuple)):
        return all(not isinstance(x, (list, tuple, dict)) or (isinstance(x, (list, tuple)) and len(x) <= 2
                                                               and all(not isinstance(y, (list, dict)) for y in x))
                   for x in v)
    if isinstance(v, dict):
        return all(not isinstance(x, (list, tuple, dict)) for x in v.values())
    return True


def _dumps(v, indent=0):
    """Readable, diffable JSON: one tree node, weight list or golden check per line."""
    enc = lambda x: json.dumps(x, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    pad, inner = " " * indent, " " * (indent + 2)
    if _is_flat(v) or (isinstance(v, dict) and "features" in v and "proba" in v):
        return enc(v)
    if isinstance(v, dict):
        items = [f"{inner}{json.dumps(k)}: {_dumps(x, indent + 2)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [f"{inner}{_dumps(x, indent + 2)}" for x in v]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"
