//! Rules: moderator-written rule files, parsed into a [`RuleSet`] and compiled into automata
//! over the folded views.
//!
//! The file format is documented in `rules/README.md`.

mod matcher;
mod parse;

use std::path::Path;
use std::sync::Arc;

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
    /// `None`: [`DEFAULT_MAX_RULE_BYTES`]. Checked before a file is parsed, so that a huge
    /// file costs no parsing time or memory.
    max_bytes: Option<usize>,
}

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
        let file: Arc<str> = Arc::from(name);
        if self.bytes.saturating_add(text.len()) > self.max_bytes() {
            return vec![self.too_big(file, text.len() as u64)];
        }
        let (entries, errors) = parse::parse_file(&file, text);
        if errors.is_empty() {
            self.bytes += text.len();
            self.entries
                .extend(entries.into_iter().map(|e| (Arc::clone(&file), e)));
        }
        errors
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
            errors.extend(rules.try_add_file(&name, &text));
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(Error::rules(errors))
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

fn collect_rule_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), Error> {
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
