//! # chatguard
//!
//! Embedded chat moderation: one call per chat line or whisper, a verdict in well under a
//! microsecond, no heap allocation on the hot path, every hit explained.
//!
//! ```
//! use chatguard::{Filter, Message, MessageKind, Action, Category};
//!
//! // Build once (all validation and allocation happen here), share across threads.
//! let filter = Filter::default_english().unwrap();
//!
//! // One scratch space per thread, reused for every message.
//! let mut scratch = filter.scratch();
//! let verdict = filter.check_with(&mut scratch, &Message::new("ur such a ƒ.ü.ç.κ"));
//! assert!(verdict.flagged());
//! assert!(verdict.categories().contains(Category::Profanity));
//! for hit in verdict.hits() {
//!     println!("{} at {:?}", filter.rule(hit.rule).pattern(), hit.span);
//! }
//!
//! let verdict = filter.check_with(&mut scratch, &Message::new("Scunthorpe won 2-1").kind(MessageKind::Whisper));
//! assert_eq!(verdict.action(), Action::Allow);
//! ```
//!
//! ## Pipeline
//!
//! Data flows one way, one module per stage:
//! [`message`] → [`fold`] (undo disguises, keep offsets) → [`rules`] (automata over the folded
//! views) → [`features`] (a fixed, named feature vector and hashed n-grams) → [`model`]
//! (scores from model files trained in Python) → [`decide`] (policy) → [`verdict`].
//! Beside them: [`reload`] (a shared filter swapped atomically) and [`tracker`] (bounded
//! per-sender rate and near-duplicate fan-out, for whisper spam).
//!
//! ## Performance
//!
//! [`Filter::check_with`] allocates nothing after the first call with a given [`Scratch`]:
//! every buffer is sized from the [`Config`] when the scratch is made. Messages longer than
//! [`Config::max_message_bytes`] are judged on a prefix and marked oversized, so time is
//! linear in the input and bounded.
//!
//! ## Untrusted input
//!
//! Any byte string is a valid message (invalid UTF-8 is treated as separators) and checking
//! never panics. Rule files are validated when the filter is built; their size, the number
//! of rules and each regex's compiled size are limited by the [`Config`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::module_name_repetitions,
    clippy::cast_possible_truncation,
    clippy::must_use_candidate,
    clippy::missing_panics_doc
)]

pub mod decide;
mod error;
pub mod features;
mod filter;
pub mod fold;
pub mod message;
pub mod model;
pub mod reload;
pub mod rules;
pub mod tracker;
pub mod verdict;

pub use decide::Policy;
pub use decide::{Decision, ModelScores};
pub use error::{Error, ErrorKind, RuleError};
pub use filter::{
    Config, Contribution, ExplainedHit, Explanation, Filter, FilterBuilder, Scratch, TreePath,
};
pub use message::{Message, MessageKind, SenderContext};
pub use model::Model;
pub use rules::{Rule, RuleKind, RuleSet};
pub use tracker::SenderTracker;
pub use verdict::{
    merged_spans, Action, Categories, Category, Hit, MergedSpans, OwnedVerdict, RuleId, Severity,
    Span, Verdict, View,
};
