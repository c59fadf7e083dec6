//! `check_with` with the default spam and toxicity models loaded allocates nothing after
//! warm-up: features are written into fixed buffers in the `Scratch`.

mod common;

use common::corpus;

use chatguard::{Filter, Message, MessageKind, SenderContext};

#[global_allocator]
static GLOBAL: common::counting_alloc::Counting = common::counting_alloc::Counting;

use common::counting_alloc::allocations;

#[test]
fn check_with_models_allocates_nothing_after_warm_up() {
    let mut messages = corpus::varied(3_000);
    // Many tokens (past the hashed-token limit) and long words.
    messages.push("word ".repeat(900));
    messages.push("x".repeat(5000));
    messages.push("1 22 333 4444 55555 www.a.com @b 😂 ".repeat(60));
    let filter = Filter::default_english_with_models().unwrap();
    let mut scratch = filter.scratch();
    let sender = SenderContext {
        account_age_secs: Some(3600),
        first_contact: Some(true),
        ..SenderContext::default()
    };
    // The text models score every message of two words or more (`Policy::models_min_words`).
    let long: Vec<bool> = messages
        .iter()
        .map(|m| {
            chatguard::fold::fold(m)
                .word_collapsed
                .split(' ')
                .filter(|w| !w.is_empty())
                .count()
                >= 2
        })
        .collect();
    assert!(long.iter().filter(|&&l| l).count() * 10 > messages.len() * 9);
    let check = |scratch: &mut chatguard::Scratch, m: &str, i: usize| {
        let kind = if i % 3 == 0 {
            MessageKind::Whisper
        } else {
            MessageKind::Chat
        };
        let v = filter.check_with(scratch, &Message::new(m).kind(kind).sender(sender));
        assert!((0.0..=1.0).contains(&v.score()));
        let scored = v.scores().spam.is_some() && v.scores().toxicity.is_some();
        assert_eq!(scored, long[i], "{m:?}");
        v.flagged()
    };
    for (i, m) in messages.iter().enumerate() {
        check(&mut scratch, m, i);
    }
    let before = allocations();
    let mut flagged = 0;
    for (i, m) in messages.iter().enumerate() {
        flagged += usize::from(check(&mut scratch, m, i));
    }
    assert_eq!(allocations() - before, 0, "allocations after warm-up");
    assert!(flagged > 0);
}
