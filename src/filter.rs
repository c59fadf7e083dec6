//! The [`Filter`]: built once from rules and config, immutable, shared by every thread; and
//! the per-thread [`Scratch`] it checks messages with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::decide::{ModelScores, Policy};
use crate::error::Error;
use crate::features::{self, FeatureBuffers, Features};
use crate::fold::{self, FoldBuffers, Folded};
use crate::message::{Message, MessageKind, SenderContext};
use crate::model::{DecisionPath, FeatureRow, LinearPair, Model};
use crate::rules::CompileLimits;
use crate::rules::{MatchBuffers, Matcher, Rule, RuleSet};
use crate::tracker::{Fingerprint, SenderObservation, SenderTracker};
use crate::verdict::{Action, Category, Hit, OwnedVerdict, RuleId, Severity, Verdict};

/// Settings fixed when a [`Filter`] is built.
///
/// ```
/// let mut config = chatguard::Config::default();
/// config.max_message_bytes = 1024;
/// let filter = chatguard::FilterBuilder::new().config(config).default_rules().build().unwrap();
/// assert_eq!(filter.config().max_message_bytes, 1024);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Messages longer than this are judged on a prefix of this many bytes and marked
    /// oversized (default 4096).
    pub max_message_bytes: usize,
    /// The most hits a verdict lists (default 64). Further hits still count towards the
    /// action; [`Verdict::hits_dropped`] says how many were left out.
    pub max_hits: usize,
    /// Policy for chat lines.
    pub chat: Policy,
    /// Policy for whispers.
    pub whisper: Policy,
    /// The most rules a filter may hold (default 200,000).
    pub max_rules: usize,
    /// The most bytes of rule files a filter may be built from (default 16 MiB).
    pub max_rule_bytes: usize,
    /// The largest compiled size of one regex rule, in bytes (default 1 MiB).
    pub max_regex_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_bytes: 4096,
            max_hits: 64,
            chat: Policy::default(),
            whisper: Policy::default(),
            max_rules: 200_000,
            max_rule_bytes: crate::rules::DEFAULT_MAX_RULE_BYTES,
            max_regex_size: 1 << 20,
        }
    }
}

/// Builds a [`Filter`].
///
/// ```
/// use chatguard::{FilterBuilder, RuleSet, Message, Action};
/// let mut rules = RuleSet::new();
/// rules.add_file("mine.rules", "[insult severity=severe]\nnoob*\n").unwrap();
/// let filter = FilterBuilder::new().rules(rules).build().unwrap();
/// assert_eq!(filter.check(&Message::new("what a n00b")).action(), Action::Block);
/// ```
#[derive(Clone, Debug, Default)]
pub struct FilterBuilder {
    config: Config,
    rules: RuleSet,
    spam: Option<Model>,
    toxicity: Option<Model>,
    whisper: Option<Model>,
}

impl FilterBuilder {
    /// A builder with the default config and no rules.
    #[must_use]
    pub fn new() -> FilterBuilder {
        FilterBuilder::default()
    }

    /// Sets the config.
    pub fn config(&mut self, config: Config) -> &mut FilterBuilder {
        self.config = config;
        self
    }

    /// Adds rules.
    pub fn rules(&mut self, rules: RuleSet) -> &mut FilterBuilder {
        self.rules.entries.extend(rules.entries);
        self.rules.policies.extend(rules.policies);
        self.rules.bytes += rules.bytes;
        self
    }

    /// Adds the embedded default English rules.
    ///
    /// # Panics
    ///
    /// Never: the embedded rules are checked by the test suite.
    pub fn default_rules(&mut self) -> &mut FilterBuilder {
        let rules = RuleSet::default_english().expect("the embedded default rules are valid");
        self.rules(rules)
    }

    /// Scores every message with a spam model (replacing any set before). Its probability
    /// is compared with the policy's `spam_review_at` / `spam_block_at`; when it reaches
    /// either, the verdict gets [`Category::Spam`].
    ///
    /// Load the model with [`features::loader`] so that it is checked against the features
    /// this version computes, golden texts included; [`build`](Self::build) checks the schema
    /// again.
    pub fn spam_model(&mut self, model: Model) -> &mut FilterBuilder {
        self.spam = Some(model);
        self
    }

    /// Scores every message with a toxicity model (replacing any set before); its
    /// probability is compared with the policy's `toxicity_review_at` / `toxicity_block_at`,
    /// and a verdict it flags gets [`Category::Insult`].
    pub fn toxicity_model(&mut self, model: Model) -> &mut FilterBuilder {
        self.toxicity = Some(model);
        self
    }

    /// Scores whispers that carry sender-tracker signals with a whisper-spam model (replacing
    /// any set before): whispers checked with [`Filter::check_tracked`], or whose
    /// [`SenderContext::tracker`] the caller filled in. Its probability is compared with the
    /// whisper policy's `whisper_review_at` / `whisper_block_at`; when it reaches either, the
    /// verdict gets [`Category::Spam`], as for the spam model. Chat lines, and whispers
    /// without tracker signals, are not scored by it: the model judges a sender's fan-out,
    /// which a message alone does not show (see `models/README.md`).
    pub fn whisper_model(&mut self, model: Model) -> &mut FilterBuilder {
        self.whisper = Some(model);
        self
    }

    /// Adds the embedded default spam, toxicity and whisper models
    /// ([`Filter::DEFAULT_SPAM_MODEL`], [`Filter::DEFAULT_TOXICITY_MODEL`],
    /// [`Filter::DEFAULT_WHISPER_MODEL`]), trained by `tools/train_default_models.py` and
    /// `tools/train_whisper_model.py`.
    ///
    /// # Panics
    ///
    /// Never: the embedded models are checked by the test suite.
    pub fn default_models(&mut self) -> &mut FilterBuilder {
        let loader = features::loader();
        let spam = loader
            .load_slice("models/spam.json", Filter::DEFAULT_SPAM_MODEL)
            .expect("the embedded spam model is valid");
        let toxicity = loader
            .load_slice("models/toxicity.json", Filter::DEFAULT_TOXICITY_MODEL)
            .expect("the embedded toxicity model is valid");
        let whisper = loader
            .load_slice("models/whisper.json", Filter::DEFAULT_WHISPER_MODEL)
            .expect("the embedded whisper model is valid");
        self.spam_model(spam)
            .toxicity_model(toxicity)
            .whisper_model(whisper)
    }

    /// Compiles the rules and builds the filter. All validation, size limits and allocation
    /// happen here.
    ///
    /// # Errors
    ///
    /// Invalid rules (every problem, with file, line and column), a size limit exceeded, or a
    /// model built for another feature schema than [`features::schema()`] (with the
    /// differences).
    pub fn build(&self) -> Result<Filter, Error> {
        let expected = features::schema();
        for (slot, model) in [
            ("spam", &self.spam),
            ("toxicity", &self.toxicity),
            ("whisper", &self.whisper),
        ] {
            if let Some(model) = model {
                let diff = expected.diff(model.schema());
                if !diff.is_empty() {
                    return Err(Error::config(format!(
                        "the {slot} model{} was built for another feature schema than this \
                         version of chatguard computes (fingerprint {}, expected {}): {diff}",
                        model.name().map(|n| format!(" {n:?}")).unwrap_or_default(),
                        model.schema().fingerprint(),
                        expected.fingerprint()
                    )));
                }
            }
        }
        let mut config = self.config.clone();
        self.rules.apply_policies(&mut config);
        if config.max_message_bytes == 0 || config.max_message_bytes > (1 << 30) {
            return Err(Error::config(
                "max_message_bytes must be between 1 and 2^30",
            ));
        }
        if config.max_hits == 0 {
            return Err(Error::config("max_hits must be at least 1"));
        }
        if self.rules.bytes > config.max_rule_bytes {
            return Err(Error::limit(format!(
                "rule files of {} bytes exceed the limit of {} bytes (Config::max_rule_bytes)",
                self.rules.bytes, config.max_rule_bytes
            )));
        }
        let matcher = Matcher::compile(
            &self.rules,
            CompileLimits {
                max_rules: config.max_rules,
                max_regex_size: config.max_regex_size,
            },
        )?;
        let linear = LinearPair::new([
            self.spam.as_ref().and_then(Model::as_linear),
            self.toxicity.as_ref().and_then(Model::as_linear),
        ]);
        let covered = |k: usize| linear.as_ref().is_some_and(|pair| pair.has(k));
        let needs_row =
            self.spam.is_some() && !covered(0) || self.toxicity.is_some() && !covered(1);
        Ok(Filter {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                config,
                matcher,
                spam: self.spam.clone(),
                toxicity: self.toxicity.clone(),
                linear,
                needs_row,
                whisper: self.whisper.clone(),
                pool: Mutex::new(Vec::new()),
            }),
        })
    }
}

/// Identifies a built filter, so that a [`Scratch`] made for another one is noticed.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The moderation engine. Immutable, `Send + Sync`, cheap to clone (an `Arc` inside).
///
/// ```
/// use chatguard::{Filter, Message, Action};
/// let filter = Filter::default_english().unwrap();
/// let mut scratch = filter.scratch();
/// let verdict = filter.check_with(&mut scratch, &Message::new("gg wp everyone"));
/// assert_eq!(verdict.action(), Action::Allow);
/// let verdict = filter.check_with(&mut scratch, &Message::new("ｆｕｃｋ off"));
/// assert!(verdict.flagged());
/// ```
#[derive(Clone, Debug)]
pub struct Filter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: u64,
    config: Config,
    matcher: Matcher,
    spam: Option<Model>,
    toxicity: Option<Model>,
    /// The spam (0) and toxicity (1) models that are linear, scored together.
    linear: Option<LinearPair>,
    /// Whether a model needs the merged feature row (one not in `linear`).
    needs_row: bool,
    whisper: Option<Model>,
    /// Scratch spaces for the allocating convenience calls.
    pool: Mutex<Vec<Scratch>>,
}

/// Per-thread reusable buffers for [`Filter::check_with`]. Create one per thread with
/// [`Filter::scratch`] and keep it: checks then allocate nothing.
#[derive(Debug)]
pub struct Scratch {
    filter_id: u64,
    fold: FoldBuffers,
    matches: MatchBuffers,
    features: FeatureBuffers,
}

impl Scratch {
    /// Buffers sized for `filter`.
    #[must_use]
    pub fn new(filter: &Filter) -> Scratch {
        let inner = &filter.inner;
        let fold = FoldBuffers::new(inner.config.max_message_bytes);
        let max_plain = fold.plain.text.capacity();
        Scratch {
            filter_id: inner.id,
            fold,
            matches: MatchBuffers::new(&inner.matcher, inner.config.max_hits, max_plain),
            features: FeatureBuffers::new(),
        }
    }
}

impl Filter {
    /// The embedded default spam model file (`models/spam.json`).
    pub const DEFAULT_SPAM_MODEL: &'static [u8] = include_bytes!("../models/spam.json");

    /// The embedded default toxicity model file (`models/toxicity.json`).
    pub const DEFAULT_TOXICITY_MODEL: &'static [u8] = include_bytes!("../models/toxicity.json");

    /// The embedded default whisper model file (`models/whisper.json`): a decision tree over
    /// sender context and sender-tracker signals.
    pub const DEFAULT_WHISPER_MODEL: &'static [u8] = include_bytes!("../models/whisper.json");

    /// A filter with the embedded default English rules, the default spam, toxicity and
    /// whisper models and the default config: what `chatguard scan` uses without flags.
    ///
    /// ```
    /// use chatguard::{Category, Filter, Message};
    /// let filter = Filter::default_english_with_models().unwrap();
    /// let v = filter.check(&Message::new("FREE robux!!! follow me and visit www.free-robux.xyz to claim"));
    /// assert!(v.categories().contains(Category::Spam));
    /// assert!(v.score() > 0.5);
    /// ```
    ///
    /// # Errors
    ///
    /// Never in practice: the embedded rules and models are checked by the test suite.
    pub fn default_english_with_models() -> Result<Filter, Error> {
        FilterBuilder::new()
            .rules(RuleSet::default_english()?)
            .default_models()
            .build()
    }

    /// The spam model, if one is loaded.
    #[must_use]
    pub fn spam_model(&self) -> Option<&Model> {
        self.inner.spam.as_ref()
    }

    /// The toxicity model, if one is loaded.
    #[must_use]
    pub fn toxicity_model(&self) -> Option<&Model> {
        self.inner.toxicity.as_ref()
    }

    /// The whisper model, if one is loaded.
    #[must_use]
    pub fn whisper_model(&self) -> Option<&Model> {
        self.inner.whisper.as_ref()
    }

    /// The whisper model when it scores `message`: a whisper with sender-tracker signals.
    fn whisper_scoring(&self, message: &Message<'_>) -> Option<&Model> {
        let tracked = message.message_kind() == MessageKind::Whisper
            && message.sender_context().tracker.is_some();
        self.inner.whisper.as_ref().filter(|_| tracked)
    }

    /// A filter with the embedded default English rules and the default config.
    ///
    /// # Errors
    ///
    /// Never in practice: the embedded rules are checked by the test suite.
    pub fn default_english() -> Result<Filter, Error> {
        FilterBuilder::new()
            .rules(RuleSet::default_english()?)
            .build()
    }

    /// A builder.
    #[must_use]
    pub fn builder() -> FilterBuilder {
        FilterBuilder::new()
    }

    /// The config it was built with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The rule a hit refers to.
    ///
    /// # Panics
    ///
    /// If `id` comes from another filter and is out of range.
    #[must_use]
    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.inner.matcher.rules[id.index()]
    }

    /// Every rule, in the order of the files they came from.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.inner.matcher.rules
    }

    /// New scratch space for this filter.
    #[must_use]
    pub fn scratch(&self) -> Scratch {
        Scratch::new(self)
    }

    /// Checks a message. Allocates nothing once `scratch` has been used (a scratch made for
    /// another filter is rebuilt once).
    ///
    /// Features are computed only when a model is loaded. [`Verdict::score`] is the highest
    /// probability of any loaded model and [`Verdict::scores`] each one's; a spam model (or,
    /// for a whisper with tracker signals, the whisper model) that reaches the policy's
    /// thresholds adds [`Category::Spam`] (mild when it asks for review, moderate when it
    /// asks for a block, in [`Verdict::severity_of`]); a toxicity model that fires adds
    /// [`Category::Insult`] the same way. Without a [`SenderContext::tracker`] the whisper
    /// model does not score the message: see [`check_tracked`](Self::check_tracked).
    pub fn check_with<'s>(&self, scratch: &'s mut Scratch, message: &Message<'_>) -> Verdict<'s> {
        let oversized = self.fold_and_match(scratch, message);
        self.judge(scratch, message, oversized)
    }

    /// Checks a message and counts it in `tracker`, in one fold: when the message's sender
    /// context names a `sender_id`, the message is observed (to `recipient_id`, or recipient
    /// 0 when none is given) at `now_ms` with the fingerprint of its folded text, and the
    /// tracker's signals become features (see [`features`](crate::features)), and a whisper
    /// is scored by the whisper model ([`FilterBuilder::whisper_model`]). Without a
    /// `sender_id` this is [`check_with`](Self::check_with). Allocates nothing once `scratch`
    /// has been used.
    ///
    /// The fingerprint is [`Fingerprint::of_folded`] of the judged text: for a message within
    /// [`Config::max_message_bytes`] the same as [`Fingerprint::of_text`] with a
    /// [`Folder`](crate::fold::Folder) of that size; for a longer one, that of its prefix.
    ///
    /// ```
    /// use chatguard::tracker::{SenderTracker, TrackerConfig};
    /// use chatguard::{Filter, Message, MessageKind, SenderContext};
    ///
    /// let filter = Filter::default_english_with_models().unwrap();
    /// let tracker = SenderTracker::new(TrackerConfig::default());
    /// let mut scratch = filter.scratch();
    /// for (recipient, n) in [(1, "1"), (2, "2"), (3, "3")] {
    ///     let text = format!("hey check out my stream at twitch.tv/bot{n}");
    ///     let message = Message::new(&text).kind(MessageKind::Whisper).sender(SenderContext {
    ///         sender_id: Some(42),
    ///         recipient_id: Some(recipient),
    ///         ..SenderContext::default()
    ///     });
    ///     filter.check_tracked(&mut scratch, &message, &tracker, 1_000 * recipient);
    /// }
    /// // The three whispers were counted: a fourth near-duplicate makes a fan-out of four.
    /// let mut folder = chatguard::fold::Folder::new(512);
    /// let fourth = tracker.observe(&chatguard::tracker::SenderObservation {
    ///     sender: 42,
    ///     recipient: 4,
    ///     fingerprint: chatguard::tracker::Fingerprint::of_text(
    ///         &mut folder,
    ///         b"hey check out my stream at twitch.tv/bot4",
    ///     ),
    ///     now_ms: 4_000,
    /// });
    /// assert_eq!(fourth.near_duplicate_fanout, 4);
    /// ```
    pub fn check_tracked<'s>(
        &self,
        scratch: &'s mut Scratch,
        message: &Message<'_>,
        tracker: &SenderTracker,
        now_ms: u64,
    ) -> Verdict<'s> {
        let (counted, oversized) = self.fold_match_observe(scratch, message, tracker, now_ms);
        self.judge(scratch, &counted, oversized)
    }

    /// The features of a message as [`check_tracked`](Self::check_tracked) computes them:
    /// the message is folded once, observed in `tracker` (when it names a `sender_id`) and
    /// its features, tracker signals included, are returned as a model input. For training
    /// on replayed traffic (`chatguard features --whisper-stream`); allocates nothing once
    /// `scratch` has been used.
    ///
    /// ```
    /// use chatguard::tracker::{SenderTracker, TrackerConfig};
    /// use chatguard::{features, Filter, Message, MessageKind, SenderContext};
    ///
    /// let filter = Filter::default_english().unwrap();
    /// let tracker = SenderTracker::new(TrackerConfig::default());
    /// let mut scratch = filter.scratch();
    /// let fanout = features::NAMES.iter().position(|&n| n == "tracker_fanout_log").unwrap();
    /// for recipient in 1..=3u64 {
    ///     let text = format!("free gems at gift-skins.io/{recipient}");
    ///     let message = Message::new(&text).kind(MessageKind::Whisper).sender(SenderContext {
    ///         sender_id: Some(7),
    ///         recipient_id: Some(recipient),
    ///         ..SenderContext::default()
    ///     });
    ///     let row = filter.features_tracked(&mut scratch, &message, &tracker, 1_000 * recipient);
    ///     assert_eq!(row.dense[fanout], (recipient as f32).ln_1p());
    /// }
    /// ```
    pub fn features_tracked<'s>(
        &self,
        scratch: &'s mut Scratch,
        message: &Message<'_>,
        tracker: &SenderTracker,
        now_ms: u64,
    ) -> FeatureRow<'s> {
        let (counted, oversized) = self.fold_match_observe(scratch, message, tracker, now_ms);
        self.extract(scratch, &counted, oversized);
        scratch.features.row()
    }

    /// Folds and matches a message, then observes it in `tracker` (see
    /// [`check_tracked`](Self::check_tracked)): the message with the tracker's signals, and
    /// whether it was oversized.
    fn fold_match_observe<'m>(
        &self,
        scratch: &mut Scratch,
        message: &Message<'m>,
        tracker: &SenderTracker,
        now_ms: u64,
    ) -> (Message<'m>, bool) {
        let oversized = self.fold_and_match(scratch, message);
        (Self::observe(scratch, message, tracker, now_ms), oversized)
    }

    /// Observes a message already folded into `scratch` in `tracker`, fingerprinting its
    /// collapsed word view (what [`Fingerprint::of_folded`] reads), and returns it with the
    /// tracker's signals in its sender context; a message without a `sender_id` is returned
    /// as it is.
    fn observe<'m>(
        scratch: &Scratch,
        message: &Message<'m>,
        tracker: &SenderTracker,
        now_ms: u64,
    ) -> Message<'m> {
        let context = message.sender_context();
        let Some(sender) = context.sender_id else {
            return *message;
        };
        let signals = tracker.observe(&SenderObservation {
            sender,
            recipient: context.recipient_id.unwrap_or(0),
            fingerprint: Fingerprint::of_words(scratch.fold.word.as_str()),
            now_ms,
        });
        message.sender(SenderContext {
            tracker: Some(signals),
            ..*context
        })
    }

    /// The verdict on a message already folded and matched into `scratch`.
    fn judge<'s>(
        &self,
        scratch: &'s mut Scratch,
        message: &Message<'_>,
        oversized: bool,
    ) -> Verdict<'s> {
        let inner = &*self.inner;
        let kind = message.message_kind();
        let whisper = self.whisper_scoring(message);
        // An empty message has no text for the text models to judge (a model's intercept alone
        // is not a judgement of it), and a word alone too little (see
        // `Policy::models_min_words`); the whisper model judges the sender, not the text.
        let has_text = !message.text().is_empty()
            && scratch.fold.word.words.len() >= usize::from(self.policy(kind).models_min_words);
        let (spam, toxicity) = if has_text {
            (inner.spam.as_ref(), inner.toxicity.as_ref())
        } else {
            (None, None)
        };
        let scores = if spam.is_some() || toxicity.is_some() || whisper.is_some() {
            self.extract(scratch, message, oversized);
            let f = &mut scratch.features;
            // The linear models in one pass over the unmerged features; any other model on
            // the merged row.
            let margins = inner.linear.as_ref().map(|pair| {
                let margins = pair.margins(&f.named, f.named_spans(), f.entries(), f.inv_norm());
                (pair, margins)
            });
            let row = if inner.needs_row || whisper.is_some() {
                f.row()
            } else {
                FeatureRow::new(&[], &[])
            };
            // f32 is plenty for a probability a threshold is compared with.
            #[allow(clippy::cast_possible_truncation)]
            let score = |k: usize, m: &Model| match margins {
                Some((pair, margins)) if pair.has(k) => crate::model::expit(margins[k]) as f32,
                _ => m.predict_proba(row) as f32,
            };
            ModelScores {
                spam: spam.map(|m| score(0, m)),
                toxicity: toxicity.map(|m| score(1, m)),
                whisper: whisper.map(|m| score(2, m)),
            }
        } else {
            ModelScores::default()
        };
        let m = &scratch.matches;
        let decision = self.policy(kind).decide(&m.per_category, scores);
        let mut categories = m.categories;
        let mut per_category = m.per_category;
        if decision.spam || decision.whisper {
            categories.insert(Category::Spam);
            let severity = if decision.spam_action.max(decision.whisper_action) == Action::Block {
                Severity::Moderate
            } else {
                Severity::Mild
            };
            let slot = &mut per_category[Category::Spam as usize];
            *slot = (*slot).max(severity);
        }
        if decision.toxic {
            // The toxicity model was trained on hateful and offensive language; a verdict it
            // flags names that as an insult, so that no flagged verdict is left without a
            // category.
            categories.insert(Category::Insult);
            let severity = if decision.toxic_action == Action::Block {
                Severity::Moderate
            } else {
                Severity::Mild
            };
            let slot = &mut per_category[Category::Insult as usize];
            *slot = (*slot).max(severity);
        }
        Verdict {
            action: decision.action,
            categories,
            // The highest over the categories: rule hits, and the models that fire.
            severity: per_category
                .iter()
                .copied()
                .max()
                .unwrap_or(m.severity)
                .max(m.severity),
            per_category,
            score: scores.max(),
            scores,
            hits: &m.hits,
            hits_dropped: m.dropped,
            oversized: oversized || scratch.fold.truncated,
            evasive: m.evasive,
        }
    }

    fn policy(&self, kind: MessageKind) -> &Policy {
        match kind {
            MessageKind::Chat => &self.inner.config.chat,
            MessageKind::Whisper => &self.inner.config.whisper,
        }
    }

    /// Folds the message (its prefix when oversized) and matches the rules into `scratch`.
    /// Returns whether the message was oversized.
    fn fold_and_match(&self, scratch: &mut Scratch, message: &Message<'_>) -> bool {
        if scratch.filter_id != self.inner.id {
            *scratch = Scratch::new(self);
        }
        let text = self.judged_text(message);
        let matcher = &self.inner.matcher;
        // With regex rules (the default threat rules have one) the fast path is not tried:
        // measured with the default rules, trying it first costs SMS text, which often
        // leaves it late (a capital I, a digit inside a word), 11% more instructions and
        // saves chat lines 6%. The plain view that regexes search is built by `find` only
        // when a regex may match.
        scratch.fold.fold_for_rules(text, !matcher.has_regexes());
        matcher.find(
            &mut scratch.fold,
            text,
            message.message_kind(),
            &mut scratch.matches,
        );
        text.len() < message.text().len()
    }

    fn judged_text<'m>(&self, message: &Message<'m>) -> &'m [u8] {
        let max = self.inner.config.max_message_bytes;
        let text = message.text();
        if text.len() > max {
            &text[..floor_boundary(text, max)]
        } else {
            text
        }
    }

    /// Computes the features of a message already folded and matched into `scratch`.
    fn extract(&self, scratch: &mut Scratch, message: &Message<'_>, oversized: bool) {
        let m = &scratch.matches;
        let cx = features::Context {
            hits: &m.hits,
            severity: m.severity,
            evasive: m.evasive,
            kind: message.message_kind(),
            sender: message.sender_context(),
            oversized: oversized || scratch.fold.truncated,
        };
        scratch
            .features
            .extract(self.judged_text(message), &scratch.fold, &cx);
    }

    /// Computes the features of a message (whether or not a model is loaded) into `scratch`
    /// and returns them as a model input. Allocates nothing once `scratch` has been used.
    ///
    /// ```
    /// use chatguard::{Filter, Message};
    /// let filter = Filter::default_english().unwrap();
    /// let mut scratch = filter.scratch();
    /// let row = filter.features_with(&mut scratch, &Message::new("hello there"));
    /// assert_eq!(row.dense.len(), chatguard::features::NAMES.len());
    /// assert_eq!(row.hashed.len(), 2); // "hello", "there"
    /// ```
    pub fn features_with<'s>(
        &self,
        scratch: &'s mut Scratch,
        message: &Message<'_>,
    ) -> FeatureRow<'s> {
        let oversized = self.fold_and_match(scratch, message);
        self.extract(scratch, message, oversized);
        scratch.features.row()
    }

    /// The features of a message, owned, with the tokens they were hashed from (for tools;
    /// allocates).
    #[must_use]
    pub fn features(&self, message: &Message<'_>) -> Features {
        self.with_scratch(|filter, scratch| filter.features_with_scratch(scratch, message))
    }

    pub(crate) fn features_with_scratch(
        &self,
        scratch: &mut Scratch,
        message: &Message<'_>,
    ) -> Features {
        let row = self.features_with(scratch, message);
        let (named, hashed) = (row.dense.to_vec(), row.hashed.to_vec());
        Features {
            named,
            hashed,
            tokens: features::tokens(&scratch.fold.word),
        }
    }

    /// Checks a message with a pooled scratch space (convenient; may allocate).
    #[must_use]
    pub fn check(&self, message: &Message<'_>) -> OwnedVerdict {
        self.with_scratch(|filter, scratch| filter.check_with(scratch, message).to_owned())
    }

    fn with_scratch<T>(&self, f: impl FnOnce(&Filter, &mut Scratch) -> T) -> T {
        let pooled = self.inner.pool.lock().ok().and_then(|mut p| p.pop());
        let mut scratch = pooled.unwrap_or_else(|| self.scratch());
        let out = f(self, &mut scratch);
        if let Ok(mut pool) = self.inner.pool.lock() {
            if pool.len() < 16 {
                pool.push(scratch);
            }
        }
        out
    }

    /// Checks a message and writes its text into `out` with every hit masked: each visible
    /// character of a hit becomes `*` (invisible characters and marks inside it are dropped).
    /// `out` is cleared first; it allocates only if its capacity is too small.
    pub fn censor_with<'s>(
        &self,
        scratch: &'s mut Scratch,
        message: &Message<'_>,
        out: &mut Vec<u8>,
    ) -> Verdict<'s> {
        let verdict = self.check_with(scratch, message);
        censor_into(message.text(), verdict.hits(), out);
        verdict
    }

    /// The text with every hit masked (convenient; allocates).
    ///
    /// ```
    /// let filter = chatguard::Filter::default_english().unwrap();
    /// assert_eq!(filter.censor("oh sh1t, gg"), "oh ****, gg");
    /// ```
    #[must_use]
    pub fn censor(&self, text: &str) -> String {
        let mut out = Vec::with_capacity(text.len());
        self.with_scratch(|filter, scratch| {
            filter.censor_with(scratch, &Message::new(text), &mut out);
        });
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Why the text models did not score a message with text, if they did not: it has fewer
    /// words than the policy's `models_min_words`.
    fn too_short_for_the_models(
        &self,
        message: &Message<'_>,
        folded: &Folded,
        scores: ModelScores,
    ) -> Option<String> {
        let loaded = self.inner.spam.is_some() || self.inner.toxicity.is_some();
        if !loaded
            || message.text().is_empty()
            || scores.spam.is_some()
            || scores.toxicity.is_some()
        {
            return None;
        }
        let words = folded
            .word_collapsed
            .split(' ')
            .filter(|w| !w.is_empty())
            .count();
        Some(format!(
            "spam and toxicity models not scored: {words} word(s), fewer than {} (models_min_words)",
            self.policy(message.message_kind()).models_min_words
        ))
    }

    /// Explains the verdict on a message: folded views, each hit with its rule, the model
    /// scores with the features that weighed most (linear models) or the path taken (a
    /// decision tree), and the reason for the action. For tools; allocates.
    ///
    /// The message is checked as [`check_with`](Self::check_with) checks it: to explain a
    /// whisper as [`check_tracked`](Self::check_tracked) judged it, set its
    /// [`SenderContext::tracker`] to the signals the tracker gave.
    #[must_use]
    pub fn explain(&self, message: &Message<'_>) -> Explanation {
        let verdict = self.check(message);
        let text = String::from_utf8_lossy(message.text()).into_owned();
        let folded = fold::fold(&text);
        let hits = verdict
            .hits()
            .iter()
            .map(|h| ExplainedHit {
                hit: *h,
                rule: self.rule(h.rule).clone(),
                matched: String::from_utf8_lossy(&message.text()[h.span.range()]).into_owned(),
            })
            .collect::<Vec<_>>();
        let policy = self.policy(message.message_kind());
        let mut reasons = Vec::new();
        if let Some(worst) = hits.iter().max_by_key(|h| h.hit.severity) {
            reasons.push(format!(
                "{} hit of `{}` ({}:{}) reaches {} for {} messages (review at {}, block at {})",
                worst.hit.severity,
                worst.rule.pattern_shown(),
                worst.rule.file(),
                worst.rule.line(),
                policy.action(worst.hit.severity),
                message.message_kind().name(),
                policy.review_at,
                policy.block_at
            ));
        }
        let scores = verdict.scores();
        let threshold = |t: Option<f32>| t.map_or_else(|| "never".to_owned(), |t| t.to_string());
        for (name, score, review, block) in [
            (
                "spam",
                scores.spam,
                policy.spam_review_at,
                policy.spam_block_at,
            ),
            (
                "toxicity",
                scores.toxicity,
                policy.toxicity_review_at,
                policy.toxicity_block_at,
            ),
            (
                "whisper",
                scores.whisper,
                policy.whisper_review_at,
                policy.whisper_block_at,
            ),
        ] {
            if let Some(score) = score {
                reasons.push(format!(
                    "{name} model score {score:.4} (review at {}, block at {})",
                    threshold(review),
                    threshold(block)
                ));
            }
        }
        if message.message_kind() == MessageKind::Whisper
            && self.inner.whisper.is_some()
            && scores.whisper.is_none()
        {
            reasons.push(
                "whisper model not scored: the whisper has no sender-tracker signals".to_owned(),
            );
        }
        reasons.extend(self.too_short_for_the_models(message, &folded, scores));
        if hits.is_empty() {
            reasons.insert(0, "no rule matched".to_owned());
        }
        let whisper = self.whisper_scoring(message);
        let (features, contributions, paths) =
            if self.inner.spam.is_some() || self.inner.toxicity.is_some() || whisper.is_some() {
                let features = self.features(message);
                let contributions = self.contributions(&features);
                let row = FeatureRow::new(&features.named, &features.hashed);
                let paths = [
                    ("spam", self.inner.spam.as_ref()),
                    ("toxicity", self.inner.toxicity.as_ref()),
                    ("whisper", whisper),
                ]
                .into_iter()
                .filter_map(|(name, model)| {
                    let path = model?.decision_path(row)?;
                    Some(TreePath::new(name, path))
                })
                .collect();
                (Some(features), contributions, paths)
            } else {
                (None, Vec::new(), Vec::new())
            };
        Explanation {
            sender: *message.sender_context(),
            folded,
            hits,
            reason: reasons.join("; "),
            verdict,
            features,
            contributions,
            paths,
        }
    }

    /// Explains a message as [`check_tracked`](Self::check_tracked) judges it: the message is
    /// observed in `tracker` at `now_ms` (counting it, as `check_tracked` would) and explained
    /// with the tracker's signals in its sender context, so that a whisper's explanation shows
    /// the whisper model's score and path. Without a `sender_id` this is
    /// [`explain`](Self::explain). For tools; allocates.
    ///
    /// ```
    /// use chatguard::tracker::{SenderTracker, TrackerConfig};
    /// use chatguard::{Filter, Message, MessageKind, SenderContext};
    ///
    /// let filter = Filter::default_english_with_models().unwrap();
    /// let tracker = SenderTracker::new(TrackerConfig::default());
    /// let context = |recipient| SenderContext {
    ///     account_age_secs: Some(86_400),
    ///     first_contact: Some(true),
    ///     sender_id: Some(9),
    ///     recipient_id: Some(recipient),
    ///     ..SenderContext::default()
    /// };
    /// let mut last = None;
    /// for recipient in 1..=4u64 {
    ///     let text = format!("hey, join my guild, we raid every night {recipient}");
    ///     let message = Message::new(&text).kind(MessageKind::Whisper).sender(context(recipient));
    ///     last = Some(filter.explain_tracked(&message, &tracker, 10_000 * recipient));
    /// }
    /// let explanation = last.unwrap();
    /// assert!(explanation.verdict.flagged());
    /// let path = &explanation.paths[0];
    /// assert_eq!(path.model, "whisper");
    /// assert!(path.names.iter().any(|n| n == "tracker_fanout_log"));
    /// assert_eq!(explanation.verdict.scores().whisper, Some(path.path.leaf as f32));
    /// ```
    #[must_use]
    pub fn explain_tracked(
        &self,
        message: &Message<'_>,
        tracker: &SenderTracker,
        now_ms: u64,
    ) -> Explanation {
        let counted = self.with_scratch(|filter, scratch| {
            filter.fold_and_match(scratch, message);
            Self::observe(scratch, message, tracker, now_ms)
        });
        self.explain(&counted)
    }

    /// The largest terms `weight × value` of each linear model for `features`.
    fn contributions(&self, features: &Features) -> Vec<Contribution> {
        const SHOWN: usize = 12;
        let n_named = features::NAMES.len();
        // Which n-grams landed in each hashed column.
        let slots = features::hashing::FeatureHasher::new(0, features::HASH_BITS, true);
        let mut ngrams: std::collections::HashMap<u32, Vec<String>> =
            std::collections::HashMap::new();
        let (lo, hi) = features::WORD_NGRAMS;
        for i in 0..features.tokens.len() {
            for n in usize::from(lo)..=usize::from(hi) {
                if let Some(words) = features.tokens.get(i..i + n) {
                    let ngram = words.join(" ");
                    ngrams
                        .entry(slots.slot(&ngram).index)
                        .or_default()
                        .push(ngram);
                }
            }
        }
        let mut out = Vec::new();
        for (model_name, model) in [
            ("spam", &self.inner.spam),
            ("toxicity", &self.inner.toxicity),
        ] {
            let Some(model) = model else { continue };
            let mut terms: Vec<Contribution> = Vec::new();
            let named = features.named.iter().enumerate().map(|(j, &x)| (j, x));
            let hashed = features
                .hashed
                .iter()
                .map(|&(i, x)| (n_named + i as usize, x));
            for (j, x) in named.chain(hashed) {
                if x == 0.0 {
                    continue;
                }
                let Some(weight) = model.linear_weight(j) else {
                    break;
                };
                if weight == 0.0 {
                    continue;
                }
                let feature = if j < n_named {
                    features::NAMES[j].to_owned()
                } else {
                    #[allow(clippy::cast_possible_truncation)]
                    let index = (j - n_named) as u32;
                    match ngrams.get(&index) {
                        Some(list) => format!("{:?}", list.join(" | ")),
                        None => format!("hashed[{index}]"),
                    }
                };
                terms.push(Contribution {
                    model: model_name,
                    feature,
                    value: x,
                    weight,
                });
            }
            terms.sort_by(|a, b| b.amount().abs().total_cmp(&a.amount().abs()));
            terms.truncate(SHOWN);
            out.extend(terms);
        }
        out
    }
}

impl Default for Filter {
    /// The default English filter ([`Filter::default_english`]).
    ///
    /// # Panics
    ///
    /// Never: the embedded rules are checked by the test suite.
    fn default() -> Self {
        Filter::default_english().expect("the embedded default rules are valid")
    }
}

/// The largest index `<= max` that does not split a UTF-8 sequence of `text`.
fn floor_boundary(text: &[u8], max: usize) -> usize {
    let mut end = max.min(text.len());
    // A UTF-8 sequence is at most 4 bytes: step back over at most 3 continuation bytes.
    let mut steps = 0;
    while end > 0 && end < text.len() && (text[end] & 0xC0) == 0x80 && steps < 3 {
        end -= 1;
        steps += 1;
    }
    end
}

fn censor_into(text: &[u8], hits: &[Hit], out: &mut Vec<u8>) {
    out.clear();
    let mut at = 0;
    for span in crate::verdict::merged_spans(hits.iter().map(|h| h.span)) {
        let (start, end) = (span.start.max(at), span.end);
        if end <= start {
            continue;
        }
        out.extend_from_slice(&text[at..start]);
        for chunk in text[start..end].utf8_chunks() {
            for c in chunk.valid().chars() {
                if !matches!(
                    fold::fold_char(c),
                    fold::CharFold::Invisible | fold::CharFold::Mark
                ) {
                    out.push(b'*');
                }
            }
            if !chunk.invalid().is_empty() {
                out.push(b'*');
            }
        }
        at = end;
    }
    out.extend_from_slice(&text[at..]);
}

/// Why a message got its verdict; see [`Filter::explain`].
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The sender context the message was checked with, tracker signals included.
    pub sender: SenderContext,
    /// The folded views of the message.
    pub folded: Folded,
    /// Each hit with its rule and the original text it covers.
    pub hits: Vec<ExplainedHit>,
    /// The verdict.
    pub verdict: OwnedVerdict,
    /// Why the action was chosen: the worst hit and each model's score.
    pub reason: String,
    /// The features, when a model is loaded.
    pub features: Option<Features>,
    /// The features that weighed most in each linear model's score, largest first.
    pub contributions: Vec<Contribution>,
    /// The path each single-tree model that scored the message took, in the order spam,
    /// toxicity, whisper (see [`Model::decision_path`]; ensembles have none).
    pub paths: Vec<TreePath>,
}

/// The path one decision-tree model took for a message; see [`Explanation`].
#[derive(Clone, Debug, PartialEq)]
pub struct TreePath {
    /// Which model: `spam`, `toxicity` or `whisper`.
    pub model: &'static str,
    /// The splits from the root and the leaf, whose value is the model's probability.
    pub path: DecisionPath,
    /// The name of the feature each step of `path` reads: a name from
    /// [`features::NAMES`], or `hashed[i]` for a hashed column.
    pub names: Vec<String>,
}

impl TreePath {
    fn new(model: &'static str, path: DecisionPath) -> TreePath {
        let names = path
            .steps
            .iter()
            .map(|step| match features::NAMES.get(step.feature) {
                Some(name) => (*name).to_owned(),
                None => format!("hashed[{}]", step.feature - features::NAMES.len()),
            })
            .collect();
        TreePath { model, path, names }
    }
}

/// One term of a linear model's score; see [`Explanation`].
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// Which model: `spam` or `toxicity`.
    pub model: &'static str,
    /// The feature: a name from [`features::NAMES`], or the n-grams hashed into a column.
    pub feature: String,
    /// The feature's value.
    pub value: f32,
    /// The model's weight for it.
    pub weight: f64,
}

impl Contribution {
    /// `weight × value`: how much the feature moved the log-odds.
    #[must_use]
    pub fn amount(&self) -> f64 {
        self.weight * f64::from(self.value)
    }
}

/// A hit with its rule; see [`Explanation`].
#[derive(Clone, Debug)]
pub struct ExplainedHit {
    /// The hit.
    pub hit: Hit,
    /// The rule that matched.
    pub rule: Rule,
    /// The original text of the hit.
    pub matched: String,
}
