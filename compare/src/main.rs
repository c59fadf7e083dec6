//! chatguard (its default rules, and its default rules and models) against rustrict on the
//! same labelled sets, with each library's default configuration: what share of disguised
//! abuse and of toxic game chat each flags, what share of innocent lines and words each flags,
//! and nanoseconds per message (same machine, same process, release build).
//!
//! `cargo run --release --manifest-path compare/Cargo.toml`

use std::path::Path;
use std::time::Instant;

use chatguard::{Filter, Message};
use rustrict::CensorStr;

fn column(path: &str, col: &str) -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let i = header.iter().position(|h| *h == col).expect("column");
    lines
        .filter_map(|l| l.split('\t').nth(i).map(str::to_owned))
        .collect()
}

/// The `text` of the rows of a labelled TSV whose `label` is `label`.
fn labelled(path: &str, label: &str) -> Vec<String> {
    let texts = column(path, "text");
    let labels = column(path, "label");
    texts
        .into_iter()
        .zip(labels)
        .filter(|(_, l)| l == label)
        .map(|(t, _)| t)
        .collect()
}

fn lines(path: &str) -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn rustrict_flags(s: &str) -> bool {
    // rustrict's own notion of "inappropriate": moderately offensive or worse, any category.
    s.is_inappropriate()
}

fn main() {
    let rules = Filter::default_english().expect("default rules");
    let models = Filter::default_english_with_models().expect("default rules and models");
    let (mut rules_scratch, mut models_scratch) = (rules.scratch(), models.scratch());
    let mut rules_flags = |s: &str| {
        rules
            .check_with(&mut rules_scratch, &Message::new(s))
            .flagged()
    };
    let mut models_flags = |s: &str| {
        models
            .check_with(&mut models_scratch, &Message::new(s))
            .flagged()
    };

    let sets: Vec<(&str, bool, Vec<String>)> = vec![
        (
            "evasion-dev (162 disguised lines)",
            true,
            column("fixtures/evasion-dev/evasion.tsv", "text"),
        ),
        (
            "generated evasions (889 lines)",
            true,
            column("fixtures/eval/evasion_generated.tsv", "text"),
        ),
        (
            "innocent-dev (183 lines)",
            false,
            column("fixtures/evasion-dev/innocent.tsv", "text"),
        ),
        (
            "innocent Scunthorpe chat (4,000 lines)",
            false,
            column("fixtures/eval/innocent_scunthorpe.tsv", "text"),
        ),
        (
            "game chat, toxic (dev set, 328 lines)",
            true,
            labelled("fixtures/eval/game_chat/dev.tsv", "toxic"),
        ),
        (
            "game chat, innocent (dev set, 398 lines)",
            false,
            labelled("fixtures/eval/game_chat/dev.tsv", "innocent"),
        ),
        (
            "game chat, toxic (held out, 300 lines)",
            true,
            labelled("fixtures/eval/game_chat/held_out.tsv", "toxic"),
        ),
        (
            "game chat, innocent (held out, 450 lines)",
            false,
            labelled("fixtures/eval/game_chat/held_out.tsv", "innocent"),
        ),
        (
            "held-out dictionary words (274,136)",
            false,
            lines("fixtures/wordlists/npm-word-list/words.txt"),
        ),
    ];
    println!("| set | should be | chatguard flags (rules) | chatguard flags (rules + models) | rustrict flags |");
    println!("|---|---|---|---|---|");
    for (name, positive, rows) in &sets {
        let a = rows.iter().filter(|r| rules_flags(r)).count();
        let m = rows.iter().filter(|r| models_flags(r)).count();
        let b = rows.iter().filter(|r| rustrict_flags(r)).count();
        let pct = |n: usize| format!("{:.2}% ({n})", 100.0 * n as f64 / rows.len() as f64);
        println!(
            "| {name} | {} | {} | {} | {} |",
            if *positive { "flagged" } else { "clean" },
            pct(a),
            pct(m),
            pct(b)
        );
    }

    let chat = lines("fixtures/corpora/chat_short.txt");
    let sms: Vec<String> = lines("fixtures/corpora/sms_spam_collection/SMSSpamCollection")
        .into_iter()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
        .collect();
    println!("\n| corpus | chatguard rules, ns/message | chatguard rules + models | rustrict | rustrict / rules | rustrict / rules + models |");
    println!("|---|---|---|---|---|---|");
    for (name, rows) in [("chat-short", &chat), ("sms", &sms)] {
        let pass = |f: &mut dyn FnMut(&str) -> bool| {
            let t = Instant::now();
            let mut n = 0;
            for r in rows.iter() {
                n += usize::from(f(std::hint::black_box(r)));
            }
            std::hint::black_box(n);
            t.elapsed().as_nanos() as f64 / rows.len() as f64
        };
        // Passes of the two libraries alternate and the fastest of each is kept, so that a
        // machine whose speed drifts slows both alike.
        let (mut a, mut m, mut b) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..7 {
            a = a.min(pass(&mut rules_flags));
            m = m.min(pass(&mut models_flags));
            b = b.min(pass(&mut |s| rustrict_flags(s)));
        }
        println!(
            "| {name} | {a:.0} | {m:.0} | {b:.0} | {:.1}x | {:.1}x |",
            b / a,
            b / m
        );
    }
}
