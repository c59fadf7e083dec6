//! Checks for moderators: every problem of a set of rule files in one pass, errors and
//! warnings, each with file, line, column, the offending text and a hint.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::matcher::{CompileLimits, Matcher};
use super::parse::{self, Date, EntryKind, ScoreKey};
use super::RuleSet;
use crate::error::{Error, RuleError};
use crate::message::MessageKind;

/// What `lint` found.
#[derive(Clone, Debug, Default)]
pub struct LintReport {
    /// Every problem, errors and warnings, in file, line and column order.
    pub problems: Vec<RuleError>,
    /// Rules that parsed.
    pub rules: usize,
    /// Files read.
    pub files: usize,
}

impl LintReport {
    /// The errors (the files would be refused).
    pub fn errors(&self) -> impl Iterator<Item = &RuleError> {
        self.problems.iter().filter(|p| !p.is_warning())
    }

    /// The warnings (the files work, but probably not as meant).
    pub fn warnings(&self) -> impl Iterator<Item = &RuleError> {
        self.problems.iter().filter(|p| p.is_warning())
    }

    /// Whether there is no error.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }
}

/// Lints every `*.rules` file of a directory (and its subdirectories).
///
/// # Errors
///
/// Only when a file or directory cannot be read; problems in the files are in the report.
pub fn lint_dir(dir: impl AsRef<Path>, today: Date) -> Result<LintReport, Error> {
    let dir = dir.as_ref();
    let mut paths = Vec::new();
    super::collect_rule_files(dir, &mut paths)?;
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let name = format!(
            "{}/{}",
            dir.display(),
            path.strip_prefix(dir).unwrap_or(&path).display()
        );
        files.push((name, text));
    }
    Ok(lint_files(&files, today))
}

/// Lints rule files given as `(name, text)`.
#[must_use]
pub fn lint_files(files: &[(String, String)], today: Date) -> LintReport {
    let mut report = LintReport {
        files: files.len(),
        ..LintReport::default()
    };
    let mut rules = RuleSet::new();
    // `policy:` and `level:` lines set thresholds; they are not rules for the matcher.
    let mut policies = Vec::new();
    for (name, text) in files {
        let file: Arc<str> = Arc::from(name.as_str());
        let (entries, errors) = parse::parse_file(&file, text);
        report.problems.extend(errors);
        rules.bytes += text.len();
        for e in entries {
            if matches!(e.kind, EntryKind::Policy(_)) {
                policies.push((Arc::clone(&file), e));
            } else {
                rules.entries.push((Arc::clone(&file), e));
            }
        }
    }
    report.rules = rules.entries.len();
    let limits = CompileLimits {
        max_rules: usize::MAX,
        max_regex_size: crate::Config::default().max_regex_size,
    };
    if let Err(e) = Matcher::compile(&rules, limits) {
        report.problems.extend(e.rule_errors().iter().cloned());
    }
    warn(&rules, today, &mut report.problems);
    warn_policies(&policies, &mut report.problems);
    report
        .problems
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    report
}

fn warning(
    file: &Arc<str>,
    line: u32,
    column: u32,
    text: &str,
    message: String,
    hint: &str,
) -> RuleError {
    RuleError {
        file: Arc::clone(file),
        line,
        column,
        message,
        text: text.to_owned(),
        hint: Some(hint.to_owned()),
        warning: true,
    }
}

/// Whisper-model thresholds on `policy: chat` lines, where they do nothing.
fn warn_policies(policies: &[(Arc<str>, parse::Entry)], out: &mut Vec<RuleError>) {
    for (file, e) in policies {
        let EntryKind::Policy(policy) = &e.kind else {
            continue;
        };
        if policy.kind != Some(MessageKind::Chat) {
            continue;
        }
        for (key, _) in &policy.scores {
            if !matches!(key, ScoreKey::WhisperReview | ScoreKey::WhisperBlock) {
                continue;
            }
            let name = key.name();
            let column = e.line_text.find(name).map_or(e.column, |i| {
                u32::try_from(e.line_text[..i].chars().count() + 1).unwrap_or(e.column)
            });
            out.push(warning(
                file,
                e.line,
                column,
                &e.line_text,
                format!("`{name}` does nothing on a `policy: chat` line: the whisper model scores only whispers"),
                "set it on a `policy: whisper` line, or on a line for both kinds",
            ));
        }
    }
}

/// Duplicate terms, terms that a global permit cancels, expired rules.
fn warn(rules: &RuleSet, today: Date, out: &mut Vec<RuleError>) {
    let mut seen: HashMap<(String, bool), (Arc<str>, u32)> = HashMap::new();
    let mut blocked: HashMap<String, (Arc<str>, u32)> = HashMap::new();
    for (file, e) in &rules.entries {
        let (key, is_allow) = match &e.kind {
            EntryKind::Term { .. } => (e.written.to_lowercase(), false),
            EntryKind::Allow { for_rule, .. } => (
                format!(
                    "{}\u{0}{}",
                    e.written.to_lowercase(),
                    for_rule.as_deref().unwrap_or("")
                ),
                true,
            ),
            EntryKind::Regex { pattern } => (pattern.clone(), false),
            EntryKind::Include { .. } | EntryKind::Policy(_) => continue,
        };
        let scope_key = format!("{key}\u{0}{}", e.scope.name());
        if let Some((first_file, first_line)) = seen.get(&(scope_key.clone(), is_allow)) {
            out.push(warning(
                file,
                e.line,
                e.column,
                &e.line_text,
                format!("duplicate rule `{}`: the same rule is at {first_file}:{first_line}", e.written),
                "remove one of them; if they differ in category or severity, the higher severity applies",
            ));
        } else {
            seen.insert((scope_key, is_allow), (Arc::clone(file), e.line));
        }
        if let EntryKind::Term { term, .. } = &e.kind {
            blocked
                .entry(term.to_lowercase())
                .or_insert((Arc::clone(file), e.line));
        }
        if let Some(expires) = e.expires {
            if expires <= today {
                out.push(warning(
                    file,
                    e.line,
                    e.column,
                    &e.line_text,
                    format!("rule `{}` has expired: it is ignored", e.written),
                    "delete it, or move `expires=` to a later date",
                ));
            }
        }
    }
    for (file, e) in &rules.entries {
        if let EntryKind::Allow {
            term,
            for_rule: None,
            ..
        } = &e.kind
        {
            if let Some((bfile, bline)) = blocked.get(&term.to_lowercase()) {
                out.push(warning(
                    file,
                    e.line,
                    e.column,
                    &e.line_text,
                    format!("`{term}` is both blocked ({bfile}:{bline}) and permitted here, so it never matches"),
                    "remove the permit, or limit it to another rule with `for=`",
                ));
            }
        }
    }
}
