//! Features: the fixed, named feature vector and the hashed n-gram block a model scores.
//!
//! This module holds the [`schema`] (names, order and hashing parameters, with a fingerprint
//! a model file is checked against) and the [`hashing`] rules shared with scikit-learn. The
//! extractor that fills a feature row from a message lives beside them.

pub mod hashing;
pub mod schema;
