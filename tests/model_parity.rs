//! Parity with the Python libraries: every exported model must give, on every held-out row,
//! the probability scikit-learn (or XGBoost, LightGBM) gave, within 1e-6.
//!
//! The fixtures come from `tools/parity.py`: committed ones under `fixtures/models/parity`,
//! or a fresh export in the directory named by `CHATGUARD_PARITY_DIR` (CI builds a venv from
//! `tools/requirements.txt` and sets it; see `tools/ci_model_parity.sh`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chatguard::features::schema::FeatureSchema;
use chatguard::model::{FeatureRow, Loader, ModelKind};

const TOLERANCE: f64 = 1e-6;

/// The kinds the committed fixtures must cover, and the model kind each loads as.
const REQUIRED: &[(&str, ModelKind)] = &[
    ("linear", ModelKind::Linear),
    ("calibrated_sigmoid", ModelKind::CalibratedLinear),
    ("calibrated_isotonic", ModelKind::CalibratedLinear),
    ("tree", ModelKind::Tree),
    ("forest", ModelKind::TreeEnsemble),
    ("gradient_boosting", ModelKind::TreeEnsemble),
    ("xgboost", ModelKind::Xgboost),
    ("lightgbm", ModelKind::Lightgbm),
];

struct Row {
    named: Vec<f32>,
    hashed: Vec<(u32, f32)>,
}

fn parity_dir() -> (PathBuf, bool) {
    match std::env::var_os("CHATGUARD_PARITY_DIR") {
        Some(dir) if !dir.is_empty() => (PathBuf::from(dir), true),
        _ => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models/parity"),
            false,
        ),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses svmlight rows (`label idx:val ...`, zero-based, float32 values) into rows split
/// at the hashed block.
fn read_svmlight(path: &Path, named: usize) -> Vec<Row> {
    read(path)
        .lines()
        .enumerate()
        .map(|(n, line)| {
            let mut row = Row {
                named: vec![0.0; named],
                hashed: Vec::new(),
            };
            for item in line.split_ascii_whitespace().skip(1) {
                let (j, v) = item
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}:{}: bad item {item:?}", path.display(), n + 1));
                let j: usize = j.parse().unwrap();
                let v: f32 = v.parse().unwrap();
                if j < named {
                    row.named[j] = v;
                } else {
                    row.hashed.push((u32::try_from(j - named).unwrap(), v));
                }
            }
            assert!(
                row.hashed.windows(2).all(|w| w[0].0 < w[1].0),
                "line {}: unsorted",
                n + 1
            );
            row
        })
        .collect()
}

fn read_expected(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = read(path);
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split('\t')
        .skip(2)
        .map(str::to_owned)
        .collect();
    let mut columns = vec![Vec::new(); header.len()];
    for line in lines {
        for (k, cell) in line.split('\t').skip(2).enumerate() {
            columns[k].push(cell.parse::<f64>().unwrap());
        }
    }
    (header, columns)
}

/// Checks every model of `dir` on the row set `set` (`<set>.svm`, `<set>_proba.tsv`),
/// returning per kind the number of rows and the largest difference.
fn check_set(
    dir: &Path,
    set: &str,
    schema: &FeatureSchema,
    fresh: bool,
    failures: &mut Vec<String>,
) -> BTreeMap<String, (usize, f64)> {
    let named = schema.names.len();
    let rows = read_svmlight(&dir.join(format!("{set}.svm")), named);
    let (kinds, expected) = read_expected(&dir.join(format!("{set}_proba.tsv")));
    assert!(rows.len() >= 1000, "{set}: only {} rows", rows.len());
    if !fresh {
        for (kind, _) in REQUIRED {
            assert!(
                kinds.iter().any(|k| k == kind),
                "committed fixtures lack {kind}"
            );
        }
    }
    let mut loader = Loader::new();
    loader.expect_schema(schema.clone());

    let mut report = BTreeMap::new();
    for (kind, want) in kinds.iter().zip(&expected) {
        assert_eq!(want.len(), rows.len(), "{set} {kind}: row count");
        let model = loader
            .load_path(dir.join(format!("{kind}.json")))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        if let Some((_, expected_kind)) = REQUIRED.iter().find(|(k, _)| k == kind) {
            assert_eq!(model.kind(), *expected_kind, "{kind}");
        }
        assert!(
            model.golden_summary().checked > 0,
            "{kind}: no golden checks ran"
        );
        let mut max = 0.0f64;
        let mut dense = vec![0.0f32; schema.dimension()];
        for (i, (row, &p_python)) in rows.iter().zip(want).enumerate() {
            let p = model.predict_proba(FeatureRow::new(&row.named, &row.hashed));
            let diff = (p - p_python).abs();
            max = max.max(diff);
            let within = diff <= TOLERANCE; // false for NaN too
            if !within && failures.len() < 20 {
                failures.push(format!(
                    "{set} {kind} row {i}: chatguard {p}, python {p_python}, diff {diff:e}"
                ));
            }
            // The same row as one dense slice over the full dimension scores the same.
            if i % 50 == 0 {
                dense.fill(0.0);
                dense[..named].copy_from_slice(&row.named);
                for &(h, v) in &row.hashed {
                    dense[named + h as usize] = v;
                }
                let p_dense = model.predict_proba_dense(&dense);
                assert!(
                    (p_dense - p).abs() <= 1e-12,
                    "{set} {kind} row {i}: dense {p_dense} vs sparse {p}"
                );
            }
        }
        report.insert(kind.clone(), (rows.len(), max));
    }
    report
}

#[test]
fn every_model_matches_python_on_every_row() {
    let (dir, fresh) = parity_dir();
    let schema: FeatureSchema = serde_json::from_str(&read(&dir.join("schema.json"))).unwrap();
    let mut failures = Vec::new();
    println!("parity against {}:", dir.display());
    for set in ["heldout", "edges"] {
        for (kind, (n, max)) in check_set(&dir, set, &schema, fresh, &mut failures) {
            println!("  {set:8} {kind:20} rows {n:5}  max |chatguard - python| = {max:.3e}");
        }
    }
    assert!(
        failures.is_empty(),
        "rows off by more than {TOLERANCE}:\n{}",
        failures.join("\n")
    );
}
