//! Time added per short chat line by the default models (features + two linear models), on
//! `fixtures/corpora/chat_short.txt`. Ignored by default (timing needs a release build):
//!
//! ```text
//! cargo test --release --test features_timing -- --ignored --nocapture
//! ```

mod common;

use std::hint::black_box;
use std::time::Instant;

use chatguard::{Filter, Message};

fn ns_per_line(filter: &Filter, lines: &[&str], rounds: usize) -> f64 {
    let mut scratch = filter.scratch();
    let mut flagged = 0usize;
    for l in lines {
        flagged += usize::from(filter.check_with(&mut scratch, &Message::new(l)).flagged());
    }
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for l in lines {
            let v = filter.check_with(&mut scratch, &Message::new(black_box(l)));
            flagged += usize::from(v.flagged());
        }
        #[allow(clippy::cast_precision_loss)]
        let ns = start.elapsed().as_nanos() as f64 / lines.len() as f64;
        best = best.min(ns);
    }
    black_box(flagged);
    best
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn models_add_little_per_short_line() {
    let text = common::read_fixture("corpora/chat_short.txt");
    let lines: Vec<&str> = text.lines().collect();
    let rules = Filter::default_english().unwrap();
    let models = Filter::default_english_with_models().unwrap();
    let mut scratch = models.scratch();
    let mut features = f64::MAX;
    for _ in 0..15 {
        let start = Instant::now();
        for l in &lines {
            black_box(models.features_with(&mut scratch, &Message::new(black_box(l))));
        }
        #[allow(clippy::cast_precision_loss)]
        let ns = start.elapsed().as_nanos() as f64 / lines.len() as f64;
        features = features.min(ns);
    }
    let (mut base, mut with) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        base = base.min(ns_per_line(&rules, &lines, 3));
        with = with.min(ns_per_line(&models, &lines, 3));
    }
    println!(
        "{} lines: rules only {base:.0} ns/line, rules + default models {with:.0} ns/line, \
         added {:.0} ns/line (fold + match + features alone: {features:.0} ns/line)",
        lines.len(),
        with - base
    );
}
