//! The error a model file (or an imported XGBoost / LightGBM model) is refused with.

use std::fmt;

use crate::features::schema::SchemaDiff;

/// Why a model could not be loaded.
///
/// It names the file, says where in it the problem is (a line and column for JSON syntax and
/// type errors, a JSON path such as `model.tree_ensemble.trees[3].nodes[7].left` for a value
/// that parsed but is not acceptable) and what was expected. Its `Display` is one lowercase
/// sentence meant for the person who has to fix the file.
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    kind: Kind,
    file: String,
    location: Location,
    message: String,
}

#[derive(Clone, Debug)]
enum Kind {
    Io,
    Syntax,
    Format,
    Invalid,
    Limit,
    Schema(SchemaDiff),
    Golden,
    Unsupported,
}

#[derive(Clone, Debug)]
pub(crate) enum Location {
    Nowhere,
    LineColumn(usize, usize),
    Path(String),
}

impl Location {
    /// A JSON path, or nowhere for the empty path (the whole file).
    fn at(path: String) -> Location {
        if path.is_empty() {
            Location::Nowhere
        } else {
            Location::Path(path)
        }
    }
}

/// The broad class of an [`Error`], for callers that react differently to each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The file could not be read.
    Io,
    /// The file is not well-formed JSON (or text, for LightGBM): truncated, a stray character,
    /// a `NaN` literal, a value of the wrong type.
    Syntax,
    /// The file is not a chatguard model file, or is of a format version this build does not
    /// read.
    Format,
    /// A value parsed but is not acceptable: a non-finite number, a feature index outside the
    /// schema, a tree that is not a tree, inconsistent lengths.
    Invalid,
    /// The file exceeds a configured size limit.
    Limit,
    /// The model was built for another feature schema.
    SchemaMismatch,
    /// A golden check scored differently than it did in scikit-learn.
    GoldenMismatch,
    /// The model uses something chatguard does not score (an objective, categorical splits).
    Unsupported,
}

impl Error {
    fn new(kind: Kind, file: &str, location: Location, message: String) -> Error {
        Error(Box::new(Inner {
            kind,
            file: file.to_owned(),
            location,
            message,
        }))
    }

    pub(crate) fn io(file: &str, err: &std::io::Error) -> Error {
        Error::new(
            Kind::Io,
            file,
            Location::Nowhere,
            format!("cannot read the file: {err}"),
        )
    }

    pub(crate) fn format(file: &str, path: impl Into<String>, message: String) -> Error {
        Error::new(Kind::Format, file, Location::at(path.into()), message)
    }

    pub(crate) fn invalid(file: &str, path: impl Into<String>, message: String) -> Error {
        Error::new(Kind::Invalid, file, Location::at(path.into()), message)
    }

    pub(crate) fn invalid_at_line(file: &str, line: usize, message: String) -> Error {
        Error::new(Kind::Invalid, file, Location::LineColumn(line, 1), message)
    }

    pub(crate) fn syntax_at_line(file: &str, line: usize, message: String) -> Error {
        Error::new(Kind::Syntax, file, Location::LineColumn(line, 1), message)
    }

    pub(crate) fn limit(file: &str, path: impl Into<String>, message: String) -> Error {
        Error::new(Kind::Limit, file, Location::at(path.into()), message)
    }

    pub(crate) fn unsupported_at_line(file: &str, line: usize, message: String) -> Error {
        Error::new(
            Kind::Unsupported,
            file,
            Location::LineColumn(line, 1),
            message,
        )
    }

    pub(crate) fn unsupported(file: &str, path: impl Into<String>, message: String) -> Error {
        Error::new(Kind::Unsupported, file, Location::at(path.into()), message)
    }

    pub(crate) fn golden(file: &str, path: impl Into<String>, message: String) -> Error {
        Error::new(Kind::Golden, file, Location::at(path.into()), message)
    }

    pub(crate) fn schema(file: &str, diff: SchemaDiff) -> Error {
        let message = format!("the model was built for another feature schema: {diff}");
        Error::new(
            Kind::Schema(diff),
            file,
            Location::Path("schema".into()),
            message,
        )
    }

    /// A `serde_json` error, with its line and column kept apart from the message. `text` is
    /// the document, used to explain the usual surprises (truncation, `NaN` literals).
    pub(crate) fn json(file: &str, err: &serde_json::Error, text: &[u8]) -> Error {
        use serde_json::error::Category;
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let bare = full.strip_suffix(&suffix).unwrap_or(&full);
        // serde_json's messages start with a lowercase word except "EOF ...".
        let bare = bare.replacen("EOF while", "end of file while", 1);
        let bare = bare.as_str();
        let (kind, message) = match err.classify() {
            Category::Eof => (
                Kind::Syntax,
                "unexpected end of file: the file looks truncated, expected the rest of the JSON document".to_owned(),
            ),
            Category::Syntax => match non_finite_literal(text, line, column) {
                Some(word) => (
                    Kind::Syntax,
                    format!("{word} is not a number JSON allows, expected a finite number"),
                ),
                None => (Kind::Syntax, bare.to_owned()),
            },
            Category::Data => (Kind::Syntax, bare.to_owned()),
            Category::Io => (Kind::Io, bare.to_owned()),
        };
        let location = if line == 0 {
            Location::Nowhere
        } else {
            Location::LineColumn(line, column)
        };
        Error::new(kind, file, location, message)
    }

    /// The broad class of this error.
    #[must_use]
    pub fn category(&self) -> ErrorCategory {
        match self.0.kind {
            Kind::Io => ErrorCategory::Io,
            Kind::Syntax => ErrorCategory::Syntax,
            Kind::Format => ErrorCategory::Format,
            Kind::Invalid => ErrorCategory::Invalid,
            Kind::Limit => ErrorCategory::Limit,
            Kind::Schema(_) => ErrorCategory::SchemaMismatch,
            Kind::Golden => ErrorCategory::GoldenMismatch,
            Kind::Unsupported => ErrorCategory::Unsupported,
        }
    }

    /// The file name the error is about, as given to the loader.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// The 1-based line of the problem, when known.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self.0.location {
            Location::LineColumn(line, _) => Some(line),
            _ => None,
        }
    }

    /// The 1-based column of the problem, when known.
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        match self.0.location {
            Location::LineColumn(_, column) => Some(column),
            _ => None,
        }
    }

    /// The JSON path of the offending value (`model.linear.weights[12]`), when known.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match &self.0.location {
            Location::Path(path) => Some(path),
            _ => None,
        }
    }

    /// The sentence describing the problem, without file or location.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// For a schema mismatch, what differs between the expected schema and the model's.
    #[must_use]
    pub fn schema_diff(&self) -> Option<&SchemaDiff> {
        match &self.0.kind {
            Kind::Schema(diff) => Some(diff),
            _ => None,
        }
    }
}

/// If a syntax error at `line`/`column` sits on `NaN` or `Infinity`, the word found.
fn non_finite_literal(text: &[u8], line: usize, column: usize) -> Option<&'static str> {
    let line_text = text.split(|&b| b == b'\n').nth(line.checked_sub(1)?)?;
    let start = column.saturating_sub(3).min(line_text.len());
    let end = (column + 10).min(line_text.len());
    let window = &line_text[start..end];
    ["NaN", "Infinity"]
        .into_iter()
        .find(|word| window.windows(word.len()).any(|w| w == word.as_bytes()))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        match &inner.location {
            Location::Nowhere => write!(f, "{}: {}", inner.file, inner.message),
            Location::LineColumn(line, column) => write!(
                f,
                "{}: line {line}, column {column}: {}",
                inner.file, inner.message
            ),
            Location::Path(path) => write!(f, "{}: at {path}: {}", inner.file, inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("file", &self.0.file)
            .field("location", &self.0.location)
            .field("message", &self.0.message)
            .finish()
    }
}

impl std::error::Error for Error {}
