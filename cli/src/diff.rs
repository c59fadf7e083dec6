//! `chatguard diff`: what an edit of the rules changes on a corpus, before it goes live.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chatguard::{Action, Categories, Filter, Message, MessageKind};

use crate::Kind;

#[derive(clap::Args, Debug)]
pub(crate) struct DiffArgs {
    /// The rules directory as it is now.
    #[arg(long)]
    old: PathBuf,
    /// The rules directory with the edit.
    #[arg(long)]
    new: PathBuf,
    /// The corpus: one message per line.
    corpus: PathBuf,
    /// Labels for the corpus, one per line (`1`/`0`, or a label in --positive-values): adds
    /// precision and recall before and after.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Label values that mean "should be flagged" (comma-separated).
    #[arg(long, default_value = "1,spam,toxic,true,yes")]
    positive_values: String,
    /// Examples to print for each kind of change.
    #[arg(long, default_value_t = 10)]
    examples: usize,
    /// Check the lines as this kind of message.
    #[arg(long, value_enum, default_value_t = Kind::Chat)]
    kind: Kind,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    #[command(flatten)]
    models: crate::features::ModelArgs,
}

/// One line's verdict, reduced to what a diff compares.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Outcome {
    action: Action,
    categories: Categories,
}

fn outcomes(filter: &Filter, lines: &[&[u8]], kind: MessageKind, threads: usize) -> Vec<Outcome> {
    let chunk = lines.len().div_ceil(threads.max(1)).max(1);
    let mut out = Vec::with_capacity(lines.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scratch = filter.scratch();
                    part.iter()
                        .map(|l| {
                            let v =
                                filter.check_with(&mut scratch, &Message::from_bytes(l).kind(kind));
                            Outcome {
                                action: v.action(),
                                categories: v.categories(),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            out.extend(h.join().expect("a diff worker panicked"));
        }
    });
    out
}

fn rules_of(filter: &Filter, line: &[u8], kind: MessageKind) -> String {
    let v = filter.check(&Message::from_bytes(line).kind(kind));
    let rules: Vec<String> = v
        .hits()
        .iter()
        .map(|h| {
            let r = filter.rule(h.rule);
            format!("{} ({}:{})", r.pattern_shown(), r.file(), r.line())
        })
        .collect();
    rules.join(", ")
}

pub(crate) fn run(args: &DiffArgs) -> Result<ExitCode> {
    let old = crate::build_filter(Some(&args.old), &args.models)?;
    let new = crate::build_filter(Some(&args.new), &args.models)?;
    let data = std::fs::read(&args.corpus)
        .with_context(|| format!("cannot read {}", args.corpus.display()))?;
    let lines: Vec<&[u8]> = crate::lines(&data).collect();
    let kind: MessageKind = args.kind.into();
    let start = std::time::Instant::now();
    let before = outcomes(&old, &lines, kind, args.threads);
    let after = outcomes(&new, &lines, kind, args.threads);
    let elapsed = start.elapsed();

    let mut newly = Vec::new();
    let mut no_longer = Vec::new();
    let mut category = Vec::new();
    let mut action = Vec::new();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        match (b.action == Action::Allow, a.action == Action::Allow) {
            (true, false) => newly.push(i),
            (false, true) => no_longer.push(i),
            (false, false) if b.categories != a.categories => category.push(i),
            (false, false) if b.action != a.action => action.push(i),
            _ => {}
        }
    }
    let flagged = |o: &[Outcome]| o.iter().filter(|o| o.action != Action::Allow).count();
    println!(
        "{} lines checked twice in {:.2} s; flagged before {}, after {}",
        lines.len(),
        elapsed.as_secs_f64(),
        flagged(&before),
        flagged(&after)
    );
    println!("newly flagged:      {}", newly.len());
    println!("no longer flagged:  {}", no_longer.len());
    println!("category changed:   {}", category.len());
    println!("action changed:     {}", action.len());
    let show = |title: &str, ids: &[usize], filter: &Filter, describe: &dyn Fn(usize) -> String| {
        if ids.is_empty() || args.examples == 0 {
            return;
        }
        println!(
            "\n{title} (first {} of {}):",
            args.examples.min(ids.len()),
            ids.len()
        );
        for &i in ids.iter().take(args.examples) {
            println!(
                "  {}: {:?}  {}",
                i + 1,
                String::from_utf8_lossy(lines[i]),
                describe(i)
            );
            let _ = filter;
        }
    };
    show("newly flagged", &newly, &new, &|i| {
        format!(
            "[{}] by {}",
            after[i].categories,
            rules_of(&new, lines[i], kind)
        )
    });
    show("no longer flagged", &no_longer, &old, &|i| {
        format!(
            "[{}] was {}",
            before[i].categories,
            rules_of(&old, lines[i], kind)
        )
    });
    show("category changed", &category, &new, &|i| {
        format!("[{}] → [{}]", before[i].categories, after[i].categories)
    });
    show("action changed", &action, &new, &|i| {
        format!("{} → {}", before[i].action, after[i].action)
    });

    if let Some(path) = &args.labels {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let positives: Vec<&str> = args.positive_values.split(',').collect();
        let labels: Vec<bool> = text
            .lines()
            .map(|l| positives.iter().any(|p| p.eq_ignore_ascii_case(l.trim())))
            .collect();
        if labels.len() != lines.len() {
            bail!(
                "{} has {} labels for {} corpus lines",
                path.display(),
                labels.len(),
                lines.len()
            );
        }
        println!(
            "\nwith labels ({} should be flagged):",
            labels.iter().filter(|l| **l).count()
        );
        for (name, o) in [("before", &before), ("after", &after)] {
            let tp = o
                .iter()
                .zip(&labels)
                .filter(|(o, l)| **l && o.action != Action::Allow)
                .count();
            let fp = o
                .iter()
                .zip(&labels)
                .filter(|(o, l)| !**l && o.action != Action::Allow)
                .count();
            let fn_ = o
                .iter()
                .zip(&labels)
                .filter(|(o, l)| **l && o.action == Action::Allow)
                .count();
            let p = tp as f64 / (tp + fp).max(1) as f64;
            let r = tp as f64 / (tp + fn_).max(1) as f64;
            println!("  {name:<6} precision {p:.4}  recall {r:.4}  ({tp} right, {fp} wrongly flagged, {fn_} missed)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
