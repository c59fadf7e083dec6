//! `chatguard features` and `chatguard schema`, and the `--model` flags: the bridge to
//! training in Python.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use chatguard::features::Features;
use chatguard::model::FeatureRow;
use chatguard::tracker::{SenderTracker, TrackerConfig};
use chatguard::{features, Filter, FilterBuilder, Message, MessageKind, Model, SenderContext};

use crate::stream::{self, StreamWhisper};
use crate::Kind;

/// Which models a command scores with.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct ModelArgs {
    /// A chatguard model file to score with instead of the default models (repeatable, at
    /// most one spam, one toxicity and one whisper model). A file whose `name` contains `tox`
    /// is the toxicity model, one whose `name` contains `whisper` the whisper model (it
    /// scores only whispers with sender-tracker signals); any other is the spam model.
    #[arg(long = "model", value_name = "FILE")]
    pub(crate) model: Vec<PathBuf>,
    /// Rules only: no model at all.
    #[arg(long, conflicts_with = "model")]
    pub(crate) no_models: bool,
}

impl ModelArgs {
    /// Adds the models the flags ask for to `builder`.
    pub(crate) fn apply(&self, builder: &mut FilterBuilder) -> Result<()> {
        if self.no_models {
            return Ok(());
        }
        if self.model.is_empty() {
            builder.default_models();
            return Ok(());
        }
        let loader = features::loader();
        let (mut spam, mut toxicity, mut whisper) = (false, false, false);
        for path in &self.model {
            let model = loader.load_path(path).map_err(anyhow::Error::msg)?;
            if named(&model, "whisper") {
                if std::mem::replace(&mut whisper, true) {
                    bail!("{}: a second whisper model", path.display());
                }
                builder.whisper_model(model);
            } else if named(&model, "tox") {
                if std::mem::replace(&mut toxicity, true) {
                    bail!("{}: a second toxicity model", path.display());
                }
                builder.toxicity_model(model);
            } else {
                if std::mem::replace(&mut spam, true) {
                    bail!(
                        "{}: a second spam model (name a toxicity model `toxicity`)",
                        path.display()
                    );
                }
                builder.spam_model(model);
            }
        }
        Ok(())
    }
}

/// Whether the model's name contains `part` (ignoring case).
fn named(model: &Model, part: &str) -> bool {
    model
        .name()
        .is_some_and(|n| n.to_ascii_lowercase().contains(part))
}

#[derive(clap::Args, Debug)]
pub(crate) struct FeaturesArgs {
    /// Labelled messages: `label<TAB>text` lines without a header (the SMS Spam Collection
    /// format), or CSV/TSV with a header row (like Davidson's `labeled_data.csv`). The format
    /// is detected from the first line.
    #[arg(required_unless_present = "whisper_stream")]
    input: Option<PathBuf>,
    /// Instead of INPUT: a whisper stream (TSV with the columns time, sender, recipient,
    /// account_age_days, first_contact, text, label, as `tools/simulate_whispers.py` writes
    /// it), replayed in time order through one sender tracker (`TrackerConfig::default()`)
    /// exactly as `Filter::check_tracked` sees each whisper, so the rows carry the tracker's
    /// signals.
    #[arg(long, value_name = "TSV", conflicts_with_all = ["input", "label_col", "text_col", "kind"])]
    whisper_stream: Option<PathBuf>,
    /// The svmlight file to write; `schema.json` is written beside it.
    #[arg(long, short)]
    out: PathBuf,
    /// Also write the text of each row, one per line (line breaks inside a message become
    /// spaces, as features see them), for golden checks.
    #[arg(long)]
    texts: Option<PathBuf>,
    /// Also write the tokens of each row as JSON lines (to check hashing against Python).
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// The label column of a file with a header (default: `label`, else `class`).
    #[arg(long)]
    label_col: Option<String>,
    /// The text column of a file with a header (default: `text`, `message`, `tweet`,
    /// `comment_text`, else the last).
    #[arg(long)]
    text_col: Option<String>,
    /// Label values written as 1 (comma-separated); every other value is 0.
    #[arg(long, default_value = "1,spam,toxic,true,yes")]
    positive_values: String,
    /// Compute the features as for this kind of message.
    #[arg(long, value_enum, default_value_t = Kind::Chat)]
    kind: Kind,
    /// A rules directory instead of the embedded default English rules (rule hits are
    /// features; models trained with other rules see other features).
    #[arg(long)]
    rules: Option<PathBuf>,
}

struct Labelled {
    label: bool,
    text: String,
}

fn read_labelled(args: &FeaturesArgs, path: &Path) -> Result<Vec<Labelled>> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let first = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let positives: Vec<String> = args
        .positive_values
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    let is_positive = |v: &str| {
        positives
            .iter()
            .any(|p| *p == v.trim().to_ascii_lowercase())
    };
    let mut rows = Vec::new();
    // `label<TAB>text` with a short label and no header: the SMS format.
    let sms = first.split_once('\t').is_some_and(|(label, _)| {
        let l = label.trim().to_ascii_lowercase();
        ["ham", "spam", "0", "1", "true", "false", "toxic", "clean"].contains(&l.as_str())
    });
    if sms {
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let line = String::from_utf8_lossy(line);
            let (label, text) = line
                .split_once('\t')
                .ok_or_else(|| anyhow!("{}:{}: expected label<TAB>text", path.display(), i + 1))?;
            rows.push(Labelled {
                label: is_positive(label),
                text: text.to_owned(),
            });
        }
        return Ok(rows);
    }
    let delimiter = if first.contains('\t') { b'\t' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(data.as_slice());
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let label_col = match &args.label_col {
        Some(name) => find(name),
        None => find("label").or_else(|| find("class")),
    }
    .ok_or_else(|| {
        anyhow!(
            "{}: no label column; pass --label-col (columns: {headers:?})",
            path.display()
        )
    })?;
    let text_col = crate::eval::text_column(&headers, args.text_col.as_deref(), path)?;
    for (i, record) in reader.byte_records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let field =
            |c: usize| String::from_utf8_lossy(record.get(c).unwrap_or_default()).into_owned();
        rows.push(Labelled {
            label: is_positive(&field(label_col)),
            text: field(text_col),
        });
    }
    Ok(rows)
}

/// A chat line has no line breaks: the ones inside a CSV field become spaces.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

/// Where the rows go: the svmlight file and, when asked for, the texts and tokens.
struct Output {
    svm: BufWriter<File>,
    texts: Option<BufWriter<File>>,
    tokens: Option<BufWriter<File>>,
    /// The column of the first hashed feature.
    named: usize,
    line: String,
    rows: usize,
    positives: usize,
}

impl Output {
    fn create(args: &FeaturesArgs) -> Result<Output> {
        let create = |p: &Path| -> Result<BufWriter<File>> {
            Ok(BufWriter::new(File::create(p).with_context(|| {
                format!("cannot write {}", p.display())
            })?))
        };
        Ok(Output {
            svm: create(&args.out)?,
            texts: args.texts.as_deref().map(create).transpose()?,
            tokens: args.tokens.as_deref().map(create).transpose()?,
            named: features::schema().hashed_offset(),
            line: String::new(),
            rows: 0,
            positives: 0,
        })
    }

    /// Writes one row. `tokens` is given when `--tokens` asked for them.
    fn row(
        &mut self,
        label: bool,
        text: &str,
        row: FeatureRow<'_>,
        tokens: Option<Features>,
    ) -> Result<()> {
        use std::fmt::Write as _;
        self.line.clear();
        self.line.push(if label { '1' } else { '0' });
        self.rows += 1;
        self.positives += usize::from(label);
        for (j, &v) in row.dense.iter().enumerate() {
            if v != 0.0 {
                let _ = write!(self.line, " {j}:{v}");
            }
        }
        for &(i, v) in row.hashed {
            if v != 0.0 {
                let _ = write!(self.line, " {}:{v}", self.named + i as usize);
            }
        }
        self.line.push('\n');
        self.svm.write_all(self.line.as_bytes())?;
        if let Some(out) = self.texts.as_mut() {
            writeln!(out, "{text}")?;
        }
        if let (Some(out), Some(f)) = (self.tokens.as_mut(), tokens) {
            let json = serde_json::json!({"text": text, "tokens": f.tokens, "hashed": f.hashed});
            writeln!(out, "{json}")?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(usize, usize)> {
        self.svm.flush()?;
        if let Some(out) = self.texts.as_mut() {
            out.flush()?;
        }
        if let Some(out) = self.tokens.as_mut() {
            out.flush()?;
        }
        Ok((self.rows, self.positives))
    }
}

pub(crate) fn run(args: &FeaturesArgs) -> Result<ExitCode> {
    let filter = crate::build_filter(
        args.rules.as_deref(),
        &ModelArgs {
            no_models: true,
            ..ModelArgs::default()
        },
    )?;
    let schema = features::schema();
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (input, rows, positives) = if let Some(path) = &args.whisper_stream {
        let stream = stream::read(path)?;
        write_schema(&dir.join("schema.json"))?;
        let mut out = Output::create(args)?;
        replay_whispers(&filter, &stream, &mut out)?;
        let (rows, positives) = out.finish()?;
        (path, rows, positives)
    } else {
        let Some(path) = &args.input else {
            bail!("give a file of labelled messages, or --whisper-stream");
        };
        let labelled = read_labelled(args, path)?;
        write_schema(&dir.join("schema.json"))?;
        let mut out = Output::create(args)?;
        let mut scratch = filter.scratch();
        let kind = args.kind.into();
        for row in &labelled {
            let text = one_line(&row.text);
            let message = Message::new(&text).kind(kind);
            let tokens = out.tokens.is_some().then(|| filter.features(&message));
            out.row(
                row.label,
                &text,
                filter.features_with(&mut scratch, &message),
                tokens,
            )?;
        }
        let (rows, positives) = out.finish()?;
        (path, rows, positives)
    };
    eprintln!(
        "{}: {rows} rows ({positives} labelled 1) -> {} (schema {} in {})",
        input.display(),
        args.out.display(),
        schema.fingerprint(),
        dir.join("schema.json").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The sender context a stream row gives a whisper, before the tracker's signals.
pub(crate) fn whisper_context(w: &StreamWhisper) -> SenderContext {
    SenderContext {
        account_age_secs: w.account_age_days.map(|d| d * 86_400),
        first_contact: w.first_contact,
        sender_id: Some(w.sender),
        recipient_id: Some(w.recipient),
        ..SenderContext::default()
    }
}

/// Replays a whisper stream, in its (time) order, through one tracker: each row's features
/// are what `Filter::check_tracked` computes for that whisper at that time.
fn replay_whispers(filter: &Filter, stream: &[StreamWhisper], out: &mut Output) -> Result<()> {
    let tracker = SenderTracker::new(TrackerConfig::default());
    let mut scratch = filter.scratch();
    for w in stream {
        let message = Message::new(&w.text)
            .kind(MessageKind::Whisper)
            .sender(whisper_context(w));
        let tokens = out.tokens.is_some().then(|| filter.features(&message));
        let row = filter.features_tracked(&mut scratch, &message, &tracker, w.time_ms);
        out.row(w.spam, &w.text, row, tokens)?;
    }
    Ok(())
}

fn write_schema(path: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(&features::schema())?;
    std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn schema(out: Option<&Path>) -> Result<ExitCode> {
    if let Some(path) = out {
        write_schema(path)?;
        return Ok(ExitCode::SUCCESS);
    }
    let schema = features::schema();
    let doc = serde_json::json!({
        "fingerprint": schema.fingerprint(),
        "schema": schema,
    });
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(ExitCode::SUCCESS)
}
