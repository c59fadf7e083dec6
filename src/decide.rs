//! Decision: rule hits, model scores and the policy for the kind of message turn into an
//! [`Action`].

use crate::verdict::{Action, Category, Severity};

/// When a message is reviewed or blocked, for one kind of message.
///
/// Rule hits act through their severity (`review_at`, `block_at`); model scores through
/// probability thresholds, one pair per model. A threshold of `None` never fires; a model
/// that is not loaded (or, for the whisper model, did not score the message) never fires
/// either.
///
/// ```
/// use chatguard::{Policy, Severity, Action};
/// use chatguard::decide::ModelScores;
/// let p = Policy::default();
/// assert_eq!(p.action(Severity::Mild), Action::Review);
/// assert_eq!(p.action(Severity::Severe), Action::Block);
/// let spam = ModelScores { spam: Some(0.99), ..ModelScores::default() };
/// let no_hits = [Severity::None; 6];
/// assert_eq!(p.decide(&no_hits, spam).action, Action::Block);
/// assert!(p.decide(&no_hits, spam).spam);
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
    /// The toxicity probability from which a message is `review` (default 0.5; the default
    /// model's probabilities are shifted to a chat prior of 5% toxic lines).
    pub toxicity_review_at: Option<f32>,
    /// The toxicity probability from which a message is `block` (default: never; blocking
    /// is left to rules a moderator can read).
    pub toxicity_block_at: Option<f32>,
    /// The whisper-spam probability from which a whisper is `review` (default 0.5). The
    /// whisper model scores only whispers with sender-tracker signals
    /// ([`Filter::check_tracked`](crate::Filter::check_tracked)), so this has no effect on
    /// chat lines.
    pub whisper_review_at: Option<f32>,
    /// The whisper-spam probability from which a whisper is `block` (default 0.99: the
    /// default tree's leaves where nearly every training whisper was spam).
    pub whisper_block_at: Option<f32>,
    /// A level per category (indexed by `Category as usize`), like Twitch AutoMod's: when
    /// set, it replaces `review_at` and `block_at` for hits of that category.
    pub levels: [Option<Level>; 6],
    /// The fewest words (of the folded word view) a message needs for the text models (spam,
    /// toxicity) to score it (default 2); a shorter message is left to the rules. A
    /// bag-of-words model trained on sentences weighs a word alone as strongly as it can: the
    /// default toxicity model flags `nobody`, `player` or `our` sent alone, and misses `trash`
    /// or `loser` alone, while rules list the words that offend on their own. `0` or `1`
    /// scores every message with text. The whisper model, which judges the sender, ignores it.
    pub models_min_words: u8,
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
    /// Any listed term makes a line at least `review`, severe terms `block`; spam from 0.5
    /// is reviewed and from 0.95 blocked; toxicity from 0.5 is reviewed; whisper spam from
    /// 0.5 is reviewed and from 0.99 blocked; the text models score lines of two words or more.
    fn default() -> Self {
        Policy {
            review_at: Severity::Mild,
            block_at: Severity::Severe,
            levels: [None; 6],
            spam_review_at: Some(0.5),
            spam_block_at: Some(0.95),
            toxicity_review_at: Some(0.5),
            toxicity_block_at: None,
            whisper_review_at: Some(0.5),
            whisper_block_at: Some(0.99),
            models_min_words: 2,
        }
    }
}

/// The probabilities the loaded models gave a message; `None` for a model not loaded, and
/// for the text models (spam, toxicity) when the message is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelScores {
    /// Probability that the message is spam.
    pub spam: Option<f32>,
    /// Probability that the message is toxic.
    pub toxicity: Option<f32>,
    /// Probability that the whisper is whisper spam (fan-out), from the whisper model: only
    /// for whispers with sender-tracker signals.
    pub whisper: Option<f32>,
}

impl ModelScores {
    /// The highest score of any model, `0.0` without models: what
    /// [`Verdict::score`](crate::Verdict::score) reports.
    #[must_use]
    pub fn max(&self) -> f32 {
        self.spam
            .unwrap_or(0.0)
            .max(self.toxicity.unwrap_or(0.0))
            .max(self.whisper.unwrap_or(0.0))
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
    /// The action the toxicity model alone asks for (`Allow` when it does not fire).
    pub toxic_action: Action,
    /// The action the whisper model alone asks for (`Allow` when it does not fire).
    pub whisper_action: Action,
    /// Whether the whisper model fired (reached `whisper_review_at` or `whisper_block_at`).
    pub whisper: bool,
}

/// The action for a score against a pair of thresholds.
fn score_action(score: Option<f32>, review_at: Option<f32>, block_at: Option<f32>) -> Action {
    let Some(score) = score else {
        return Action::Allow;
    };
    let reached = |at: Option<f32>| at.is_some_and(|t| score >= t);
    tier(reached(block_at), reached(review_at))
}

/// `Block` when the block threshold is reached, else `Review` when the review one is.
fn tier(block: bool, review: bool) -> Action {
    if block {
        Action::Block
    } else if review {
        Action::Review
    } else {
        Action::Allow
    }
}

impl Policy {
    /// The action for a message's rule hits, whose severity reaches `per_category[c]` in
    /// each category: the strictest over the categories, each judged by its level if it has
    /// one.
    ///
    /// ```
    /// use chatguard::{decide::Level, Action, Category, Policy, Severity};
    /// let mut p = Policy::default();
    /// p.levels[Category::Slur as usize] = Level::new(4);
    /// p.levels[Category::Profanity as usize] = Level::new(0);
    /// let mut hits = [Severity::None; 6];
    /// hits[Category::Profanity as usize] = Severity::Severe;
    /// assert_eq!(p.rules_action(&hits), Action::Allow); // profanity is off
    /// hits[Category::Slur as usize] = Severity::Moderate;
    /// assert_eq!(p.rules_action(&hits), Action::Block);
    /// ```
    #[must_use]
    pub fn rules_action(&self, per_category: &[Severity; 6]) -> Action {
        let mut action = Action::Allow;
        for c in Category::ALL {
            let severity = per_category[c as usize];
            // A category without hits asks for nothing (no threshold is `None`), which most
            // messages have in every category.
            if severity == Severity::None {
                continue;
            }
            let (review_at, block_at) =
                self.levels[c as usize].map_or((self.review_at, self.block_at), Level::thresholds);
            action = action.max(threshold_action(severity, review_at, block_at));
        }
        action
    }

    /// The action for a message's rule hits (severity per category, see
    /// [`rules_action`](Self::rules_action)) and model scores: the strictest of what the
    /// hits and each model ask for.
    #[must_use]
    pub fn decide(&self, per_category: &[Severity; 6], scores: ModelScores) -> Decision {
        let spam_action = score_action(scores.spam, self.spam_review_at, self.spam_block_at);
        let toxic_action = score_action(
            scores.toxicity,
            self.toxicity_review_at,
            self.toxicity_block_at,
        );
        let whisper_action = score_action(
            scores.whisper,
            self.whisper_review_at,
            self.whisper_block_at,
        );
        Decision {
            action: self
                .rules_action(per_category)
                .max(spam_action)
                .max(toxic_action)
                .max(whisper_action),
            spam_action,
            spam: spam_action != Action::Allow,
            toxic: toxic_action != Action::Allow,
            toxic_action,
            whisper_action,
            whisper: whisper_action != Action::Allow,
        }
    }

    /// The action for the highest severity among a message's hits.
    #[must_use]
    pub fn action(&self, severity: Severity) -> Action {
        threshold_action(severity, self.review_at, self.block_at)
    }
}

fn threshold_action(severity: Severity, review_at: Severity, block_at: Severity) -> Action {
    let reached = |at: Severity| at != Severity::None && severity >= at;
    tier(reached(block_at), reached(review_at))
}
