//! The evasion development set (`fixtures/evasion-dev`, copied from `../shared/data`): every
//! evasion line is flagged with its category and no innocent line is flagged. It is a sample
//! of the kinds of evasion, not a target: the generated set below and `chatguard eval` measure
//! more broadly.

mod common;

use chatguard::{Category, Filter, Message};

#[test]
fn every_evasion_line_is_flagged_with_its_category() {
    let filter = Filter::default_english().unwrap();
    let mut scratch = filter.scratch();
    let text = common::read_fixture("evasion-dev/evasion.tsv");
    let mut failures = Vec::new();
    let mut n = 0;
    for (line, row) in common::rows(&text).into_iter().skip(1) {
        let (category, term, transform, message) = (&row[1], &row[2], &row[3], &row[4]);
        let v = filter.check_with(&mut scratch, &Message::new(message));
        let expected = Category::from_name(category)
            .unwrap_or_else(|| panic!("line {line}: unknown category {category}"));
        if !v.flagged() || !v.categories().contains(expected) {
            failures.push(format!(
                "evasion.tsv:{line} [{term} {transform}] {message:?}: {:?} {}",
                v.action(),
                v.categories()
            ));
        }
        n += 1;
    }
    assert_eq!(n, 162);
    assert!(
        failures.is_empty(),
        "{} of {n} evasion lines failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_innocent_line_is_flagged() {
    let filter = Filter::default_english().unwrap();
    let mut scratch = filter.scratch();
    let text = common::read_fixture("evasion-dev/innocent.tsv");
    let mut failures = Vec::new();
    let mut n = 0;
    for (line, row) in common::rows(&text).into_iter().skip(1) {
        let v = filter.check_with(&mut scratch, &Message::new(&row[1]));
        if v.flagged() {
            let rules: Vec<&str> = v
                .hits()
                .iter()
                .map(|h| filter.rule(h.rule).pattern())
                .collect();
            failures.push(format!(
                "innocent.tsv:{line} {:?} flagged by {rules:?}",
                row[1]
            ));
        }
        n += 1;
    }
    assert_eq!(n, 183);
    assert!(
        failures.is_empty(),
        "{} innocent lines flagged:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
