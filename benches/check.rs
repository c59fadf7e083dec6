//! `check/*`: the full check (`Filter::check_with`, default English rules) over short chat
//! lines and SMS messages, and in the same run `baseline/*`: a plain Aho-Corasick scan of the
//! raw text with the same term list. Every loop asserts its result.
//!
//! `cargo bench --bench check`; `cargo bench -- --test` runs each once.

use std::hint::black_box;
use std::path::Path;

use aho_corasick::AhoCorasick;
use chatguard::{Filter, Message, RuleKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn read(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn corpora() -> Vec<(&'static str, Vec<String>)> {
    let chat: Vec<String> = read("fixtures/corpora/chat_short.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let sms: Vec<String> = read("fixtures/corpora/sms_spam_collection/SMSSpamCollection")
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
        .collect();
    vec![("chat-short", chat), ("sms", sms)]
}

/// The default filter's blocked terms as written, without wildcards: the baseline's list.
fn term_list(filter: &Filter) -> Vec<String> {
    filter
        .rules()
        .iter()
        .filter(|r| *r.kind() == RuleKind::Term)
        .map(|r| r.pattern().trim_matches('*').to_owned())
        .collect()
}

fn bench(c: &mut Criterion) {
    let filter = Filter::default_english().expect("default rules");
    let baseline = AhoCorasick::new(term_list(&filter)).expect("baseline automaton");
    for (name, lines) in corpora() {
        let mut scratch = filter.scratch();
        let expected_flagged: usize = lines
            .iter()
            .filter(|l| filter.check_with(&mut scratch, &Message::new(l)).flagged())
            .count();
        let expected_raw: usize = lines
            .iter()
            .map(|l| baseline.find_iter(l.as_str()).count())
            .sum();
        assert!(expected_flagged > 0 && expected_raw > 0);

        let mut group = c.benchmark_group("check");
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut flagged = 0;
                for l in &lines {
                    flagged += usize::from(
                        filter
                            .check_with(&mut scratch, &Message::new(black_box(l)))
                            .flagged(),
                    );
                }
                assert_eq!(flagged, expected_flagged);
            });
        });
        group.finish();

        let mut group = c.benchmark_group("baseline");
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut found = 0;
                for l in &lines {
                    found += baseline.find_iter(black_box(l.as_str())).count();
                }
                assert_eq!(found, expected_raw);
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
