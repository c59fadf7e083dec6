//! Runs `check_with` over a corpus in a loop, for profilers (perf, callgrind).
//!
//! `cargo run --release --example profile_check -- fixtures/corpora/chat_short.txt 20`
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "fixtures/corpora/chat_short.txt".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);
    let text = std::fs::read_to_string(&path).expect("corpus");
    let lines: Vec<&str> = text.lines().collect();
    let filter = if std::env::var_os("RULES_ONLY").is_some() {
        chatguard::Filter::default_english().expect("default rules")
    } else {
        chatguard::Filter::default_english_with_models().expect("default rules and models")
    };
    let mut scratch = filter.scratch();
    let start = std::time::Instant::now();
    let mut flagged = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            flagged += usize::from(
                filter
                    .check_with(&mut scratch, &chatguard::Message::new(l))
                    .flagged(),
            );
        }
    }
    let n = rounds * lines.len();
    println!(
        "{n} checks, {flagged} flagged, {:.0} ns/check",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
