//! Data-driven folding cases (`fixtures/fold/cases.tsv`): input → expected view.

mod common;

use chatguard::fold::fold;

#[test]
fn folding_cases() {
    let text = common::read_fixture("fold/cases.tsv");
    let mut failures = Vec::new();
    let mut classes = std::collections::BTreeSet::new();
    let rows = common::rows(&text);
    assert!(
        rows.len() >= 80,
        "expected the full case table, found {} rows",
        rows.len()
    );
    for (line, row) in rows {
        let [class, view, input, expected] = &row[..] else {
            panic!(
                "fold/cases.tsv:{line}: expected 4 tab-separated columns, found {}",
                row.len()
            );
        };
        classes.insert(class.split('-').next().unwrap_or(class).to_owned());
        let f = fold(input);
        let got = match view.as_str() {
            "word" => &f.word,
            "collapsed" => &f.word_collapsed,
            "leet" => &f.leet,
            "joined" => &f.joined,
            other => panic!("fold/cases.tsv:{line}: unknown view {other:?}"),
        };
        if got != expected {
            failures.push(format!("fold/cases.tsv:{line} [{class}] {view}({input:?})\n    expected {expected:?}\n         got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} folding cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for required in [
        "fullwidth",
        "math",
        "enclosed",
        "superscript",
        "ligature",
        "case",
        "cyrillic",
        "greek",
        "cherokee",
        "small",
        "diacritics",
        "combining",
        "zalgo",
        "zero",
        "soft",
        "bom",
        "bidi",
        "leet",
        "repeated",
        "separated",
        "stacked",
    ] {
        assert!(
            classes.contains(required),
            "no folding case for the class {required}"
        );
    }
}

#[test]
fn word_spans_point_into_the_original() {
    let input = "ｆ\u{200b}ü ck";
    let f = fold(input);
    assert_eq!(f.word, "fu ck");
    // The zero-width space belongs to the letter before it, so a hit or a mask covers it.
    assert_eq!(&input[f.word_spans[0].range()], "ｆ\u{200b}");
    assert_eq!(&input[f.word_spans[1].range()], "ü");
    assert_eq!(&input[f.word_spans[3].range()], "c");
}
