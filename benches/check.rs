//! chatguard's criterion benches. Every loop asserts its result, and `cargo bench -- --test`
//! runs each once, so they cannot rot. Ids:
//!
//! - `fold/<corpus>`: the reusable [`Folder`] (every view);
//! - `rules/build/<n>-terms`: building a filter from the first `n` default terms;
//!   `rules/match/<n>-terms/chat-short`: checking with that filter (small vs default rules);
//! - `features/<corpus>`: fold, match and extract the named features and hashed n-grams
//!   (`Filter::features_with`);
//! - `model/<kind>`: the parity fixture models over their held-out rows;
//! - `check/<corpus>`: the full check (`Filter::check_with`, default English rules);
//!   `check-models/<corpus>`: the same with the default spam and toxicity models;
//!   `check-tracked/whispers`: `fixtures/whispers/stream.tsv` replayed in time order through
//!   `Filter::check_tracked` with every default model (the whisper tree included) and a fresh
//!   `SenderTracker` (built outside the timing);
//! - `build/default`: building the default filter;
//! - `throughput/1-thread`, `throughput/2-threads`: one shared `Filter`, a `Scratch` per thread,
//!   each thread checking all of `chat-short`;
//! - `baseline/<corpus>`: a plain Aho-Corasick scan of the raw text with the default term list.
//!
//! Corpora: see `benches/common/mod.rs` and `benches/README.md`.
//!
//! `cargo bench --bench check [-- FILTER]`; `benches/README.md` has the figures of a run.

mod common;
#[path = "../tests/common/whispers.rs"]
mod whispers;

use std::hint::black_box;
use std::time::Duration;

use chatguard::fold::Folder;
use chatguard::tracker::{SenderTracker, TrackerConfig};
use chatguard::{Filter, FilterBuilder, Message, RuleSet};
use common::{Corpus, Models};
use criterion::{BatchSize, Criterion, Throughput};

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let filter = Filter::default_english().expect("default rules");
    let corpora = common::corpora();

    fold(&mut c, &corpora);
    rules(&mut c, &filter, &corpora[0]);
    let with_models = Filter::default_english_with_models().expect("default rules and models");
    features(&mut c, &with_models, &corpora);
    model(&mut c);
    check(&mut c, "check", &filter, &corpora);
    check(&mut c, "check-models", &with_models, &corpora);
    check_tracked(&mut c, &with_models);
    build(&mut c);
    throughput(&mut c, &filter, &corpora[0]);
    baseline(&mut c, &filter, &corpora);

    c.final_summary();
}

fn fold(c: &mut Criterion, corpora: &[Corpus]) {
    let mut group = c.benchmark_group("fold");
    for corpus in corpora
        .iter()
        .filter(|c| c.name != "chat-clean" && c.name != "sms")
    {
        let mut folder = Folder::new(4096);
        let expected: usize = corpus
            .lines
            .iter()
            .map(|l| folder.fold(l.as_bytes()).word().len())
            .sum();
        assert!(expected > 0);
        group.throughput(Throughput::Elements(corpus.lines.len() as u64));
        group.bench_function(corpus.name, |b| {
            b.iter(|| {
                let mut total = 0;
                for l in &corpus.lines {
                    total += folder.fold(black_box(l.as_bytes())).word().len();
                }
                assert_eq!(total, expected);
            });
        });
    }
    group.finish();
}

/// A rule set with the first `n` blocked terms of the default rules (all if `n` is `None`),
/// as one file under `[profanity]`.
fn first_terms(filter: &Filter, n: Option<usize>) -> RuleSet {
    let terms: Vec<&str> = filter
        .rules()
        .iter()
        .filter(|r| *r.kind() == chatguard::RuleKind::Term)
        .map(chatguard::Rule::pattern)
        .collect();
    let n = n.unwrap_or(terms.len()).min(terms.len());
    let mut text = String::from("[profanity]\n");
    for t in &terms[..n] {
        text.push_str(t);
        text.push('\n');
    }
    let mut rules = RuleSet::new();
    rules
        .add_file("bench.rules", &text)
        .expect("default terms parse");
    rules
}

fn rules(c: &mut Criterion, filter: &Filter, chat: &Corpus) {
    let mut group = c.benchmark_group("rules");
    let all = filter.rules().len();
    for n in [10, 1000, all] {
        let rules = first_terms(filter, Some(n));
        let count = rules.len();
        let name = if n == all {
            "all".to_owned()
        } else {
            n.to_string()
        };
        group.bench_function(format!("build/{name}-terms"), |b| {
            b.iter(|| {
                let built = FilterBuilder::new().rules(black_box(rules.clone())).build();
                assert_eq!(built.expect("builds").rules().len(), count);
            });
        });
    }
    for n in [10, 1000] {
        let small = FilterBuilder::new()
            .rules(first_terms(filter, Some(n)))
            .build()
            .expect("builds");
        let mut scratch = small.scratch();
        let expected = flagged(&small, &mut scratch, &chat.lines);
        group.throughput(Throughput::Elements(chat.lines.len() as u64));
        group.bench_function(format!("match/{n}-terms/chat-short"), |b| {
            b.iter(|| assert_eq!(flagged(&small, &mut scratch, &chat.lines), expected));
        });
    }
    group.finish();
}

fn model(c: &mut Criterion) {
    let Models { models, rows } = Models::load();
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Elements(rows.len() as u64));
    for (name, model) in &models {
        let expected = Models::score_all(model, &rows);
        assert!(expected > 0.0 && expected < rows.len() as f64);
        group.bench_function(*name, |b| {
            b.iter(|| {
                let total = Models::score_all(black_box(model), &rows);
                assert!((total - expected).abs() < 1e-9, "{total} != {expected}");
            });
        });
    }
    group.finish();
}

fn flagged(filter: &Filter, scratch: &mut chatguard::Scratch, lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| {
            filter
                .check_with(scratch, &Message::new(black_box(l)))
                .flagged()
        })
        .count()
}

/// Fold, match and feature extraction over every line; asserts the number of hashed entries.
fn features(c: &mut Criterion, filter: &Filter, corpora: &[Corpus]) {
    let mut group = c.benchmark_group("features");
    for corpus in corpora {
        let mut scratch = filter.scratch();
        let entries = |scratch: &mut chatguard::Scratch| {
            corpus
                .lines
                .iter()
                .map(|l| {
                    filter
                        .features_with(scratch, &Message::new(black_box(l)))
                        .hashed
                        .len()
                })
                .sum::<usize>()
        };
        let expected = entries(&mut scratch);
        assert!(expected > 0, "{}: no hashed n-grams", corpus.name);
        group.throughput(Throughput::Elements(corpus.lines.len() as u64));
        group.bench_function(corpus.name, |b| {
            b.iter(|| assert_eq!(entries(&mut scratch), expected))
        });
    }
    group.finish();
}

fn check(c: &mut Criterion, id: &str, filter: &Filter, corpora: &[Corpus]) {
    let mut group = c.benchmark_group(id);
    for corpus in corpora {
        let mut scratch = filter.scratch();
        let expected = flagged(filter, &mut scratch, &corpus.lines);
        assert!(expected > 0, "{}: nothing flagged", corpus.name);
        group.throughput(Throughput::Elements(corpus.lines.len() as u64));
        group.bench_function(corpus.name, |b| {
            b.iter(|| assert_eq!(flagged(filter, &mut scratch, &corpus.lines), expected));
        });
    }
    group.finish();
}

fn check_tracked(c: &mut Criterion, filter: &Filter) {
    let stream = whispers::parse("stream.tsv", &common::read("fixtures/whispers/stream.tsv"));
    let replay = |tracker: &SenderTracker, scratch: &mut chatguard::Scratch| {
        stream
            .iter()
            .filter(|w| {
                filter
                    .check_tracked(scratch, &w.message(), tracker, w.time_ms)
                    .flagged()
            })
            .count()
    };
    let mut scratch = filter.scratch();
    let expected = replay(&SenderTracker::new(TrackerConfig::default()), &mut scratch);
    assert!(expected > 0, "no whisper flagged");
    let mut group = c.benchmark_group("check-tracked");
    group.throughput(Throughput::Elements(stream.len() as u64));
    group.bench_function("whispers", |b| {
        b.iter_batched(
            || SenderTracker::new(TrackerConfig::default()),
            |tracker| assert_eq!(replay(&tracker, &mut scratch), expected),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(20);
    group.bench_function("default", |b| {
        b.iter(|| {
            let filter = Filter::default_english().expect("default rules");
            assert!(filter.rules().len() > 1000);
            filter
        });
    });
    group.finish();
}

fn throughput(c: &mut Criterion, filter: &Filter, chat: &Corpus) {
    let mut scratch = filter.scratch();
    let expected = flagged(filter, &mut scratch, &chat.lines);
    let mut group = c.benchmark_group("throughput");
    for threads in [1_usize, 2] {
        // Scratch spaces live across iterations, like a server's connection threads.
        let mut scratches: Vec<_> = (0..threads).map(|_| filter.scratch()).collect();
        group.throughput(Throughput::Elements((threads * chat.lines.len()) as u64));
        let id = if threads == 1 {
            "1-thread".to_owned()
        } else {
            format!("{threads}-threads")
        };
        group.bench_function(id, |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    let handles: Vec<_> = scratches
                        .iter_mut()
                        .map(|scratch| s.spawn(|| flagged(filter, scratch, &chat.lines)))
                        .collect();
                    for h in handles {
                        assert_eq!(h.join().expect("thread"), expected);
                    }
                });
            });
        });
    }
    group.finish();
}

fn baseline(c: &mut Criterion, filter: &Filter, corpora: &[Corpus]) {
    let ac = common::baseline(filter);
    let mut group = c.benchmark_group("baseline");
    for corpus in corpora {
        let expected: usize = corpus
            .lines
            .iter()
            .map(|l| ac.find_iter(l.as_str()).count())
            .sum();
        assert!(expected > 0, "{}: baseline finds nothing", corpus.name);
        group.throughput(Throughput::Elements(corpus.lines.len() as u64));
        group.bench_function(corpus.name, |b| {
            b.iter(|| {
                let mut found = 0;
                for l in &corpus.lines {
                    found += ac.find_iter(black_box(l.as_str())).count();
                }
                assert_eq!(found, expected);
            });
        });
    }
    group.finish();
}
