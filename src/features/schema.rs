//! The feature schema: which features a vector holds, in which order, and how n-grams are
//! hashed.
//!
//! A feature vector has two blocks. The first holds the named features, one column per name,
//! in the schema's order. The second, starting at column `names.len()`, holds `2^bits` hashed
//! n-gram columns (see [`crate::features::hashing`]). A model is only meaningful for the
//! schema it was trained on, so every model file carries its schema and the loader compares it
//! with the one the extractor computes.
//!
//! # Canonical form and fingerprint
//!
//! [`FeatureSchema::canonical_json`] writes the schema as compact JSON with a fixed key order:
//!
//! ```text
//! {"version":1,"names":["len_chars","caps_ratio"],"hashing":{"seed":0,"bits":18,
//! "word_ngrams":[1,2],"char_ngrams":[2,4],"tokenizer":"words-v1","alternate_sign":true}}
//! ```
//!
//! (on one line). Strings are escaped as Python's
//! `json.dumps(obj, ensure_ascii=False, separators=(",", ":"))` escapes them, so Python
//! computes the same text. [`FeatureSchema::fingerprint`] is the FNV-1a 64-bit hash of its
//! UTF-8 bytes, written as 16 lowercase hex digits. `tools/chatguard_export.py` has the Python
//! twin (`schema_fingerprint`).
//!
//! ```
//! use chatguard::features::schema::{FeatureSchema, Hashing};
//!
//! let schema = FeatureSchema {
//!     version: 1,
//!     names: vec!["len_chars".into(), "caps_ratio".into()],
//!     hashing: Hashing { bits: 10, ..Hashing::default() },
//! };
//! assert_eq!(schema.dimension(), 2 + 1024);
//! assert_eq!(schema.hashed_offset(), 2);
//! assert_eq!(schema.fingerprint().len(), 16);
//! ```

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

/// The ordered named features and hashing parameters of a feature vector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSchema {
    /// Version of the feature definitions; bumped whenever any feature changes meaning.
    pub version: u32,
    /// The named (dense) features, in column order.
    pub names: Vec<String>,
    /// How n-grams are hashed into the block after the named features.
    pub hashing: Hashing,
}

/// Parameters of the hashed n-gram block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hashing {
    /// MurmurHash3 seed (scikit-learn's `HashingVectorizer` uses 0).
    pub seed: u32,
    /// The block has `2^bits` columns; at most 31.
    pub bits: u8,
    /// Smallest and largest word n-gram length; `(0, 0)` when word n-grams are not hashed.
    pub word_ngrams: (u8, u8),
    /// Smallest and largest character n-gram length; `(0, 0)` when they are not hashed.
    pub char_ngrams: (u8, u8),
    /// Name (and version) of the tokenizer that splits text into words.
    pub tokenizer: String,
    /// Whether a token's value is negated when its hash is negative.
    pub alternate_sign: bool,
}

impl Default for Hashing {
    /// Word unigrams and bigrams into `2^18` columns with seed 0 and alternate signs, like a
    /// default `HashingVectorizer(ngram_range=(1, 2))`.
    fn default() -> Hashing {
        Hashing {
            seed: 0,
            bits: 18,
            word_ngrams: (1, 2),
            char_ngrams: (0, 0),
            tokenizer: String::from("words-v1"),
            alternate_sign: true,
        }
    }
}

impl Hashing {
    /// The number of hashed columns, `2^bits`.
    #[must_use]
    pub fn n_features(&self) -> u32 {
        1u32 << self.bits.min(31)
    }
}

impl FeatureSchema {
    /// The index of the first hashed column: the number of named features.
    #[must_use]
    pub fn hashed_offset(&self) -> usize {
        self.names.len()
    }

    /// The total number of columns: named features plus `2^bits` hashed ones.
    #[must_use]
    pub fn dimension(&self) -> usize {
        self.names.len() + self.hashing.n_features() as usize
    }

    /// Checks the schema is usable: at most 31 bits, n-gram ranges in order, names non-empty
    /// and unique. Returns a lowercase sentence saying what is wrong.
    ///
    /// # Errors
    ///
    /// Returns the first problem found.
    pub fn check(&self) -> Result<(), String> {
        if self.hashing.bits > 31 {
            return Err(format!(
                "hashing.bits is {}, expected at most 31",
                self.hashing.bits
            ));
        }
        for (what, (lo, hi)) in [
            ("word_ngrams", self.hashing.word_ngrams),
            ("char_ngrams", self.hashing.char_ngrams),
        ] {
            if lo > hi || (lo == 0) != (hi == 0) {
                return Err(format!(
                    "hashing.{what} is ({lo}, {hi}), expected (min, max) with 1 <= min <= max, or (0, 0)"
                ));
            }
        }
        let mut seen = std::collections::HashSet::with_capacity(self.names.len());
        for (i, name) in self.names.iter().enumerate() {
            if name.is_empty() {
                return Err(format!("names[{i}] is empty, expected a feature name"));
            }
            if !seen.insert(name.as_str()) {
                return Err(format!("names[{i}] {name:?} appears twice"));
            }
        }
        Ok(())
    }

    /// The canonical JSON text the fingerprint is computed from (see the module docs).
    #[must_use]
    pub fn canonical_json(&self) -> String {
        let h = &self.hashing;
        let mut out = String::with_capacity(64 + 24 * self.names.len());
        let _ = write!(out, "{{\"version\":{},\"names\":[", self.version);
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, name);
        }
        let _ = write!(
            out,
            "],\"hashing\":{{\"seed\":{},\"bits\":{},\"word_ngrams\":[{},{}],\"char_ngrams\":[{},{}],\"tokenizer\":",
            h.seed, h.bits, h.word_ngrams.0, h.word_ngrams.1, h.char_ngrams.0, h.char_ngrams.1
        );
        push_json_string(&mut out, &h.tokenizer);
        let _ = write!(out, ",\"alternate_sign\":{}}}}}", h.alternate_sign);
        out
    }

    /// The schema's fingerprint: FNV-1a 64 of [`canonical_json`](Self::canonical_json) as 16
    /// lowercase hex digits.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("{:016x}", fnv1a_64(self.canonical_json().as_bytes()))
    }

    /// What differs between `self` (the expected schema) and `other` (for example the one a
    /// model file was trained on).
    #[must_use]
    pub fn diff(&self, other: &FeatureSchema) -> SchemaDiff {
        SchemaDiff::between(self, other)
    }
}

/// FNV-1a, 64-bit.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Writes `s` as a JSON string the way Python's `json.dumps(ensure_ascii=False)` does.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The differences between an expected schema and another one, printable for a person.
///
/// ```
/// use chatguard::features::schema::{FeatureSchema, Hashing};
///
/// let expected = FeatureSchema {
///     version: 2,
///     names: vec!["a".into(), "b".into(), "c".into()],
///     hashing: Hashing::default(),
/// };
/// let mut model = expected.clone();
/// model.version = 1;
/// model.names = vec!["b".into(), "a".into(), "old".into()];
/// model.hashing.bits = 16;
/// let diff = expected.diff(&model);
/// assert!(!diff.is_empty());
/// assert_eq!(
///     diff.to_string(),
///     "version: expected 2, got 1; \
///      names added (expected but missing): \"c\" at 2; \
///      names removed (present but not expected): \"old\" at 2; \
///      names moved: \"a\" expected at 0, got 1, \"b\" expected at 1, got 0; \
///      hashing.bits: expected 18, got 16"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaDiff {
    version: Option<(u32, u32)>,
    /// Names expected but absent, with their expected position.
    added: Vec<(String, usize)>,
    /// Names present but not expected, with their position.
    removed: Vec<(String, usize)>,
    /// Names in both, at different positions: (name, expected, got).
    moved: Vec<(String, usize, usize)>,
    /// Hashing parameters that differ: (name, expected, got), already formatted.
    hashing: Vec<(&'static str, String, String)>,
}

/// How many entries of each list the printed diff shows before summarizing the rest.
const DIFF_SHOWN: usize = 8;

impl SchemaDiff {
    fn between(expected: &FeatureSchema, got: &FeatureSchema) -> SchemaDiff {
        use std::collections::HashMap;
        let mut diff = SchemaDiff::default();
        if expected.version != got.version {
            diff.version = Some((expected.version, got.version));
        }
        let expected_at: HashMap<&str, usize> = expected
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let got_at: HashMap<&str, usize> = got
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        for (i, name) in expected.names.iter().enumerate() {
            match got_at.get(name.as_str()) {
                None => diff.added.push((name.clone(), i)),
                Some(&j) if j != i => diff.moved.push((name.clone(), i, j)),
                Some(_) => {}
            }
        }
        for (j, name) in got.names.iter().enumerate() {
            if !expected_at.contains_key(name.as_str()) {
                diff.removed.push((name.clone(), j));
            }
        }
        let (e, g) = (&expected.hashing, &got.hashing);
        let mut param = |name: &'static str, a: String, b: String| {
            if a != b {
                diff.hashing.push((name, a, b));
            }
        };
        param("hashing.seed", e.seed.to_string(), g.seed.to_string());
        param("hashing.bits", e.bits.to_string(), g.bits.to_string());
        param(
            "hashing.word_ngrams",
            format!("{:?}", e.word_ngrams),
            format!("{:?}", g.word_ngrams),
        );
        param(
            "hashing.char_ngrams",
            format!("{:?}", e.char_ngrams),
            format!("{:?}", g.char_ngrams),
        );
        param(
            "hashing.tokenizer",
            format!("{:?}", e.tokenizer),
            format!("{:?}", g.tokenizer),
        );
        param(
            "hashing.alternate_sign",
            e.alternate_sign.to_string(),
            g.alternate_sign.to_string(),
        );
        diff
    }

    /// Whether the two schemas are the same.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.version.is_none()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.moved.is_empty()
            && self.hashing.is_empty()
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().take(DIFF_SHOWN).enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            if items.len() > DIFF_SHOWN {
                write!(f, " and {} more", items.len() - DIFF_SHOWN)?;
            }
            Ok(())
        }
        if self.is_empty() {
            return f.write_str("schemas are identical");
        }
        let mut sep = "";
        if let Some((e, g)) = self.version {
            write!(f, "version: expected {e}, got {g}")?;
            sep = "; ";
        }
        if !self.added.is_empty() {
            write!(f, "{sep}names added (expected but missing): ")?;
            list(f, &self.added, |f, (n, i)| write!(f, "{n:?} at {i}"))?;
            sep = "; ";
        }
        if !self.removed.is_empty() {
            write!(f, "{sep}names removed (present but not expected): ")?;
            list(f, &self.removed, |f, (n, i)| write!(f, "{n:?} at {i}"))?;
            sep = "; ";
        }
        if !self.moved.is_empty() {
            write!(f, "{sep}names moved: ")?;
            list(f, &self.moved, |f, (n, e, g)| {
                write!(f, "{n:?} expected at {e}, got {g}")
            })?;
            sep = "; ";
        }
        for (name, e, g) in &self.hashing {
            write!(f, "{sep}{name}: expected {e}, got {g}")?;
            sep = "; ";
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> FeatureSchema {
        FeatureSchema {
            version: 3,
            names: vec!["len \"q\"\n".into(), "émoji 🎉".into(), "\u{1}ctl\\".into()],
            hashing: Hashing {
                seed: 7,
                bits: 12,
                word_ngrams: (1, 2),
                char_ngrams: (3, 5),
                tokenizer: "words-v1".into(),
                alternate_sign: false,
            },
        }
    }

    #[test]
    fn canonical_json_is_compact_and_parses_back() {
        let s = schema();
        let text = s.canonical_json();
        assert_eq!(
            text,
            "{\"version\":3,\"names\":[\"len \\\"q\\\"\\n\",\"émoji 🎉\",\"\\u0001ctl\\\\\"],\
             \"hashing\":{\"seed\":7,\"bits\":12,\"word_ngrams\":[1,2],\"char_ngrams\":[3,5],\
             \"tokenizer\":\"words-v1\",\"alternate_sign\":false}}"
        );
        let back: FeatureSchema = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn fingerprint_is_fnv1a_of_canonical_json() {
        // FNV-1a 64 reference values.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let s = schema();
        assert_eq!(
            s.fingerprint(),
            format!("{:016x}", fnv1a_64(s.canonical_json().as_bytes()))
        );
        let mut other = s.clone();
        other.hashing.seed = 8;
        assert_ne!(s.fingerprint(), other.fingerprint());
    }

    #[test]
    fn check_rejects_bad_schemas() {
        let mut s = schema();
        assert_eq!(s.check(), Ok(()));
        s.hashing.bits = 32;
        assert!(s.check().unwrap_err().contains("at most 31"));
        let mut s = schema();
        s.hashing.word_ngrams = (2, 1);
        assert!(s.check().unwrap_err().contains("word_ngrams"));
        let mut s = schema();
        s.names.push("émoji 🎉".into());
        assert!(s.check().unwrap_err().contains("appears twice"));
    }

    #[test]
    fn diff_of_identical_schemas_is_empty() {
        let s = schema();
        assert!(s.diff(&s.clone()).is_empty());
        assert_eq!(s.diff(&s).to_string(), "schemas are identical");
    }

    #[test]
    fn long_diffs_are_summarized() {
        let a = FeatureSchema {
            version: 1,
            names: (0..20).map(|i| format!("f{i}")).collect(),
            hashing: Hashing::default(),
        };
        let b = FeatureSchema {
            names: Vec::new(),
            ..a.clone()
        };
        let text = a.diff(&b).to_string();
        assert!(text.ends_with("\"f7\" at 7 and 12 more"), "{text}");
    }
}
