//! Features: the fixed, named feature vector and the hashed n-gram block a model scores.
//!
//! This module holds the [`schema`](mod@schema) (names, order and hashing parameters, with a fingerprint
//! a model file is checked against), the [`hashing`] rules shared with scikit-learn, and the
//! extractor that fills a feature row from a message, its folded views and its rule hits.
//!
//! # The features (schema version 2)
//!
//! Every named feature is neutral (`0`) when its input is absent or unknown. Counts are
//! written as `ln(1 + count)` so that a linear model sees them on the scale of the ratios.
//!
//! | name | value |
//! |---|---|
//! | `len_chars_log`, `len_bytes_log`, `words_log` | `ln(1 + n)` of characters, bytes, tokens |
//! | `caps_ratio` | upper-case letters / letters |
//! | `digit_ratio`, `symbol_ratio` | ASCII digits, ASCII punctuation / non-space characters |
//! | `non_ascii_ratio` | non-ASCII characters / characters |
//! | `letter_run_log` | `ln` of the longest run of one letter or digit in the folded words (`soooo` → `ln 4`) |
//! | `distinct_char_ratio` | distinct characters / characters |
//! | `urls_log`, `mentions_log`, `emoji_log` | `ln(1 + n)` of links, `@name`s, emoji |
//! | `exclamations_log`, `currency_log` | `ln(1 + n)` of `!` and of `$ £ € ¥` |
//! | `fold_*` | `ln(1 + n)` of each [`crate::fold::FoldStats`] count |
//! | `hits_<category>_log` | `ln(1 + n)` of rule hits of each category |
//! | `hit_severity` | highest hit severity: 0, 1/3, 2/3, 1 |
//! | `hit_evasive` | 1 when a hit was found only after undoing a disguise |
//! | `kind_whisper` | 1 for a whisper |
//! | `sender_age_known`, `sender_age_days_log` | whether the account age is known; `ln(1 + days)` |
//! | `sender_first_contact`, `sender_verified`, `sender_moderator` | 1 yes, -1 no, 0 unknown |
//! | `oversized` | 1 when the message was judged on a prefix |
//! | `tokens_truncated` | 1 when tokens past [`MAX_TOKENS`] were not hashed |
//! | `tracker_known` | 1 when [`SenderSignals`](crate::tracker::SenderSignals) were given |
//! | `tracker_messages_log`, `tracker_recipients_log`, `tracker_fanout_log` | `ln(1 + n)` of the sender's messages, distinct recipients and near-duplicate fan-out in the tracker's window |
//! | `tracker_known_minutes_log` | `ln(1 + minutes)` the tracker has known the sender |
//!
//! Rule-hit features depend on the filter's rules: the default models were trained with the
//! default English rules.
//!
//! # Hashed n-grams (tokenizer `chatguard-words-v1`)
//!
//! Tokens are the words of the folded word view (lower case, confusables and compatibility
//! forms mapped, marks and invisibles dropped, `v` as `u`), with every repeated letter kept at
//! most twice (`freeeee` → `free`), and a token made only of digits replaced by its shape
//! (`<n2>` for 1–2 digits, `<n4>` for 3–4, `<n5>` for more). Each token is a word unigram
//! ([`WORD_NGRAMS`]), hashed with [`hashing::FeatureHasher`], and the block is
//! L2-normalized: exactly what `HashingVectorizer(analyzer=lambda tokens: tokens,
//! norm="l2", alternate_sign=True)` computes from the
//! same token list. At most [`MAX_TOKENS`] tokens are hashed.
//!
//! The schema can describe character n-grams (`char_ngrams`), but this version hashes none:
//! adding `char_wb` 2–4-grams of the same tokens scored no better on the default models'
//! test splits (spam MCC 0.929–0.933 against 0.929, toxicity macro-F1 0.930–0.933 against
//! 0.934) and would have cost several times the word hashing.
//!
//! On the hot path the block is kept as one `(column, sign)` entry per token with the
//! factor that normalizes it: a linear model's dot product is the same sum, so nothing is
//! sorted unless a model needs the merged row (trees, calibrated models) or a tool asks.
//!
//! ```
//! use chatguard::{Filter, Message};
//! let filter = Filter::default_english().unwrap();
//! let features = filter.features(&Message::new("FREE robux at www.free-robux.example!!"));
//! assert_eq!(features.named.len(), chatguard::features::NAMES.len());
//! assert_eq!(features.get("urls_log"), Some(2f32.ln()));
//! assert_eq!(features.tokens[0], "free");
//! ```

pub mod hashing;
mod lexical;
pub mod schema;

use std::sync::{Arc, Mutex};

use crate::fold::{FoldBuffers, FoldStats, View, WORD_HAS_RUN};
use crate::message::{MessageKind, SenderContext};
use crate::model::{FeatureRow, TextFeaturizer};
use crate::verdict::{Category, Hit, Severity};

use hashing::FeatureHasher;
use lexical::Lexical;
use schema::{FeatureSchema, Hashing};

/// Version of the feature definitions (see the module docs).
pub const VERSION: u32 = 2;

/// The name of the tokenizer the hashed block is computed from.
pub const TOKENIZER: &str = "chatguard-words-v1";

/// Bits of the hashed block: `2^16` columns. (On the default models' test splits 14 to 18
/// bits score within 0.005 of each other; fewer columns keep the weights in cache.)
pub const HASH_BITS: u8 = 16;

/// Word n-gram lengths hashed: unigrams. (Adding bigrams scored no better on the default
/// models' test splits, and hashing them was half the cost of the features.)
pub const WORD_NGRAMS: (u8, u8) = (1, 1);

/// At most this many tokens of a message are hashed (the rest are ignored).
pub const MAX_TOKENS: usize = 256;

/// How tokens are hashed into columns (a constant, so the column mask is one too).
const HASHER: FeatureHasher = FeatureHasher::new(0, HASH_BITS, true);

/// Words of the filter [`FeatureBuffers::hash_tokens`] finds repeated columns with: 2,048
/// bits, 256 bytes to clear a message. A chat line of ten tokens almost never looks for a
/// pair in vain; one of [`MAX_TOKENS`] tokens does about 16 times, which costs it less than
/// clearing a bit per column of the block did (1,024 bits cost 4 KiB lines 0.5% more).
const SEEN_WORDS: usize = 32;

/// The number of named features.
pub const N_NAMED: usize = 44;

/// The named features, in column order.
pub const NAMES: [&str; N_NAMED] = [
    "len_chars_log",
    "len_bytes_log",
    "words_log",
    "caps_ratio",
    "digit_ratio",
    "symbol_ratio",
    "non_ascii_ratio",
    "letter_run_log",
    "distinct_char_ratio",
    "urls_log",
    "mentions_log",
    "emoji_log",
    "exclamations_log",
    "currency_log",
    "fold_confusables_log",
    "fold_compat_log",
    "fold_invisibles_log",
    "fold_marks_log",
    "fold_leet_log",
    "fold_separators_skipped_log",
    "fold_joined_letters_log",
    "fold_invalid_utf8_log",
    "fold_mixed_script_words_log",
    "hits_profanity_log",
    "hits_sexual_log",
    "hits_slur_log",
    "hits_insult_log",
    "hits_threat_log",
    "hits_spam_log",
    "hit_severity",
    "hit_evasive",
    "kind_whisper",
    "sender_age_known",
    "sender_age_days_log",
    "sender_first_contact",
    "sender_verified",
    "sender_moderator",
    "oversized",
    "tokens_truncated",
    "tracker_known",
    "tracker_messages_log",
    "tracker_recipients_log",
    "tracker_fanout_log",
    "tracker_known_minutes_log",
];

// Column indices, named so the extractor reads like the table above.
const LEN_CHARS: usize = 0;
const LEN_BYTES: usize = 1;
const WORDS: usize = 2;
const CAPS: usize = 3;
const DIGITS: usize = 4;
const SYMBOLS: usize = 5;
const NON_ASCII: usize = 6;
const LETTER_RUN: usize = 7;
const DISTINCT: usize = 8;
const URLS: usize = 9;
const MENTIONS: usize = 10;
const EMOJI: usize = 11;
const EXCLAMATIONS: usize = 12;
const CURRENCY: usize = 13;
const FOLD_FIRST: usize = 14;
const HITS_FIRST: usize = 23;
const HIT_SEVERITY: usize = 29;
const HIT_EVASIVE: usize = 30;
const KIND_WHISPER: usize = 31;
const AGE_KNOWN: usize = 32;
const AGE_DAYS: usize = 33;
const FIRST_CONTACT: usize = 34;
const VERIFIED: usize = 35;
const MODERATOR: usize = 36;
const OVERSIZED: usize = 37;
const TOKENS_TRUNCATED: usize = 38;
const TRACKER_KNOWN: usize = 39;
const TRACKER_MESSAGES: usize = 40;
const TRACKER_RECIPIENTS: usize = 41;
const TRACKER_FANOUT: usize = 42;
const TRACKER_KNOWN_MINUTES: usize = 43;

/// The schema of the features this version of chatguard computes. A model is usable only if
/// it was trained on exactly this schema.
///
/// ```
/// let schema = chatguard::features::schema();
/// assert_eq!(schema.names[0], "len_chars_log");
/// assert_eq!(schema.hashing.tokenizer, chatguard::features::TOKENIZER);
/// ```
#[must_use]
pub fn schema() -> FeatureSchema {
    FeatureSchema {
        version: VERSION,
        names: NAMES.iter().map(|&n| n.to_owned()).collect(),
        hashing: Hashing {
            seed: 0,
            bits: HASH_BITS,
            word_ngrams: WORD_NGRAMS,
            char_ngrams: (0, 0),
            tokenizer: TOKENIZER.to_owned(),
            alternate_sign: true,
        },
    }
}

/// A [`Loader`](crate::model::Loader) that refuses models built for other features and
/// re-runs text golden checks through the extractor (with the default English rules).
///
/// ```
/// let model = chatguard::features::loader()
///     .load_slice("spam.json", chatguard::Filter::DEFAULT_SPAM_MODEL)
///     .unwrap();
/// assert!(model.golden_summary().checked > 0);
/// ```
#[must_use]
pub fn loader() -> crate::model::Loader {
    let mut loader = crate::model::Loader::new();
    loader.expect_schema(schema());
    if let Ok(extractor) = Extractor::default_english() {
        loader.text_featurizer(Arc::new(extractor));
    }
    loader
}

/// The features of one message, owned: for tools, explanations and tests. The hot path
/// computes the same values into buffers inside a [`Scratch`](crate::Scratch).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    /// The named features, in [`NAMES`] order.
    pub named: Vec<f32>,
    /// The non-zero hashed entries, `(index in the hashed block, value)`, sorted by index.
    pub hashed: Vec<(u32, f32)>,
    /// The tokens the hashed block was computed from.
    pub tokens: Vec<String>,
}

impl Features {
    /// The value of a named feature.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<f32> {
        let i = NAMES.iter().position(|&n| n == name)?;
        self.named.get(i).copied()
    }
}

/// Computes features for text golden checks and tools: a filter (for its rules) and one
/// scratch space behind a lock. Not for the hot path, which uses
/// [`Filter::check_with`](crate::Filter::check_with).
#[derive(Debug)]
pub struct Extractor {
    filter: crate::Filter,
    scratch: Mutex<crate::Scratch>,
}

impl Extractor {
    /// An extractor computing rule-hit features with `filter`'s rules.
    #[must_use]
    pub fn new(filter: &crate::Filter) -> Extractor {
        Extractor {
            filter: filter.clone(),
            scratch: Mutex::new(filter.scratch()),
        }
    }

    /// An extractor with the default English rules (the ones the default models were
    /// trained with).
    ///
    /// # Errors
    ///
    /// Never in practice: the embedded rules are checked by the test suite.
    pub fn default_english() -> Result<Extractor, crate::Error> {
        Ok(Extractor::new(&crate::Filter::default_english()?))
    }

    /// The features of a chat line with no sender context.
    #[must_use]
    pub fn features(&self, message: &crate::Message<'_>) -> Features {
        match self.scratch.lock() {
            Ok(mut scratch) => self.filter.features_with_scratch(&mut scratch, message),
            Err(_) => self.filter.features(message),
        }
    }
}

impl TextFeaturizer for Extractor {
    fn featurize(&self, text: &str, named: &mut Vec<f32>, hashed: &mut Vec<(u32, f32)>) {
        let f = self.features(&crate::Message::new(text));
        named.clear();
        named.extend_from_slice(&f.named);
        hashed.clear();
        hashed.extend_from_slice(&f.hashed);
    }
}

/// Per-thread buffers the extractor writes into. Sized once; never grow.
#[derive(Clone, Debug)]
pub(crate) struct FeatureBuffers {
    pub named: [f32; N_NAMED],
    /// The hashed block of the last message as one `(column, sign)` entry per token, in token
    /// order: not merged, not normalized. Linear models score it directly (see
    /// [`inv_norm`](Self::inv_norm)); [`row`](Self::row) builds the merged form on demand.
    entries: Box<[(u32, f32); MAX_TOKENS]>,
    /// How many of `entries` the last message has.
    n_entries: usize,
    /// `‖merged block‖₂`, 0 for an empty block.
    norm: f64,
    /// Sorted, merged, L2-normalized entries, valid when `merged` is set.
    hashed: Vec<(u32, f32)>,
    merged: bool,
    /// Hashes of the digit shapes `<n2>`, `<n4>`, `<n5>`.
    shapes: [i32; 3],
    /// Which groups of named features may be non-zero for the last message.
    groups: Groups,
}

/// Groups of named features that are all zero when their inputs are absent (no folding
/// undone, no rule hit, a chat line with no sender context), which most messages are.
#[derive(Clone, Copy, Debug, Default)]
struct Groups {
    /// `fold_*`.
    fold: bool,
    /// `hits_*`, `hit_severity`, `hit_evasive`.
    hits: bool,
    /// `kind_whisper` to the end: message kind, sender context, size flags, tracker.
    context: bool,
}

impl Default for FeatureBuffers {
    fn default() -> Self {
        FeatureBuffers::new()
    }
}

/// What the extractor reads besides the text and the folded views.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    pub hits: &'a [Hit],
    pub severity: Severity,
    pub evasive: bool,
    pub kind: MessageKind,
    pub sender: &'a SenderContext,
    pub oversized: bool,
}

impl FeatureBuffers {
    pub fn new() -> FeatureBuffers {
        let shape = |s: &[u8]| {
            let mut h = HASHER.start();
            h.write(s);
            h.finish()
        };
        FeatureBuffers {
            named: [0.0; N_NAMED],
            entries: Box::new([(0, 0.0); MAX_TOKENS]),
            n_entries: 0,
            norm: 0.0,
            hashed: Vec::with_capacity(MAX_TOKENS),
            merged: false,
            shapes: [shape(b"<n2>"), shape(b"<n4>"), shape(b"<n5>")],
            groups: Groups::default(),
        }
    }

    /// Fills the buffers for one message. Allocates nothing.
    pub fn extract(&mut self, text: &[u8], fold: &FoldBuffers, cx: &Context<'_>) {
        self.named = [0.0; N_NAMED];
        lexical_features(&Lexical::of(text), text.len(), &mut self.named);
        // Groups whose inputs are all absent stay zero and are skipped by linear scoring.
        let s = &fold.stats;
        let folded = s.confusables
            | s.compat
            | s.invisibles
            | s.marks
            | s.leet
            | s.separators_skipped
            | s.joined_letters
            | s.invalid_utf8
            | s.mixed_script_words;
        self.groups.fold = folded != 0;
        if self.groups.fold {
            fold_features(s, &mut self.named);
        }
        self.groups.hits = !cx.hits.is_empty() || cx.severity != Severity::None || cx.evasive;
        self.groups.context =
            cx.kind != MessageKind::Chat || *cx.sender != SenderContext::default() || cx.oversized;
        // Zero inputs give zero features: the groups whose inputs are absent are left zero.
        if self.groups.hits {
            self.hit_features(cx);
        }
        if self.groups.context {
            self.context_features(cx);
        }
        let truncated = self.hash_tokens(&fold.word);
        self.named[WORDS] = ln1p(self.n_entries);
        self.named[LETTER_RUN] = if fold.word.max_run > 1 {
            f32::from(fold.word.max_run).ln()
        } else {
            0.0
        };
        self.named[TOKENS_TRUNCATED] = flag(truncated);
        self.groups.context |= truncated;
        debug_assert!(
            (0..N_NAMED)
                .all(|i| self.named[i] == 0.0 || self.named_spans().any(|s| s.contains(&i))),
            "a named feature outside the spans linear scoring visits is not zero"
        );
    }

    /// The spans of named features that may be non-zero for the last message (the others
    /// are zero): what a linear model's dot product needs to visit.
    pub fn named_spans(&self) -> impl Iterator<Item = std::ops::Range<usize>> {
        let g = self.groups;
        [
            (true, 0..FOLD_FIRST),
            (g.fold, FOLD_FIRST..HITS_FIRST),
            (g.hits, HITS_FIRST..KIND_WHISPER),
            (g.context, KIND_WHISPER..N_NAMED),
        ]
        .into_iter()
        .filter_map(|(any, span)| any.then_some(span))
    }

    /// The unmerged hashed entries, one per token.
    pub fn entries(&self) -> &[(u32, f32)] {
        &self.entries[..self.n_entries]
    }

    /// The factor that L2-normalizes the hashed block (0 for an empty block).
    pub fn inv_norm(&self) -> f64 {
        if self.norm > 0.0 {
            1.0 / self.norm
        } else {
            0.0
        }
    }

    /// The features as a model input, with the hashed block sorted, merged and normalized as
    /// scikit-learn's `HashingVectorizer` leaves it. The first call after
    /// [`extract`](Self::extract) builds that block; allocates nothing.
    pub fn row(&mut self) -> FeatureRow<'_> {
        if !self.merged {
            self.merge();
        }
        FeatureRow::new(&self.named, &self.hashed)
    }

    fn hit_features(&mut self, cx: &Context<'_>) {
        let mut counts = [0u32; 6];
        for hit in cx.hits {
            for c in hit.categories.iter() {
                counts[c as usize] += 1;
            }
        }
        for c in Category::ALL {
            self.named[HITS_FIRST + c as usize] = ln1p(counts[c as usize] as usize);
        }
        self.named[HIT_SEVERITY] = match cx.severity {
            Severity::None => 0.0,
            Severity::Mild => 1.0 / 3.0,
            Severity::Moderate => 2.0 / 3.0,
            Severity::Severe => 1.0,
        };
        self.named[HIT_EVASIVE] = flag(cx.evasive);
    }

    fn context_features(&mut self, cx: &Context<'_>) {
        self.named[KIND_WHISPER] = flag(cx.kind == MessageKind::Whisper);
        let s = cx.sender;
        if let Some(age) = s.account_age_secs {
            self.named[AGE_KNOWN] = 1.0;
            #[allow(clippy::cast_precision_loss)]
            let days = age as f64 / 86_400.0;
            self.named[AGE_DAYS] = days.ln_1p() as f32;
        }
        self.named[FIRST_CONTACT] = tristate(s.first_contact);
        self.named[VERIFIED] = tristate(s.verified);
        self.named[MODERATOR] = tristate(s.moderator);
        self.named[OVERSIZED] = flag(cx.oversized);
        if let Some(t) = s.tracker {
            self.named[TRACKER_KNOWN] = 1.0;
            self.named[TRACKER_MESSAGES] = ln1p(t.messages_in_window as usize);
            self.named[TRACKER_RECIPIENTS] = ln1p(t.distinct_recipients as usize);
            self.named[TRACKER_FANOUT] = ln1p(t.near_duplicate_fanout as usize);
            #[allow(clippy::cast_precision_loss)]
            let minutes = t.known_for_ms as f64 / 60_000.0;
            self.named[TRACKER_KNOWN_MINUTES] = minutes.ln_1p() as f32;
        }
    }

    /// Hashes the tokens of the word view into `entries` and computes the block's norm.
    /// Returns whether tokens past [`MAX_TOKENS`] were left out.
    fn hash_tokens(&mut self, view: &View) -> bool {
        self.merged = false;
        // ‖merged block‖² = Σ over columns of (Σ of the signs landing there)²: the number of
        // entries, plus 2·sᵢ·sⱼ for every pair of entries sharing a column. Pairs are looked
        // for only when the column's bit in a small filter (columns modulo its size) was
        // already set, so no sort is needed, and the filter starts clear with each message.
        let mut seen = [0u64; SEEN_WORDS];
        let mut pairs = 0.0f64;
        let mut n = 0;
        for word in WordSpans::new(view) {
            let h = match word.digits(view) {
                Some(digits) => self.shapes[digit_shape(digits)],
                None if word.runs => hash_spelled(view, word, HASHER.seed()),
                None => hash_plain(&view.text, word, HASHER.seed()),
            };
            let slot = HASHER.slot_of_hash(h);
            let key = slot.index as usize % (64 * SEEN_WORDS);
            let (at, bit) = (key / 64, 1u64 << (key % 64));
            if seen[at] & bit != 0 {
                for &(index, sign) in &self.entries[..n] {
                    if index == slot.index {
                        pairs += 2.0 * f64::from(sign) * f64::from(slot.sign);
                    }
                }
            }
            seen[at] |= bit;
            // (`WordSpans` stops at `MAX_TOKENS` words: `n` is always below it.)
            self.entries[n % MAX_TOKENS] = (slot.index, slot.sign);
            n += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let sum_sq = n as f64 + pairs;
        self.n_entries = n;
        // Whole numbers: exactly what summing the merged values' squares gives.
        self.norm = sum_sq.sqrt();
        view.words.len() > MAX_TOKENS
    }

    /// Builds `hashed` from `entries`: sorted by column, duplicates summed, zeros dropped,
    /// divided by the norm [`hash_tokens`](Self::hash_tokens) found.
    fn merge(&mut self) {
        self.hashed.clear();
        self.hashed
            .extend_from_slice(&self.entries[..self.n_entries]);
        self.hashed.sort_unstable_by_key(|&(i, _)| i);
        let mut out = 0;
        let mut k = 0;
        while k < self.hashed.len() {
            let (index, mut value) = self.hashed[k];
            k += 1;
            while k < self.hashed.len() && self.hashed[k].0 == index {
                value += self.hashed[k].1;
                k += 1;
            }
            if value != 0.0 {
                self.hashed[out] = (index, value);
                out += 1;
            }
        }
        self.hashed.truncate(out);
        for e in &mut self.hashed {
            e.1 = (f64::from(e.1) / self.norm) as f32;
        }
        self.merged = true;
    }
}

/// The tokens of a folded word view (see the module docs), at most [`MAX_TOKENS`] of them,
/// spelled out: what the hashed block was computed from.
#[must_use]
pub(crate) fn tokens(view: &View) -> Vec<String> {
    WordSpans::new(view)
        .map(|word| {
            if let Some(digits) = word.digits(view) {
                return ["<n2>", "<n4>", "<n5>"][digit_shape(digits)].to_owned();
            }
            let mut bytes = Vec::with_capacity(2 * (word.end - word.start));
            word.for_each_piece(view, |piece| bytes.extend_from_slice(piece));
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect()
}

/// One word of a view that records its words ([`View::words`]): its bytes
/// `start..end` of the view's text.
#[derive(Clone, Copy, Debug)]
struct WordSpan {
    start: usize,
    end: usize,
    /// Whether a character of it was collapsed from a run (so its token is not its text as
    /// it stands).
    runs: bool,
}

impl WordSpan {
    /// For a word of ASCII digits, the number of digits its token keeps (each repeated at
    /// most twice); `None` for any other word. Only a word that starts with a digit can be
    /// all digits, which keeps the common word to one comparison.
    #[inline]
    fn digits(self, view: &View) -> Option<usize> {
        if !view.text.get(self.start).is_some_and(u8::is_ascii_digit)
            || !view.text[self.start..self.end]
                .iter()
                .all(u8::is_ascii_digit)
        {
            return None;
        }
        Some(
            view.meta[self.start..self.end]
                .iter()
                .map(|m| usize::from(m.run.min(2)))
                .sum(),
        )
    }

    /// Calls `f` with each character of the word, repeated as often as it was in the message
    /// but at most twice.
    fn for_each_piece(self, view: &View, mut f: impl FnMut(&[u8])) {
        let (text, meta) = (&view.text, &view.meta);
        let mut p = self.start;
        while p < self.end {
            let len = utf8_len(text[p]).min(self.end - p);
            for _ in 0..meta[p].run.min(2) {
                f(&text[p..p + len]);
            }
            p += len;
        }
    }
}

/// The shape token of a number of `digits` digits: `<n2>` (0), `<n4>` (1) or `<n5>` (2).
#[inline]
fn digit_shape(digits: usize) -> usize {
    match digits {
        0..=2 => 0,
        3..=4 => 1,
        _ => 2,
    }
}

/// The hash of a word none of whose characters was repeated: its bytes as they stand. Words
/// of at most eight bytes (most) are hashed from one 8-byte load, taken from the word's start,
/// or, for a word that ends the view, from the eight bytes that end it.
#[inline]
fn hash_plain(text: &[u8], word: WordSpan, seed: u32) -> i32 {
    let len = word.end - word.start;
    if len > 8 {
        return hashing::murmurhash3_32(&text[word.start..word.end], seed);
    }
    let chunk = if let Some(b) = text.get(word.start..word.start + 8) {
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    } else if word.end >= 8 {
        let b = &text[word.end - 8..word.end];
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) >> (64 - 8 * len)
    } else {
        // The whole view is shorter than eight bytes.
        let mut b = [0u8; 8];
        b[..len].copy_from_slice(&text[word.start..word.end]);
        u64::from_le_bytes(b)
    };
    hashing::murmurhash3_32_short(chunk, len, seed)
}

/// Words of at most this many bytes (most) are spelled out on the stack to be hashed.
const SHORT_WORD: usize = 32;

/// The hash of a word with a repeated character: each character written as often as it was
/// repeated, at most twice.
fn hash_spelled(view: &View, word: WordSpan, seed: u32) -> i32 {
    let (text, meta) = (
        &view.text[word.start..word.end],
        &view.meta[word.start..word.end],
    );
    if text.len() <= SHORT_WORD && text.is_ascii() {
        // Spelled out into a buffer and hashed at once, with no branch per letter: cheaper
        // than feeding the incremental hasher a piece at a time.
        let mut buf = [0u8; 2 * SHORT_WORD + 1];
        let mut len = 0;
        for (&b, m) in text.iter().zip(meta) {
            buf[len] = b;
            buf[len + 1] = b;
            len += 1 + usize::from(m.run >= 2);
        }
        if len <= 8 {
            let chunk = u64::from_le_bytes([
                buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7],
            ]);
            hashing::murmurhash3_32_short(chunk, len, seed)
        } else {
            hashing::murmurhash3_32(&buf[..len], seed)
        }
    } else {
        let mut h = hashing::Murmur3::new(seed);
        word.for_each_piece(view, |piece| h.write(piece));
        h.finish()
    }
}

/// The first [`MAX_TOKENS`] words of a view that records them ([`View::words`]).
struct WordSpans<'a> {
    words: std::slice::Iter<'a, u32>,
    /// Where the last of them ends.
    end: usize,
}

impl<'a> WordSpans<'a> {
    fn new(view: &'a View) -> WordSpans<'a> {
        let n = view.words.len().min(MAX_TOKENS);
        WordSpans {
            words: view.words[..n].iter(),
            end: view
                .words
                .get(n)
                .map_or(view.text.len(), |&next| (next & !WORD_HAS_RUN) as usize - 1),
        }
    }
}

impl Iterator for WordSpans<'_> {
    type Item = WordSpan;

    #[inline]
    fn next(&mut self) -> Option<WordSpan> {
        let &w = self.words.next()?;
        // The next word starts after one space.
        let end = self
            .words
            .as_slice()
            .first()
            .map_or(self.end, |&next| (next & !WORD_HAS_RUN) as usize - 1);
        let span = WordSpan {
            start: (w & !WORD_HAS_RUN) as usize,
            end,
            runs: w & WORD_HAS_RUN != 0,
        };
        debug_assert!(span.start < span.end);
        Some(span)
    }
}

#[inline]
fn flag(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

#[inline]
fn tristate(v: Option<bool>) -> f32 {
    match v {
        Some(true) => 1.0,
        Some(false) => -1.0,
        None => 0.0,
    }
}

/// `ln(1 + n)` for the counts most messages have, computed at compile time (a test checks
/// every entry against `f64::ln_1p`), so reading it costs no initialization check.
static LN1P: [f32; 1024] = ln1p_table();

const fn ln1p_table() -> [f32; 1024] {
    let mut table = [0f32; 1024];
    let mut n = 0;
    while n < 1024 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        {
            table[n] = const_ln((n + 1) as f64) as f32;
        }
        n += 1;
    }
    table
}

/// `ln x` for `x >= 1` to a few units in the last place of an `f64`: `x = m·2^e` with
/// `m` in `[1, 2)`, and `ln m = 2·atanh((m - 1)/(m + 1))` summed as a series (the ratio is at
/// most 1/3, so forty terms are far more than enough).
const fn const_ln(x: f64) -> f64 {
    let (mut mantissa, mut exponent) = (x, 0u32);
    while mantissa >= 2.0 {
        mantissa /= 2.0;
        exponent += 1;
    }
    let ratio = (mantissa - 1.0) / (mantissa + 1.0);
    let (mut term, mut sum, mut k) = (ratio, 0.0, 0u32);
    while k < 40 {
        sum += term / (2 * k + 1) as f64;
        term *= ratio * ratio;
        k += 1;
    }
    exponent as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

#[inline]
#[allow(clippy::cast_precision_loss)]
fn ln1p(n: usize) -> f32 {
    match LN1P.get(n) {
        Some(&v) => v,
        None => (n as f64).ln_1p() as f32,
    }
}

#[inline]
#[allow(clippy::cast_precision_loss)]
fn ratio(a: u32, b: u32) -> f32 {
    if b == 0 {
        0.0
    } else {
        (f64::from(a) / f64::from(b)) as f32
    }
}

fn fold_features(s: &FoldStats, named: &mut [f32; N_NAMED]) {
    let counts = [
        s.confusables,
        s.compat,
        s.invisibles,
        s.marks,
        s.leet,
        s.separators_skipped,
        s.joined_letters,
        s.invalid_utf8,
        s.mixed_script_words,
    ];
    for (k, &c) in counts.iter().enumerate() {
        named[FOLD_FIRST + k] = ln1p(c as usize);
    }
}

/// The length of the UTF-8 sequence a lead byte starts.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn lexical_features(n: &Lexical, bytes: usize, named: &mut [f32; N_NAMED]) {
    named[LEN_CHARS] = ln1p(n.chars as usize);
    named[LEN_BYTES] = ln1p(bytes);
    named[CAPS] = ratio(n.upper, n.letters);
    named[DIGITS] = ratio(n.digits, n.non_space);
    named[SYMBOLS] = ratio(n.symbols, n.non_space);
    named[NON_ASCII] = ratio(n.non_ascii, n.chars);
    named[DISTINCT] = ratio(n.distinct, n.chars);
    named[URLS] = ln1p(n.urls as usize);
    named[MENTIONS] = ln1p(n.mentions as usize);
    named[EMOJI] = ln1p(n.emoji as usize);
    named[EXCLAMATIONS] = ln1p(n.exclamations as usize);
    named[CURRENCY] = ln1p(n.currency as usize);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_column_constants() {
        assert_eq!(NAMES[TOKENS_TRUNCATED], "tokens_truncated");
        assert_eq!(NAMES[HITS_FIRST], "hits_profanity_log");
        assert_eq!(NAMES[HITS_FIRST + Category::Spam as usize], "hits_spam_log");
        assert_eq!(NAMES[FOLD_FIRST], "fold_confusables_log");
        assert_eq!(NAMES[FOLD_FIRST + 8], "fold_mixed_script_words_log");
        assert_eq!(NAMES[HIT_SEVERITY], "hit_severity");
        assert_eq!(NAMES[OVERSIZED], "oversized");
        assert_eq!(NAMES[LETTER_RUN], "letter_run_log");
        assert_eq!(NAMES[TRACKER_KNOWN], "tracker_known");
        assert_eq!(NAMES[TRACKER_KNOWN_MINUTES], "tracker_known_minutes_log");
        assert_eq!(TRACKER_KNOWN_MINUTES + 1, N_NAMED);
        assert_eq!(schema().check(), Ok(()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// The words the word view records are its space-separated words, flagged when a
        /// character of them was collapsed from a run, on both fold paths.
        #[test]
        fn recorded_words_are_the_words_of_the_view(
            text in "[a-zA-Z0-9 .,!?'@$|+vI_\\-🔥こé\u{200b}\u{301}]{0,60}",
            plain in proptest::bool::ANY,
        ) {
            let mut fold = FoldBuffers::new(512);
            fold.fold_views(text.as_bytes(), plain);
            let view = &fold.word;
            let mut want = Vec::new();
            let mut at = 0;
            for word in view.text.split(|&b| b == b' ') {
                if !word.is_empty() {
                    let run = view.meta[at..at + word.len()].iter().any(|m| m.run > 1);
                    #[allow(clippy::cast_possible_truncation)]
                    want.push(at as u32 | if run { WORD_HAS_RUN } else { 0 });
                }
                at += word.len() + 1;
            }
            proptest::prop_assert_eq!(&view.words, &want);
        }
    }

    #[test]
    fn ln1p_table_is_exact() {
        for n in (0..1100).chain([4096, 1 << 20]) {
            #[allow(clippy::cast_precision_loss)]
            let want = (n as f64).ln_1p() as f32;
            assert_eq!(ln1p(n).to_bits(), want.to_bits(), "{n}");
        }
    }
}
