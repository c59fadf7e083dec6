//! Fuzz targets for chatguard. The invariants are in [`checks`], shared with the main crate's
//! `tests/fuzz_regressions.rs`, which replays every committed seed and crash input.

pub mod checks;
