//! chatguard
