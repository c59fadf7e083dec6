//! `chatguard`: the command line over the chatguard library.
//!
//! Flags are parsed into plain values first ([`Cli`]), then turned into compiled objects
//! (a [`Filter`]) once.

use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chatguard::{Filter, FilterBuilder, Message, MessageKind, RuleSet, Verdict};
use clap::{Parser, Subcommand, ValueEnum};

mod diff;
mod eval;
mod features;
mod report;
mod stream;
use diff::DiffArgs;
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
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Show how one message is folded, which rules hit it, the model scores with the
    /// features that weighed most (or the path a decision tree took), and why it gets its
    /// action.
    Explain {
        /// The message.
        #[arg(required_unless_present = "whisper_stream")]
        message: Option<String>,
        /// Instead of MESSAGE: explain a whisper of this whisper stream (the TSV of
        /// `features --whisper-stream`), replayed through a sender tracker up to it, as
        /// `Filter::check_tracked` judged it; `--line` says which.
        #[arg(long, value_name = "TSV", requires = "line", conflicts_with_all = ["message", "kind"])]
        whisper_stream: Option<PathBuf>,
        /// The line of `--whisper-stream` holding the whisper to explain.
        #[arg(long, requires = "whisper_stream")]
        line: Option<usize>,
        #[command(flatten)]
        filter: FilterArgs,
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
    /// Show what an edit of the rules changes on a corpus: newly flagged, no longer flagged,
    /// category changed, with examples, and precision/recall before and after given labels.
    Diff(Box<DiffArgs>),
    /// Watch a rules directory the way a server does with hot reload: rebuild the filter on
    /// every change, keep the old one when the new files fail lint, and say which happened.
    Watch {
        /// A rules directory.
        dir: PathBuf,
        /// How often to look for changes, in milliseconds.
        #[arg(long, default_value_t = 500)]
        interval_ms: u64,
        /// Stop after this many reload events (default: run until interrupted).
        #[arg(long)]
        events: Option<usize>,
    },
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
            filter,
        } => {
            scan(&filter.build()?, input.as_deref(), json, filter.kind.into())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain {
            message,
            whisper_stream,
            line,
            filter,
        } => {
            let built = filter.build()?;
            match (message, whisper_stream, line) {
                (_, Some(stream), Some(line)) => explain_stream_whisper(&built, &stream, line)?,
                (Some(message), _, _) => {
                    let kind = filter.kind.into();
                    print_explanation(
                        &built.explain(&Message::new(&message).kind(kind)),
                        &message,
                        kind,
                    );
                }
                _ => anyhow::bail!("give a message, or --whisper-stream and --line"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lint { dir } => lint(&dir),
        Command::Watch {
            dir,
            interval_ms,
            events,
        } => watch(&dir, interval_ms, events),
        Command::Diff(args) => diff::run(&args),
        Command::Eval(args) => eval::run(&args.filter.build()?, &args),
        Command::Features(args) => features::run(&args),
        Command::Schema { out } => features::schema(out.as_deref()),
    }
}

/// The flags that choose the filter and the kind of message (scan, explain, eval).
#[derive(clap::Args, Debug)]
pub(crate) struct FilterArgs {
    /// Check the messages as this kind of message.
    #[arg(long, value_enum, default_value_t = Kind::Chat)]
    pub(crate) kind: Kind,
    /// A rules directory instead of the embedded default English rules.
    #[arg(long)]
    pub(crate) rules: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) models: ModelArgs,
}

impl FilterArgs {
    /// The filter these flags ask for.
    pub(crate) fn build(&self) -> Result<Filter> {
        build_filter(self.rules.as_deref(), &self.models)
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
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
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
    // Progress on a terminal for large inputs; none when stderr is piped.
    let total = if io::stderr().is_terminal() {
        lines(&data).count()
    } else {
        0
    };
    let step = (total / 100).max(1);
    for (i, line) in lines(&data).enumerate() {
        if total >= 10_000 && i % step == 0 {
            eprint!("\rscanning: {i}/{total} lines ({}%)", i * 100 / total);
        }
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
    if total >= 10_000 {
        eprintln!("\rscanning: {total}/{total} lines (100%)");
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
    for span in chatguard::merged_spans(v.hits().iter().map(|h| h.span)) {
        let (start, end) = (span.start.max(at), span.end);
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
        let _ = write!(out, "    [{}]", rules_shown(filter, v.hits()));
    }
    out.push('\n');
}

/// The rules of `hits` for people to read, each once, in order: a long pattern by its start
/// and where it is written (`/(?:\b(?:you are|you re|youre|you r|u ar… (en/hostility.rules:41)`).
pub(crate) fn rules_shown(filter: &chatguard::Filter, hits: &[chatguard::Hit]) -> String {
    let mut rules: Vec<String> = Vec::new();
    for h in hits {
        let r = filter.rule(h.rule);
        let pattern = r.pattern_shown();
        let text = if pattern == r.pattern() {
            pattern.into_owned()
        } else {
            format!("{pattern} ({}:{})", r.file(), r.line())
        };
        if !rules.contains(&text) {
            rules.push(text);
        }
    }
    rules.join(", ")
}

/// `text` with the given byte ranges highlighted: bold red on a terminal (unless `NO_COLOR`
/// is set), between ⟦ ⟧ otherwise. Overlapping ranges are merged.
fn highlight(text: &str, spans: &[chatguard::Span], colour: bool) -> String {
    let mut spans: Vec<_> = spans.to_vec();
    spans.sort();
    let (open, close) = if colour {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("⟦", "⟧")
    };
    let mut out = String::new();
    let mut at = 0;
    for span in chatguard::merged_spans(spans) {
        let (start, end) = (span.start.max(at), span.end);
        if end <= start || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(open);
        out.push_str(&text[start..end]);
        out.push_str(close);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Replays a whisper stream through a sender tracker up to the whisper on `line` and
/// explains that one as `Filter::check_tracked` judged it.
fn explain_stream_whisper(filter: &Filter, path: &Path, line: usize) -> Result<()> {
    use chatguard::tracker::{SenderTracker, TrackerConfig};
    let stream = stream::read(path)?;
    let Some(target) = stream.iter().position(|w| w.line == line) else {
        anyhow::bail!(
            "{}:{line}: no whisper on this line; expected the line number of a row of the stream",
            path.display()
        );
    };
    let tracker = SenderTracker::new(TrackerConfig::default());
    let mut scratch = filter.scratch();
    fn message(w: &stream::StreamWhisper) -> Message<'_> {
        Message::new(&w.text)
            .kind(MessageKind::Whisper)
            .sender(features::whisper_context(w))
    }
    for w in &stream[..target] {
        let _ = filter.check_tracked(&mut scratch, &message(w), &tracker, w.time_ms);
    }
    let w = &stream[target];
    let e = filter.explain_tracked(&message(w), &tracker, w.time_ms);
    println!(
        "whisper:   {}:{line}, sender {} to {} at {} s, labelled {}",
        path.display(),
        w.sender,
        w.recipient,
        w.time_ms as f64 / 1000.0,
        if w.spam { "spam" } else { "ham" }
    );
    print_explanation(&e, &w.text, MessageKind::Whisper);
    Ok(())
}

fn print_explanation(e: &chatguard::Explanation, message: &str, kind: MessageKind) {
    let colour = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let spans: Vec<chatguard::Span> = e.hits.iter().map(|h| h.hit.span).collect();
    println!(
        "message:   {} ({})",
        highlight(message, &spans, colour),
        kind.name()
    );
    println!("folded:    word   {:?}", e.folded.word);
    println!("           leet   {:?}", e.folded.leet);
    println!("           joined {:?}", e.folded.joined);
    println!("           split  {:?}", e.folded.split);
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
            "hit:       {} bytes {}..{} ← `{}` {}:{} [{}] {} (found in the {} view)",
            highlight(message, &[h.hit.span], colour),
            h.hit.span.start,
            h.hit.span.end,
            r.pattern_shown(),
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
    print_sender(&e.sender);
    let scores = e.verdict.scores();
    for (name, score) in [
        ("spam", scores.spam),
        ("toxicity", scores.toxicity),
        ("whisper", scores.whisper),
    ] {
        let Some(score) = score else { continue };
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
        for tree in e.paths.iter().filter(|p| p.model == name) {
            println!("           decision tree path:");
            for (step, feature) in tree.path.steps.iter().zip(&tree.names) {
                let (op, way) = if step.left {
                    ("<=", "left")
                } else {
                    (">", "right")
                };
                // A `_log` feature is ln(1 + n): show the count and the count it is split at.
                let counts = if feature.ends_with("_log") {
                    format!(
                        "   (n = {:.2} {op} {:.2})",
                        f64::from(step.value).exp_m1(),
                        f64::from(step.threshold).exp_m1()
                    )
                } else {
                    String::new()
                };
                println!(
                    "           {feature:<26} {:<10} {op:<2} {:<10} → {way:<5}{counts}",
                    step.value, step.threshold
                );
            }
            println!("           leaf: probability {:.4}", tree.path.leaf);
        }
    }
    println!("action:    {} — {}", e.verdict.action(), e.reason);
}

/// The sender context an explanation was computed with, when there is one.
fn print_sender(s: &chatguard::SenderContext) {
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    if *s == chatguard::SenderContext::default() {
        return;
    }
    let age = s.account_age_secs.map_or_else(
        || "unknown".to_owned(),
        |a| format!("{:.1} days", a as f64 / 86_400.0),
    );
    println!(
        "sender:    account age {age}, first contact {}, verified {}, moderator {}",
        yes_no(s.first_contact),
        yes_no(s.verified),
        yes_no(s.moderator)
    );
    match s.tracker {
        Some(t) => println!(
            "tracker:   {} messages to {} recipients in the window, near-duplicate fan-out {}, known for {:.1} min",
            t.messages_in_window,
            t.distinct_recipients,
            t.near_duplicate_fanout,
            t.known_for_ms as f64 / 60_000.0
        ),
        None => println!("tracker:   no signals"),
    }
}

fn lint(dir: &Path) -> Result<ExitCode> {
    let report = chatguard::rules::lint_dir(dir, chatguard::rules::Date::today())
        .map_err(anyhow::Error::msg)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for p in &report.problems {
        let kind = if p.is_warning() { "warning" } else { "error" };
        writeln!(
            out,
            "{}:{}:{}: {kind}: {}",
            p.file(),
            p.line(),
            p.column(),
            p.message()
        )?;
        let gutter = p.line().to_string();
        writeln!(out, "  {gutter} | {}", p.line_text())?;
        // The column counts characters of the line; rule entries from the compiler give the
        // term's column in the line too.
        let pad: String = p
            .line_text()
            .chars()
            .take(p.column().saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        if p.line_text().chars().count() + 1 >= p.column() as usize && !p.line_text().is_empty() {
            writeln!(out, "  {} | {pad}^", " ".repeat(gutter.len()))?;
        }
        if let Some(hint) = p.hint() {
            writeln!(out, "  {} = hint: {hint}", " ".repeat(gutter.len()))?;
        }
    }
    let errors = report.errors().count();
    let warnings = report.warnings().count();
    writeln!(
        out,
        "{}: {} files, {} rules, {errors} errors, {warnings} warnings",
        dir.display(),
        report.files,
        report.rules
    )?;
    out.flush()?;
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn watch(dir: &Path, interval_ms: u64, events: Option<usize>) -> Result<ExitCode> {
    use chatguard::reload::{ReloadEvent, RulesWatcher, SharedFilter};
    use std::sync::Arc;
    // Rules only: watching is about the rule files (a server adds its models in `build`).
    let rules_only = ModelArgs {
        model: Vec::new(),
        no_models: true,
    };
    let filter = build_filter(Some(dir), &rules_only)?;
    println!(
        "watching {}: {} rules in use",
        dir.display(),
        filter.rules().len()
    );
    let shared = Arc::new(SharedFilter::new(filter));
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = RulesWatcher::spawn(
        dir,
        Arc::clone(&shared),
        std::time::Duration::from_millis(interval_ms),
        |rules| FilterBuilder::new().rules(rules).build(),
        move |event| {
            let _ = tx.send(event);
        },
    );
    let mut seen = 0;
    while events.is_none_or(|n| seen < n) {
        let Ok(event) = rx.recv() else { break };
        seen += 1;
        match event {
            ReloadEvent::Reloaded { generation, rules } => {
                println!("reloaded (generation {generation}): {rules} rules in use")
            }
            ReloadEvent::Rejected { report, error } => {
                println!(
                    "kept the previous filter: the new files have {} errors",
                    report.errors().count()
                );
                for p in report.errors() {
                    println!("  {p}");
                }
                if let Some(e) = error {
                    println!("  {e}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
