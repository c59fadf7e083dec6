//! Scoring allocates nothing: every model kind, after loading, scores rows with zero heap
//! allocations (counted by a global allocator wrapper).

use std::path::Path;

mod common;

use chatguard::model::{FeatureRow, Model};
use common::counting_alloc::allocations;

#[global_allocator]
static GLOBAL: common::counting_alloc::Counting = common::counting_alloc::Counting;

/// Named features and hashed entries of one row.
type Row = (Vec<f32>, Vec<(u32, f32)>);

#[test]
fn scoring_does_not_allocate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models/parity");
    let kinds = [
        "linear",
        "calibrated_sigmoid",
        "calibrated_isotonic",
        "tree",
        "forest",
        "gradient_boosting",
        "xgboost",
        "lightgbm",
    ];
    let models: Vec<Model> = kinds
        .iter()
        .map(|k| Model::from_path(dir.join(format!("{k}.json"))).unwrap())
        .collect();
    let named = models[0].schema().names.len();
    // Rows from the golden checks, split into named and hashed parts before counting.
    let mut rows: Vec<Row> = Vec::new();
    for check in models[0].golden_checks() {
        let mut dense = vec![0.0; named];
        let mut hashed = Vec::new();
        for &(j, v) in check.features().unwrap() {
            if (j as usize) < named {
                dense[j as usize] = v;
            } else {
                hashed.push((j - u32::try_from(named).unwrap(), v));
            }
        }
        rows.push((dense, hashed));
    }
    let before = allocations();
    let mut sum = 0.0;
    for model in &models {
        for (dense, hashed) in &rows {
            sum += model.predict_proba(FeatureRow::new(dense, hashed));
        }
    }
    let after = allocations();
    assert!(sum > 0.0);
    assert_eq!(
        after - before,
        0,
        "scoring allocated {} times",
        after - before
    );
}
