//! chatguard
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod features;
pub mod model;
