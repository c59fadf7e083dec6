//! Property tests: invariants of folding and checking over arbitrary input.

use chatguard::fold::fold;
use chatguard::{Filter, FilterBuilder, Message, MessageKind, RuleSet};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Rules of every shape (wildcards, multi-word, leet-written, permitted, regex), added to the
/// default rules by [`filter`], so every matching path is exercised.
const EXTRA_RULES: &str = "[insult severity=mild]\n*noob*\nez*\n*clown\n\"gg ez\" severity=moderate\nb!tch\nallow: noobie\nregex: /k+y+s+/ category=threat severity=severe\nregex: /(?:a|b)+c/ category=spam\n";

/// The default rules plus `extra`.
fn build(extra: &str) -> Filter {
    let mut rules = RuleSet::new();
    rules.add_file("props.rules", extra).unwrap();
    let mut builder = FilterBuilder::new();
    builder.default_rules().rules(rules);
    builder.build().unwrap()
}

/// The default rules plus [`EXTRA_RULES`].
fn filter() -> &'static Filter {
    static FILTER: OnceLock<Filter> = OnceLock::new();
    FILTER.get_or_init(|| build(EXTRA_RULES))
}

/// Strings mixing the characters that matter: ASCII, leet symbols, separators, confusables,
/// fullwidth and mathematical letters, marks, invisibles, emoji and CJK.
fn chat_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "s",
        "h",
        "i",
        "t",
        "f",
        "u",
        "c",
        "k",
        "o",
        "n",
        "g",
        "e",
        "r",
        "b",
        "l",
        "v",
        " ",
        ".",
        "_",
        "-",
        "*",
        "/",
        "!",
        "@",
        "$",
        "1",
        "3",
        "4",
        "5",
        "7",
        "0",
        "9",
        "'",
        "ѕ",
        "һ",
        "і",
        "с",
        "о",
        "ｆ",
        "ｕ",
        "𝐜",
        "𝐤",
        "ʙ",
        "ᴛ",
        "\u{301}",
        "\u{336}",
        "\u{200b}",
        "\u{200d}",
        "\u{feff}",
        "\u{ad}",
        "\u{202e}",
        "🍆",
        "👨\u{200d}👩",
        "こ",
        "世",
        "ß",
        "ǆ",
        "ﬃ",
        "⒡",
        "🅕",
        "🇫",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn folding_is_idempotent(s in chat_text()) {
        let once = fold(&s);
        let twice = fold(&once.word);
        prop_assert_eq!(&twice.word, &once.word);
    }

    #[test]
    fn folding_is_idempotent_on_any_string(s in any::<String>()) {
        let once = fold(&s);
        prop_assert_eq!(fold(&once.word).word, once.word);
    }

    #[test]
    fn word_spans_lie_inside_the_original(s in chat_text()) {
        let f = fold(&s);
        prop_assert_eq!(f.word_spans.len(), f.word.len());
        for span in &f.word_spans {
            prop_assert!(span.start < span.end && span.end <= s.len());
            prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
        }
    }

    #[test]
    fn hit_spans_lie_on_char_boundaries(s in chat_text(), whisper in any::<bool>()) {
        let filter = filter();
        let kind = if whisper { MessageKind::Whisper } else { MessageKind::Chat };
        let mut scratch = filter.scratch();
        let v = filter.check_with(&mut scratch, &Message::new(&s).kind(kind));
        let mut last = 0;
        for h in v.hits() {
            prop_assert!(h.span.start < h.span.end && h.span.end <= s.len());
            prop_assert!(s.is_char_boundary(h.span.start) && s.is_char_boundary(h.span.end), "{:?} in {:?}", h.span, s);
            prop_assert!(h.span.start >= last, "hits are sorted");
            last = h.span.start;
        }
        prop_assert_eq!(v.flagged(), !v.hits().is_empty() || v.hits_dropped() > 0);
    }

    #[test]
    fn check_with_equals_check(s in chat_text()) {
        let filter = filter();
        let mut scratch = filter.scratch();
        // Reuse the same scratch on an unrelated message first: nothing may leak between checks.
        let _ = filter.check_with(&mut scratch, &Message::new("f u c k ѕһіt 5h1t"));
        let with = filter.check_with(&mut scratch, &Message::new(&s)).to_owned();
        prop_assert_eq!(with, filter.check(&Message::new(&s)));
    }

    #[test]
    fn no_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let filter = filter();
        let mut scratch = filter.scratch();
        let v = filter.check_with(&mut scratch, &Message::from_bytes(&bytes));
        for h in v.hits() {
            prop_assert!(h.span.end <= bytes.len());
        }
        let mut out = Vec::new();
        let _ = filter.censor_with(&mut scratch, &Message::from_bytes(&bytes), &mut out);
    }

    #[test]
    fn no_panic_on_arbitrary_strings(s in any::<String>()) {
        let filter = filter();
        let mut scratch = filter.scratch();
        let v = filter.check_with(&mut scratch, &Message::new(&s));
        for h in v.hits() {
            prop_assert!(s.is_char_boundary(h.span.start) && s.is_char_boundary(h.span.end));
        }
    }

    #[test]
    fn censoring_keeps_everything_outside_the_hits(s in chat_text()) {
        let filter = filter();
        let censored = filter.censor(&s);
        let v = filter.check(&Message::new(&s));
        if v.hits().is_empty() {
            prop_assert_eq!(censored, s);
        } else {
            let first = v.hits()[0].span.start;
            prop_assert_eq!(&censored[..first], &s[..first]);
            prop_assert!(censored.contains('*'));
        }
    }

    #[test]
    fn rule_files_never_panic(text in "[\\[\\]a-z*=#\"\\\\/ :,.0-9\n-]{0,200}") {
        let mut rules = RuleSet::new();
        for e in rules.try_add_file("fuzz.rules", &text) {
            prop_assert!(e.line() >= 1 && e.column() >= 1, "{}", e);
        }
        let _ = FilterBuilder::new().rules(rules).build();
    }
}

#[test]
fn oversized_messages_are_judged_on_a_prefix() {
    let filter = filter();
    let mut long = "gg ".repeat(3000);
    long.push_str("fuck");
    let v = filter.check(&Message::new(&long));
    assert!(v.as_verdict().oversized());
    assert!(!v.flagged(), "the term lies past the judged prefix");
    let v = filter.check(&Message::new(&format!("fuck {long}")));
    assert!(v.flagged() && v.as_verdict().oversized());
}

/// The same rules with every regex `R` written `(?:R)|.*qqzzxxjj.*`: the same matches in
/// text without `qqzzxxjj`, but no finite set of literals its matches start or end with, so
/// every regex runs on every message. The oracle for the gate, which runs a regex only when
/// the word view holds its literals.
fn ungated_filter() -> &'static Filter {
    static FILTER: OnceLock<Filter> = OnceLock::new();
    FILTER.get_or_init(|| {
        let ungate = |text: &str| {
            let lines: Vec<String> = text
                .lines()
                .map(|line| match line.split_once("regex: /") {
                    Some((head, rest)) => {
                        let end = rest.rfind('/').expect("a regex ends with a slash");
                        let (pattern, tail) = (&rest[..end], &rest[end + 1..]);
                        format!("{head}regex: /(?:{pattern})|.*qqzzxxjj.*/{tail}")
                    }
                    None => line.to_owned(),
                })
                .collect();
            lines.join("\n")
        };
        let mut rules = RuleSet::new();
        for (name, text) in chatguard::rules::DEFAULT_ENGLISH {
            rules.add_file(name, &ungate(text)).unwrap();
        }
        rules.add_file("props.rules", &ungate(EXTRA_RULES)).unwrap();
        // `.*qqzzxxjj.*` makes a regex's DFA larger than the default limit allows.
        let mut config = chatguard::Config::default();
        config.max_regex_size = 64 << 20;
        let ungated = FilterBuilder::new()
            .config(config)
            .rules(rules)
            .build()
            .unwrap();
        assert!(
            ungated
                .rules()
                .iter()
                .filter(|r| r.pattern().contains("qqzzxxjj"))
                .count()
                >= 3,
            "every regex of the default and extra rules is ungated"
        );
        ungated
    })
}

/// Threats and insults in the shapes of the default regexes, spelled in ways the gate must
/// see through: repeats, `v` for `u`, capitals, leet, separators.
fn threat_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "i",
        "I",
        "ii",
        "ll",
        "'ll",
        "will",
        "wiiill",
        "wi11",
        "i'm",
        "im",
        "gonna",
        "gonnna",
        "am",
        "going",
        "to",
        "kill",
        "kiill",
        "k1ll",
        "kilI",
        "murder",
        "stab",
        "shoot",
        "sh00t",
        "rape",
        "you",
        "yoouu",
        "u",
        "uu",
        "v",
        "your",
        "family",
        "mom",
        "mum",
        "kids",
        "kys",
        "kkyyss",
        "aabc",
        "noob",
        " ",
        "  ",
        ".",
        "!",
        "-",
        "é",
        "ℓ",
        "\u{200b}",
        "you're",
        "YOU",
        "are",
        "r",
        "re",
        "ur",
        "ya",
        "so",
        "such",
        "a",
        "an",
        "fat",
        "trash",
        "traash",
        "tr4sh",
        "garbage",
        "useless",
        "brain",
        "dead",
        "clown",
        "cl0wn",
        "joke",
        "loser",
        "stupid",
        "suck",
        "shut",
        "up",
        "uninstall",
        "pls",
        "go",
        "back",
        "country",
        "nobody",
        "likes",
        "waste",
        "of",
        "space",
    ]);
    prop::collection::vec(pieces, 0..14).prop_map(|p| p.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Regex hits are the same whether or not the plain view is built only when a regex's
    /// literals are in the word view.
    #[test]
    fn the_regex_gate_loses_no_hit(s in prop_oneof![threat_text(), chat_text()], whisper in any::<bool>()) {
        let kind = if whisper { MessageKind::Whisper } else { MessageKind::Chat };
        let message = Message::new(&s).kind(kind);
        // The extra rule comes last, so every other rule keeps its id.
        prop_assert_eq!(filter().check(&message), ungated_filter().check(&message), "{:?}", s);
    }
}
