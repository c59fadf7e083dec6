//! Every public type that crosses threads is `Send + Sync` (and unwind-safe where shared).

use std::panic::{RefUnwindSafe, UnwindSafe};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<chatguard::Filter>();
    send_sync::<chatguard::FilterBuilder>();
    send_sync::<chatguard::RuleSet>();
    send_sync::<chatguard::Rule>();
    send_sync::<chatguard::Config>();
    send_sync::<chatguard::Error>();
    send_sync::<chatguard::Verdict<'static>>();
    send_sync::<chatguard::OwnedVerdict>();
    send_sync::<chatguard::Explanation>();
    send_sync::<chatguard::Message<'static>>();
    send::<chatguard::Scratch>();
    send_sync::<chatguard::SenderTracker>();
    send_sync::<chatguard::reload::SharedFilter>();
    unwind_safe::<chatguard::Filter>();
    unwind_safe::<chatguard::RuleSet>();
}

#[test]
fn one_filter_serves_many_threads() {
    let filter = chatguard::Filter::default_english().unwrap();
    let lines = ["gg wp", "fuck off", "f.u.c.k", "hello chat", "ѕһіt"];
    let expected: Vec<bool> = lines
        .iter()
        .map(|l| filter.check(&chatguard::Message::new(l)).flagged())
        .collect();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let filter = filter.clone();
            let expected = &expected;
            s.spawn(move || {
                let mut scratch = filter.scratch();
                for _ in 0..200 {
                    for (l, e) in lines.iter().zip(expected) {
                        assert_eq!(
                            filter
                                .check_with(&mut scratch, &chatguard::Message::new(l))
                                .flagged(),
                            *e
                        );
                    }
                }
            });
        }
    });
}
