//! `check_with` allocates nothing after warm-up, over a real and varied corpus: a counting
//! global allocator counts the allocations of this thread.

mod common;

use common::corpus;

use chatguard::{FilterBuilder, Message, MessageKind, RuleSet};

#[global_allocator]
static GLOBAL: common::counting_alloc::Counting = common::counting_alloc::Counting;

use common::counting_alloc::allocations;

#[test]
fn check_with_allocates_nothing_after_warm_up() {
    let messages = corpus::varied(12_000);
    assert!(messages.len() >= 10_000);
    assert!(
        messages.iter().any(|m| m.len() >= 4000),
        "the corpus has 4 KiB lines"
    );

    let mut extra = RuleSet::new();
    extra
        .add_file("alloc.rules", "[threat severity=severe]\nregex: /k+y+s+/\nregex: /(?:i|u) (?:will|gonna) (?:kill|hurt) (?:you|u)/\n")
        .unwrap();
    let mut builder = FilterBuilder::new();
    builder.default_rules().rules(extra);
    let filter = builder.build().unwrap();
    let mut scratch = filter.scratch();
    let mut out = Vec::with_capacity(64 << 10);

    // Warm-up: one pass over everything.
    let mut flagged_warm = 0;
    for m in &messages {
        flagged_warm += usize::from(filter.check_with(&mut scratch, &Message::new(m)).flagged());
    }

    let before = allocations();
    let mut flagged = 0;
    let mut hits = 0;
    for (i, m) in messages.iter().enumerate() {
        let kind = if i % 3 == 0 {
            MessageKind::Whisper
        } else {
            MessageKind::Chat
        };
        let v = filter.check_with(&mut scratch, &Message::new(m).kind(kind));
        flagged += usize::from(v.flagged());
        hits += v.hits().len();
        let _ = filter.censor_with(&mut scratch, &Message::new(m), &mut out);
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "{} allocations over {} checks",
        after - before,
        messages.len()
    );
    assert!(
        flagged > 1000 && hits > flagged,
        "the corpus exercises matching: {flagged} flagged, {hits} hits"
    );
    assert!(flagged_warm > 1000);

    // A fresh scratch warmed on one message is also allocation-free on every other message.
    let mut fresh = filter.scratch();
    let _ = filter.check_with(&mut fresh, &Message::new("warm up"));
    let before = allocations();
    for m in messages.iter().step_by(3) {
        let _ = filter.check_with(&mut fresh, &Message::new(m));
    }
    assert_eq!(
        allocations() - before,
        0,
        "allocations with a scratch warmed on one message"
    );
}
