//! Decision: rule hits (and, when a model is loaded, its score) and the policy for the kind of
//! message turn into an [`Action`].

use crate::verdict::{Action, Category, Severity};

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
    /// A level per category (indexed by `Category as usize`), like Twitch AutoMod's: when
    /// set, it replaces `review_at` and `block_at` for hits of that category.
    pub levels: [Option<Level>; 6],
}

/// How strictly one category is moderated, 0 (off) to 4 (strictest), like Twitch AutoMod.
///
/// | level | review at | block at |
/// |---|---|---|
/// | 0 | never (the category is off) | never |
/// | 1 | severe | never |
/// | 2 | moderate | severe |
/// | 3 | mild | severe (the default policy) |
/// | 4 | mild | moderate |
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Level(u8);

impl Level {
    /// The level `n`, if it is 0 to 4.
    #[must_use]
    pub fn new(n: u8) -> Option<Level> {
        (n <= 4).then_some(Level(n))
    }

    /// The level as a number.
    #[must_use]
    pub fn get(self) -> u8 {
        self.0
    }

    /// `(review_at, block_at)` for this level.
    #[must_use]
    pub fn thresholds(self) -> (Severity, Severity) {
        match self.0 {
            0 => (Severity::None, Severity::None),
            1 => (Severity::Severe, Severity::None),
            2 => (Severity::Moderate, Severity::Severe),
            3 => (Severity::Mild, Severity::Severe),
            _ => (Severity::Mild, Severity::Moderate),
        }
    }
}

impl Default for Policy {
    /// Any listed term makes a line at least `review`; severe terms `block`.
    fn default() -> Self {
        Policy {
            review_at: Severity::Mild,
            block_at: Severity::Severe,
            levels: [None; 6],
        }
    }
}

impl Policy {
    /// The action for a message whose hits reach `per_category[c]` in each category: the
    /// strictest over the categories, each judged by its level if it has one.
    ///
    /// ```
    /// use chatguard::{decide::Level, Action, Category, Policy, Severity};
    /// let mut p = Policy::default();
    /// p.levels[Category::Slur as usize] = Level::new(4);
    /// p.levels[Category::Profanity as usize] = Level::new(0);
    /// let mut hits = [Severity::None; 6];
    /// hits[Category::Profanity as usize] = Severity::Severe;
    /// assert_eq!(p.decide(&hits), Action::Allow); // profanity is off
    /// hits[Category::Slur as usize] = Severity::Moderate;
    /// assert_eq!(p.decide(&hits), Action::Block);
    /// ```
    #[must_use]
    pub fn decide(&self, per_category: &[Severity; 6]) -> Action {
        Category::ALL
            .iter()
            .map(|&c| {
                let severity = per_category[c as usize];
                let (review_at, block_at) = self.levels[c as usize]
                    .map_or((self.review_at, self.block_at), Level::thresholds);
                threshold_action(severity, review_at, block_at)
            })
            .max()
            .unwrap_or(Action::Allow)
    }

    /// The action for the highest severity among a message's hits.
    #[must_use]
    pub fn action(&self, severity: Severity) -> Action {
        threshold_action(severity, self.review_at, self.block_at)
    }
}

fn threshold_action(severity: Severity, review_at: Severity, block_at: Severity) -> Action {
    let reached = |at: Severity| at != Severity::None && severity >= at;
    if reached(block_at) {
        Action::Block
    } else if reached(review_at) {
        Action::Review
    } else {
        Action::Allow
    }
}
