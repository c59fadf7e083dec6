//! `chatguard eval`: detection measured on labelled data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use chatguard::{Category, Filter, Message, MessageKind};

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    /// Files whose every row should be flagged (TSV or CSV with a header row).
    #[arg(long = "positive", value_name = "FILE")]
    positive: Vec<PathBuf>,
    /// Files whose every row should be allowed.
    #[arg(long = "negative", value_name = "FILE")]
    negative: Vec<PathBuf>,
    /// Files with a label column (see --label-col and --positive-values).
    #[arg(long = "labelled", value_name = "FILE")]
    labelled: Vec<PathBuf>,
    /// The column holding the message (default: `text`, `message`, `tweet`, `comment_text`,
    /// else the last).
    #[arg(long)]
    text_col: Option<String>,
    /// The label column of --labelled files.
    #[arg(long, default_value = "label")]
    label_col: String,
    /// Label values that mean "should be flagged" (comma-separated).
    #[arg(long, default_value = "1,spam,toxic,true,yes,0x")]
    positive_values: String,
    /// A column naming the expected category of positive rows: reports per-category recall and
    /// whether that category is among the verdict's categories.
    #[arg(long)]
    category_col: Option<String>,
    /// A column to break recall down by (e.g. `transform`).
    #[arg(long)]
    group_col: Option<String>,
    /// A column naming the hidden term of positive rows. With --group-col, also reports recall
    /// over the terms whose `plain` row was caught: how well disguises are undone, apart from
    /// which terms the rules hold.
    #[arg(long)]
    term_col: Option<String>,
    /// Write a self-contained HTML report (confusion matrix, precision–recall curve and
    /// threshold table per category) to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Files are headerless `label<TAB>text` lines (the SMS Spam Collection format).
    #[arg(long)]
    no_header: bool,
    /// Print up to this many misclassified rows of each kind.
    #[arg(long, default_value_t = 10)]
    show: usize,
    #[command(flatten)]
    pub(crate) filter: crate::FilterArgs,
    /// Model-score thresholds to sweep (comma-separated): precision, recall, F1 and MCC of
    /// each model alone and of rules or model, at each.
    #[arg(
        long,
        default_value = "0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.99"
    )]
    sweep: String,
}

/// Precision, recall, F1 and MCC of a confusion matrix (NaN where undefined).
#[derive(Clone, Copy, Default)]
struct Confusion {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Confusion {
    fn add(&mut self, positive: bool, flagged: bool) {
        match (positive, flagged) {
            (true, true) => self.tp += 1,
            (true, false) => self.fn_ += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn metrics(&self) -> (f64, f64, f64, f64) {
        let (tp, fp, fn_, tn) = (
            self.tp as f64,
            self.fp as f64,
            self.fn_ as f64,
            self.tn as f64,
        );
        let precision = tp / (tp + fp);
        let recall = tp / (tp + fn_);
        let f1 = 2.0 * precision * recall / (precision + recall);
        let d = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
        let mcc = if d == 0.0 {
            f64::NAN
        } else {
            (tp * tn - fp * fn_) / d
        };
        (precision, recall, f1, mcc)
    }
}

/// Prints the threshold sweep of one model's scores.
fn sweep(
    name: &str,
    thresholds: &[f32],
    rows: &[Row],
    results: &[(bool, Option<f32>, Option<f32>)],
    rules_flagged: &[bool],
    model: usize,
) {
    println!("\n{name} model threshold sweep (model alone | rules or model):");
    println!(
        "  {:>9}  {:>9} {:>9} {:>9} {:>9}  | {:>9} {:>9} {:>9} {:>9}",
        "threshold", "precision", "recall", "f1", "mcc", "precision", "recall", "f1", "mcc"
    );
    let mut categories: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for &t in thresholds {
        let (mut alone, mut combined) = (Confusion::default(), Confusion::default());
        for ((row, r), &rules) in rows.iter().zip(results).zip(rules_flagged) {
            let score = if model == 0 { r.1 } else { r.2 };
            let fired = score.is_some_and(|s| s >= t);
            alone.add(row.positive, fired);
            combined.add(row.positive, fired || rules);
            if let (true, Some(c)) = (row.positive, row.category.as_deref()) {
                let list = categories.entry(c).or_default();
                if list.len() < thresholds.len() {
                    list.resize(thresholds.len(), (0, 0));
                }
                let k = thresholds.iter().position(|&x| x == t).unwrap_or(0);
                list[k].0 += 1;
                list[k].1 += usize::from(fired || rules);
            }
        }
        let (p, r, f, m) = alone.metrics();
        let (cp, cr, cf, cm) = combined.metrics();
        println!(
            "  {t:>9.2}  {p:>9.4} {r:>9.4} {f:>9.4} {m:>9.4}  | {cp:>9.4} {cr:>9.4} {cf:>9.4} {cm:>9.4}"
        );
    }
    if !categories.is_empty() {
        println!("  recall of rules or model per category, at each threshold:");
        for (c, list) in &categories {
            let cells: Vec<String> = list
                .iter()
                .map(|&(n, caught)| {
                    #[allow(clippy::cast_precision_loss)]
                    let r = caught as f64 / n.max(1) as f64;
                    format!("{r:.3}")
                })
                .collect();
            println!("  {c:<12} {}", cells.join(" "));
        }
    }
}

struct Row {
    positive: bool,
    text: String,
    category: Option<String>,
    group: Option<String>,
    term: Option<String>,
    origin: String,
}

fn delimiter(path: &Path) -> u8 {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        b','
    } else {
        b'\t'
    }
}

fn read_rows(
    path: &Path,
    label: Option<bool>,
    args: &EvalArgs,
    positives: &[&str],
    out: &mut Vec<Row>,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(path))
        .has_headers(!args.no_header)
        .flexible(true)
        .quoting(delimiter(path) == b',')
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers: Vec<String> = if args.no_header {
        Vec::new()
    } else {
        reader.headers()?.iter().map(str::to_owned).collect()
    };
    let find = |name: &str| headers.iter().position(|h| h == name);
    let text_col = if args.no_header {
        1
    } else {
        text_column(&headers, args.text_col.as_deref(), path)?
    };
    let label_col = if args.no_header {
        Some(0)
    } else {
        find(&args.label_col)
    };
    if label.is_none() && label_col.is_none() {
        bail!(
            "{}: no label column {:?}; pass --label-col (columns: {headers:?})",
            path.display(),
            args.label_col
        );
    }
    let category_col = args.category_col.as_deref().and_then(&find);
    let group_col = args.group_col.as_deref().and_then(&find);
    let term_col = args.term_col.as_deref().and_then(&find);
    for (i, record) in reader.byte_records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        let field = |c: usize| {
            record
                .get(c)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let text = if args.no_header {
            // Everything after the first tab, tabs included.
            let all: Vec<&[u8]> = record.iter().collect();
            all[1..]
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect::<Vec<_>>()
                .join("\t")
        } else {
            field(text_col).unwrap_or_default()
        };
        let positive = match label {
            Some(l) => l,
            None => {
                let v = field(label_col.unwrap_or(0)).unwrap_or_default();
                positives.iter().any(|p| p.eq_ignore_ascii_case(v.trim()))
            }
        };
        out.push(Row {
            positive,
            text,
            category: category_col.and_then(field),
            group: group_col.and_then(field),
            term: term_col.and_then(field),
            origin: format!("{}:{}", path.display(), i + 2 - usize::from(args.no_header)),
        });
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    total: usize,
    caught: usize,
    category_agrees: usize,
}

pub(crate) fn run(filter: &Filter, args: &EvalArgs) -> Result<ExitCode> {
    let positives: Vec<&str> = args.positive_values.split(',').collect();
    let mut rows = Vec::new();
    for p in &args.positive {
        read_rows(p, Some(true), args, &positives, &mut rows)?;
    }
    for p in &args.negative {
        read_rows(p, Some(false), args, &positives, &mut rows)?;
    }
    for p in &args.labelled {
        read_rows(p, None, args, &positives, &mut rows)?;
    }
    if rows.is_empty() {
        bail!("no rows: give --positive, --negative or --labelled files");
    }
    let kind: MessageKind = args.filter.kind.into();
    let mut scratch = filter.scratch();
    let (mut tp, mut fp, mut fn_, mut tn) = (0usize, 0usize, 0usize, 0usize);
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_group: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut results: Vec<bool> = Vec::with_capacity(rows.len());
    // Per row: the severity reached in each category, and the categories flagged.
    let mut per_category: Vec<([chatguard::Severity; 6], chatguard::Categories)> =
        Vec::with_capacity(rows.len());
    let mut false_alarms = Vec::new();
    let mut scores: Vec<(bool, Option<f32>, Option<f32>)> = Vec::with_capacity(rows.len());
    let mut rules_flagged: Vec<bool> = Vec::with_capacity(rows.len());
    for row in &rows {
        let v = filter.check_with(&mut scratch, &Message::new(&row.text).kind(kind));
        let flagged = v.flagged();
        results.push(flagged);
        per_category.push((
            Category::ALL.map(|c| v.severity_of(c)),
            if flagged {
                v.categories()
            } else {
                chatguard::Categories::NONE
            },
        ));
        let s = v.scores();
        scores.push((row.positive, s.spam, s.toxicity));
        let policy = match kind {
            MessageKind::Chat => &filter.config().chat,
            MessageKind::Whisper => &filter.config().whisper,
        };
        rules_flagged.push(
            policy.rules_action(&Category::ALL.map(|c| v.severity_of(c)))
                != chatguard::Action::Allow,
        );
        match (row.positive, flagged) {
            (true, true) => tp += 1,
            (true, false) => {
                fn_ += 1;
                misses.push(row);
            }
            (false, true) => {
                fp += 1;
                false_alarms.push((row, crate::rules_shown(filter, v.hits())));
            }
            (false, false) => tn += 1,
        }
        if row.positive {
            let agrees = row
                .category
                .as_deref()
                .and_then(Category::from_name)
                .is_some_and(|c| v.categories().contains(c));
            if let Some(c) = &row.category {
                let t = by_category.entry(c.clone()).or_default();
                t.total += 1;
                t.caught += usize::from(flagged);
                t.category_agrees += usize::from(agrees);
            }
            if let Some(g) = &row.group {
                let t = by_group.entry(g.clone()).or_default();
                t.total += 1;
                t.caught += usize::from(flagged);
            }
        }
    }
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            f64::NAN
        } else {
            a as f64 / b as f64
        }
    };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = 2.0 * precision * recall / (precision + recall);
    let fpr = ratio(fp, fp + tn);
    let mcc = {
        let (tp, fp, fn_, tn) = (tp as f64, fp as f64, fn_ as f64, tn as f64);
        let d = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
        if d == 0.0 {
            f64::NAN
        } else {
            (tp * tn - fp * fn_) / d
        }
    };
    println!(
        "rows        {} ({} should be flagged, {} should be allowed)",
        rows.len(),
        tp + fn_,
        fp + tn
    );
    println!("confusion   flagged: {tp} right, {fp} wrong   allowed: {tn} right, {fn_} wrong");
    println!("precision   {precision:.4}");
    println!("recall      {recall:.4}");
    println!("f1          {f1:.4}");
    println!("fp rate     {fpr:.4}");
    println!("mcc         {mcc:.4}");
    if !by_category.is_empty() {
        println!("\nper category (recall, category agreement):");
        for (c, t) in &by_category {
            println!(
                "  {c:<12} {:>6} rows  recall {:.4}  category {:.4}",
                t.total,
                ratio(t.caught, t.total),
                ratio(t.category_agrees, t.total)
            );
        }
    }
    if !by_group.is_empty() {
        println!(
            "\nper {} (recall):",
            args.group_col.as_deref().unwrap_or("group")
        );
        for (g, t) in &by_group {
            println!(
                "  {g:<32} {:>6} rows  recall {:.4}",
                t.total,
                ratio(t.caught, t.total)
            );
        }
    }
    if let Some(path) = &args.report {
        write_report(path, &rows, &results, &per_category)?;
        println!("\nreport written to {}", path.display());
    }
    if args.term_col.is_some() && args.group_col.is_some() {
        let caught_plain: std::collections::HashSet<&str> = rows
            .iter()
            .zip(&results)
            .filter(|(r, f)| **f && r.group.as_deref() == Some("plain"))
            .filter_map(|(r, _)| r.term.as_deref())
            .collect();
        let (mut n, mut caught) = (0, 0);
        for (r, f) in rows.iter().zip(&results) {
            if r.positive
                && r.group.as_deref() != Some("plain")
                && r.term.as_deref().is_some_and(|t| caught_plain.contains(t))
            {
                n += 1;
                caught += usize::from(*f);
            }
        }
        println!(
            "\ndisguised rows of the {} terms caught plain: {caught} of {n} caught, recall {:.4}",
            caught_plain.len(),
            ratio(caught, n)
        );
    }
    let thresholds: Vec<f32> = args
        .sweep
        .split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.trim()
                .parse()
                .map_err(|_| anyhow!("--sweep: {t:?} is not a number"))
        })
        .collect::<Result<_>>()?;
    for (k, (name, loaded)) in [
        ("spam", filter.spam_model().is_some()),
        ("toxicity", filter.toxicity_model().is_some()),
    ]
    .into_iter()
    .enumerate()
    {
        if loaded {
            sweep(name, &thresholds, &rows, &scores, &rules_flagged, k);
        }
    }
    if args.show > 0 {
        for (title, list) in [
            (
                "missed",
                misses
                    .iter()
                    .map(|r| (*r, String::new()))
                    .collect::<Vec<_>>(),
            ),
            ("false alarms", false_alarms.clone()),
        ] {
            if list.is_empty() {
                continue;
            }
            println!(
                "\n{title} (first {} of {}):",
                args.show.min(list.len()),
                list.len()
            );
            for (row, rules) in list.iter().take(args.show) {
                let rules = if rules.is_empty() {
                    String::new()
                } else {
                    format!("  [{rules}]")
                };
                println!("  {}  {:?}{rules}", row.origin, row.text);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn severity_score(s: chatguard::Severity) -> f64 {
    match s {
        chatguard::Severity::None => 0.0,
        chatguard::Severity::Mild => 1.0 / 3.0,
        chatguard::Severity::Moderate => 2.0 / 3.0,
        chatguard::Severity::Severe => 1.0,
    }
}

fn write_report(
    path: &Path,
    rows: &[Row],
    flagged: &[bool],
    per_category: &[([chatguard::Severity; 6], chatguard::Categories)],
) -> Result<()> {
    use crate::report::{Scored, Section};
    let meaning =
        "the highest severity of the rule hits (0 none, 0.33 mild, 0.67 moderate, 1 severe)";
    let mut sections = vec![Section {
        name: "all categories".to_owned(),
        score_meaning: meaning.to_owned(),
        rows: rows
            .iter()
            .zip(flagged)
            .zip(per_category)
            .map(|((r, &f), (sev, _))| Scored {
                positive: r.positive,
                score: sev.iter().copied().map(severity_score).fold(0.0, f64::max),
                flagged: f,
            })
            .collect(),
    }];
    for c in Category::ALL {
        let labelled = rows
            .iter()
            .any(|r| r.positive && r.category.as_deref() == Some(c.name()));
        if !labelled {
            continue;
        }
        sections.push(Section {
            name: c.name().to_owned(),
            score_meaning: format!("the highest severity of the {} hits ({meaning})", c.name()),
            rows: rows
                .iter()
                .zip(per_category)
                .map(|(r, (sev, cats))| Scored {
                    positive: r.positive && r.category.as_deref() == Some(c.name()),
                    score: severity_score(sev[c as usize]),
                    flagged: cats.contains(c),
                })
                .collect(),
        });
    }
    let html = crate::report::html("chatguard eval report", &sections);
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

/// The column holding the message: `wanted` if given, else the first of `text`, `message`,
/// `tweet`, `comment_text`, else the last column.
pub(crate) fn text_column(headers: &[String], wanted: Option<&str>, path: &Path) -> Result<usize> {
    let find = |name: &str| headers.iter().position(|h| h == name);
    match wanted {
        Some(name) => find(name).ok_or_else(|| {
            anyhow!(
                "{}: no column named {name:?} (columns: {headers:?})",
                path.display()
            )
        }),
        None => Ok(["text", "message", "tweet", "comment_text"]
            .iter()
            .find_map(|n| find(n))
            .unwrap_or(headers.len().saturating_sub(1))),
    }
}
