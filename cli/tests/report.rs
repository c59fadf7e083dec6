//! `chatguard eval --report`: the HTML page is well-formed (it parses as XML) and has one
//! section with one SVG chart for all categories and for each labelled category.

use assert_cmd::Command;

#[test]
fn the_eval_report_is_well_formed_with_one_chart_per_category() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("chatguard-report-{}.html", std::process::id()));
    let status = Command::cargo_bin("chatguard")
        .unwrap()
        .current_dir(&root)
        .args([
            "eval",
            "--positive",
            "fixtures/evasion-dev/evasion.tsv",
            "--negative",
            "fixtures/evasion-dev/innocent.tsv",
        ])
        .args(["--category-col", "category", "--show", "0", "--report"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("the report is not well-formed: {e}"));
    let sections: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("section"))
        .collect();
    let names: Vec<&str> = sections.iter().filter_map(|s| s.attribute("id")).collect();
    assert_eq!(
        names,
        ["all categories", "profanity", "sexual", "slur", "insult"]
    );
    for s in &sections {
        let charts = s
            .descendants()
            .filter(|n| n.tag_name().name() == "svg")
            .count();
        assert_eq!(charts, 1, "section {:?}", s.attribute("id"));
        let points = s
            .descendants()
            .filter(|n| n.tag_name().name() == "circle")
            .count();
        assert!(points >= 2, "a curve needs points");
    }
    // No external resources: the page works offline.
    for external in ["<script", "src=", "href=", "https://", "@import"] {
        assert!(
            !html.contains(external),
            "the report loads something: {external}"
        );
    }
    std::fs::remove_file(&out).ok();
}
