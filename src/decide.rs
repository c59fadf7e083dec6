//! Decision: rule hits (and, when a model is loaded, its score) and the policy for the kind of
//! message turn into an [`Action`].

use crate::verdict::{Action, Severity};

/// When a message is reviewed or blocked, for one kind of message.
///
/// ```
/// use chatguard::{Policy, Severity, Action};
/// let p = Policy::default();
/// assert_eq!(p.action(Severity::Mild), Action::Review);
/// assert_eq!(p.action(Severity::Severe), Action::Block);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The lowest hit severity that makes a message `review` (`Severity::None`: never).
    pub review_at: Severity,
    /// The lowest hit severity that makes a message `block` (`Severity::None`: never).
    pub block_at: Severity,
}

impl Default for Policy {
    /// Any listed term makes a line at least `review`; severe terms `block`.
    fn default() -> Self {
        Policy {
            review_at: Severity::Mild,
            block_at: Severity::Severe,
        }
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
}
