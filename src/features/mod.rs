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
//! | `repeat_run_log` | `ln` of the longest run of one character |
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
//! (`<n2>` for 1–2 digits, `<n4>` for 3–4, `<n5>` for more). Word n-grams are the tokens
//! joined by one space, as scikit-learn joins them; each is hashed with
//! [`hashing::FeatureHasher`] and the block is L2-normalized, exactly what
//! `HashingVectorizer(analyzer=word_ngrams, norm="l2", alternate_sign=True)` computes from the
//! same token list. At most [`MAX_TOKENS`] tokens are hashed.
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
pub mod schema;

use std::sync::{Arc, Mutex};

use crate::fold::{FoldBuffers, FoldStats};
use crate::message::{MessageKind, SenderContext};
use crate::model::TextFeaturizer;
use crate::verdict::{Category, Hit, Severity};

use hashing::FeatureHasher;
use schema::{FeatureSchema, Hashing};

/// Version of the feature definitions (see the module docs).
pub const VERSION: u32 = 2;

/// The name of the tokenizer the hashed block is computed from.
pub const TOKENIZER: &str = "chatguard-words-v1";

/// Bits of the hashed block: `2^16` columns. (On the default models' test splits 14 to 18
/// bits score within 0.005 of each other; fewer columns keep the weights in cache.)
pub const HASH_BITS: u8 = 16;

/// Word n-gram lengths hashed: unigrams and bigrams.
pub const WORD_NGRAMS: (u8, u8) = (1, 2);

/// At most this many tokens of a message are hashed (the rest are ignored).
pub const MAX_TOKENS: usize = 256;

/// Bytes of token text kept per message (tokens past it are ignored).
const MAX_TOKEN_BYTES: usize = 4096;

/// The most hashed entries of one message: every n-gram of [`MAX_TOKENS`] tokens.
const MAX_HASHED: usize = 2 * MAX_TOKENS;

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
    "repeat_run_log",
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
const REPEAT_RUN: usize = 7;
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
    /// Sorted, merged, L2-normalized hashed entries.
    pub hashed: Vec<(u32, f32)>,
    /// Token text, one space between tokens, so that every word n-gram is one contiguous
    /// slice (hashed in one call, 4 bytes at a time).
    token_text: Vec<u8>,
    /// Token ranges in `token_text`.
    tokens: Vec<(u32, u32)>,
    hasher: FeatureHasher,
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
        FeatureBuffers {
            named: [0.0; N_NAMED],
            hashed: Vec::with_capacity(MAX_HASHED),
            token_text: Vec::with_capacity(MAX_TOKEN_BYTES),
            tokens: Vec::with_capacity(MAX_TOKENS),
            hasher: FeatureHasher::new(0, HASH_BITS, true),
        }
    }

    /// The tokens of the last message, for tools.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().map(|&(s, e)| {
            std::str::from_utf8(&self.token_text[s as usize..e as usize]).unwrap_or("")
        })
    }

    /// Fills the buffers for one message. Allocates nothing.
    pub fn extract(&mut self, text: &[u8], fold: &FoldBuffers, cx: &Context<'_>) {
        self.named = [0.0; N_NAMED];
        lexical(text, &mut self.named);
        fold_features(&fold.stats, &mut self.named);
        self.hit_features(cx);
        let truncated = self.tokenize(fold);
        self.named[WORDS] = ln1p(self.tokens.len());
        self.named[TOKENS_TRUNCATED] = flag(truncated);
        self.hash_ngrams();
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

    /// Splits the collapsed word view into tokens (see the module docs). Returns whether
    /// tokens were dropped for want of room.
    fn tokenize(&mut self, fold: &FoldBuffers) -> bool {
        self.token_text.clear();
        self.tokens.clear();
        let view = &fold.word;
        // Words of the view are one space apart; walk its bytes (a character's run length
        // sits on its first byte) rather than splitting and re-encoding `char`s.
        let bytes = &view.text;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b' ' {
                i += 1;
                continue;
            }
            let j = bytes[i..]
                .iter()
                .position(|&b| b == b' ')
                .map_or(bytes.len(), |k| i + k);
            if self.tokens.len() == MAX_TOKENS {
                return true;
            }
            if bytes[i..j].iter().all(u8::is_ascii_digit) {
                let digits: usize = view.meta[i..j]
                    .iter()
                    .map(|m| usize::from(m.run.min(2)))
                    .sum();
                let shape: &[u8] = match digits {
                    0..=2 => b"<n2>",
                    3..=4 => b"<n4>",
                    _ => b"<n5>",
                };
                if !self.push_token(shape) {
                    return true;
                }
                i = j;
                continue;
            }
            let before = self.token_text.len();
            if before + 2 > MAX_TOKEN_BYTES {
                return true;
            }
            if !self.tokens.is_empty() {
                self.token_text.push(b' ');
            }
            let start = self.token_text.len();
            let mut p = i;
            while p < j {
                let len = utf8_len(bytes[p]).min(j - p);
                for _ in 0..view.meta[p].run.min(2) {
                    if self.token_text.len() + len > MAX_TOKEN_BYTES {
                        self.token_text.truncate(before);
                        return true;
                    }
                    self.token_text.extend_from_slice(&bytes[p..p + len]);
                }
                p += len;
            }
            #[allow(clippy::cast_possible_truncation)]
            self.tokens
                .push((start as u32, self.token_text.len() as u32));
            i = j;
        }
        false
    }

    fn push_token(&mut self, token: &[u8]) -> bool {
        if self.token_text.len() + token.len() + 1 > MAX_TOKEN_BYTES {
            return false;
        }
        if !self.tokens.is_empty() {
            self.token_text.push(b' ');
        }
        let start = self.token_text.len();
        self.token_text.extend_from_slice(token);
        #[allow(clippy::cast_possible_truncation)]
        self.tokens
            .push((start as u32, self.token_text.len() as u32));
        true
    }

    /// Hashes the word n-grams into `hashed`: sorted by index, duplicates summed, zeros
    /// dropped, L2-normalized.
    fn hash_ngrams(&mut self) {
        self.hashed.clear();
        let (lo, hi) = (usize::from(WORD_NGRAMS.0), usize::from(WORD_NGRAMS.1));
        let n = self.tokens.len();
        for i in 0..n {
            let start = self.tokens[i].0 as usize;
            for len in lo.max(1)..=hi.min(n - i) {
                // Tokens are one space apart: the n-gram is the slice from the first token's
                // start to the last one's end.
                let end = self.tokens[i + len - 1].1 as usize;
                let mut h = self.hasher.start();
                h.write(&self.token_text[start..end]);
                let slot = self.hasher.slot_of_hash(h.finish());
                self.hashed.push((slot.index, slot.sign));
            }
        }
        self.hashed.sort_unstable_by_key(|&(i, _)| i);
        // Merge duplicates in place, dropping entries that cancel out.
        let mut out = 0;
        let mut k = 0;
        let mut sum_sq = 0.0f64;
        while k < self.hashed.len() {
            let (index, mut value) = self.hashed[k];
            k += 1;
            while k < self.hashed.len() && self.hashed[k].0 == index {
                value += self.hashed[k].1;
                k += 1;
            }
            if value != 0.0 {
                self.hashed[out] = (index, value);
                sum_sq += f64::from(value) * f64::from(value);
                out += 1;
            }
        }
        self.hashed.truncate(out);
        if sum_sq > 0.0 {
            let norm = sum_sq.sqrt();
            for e in &mut self.hashed {
                e.1 = (f64::from(e.1) / norm) as f32;
            }
        }
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

#[inline]
#[allow(clippy::cast_precision_loss)]
fn ln1p(n: usize) -> f32 {
    // The few small counts come from a table; the rest are computed.
    const TABLE: [f32; 8] = [
        0.0,
        std::f32::consts::LN_2,
        1.098_612_3,
        1.386_294_4,
        1.609_438,
        1.791_759_5,
        1.945_910_1,
        2.079_441_5,
    ];
    match TABLE.get(n) {
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

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF)
}

/// Whether a whitespace-separated word of the original text is a link: a scheme (`http://`),
/// `www.`, or a host ending in a common top-level domain.
fn is_url(word: &[u8]) -> bool {
    const TLDS: [&[u8]; 24] = [
        b"com", b"net", b"org", b"gg", b"tv", b"io", b"ly", b"co", b"me", b"ru", b"xyz", b"info",
        b"biz", b"uk", b"de", b"us", b"link", b"click", b"shop", b"top", b"site", b"online",
        b"app", b"store",
    ];
    if word.len() < 4 || !word.contains(&b'.') && !word.contains(&b':') {
        return false;
    }
    if word.windows(3).any(|w| w == b"://") {
        return true;
    }
    if word.len() > 4 && word[..4].eq_ignore_ascii_case(b"www.") {
        return true;
    }
    // host.tld, optionally followed by a path: find the host part.
    let host_end = word.iter().position(|&b| b == b'/').unwrap_or(word.len());
    let host = &word[..host_end];
    let host = host
        .strip_suffix(b".")
        .or_else(|| host.strip_suffix(b","))
        .unwrap_or(host);
    let Some(dot) = host.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let (name, tld) = (&host[..dot], &host[dot + 1..]);
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && name.iter().any(u8::is_ascii_alphabetic)
        && TLDS.iter().any(|t| tld.eq_ignore_ascii_case(t))
}

fn is_mention(word: &[u8]) -> bool {
    word.len() >= 2
        && word[0] == b'@'
        && word[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
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

/// Counts gathered by [`lexical`]'s single pass.
#[derive(Default)]
struct Lexical {
    chars: u32,
    upper: u32,
    letters: u32,
    digits: u32,
    symbols: u32,
    non_space: u32,
    non_ascii: u32,
    emoji: u32,
    exclamations: u32,
    currency: u32,
    urls: u32,
    mentions: u32,
    longest: u32,
    run: u32,
    prev: Option<char>,
    /// Distinct characters, by code point modulo 1024 (exact for Latin text).
    seen: [u64; 16],
    distinct: u32,
    word_start: Option<usize>,
}

impl Lexical {
    #[inline]
    fn repeat_and_distinct(&mut self, c: char) {
        self.chars += 1;
        if self.prev == Some(c) {
            self.run += 1;
        } else {
            self.run = 1;
            self.prev = Some(c);
        }
        self.longest = self.longest.max(self.run);
        let slot = (u32::from(c) % 1024) as usize;
        let bit = 1u64 << (slot % 64);
        if self.seen[slot / 64] & bit == 0 {
            self.seen[slot / 64] |= bit;
            self.distinct += 1;
        }
    }

    #[inline]
    fn end_word(&mut self, text: &[u8], at: usize) {
        if let Some(s) = self.word_start.take() {
            let word = &text[s..at];
            self.urls += u32::from(is_url(word));
            self.mentions += u32::from(is_mention(word));
        }
    }

    #[inline]
    fn ascii(&mut self, text: &[u8], at: usize, b: u8) {
        self.repeat_and_distinct(char::from(b));
        // `char::is_whitespace`, not `u8::is_ascii_whitespace`: the latter misses `\x0b`.
        if char::from(b).is_whitespace() {
            self.end_word(text, at);
            return;
        }
        if self.word_start.is_none() {
            self.word_start = Some(at);
        }
        self.non_space += 1;
        if b.is_ascii_alphabetic() {
            self.letters += 1;
            self.upper += u32::from(b.is_ascii_uppercase());
        } else if b.is_ascii_digit() {
            self.digits += 1;
        } else if b.is_ascii_punctuation() {
            self.symbols += 1;
            self.exclamations += u32::from(b == b'!');
            self.currency += u32::from(b == b'$');
        }
    }

    fn other(&mut self, text: &[u8], at: usize, c: char) {
        self.repeat_and_distinct(c);
        if c.is_whitespace() {
            self.end_word(text, at);
            return;
        }
        if self.word_start.is_none() {
            self.word_start = Some(at);
        }
        self.non_space += 1;
        self.non_ascii += 1;
        if c.is_alphabetic() {
            self.letters += 1;
            self.upper += u32::from(c.is_uppercase());
        }
        self.emoji += u32::from(is_emoji(c));
        self.currency += u32::from(matches!(c, '£' | '€' | '¥'));
    }
}

/// The lexical features of the original text, in one pass (ASCII byte by byte; other
/// characters decoded; an invalid UTF-8 sequence counts as one whitespace character).
fn lexical(text: &[u8], named: &mut [f32; N_NAMED]) {
    let mut lx = Lexical::default();
    let mut offset = 0;
    for chunk in text.utf8_chunks() {
        let valid = chunk.valid();
        let bytes = valid.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii() {
                lx.ascii(text, offset + i, b);
                i += 1;
            } else {
                // `i` is on a char boundary of a valid chunk.
                let c = valid[i..].chars().next().unwrap_or(' ');
                lx.other(text, offset + i, c);
                i += c.len_utf8();
            }
        }
        offset += bytes.len();
        if !chunk.invalid().is_empty() {
            lx.other(text, offset, ' ');
            offset += chunk.invalid().len();
        }
    }
    lx.end_word(text, text.len());
    named[LEN_CHARS] = ln1p(lx.chars as usize);
    named[LEN_BYTES] = ln1p(text.len());
    named[CAPS] = ratio(lx.upper, lx.letters);
    named[DIGITS] = ratio(lx.digits, lx.non_space);
    named[SYMBOLS] = ratio(lx.symbols, lx.non_space);
    named[NON_ASCII] = ratio(lx.non_ascii, lx.chars);
    named[REPEAT_RUN] = if lx.longest > 1 {
        f64::from(lx.longest).ln() as f32
    } else {
        0.0
    };
    named[DISTINCT] = ratio(lx.distinct, lx.chars);
    named[URLS] = ln1p(lx.urls as usize);
    named[MENTIONS] = ln1p(lx.mentions as usize);
    named[EMOJI] = ln1p(lx.emoji as usize);
    named[EXCLAMATIONS] = ln1p(lx.exclamations as usize);
    named[CURRENCY] = ln1p(lx.currency as usize);
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
        assert_eq!(NAMES[TRACKER_KNOWN], "tracker_known");
        assert_eq!(NAMES[TRACKER_KNOWN_MINUTES], "tracker_known_minutes_log");
        assert_eq!(TRACKER_KNOWN_MINUTES + 1, N_NAMED);
        assert_eq!(schema().check(), Ok(()));
    }

    #[test]
    fn ln1p_table_is_exact() {
        for n in 0..8 {
            #[allow(clippy::cast_precision_loss)]
            let want = (n as f64).ln_1p() as f32;
            assert_eq!(ln1p(n).to_bits(), want.to_bits(), "{n}");
        }
    }

    #[test]
    fn links_and_mentions() {
        for url in [
            "http://x.y",
            "https://bit.ly/abc",
            "www.example.org",
            "free-robux.xyz",
            "twitch.tv/someone",
            "Example.COM,",
        ] {
            assert!(is_url(url.as_bytes()), "{url}");
        }
        for not in ["a.b", "3.50", "e.g.", "...", "hello", "lol.jk", "1.com"] {
            assert!(!is_url(not.as_bytes()), "{not}");
        }
        assert!(is_mention(b"@streamer_1"));
        assert!(!is_mention(b"@"));
        assert!(!is_mention(b"a@b"));
    }
}
