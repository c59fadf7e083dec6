//! Splits the cost of the default models: rules only, rules + feature extraction, rules +
//! features + both models, over a corpus (for profilers and quick comparisons).
//!
//! `cargo run --release --example profile_features -- fixtures/corpora/chat_clean/chat_clean.txt 5`
use std::hint::black_box;
use std::time::Instant;

use chatguard::{Filter, Message};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "fixtures/corpora/chat_clean/chat_clean.txt".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let text = std::fs::read_to_string(&path).expect("corpus");
    let lines: Vec<&str> = text.lines().collect();
    let rules = Filter::default_english().expect("rules");
    let models = Filter::default_english_with_models().expect("models");
    let n = (rounds * lines.len()) as f64;
    let time = |name: &str, f: &mut dyn FnMut(&str) -> usize| {
        let t = Instant::now();
        let mut sum = 0;
        for _ in 0..rounds {
            for l in &lines {
                sum += f(black_box(l));
            }
        }
        println!(
            "{name:<28} {:>6.0} ns/line  ({sum})",
            t.elapsed().as_nanos() as f64 / n
        );
    };
    let mut s = rules.scratch();
    time("rules", &mut |l| {
        usize::from(rules.check_with(&mut s, &Message::new(l)).flagged())
    });
    let mut s = models.scratch();
    time("rules + features", &mut |l| {
        models.features_with(&mut s, &Message::new(l)).hashed.len()
    });
    let mut s = models.scratch();
    time("rules + features + models", &mut |l| {
        usize::from(models.check_with(&mut s, &Message::new(l)).flagged())
    });
}
