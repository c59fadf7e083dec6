//! The vocabulary every stage shares: categories, severities, actions, hits and the verdict.

use std::fmt;

use crate::decide::ModelScores;

/// What a rule is about. A rule may belong to several categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Category {
    /// Swearing and vulgar language in general.
    Profanity = 0,
    /// Sexual acts, anatomy and content.
    Sexual = 1,
    /// Slurs: hate against a group (race, orientation, gender identity, disability, religion).
    Slur = 2,
    /// Name-calling and personal attacks.
    Insult = 3,
    /// Threats of violence or harm.
    Threat = 4,
    /// Unsolicited promotion, scams and bulk messages.
    Spam = 5,
}

impl Category {
    /// Every category, in order.
    pub const ALL: [Category; 6] = [
        Category::Profanity,
        Category::Sexual,
        Category::Slur,
        Category::Insult,
        Category::Threat,
        Category::Spam,
    ];

    /// The lower-case name used in rule files and in `scan --json`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Category::Profanity => "profanity",
            Category::Sexual => "sexual",
            Category::Slur => "slur",
            Category::Insult => "insult",
            Category::Threat => "threat",
            Category::Spam => "spam",
        }
    }

    /// Parses a category name as written in rule files.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Category`] values, stored as bit flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Categories(u8);

impl Categories {
    /// The empty set.
    pub const NONE: Categories = Categories(0);

    /// A set holding one category.
    #[must_use]
    pub fn only(category: Category) -> Categories {
        Categories(category.bit())
    }

    /// Adds a category.
    pub fn insert(&mut self, category: Category) {
        self.0 |= category.bit();
    }

    /// Whether the set holds `category`.
    #[must_use]
    pub fn contains(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    #[must_use]
    pub fn union(self, other: Categories) -> Categories {
        Categories(self.0 | other.0)
    }

    /// The first category in the set (in [`Category::ALL`] order), if any.
    #[must_use]
    pub fn first(self) -> Option<Category> {
        self.iter().next()
    }

    /// The categories in the set, in [`Category::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Category> for Categories {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> Self {
        let mut set = Categories::NONE;
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl fmt::Display for Categories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(c.name())?;
        }
        Ok(())
    }
}

/// How bad a hit is. Ordered: `None < Mild < Moderate < Severe`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Nothing was found.
    #[default]
    None,
    /// Mild: worth a look, rarely worth a block.
    Mild,
    /// Moderate.
    Moderate,
    /// Severe: blocked by the default policy.
    Severe,
}

impl Severity {
    /// The lower-case name used in rule files and in `scan --json`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }

    /// Parses a severity as written in rule files (`mild`, `moderate`, `severe`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Severity> {
        match name {
            "mild" => Some(Severity::Mild),
            "moderate" => Some(Severity::Moderate),
            "severe" => Some(Severity::Severe),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the chat server should do with a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Deliver it.
    #[default]
    Allow,
    /// Deliver or hold it, and show it to a moderator.
    Review,
    /// Do not deliver it.
    Block,
}

impl Action {
    /// The lower-case name used in `scan --json`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Review => "review",
            Action::Block => "block",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A half-open range of byte offsets `start..end` into the original message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span as a `Range`, for slicing the original text.
    #[must_use]
    pub fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// Whether `other` lies entirely inside `self`.
    #[must_use]
    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two spans share at least one byte.
    #[must_use]
    pub fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Merges spans sorted by start into disjoint spans, joining those that overlap; no
/// allocation. For masking or highlighting hits, which may overlap (`motherfucker` holds
/// `*fuck*`).
///
/// ```
/// use chatguard::{merged_spans, Span};
/// let spans = [Span { start: 0, end: 4 }, Span { start: 2, end: 6 }, Span { start: 8, end: 9 }];
/// let merged: Vec<Span> = merged_spans(spans).collect();
/// assert_eq!(merged, [Span { start: 0, end: 6 }, Span { start: 8, end: 9 }]);
/// ```
pub fn merged_spans<I: IntoIterator<Item = Span>>(spans: I) -> MergedSpans<I::IntoIter> {
    MergedSpans {
        spans: spans.into_iter().peekable(),
    }
}

/// The iterator of [`merged_spans`].
#[derive(Clone, Debug)]
pub struct MergedSpans<I: Iterator<Item = Span>> {
    spans: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = Span>> Iterator for MergedSpans<I> {
    type Item = Span;

    fn next(&mut self) -> Option<Span> {
        let mut span = self.spans.next()?;
        while let Some(next) = self.spans.next_if(|n| n.start < span.end) {
            span.end = span.end.max(next.end);
        }
        Some(span)
    }
}

/// Which folded view of the message a hit was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// The folded text: case, compatibility forms, confusables, accents and invisibles undone.
    Word,
    /// The folded text with leetspeak undone (`5h1t`, `fvck`, `@ss`).
    Leet,
    /// Letters written one by one with separators between them, joined (`f.u.c.k`, `f u c k`).
    Joined,
    /// A word cut in two pieces, joined back (`fu ck`, `bit ch`, `bi.tch`).
    Split,
    /// The folded text, for a regex rule.
    Regex,
}

impl View {
    /// A short lower-case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            View::Word => "word",
            View::Leet => "leet",
            View::Joined => "joined",
            View::Split => "split",
            View::Regex => "regex",
        }
    }
}

/// The index of a rule in its [`Filter`](crate::Filter); see [`Filter::rule`](crate::Filter::rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub(crate) u32);

impl RuleId {
    /// The index as a number.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One rule that matched, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The rule that matched.
    pub rule: RuleId,
    /// The rule's categories.
    pub categories: Categories,
    /// The rule's severity.
    pub severity: Severity,
    /// Where it matched, in bytes of the original message; always on `char` boundaries.
    pub span: Span,
    /// The view it was found in. Anything but [`View::Word`] means the text was disguised.
    pub view: View,
}

/// The outcome of checking one message. Borrows the hit list from the [`Scratch`](crate::Scratch)
/// that produced it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict<'s> {
    pub(crate) action: Action,
    pub(crate) categories: Categories,
    pub(crate) severity: Severity,
    pub(crate) per_category: [Severity; 6],
    pub(crate) score: f32,
    pub(crate) scores: ModelScores,
    pub(crate) hits: &'s [Hit],
    pub(crate) hits_dropped: u32,
    pub(crate) oversized: bool,
    pub(crate) evasive: bool,
}

impl<'s> Verdict<'s> {
    /// What to do with the message.
    #[must_use]
    pub fn action(&self) -> Action {
        self.action
    }

    /// Whether the action is anything but [`Action::Allow`].
    #[must_use]
    pub fn flagged(&self) -> bool {
        self.action != Action::Allow
    }

    /// The categories of every hit.
    #[must_use]
    pub fn categories(&self) -> Categories {
        self.categories
    }

    /// The highest severity of any category: of the rule hits, and of `spam` when the spam
    /// or whisper model fires (mild for review, moderate for block). `Severity::None` when
    /// nothing did.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The highest severity among the hits of one category.
    #[must_use]
    pub fn severity_of(&self, category: Category) -> Severity {
        self.per_category[category as usize]
    }

    /// The highest probability any loaded model gave the message (spam, toxicity, or whisper
    /// for a whisper with tracker signals), in `0.0..=1.0`; `0.0` when the filter has no
    /// model. See [`scores`](Self::scores) for
    /// each model's.
    #[must_use]
    pub fn score(&self) -> f32 {
        self.score
    }

    /// The probability each loaded model gave the message.
    #[must_use]
    pub fn scores(&self) -> ModelScores {
        self.scores
    }

    /// The hits, in order of their start in the original text.
    #[must_use]
    pub fn hits(&self) -> &'s [Hit] {
        self.hits
    }

    /// How many hits did not fit in the hit list (see `Config::max_hits`). They still count
    /// towards the categories, the severity and the action.
    #[must_use]
    pub fn hits_dropped(&self) -> usize {
        self.hits_dropped as usize
    }

    /// Whether the message was longer than `Config::max_message_bytes` and was judged on its
    /// prefix only.
    #[must_use]
    pub fn oversized(&self) -> bool {
        self.oversized
    }

    /// Whether any hit was found only after undoing a disguise (leetspeak, confusables,
    /// separators between letters).
    #[must_use]
    pub fn evasive(&self) -> bool {
        self.evasive
    }

    /// Copies the verdict so that it no longer borrows the scratch space.
    #[must_use]
    pub fn to_owned(&self) -> OwnedVerdict {
        OwnedVerdict {
            head: Verdict { hits: &[], ..*self },
            hits: self.hits.to_vec(),
        }
    }
}

/// A [`Verdict`] that owns its hit list; returned by the allocating convenience calls.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedVerdict {
    /// Everything but the hits (its own hit list is empty).
    head: Verdict<'static>,
    hits: Vec<Hit>,
}

impl OwnedVerdict {
    /// Borrows it as a [`Verdict`].
    #[must_use]
    pub fn as_verdict(&self) -> Verdict<'_> {
        Verdict {
            hits: &self.hits,
            ..self.head
        }
    }

    /// What to do with the message.
    #[must_use]
    pub fn action(&self) -> Action {
        self.head.action()
    }

    /// Whether the action is anything but [`Action::Allow`].
    #[must_use]
    pub fn flagged(&self) -> bool {
        self.head.flagged()
    }

    /// The categories of every hit.
    #[must_use]
    pub fn categories(&self) -> Categories {
        self.head.categories()
    }

    /// The highest severity of any hit.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.head.severity()
    }

    /// The highest model probability in `0.0..=1.0` (see [`Verdict::score`]).
    #[must_use]
    pub fn score(&self) -> f32 {
        self.head.score()
    }

    /// The probability each loaded model gave the message.
    #[must_use]
    pub fn scores(&self) -> ModelScores {
        self.head.scores()
    }

    /// The hits, in order of their start in the original text.
    #[must_use]
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }
}
