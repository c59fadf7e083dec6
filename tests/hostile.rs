//! Hostile input: what an attacker can type or a broken tool can write. Each case must finish
//! with bounded work and memory (checked through what the library reports: oversized
//! verdicts, hit spans inside the judged prefix, error kinds and positions) and a clear error
//! where it is refused. Timing belongs to the benches, not here.

use std::io::Write;
use std::path::PathBuf;

use chatguard::model::{ErrorCategory, Limits, Loader};
use chatguard::{Config, ErrorKind, Filter, FilterBuilder, Message, RuleSet};

fn filter() -> Filter {
    Filter::default_english().expect("default rules")
}

/// A filter that judges up to `max` bytes, so that a long message is folded in full.
fn filter_with_max(max: usize) -> Filter {
    let mut config = Config::default();
    config.max_message_bytes = max;
    FilterBuilder::new()
        .default_rules()
        .config(config)
        .build()
        .expect("default rules")
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn one_mib_line_is_judged_on_a_bounded_prefix() {
    let filter = filter();
    let limit = filter.config().max_message_bytes;
    let line = "you absolute fucking clown ".repeat((1 << 20) / 27 + 1);
    assert!(line.len() >= 1 << 20);
    let mut scratch = filter.scratch();
    let verdict = filter.check_with(&mut scratch, &Message::new(&line));
    assert!(verdict.oversized());
    assert!(verdict.flagged());
    assert!(!verdict.hits().is_empty());
    assert!(verdict.hits().len() <= filter.config().max_hits);
    for hit in verdict.hits() {
        assert!(
            hit.span.end <= limit,
            "{:?} past the judged prefix",
            hit.span
        );
    }
    // The allocating convenience call and the reusable folder are bounded the same way.
    assert!(filter.check(&Message::new(&line)).as_verdict().oversized());
    let mut folder = chatguard::fold::Folder::new(limit);
    let views = folder.fold(line.as_bytes());
    assert!(views.truncated());
    assert!(views.word().len() < 4 * limit);
}

#[test]
fn hundred_thousand_combining_marks_on_one_letter() {
    let text = format!("f{}uck off", "\u{0301}".repeat(100_000));
    // Under the default limit: a bounded prefix, marked.
    let filter = filter();
    let verdict = filter.check(&Message::new(&text));
    assert!(verdict.as_verdict().oversized());
    // Judged in full: the marks fold away and the word is found, its span covering them.
    let filter = filter_with_max(1 << 20);
    let mut scratch = filter.scratch();
    let verdict = filter.check_with(&mut scratch, &Message::new(&text));
    assert!(!verdict.oversized());
    assert!(verdict.flagged());
    let hit = verdict.hits()[0];
    assert_eq!(hit.span.start, 0);
    assert_eq!(&text[hit.span.end - 3..hit.span.end], "uck");
    let folded = chatguard::fold::fold(&text);
    assert_eq!(folded.word, "fuck off");
    assert_eq!(folded.stats.marks, 100_000);
}

#[test]
fn ten_thousand_zero_width_characters() {
    let zw = "\u{200b}".repeat(10_000);
    let text = format!("sh{zw}it{zw}");
    let filter = filter_with_max(1 << 16);
    let mut scratch = filter.scratch();
    let verdict = filter.check_with(&mut scratch, &Message::new(&text));
    assert!(!verdict.oversized());
    assert!(verdict.flagged());
    for hit in verdict.hits() {
        assert!(text.is_char_boundary(hit.span.start) && text.is_char_boundary(hit.span.end));
    }
    assert_eq!(chatguard::fold::fold(&text).word, "shit");
    // Only invisibles: nothing to judge, nothing found.
    let verdict = filter.check_with(&mut scratch, &Message::new(&zw));
    assert!(!verdict.flagged());
    assert!(verdict.hits().is_empty());
}

#[test]
fn invalid_utf8_through_the_byte_api() {
    let filter = filter();
    let mut scratch = filter.scratch();
    let text: &[u8] = b"\xff\xfe fuck \xc3\x28 you \xed\xa0\x80 \xf0\x9f\x92 \x80\x80 sh\xc0it";
    let verdict = filter.check_with(&mut scratch, &Message::from_bytes(text));
    assert!(verdict.flagged());
    assert!(verdict
        .hits()
        .iter()
        .any(|h| &text[h.span.range()] == b"fuck"));
    for hit in verdict.hits() {
        assert!(hit.span.end <= text.len());
    }
    // Every byte value, alone and in a run; truncated sequences at the end.
    let all: Vec<u8> = (0..=255u8).collect();
    let _ = filter.check_with(&mut scratch, &Message::from_bytes(&all));
    for b in 0..=255u8 {
        let _ = filter.check_with(&mut scratch, &Message::from_bytes(&[b'a', b, b'b']));
        let _ = filter.check_with(&mut scratch, &Message::from_bytes(&[b]));
    }
    let _ = filter.check_with(&mut scratch, &Message::from_bytes(b"fuck \xf0\x9f"));
    let censored = filter.censor("fuck \u{fffd} you");
    assert!(censored.starts_with("****"));
}

#[test]
fn pathological_regex_is_refused_by_the_size_limit() {
    let mut rules = RuleSet::new();
    rules
        .add_file(
            "evil.rules",
            "[spam]\nregex: /(?:(?:(?:a{100}){100}){100})+/ severity=severe\n",
        )
        .expect("the file parses; the regex is refused when compiled");
    let err = FilterBuilder::new()
        .rules(rules)
        .build()
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("limit") || text.contains("size") || text.contains("too big"),
        "unclear error: {text}"
    );
    if err.kind() == ErrorKind::Rules {
        let e = &err.rule_errors()[0];
        assert_eq!((e.file(), e.line()), ("evil.rules", 2));
        assert!(e.column() >= 1);
    } else {
        assert_eq!(err.kind(), ErrorKind::Limit, "{text}");
    }
}

#[test]
fn hundred_mb_rule_file_is_refused_before_parsing() {
    // In memory: refused from its length, with one error at 1:1 and no rule added.
    let text = "fuck*\n".repeat(100_000_000 / 6);
    let mut rules = RuleSet::new();
    let errors = rules.try_add_file("huge.rules", &text);
    assert_eq!(
        errors.len(),
        1,
        "one error, not one per line: the file was not parsed"
    );
    let e = &errors[0];
    assert_eq!((e.line(), e.column()), (1, 1));
    assert!(e.message().contains("limit"), "{e}");
    assert!(rules.is_empty());

    // On disk: a sparse 100 MB file is refused from its metadata, without being read.
    let dir = tmp("huge-rules");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("huge.rules")).unwrap();
    file.set_len(100_000_000).unwrap();
    let err = RuleSet::from_dir(&dir).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Rules);
    assert!(
        err.rule_errors()[0].message().contains("not parsed"),
        "{err}"
    );

    // A raised RuleSet limit still meets the filter's own limit (Config::max_rule_bytes).
    let mut rules = RuleSet::new();
    rules.set_max_bytes(1 << 30);
    rules.add_file("ok.rules", "[insult]\nnoob*\n").unwrap();
    let mut config = Config::default();
    config.max_rule_bytes = 8;
    let err = FilterBuilder::new()
        .rules(rules)
        .config(config)
        .build()
        .expect_err("over max_rule_bytes");
    assert_eq!(err.kind(), ErrorKind::Limit);
}

/// A model file whose single tree has `nodes` leaves (structurally invalid past the root,
/// but the node count is checked first).
fn tree_model(nodes: usize) -> Vec<u8> {
    let example = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/models/doc_example.json"
    ))
    .unwrap();
    let example: serde_json::Value = serde_json::from_slice(&example).unwrap();
    let mut out = Vec::with_capacity(nodes * 11 + 1024);
    write!(
        out,
        r#"{{"format": "chatguard-model", "format_version": 1, "schema": {}, "schema_fingerprint": {}, "model": {{"tree": {{"nodes": ["#,
        example["schema"], example["schema_fingerprint"]
    )
    .unwrap();
    for i in 0..nodes {
        out.extend_from_slice(if i == 0 {
            b"{\"leaf\":0}"
        } else {
            b",{\"leaf\":0}"
        });
    }
    out.extend_from_slice(b"]}}}");
    out
}

#[test]
fn ten_million_node_model_is_refused_by_limits() {
    // Ten million nodes: refused by the file-size limit before any parsing.
    let bytes = tree_model(10_000_000);
    assert!(bytes.len() > 100_000_000);
    let err = Loader::new()
        .load_slice("huge.json", &bytes)
        .expect_err("refused");
    assert_eq!(err.category(), ErrorCategory::Limit, "{err}");
    drop(bytes);

    // The node limit itself: a file within the size limit, one node too many.
    let mut limits = Limits::default();
    limits.max_nodes = 100_000;
    let bytes = tree_model(100_001);
    let err = Loader::new()
        .limits(limits)
        .load_slice("big.json", &bytes)
        .expect_err("refused");
    assert_eq!(err.category(), ErrorCategory::Limit, "{err}");
    assert!(err.to_string().contains("tree nodes"), "{err}");
    // And at the limit it is the tree's structure, not its size, that is wrong.
    let err = Loader::new()
        .limits(limits)
        .load_slice("big.json", &tree_model(100_000))
        .expect_err("unreachable nodes");
    assert_ne!(err.category(), ErrorCategory::Limit, "{err}");
}

/// The feature extractor and the models on hostile text: a whole 1 MiB message (the limit
/// raised so that nothing is cut), 100,000 marks on one letter and 10,000 zero-width
/// characters. Every feature stays finite, the hashed block stays within its token bound,
/// and the scores are probabilities.
#[test]
fn models_on_a_whole_mebibyte_and_on_marks_and_zero_widths() {
    let mut config = Config::default();
    config.max_message_bytes = 1 << 21;
    // The marks and the zero widths make one word each: score them anyway.
    config.chat.models_min_words = 1;
    let filter = FilterBuilder::new()
        .default_rules()
        .default_models()
        .config(config)
        .build()
        .expect("default rules and models");
    let names = chatguard::features::NAMES;
    let at = |name: &str| names.iter().position(|&n| n == name).unwrap();
    let words = "free robux at www.x.com you absolute clown 12345 ".repeat((1 << 20) / 49 + 1);
    let marks = format!("a{}", "\u{301}".repeat(100_000));
    let zero_widths = format!("f{}ck", "\u{200b}".repeat(10_000));
    let mut scratch = filter.scratch();
    for text in [&words, &marks, &zero_widths] {
        let message = Message::new(text);
        let verdict = filter.check_with(&mut scratch, &message);
        let scores = verdict.scores();
        for score in [scores.spam, scores.toxicity] {
            let score = score.expect("both models score");
            assert!((0.0..=1.0).contains(&score), "{score}");
        }
        let row = filter.features_with(&mut scratch, &message);
        assert!(row.dense.iter().all(|v| v.is_finite()));
        assert!(row.hashed.len() <= chatguard::features::MAX_TOKENS);
    }
    let row = filter.features_with(&mut scratch, &Message::new(&words));
    assert_eq!(row.dense[at("tokens_truncated")], 1.0);
    assert_eq!(row.dense[at("oversized")], 0.0);
    assert!(
        row.dense[at("urls_log")] > 9.0,
        "{}",
        row.dense[at("urls_log")]
    );
}
