//! The loader and importers never panic, whatever the bytes: random input, and valid files
//! with bytes flipped, cut or inserted. (The committed fixtures are the seeds.)

use std::path::Path;

use chatguard::features::schema::FeatureSchema;
use chatguard::model::{Loader, XgboostInput};
use proptest::prelude::*;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/models")
            .join(rel),
    )
    .unwrap()
}

fn schema() -> FeatureSchema {
    serde_json::from_slice(&fixture("parity/schema.json")).unwrap()
}

/// A valid file with a few edits: (position, byte) overwrites, then a cut.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(at, b) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = b;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
    bytes
}

/// Bytes that look like JSON numbers and structure, so edits reach deep into the loader.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'0'),
        Just(b'9'),
        Just(b'-'),
        Just(b'e'),
        Just(b'.'),
        Just(b'['),
        Just(b']'),
        Just(b'{'),
        Just(b'}'),
        Just(b','),
        Just(b'"'),
        Just(b'\n'),
        any::<u8>(),
    ]
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    proptest::collection::vec((any::<usize>(), interesting_byte()), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Loader::new().load_slice("x.json", &bytes);
        let _ = Loader::new().import_lightgbm_text("x.txt", &bytes, schema());
        let _ = Loader::new().import_xgboost_json("x.json", &bytes, schema(), XgboostInput::Sparse);
    }

    #[test]
    fn edited_model_files(
        file in prop_oneof![
            Just("doc_example.json"),
            Just("parity/tree.json"),
            Just("parity/gradient_boosting.json"),
            Just("bad/backward_child.json"),
        ],
        edits in edits(),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let bytes = mutate(fixture(file), &edits, cut);
        let _ = Loader::new().load_slice(file, &bytes);
    }

    #[test]
    fn edited_native_models(edits in edits(), cut in proptest::option::of(any::<usize>())) {
        let doc: serde_json::Value = serde_json::from_slice(&fixture("parity/lightgbm.json")).unwrap();
        let text = doc["model"]["lightgbm"]["text"].as_str().unwrap().as_bytes().to_vec();
        let _ = Loader::new().import_lightgbm_text("m.txt", &mutate(text, &edits, cut), schema());

        let doc: serde_json::Value = serde_json::from_slice(&fixture("parity/xgboost.json")).unwrap();
        let json = serde_json::to_vec(&doc["model"]["xgboost"]["booster"]).unwrap();
        let _ = Loader::new().import_xgboost_json("m.json", &mutate(json, &edits, cut), schema(), XgboostInput::Dense);
    }
}
