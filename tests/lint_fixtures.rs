//! Broken rule files (`fixtures/lint/*.rules`): each states, in `# expect: LINE:COL: KIND:
//! TEXT` comments, every problem `lint` must report. No other problem may be reported.

mod common;

use chatguard::rules::{lint_files, Date};

#[test]
fn every_broken_rule_file_gets_its_expected_messages() {
    let dir = common::fixture("lint");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let today = Date::from_ymd(2026, 11, 26).unwrap();
    let mut failures = Vec::new();
    let mut files = 0;
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
    {
        files += 1;
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected: Vec<(u32, u32, bool, String)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|e| {
                let mut parts = e.splitn(4, ':');
                let line = parts.next().unwrap().trim().parse().unwrap();
                let column = parts.next().unwrap().trim().parse().unwrap();
                let warning = parts.next().unwrap().trim() == "warning";
                (
                    line,
                    column,
                    warning,
                    parts.next().unwrap().trim().to_owned(),
                )
            })
            .collect();
        assert!(!expected.is_empty(), "{name}: no `# expect:` line");
        let report = lint_files(&[(name.clone(), text)], today);
        let got: Vec<String> = report
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{}:{} {} {}",
                    p.line(),
                    p.column(),
                    if p.is_warning() { "warning" } else { "error" },
                    p.message()
                )
            })
            .collect();
        for (line, column, warning, needle) in &expected {
            let found = report.problems.iter().any(|p| {
                p.line() == *line
                    && p.column() == *column
                    && p.is_warning() == *warning
                    && p.message().contains(needle.as_str())
            });
            if !found {
                failures.push(format!(
                    "{name}: expected {line}:{column} {needle:?}, got {got:?}"
                ));
            }
        }
        if report.problems.len() != expected.len() {
            failures.push(format!(
                "{name}: expected {} problems, got {got:?}",
                expected.len()
            ));
        }
        for p in &report.problems {
            assert!(
                !p.line_text().is_empty(),
                "{name}: a problem without its line: {p}"
            );
            assert!(p.file() == name);
        }
    }
    assert!(files >= 30, "only {files} broken rule files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_default_rules_are_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let report =
        chatguard::rules::lint_dir(dir.join("en"), Date::from_ymd(2026, 11, 26).unwrap()).unwrap();
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(report.problems.is_empty(), "{problems:#?}");
    assert!(report.rules > 1000);
}
