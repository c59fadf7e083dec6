//! The feature extractor: deterministic, a stable schema, hashing that scikit-learn
//! reproduces from the extractor's tokens, the default models (golden texts re-run through
//! the extractor), and a model for other features refused by the filter builder.

mod common;

use chatguard::decide::ModelScores;
use chatguard::features::{self, NAMES};
use chatguard::model::Loader;
use chatguard::{Category, Filter, FilterBuilder, Message, MessageKind, SenderContext};

/// The fingerprint of schema version 2. A change here means the features changed meaning:
/// bump `features::VERSION` and retrain the default models (`tools/train_default_models.py`).
const FINGERPRINT: &str = "ea260477178af0dd";

#[test]
fn schema_names_and_fingerprint_are_stable() {
    let schema = features::schema();
    assert_eq!(schema.version, features::VERSION);
    assert_eq!(schema.names, NAMES);
    assert_eq!(schema.fingerprint(), FINGERPRINT);
    assert_eq!(schema.hashing.tokenizer, "chatguard-words-v1");
    assert_eq!(schema.dimension(), NAMES.len() + (1 << 16));
}

#[test]
fn features_are_deterministic_and_neutral_without_context() {
    let filter = Filter::default_english().unwrap();
    let lines = [
        "FREE robux!!! visit www.free-robux.xyz",
        "gg wp",
        "",
        "Ｆｕｃｋ 𝐭𝐡𝐢𝐬 😂 @bob",
        "f.u.c.k y.o.u",
    ];
    let mut scratch = filter.scratch();
    for line in lines {
        let owned = filter.features(&Message::new(line));
        let row = filter.features_with(&mut scratch, &Message::new(line));
        assert_eq!(row.dense, owned.named.as_slice(), "{line:?}");
        assert_eq!(row.hashed, owned.hashed.as_slice(), "{line:?}");
        assert_eq!(filter.features(&Message::new(line)), owned, "{line:?}");
        assert!(owned.hashed.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(owned.named.iter().all(|v| v.is_finite()));
        for name in [
            "kind_whisper",
            "sender_age_known",
            "sender_first_contact",
            "sender_verified",
        ] {
            assert_eq!(owned.get(name), Some(0.0), "{name} is neutral when unknown");
        }
    }
    let whisper = Message::new("hi")
        .kind(MessageKind::Whisper)
        .sender(SenderContext {
            account_age_secs: Some(86_400),
            first_contact: Some(true),
            verified: Some(false),
            ..SenderContext::default()
        });
    let f = filter.features(&whisper);
    assert_eq!(f.get("kind_whisper"), Some(1.0));
    assert_eq!(f.get("sender_age_known"), Some(1.0));
    assert_eq!(f.get("sender_age_days_log"), Some(2f32.ln()));
    assert_eq!(f.get("sender_first_contact"), Some(1.0));
    assert_eq!(f.get("sender_verified"), Some(-1.0));
    assert_eq!(f.get("tracker_known"), Some(0.0));
    let tracked = whisper.sender(SenderContext {
        tracker: Some(chatguard::tracker::SenderSignals {
            messages_in_window: 3,
            distinct_recipients: 3,
            near_duplicate_fanout: 2,
            known_for_ms: 60_000,
        }),
        ..*whisper.sender_context()
    });
    let f = filter.features(&tracked);
    assert_eq!(f.get("tracker_known"), Some(1.0));
    assert_eq!(f.get("tracker_messages_log"), Some(4f32.ln()));
    assert_eq!(f.get("tracker_recipients_log"), Some(4f32.ln()));
    assert_eq!(f.get("tracker_fanout_log"), Some(3f32.ln()));
    assert_eq!(f.get("tracker_known_minutes_log"), Some(2f32.ln()));
    assert_eq!(f.get("sender_age_known"), Some(1.0));
    let f = filter.features(&Message::new("f.u.c.k off"));
    assert!(f.get("hits_profanity_log").unwrap() > 0.0);
    assert!(f.get("fold_separators_skipped_log").unwrap() > 0.0);
    assert!(f.get("hit_severity").unwrap() > 0.0);
}

#[derive(serde::Deserialize)]
struct HashingRow {
    text: String,
    tokens: Vec<String>,
    sklearn_hashed: Vec<(u32, f64)>,
}

/// `fixtures/hashing/extractor_sklearn.jsonl` (written by `tools/train_default_models.py`):
/// for each text, the extractor's tokens and scikit-learn's `HashingVectorizer` (analyzer =
/// word unigrams and bigrams, `norm="l2"`, alternate signs, 2^16 columns) over them.
#[test]
fn hashed_block_matches_sklearn_on_the_extractor_tokens() {
    let filter = Filter::default_english().unwrap();
    let text = common::read_fixture("hashing/extractor_sklearn.jsonl");
    let mut n = 0;
    for line in text.lines() {
        let row: HashingRow = serde_json::from_str(line).unwrap();
        let f = filter.features(&Message::new(&row.text));
        assert_eq!(f.tokens, row.tokens, "{:?}", row.text);
        let got: Vec<u32> = f.hashed.iter().map(|e| e.0).collect();
        let want: Vec<u32> = row.sklearn_hashed.iter().map(|e| e.0).collect();
        assert_eq!(got, want, "{:?}", row.text);
        for (g, w) in f.hashed.iter().zip(&row.sklearn_hashed) {
            assert!(
                (f64::from(g.1) - w.1).abs() < 1e-6,
                "{:?}: {g:?} vs {w:?}",
                row.text
            );
        }
        n += 1;
    }
    assert!(n >= 20);
}

#[test]
fn default_models_load_and_their_golden_texts_pass() {
    for (name, bytes) in [
        ("spam", Filter::DEFAULT_SPAM_MODEL),
        ("toxicity", Filter::DEFAULT_TOXICITY_MODEL),
    ] {
        let model = features::loader().load_slice(name, bytes).unwrap();
        let summary = model.golden_summary();
        assert_eq!(summary.skipped, 0, "{name}");
        let texts = model
            .golden_checks()
            .iter()
            .filter(|c| c.text().is_some())
            .count();
        assert!(texts >= 32, "{name}: {texts} golden texts");
        // Features and texts each re-scored.
        assert!(summary.checked > 2 * texts - 1, "{name}: {summary:?}");
        assert!(summary.max_abs_diff < 1e-6, "{name}: {summary:?}");
        assert_eq!(model.schema(), &features::schema());
    }
}

#[test]
fn default_filter_scores_spam_and_toxicity() {
    let filter = Filter::default_english_with_models().unwrap();
    let spam = filter.check(&Message::new(
        "FREE ROBUX!!! go to www.free-robux.xyz and claim 10000 robux now",
    ));
    let s = spam.scores();
    assert!(s.spam.unwrap() > 0.5, "{s:?}");
    assert!(spam.categories().contains(Category::Spam));
    assert!(spam.flagged());
    assert!((spam.score() - s.max()).abs() < f32::EPSILON);
    for clean in ["gg wp everyone", "anyone want to duo?", "brb getting food"] {
        let v = filter.check(&Message::new(clean));
        assert!(
            !v.categories().contains(Category::Spam),
            "{clean}: {:?}",
            v.scores()
        );
        assert!((0.0..=1.0).contains(&v.score()));
    }
    // An empty message is not given to the text models: there is nothing for them to judge.
    let empty = filter.check(&Message::new(""));
    assert_eq!(empty.scores(), ModelScores::default());
    assert!(!empty.flagged());
    let whitespace = filter.check(&Message::new(" "));
    assert_eq!(whitespace.scores(), ModelScores::default());
    assert!(!whitespace.flagged());
    // Nor is a word alone (`Policy::models_min_words`, default 2): the rules judge it.
    for alone in ["nobody", "player", "follow", "ur"] {
        assert_eq!(
            filter.check(&Message::new(alone)).scores(),
            ModelScores::default()
        );
    }
    assert!(filter
        .check(&Message::new("nobody likes you"))
        .scores()
        .toxicity
        .is_some());
    let mut rules = chatguard::RuleSet::default_english().unwrap();
    rules
        .add_file("p.rules", "policy: chat models_min_words=1\n")
        .unwrap();
    let every_line = chatguard::FilterBuilder::new()
        .rules(rules)
        .default_models()
        .build()
        .unwrap();
    let alone = every_line.check(&Message::new("nobody")).scores();
    assert!(alone.spam.is_some() && alone.toxicity.is_some());
    assert_eq!(
        every_line
            .check(&Message::new("nobody").kind(chatguard::MessageKind::Whisper))
            .scores(),
        ModelScores::default(),
        "the chat line's policy leaves whispers at the default"
    );
    let rules_only = Filter::default_english().unwrap();
    let v = rules_only.check(&Message::new("gg"));
    assert_eq!(v.scores(), ModelScores::default());
    assert_eq!(v.score(), 0.0);
}

#[test]
fn explain_shows_the_features_that_mattered() {
    let filter = Filter::default_english_with_models().unwrap();
    let e = filter.explain(&Message::new(
        "check out my channel www.gamer.tv free robux",
    ));
    assert!(e.features.is_some());
    assert!(e.contributions.iter().any(|c| c.model == "spam"));
    assert!(e.reason.contains("spam model score"), "{}", e.reason);
}

#[test]
fn filter_builder_refuses_a_model_for_other_features() {
    let json = common::read_fixture("models/doc_example.json");
    let model = Loader::new()
        .load_slice("doc_example.json", json.as_bytes())
        .unwrap();
    let err = FilterBuilder::new()
        .default_rules()
        .spam_model(model)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("another feature schema"), "{err}");
    assert!(err.contains("names added"), "{err}");
    assert!(err.contains(FINGERPRINT), "{err}");
    // The loader with the extractor's schema refuses it as well.
    let err = features::loader()
        .load_slice("doc_example.json", json.as_bytes())
        .unwrap_err();
    assert_eq!(
        err.category(),
        chatguard::model::ErrorCategory::SchemaMismatch
    );
}

/// `check_with` scores the linear models on the unmerged hashed entries in one pass; that must
/// be what each model gives the merged, normalized row (`Model::predict_proba`), on every line
/// of real corpora (repeated words, digits, disguises, Unicode, long lines).
#[test]
fn hot_path_scores_equal_each_model_on_the_merged_row() {
    let filter = Filter::default_english_with_models().unwrap();
    let (spam, toxicity) = (
        filter.spam_model().unwrap(),
        filter.toxicity_model().unwrap(),
    );
    let mut scratch = filter.scratch();
    let mut rows = filter.scratch();
    let corpus = common::read_fixture("corpora/chat_short.txt");
    let sms = common::read_fixture("corpora/sms_spam_collection/SMSSpamCollection");
    let mut checked = 0;
    for line in corpus.lines().chain(sms.lines()).step_by(3) {
        let message = Message::new(line);
        let scores = filter.check_with(&mut scratch, &message).scores();
        let row = filter.features_with(&mut rows, &message);
        let words = chatguard::fold::fold(line)
            .word_collapsed
            .split(' ')
            .filter(|w| !w.is_empty())
            .count();
        if words < 2 {
            // Too short for the text models (`Policy::models_min_words`).
            assert_eq!((scores.spam, scores.toxicity), (None, None), "{line:?}");
            continue;
        }
        for (model, score) in [(spam, scores.spam), (toxicity, scores.toxicity)] {
            let want = model.predict_proba(row);
            let got = f64::from(score.expect("both models score every line of two words"));
            // The verdict holds an f32; the sums differ only in the order of additions.
            assert!((got - want).abs() < 1e-6, "{line:?}: {got} vs {want}");
        }
        checked += 1;
    }
    assert!(checked > 8_000, "{checked}");
}
