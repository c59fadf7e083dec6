//! `chatguard`: the command line over the chatguard library.
//!
//! Flags are parsed into plain values first ([`Cli`]), then turned into compiled objects
//! (a [`Filter`]) once.

use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chatguard::{Filter, FilterBuilder, Message, MessageKind, RuleSet, Verdict};
use clap::{Parser, Subcommand, ValueEnum};

mod eval;
mod features;
use eval::EvalArgs;
use features::{FeaturesArgs, ModelArgs};

#[derive(Parser, Debug)]
#[command(
    name = "chatguard",
    version,
    about = "Moderate chat lines and whispers with chatguard"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check every line of a file (or stdin) and print one verdict per line.
    Scan {
        /// Input file, one message per line; `-` or nothing reads stdin.
        input: Option<PathBuf>,
        /// Print one JSON object per line (the stable contract in DESIGN.md).
        #[arg(long)]
        json: bool,
        /// Check the lines as this kind of message.
        #[arg(long, value_enum, default_value_t = Kind::Chat)]
        kind: Kind,
        /// A rules directory instead of the embedded default English rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Show how one message is folded, which rules hit it, the model scores with the
    /// features that weighed most, and why it gets its action.
    Explain {
        /// The message.
        message: String,
        /// Check it as this kind of message.
        #[arg(long, value_enum, default_value_t = Kind::Chat)]
        kind: Kind,
        /// A rules directory instead of the embedded default English rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Write the features of labelled messages as svmlight (for training in Python), with
    /// `schema.json` beside it.
    Features(Box<FeaturesArgs>),
    /// Print the feature schema this version computes, with its fingerprint.
    Schema {
        /// Write the schema alone (as `chatguard features` does) to this file instead.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure detection on labelled data: precision, recall, F1, false-positive rate, MCC,
    /// confusion matrix, and recall per category and per group.
    Eval(Box<EvalArgs>),
    /// Check rule files and report every problem with file:line:column.
    Lint {
        /// A rules directory.
        dir: PathBuf,
    },
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub(crate) enum Kind {
    Chat,
    Whisper,
}

impl From<Kind> for MessageKind {
    fn from(k: Kind) -> MessageKind {
        match k {
            Kind::Chat => MessageKind::Chat,
            Kind::Whisper => MessageKind::Whisper,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chatguard: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan {
            input,
            json,
            kind,
            rules,
            models,
        } => {
            let filter = build_filter(rules.as_deref(), &models)?;
            scan(&filter, input.as_deref(), json, kind.into())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain {
            message,
            kind,
            rules,
            models,
        } => {
            let filter = build_filter(rules.as_deref(), &models)?;
            explain(&filter, &message, kind.into());
            Ok(ExitCode::SUCCESS)
        }
        Command::Lint { dir } => lint(&dir),
        Command::Eval(args) => {
            let filter = build_filter(args.rules.as_deref(), &args.models)?;
            eval::run(&filter, &args)
        }
        Command::Features(args) => features::run(&args),
        Command::Schema { out } => features::schema(out.as_deref()),
    }
}

/// The filter the flags ask for: the rules directory or the default rules, and the
/// `--model` files, the default models, or none (`--no-models`).
pub(crate) fn build_filter(rules: Option<&Path>, models: &ModelArgs) -> Result<Filter> {
    let mut builder = FilterBuilder::new();
    match rules {
        Some(dir) => builder.rules(RuleSet::from_dir(dir).map_err(anyhow::Error::msg)?),
        None => builder.default_rules(),
    };
    models.apply(&mut builder)?;
    builder.build().map_err(anyhow::Error::msg)
}

fn read_input(input: Option<&Path>) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    match input {
        Some(p) if p != Path::new("-") => {
            data = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        }
        _ => {
            io::stdin()
                .lock()
                .read_to_end(&mut data)
                .context("cannot read stdin")?;
        }
    }
    Ok(data)
}

/// Splits input into lines: `\n` ends a line (a trailing `\r` is dropped); a final newline
/// does not start another line.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    body.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(if empty { 0 } else { usize::MAX })
}

fn scan(filter: &Filter, input: Option<&Path>, json: bool, kind: MessageKind) -> Result<()> {
    let data = read_input(input)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut scratch = filter.scratch();
    let mut line_buf = String::new();
    for (i, line) in lines(&data).enumerate() {
        let verdict = filter.check_with(&mut scratch, &Message::from_bytes(line).kind(kind));
        line_buf.clear();
        if json {
            write_json(&mut line_buf, filter, i + 1, &verdict);
        } else {
            write_text(&mut line_buf, filter, i + 1, line, &verdict);
        }
        if let Err(e) = out.write_all(line_buf.as_bytes()) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// One line of `scan --json`, fields in the order DESIGN.md documents.
#[derive(serde::Serialize)]
struct JsonVerdict<'a> {
    line: usize,
    action: &'static str,
    flagged: bool,
    categories: Vec<&'static str>,
    severity: &'static str,
    score: f64,
    hits: Vec<JsonHit<'a>>,
}

#[derive(serde::Serialize)]
struct JsonHit<'a> {
    rule: &'a str,
    category: &'static str,
    start: usize,
    end: usize,
}

fn write_json(out: &mut String, filter: &Filter, line: usize, v: &Verdict<'_>) {
    let row = JsonVerdict {
        line,
        action: v.action().name(),
        flagged: v.flagged(),
        categories: v.categories().iter().map(|c| c.name()).collect(),
        severity: v.severity().name(),
        score: f64::from(v.score()),
        hits: v
            .hits()
            .iter()
            .map(|h| JsonHit {
                rule: filter.rule(h.rule).pattern(),
                category: h.categories.first().map_or("", |c| c.name()),
                start: h.span.start,
                end: h.span.end,
            })
            .collect(),
    };
    // Serializing plain strings and numbers cannot fail.
    if let Ok(json) = serde_json::to_string(&row) {
        out.push_str(&json);
    }
    out.push('\n');
}

fn write_text(out: &mut String, filter: &Filter, line: usize, text: &[u8], v: &Verdict<'_>) {
    use std::fmt::Write as _;
    let _ = write!(out, "{line:>6}  {:<6}  ", v.action().name());
    if v.flagged() {
        let cats: Vec<String> = v
            .categories()
            .iter()
            .map(|c| format!("{}({})", c.name(), v.severity_of(c).name()))
            .collect();
        let _ = write!(out, "{:<24}  ", cats.join(","));
    } else {
        let _ = write!(out, "{:<24}  ", "-");
    }
    // The line with each hit (overlapping hits merged) between ⟦ ⟧.
    let mut at = 0;
    let hits = v.hits();
    let mut i = 0;
    while i < hits.len() {
        let (start, mut end) = (hits[i].span.start.max(at), hits[i].span.end);
        i += 1;
        while i < hits.len() && hits[i].span.start < end {
            end = end.max(hits[i].span.end);
            i += 1;
        }
        if end <= start {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&text[at..start]));
        out.push('⟦');
        out.push_str(&String::from_utf8_lossy(&text[start..end]));
        out.push('⟧');
        at = end;
    }
    out.push_str(&String::from_utf8_lossy(&text[at..]));
    if v.flagged() {
        let rules: Vec<&str> = v
            .hits()
            .iter()
            .map(|h| filter.rule(h.rule).pattern())
            .collect();
        let _ = write!(out, "    [{}]", rules.join(", "));
    }
    out.push('\n');
}

fn explain(filter: &Filter, message: &str, kind: MessageKind) {
    let e = filter.explain(&Message::new(message).kind(kind));
    println!("message:   {message:?} ({})", kind.name());
    println!("folded:    word   {:?}", e.folded.word);
    println!("           leet   {:?}", e.folded.leet);
    println!("           joined {:?}", e.folded.joined);
    let s = e.folded.stats;
    println!(
        "undone:    {} confusables, {} compatibility forms, {} invisibles, {} marks, {} leet, {} separators skipped",
        s.confusables, s.compat, s.invisibles, s.marks, s.leet, s.separators_skipped
    );
    if e.hits.is_empty() {
        println!("hits:      none");
    }
    for h in &e.hits {
        let r = &h.rule;
        println!(
            "hit:       {:?} bytes {}..{} ← `{}` {}:{} [{}] {} (found in the {} view)",
            h.matched,
            h.hit.span.start,
            h.hit.span.end,
            r.pattern(),
            r.file(),
            r.line(),
            r.categories(),
            r.severity(),
            h.hit.view.name()
        );
    }
    if let Some(f) = &e.features {
        println!("tokens:    {:?}", f.tokens);
    }
    let scores = e.verdict.scores();
    for (name, score) in [("spam", scores.spam), ("toxicity", scores.toxicity)] {
        if let Some(score) = score {
            println!("score:     {name} {score:.4}");
            for c in e.contributions.iter().filter(|c| c.model == name) {
                println!(
                    "           {:+.4} = {:+.4} × {:<8} {}",
                    c.amount(),
                    c.weight,
                    c.value,
                    c.feature
                );
            }
        }
    }
    println!("action:    {} — {}", e.verdict.action(), e.reason);
}

fn lint(dir: &Path) -> Result<ExitCode> {
    match RuleSet::from_dir(dir)
        .map_err(anyhow::Error::msg)
        .and_then(|r| {
            FilterBuilder::new()
                .rules(r)
                .build()
                .map_err(anyhow::Error::msg)
        }) {
        Ok(filter) => {
            println!(
                "{}: {} rules, no problems",
                dir.display(),
                filter.rules().len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let stderr = io::stderr();
            let mut err = stderr.lock();
            let _ = writeln!(err, "{e}");
            Ok(ExitCode::from(1))
        }
    }
}
