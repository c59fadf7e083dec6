//! The loader refuses broken model files with an error that says what and where.
//!
//! Cases are the files under `fixtures/models/bad/` (made by `tools/gen_bad_fixtures.py`);
//! each row says which error category, location and message words the refusal must have.

#![allow(clippy::float_cmp)] // exact scores are the point

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatguard::features::schema::FeatureSchema;
use chatguard::model::{
    ErrorCategory, FeatureRow, Limits, Loader, Model, ModelKind, TextFeaturizer, XgboostInput,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models")
}

fn doc_schema() -> FeatureSchema {
    Model::from_path(fixtures().join("doc_example.json"))
        .expect("doc example loads")
        .schema()
        .clone()
}

/// Where the error must point.
enum At {
    Line(usize),
    Path(&'static str),
}

struct Case {
    file: &'static str,
    category: ErrorCategory,
    at: At,
    /// Words the displayed error must contain.
    says: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "other_schema.json",
        category: ErrorCategory::SchemaMismatch,
        at: At::Path("schema"),
        says: &[
            "another feature schema",
            "names added (expected but missing): \"url_count\" at 1",
            "names removed (present but not expected): \"link_count\" at 1, \"caps_ratio\" at 2",
            "hashing.bits: expected 2, got 4",
        ],
    },
    Case {
        file: "truncated.json",
        category: ErrorCategory::Syntax,
        at: At::Line(20),
        says: &["unexpected end of file: the file looks truncated"],
    },
    Case {
        file: "nan_weight.json",
        category: ErrorCategory::Syntax,
        at: At::Line(22),
        says: &["NaN is not a number JSON allows, expected a finite number"],
    },
    Case {
        file: "infinite_weight.json",
        category: ErrorCategory::Syntax,
        at: At::Line(22),
        says: &["number out of range"],
    },
    Case {
        file: "feature_out_of_range.json",
        category: ErrorCategory::Invalid,
        at: At::Path("model.linear.weights[2]"),
        says: &[
            "feature index 6 is out of range",
            "below the schema's dimension 6",
        ],
    },
    Case {
        file: "tree_feature_out_of_range.json",
        category: ErrorCategory::Invalid,
        at: At::Path("model.tree_ensemble.trees[0].nodes[0]"),
        says: &["feature index 1000 is out of range"],
    },
    Case {
        file: "backward_child.json",
        category: ErrorCategory::Invalid,
        at: At::Path("model.tree_ensemble.trees[0].nodes[2].left"),
        says: &[
            "child 1 points back to an earlier node",
            "children must come after their parent",
        ],
    },
    Case {
        file: "self_child.json",
        category: ErrorCategory::Invalid,
        at: At::Path("model.tree_ensemble.trees[0].nodes[0].left"),
        says: &["child 0 points back"],
    },
    Case {
        file: "leaf_with_threshold.json",
        category: ErrorCategory::Invalid,
        at: At::Path("model.tree_ensemble.trees[0].nodes[1]"),
        says: &["a leaf has a \"threshold\""],
    },
    Case {
        file: "golden_mismatch.json",
        category: ErrorCategory::GoldenMismatch,
        at: At::Path("golden[0].features"),
        says: &["chatguard scores 0.6456563062257954, the model file expects 0.65"],
    },
    Case {
        file: "stale_fingerprint.json",
        category: ErrorCategory::Invalid,
        at: At::Path("schema_fingerprint"),
        says: &["does not match the schema in the file"],
    },
    Case {
        file: "future_version.json",
        category: ErrorCategory::Format,
        at: At::Path("format_version"),
        says: &["format_version 2 is not supported, expected 1"],
    },
    Case {
        file: "too_deep.json",
        category: ErrorCategory::Limit,
        at: At::Path("model.tree_ensemble.trees[0].nodes[128].left"),
        says: &["deeper than 64"],
    },
];

#[test]
fn bad_files_are_refused_with_a_clear_error() {
    let mut loader = Loader::new();
    loader.expect_schema(doc_schema());
    for case in CASES {
        let path = fixtures().join("bad").join(case.file);
        let err = loader
            .load_path(&path)
            .expect_err(&format!("{} must be refused", case.file));
        let shown = err.to_string();
        assert_eq!(err.category(), case.category, "{}: {shown}", case.file);
        assert!(
            shown.starts_with(&path.display().to_string()),
            "{}: names the file: {shown}",
            case.file
        );
        assert!(err.file().ends_with(case.file));
        match case.at {
            At::Line(line) => {
                assert_eq!(err.line(), Some(line), "{}: {shown}", case.file);
                assert!(err.column().is_some());
                assert!(shown.contains(&format!("line {line}, column ")), "{shown}");
            }
            At::Path(p) => {
                assert_eq!(err.path(), Some(p), "{}: {shown}", case.file);
                assert!(shown.contains(&format!("at {p}: ")), "{shown}");
            }
        }
        for words in case.says {
            assert!(
                shown.contains(words),
                "{}: {shown:?} lacks {words:?}",
                case.file
            );
        }
        // Display is one lowercase sentence after the location (bar quoted names).
        assert!(!err.message().ends_with('.'), "{shown}");
    }
}

#[test]
fn schema_mismatch_is_only_refused_when_a_schema_is_expected() {
    let path = fixtures().join("bad/other_schema.json");
    let model = Loader::new().load_path(&path).expect("valid on its own");
    assert_eq!(model.schema().hashing.bits, 4);
    let err = Loader::new()
        .expect_schema(doc_schema())
        .load_path(&path)
        .unwrap_err();
    let diff = err.schema_diff().expect("a schema error carries its diff");
    assert!(!diff.is_empty());
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Loader::new()
        .load_path(fixtures().join("bad/no_such_file.json"))
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Io);
    assert!(err.to_string().contains("cannot read the file"), "{err}");
}

#[test]
fn size_limits_are_enforced() {
    let bytes = std::fs::read(fixtures().join("doc_example.json")).unwrap();
    let mut limits = Limits::default();
    limits.max_file_bytes = 100;
    let err = Loader::new()
        .limits(limits)
        .load_slice("doc.json", &bytes)
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Limit);
    assert_eq!(
        err.to_string(),
        "doc.json: the file is larger than 100 bytes, the configured limit"
    );

    let mut limits = Limits::default();
    limits.max_nodes = 2;
    let err = Loader::new()
        .limits(limits)
        .load_slice("doc.json", &bytes)
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Limit, "{err}");
    assert!(err.to_string().contains("more than 2 tree nodes"), "{err}");
}

#[test]
fn not_a_model_file() {
    for (bytes, says) in [
        (&b"{\"hello\": 1}"[..], "no \"format\" field"),
        (
            b"{\"format\": \"onnx\"}",
            "format is \"onnx\", expected \"chatguard-model\"",
        ),
        (b"", "truncated"),
        (b"{\"format\": \"chatguard-model\"", "truncated"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not a JSON object"),
        (
            b"{\"format\": \"chatguard-model\", \"format_version\": 1, \"surprise\": 1}",
            "unknown field `surprise`",
        ),
    ] {
        let err = Loader::new().load_slice("x.json", bytes).unwrap_err();
        assert!(err.to_string().contains(says), "{err} lacks {says:?}");
    }
}

#[test]
fn doc_example_loads_and_scores() {
    let model = Loader::new()
        .expect_schema(doc_schema())
        .load_path(fixtures().join("doc_example.json"))
        .unwrap();
    assert_eq!(model.kind(), ModelKind::TreeEnsemble);
    assert_eq!(model.name(), Some("spam"));
    let summary = model.golden_summary();
    assert_eq!((summary.checked, summary.skipped), (1, 0));
    assert_eq!(
        model.golden_checks()[0].text(),
        Some("win a prize at http://x.example")
    );
    // url_count = 0 goes left: expit(-1.5 - 0.4).
    let p = model.predict_proba(FeatureRow::new(&[3.0, 0.0], &[]));
    assert!((p - 1.0 / (1.0 + 1.9f64.exp())).abs() < 1e-15);
    // NaN goes right by default (no "missing": "left").
    let p_nan = model.predict_proba_dense(&[0.0, f32::NAN]);
    assert!((p_nan - 1.0 / (1.0 + (-0.6f64).exp())).abs() < 1e-15);
}

/// A stand-in extractor for the golden `text` hook: counts "http" as the URL feature.
struct CountUrls;

impl TextFeaturizer for CountUrls {
    fn featurize(&self, text: &str, named: &mut Vec<f32>, hashed: &mut Vec<(u32, f32)>) {
        named.clear();
        #[allow(clippy::cast_precision_loss)]
        named.extend([text.len() as f32, text.matches("http").count() as f32]);
        hashed.clear();
    }
}

/// Gives every text no URL, so the text checks of the doc example must fail.
struct NoUrls;

impl TextFeaturizer for NoUrls {
    fn featurize(&self, _: &str, named: &mut Vec<f32>, hashed: &mut Vec<(u32, f32)>) {
        named.clear();
        named.extend([0.0, 0.0]);
        hashed.clear();
    }
}

#[test]
fn text_checks_use_the_featurizer() {
    let path = fixtures().join("doc_example.json");
    let model = Loader::new()
        .text_featurizer(Arc::new(CountUrls))
        .load_path(&path)
        .unwrap();
    assert_eq!(model.golden_summary().checked, 2);
    let err = Loader::new()
        .text_featurizer(Arc::new(NoUrls))
        .load_path(&path)
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::GoldenMismatch);
    assert_eq!(err.path(), Some("golden[0].text"));
}

#[test]
fn text_only_checks_are_skipped_without_a_featurizer() {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("doc_example.json")).unwrap())
            .unwrap();
    doc["golden"][0].as_object_mut().unwrap().remove("features");
    let bytes = serde_json::to_vec(&doc).unwrap();
    let model = Loader::new().load_slice("t.json", &bytes).unwrap();
    assert_eq!(model.golden_summary().skipped, 1);
    assert_eq!(model.golden_summary().checked, 0);

    doc["golden"][0].as_object_mut().unwrap().remove("text");
    let err = Loader::new()
        .load_slice("t.json", &serde_json::to_vec(&doc).unwrap())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected \"features\", \"text\" or both"),
        "{err}"
    );
}

#[test]
fn standalone_imports() {
    let dir = fixtures().join("parity");
    let schema: FeatureSchema =
        serde_json::from_slice(&std::fs::read(dir.join("schema.json")).unwrap()).unwrap();

    // The booster embedded in the parity file, imported from its native JSON, scores the same.
    let exported = Model::from_path(dir.join("xgboost.json")).unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("xgboost.json")).unwrap()).unwrap();
    let native = serde_json::to_vec(&doc["model"]["xgboost"]["booster"]).unwrap();
    let imported = Loader::new()
        .import_xgboost_json("model.json", &native, schema.clone(), XgboostInput::Sparse)
        .unwrap();
    let lgb_doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("lightgbm.json")).unwrap()).unwrap();
    let text = lgb_doc["model"]["lightgbm"]["text"].as_str().unwrap();
    let lgb_exported = Model::from_path(dir.join("lightgbm.json")).unwrap();
    let lgb_imported = Loader::new()
        .import_lightgbm_text("model.txt", text.as_bytes(), schema.clone())
        .unwrap();
    for check in exported.golden_checks() {
        let mut dense = vec![0.0f32; schema.dimension()];
        for &(j, v) in check.features().unwrap() {
            dense[j as usize] = v;
        }
        assert_eq!(
            exported.predict_proba_dense(&dense),
            imported.predict_proba_dense(&dense)
        );
        assert_eq!(
            lgb_exported.predict_proba_dense(&dense),
            lgb_imported.predict_proba_dense(&dense)
        );
    }

    // A LightGBM text cut short is refused, not read as fewer trees.
    let cut = &text[..text.find("Tree=3").unwrap()];
    let err = Loader::new()
        .import_lightgbm_text("model.txt", cut.as_bytes(), schema.clone())
        .unwrap_err();
    assert!(err.to_string().contains("looks truncated"), "{err}");

    // Another objective is refused as unsupported.
    let other = text.replacen("objective=binary sigmoid:1", "objective=regression", 1);
    let err = Loader::new()
        .import_lightgbm_text("model.txt", other.as_bytes(), schema.clone())
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Unsupported, "{err}");
    assert!(err.line().is_some(), "{err}");

    let mut doc = doc["model"]["xgboost"]["booster"].clone();
    doc["learner"]["objective"]["name"] = "reg:squarederror".into();
    let err = Loader::new()
        .import_xgboost_json(
            "model.json",
            &serde_json::to_vec(&doc).unwrap(),
            schema,
            XgboostInput::Sparse,
        )
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Unsupported);
    assert_eq!(err.path(), Some("learner.objective.name"));
}

#[test]
fn public_types_are_thread_safe() {
    fn check<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    check::<Model>();
    check::<chatguard::model::Error>();
    check::<FeatureSchema>();
    check::<FeatureRow<'_>>();
}
