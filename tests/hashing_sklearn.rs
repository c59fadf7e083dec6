//! chatguard's hashing and schema fingerprint against what Python computes.
//!
//! `fixtures/hashing/sklearn_murmur3.jsonl` comes from `tools/gen_hashing_fixture.py`
//! (scikit-learn's `murmurhash3_32`, `FeatureHasher`, `HashingVectorizer` on a corpus with
//! Unicode, emoji and URLs); `fixtures/models/schema_fingerprints.jsonl` from
//! `tools/gen_schema_fixture.py` (`chatguard_export.schema_fingerprint`).

use std::collections::BTreeMap;
use std::path::Path;

use chatguard::features::hashing::{murmurhash3_32, FeatureHasher};
use chatguard::features::schema::FeatureSchema;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Case {
    Hash {
        token: String,
        seed: u32,
        hash: i32,
    },
    Slot {
        token: String,
        bits: u8,
        index: u32,
        sign: i8,
    },
    Doc {
        text: String,
        bits: u8,
        tokens: Vec<String>,
        row: Vec<(u32, f64)>,
    },
}

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn hashing_matches_scikit_learn() {
    let text = fixture("fixtures/hashing/sklearn_murmur3.jsonl");
    let (mut hashes, mut slots, mut docs, mut minimum_seen) = (0, 0, 0, false);
    for (n, line) in text.lines().enumerate() {
        let case: Case =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        match case {
            Case::Hash { token, seed, hash } => {
                assert_eq!(
                    murmurhash3_32(token.as_bytes(), seed),
                    hash,
                    "line {}: {token:?} seed {seed}",
                    n + 1
                );
                minimum_seen |= hash == i32::MIN;
                hashes += 1;
            }
            Case::Slot {
                token,
                bits,
                index,
                sign,
            } => {
                let slot = FeatureHasher::new(0, bits, true).slot(&token);
                assert_eq!(
                    (slot.index, slot.sign),
                    (index, f32::from(sign)),
                    "line {}: {token:?} bits {bits}",
                    n + 1
                );
                slots += 1;
            }
            Case::Doc {
                text,
                bits,
                tokens,
                row,
            } => {
                // Hash each n-gram from its words and the joining spaces, with no buffer, and
                // sum the signed ones per column, as HashingVectorizer does.
                let vectorizer = FeatureHasher::new(0, bits, true);
                let mut columns: BTreeMap<u32, f64> = BTreeMap::new();
                for token in &tokens {
                    let mut h = vectorizer.start();
                    for (k, word) in token.split(' ').enumerate() {
                        if k > 0 {
                            h.write(b" ");
                        }
                        h.write(word.as_bytes());
                    }
                    let slot = vectorizer.slot_of_hash(h.finish());
                    assert_eq!(slot, vectorizer.slot(token));
                    *columns.entry(slot.index).or_default() += f64::from(slot.sign);
                }
                columns.retain(|_, v| *v != 0.0);
                let expected: BTreeMap<u32, f64> =
                    row.into_iter().filter(|(_, v)| *v != 0.0).collect();
                assert_eq!(columns, expected, "line {}: {text:?}", n + 1);
                docs += 1;
            }
        }
    }
    assert!(minimum_seen, "the fixture must pin the i32::MIN case");
    assert!(
        hashes > 1000 && slots > 1000 && docs > 100,
        "{hashes} {slots} {docs}"
    );
}

#[derive(Deserialize)]
struct SchemaCase {
    schema: FeatureSchema,
    canonical: String,
    fingerprint: String,
}

#[test]
fn schema_fingerprint_matches_python() {
    let text = fixture("fixtures/models/schema_fingerprints.jsonl");
    let mut n = 0;
    for line in text.lines() {
        let case: SchemaCase = serde_json::from_str(line).unwrap();
        assert_eq!(case.schema.canonical_json(), case.canonical);
        assert_eq!(case.schema.fingerprint(), case.fingerprint);
        n += 1;
    }
    assert!(n >= 3);
}
