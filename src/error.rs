//! The crate's error type.

use std::fmt;
use std::sync::Arc;

/// What kind of problem an [`Error`] reports (like `serde_json::Error::classify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// One or more rule files are invalid; see [`Error::rule_errors`].
    Rules,
    /// A file or directory could not be read.
    Io,
    /// A size limit of the [`Config`](crate::Config) was exceeded.
    Limit,
    /// The configuration itself is invalid.
    Config,
}

/// A problem in a rule file, with where it is and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub(crate) file: Arc<str>,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
    pub(crate) text: String,
    pub(crate) hint: Option<String>,
    pub(crate) warning: bool,
}

impl RuleError {
    /// The file name, as it was given to the parser.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line, counting from 1.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The column in characters, counting from 1.
    #[must_use]
    pub fn column(&self) -> u32 {
        self.column
    }

    /// What is wrong and what was expected.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The offending line as written.
    #[must_use]
    pub fn line_text(&self) -> &str {
        &self.text
    }

    /// A suggestion for the fix, when there is one (`did you mean profanity?`).
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// Whether this is a warning (the rules still work, but probably not as meant) rather
    /// than an error. Only `lint` reports warnings.
    #[must_use]
    pub fn is_warning(&self) -> bool {
        self.warning
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}

/// The error type of chatguard. Opaque; boxed so that `Result`s stay small.
pub struct Error(Box<Inner>);

enum Inner {
    Rules(Vec<RuleError>),
    Io {
        path: String,
        source: std::io::Error,
    },
    Limit(String),
    Config(String),
}

impl Error {
    pub(crate) fn rules(errors: Vec<RuleError>) -> Error {
        Error(Box::new(Inner::Rules(errors)))
    }

    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error(Box::new(Inner::Io {
            path: path.into(),
            source,
        }))
    }

    pub(crate) fn limit(message: impl Into<String>) -> Error {
        Error(Box::new(Inner::Limit(message.into())))
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error(Box::new(Inner::Config(message.into())))
    }

    /// What kind of problem this is.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match &*self.0 {
            Inner::Rules(_) => ErrorKind::Rules,
            Inner::Io { .. } => ErrorKind::Io,
            Inner::Limit(_) => ErrorKind::Limit,
            Inner::Config(_) => ErrorKind::Config,
        }
    }

    /// Every rule-file problem found (empty for other kinds of error).
    #[must_use]
    pub fn rule_errors(&self) -> &[RuleError] {
        match &*self.0 {
            Inner::Rules(errors) => errors,
            _ => &[],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Inner::Rules(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Inner::Io { path, source } => write!(f, "cannot read {path}: {source}"),
            Inner::Limit(message) | Inner::Config(message) => f.write_str(message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {self})", self.kind())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            Inner::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
