//! The invariant each fuzz target checks, one function per target. Shared with the main
//! crate's `tests/fuzz_regressions.rs` (included there with `#[path]`), so a committed input
//! is replayed through exactly the checks that found it.
//!
//! Every function takes arbitrary bytes and panics only when chatguard breaks a promise.

use std::sync::OnceLock;

use chatguard::features::schema::FeatureSchema;
use chatguard::fold::{fold as fold_text, Folder};
use chatguard::model::{Limits, Loader, XgboostInput};
use chatguard::{Config, Filter, FilterBuilder, Message, MessageKind, RuleSet, Span};

/// `fold`: the word view is idempotent, every span lies inside the original on character
/// boundaries, and the reusable [`Folder`] agrees with the allocating [`fold_text`].
pub fn fold(data: &[u8]) {
    let boundaries = boundaries(data);

    // Any bytes, through a small reusable folder: spans inside the (possibly cut) input.
    let mut folder = Folder::new(256);
    let views = folder.fold(data);
    for i in 0..views.word().len() {
        check_span(
            views.word_span(i),
            &boundaries,
            data.len(),
            "Folder::word_span",
        );
    }
    // The folder has headroom past 256 bytes; what does not fit is cut and marked.
    let truncated = views.truncated();

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let folded = fold_text(text);
    assert_eq!(folded.word_spans.len(), folded.word.len());
    for span in &folded.word_spans {
        check_span(*span, &boundaries, data.len(), "Folded::word_spans");
    }
    let again = fold_text(&folded.word);
    assert_eq!(
        again.word, folded.word,
        "fold is not idempotent on the word view of {text:?}"
    );
    if !truncated {
        let views = folder.fold(data);
        assert_eq!(
            views.word(),
            folded.word,
            "Folder and fold disagree on {text:?}"
        );
        assert_eq!(views.word_collapsed(), folded.word_collapsed);
        assert_eq!(views.leet(), folded.leet);
        assert_eq!(views.joined(), folded.joined);
    }
}

/// `rules_parse`: parsing never panics, every error has a line and column counting from 1
/// (within the file) and a message; a file that parses builds or is refused, never panics.
pub fn rules_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut rules = RuleSet::new();
    let errors = rules.try_add_file("fuzz.rules", &text);
    let lines = text.split('\n').count();
    for e in &errors {
        assert!(e.line() >= 1, "error without a line: {e}");
        assert!(e.column() >= 1, "error without a column: {e}");
        assert!(
            e.line() as usize <= lines,
            "error on line {} of a {lines}-line file: {e}",
            e.line()
        );
        assert!(!e.message().is_empty(), "error without a message at {e}");
        assert_eq!(e.file(), "fuzz.rules");
    }
    if errors.is_empty() {
        if let Ok(filter) = FilterBuilder::new()
            .rules(rules)
            .config(small_config(512))
            .build()
        {
            let v = filter.check(&Message::new("fuzz the rules, what the f.u.c.k"));
            assert!(v.hits().len() <= 16);
            // The file's own text as a message: its terms, alternatives and masks match it.
            let v = filter.check(&Message::from_bytes(&data[..data.len().min(512)]));
            assert!(v.hits().len() <= 16);
        }
    }
}

/// `model_load`: loading, importing XGBoost JSON and LightGBM text never panic; a model that
/// loads scores a few rows to a probability (or NaN for a NaN input) without panicking.
pub fn model_load(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let mut limits = Limits::default();
    // Small enough that a fuzzer-made file cannot take seconds to compile.
    limits.max_nodes = 1 << 16;
    limits.max_trees = 256;
    let mut loader = Loader::new();
    loader.limits(limits);
    let model = match selector % 3 {
        0 => loader.load_slice("fuzz.json", bytes),
        1 => loader.import_xgboost_json(
            "fuzz.json",
            bytes,
            schema().clone(),
            if selector & 4 == 0 {
                XgboostInput::Sparse
            } else {
                XgboostInput::Dense
            },
        ),
        _ => loader.import_lightgbm_text("fuzz.txt", bytes, schema().clone()),
    };
    match model {
        Ok(model) => {
            let dimension = model.schema().dimension();
            let zeros = vec![0.0_f32; dimension];
            let ones = vec![1.0_f32; dimension];
            for row in [&zeros, &ones] {
                let p = model.predict_proba_dense(row);
                assert!(
                    p.is_nan() || (0.0..=1.0).contains(&p),
                    "probability {p} out of range"
                );
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// `check`: arbitrary rules (or the default filter) and an arbitrary message under a small
/// size limit. Spans lie inside the message on character boundaries, in order; `check_with`
/// equals `check`, also with a scratch space that just checked another message.
///
/// Input: a flag byte (bit 0: default rules; bit 1: whisper; bits 2-3: message limit), then
/// for custom rules the rule file up to the first NUL byte, then the message.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let max_message = [16, 64, 256, 4096][usize::from(flags >> 2) & 3];
    let (filter, message) = if flags & 1 == 1 {
        let filter = default_filter();
        (filter.clone(), rest)
    } else {
        let nul = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let text = String::from_utf8_lossy(&rest[..nul]);
        let mut rules = RuleSet::new();
        if !rules.try_add_file("fuzz.rules", &text).is_empty() {
            return;
        }
        let Ok(filter) = FilterBuilder::new()
            .rules(rules)
            .config(small_config(max_message))
            .build()
        else {
            return;
        };
        (filter, rest.get(nul + 1..).unwrap_or_default())
    };
    let kind = if flags & 2 == 0 {
        MessageKind::Chat
    } else {
        MessageKind::Whisper
    };
    let msg = Message::from_bytes(message).kind(kind);

    let mut scratch = filter.scratch();
    let first = filter.check_with(&mut scratch, &msg).to_owned();
    let owned = filter.check(&msg);
    assert_eq!(first, owned, "check_with and check disagree");
    // The same scratch after another message must give the same verdict (no stale state).
    let _ = filter.check_with(&mut scratch, &Message::new("f.u.c.k ｙｏｕ shiitake 5h1t"));
    let again = filter.check_with(&mut scratch, &msg).to_owned();
    assert_eq!(first, again, "a reused scratch changed the verdict");

    let limit = filter.config().max_message_bytes;
    assert!(
        message.len() <= limit || first.as_verdict().oversized(),
        "a message over the limit is not marked oversized"
    );
    assert!(first.hits().len() <= filter.config().max_hits);
    let boundaries = boundaries(message);
    let mut previous = 0;
    for hit in first.hits() {
        check_span(hit.span, &boundaries, message.len(), "hit");
        assert!(hit.span.start >= previous, "hits out of order");
        previous = hit.span.start;
    }
    if let Ok(text) = std::str::from_utf8(message) {
        let censored = filter.censor(text);
        assert!(censored.len() <= text.len());
    }
    // The models' scores on the hot path (linear models on the unmerged hashed entries) are
    // what each model gives the merged feature row, and every feature is finite.
    let scores = first.scores();
    let row = filter.features_with(&mut scratch, &msg);
    assert!(
        row.dense.iter().all(|v| v.is_finite()),
        "a feature is not finite"
    );
    assert!(
        row.hashed.windows(2).all(|w| w[0].0 < w[1].0),
        "hashed block not sorted"
    );
    for (model, score) in [
        (filter.spam_model(), scores.spam),
        (filter.toxicity_model(), scores.toxicity),
    ] {
        if let (Some(model), Some(score)) = (model, score) {
            let want = model.predict_proba(row);
            assert!(
                (f64::from(score) - want).abs() < 1e-5,
                "hot-path score {score} but the model gives {want}"
            );
        }
    }
}

/// Limits small enough that each fuzz input runs in milliseconds.
fn small_config(max_message_bytes: usize) -> Config {
    let mut config = Config::default();
    config.max_message_bytes = max_message_bytes;
    config.max_hits = 16;
    config.max_rules = 64;
    config.max_rule_bytes = 4096;
    config.max_regex_size = 1 << 16;
    config
}

fn default_filter() -> &'static Filter {
    static FILTER: OnceLock<Filter> = OnceLock::new();
    FILTER.get_or_init(|| Filter::default_english_with_models().expect("default rules and models"))
}

fn schema() -> &'static FeatureSchema {
    static SCHEMA: OnceLock<FeatureSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!("../../fixtures/models/parity/schema.json"))
            .expect("parity schema")
    })
}

/// For each byte offset of `data` (and its end), whether a span may start or end there: at a
/// character of the valid UTF-8 parts, or at any byte of an invalid sequence.
fn boundaries(data: &[u8]) -> Vec<bool> {
    let mut ok = vec![false; data.len() + 1];
    ok[data.len()] = true;
    let mut at = 0;
    for chunk in data.utf8_chunks() {
        for (i, _) in chunk.valid().char_indices() {
            ok[at + i] = true;
        }
        at += chunk.valid().len();
        for i in 0..chunk.invalid().len() {
            ok[at + i] = true;
        }
        at += chunk.invalid().len();
    }
    ok
}

fn check_span(span: Span, boundaries: &[bool], len: usize, what: &str) {
    assert!(
        span.start <= span.end && span.end <= len,
        "{what} span {span:?} outside a {len}-byte input"
    );
    assert!(
        boundaries[span.start] && boundaries[span.end],
        "{what} span {span:?} splits a character"
    );
}
