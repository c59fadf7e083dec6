//! The rule language beyond single files: includes, language packs, scope and expiry.

use chatguard::rules::{Date, LANGUAGE_PACKS};
use chatguard::{Action, Filter, FilterBuilder, Message, MessageKind, RuleSet};

/// The default rules and models with a `policy.rules` file holding `policy`.
fn with_models_and_policy(policy: &str) -> Filter {
    let mut rules = RuleSet::default_english().unwrap();
    rules.add_file("policy.rules", policy).unwrap();
    FilterBuilder::new()
        .rules(rules)
        .default_models()
        .build()
        .unwrap()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chatguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_language_pack_builds_and_matches_its_own_terms() {
    assert!(LANGUAGE_PACKS.len() >= 25, "{} packs", LANGUAGE_PACKS.len());
    for (code, _) in LANGUAGE_PACKS {
        let rules = RuleSet::language_pack(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        let filter = FilterBuilder::new()
            .rules(rules)
            .build()
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert!(!filter.rules().is_empty(), "{code}");
    }
    let fr = FilterBuilder::new()
        .rules(RuleSet::language_pack("fr").unwrap())
        .build()
        .unwrap();
    assert!(fr.check(&Message::new("quel connard")).flagged());
    assert!(RuleSet::language_pack("xx").is_err());
}

#[test]
fn includes_load_files_and_packs_once_and_report_missing_ones() {
    let dir = temp_dir("include");
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::write(
        dir.join("main.rules"),
        "include: shared/common.rules\ninclude: lang:de\n[insult]\nnoob\n",
    )
    .unwrap();
    // common includes main back: the cycle is loaded once.
    std::fs::write(
        dir.join("shared/common.rules"),
        "include: ../main.rules\n[insult]\nscrub\n",
    )
    .unwrap();
    let rules = RuleSet::from_dir(&dir).unwrap();
    let filter = FilterBuilder::new().rules(rules).build().unwrap();
    for text in ["noob", "scrub", "du arschloch"] {
        assert!(filter.check(&Message::new(text)).flagged(), "{text}");
    }
    let noob_rules = filter
        .rules()
        .iter()
        .filter(|r| r.pattern() == "noob")
        .count();
    assert_eq!(noob_rules, 1, "main.rules was loaded twice");

    std::fs::write(
        dir.join("main.rules"),
        "[insult]\nnoob\ninclude: missing.rules\n",
    )
    .unwrap();
    let err = RuleSet::from_dir(&dir).unwrap_err();
    let e = &err.rule_errors()[0];
    assert_eq!((e.line(), e.column()), (3, 10));
    assert!(
        e.message().contains("cannot include `missing.rules`"),
        "{e}"
    );

    let mut text_only = RuleSet::new();
    let errors = text_only.try_add_file("t.rules", "include: other.rules\n");
    assert!(
        errors[0].message().contains("no directory"),
        "{}",
        errors[0]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn scope_and_expiry() {
    let mut rules = RuleSet::new();
    rules
        .add_file(
            "t.rules",
            "[spam severity=severe scope=whisper]\nfree gold*\n[insult]\nold* expires=2001-01-01\nnew* expires=2999-01-01\n",
        )
        .unwrap();
    let filter = FilterBuilder::new().rules(rules).build().unwrap();
    let whisper = |t: &str| {
        filter
            .check(&Message::new(t).kind(MessageKind::Whisper))
            .action()
    };
    let chat = |t: &str| filter.check(&Message::new(t)).action();
    assert_eq!(whisper("get free golds here"), Action::Block);
    assert_eq!(chat("get free golds here"), Action::Allow);
    assert_eq!(chat("oldie"), Action::Allow, "an expired rule is ignored");
    assert_eq!(chat("newbie"), Action::Review);
    assert!(Date::from_ymd(2001, 1, 1).unwrap() < Date::today());
}

#[test]
fn policy_and_levels_per_kind() {
    let mut rules = RuleSet::new();
    rules
        .add_file(
            "t.rules",
            "policy: whisper block_at=moderate\nlevel: profanity=0 slur=4\nlevel: chat sexual=1\n\
             [insult severity=moderate]\nnoob\n[profanity severity=severe]\ndarn\n[slur severity=moderate]\nzork\n[sexual severity=moderate]\nlewd\n",
        )
        .unwrap();
    let filter = FilterBuilder::new().rules(rules).build().unwrap();
    let act = |t: &str, k: MessageKind| filter.check(&Message::new(t).kind(k)).action();
    // Default chat policy; whispers block from moderate.
    assert_eq!(act("noob", MessageKind::Chat), Action::Review);
    assert_eq!(act("noob", MessageKind::Whisper), Action::Block);
    // Profanity is off at level 0, even when severe.
    assert_eq!(act("darn", MessageKind::Chat), Action::Allow);
    // Slurs at level 4 block from moderate.
    assert_eq!(act("zork", MessageKind::Chat), Action::Block);
    // Sexual at level 1 in chat: only severe is reviewed; whispers keep their policy.
    assert_eq!(act("lewd", MessageKind::Chat), Action::Allow);
    assert_eq!(act("lewd", MessageKind::Whisper), Action::Block);
    assert_eq!(act("noob darn", MessageKind::Chat), Action::Review);
}

#[test]
fn policy_lines_set_model_thresholds() {
    let spam = "FREE robux!!! visit www.free-robux.xyz now, follow me";
    let default = FilterBuilder::new()
        .default_rules()
        .default_models()
        .build()
        .unwrap();
    assert_eq!(default.check(&Message::new(spam)).action(), Action::Block);

    let relaxed = with_models_and_policy("policy: chat spam_block_at=never spam_review_at=0.99\n");
    let v = relaxed.check(&Message::new(spam));
    assert_eq!(v.action(), Action::Review, "score {}", v.score());
    assert_eq!(
        relaxed
            .check(&Message::new(spam).kind(MessageKind::Whisper))
            .action(),
        Action::Block
    );

    let mut bad = RuleSet::new();
    let errors = bad.try_add_file("p.rules", "policy: spam_review_at=1.5\n");
    assert!(
        errors[0].message().contains("invalid probability `1.5`"),
        "{}",
        errors[0]
    );
}

#[test]
fn policy_lines_set_whisper_model_thresholds() {
    use chatguard::tracker::{SenderTracker, TrackerConfig};
    use chatguard::SenderContext;

    let relaxed =
        with_models_and_policy("policy: whisper whisper_review_at=0.9 whisper_block_at=never\n");
    assert_eq!(relaxed.config().whisper.whisper_review_at, Some(0.9));
    assert_eq!(relaxed.config().whisper.whisper_block_at, None);
    assert_eq!(relaxed.config().chat.whisper_block_at, Some(0.99));
    let default = Filter::default_english_with_models().unwrap();
    // A day-old account sends a harmless line to four strangers: the fourth is a fan-out
    // the default policy blocks and the relaxed one only reviews.
    let fourth = |filter: &Filter| {
        let tracker = SenderTracker::new(TrackerConfig::default());
        let mut scratch = filter.scratch();
        let mut action = Action::Allow;
        for recipient in 1..=4 {
            let message = Message::new("hey! our guild is recruiting, we raid every night at 9")
                .kind(MessageKind::Whisper)
                .sender(SenderContext {
                    account_age_secs: Some(86_400),
                    first_contact: Some(true),
                    sender_id: Some(5),
                    recipient_id: Some(recipient),
                    ..SenderContext::default()
                });
            action = filter
                .check_tracked(&mut scratch, &message, &tracker, recipient * 1_000)
                .action();
        }
        action
    };
    assert_eq!(fourth(&default), Action::Block);
    assert_eq!(fourth(&relaxed), Action::Review);

    let mut bad = RuleSet::new();
    let errors = bad.try_add_file("p.rules", "policy: whisper whisper_reveiw_at=0.5\n");
    assert!(
        errors[0]
            .message()
            .contains("unknown policy key `whisper_reveiw_at`"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].hint(), Some("did you mean `whisper_review_at`?"));
}

#[test]
fn lint_warns_about_whisper_thresholds_on_chat_policy_lines() {
    let files = vec![(
        "p.rules".to_owned(),
        "policy: whisper whisper_block_at=0.9\npolicy: chat spam_review_at=0.6 whisper_block_at=0.8\n"
            .to_owned(),
    )];
    let report = chatguard::rules::lint_files(&files, chatguard::rules::Date::today());
    assert!(report.is_ok());
    let warnings: Vec<_> = report.warnings().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0];
    assert_eq!((w.line(), w.column()), (2, 33));
    assert!(
        w.message()
            .contains("`whisper_block_at` does nothing on a `policy: chat` line"),
        "{w}"
    );
}

/// A term with alternatives is every term it stands for, under one rule, each folded like
/// any term; other words and partial phrases stay clean.
#[test]
fn alternatives_stand_for_every_choice() {
    let mut rules = RuleSet::new();
    rules
        .add_file(
            "alt.rules",
            "[insult severity=mild]\n\"{nobody|no one} likes {you|u}\"\n{you|u} {really |}suck\nallow: {suck it up|suck it}\n",
        )
        .unwrap();
    let filter = FilterBuilder::new().rules(rules).build().unwrap();
    assert_eq!(filter.rules().len(), 3);
    for flagged in [
        "nobody likes you",
        "lol no one likes u",
        "NO ONE LIKES YOU",
        "u suck",
        "you really suck at this",
        "youuu suuuck",
    ] {
        let v = filter.check(&Message::new(flagged));
        assert_eq!(v.action(), Action::Review, "{flagged:?}");
        let rule = filter.rule(v.hits()[0].rule);
        assert!(
            rule.pattern().contains('{'),
            "the rule as written: {}",
            rule.pattern()
        );
    }
    for clean in [
        "nobody likes mondays",
        "you really sucked me in",
        "likes you",
        "you rock",
        "really suck",
    ] {
        assert_eq!(
            filter.check(&Message::new(clean)).action(),
            Action::Allow,
            "{clean:?}"
        );
    }
}

/// `models_min_words` sets the fewest words the text models score, per kind; a value that is
/// not a count is an error at its column.
#[test]
fn policy_sets_the_fewest_words_the_models_score() {
    let mut rules = RuleSet::new();
    rules
        .add_file("p.rules", "policy: whisper models_min_words=5\n")
        .unwrap();
    let filter = FilterBuilder::new().rules(rules).build().unwrap();
    assert_eq!(filter.config().whisper.models_min_words, 5);
    assert_eq!(filter.config().chat.models_min_words, 2);
    let mut bad = RuleSet::new();
    let errors = bad.try_add_file("p.rules", "policy: models_min_words=many\n");
    assert!(
        errors[0].message().contains("invalid word count `many`"),
        "{}",
        errors[0]
    );
    assert_eq!((errors[0].line(), errors[0].column()), (1, 26));
}
