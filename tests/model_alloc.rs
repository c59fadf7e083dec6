//! Scoring allocates nothing: every model kind, after loading, scores rows with zero heap
//! allocations (counted by a global allocator wrapper).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chatguard::model::{FeatureRow, Model};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut sum = 0.0;
    for model in &models {
        for (dense, hashed) in &rows {
            sum += model.predict_proba(FeatureRow::new(dense, hashed));
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(sum > 0.0);
    assert_eq!(
        after - before,
        0,
        "scoring allocated {} times",
        after - before
    );
}
