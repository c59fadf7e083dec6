//! The [`Filter`]: built once from rules and config, immutable, shared by every thread; and
//! the per-thread [`Scratch`] it checks messages with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::decide::Policy;
use crate::error::Error;
use crate::fold::{self, FoldBuffers, Folded};
use crate::message::{Message, MessageKind};
use crate::rules::CompileLimits;
use crate::rules::{MatchBuffers, Matcher, Rule, RuleSet};
use crate::verdict::{Hit, OwnedVerdict, RuleId, Verdict};

/// Settings fixed when a [`Filter`] is built.
///
/// ```
/// let mut config = chatguard::Config::default();
/// config.max_message_bytes = 1024;
/// let filter = chatguard::FilterBuilder::new().config(config).default_rules().build().unwrap();
/// assert_eq!(filter.config().max_message_bytes, 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
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

    /// Compiles the rules and builds the filter. All validation, size limits and allocation
    /// happen here.
    ///
    /// # Errors
    ///
    /// Invalid rules (every problem, with file, line and column), or a size limit exceeded.
    pub fn build(&self) -> Result<Filter, Error> {
        let config = self.config.clone();
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
        Ok(Filter {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                config,
                matcher,
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
}

impl Scratch {
    /// Buffers sized for `filter`.
    #[must_use]
    pub fn new(filter: &Filter) -> Scratch {
        let inner = &filter.inner;
        Scratch {
            filter_id: inner.id,
            fold: FoldBuffers::new(inner.config.max_message_bytes),
            matches: MatchBuffers::new(&inner.matcher, inner.config.max_hits),
        }
    }
}

impl Filter {
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
    pub fn check_with<'s>(&self, scratch: &'s mut Scratch, message: &Message<'_>) -> Verdict<'s> {
        if scratch.filter_id != self.inner.id {
            *scratch = Scratch::new(self);
        }
        let config = &self.inner.config;
        let text = message.text();
        let oversized = text.len() > config.max_message_bytes;
        let text = if oversized {
            &text[..floor_boundary(text, config.max_message_bytes)]
        } else {
            text
        };
        scratch
            .fold
            .fold_views(text, self.inner.matcher.needs_plain());
        let kind = message.message_kind();
        self.inner
            .matcher
            .find(&scratch.fold, kind, &mut scratch.matches);
        let m = &scratch.matches;
        let policy = match kind {
            MessageKind::Chat => &config.chat,
            MessageKind::Whisper => &config.whisper,
        };
        Verdict {
            action: policy.action(m.severity),
            categories: m.categories,
            severity: m.severity,
            per_category: m.per_category,
            score: 0.0,
            hits: &m.hits,
            hits_dropped: m.dropped,
            oversized: oversized || scratch.fold.truncated,
            evasive: m.evasive,
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

    /// Explains the verdict on a message: folded views, each hit with its rule, and the
    /// reason for the action. For tools; allocates.
    #[must_use]
    pub fn explain(&self, message: &Message<'_>) -> Explanation {
        let verdict = self.check(message);
        let text = String::from_utf8_lossy(message.text()).into_owned();
        let hits = verdict
            .hits()
            .iter()
            .map(|h| ExplainedHit {
                hit: *h,
                rule: self.rule(h.rule).clone(),
                matched: String::from_utf8_lossy(&message.text()[h.span.range()]).into_owned(),
            })
            .collect::<Vec<_>>();
        let policy = match message.message_kind() {
            MessageKind::Chat => &self.inner.config.chat,
            MessageKind::Whisper => &self.inner.config.whisper,
        };
        let reason = match hits.iter().max_by_key(|h| h.hit.severity) {
            None => "no rule matched".to_owned(),
            Some(worst) => format!(
                "{} hit of `{}` ({}:{}) reaches {} for {} messages (review at {}, block at {})",
                worst.hit.severity,
                worst.rule.pattern(),
                worst.rule.file(),
                worst.rule.line(),
                verdict.action(),
                message.message_kind().name(),
                policy.review_at,
                policy.block_at
            ),
        };
        Explanation {
            folded: fold::fold(&text),
            hits,
            verdict,
            reason,
        }
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
    let mut i = 0;
    while i < hits.len() {
        // Hits are sorted by start: merge the ones that overlap.
        let start = hits[i].span.start.max(at);
        let mut end = hits[i].span.end;
        i += 1;
        while i < hits.len() && hits[i].span.start < end {
            end = end.max(hits[i].span.end);
            i += 1;
        }
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
    /// The folded views of the message.
    pub folded: Folded,
    /// Each hit with its rule and the original text it covers.
    pub hits: Vec<ExplainedHit>,
    /// The verdict.
    pub verdict: OwnedVerdict,
    /// One sentence on why the action was chosen.
    pub reason: String,
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
