"""Writes the model files under fixtures/models/bad/ that the loader must refuse
(tests/model_load.rs says how). Each is a small valid model with one thing broken.

    python3 tools/gen_bad_fixtures.py      # needs only the standard library
"""

import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import chatguard_export as cx  # noqa: E402  (numpy/scipy are imported but not used here)

ROOT = os.path.join(HERE, "..", "fixtures", "models")
OUT = os.path.join(ROOT, "bad")


def base_tree():
    with open(os.path.join(ROOT, "doc_example.json"), encoding="utf-8") as f:
        return json.load(f)


def base_linear():
    doc = base_tree()
    doc["model"] = {"linear": {"intercept": -1.0, "weights": [[1, 2.0], [3, -0.5]]}}
    # url_count = 1 and hashed column 1 (index 3) = 1: -1 + 2 - 0.5 = 0.5
    doc["golden"] = [{"features": [[1, 1.0], [3, 1.0]], "proba": 0.6224593312018546}]
    return doc


def write(name, doc=None, text=None):
    if text is None:
        text = cx._dumps(doc) + "\n"
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write(text)


def main():
    os.makedirs(OUT, exist_ok=True)

    # Trained for another schema: a name renamed, one added, and 4 hashing bits instead of 2.
    doc = base_tree()
    doc["schema"]["names"] = ["len_chars", "link_count", "caps_ratio"]
    doc["schema"]["hashing"]["bits"] = 4
    doc["schema_fingerprint"] = cx.schema_fingerprint(doc["schema"])
    write("other_schema.json", doc)

    # Cut in the middle of the model.
    full = cx._dumps(base_tree()) + "\n"
    write("truncated.json", text=full[: len(full) // 2])

    # Python's json writes NaN unless allow_nan=False; JSON has no NaN.
    doc = base_linear()
    text = cx._dumps(doc).replace("[3, -0.5]", "[3, NaN]")
    write("nan_weight.json", text=text + "\n")

    # A number too large for a float64 is infinite.
    text = cx._dumps(base_linear()).replace("[3, -0.5]", "[3, 1e999]")
    write("infinite_weight.json", text=text + "\n")

    # Dimension is 2 names + 2**2 hashed = 6, so index 6 is outside.
    doc = base_linear()
    doc["model"]["linear"]["weights"].append([6, 0.25])
    write("feature_out_of_range.json", doc)

    doc = base_tree()
    doc["model"]["tree_ensemble"]["trees"][0]["nodes"][0]["feature"] = 1000
    write("tree_feature_out_of_range.json", doc)

    # Node 2 splits again and its left child points back to node 1: a cycle risk.
    doc = base_tree()
    doc["model"]["tree_ensemble"]["trees"][0]["nodes"] = [
        {"feature": 1, "threshold": 0.5, "left": 1, "right": 2},
        {"leaf": -0.4},
        {"feature": 0, "threshold": 10.0, "left": 1, "right": 3},
        {"leaf": 2.1},
    ]
    write("backward_child.json", doc)

    # A node that is its own child.
    doc = base_tree()
    doc["model"]["tree_ensemble"]["trees"][0]["nodes"][0]["left"] = 0
    write("self_child.json", doc)

    # A node with both a leaf value and a threshold.
    doc = base_tree()
    doc["model"]["tree_ensemble"]["trees"][0]["nodes"][1]["threshold"] = 0.5
    write("leaf_with_threshold.json", doc)

    # The golden check's probability was edited: the model no longer scores as exported.
    doc = base_tree()
    doc["golden"][0]["proba"] = 0.65
    write("golden_mismatch.json", doc)

    # The schema was edited by hand but not its fingerprint.
    doc = base_tree()
    doc["schema"]["version"] = 2
    write("stale_fingerprint.json", doc)

    # A future format version.
    doc = base_tree()
    doc["format_version"] = 2
    write("future_version.json", doc)

    # Deeper than the default depth limit (64): a chain of 70 splits.
    doc = base_tree()
    nodes = []
    for d in range(70):
        nodes.append({"feature": 0, "threshold": float(d), "left": len(nodes) + 1, "right": len(nodes) + 2})
        nodes.append({"leaf": 0.0})
        # left child is the leaf just appended, right is the next split
        nodes[-2]["left"], nodes[-2]["right"] = len(nodes) - 1, len(nodes)
    nodes.append({"leaf": 1.0})
    doc["model"]["tree_ensemble"]["trees"][0]["nodes"] = nodes
    doc["golden"] = [{"features": [], "proba": 1 / (1 + 2.718281828459045 ** 1.5)}]
    write("too_deep.json", doc)

    print(f"wrote {len(os.listdir(OUT))} files to {OUT}")


if __name__ == "__main__":
    main()
