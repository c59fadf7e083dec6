//! Hot reload under load: two threads check messages while the filter is swapped 100 times.
//! Every message gets a verdict, and every verdict comes from exactly one complete filter.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use chatguard::reload::SharedFilter;
use chatguard::{Filter, FilterBuilder, Message, RuleSet};

/// Filter number `v`: two rules, both in a file named after `v`, so a verdict whose two hits
/// came from different filters would show two file names.
fn version(v: usize) -> Filter {
    let mut rules = RuleSet::new();
    let severity = if v % 2 == 0 { "mild" } else { "severe" };
    rules
        .add_file(
            &format!("v{v}.rules"),
            &format!("[insult severity={severity}]\nalpha*\n*beta\n"),
        )
        .unwrap();
    FilterBuilder::new().rules(rules).build().unwrap()
}

#[test]
fn every_message_is_checked_by_one_complete_filter_while_reloading() {
    let versions: Vec<Filter> = (0..=100).map(version).collect();
    let shared = Arc::new(SharedFilter::new(versions[0].clone()));
    let done = AtomicBool::new(false);
    let checked = AtomicUsize::new(0);
    let sent = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..2 {
            let (shared, done, checked, sent) = (Arc::clone(&shared), &done, &checked, &sent);
            s.spawn(move || {
                let mut scratch = shared.load().scratch();
                let mut seen_versions = std::collections::BTreeSet::new();
                let mut i = 0usize;
                while !done.load(Ordering::Acquire) || i < 1000 {
                    sent.fetch_add(1, Ordering::Relaxed);
                    let filter = shared.load();
                    let (text, hits) = if (i + t) % 2 == 0 {
                        ("alphabet soup and alphabeta", 3)
                    } else {
                        ("the zetabeta alpha", 2)
                    };
                    let v = filter.check_with(&mut scratch, &Message::new(text));
                    assert_eq!(v.hits().len(), hits, "{text:?}: {:?}", v.hits());
                    let files: std::collections::BTreeSet<&str> = v
                        .hits()
                        .iter()
                        .map(|h| filter.rule(h.rule).file())
                        .collect();
                    assert_eq!(files.len(), 1, "a verdict mixes filters: {files:?}");
                    let file = files.into_iter().next().unwrap();
                    let n: usize = file
                        .trim_start_matches('v')
                        .trim_end_matches(".rules")
                        .parse()
                        .unwrap();
                    // The action matches the same filter's severity.
                    let expected = if n % 2 == 0 {
                        chatguard::Action::Review
                    } else {
                        chatguard::Action::Block
                    };
                    assert_eq!(v.action(), expected);
                    seen_versions.insert(n);
                    checked.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                seen_versions.len()
            });
        }
        for filter in versions.iter().skip(1) {
            shared.reload(filter.clone());
            std::thread::yield_now();
        }
        done.store(true, Ordering::Release);
    });
    assert_eq!(shared.generation(), 100);
    assert_eq!(
        checked.load(Ordering::Relaxed),
        sent.load(Ordering::Relaxed),
        "a message got no verdict"
    );
    assert!(checked.load(Ordering::Relaxed) >= 2000);
}

#[cfg(feature = "watch")]
#[test]
fn the_watcher_reloads_good_rules_and_keeps_the_old_filter_on_bad_ones() {
    use chatguard::reload::{ReloadEvent, RulesWatcher};
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = std::env::temp_dir().join(format!("chatguard-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.rules"), "[insult]\nnoob\n").unwrap();
    let shared = Arc::new(SharedFilter::new(
        FilterBuilder::new()
            .rules(RuleSet::from_dir(&dir).unwrap())
            .build()
            .unwrap(),
    ));
    let (tx, rx) = mpsc::channel();
    let watcher = RulesWatcher::spawn(
        &dir,
        Arc::clone(&shared),
        Duration::from_millis(20),
        |rules| FilterBuilder::new().rules(rules).build(),
        move |event| tx.send(event).unwrap(),
    );
    let flagged = |text: &str| shared.load().check(&Message::new(text)).flagged();
    assert!(flagged("noob") && !flagged("scrub"));

    // A good edit is picked up.
    std::fs::write(dir.join("a.rules"), "[insult]\nnoob\nscrub\n").unwrap();
    match rx.recv_timeout(Duration::from_secs(10)).expect("an event") {
        ReloadEvent::Reloaded { generation, rules } => assert_eq!((generation, rules), (1, 2)),
        other => panic!("expected a reload, got {other:?}"),
    }
    assert!(flagged("scrub"));

    // A broken edit is refused with the lint report; the old filter stays.
    std::fs::write(dir.join("a.rules"), "[insult]\nnoob\nscrub\nf*ck\n").unwrap();
    match rx.recv_timeout(Duration::from_secs(10)).expect("an event") {
        ReloadEvent::Rejected { report, .. } => {
            let problem = report.errors().next().expect("an error");
            assert_eq!((problem.line(), problem.column()), (4, 2));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(shared.generation(), 1);
    assert!(flagged("scrub"));
    drop(watcher);
    std::fs::remove_dir_all(&dir).ok();
}
