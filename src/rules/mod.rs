//! Rules: moderator-written rule files, parsed into a [`RuleSet`] and compiled into automata
//! over the folded views.
//!
//! The file format is documented in `rules/README.md`.

mod lint;
mod masked;
mod matcher;
mod parse;

use std::path::Path;
use std::sync::Arc;

pub use lint::{lint_dir, lint_files, LintReport};
pub(crate) use matcher::{CompileLimits, MatchBuffers, Matcher};
pub(crate) use parse::Entry;
pub use parse::{Date, Scope, Wildcard};

use crate::error::{Error, RuleError};
use crate::verdict::{Categories, Severity};

/// The most bytes of rule files a [`RuleSet`] accepts unless told otherwise
/// ([`RuleSet::set_max_bytes`]); the same as the default
/// [`Config::max_rule_bytes`](crate::Config::max_rule_bytes).
pub const DEFAULT_MAX_RULE_BYTES: usize = 16 << 20;

/// The default English rules, embedded in the library: every file of `rules/en/`, as
/// `(name, text)`. Generated from the surge-ai profanity list and LDNOOBW by
/// `tools/gen_default_rules.py` (see `rules/NOTICE.md`).
pub const DEFAULT_ENGLISH: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/default_rules.rs"));

/// Parsed rule files, ready to be compiled into a [`Filter`](crate::Filter).
///
/// ```
/// let mut rules = chatguard::RuleSet::new();
/// rules.add_file("mine.rules", "[insult]\nnoob* severity=mild\n").unwrap();
/// assert_eq!(rules.len(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub(crate) entries: Vec<(Arc<str>, Entry)>,
    pub(crate) bytes: usize,
    /// Files and language packs already loaded (canonical paths, `lang:CODE`), so that an
    /// include never loads one twice.
    loaded: std::collections::HashSet<String>,
    /// `policy:` and `level:` lines, in file order; applied over the config when a filter is
    /// built.
    pub(crate) policies: Vec<parse::PolicyDirective>,
    /// `None`: [`DEFAULT_MAX_RULE_BYTES`]. Checked before a file is parsed, so that a huge
    /// file costs no parsing time or memory.
    max_bytes: Option<usize>,
}

/// The language packs built from LDNOOBW, embedded: every file of `rules/lang/`, as
/// `(code, text)`. Load one with [`RuleSet::language_pack`] or `include: lang:CODE`.
pub const LANGUAGE_PACKS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/lang_rules.rs"));

impl RuleSet {
    /// An empty rule set.
    #[must_use]
    pub fn new() -> RuleSet {
        RuleSet::default()
    }

    /// Sets the most bytes of rule files this set accepts, in total (default
    /// [`DEFAULT_MAX_RULE_BYTES`]). A file that would go over it is refused before it is
    /// parsed; raise it together with [`Config::max_rule_bytes`](crate::Config::max_rule_bytes).
    pub fn set_max_bytes(&mut self, max_bytes: usize) -> &mut RuleSet {
        self.max_bytes = Some(max_bytes);
        self
    }

    fn max_bytes(&self) -> usize {
        self.max_bytes.unwrap_or(DEFAULT_MAX_RULE_BYTES)
    }

    /// The error for a file of `len` bytes that would take the set over its size limit.
    fn too_big(&self, file: Arc<str>, len: u64) -> RuleError {
        RuleError {
            file,
            line: 1,
            column: 1,
            message: format!(
                "the file has {len} bytes, which would take the rule files to more than {} bytes, the limit (RuleSet::set_max_bytes); it was not parsed",
                self.max_bytes()
            ),
            text: String::new(),
            hint: Some("split the rules into several sets, or raise the limit with RuleSet::set_max_bytes and Config::max_rule_bytes".to_owned()),
            warning: false,
        }
    }

    /// The embedded default English rules.
    ///
    /// # Errors
    ///
    /// Never in practice: the embedded files are checked by the test suite.
    pub fn default_english() -> Result<RuleSet, Error> {
        let mut rules = RuleSet::new();
        for (name, text) in DEFAULT_ENGLISH {
            rules.add_file(name, text)?;
        }
        Ok(rules)
    }

    /// Parses one rule file and adds its rules. `name` is used in error messages.
    ///
    /// # Errors
    ///
    /// Every problem in the file, each with file, line, column and what was expected; no rule
    /// of the file is added then.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let errors = self.try_add_file(name, text);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::rules(errors))
        }
    }

    /// Like [`add_file`](Self::add_file), but adds the rules that parsed and returns the
    /// problems (for `chatguard lint`, which reports them all). A file that would take the
    /// set over its size limit ([`RuleSet::set_max_bytes`]) is refused unparsed, with one
    /// error at line 1, column 1.
    pub fn try_add_file(&mut self, name: &str, text: &str) -> Vec<RuleError> {
        self.load(name, text, None)
    }

    /// The embedded language pack for `code` (`fr`, `de`, …; see [`LANGUAGE_PACKS`]).
    ///
    /// # Errors
    ///
    /// When there is no pack for `code`.
    pub fn language_pack(code: &str) -> Result<RuleSet, Error> {
        let mut rules = RuleSet::new();
        let Some((_, text)) = LANGUAGE_PACKS.iter().find(|(c, _)| *c == code) else {
            let codes: Vec<&str> = LANGUAGE_PACKS.iter().map(|(c, _)| *c).collect();
            return Err(Error::config(format!(
                "no language pack `{code}`; expected one of {}",
                codes.join(", ")
            )));
        };
        rules.loaded.insert(format!("lang:{code}"));
        rules.add_file(&format!("lang/{code}.rules"), text)?;
        Ok(rules)
    }

    /// Parses a file and adds its rules (when it has no error), resolving its includes
    /// relative to `base`. Returns every problem.
    pub(crate) fn load(&mut self, name: &str, text: &str, base: Option<&Path>) -> Vec<RuleError> {
        let file: Arc<str> = Arc::from(name);
        if self.bytes.saturating_add(text.len()) > self.max_bytes() {
            return vec![self.too_big(file, text.len() as u64)];
        }
        let (entries, mut errors) = parse::parse_file(&file, text);
        let mut kept = Vec::with_capacity(entries.len());
        let mut policies = Vec::new();
        for e in entries {
            match e.kind {
                parse::EntryKind::Include { ref target } => {
                    errors.extend(self.include(&file, &e, target, base));
                }
                parse::EntryKind::Policy(d) => policies.push(d),
                _ => kept.push(e),
            }
        }
        if errors.is_empty() {
            self.policies.extend(policies);
            self.bytes += text.len();
            self.entries
                .extend(kept.into_iter().map(|e| (Arc::clone(&file), e)));
        }
        errors
    }

    pub(crate) fn include(
        &mut self,
        file: &Arc<str>,
        at: &Entry,
        target: &str,
        base: Option<&Path>,
    ) -> Vec<RuleError> {
        let problem = |message: String, hint: &str| {
            vec![RuleError {
                file: Arc::clone(file),
                line: at.line,
                column: at.column,
                message,
                text: at.line_text.clone(),
                hint: Some(hint.to_owned()),
                warning: false,
            }]
        };
        if let Some(code) = target.strip_prefix("lang:") {
            let Some((_, text)) = LANGUAGE_PACKS.iter().find(|(c, _)| *c == code) else {
                let codes: Vec<&str> = LANGUAGE_PACKS.iter().map(|(c, _)| *c).collect();
                return problem(
                    format!("no language pack `{code}`"),
                    &format!("the packs are {}", codes.join(", ")),
                );
            };
            if !self.loaded.insert(format!("lang:{code}")) {
                return Vec::new();
            }
            return self.load(&format!("lang/{code}.rules"), text, None);
        }
        let Some(base) = base else {
            return problem(
                format!("cannot include `{target}`: rules given as text have no directory to find it in"),
                "load the rules with RuleSet::from_dir, or include a language pack (`include: lang:fr`)",
            );
        };
        let path = base.join(target);
        let key = std::fs::canonicalize(&path)
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
        if !self.loaded.insert(key) {
            return Vec::new();
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
                self.load(&path.display().to_string(), &text, Some(&parent))
            }
            Err(e) => problem(
                format!("cannot include `{target}`: {e}"),
                "the path is relative to the file that includes it",
            ),
        }
    }

    /// Reads every `*.rules` file of a directory (and its subdirectories), in path order.
    ///
    /// # Errors
    ///
    /// An I/O error, or every problem found in every file.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<RuleSet, Error> {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        collect_rule_files(dir, &mut files)?;
        if files.is_empty() {
            return Err(Error::config(format!(
                "{}: no *.rules files found",
                dir.display()
            )));
        }
        files.sort();
        let mut rules = RuleSet::new();
        let mut errors = Vec::new();
        for path in files {
            // Refuse an oversized file from its length, before reading it.
            let len = std::fs::metadata(&path)
                .map_err(|e| Error::io(path.display().to_string(), e))?
                .len();
            if (rules.bytes as u64).saturating_add(len) > rules.max_bytes() as u64 {
                errors.push(rules.too_big(Arc::from(path.display().to_string()), len));
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::io(path.display().to_string(), e))?;
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let name = format!("{}/{}", dir.display(), name);
            let key = std::fs::canonicalize(&path)
                .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
            if !rules.loaded.insert(key) {
                continue; // already included by another file
            }
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            errors.extend(rules.load(&name, &text, Some(&parent)));
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(Error::rules(errors))
        }
    }

    /// Applies the `policy:` and `level:` lines of the files to the policies of `config`.
    pub(crate) fn apply_policies(&self, config: &mut crate::Config) {
        use crate::message::MessageKind;
        for d in &self.policies {
            for (kind, policy) in [
                (MessageKind::Chat, &mut config.chat),
                (MessageKind::Whisper, &mut config.whisper),
            ] {
                if d.kind.is_some_and(|k| k != kind) {
                    continue;
                }
                if let Some(s) = d.review_at {
                    policy.review_at = s;
                }
                if let Some(s) = d.block_at {
                    policy.block_at = s;
                }
                for &(category, level) in &d.levels {
                    policy.levels[category as usize] = Some(level);
                }
                if let Some(n) = d.models_min_words {
                    policy.models_min_words = n;
                }
                for &(key, bits) in &d.scores {
                    let t = bits.map(f32::from_bits);
                    match key {
                        parse::ScoreKey::SpamReview => policy.spam_review_at = t,
                        parse::ScoreKey::SpamBlock => policy.spam_block_at = t,
                        parse::ScoreKey::ToxicityReview => policy.toxicity_review_at = t,
                        parse::ScoreKey::ToxicityBlock => policy.toxicity_block_at = t,
                        parse::ScoreKey::WhisperReview => policy.whisper_review_at = t,
                        parse::ScoreKey::WhisperBlock => policy.whisper_block_at = t,
                    }
                }
            }
        }
    }

    /// Number of rules (blocked terms, permitted terms and regexes).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no rules.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

pub(crate) fn collect_rule_files(
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
) -> Result<(), Error> {
    let read = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    for entry in read {
        let entry = entry.map_err(|e| Error::io(dir.display().to_string(), e))?;
        let path = entry.path();
        if path.is_dir() {
            collect_rule_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rules") {
            out.push(path);
        }
    }
    Ok(())
}

/// What a compiled rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// A blocked term.
    Term,
    /// A permitted term.
    Allow,
    /// A regex over the folded text.
    Regex,
}

/// A rule of a [`Filter`](crate::Filter), for explaining hits.
#[derive(Clone, Debug)]
pub struct Rule {
    pub(crate) kind: RuleKind,
    pub(crate) written: String,
    pub(crate) categories: Categories,
    pub(crate) severity: Severity,
    pub(crate) scope: Scope,
    pub(crate) expires: Option<Date>,
    pub(crate) file: Arc<str>,
    pub(crate) line: u32,
}

impl Rule {
    /// What kind of rule it is.
    #[must_use]
    pub fn kind(&self) -> &RuleKind {
        &self.kind
    }

    /// The pattern as written in the file (`*fuck*`, `/f+u+c+k+/`).
    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.written
    }

    /// The pattern for people to read: whole, or its first 40 characters and `…` when it is
    /// longer than 48 (a large regex); [`pattern`](Self::pattern) is always whole.
    ///
    /// ```
    /// let mut rules = chatguard::RuleSet::new();
    /// rules.add_file("a.rules", "[insult]\nnoob\nregex: /(?:aaaaaaaaaa|bbbbbbbbbb|cccccccccc|dddddddddd|eeeeeeeeee)/\n").unwrap();
    /// let filter = chatguard::FilterBuilder::new().rules(rules).build().unwrap();
    /// assert_eq!(filter.rules()[0].pattern_shown(), "noob");
    /// assert_eq!(filter.rules()[1].pattern_shown(), "/(?:aaaaaaaaaa|bbbbbbbbbb|cccccccccc|ddd…");
    /// ```
    #[must_use]
    pub fn pattern_shown(&self) -> std::borrow::Cow<'_, str> {
        const SHOWN: usize = 48;
        if self.written.chars().count() <= SHOWN {
            return std::borrow::Cow::Borrowed(&self.written);
        }
        let start: String = self.written.chars().take(SHOWN - 8).collect();
        std::borrow::Cow::Owned(format!("{start}…"))
    }

    /// The categories.
    #[must_use]
    pub fn categories(&self) -> Categories {
        self.categories
    }

    /// The severity.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// Which kinds of message it applies to.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The day from which it is ignored, if any.
    #[must_use]
    pub fn expires(&self) -> Option<Date> {
        self.expires
    }

    /// The file it came from.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Its line in that file.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }
}
