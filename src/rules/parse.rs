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
}

/// Defaults set by a section header.
#[derive(Clone, Copy, Debug)]
struct Defaults {
    categories: Categories,
    severity: Severity,
    scope: Scope,
    expires: Option<Date>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
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
        self.errors.push(RuleError {
            file: Arc::clone(self.file),
            line: self.line_no,
            column,
            message: message.into(),
            text: self.line.to_owned(),
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
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, e @ ('"' | '\\'))) => text.push(e),
                            Some((j, e)) => {
                                let col = self.column_of(j);
                                self.error(col, format!("unknown escape `\\{e}` in a quoted term; expected `\\\"` or `\\\\`"));
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

    fn parse_section(&mut self, at: usize, defaults: &mut Defaults) {
        let Some(close) = self.line[at..].find(']').map(|i| i + at) else {
            let col = self.column_of(self.line.len());
            self.error(
                col,
                "unterminated section header; expected `]`, as in `[profanity severity=mild]`",
            );
            return;
        };
        let after = self.line[close + 1..].trim_start();
        if !after.is_empty() && !after.starts_with('#') {
            let col = self.column_of(self.line.len() - after.len());
            self.error(col, format!("unexpected `{after}` after the section header; expected a comment or the end of the line"));
        }
        let inner = &self.line[..close];
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
        *defaults = fresh;
    }

    fn parse_categories(&mut self, text: &str, column: u32) -> Option<Categories> {
        let mut set = Categories::NONE;
        let mut offset = 0u32;
        for name in text.split(',') {
            let Some(c) = Category::from_name(name) else {
                self.error(
                    column + offset,
                    format!("unknown category `{name}`; expected one of profanity, sexual, slur, insult, threat, spam"),
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
                None => self.error(value_column, format!("unknown severity `{value}`; expected mild, moderate or severe")),
            },
            "scope" => match value {
                "both" => attrs.scope = Scope::Both,
                "chat" => attrs.scope = Scope::Chat,
                "whisper" => attrs.scope = Scope::Whisper,
                _ => self.error(value_column, format!("unknown scope `{value}`; expected chat, whisper or both")),
            },
            "expires" => match parse_date(value) {
                Some(d) => attrs.expires = Some(d),
                None => self.error(value_column, format!("invalid date `{value}`; expected YYYY-MM-DD")),
            },
            "for" => match for_rule {
                Some(slot) => *slot = Some(value.to_owned()),
                None => self.error(word.column, "`for=` only applies to `allow:` lines"),
            },
            _ => self.error(
                word.column,
                format!("unknown attribute `{key}`; expected category, severity, scope, expires (or for, on allow lines)"),
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
        if !allow && attrs.categories.is_empty() {
            self.error(term_column, "this term has no category; add `category=...` or put it under a section such as `[profanity]`");
            return;
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
            self.error(
                col,
                format!(
                    "a `*` wildcard may only start or end a term, found one inside `{written}`"
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
            self.error(column, "this regex has no category; add `category=...` or put it under a section such as `[profanity]`");
            return;
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
        });
    }
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
    fn dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert_eq!(Date::from_ymd(2000, 3, 1), Some(Date(11_017)));
        assert_eq!(Date::from_ymd(2023, 2, 29), None);
        assert_eq!(parse_date("2024-02-29"), Date::from_ymd(2024, 2, 29));
        assert_eq!(parse_date("2024-2-29"), None);
    }
}
