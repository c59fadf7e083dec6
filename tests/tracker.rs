//! `SenderTracker`: bounded memory under a million senders, fan-out under two threads,
//! near-duplicate templates, the sliding window, no allocation per observation, and a replay
//! of the simulated whisper stream in `fixtures/whispers/`.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chatguard::fold::Folder;
use chatguard::tracker::{
    Fingerprint, SenderObservation, SenderSignals, SenderTracker, TrackerConfig,
};

use common::counting_alloc::allocations;

#[global_allocator]
static GLOBAL: common::counting_alloc::Counting = common::counting_alloc::Counting;

fn small() -> TrackerConfig {
    TrackerConfig {
        shards: 4,
        slots_per_shard: 256,
        window_ms: 60_000,
        recipients_per_sender: 16,
        fanout_per_sender: 16,
        near_duplicate_agreement: 7,
    }
}

fn fp(folder: &mut Folder, text: &str) -> Fingerprint {
    Fingerprint::of_text(folder, text.as_bytes())
}

fn observe(
    tracker: &SenderTracker,
    sender: u64,
    recipient: u64,
    fingerprint: Fingerprint,
    now_ms: u64,
) -> SenderSignals {
    tracker.observe(&SenderObservation {
        sender,
        recipient,
        fingerprint,
        now_ms,
    })
}

#[test]
fn memory_stays_within_the_bound_under_a_million_senders() {
    let tracker = SenderTracker::new(small());
    let bound = tracker.memory_bytes();
    assert_eq!(tracker.capacity(), 4 * 256);
    assert!(bound < 1 << 20, "{bound} bytes for 1024 senders");
    let f = Fingerprint(0x1234);
    let before = allocations();
    for sender in 0..1_000_000u64 {
        let s = observe(&tracker, sender, sender ^ 0xff, f, sender);
        assert_eq!(s.messages_in_window, 1);
    }
    assert_eq!(allocations(), before, "observe allocated");
    assert_eq!(tracker.memory_bytes(), bound);
    // Every sender past the capacity evicted one; sets fill unevenly, so a few slots may
    // have been left empty when the first eviction in their set happened.
    let evictions = tracker.evictions();
    assert!(
        evictions >= 1_000_000 - tracker.capacity() as u64 && evictions < 1_000_000,
        "{evictions} evictions"
    );
    // The most recent senders are still known.
    let s = observe(&tracker, 999_999, 1, f, 1_000_000);
    assert_eq!(s.messages_in_window, 2);
}

#[test]
fn default_memory_is_what_the_docs_say() {
    let tracker = SenderTracker::new(TrackerConfig::default());
    let mib = tracker.memory_bytes() as f64 / f64::from(1 << 20);
    assert!((8.0..16.0).contains(&mib), "{mib} MiB");
    assert_eq!(tracker.capacity(), 16 * 1024);
}

#[test]
fn fanout_is_exact_under_two_threads() {
    const N: u64 = 12; // below the table size of 16, so over-counting would show
    let tracker = Arc::new(SenderTracker::new(small()));
    let mut folder = Folder::new(256);
    let spam = fp(&mut folder, "buy followers at x.com");
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let tracker = Arc::clone(&tracker);
            std::thread::spawn(move || {
                // Both threads fan out for the same sender 1, to disjoint halves, and each
                // for its own sender 100 + t, to all N recipients.
                let mut own_max = 0;
                for round in 0..200u64 {
                    for r in 0..N / 2 {
                        observe(&tracker, 1, t * (N / 2) + r, spam, round);
                        let s = observe(&tracker, 100 + t, r + N * t, spam, round);
                        own_max = own_max.max(s.near_duplicate_fanout);
                    }
                    for r in N / 2..N {
                        let s = observe(&tracker, 100 + t, r + N * t, spam, round);
                        own_max = own_max.max(s.near_duplicate_fanout);
                    }
                }
                own_max
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), N as u32);
    }
    let s = observe(&tracker, 1, 0, spam, 300);
    assert_eq!(s.near_duplicate_fanout, N as u32);
    assert_eq!(s.distinct_recipients, N as u32);
    assert_eq!(s.messages_in_window, 2 * 200 * (N as u32 / 2) + 1);
    for t in 0..2 {
        let s = observe(&tracker, 100 + t, N * t, spam, 300);
        assert_eq!(s.near_duplicate_fanout, N as u32);
        assert_eq!(s.messages_in_window, 200 * N as u32 + 1);
    }
}

#[test]
fn templated_variations_count_together_and_different_messages_do_not() {
    let tracker = SenderTracker::new(small());
    let mut folder = Folder::new(512);
    let templates = [
        "buy followers at x.com 1",
        "buy followers at x.com 2",
        "Buy f0llowers at x.com 37!!",
        "BUY FOLLOWERS at x . com 4",
        "buy   followers at x.com 5 🔥",
    ];
    for (r, text) in templates.iter().enumerate() {
        let s = observe(&tracker, 9, r as u64, fp(&mut folder, text), r as u64);
        assert_eq!(s.near_duplicate_fanout, r as u32 + 1, "{text}");
    }
    let names = ["anna", "ben", "carla", "dmitri", "eve", "farid"];
    for (r, name) in names.iter().enumerate() {
        let text = format!("hey {name} you won a free skin, claim it at gift-skins.net/{r}{r}");
        let s = observe(&tracker, 10, r as u64, fp(&mut folder, &text), r as u64);
        assert_eq!(s.near_duplicate_fanout, r as u32 + 1, "{text}");
    }
    let ordinary = [
        "hey are you coming to the raid tonight",
        "lol that was so bad",
        "can you send me the link to the guide",
        "gg, want to queue again tomorrow?",
        "my cat just knocked over the router",
        "did you see the patch notes",
    ];
    for (r, text) in ordinary.iter().enumerate() {
        let s = observe(&tracker, 11, r as u64, fp(&mut folder, text), r as u64);
        assert_eq!(s.near_duplicate_fanout, 1, "{text}");
        assert_eq!(s.distinct_recipients, r as u32 + 1);
    }
    // The same message to the same recipient twice is one recipient, not two.
    let again = observe(&tracker, 9, 0, fp(&mut folder, templates[0]), 10);
    assert_eq!(again.near_duplicate_fanout, 5);
    assert_eq!(again.messages_in_window, 6);
}

#[test]
fn agreement_of_related_and_unrelated_texts() {
    let mut folder = Folder::new(512);
    let a = fp(
        &mut folder,
        "hey anna you won a free skin claim it at gift-skins.net",
    );
    let b = fp(
        &mut folder,
        "hey ben you won a free skin claim it at gift-skins.net",
    );
    assert!(a.agreement(b) >= 10, "{}", a.agreement(b));
    assert_eq!(a.agreement(a), Fingerprint::PARTS);
    let c = fp(&mut folder, "are you coming to the raid tonight or not");
    assert!(a.agreement(c) < 8, "{}", a.agreement(c));
}

#[test]
fn the_window_slides() {
    let tracker = SenderTracker::new(small()); // 60 s window, 7.5 s buckets
    let spam = Fingerprint(42);
    for r in 0..5 {
        observe(&tracker, 1, r, spam, 1_000 * r);
    }
    let s = observe(&tracker, 1, 5, spam, 5_000);
    assert_eq!(
        (
            s.messages_in_window,
            s.distinct_recipients,
            s.near_duplicate_fanout
        ),
        (6, 6, 6)
    );
    // 30 s later everything still counts; 2 minutes later only the new message does.
    let s = observe(&tracker, 1, 6, spam, 35_000);
    assert_eq!((s.messages_in_window, s.near_duplicate_fanout), (7, 7));
    let s = observe(&tracker, 1, 7, spam, 155_000);
    assert_eq!(
        (
            s.messages_in_window,
            s.distinct_recipients,
            s.near_duplicate_fanout
        ),
        (1, 1, 1)
    );
    assert_eq!(s.known_for_ms, 155_000);
    // Partly expired: the messages at 0..5 s fell out of a window ending at 62 s; the one at
    // 35 s did not.
    let tracker = SenderTracker::new(small());
    for r in 0..6 {
        observe(&tracker, 1, r, spam, 1_000 * r);
    }
    observe(&tracker, 1, 6, spam, 35_000);
    let s = observe(&tracker, 1, 7, spam, 66_000);
    assert_eq!((s.distinct_recipients, s.near_duplicate_fanout), (2, 2));
    assert_eq!(s.messages_in_window, 2);
}

#[test]
fn counts_saturate_at_the_table_sizes() {
    let tracker = SenderTracker::new(small());
    let mut last = SenderSignals::default();
    for r in 0..100 {
        last = observe(&tracker, 3, r, Fingerprint(7), r);
    }
    assert_eq!(last.distinct_recipients, 16);
    assert_eq!(last.near_duplicate_fanout, 16);
    assert_eq!(last.messages_in_window, 100);
}

#[test]
fn observe_and_fingerprint_allocate_nothing_after_construction() {
    let tracker = SenderTracker::new(small());
    let mut folder = Folder::new(512);
    let texts = [
        "buy followers at x.com 1",
        "hey there, how are you doing today?",
        "Ｆück ＴＨＩＳ f.u.c.k 5h1t",
        "",
        "😂😂😂 lol",
    ];
    // Warm-up: one pass, in case folding sizes anything lazily.
    for t in &texts {
        fp(&mut folder, t);
    }
    let before = allocations();
    for i in 0..50_000u64 {
        let f = fp(&mut folder, texts[i as usize % texts.len()]);
        let s = observe(&tracker, i % 3_000, i % 17, f, i * 10);
        assert!(s.messages_in_window >= 1);
    }
    assert_eq!(allocations() - before, 0);
}

#[test]
fn tracker_is_send_and_sync() {
    fn send_sync<T: Send + Sync + std::panic::RefUnwindSafe>() {}
    send_sync::<SenderTracker>();
    send_sync::<Fingerprint>();
    send_sync::<SenderSignals>();
}

/// Replays the simulated stream: a spam sender should reach a near-duplicate fan-out of 3
/// within its first 5 spam recipients; an ordinary sender (no spam line) should never reach
/// it.
#[test]
fn simulated_stream_separates_bot_fanout_from_ordinary_senders() {
    const FANOUT: u32 = 3;
    let stream = common::whisper_stream("whispers/stream.tsv");
    assert!(stream.len() > 2_000, "{} lines", stream.len());
    let spam_senders: HashSet<u64> = stream.iter().filter(|w| w.spam).map(|w| w.sender).collect();
    let tracker = SenderTracker::new(TrackerConfig::default());
    let mut folder = Folder::new(1024);
    // Per spam sender: distinct recipients of its spam so far, and whether it was caught
    // while that number was at most 5.
    let mut spam_recipients: HashMap<u64, HashSet<u64>> = HashMap::new();
    let mut caught: HashSet<u64> = HashSet::new();
    let mut ordinary_flagged: HashSet<u64> = HashSet::new();
    let mut ordinary_senders: HashSet<u64> = HashSet::new();
    let mut ordinary_lines_flagged = 0usize;
    let mut ordinary_lines = 0usize;
    for w in &stream {
        let s = tracker.observe(&SenderObservation {
            sender: w.sender,
            recipient: w.recipient,
            fingerprint: Fingerprint::of_text(&mut folder, w.text.as_bytes()),
            now_ms: w.time_ms,
        });
        if spam_senders.contains(&w.sender) {
            if w.spam {
                let seen = spam_recipients.entry(w.sender).or_default();
                seen.insert(w.recipient);
                if seen.len() <= 5 && s.near_duplicate_fanout >= FANOUT {
                    caught.insert(w.sender);
                }
            }
        } else {
            ordinary_senders.insert(w.sender);
            ordinary_lines += 1;
            if s.near_duplicate_fanout >= FANOUT {
                ordinary_flagged.insert(w.sender);
                ordinary_lines_flagged += 1;
            }
        }
    }
    let bot_share = caught.len() as f64 / spam_senders.len() as f64;
    let ordinary_share = ordinary_flagged.len() as f64 / ordinary_senders.len() as f64;
    eprintln!(
        "spam senders caught within 5 recipients: {}/{} ({:.1}%); ordinary senders reaching \
         fan-out {FANOUT}: {}/{} ({:.2}%), ordinary lines: {}/{} ({:.2}%)",
        caught.len(),
        spam_senders.len(),
        100.0 * bot_share,
        ordinary_flagged.len(),
        ordinary_senders.len(),
        100.0 * ordinary_share,
        ordinary_lines_flagged,
        ordinary_lines,
        100.0 * ordinary_lines_flagged as f64 / ordinary_lines as f64,
    );
    assert!(bot_share >= 0.95, "{bot_share}");
    assert!(ordinary_share <= 0.05, "{ordinary_share}");
}
