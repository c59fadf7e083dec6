//! The rule-file parser: text in, rule entries out, every problem reported with
//! `file:line:column` and what was expected. The format is documented in `rules/README.md`.

use std::sync::Arc;

use crate::error::RuleError;
use crate::verdict::{Categories, Category, Severity};

/// Which kinds of message a rule applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Chat lines and whispers.
    #[default]
    Both,
    /// Public chat lines only.
    Chat,
    /// Whispers only.
    Whisper,
}

impl Scope {
    /// The name used in rule files.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Scope::Both => "both",
            Scope::Chat => "chat",
            Scope::Whisper => "whisper",
        }
    }
}

/// A calendar date, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub(crate) i64);

impl Date {
    /// The date of `year-month-day`, if it exists.
    #[must_use]
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month[month as usize - 1] {
            return None;
        }
        // Days from civil (H. Hinnant).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// Today, from the system clock (UTC).
    #[must_use]
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date(i64::try_from(secs / 86_400).unwrap_or(i64::MAX))
    }

    /// Days since 1970-01-01.
    #[must_use]
    pub fn days_since_epoch(self) -> i64 {
        self.0
    }
}

/// Where a term may sit relative to word boundaries, from Discord-style wildcards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Wildcard {
    /// Written with a leading `*`: the term may end a longer word.
    pub leading: bool,
    /// Written with a trailing `*`: the term may start a longer word.
    pub trailing: bool,
}

/// What a rule line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A blocked term, without its wildcards.
    Term { term: String, wildcard: Wildcard },
    /// A permitted term, optionally only against the rule written `for_rule`.
    Allow {
        term: String,
        wildcard: Wildcard,
        for_rule: Option<String>,
    },
    /// A regex over the folded text.
    Regex { pattern: String },
    /// `policy:` or `level:`: how hits turn into actions, for one kind of message or both.
    Policy(PolicyDirective),
    /// `include: TARGET`: another rule file (relative to this one) or `lang:CODE`, an
    /// embedded language pack. Resolved when the file is added to a rule set.
    Include { target: String },
}

/// Which model threshold a `policy:` line sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScoreKey {
    SpamReview,
    SpamBlock,
    ToxicityReview,
    ToxicityBlock,
    WhisperReview,
    WhisperBlock,
}

impl ScoreKey {
    /// The key as written in a `policy:` line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ScoreKey::SpamReview => "spam_review_at",
            ScoreKey::SpamBlock => "spam_block_at",
            ScoreKey::ToxicityReview => "toxicity_review_at",
            ScoreKey::ToxicityBlock => "toxicity_block_at",
            ScoreKey::WhisperReview => "whisper_review_at",
            ScoreKey::WhisperBlock => "whisper_block_at",
        }
    }
}

/// A `policy:` or `level:` line: thresholds for one kind of message (or both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PolicyDirective {
    pub kind: Option<crate::message::MessageKind>,
    pub review_at: Option<Severity>,
    pub block_at: Option<Severity>,
    /// Model thresholds: `(key, Some(probability))`, or `None` for `never`.
    pub scores: Vec<(ScoreKey, Option<u32>)>,
    pub levels: Vec<(Category, crate::decide::Level)>,
    /// `models_min_words`.
    pub models_min_words: Option<u8>,
}

/// One parsed rule line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub kind: EntryKind,
    /// The pattern as written (`*fuck*`, `/regex/`), used to name the rule.
    pub written: String,
    pub categories: Categories,
    pub severity: Severity,
    pub scope: Scope,
    pub expires: Option<Date>,
    pub line: u32,
    pub column: u32,
    /// The whole line as written, for messages about it.
    pub line_text: String,
}

/// Defaults set by a section header.
#[derive(Clone, Copy, Debug)]
struct Defaults {
    /// The section header above was broken: its rules were reported with it.
    broken: bool,
    categories: Categories,
    severity: Severity,
    scope: Scope,
    expires: Option<Date>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            broken: false,
            categories: Categories::NONE,
            severity: Severity::Moderate,
            scope: Scope::Both,
            expires: None,
        }
    }
}

/// A word of a rule line and the column (in characters, from 1) where it starts.
#[derive(Clone, Debug)]
struct Word {
    text: String,
    column: u32,
    quoted: bool,
}

/// Parses one rule file. Returns every entry that parsed, and every problem found.
pub(crate) fn parse_file(file: &Arc<str>, source: &str) -> (Vec<Entry>, Vec<RuleError>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut defaults = Defaults::default();
    let source = source.strip_prefix('\u{FEFF}').unwrap_or(source);
    for (index, raw) in source.split('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let mut p = LineParser {
            file,
            line_no,
            line,
            errors: &mut errors,
        };
        p.parse(&mut defaults, &mut entries);
    }
    (entries, errors)
}

struct LineParser<'a> {
    file: &'a Arc<str>,
    line_no: u32,
    line: &'a str,
    errors: &'a mut Vec<RuleError>,
}

impl LineParser<'_> {
    fn error(&mut self, column: u32, message: impl Into<String>) {
        self.error_with_hint(column, message, None);
    }

    fn error_with_hint(&mut self, column: u32, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(RuleError {
            file: Arc::clone(self.file),
            line: self.line_no,
            column,
            message: message.into(),
            text: self.line.to_owned(),
            hint,
            warning: false,
        });
    }

    /// Column (from 1, in characters) of byte offset `at`.
    fn column_of(&self, at: usize) -> u32 {
        u32::try_from(self.line[..at.min(self.line.len())].chars().count() + 1).unwrap_or(u32::MAX)
    }

    fn parse(&mut self, defaults: &mut Defaults, entries: &mut Vec<Entry>) {
        let trimmed = self.line.trim_start();
        let at = self.line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return;
        }
        if trimmed.starts_with('[') {
            self.parse_section(at, defaults);
        } else if trimmed.starts_with("policy:") || trimmed.starts_with("level:") {
            self.parse_policy(at, trimmed.starts_with("level:"), entries);
        } else if trimmed.starts_with("include:") {
            let start = at + "include:".len();
            let Some(words) = self.split_words(start) else {
                return;
            };
            let column = self.column_of(at);
            if let [target] = &words[..] {
                entries.push(Entry {
                    kind: EntryKind::Include {
                        target: target.text.clone(),
                    },
                    written: format!("include: {}", target.text),
                    categories: Categories::NONE,
                    severity: Severity::None,
                    scope: Scope::Both,
                    expires: None,
                    line: self.line_no,
                    column: target.column,
                    line_text: self.line.to_owned(),
                });
            } else {
                self.error_with_hint(
                    column,
                    "expected one file or language pack after `include:`",
                    Some("write `include: other.rules` (relative to this file) or `include: lang:fr`".to_owned()),
                );
            }
        } else if let Some(rest) = trimmed.strip_prefix("regex:") {
            self.parse_regex(at, at + "regex:".len(), rest, defaults, entries);
        } else if trimmed.starts_with("allow:") {
            let start = at + "allow:".len();
            if let Some(words) = self.split_words(start) {
                self.parse_term(at, &words, defaults, entries, true);
            }
        } else if let Some(words) = self.split_words(at) {
            self.parse_term(at, &words, defaults, entries, false);
        }
    }

    /// Splits `line[from..]` into words: white-space separated, `"quoted"` with `\"` and `\\`
    /// escapes, up to a `#` that starts a comment.
    fn split_words(&mut self, from: usize) -> Option<Vec<Word>> {
        let mut words = Vec::new();
        let line = self.line;
        let mut chars = line[from..]
            .char_indices()
            .map(|(i, c)| (i + from, c))
            .peekable();
        let mut prev_space = true;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                prev_space = true;
                continue;
            }
            if c == '#' && prev_space {
                break;
            }
            prev_space = false;
            if c == '"' {
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                while let Some((k, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, e @ ('"' | '\\'))) => text.push(e),
                            Some((_, e)) => {
                                let col = self.column_of(k);
                                self.error(
                                    col,
                                    format!("unknown escape `\\{e}` in a quoted term; expected `\\\"` or `\\\\`"),
                                );
                                return None;
                            }
                            None => break,
                        },
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => text.push(c),
                    }
                }
                if !closed {
                    let col = self.column_of(i);
                    self.error(col, "unterminated quoted term; expected a closing `\"`");
                    return None;
                }
                words.push(Word {
                    text,
                    column: self.column_of(i),
                    quoted: true,
                });
            } else {
                let mut end = line.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() {
                        end = j;
                        break;
                    }
                    chars.next();
                }
                words.push(Word {
                    text: line[i..end].to_owned(),
                    column: self.column_of(i),
                    quoted: false,
                });
            }
        }
        Some(words)
    }

    /// `policy: [chat|whisper] review_at=SEVERITY block_at=SEVERITY` and
    /// `level: [chat|whisper] CATEGORY=0..4 ...`.
    fn parse_policy(&mut self, at: usize, level: bool, entries: &mut Vec<Entry>) {
        use crate::message::MessageKind;
        let keyword = if level { "level:" } else { "policy:" };
        let Some(words) = self.split_words(at + keyword.len()) else {
            return;
        };
        let mut d = PolicyDirective {
            kind: None,
            review_at: None,
            block_at: None,
            scores: Vec::new(),
            levels: Vec::new(),
            models_min_words: None,
        };
        let before = self.errors.len();
        for (i, w) in words.iter().enumerate() {
            if i == 0 && !w.text.contains('=') {
                d.kind = match w.text.as_str() {
                    "chat" => Some(MessageKind::Chat),
                    "whisper" => Some(MessageKind::Whisper),
                    other => {
                        self.error(w.column, format!("unknown message kind `{other}`; expected chat or whisper (or nothing, for both)"));
                        None
                    }
                };
                continue;
            }
            self.policy_setting(w, level, &mut d);
        }
        if self.errors.len() > before {
            return;
        }
        if d.review_at.is_none()
            && d.block_at.is_none()
            && d.scores.is_empty()
            && d.levels.is_empty()
            && d.models_min_words.is_none()
        {
            let col = self.column_of(at);
            self.error(col, format!("`{keyword}` sets nothing; expected e.g. `policy: whisper block_at=moderate` or `level: slur=4`"));
            return;
        }
        let column = self.column_of(at);
        entries.push(Entry {
            kind: EntryKind::Policy(d),
            written: self.line[at..].trim_end().to_owned(),
            categories: Categories::NONE,
            severity: Severity::None,
            scope: Scope::Both,
            expires: None,
            line: self.line_no,
            column,
            line_text: self.line.to_owned(),
        });
    }

    /// One `key=value` of a `policy:` or `level:` line, into `d`.
    fn policy_setting(&mut self, w: &Word, level: bool, d: &mut PolicyDirective) {
        let Some((key, value)) = w.text.split_once('=') else {
            self.error(
                w.column,
                format!("expected `key=value` here, found `{}`", w.text),
            );
            return;
        };
        let value_column = w.column + u32::try_from(key.chars().count() + 1).unwrap_or(0);
        if level {
            let Some(category) = Category::from_name(key) else {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                self.error_with_hint(
                    w.column,
                    format!("unknown category `{key}`"),
                    did_you_mean(key, &names),
                );
                return;
            };
            match value.parse::<u8>().ok().and_then(crate::decide::Level::new) {
                Some(l) => d.levels.push((category, l)),
                None => self.error(
                    value_column,
                    format!("invalid level `{value}`; expected 0 (off) to 4 (strictest)"),
                ),
            }
        } else if let Some(score_key) = match key {
            "spam_review_at" => Some(ScoreKey::SpamReview),
            "spam_block_at" => Some(ScoreKey::SpamBlock),
            "toxicity_review_at" => Some(ScoreKey::ToxicityReview),
            "toxicity_block_at" => Some(ScoreKey::ToxicityBlock),
            "whisper_review_at" => Some(ScoreKey::WhisperReview),
            "whisper_block_at" => Some(ScoreKey::WhisperBlock),
            _ => None,
        } {
            // A probability; stored as f32 bits so that the directive stays `Eq`.
            let threshold = match value {
                "never" => Some(None),
                v => v
                    .parse::<f32>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .map(|p| Some(p.to_bits())),
            };
            match threshold {
                Some(t) => d.scores.push((score_key, t)),
                None => self.error(
                    value_column,
                    format!(
                        "invalid probability `{value}`; expected a number from 0 to 1, or never"
                    ),
                ),
            }
        } else if key == "models_min_words" {
            match value.parse::<u8>() {
                Ok(n) => d.models_min_words = Some(n),
                Err(_) => self.error(
                    value_column,
                    format!("invalid word count `{value}`; expected a whole number from 0 to 255"),
                ),
            }
        } else if !matches!(key, "review_at" | "block_at") {
            self.error_with_hint(
                w.column,
                format!("unknown policy key `{key}`; expected review_at, block_at, spam_review_at, spam_block_at, toxicity_review_at, toxicity_block_at, whisper_review_at, whisper_block_at or models_min_words"),
                did_you_mean(key, &["review_at", "block_at", "spam_review_at", "spam_block_at", "toxicity_review_at", "toxicity_block_at", "whisper_review_at", "whisper_block_at", "models_min_words"]),
            );
        } else {
            let severity = if value == "never" {
                Some(Severity::None)
            } else {
                Severity::from_name(value)
            };
            let Some(severity) = severity else {
                self.error_with_hint(
                    value_column,
                    format!("unknown severity `{value}`; expected mild, moderate, severe or never"),
                    did_you_mean(value, &["mild", "moderate", "severe", "never"]),
                );
                return;
            };
            if key == "review_at" {
                d.review_at = Some(severity);
            } else {
                d.block_at = Some(severity);
            }
        }
    }

    fn parse_section(&mut self, at: usize, defaults: &mut Defaults) {
        let Some(close) = self.line[at..].find(']').map(|i| i + at) else {
            let col = self.column_of(self.line.len());
            self.error(
                col,
                "unterminated section header; expected `]`, as in `[profanity severity=mild]`",
            );
            *defaults = Defaults {
                broken: true,
                ..Defaults::default()
            };
            return;
        };
        let after = self.line[close + 1..].trim_start();
        if !after.is_empty() && !after.starts_with('#') {
            let col = self.column_of(self.line.len() - after.len());
            self.error(col, format!("unexpected `{after}` after the section header; expected a comment or the end of the line"));
        }
        let inner = &self.line[..close];
        let first_error = self.errors.len();
        let full_line = self.line;
        let mut p = LineParser {
            file: self.file,
            line_no: self.line_no,
            line: inner,
            errors: self.errors,
        };
        let Some(words) = p.split_words(at + 1) else {
            return;
        };
        let mut fresh = Defaults::default();
        let mut category_set = false;
        for (k, w) in words.iter().enumerate() {
            if k == 0 && !w.text.contains('=') {
                if let Some(c) = p.parse_categories(&w.text, w.column) {
                    fresh.categories = c;
                    category_set = true;
                }
                continue;
            }
            p.parse_attribute(w, &mut fresh, None, &mut category_set);
        }
        if words.is_empty() {
            let col = p.column_of(at + 1);
            p.error(
                col,
                "empty section header; expected a category, as in `[profanity severity=mild]`",
            );
        }
        fresh.broken = self.errors.len() > first_error;
        *defaults = fresh;
        for e in &mut self.errors[first_error..] {
            full_line.clone_into(&mut e.text);
        }
    }

    fn parse_categories(&mut self, text: &str, column: u32) -> Option<Categories> {
        let mut set = Categories::NONE;
        let mut offset = 0u32;
        for name in text.split(',') {
            let Some(c) = Category::from_name(name) else {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                self.error_with_hint(
                    column + offset,
                    format!("unknown category `{name}`; expected one of profanity, sexual, slur, insult, threat, spam"),
                    did_you_mean(name, &names),
                );
                return None;
            };
            set.insert(c);
            offset += u32::try_from(name.chars().count() + 1).unwrap_or(0);
        }
        Some(set)
    }

    /// Parses `key=value` into `attrs`. `for_rule` collects `for=` when the line is an allow.
    fn parse_attribute(
        &mut self,
        word: &Word,
        attrs: &mut Defaults,
        for_rule: Option<&mut Option<String>>,
        category_set: &mut bool,
    ) {
        let Some((key, value)) = word.text.split_once('=') else {
            self.error(
                word.column,
                format!("expected `key=value` here, found `{}`", word.text),
            );
            return;
        };
        let value_column = word.column + u32::try_from(key.chars().count() + 1).unwrap_or(0);
        if value.is_empty() {
            self.error(value_column, format!("missing value after `{key}=`"));
            return;
        }
        match key {
            "category" => {
                if let Some(c) = self.parse_categories(value, value_column) {
                    attrs.categories = c;
                    *category_set = true;
                }
            }
            "severity" => match Severity::from_name(value) {
                Some(s) => attrs.severity = s,
                None => self.error_with_hint(
                    value_column,
                    format!("unknown severity `{value}`; expected mild, moderate or severe"),
                    did_you_mean(value, &["mild", "moderate", "severe"]),
                ),
            },
            "scope" => match value {
                "both" => attrs.scope = Scope::Both,
                "chat" => attrs.scope = Scope::Chat,
                "whisper" => attrs.scope = Scope::Whisper,
                _ => self.error_with_hint(
                    value_column,
                    format!("unknown scope `{value}`; expected chat, whisper or both"),
                    did_you_mean(value, &["chat", "whisper", "both"]),
                ),
            },
            "expires" => match parse_date(value) {
                Some(d) => attrs.expires = Some(d),
                None => self.error(value_column, format!("invalid date `{value}`; expected YYYY-MM-DD")),
            },
            "for" => match for_rule {
                Some(slot) => *slot = Some(value.to_owned()),
                None => self.error(word.column, "`for=` only applies to `allow:` lines"),
            },
            _ => self.error_with_hint(
                word.column,
                format!("unknown attribute `{key}`; expected category, severity, scope, expires (or for, on allow lines)"),
                did_you_mean(key, &["category", "severity", "scope", "expires", "for"]),
            ),
        }
    }

    fn parse_term(
        &mut self,
        at: usize,
        words: &[Word],
        defaults: &Defaults,
        entries: &mut Vec<Entry>,
        allow: bool,
    ) {
        let column = self.column_of(at);
        let split = words
            .iter()
            .position(|w| !w.quoted && w.text.contains('='))
            .unwrap_or(words.len());
        let (term_words, attr_words) = words.split_at(split);
        if term_words.is_empty() {
            let col = attr_words.first().map_or(column, |w| w.column);
            self.error(
                col,
                if allow {
                    "expected a term after `allow:`"
                } else {
                    "expected a term before the attributes"
                },
            );
            return;
        }
        let written = term_words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let term_column = term_words[0].column;
        let mut attrs = *defaults;
        let mut for_rule = None;
        let mut category_set = false;
        for w in attr_words {
            if w.quoted {
                self.error(
                    w.column,
                    "expected `key=value` after the term, found a quoted term",
                );
                continue;
            }
            let slot = if allow { Some(&mut for_rule) } else { None };
            self.parse_attribute(w, &mut attrs, slot, &mut category_set);
        }
        let Some((term, wildcard)) = self.parse_wildcards(&written, term_column) else {
            return;
        };
        if let Err(e) = expand_alternatives(&term) {
            let col = term_column
                + u32::from(wildcard.leading)
                + u32::try_from(term[..e.at].chars().count()).unwrap_or(0);
            self.error_with_hint(col, e.message, e.hint.map(str::to_owned));
            return;
        }
        if !allow && attrs.categories.is_empty() {
            if defaults.broken {
                // The broken section header above was reported; the rule is still checked
                // for its own problems (the file is refused either way).
                attrs.categories = Categories::only(Category::Profanity);
            } else {
                self.error(term_column, "this term has no category; add `category=...` or put it under a section such as `[profanity]`");
                return;
            }
        }
        let kind = if allow {
            EntryKind::Allow {
                term,
                wildcard,
                for_rule,
            }
        } else {
            EntryKind::Term { term, wildcard }
        };
        entries.push(Entry {
            kind,
            written,
            categories: attrs.categories,
            severity: attrs.severity,
            scope: attrs.scope,
            expires: attrs.expires,
            line: self.line_no,
            column: term_column,
            line_text: self.line.to_owned(),
        });
    }

    fn parse_wildcards(&mut self, written: &str, column: u32) -> Option<(String, Wildcard)> {
        let leading = written.starts_with('*');
        let trailing = written.len() > 1 && written.ends_with('*');
        let inner = written.strip_prefix('*').unwrap_or(written);
        let inner = if trailing {
            inner.strip_suffix('*').unwrap_or(inner)
        } else {
            inner
        };
        if let Some(i) = inner.find('*') {
            let col = column
                + u32::try_from(inner[..i].chars().count() + usize::from(leading)).unwrap_or(0);
            self.error_with_hint(
                col,
                format!("a `*` wildcard may only start or end a term, found one inside `{written}`"),
                Some(
                    "folding already matches disguised spellings such as `f*ck`: write the word itself, or split it into `word*` and `*word` rules"
                        .to_owned(),
                ),
            );
            return None;
        }
        if inner.trim().is_empty() {
            self.error(
                column,
                "a term needs at least one letter or digit besides its wildcards",
            );
            return None;
        }
        Some((inner.to_owned(), Wildcard { leading, trailing }))
    }

    fn parse_regex(
        &mut self,
        at: usize,
        from: usize,
        rest: &str,
        defaults: &Defaults,
        entries: &mut Vec<Entry>,
    ) {
        let body = rest.trim_start();
        let open = from + (rest.len() - body.len());
        if !body.starts_with('/') {
            let col = self.column_of(open);
            self.error(
                col,
                "expected a regex between slashes after `regex:`, as in `regex: /f+u+c+k+/`",
            );
            return;
        }
        let mut pattern = String::new();
        let mut close = None;
        let mut chars = body[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, '/')) => pattern.push('/'),
                    Some((_, e)) => {
                        pattern.push('\\');
                        pattern.push(e);
                    }
                    None => pattern.push('\\'),
                },
                '/' => {
                    close = Some(open + 1 + i);
                    break;
                }
                c => pattern.push(c),
            }
        }
        let Some(close) = close else {
            let col = self.column_of(open);
            self.error(col, "unterminated regex; expected a closing `/`");
            return;
        };
        if pattern.is_empty() {
            let col = self.column_of(open);
            self.error(col, "empty regex; expected a pattern between the slashes");
            return;
        }
        let Some(words) = self.split_words(close + 1) else {
            return;
        };
        let mut attrs = *defaults;
        let mut category_set = false;
        for w in &words {
            self.parse_attribute(w, &mut attrs, None, &mut category_set);
        }
        let column = self.column_of(open);
        if attrs.categories.is_empty() {
            if defaults.broken {
                // See parse_term: checked for its own problems under a broken section.
                attrs.categories = Categories::only(Category::Profanity);
            } else {
                self.error(column, "this regex has no category; add `category=...` or put it under a section such as `[profanity]`");
                return;
            }
        }
        entries.push(Entry {
            written: format!("/{}/", &self.line[open + 1..close]),
            kind: EntryKind::Regex { pattern },
            categories: attrs.categories,
            severity: attrs.severity,
            scope: attrs.scope,
            expires: attrs.expires,
            line: self.line_no,
            column: self.column_of(at).max(column),
            line_text: self.line.to_owned(),
        });
    }
}

/// `did you mean …?` for a misspelled name: the closest candidate within two edits.
/// The most terms one term with alternatives may stand for.
pub(crate) const MAX_ALTERNATIVES: usize = 4096;

/// A problem with the alternatives of a term: where (a byte offset into the term) and what.
#[derive(Debug)]
pub(crate) struct AlternativesError {
    pub at: usize,
    pub message: String,
    pub hint: Option<&'static str>,
}

/// The terms a term with alternatives stands for, in order: every choice of one alternative
/// from each `{a|b|c}` group (an alternative may hold several words or none), so that
/// `{you|u} {really |}suck` is `you really suck`, `you suck`, `u really suck`, `u suck`. A
/// term without braces stands for itself. Braces and bars are separators once folded, so they
/// mean nothing else in a term; a `|` outside braces is leetspeak as before (`b|tch`).
///
/// # Errors
///
/// An unclosed or unopened brace, a group inside a group, a group with one alternative or
/// none, or more than [`MAX_ALTERNATIVES`] terms.
pub(crate) fn expand_alternatives(term: &str) -> Result<Vec<String>, AlternativesError> {
    let mut parts: Vec<Vec<&str>> = Vec::new();
    let mut rest = term;
    let mut offset = 0;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(AlternativesError {
                at: offset + open,
                message: "a `}` closes no `{` group".to_owned(),
                hint: Some("alternatives are written `{one|other}`"),
            });
        }
        parts.push(vec![&rest[..open]]);
        let inner = &rest[open + 1..];
        let Some(close) = inner
            .find(['{', '}'])
            .filter(|&c| inner.as_bytes()[c] == b'}')
        else {
            let nested = inner.find('{');
            return Err(AlternativesError {
                at: nested.map_or(offset + open, |n| offset + open + 1 + n),
                message: if nested.is_some() {
                    "a `{` group inside another group".to_owned()
                } else {
                    "a `{` group is not closed with `}`".to_owned()
                },
                hint: Some("alternatives are written `{one|other}`, one group level only"),
            });
        };
        let choices: Vec<&str> = inner[..close].split('|').collect();
        if choices.len() < 2 {
            return Err(AlternativesError {
                at: offset + open,
                message: format!(
                    "the group `{{{}}}` has one alternative; expected two or more separated by `|`",
                    &inner[..close]
                ),
                hint: Some("an optional word is written `{word|}`"),
            });
        }
        parts.push(choices);
        offset += open + 1 + close + 1;
        rest = &inner[close + 1..];
    }
    parts.push(vec![rest]);
    let count = parts
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.len()))
        .unwrap_or(usize::MAX);
    if count > MAX_ALTERNATIVES {
        return Err(AlternativesError {
            at: 0,
            message: format!(
                "the term stands for {} terms, more than the {MAX_ALTERNATIVES} allowed",
                if count == usize::MAX {
                    "too many".to_owned()
                } else {
                    count.to_string()
                }
            ),
            hint: Some("split it into several rules, or use a regex"),
        });
    }
    let mut terms = vec![String::new()];
    for choices in parts {
        terms = terms
            .iter()
            .flat_map(|t| choices.iter().map(move |c| format!("{t}{c}")))
            .collect();
    }
    // Words stay one space apart whatever was chosen (`{really |}suck`).
    Ok(terms
        .into_iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect())
}

fn did_you_mean(given: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, c)| *d <= 2.min(c.len() / 2).max(1))
        .min()
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Edit distance over `char`s counting a swap of two neighbours as one edit (optimal
/// string alignment), so that `insluts` is one edit from `insult`s… and close to `insult`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Date::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Entry>, Vec<RuleError>) {
        parse_file(&Arc::from("t.rules"), text)
    }

    #[test]
    fn sections_terms_allow_regex() {
        let (entries, errors) = parse(
            "# c\n[profanity severity=mild]\nfuck* severity=severe # x\n\"a # b\"\nallow: cocktail for=cock*\nregex: /a\\/b/ category=slur\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[0].kind,
            EntryKind::Term {
                term: "fuck".into(),
                wildcard: Wildcard {
                    leading: false,
                    trailing: true
                }
            }
        );
        assert_eq!(entries[0].severity, Severity::Severe);
        assert_eq!(
            entries[1].kind,
            EntryKind::Term {
                term: "a # b".into(),
                wildcard: Wildcard::default()
            }
        );
        assert_eq!(entries[1].severity, Severity::Mild);
        assert!(
            matches!(&entries[2].kind, EntryKind::Allow { for_rule: Some(r), .. } if r == "cock*")
        );
        assert_eq!(
            entries[3].kind,
            EntryKind::Regex {
                pattern: "a/b".into()
            }
        );
        assert!(entries[3].categories.contains(Category::Slur));
    }

    #[test]
    fn errors_carry_positions() {
        let (_, errors) = parse("[profanity]\nf*ck\nok severity=awful\n[nonsense]\n");
        let got: Vec<_> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(got, vec![(2, 2), (3, 13), (4, 2)]);
    }

    #[test]
    fn hints_suggest_the_closest_name() {
        let (_, errors) = parse("[profanty]\nx severty=mild\n[insult]\ny severity=moderat\n");
        let hints: Vec<_> = errors.iter().map(|e| e.hint.clone()).collect();
        assert_eq!(
            hints,
            vec![
                Some("did you mean `profanity`?".to_owned()),
                Some("did you mean `severity`?".to_owned()),
                Some("did you mean `moderate`?".to_owned())
            ]
        );
        assert_eq!(did_you_mean("xyz", &["mild"]), None);
    }

    #[test]
    fn alternatives_expand_to_every_choice() {
        let terms = |t: &str| expand_alternatives(t).unwrap();
        assert_eq!(terms("plain term"), ["plain term"]);
        assert_eq!(
            terms("{you|u} {really |}suck"),
            ["you really suck", "you suck", "u really suck", "u suck"]
        );
        assert_eq!(terms("{nobody|no one} likes {you|u}").len(), 4);
        assert_eq!(
            terms("b|tch"),
            ["b|tch"],
            "a bar outside braces is leetspeak"
        );
        assert_eq!(terms("x{a|b}y"), ["xay", "xby"]);
        let error = |t: &str| expand_alternatives(t).unwrap_err().message;
        assert!(error("{you|u").contains("not closed"));
        assert!(error("you}").contains("closes no"));
        assert!(error("{a|{b|c}}").contains("inside another group"));
        assert!(error("{alone} word").contains("one alternative"));
        let many = "{a|b|c|d}".repeat(7);
        assert!(error(&many).contains("16384 terms"));
        let huge = "{a|b}".repeat(70);
        assert!(error(&huge).contains("too many"));
    }

    #[test]
    fn dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert_eq!(Date::from_ymd(2000, 3, 1), Some(Date(11_017)));
        assert_eq!(Date::from_ymd(2023, 2, 29), None);
        assert_eq!(parse_date("2024-02-29"), Date::from_ymd(2024, 2, 29));
        assert_eq!(parse_date("2024-2-29"), None);
    }
}
