//! `check_with` allocates nothing after warm-up, over a real and varied corpus: a counting
//! global allocator counts the allocations of this thread.

mod common;

use common::corpus;

use chatguard::{Filter, FilterBuilder, Message, MessageKind, RuleSet};

#[global_allocator]
static GLOBAL: common::counting_alloc::Counting = common::counting_alloc::Counting;

use common::counting_alloc::allocations;

/// Asserts that this thread allocated nothing since the count was `before`, over `checks`
/// checks.
fn assert_none_since(before: u64, checks: usize) {
    let allocated = allocations() - before;
    assert_eq!(allocated, 0, "{allocated} allocations over {checks} checks");
}

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
    assert_none_since(before, messages.len());
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

#[test]
fn check_tracked_with_the_whisper_model_allocates_nothing_after_warm_up() {
    use chatguard::tracker::{SenderTracker, TrackerConfig};
    use chatguard::SenderContext;

    let messages = corpus::varied(6_000);
    let filter = Filter::default_english_with_models().unwrap();
    assert!(filter.whisper_model().is_some());
    let tracker = SenderTracker::new(TrackerConfig::default());
    let mut scratch = filter.scratch();
    fn message(i: usize, text: &str) -> Message<'_> {
        Message::new(text)
            .kind(if i % 4 == 0 {
                MessageKind::Chat
            } else {
                MessageKind::Whisper
            })
            .sender(SenderContext {
                account_age_secs: Some((i as u64 % 9) * 86_400),
                first_contact: Some(i % 3 != 0),
                sender_id: Some(i as u64 % 97),
                recipient_id: Some(i as u64 % 1_013),
                ..SenderContext::default()
            })
    }

    // Warm-up: one pass over everything.
    for (i, m) in messages.iter().enumerate() {
        let _ = filter.check_tracked(&mut scratch, &message(i, m), &tracker, i as u64 * 100);
    }

    let before = allocations();
    let mut whisper_flagged = 0;
    let mut scored = 0;
    let start = messages.len() as u64 * 100;
    for (i, m) in messages.iter().enumerate() {
        let v = filter.check_tracked(&mut scratch, &message(i, m), &tracker, start + i as u64);
        if let Some(score) = v.scores().whisper {
            scored += 1;
            whisper_flagged += usize::from(score >= 0.5);
        }
    }
    assert_none_since(before, messages.len());
    // The senders fan the corpus out to many recipients quickly: the tree is exercised on
    // both sides.
    assert!(scored > 4_000, "{scored} scored");
    assert!(
        whisper_flagged > 100 && whisper_flagged < scored,
        "{whisper_flagged} of {scored} flagged by the whisper model"
    );
}

/// Every regex of the default rules run on text with letters of other scripts beside its
/// words: a DFA that stopped at a non-ASCII byte next to a Unicode word boundary fell back
/// to an engine whose cache grows, so threats written next to CJK text allocated (9 times on
/// a fresh scratch, once on every later one). Regexes now compile to DFAs alone, with ASCII
/// word boundaries.
#[test]
fn regexes_next_to_other_scripts_allocate_nothing() {
    let filter = Filter::default_english().unwrap();
    let lines = [
        "i will kill you 你好",
        "你好 i will kill you",
        "日本 im gonna stab u 日本",
        "you are such a useless 垃圾 trash",
        "ur a clown 😂 Привет",
        "شكرا you absolute waste of space",
        "i will kill 你 you",
        "u r so bad ดี",
    ];
    let mut fresh = filter.scratch();
    let _ = filter.check_with(&mut fresh, &Message::new("warm up"));
    let before = allocations();
    let mut flagged = 0;
    for _ in 0..3 {
        for line in lines {
            flagged += usize::from(filter.check_with(&mut fresh, &Message::new(line)).flagged());
        }
    }
    assert_none_since(before, 3 * lines.len());
    assert!(flagged >= 3 * 6, "the regexes ran: {flagged} flagged");
}
