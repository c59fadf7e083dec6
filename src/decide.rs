//! Decision: rule hits, model scores and the policy for the kind of message turn into an
//! [`Action`].

use crate::verdict::{Action, Severity};

/// When a message is reviewed or blocked, for one kind of message.
///
/// Rule hits act through their severity (`review_at`, `block_at`); model scores through
/// probability thresholds, one pair per model. A threshold of `None` never fires; a model
/// that is not loaded never fires either.
///
/// ```
/// use chatguard::{Policy, Severity, Action};
/// use chatguard::decide::ModelScores;
/// let p = Policy::default();
/// assert_eq!(p.action(Severity::Mild), Action::Review);
/// assert_eq!(p.action(Severity::Severe), Action::Block);
/// let spam = ModelScores { spam: Some(0.99), toxicity: None };
/// assert_eq!(p.decide(Severity::None, spam).action, Action::Block);
/// assert!(p.decide(Severity::None, spam).spam);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// The lowest hit severity that makes a message `review` (`Severity::None`: never).
    pub review_at: Severity,
    /// The lowest hit severity that makes a message `block` (`Severity::None`: never).
    pub block_at: Severity,
    /// The spam probability from which a message is `review` (default 0.5).
    pub spam_review_at: Option<f32>,
    /// The spam probability from which a message is `block` (default 0.95).
    pub spam_block_at: Option<f32>,
    /// The toxicity probability from which a message is `review` (default 0.9).
    pub toxicity_review_at: Option<f32>,
    /// The toxicity probability from which a message is `block` (default: never; blocking
    /// is left to rules a moderator can read).
    pub toxicity_block_at: Option<f32>,
}

impl Default for Policy {
    /// Any listed term makes a line at least `review`, severe terms `block`; spam from 0.5
    /// is reviewed and from 0.95 blocked; toxicity from 0.9 is reviewed.
    fn default() -> Self {
        Policy {
            review_at: Severity::Mild,
            block_at: Severity::Severe,
            spam_review_at: Some(0.5),
            spam_block_at: Some(0.95),
            toxicity_review_at: Some(0.9),
            toxicity_block_at: None,
        }
    }
}

/// The probabilities the loaded models gave a message; `None` for a model not loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelScores {
    /// Probability that the message is spam.
    pub spam: Option<f32>,
    /// Probability that the message is toxic.
    pub toxicity: Option<f32>,
}

impl ModelScores {
    /// The highest score of any model, `0.0` without models: what
    /// [`Verdict::score`](crate::Verdict::score) reports.
    #[must_use]
    pub fn max(&self) -> f32 {
        self.spam.unwrap_or(0.0).max(self.toxicity.unwrap_or(0.0))
    }
}

/// What [`Policy::decide`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The action.
    pub action: Action,
    /// The action the spam model alone asks for (`Allow` when it does not fire).
    pub spam_action: Action,
    /// Whether the spam model fired (reached `spam_review_at` or `spam_block_at`).
    pub spam: bool,
    /// Whether the toxicity model fired.
    pub toxic: bool,
}

/// The action for a score against a pair of thresholds.
fn score_action(score: Option<f32>, review_at: Option<f32>, block_at: Option<f32>) -> Action {
    let Some(score) = score else {
        return Action::Allow;
    };
    let reached = |at: Option<f32>| at.is_some_and(|t| score >= t);
    if reached(block_at) {
        Action::Block
    } else if reached(review_at) {
        Action::Review
    } else {
        Action::Allow
    }
}

impl Policy {
    /// The action for the highest severity among a message's hits.
    #[must_use]
    pub fn action(&self, severity: Severity) -> Action {
        let reached = |at: Severity| at != Severity::None && severity >= at;
        if reached(self.block_at) {
            Action::Block
        } else if reached(self.review_at) {
            Action::Review
        } else {
            Action::Allow
        }
    }

    /// The action for a message's hits and model scores: the strictest of what the hits
    /// and each model ask for.
    #[must_use]
    pub fn decide(&self, severity: Severity, scores: ModelScores) -> Decision {
        let spam_action = score_action(scores.spam, self.spam_review_at, self.spam_block_at);
        let toxic_action = score_action(
            scores.toxicity,
            self.toxicity_review_at,
            self.toxicity_block_at,
        );
        Decision {
            action: self.action(severity).max(spam_action).max(toxic_action),
            spam_action,
            spam: spam_action != Action::Allow,
            toxic: toxic_action != Action::Allow,
        }
    }
}
