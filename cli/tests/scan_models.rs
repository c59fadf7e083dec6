//! `scan --json` with the default models: an obvious spam line reports `spam`; scores stay
//! in 0..1; `--no-models` and `--model` choose the models; `schema` and `features` work.

use assert_cmd::Command;
use serde_json::Value;

mod common;

use common::chatguard;

fn scan(args: &[&str], input: &str) -> Vec<Value> {
    chatguard(&[&["scan", "--json"], args].concat(), input.as_bytes())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn has_spam(row: &Value) -> bool {
    row["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "spam")
}

const LINES: &str =
    "FREE ROBUX!!! go to www.free-robux.xyz and claim 10000 robux now\ngg wp everyone\n";

#[test]
fn default_models_report_spam() {
    let rows = scan(&[], LINES);
    assert_eq!(rows.len(), 2);
    assert!(has_spam(&rows[0]), "{}", rows[0]);
    assert_eq!(rows[0]["flagged"], true);
    assert!(!has_spam(&rows[1]), "{}", rows[1]);
    for row in &rows {
        let score = row["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{row}");
    }
    assert!(rows[0]["score"].as_f64().unwrap() > 0.5);
}

#[test]
fn no_models_means_rules_only() {
    let rows = scan(&["--no-models"], LINES);
    assert!(!has_spam(&rows[0]));
    assert_eq!(rows[0]["score"].as_f64().unwrap(), 0.0);
}

#[test]
fn model_flag_loads_a_model_file() {
    let spam = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/spam.json");
    let rows = scan(&["--model", spam], LINES);
    assert!(has_spam(&rows[0]));
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/models/doc_example.json"
    );
    let out = Command::cargo_bin("chatguard")
        .unwrap()
        .args(["scan", "--model", bad])
        .write_stdin("hi\n")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("schema"), "{err}");
}

#[test]
fn schema_and_features_commands() {
    let doc: Value = serde_json::from_str(&chatguard(&["schema"], b"")).unwrap();
    assert_eq!(doc["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(doc["schema"]["names"][0], "len_chars_log");
    let dir = std::env::temp_dir().join(format!("chatguard-features-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.tsv");
    std::fs::write(&input, "spam\tWIN free robux www.x.xyz\nham\tgg wp\n").unwrap();
    let svm = dir.join("out.svm");
    chatguard(
        &[
            "features",
            input.to_str().unwrap(),
            "--out",
            svm.to_str().unwrap(),
        ],
        b"",
    );
    let text = std::fs::read_to_string(&svm).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("1 "));
    assert!(lines[1].starts_with("0 "));
    let mut last = None;
    for pair in lines[0].split(' ').skip(1) {
        let (i, v) = pair.split_once(':').unwrap();
        let i: usize = i.parse().unwrap();
        let v: f32 = v.parse().unwrap();
        assert!(v != 0.0, "zeros are omitted");
        assert_eq!(
            v.to_string(),
            pair.split_once(':').unwrap().1,
            "shortest f32 text"
        );
        assert!(last.is_none_or(|l| l < i), "increasing indices");
        last = Some(i);
    }
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("schema.json")).unwrap()).unwrap();
    assert_eq!(schema, doc["schema"]);
    // Davidson-style CSV with a header.
    let csv = dir.join("in.csv");
    std::fs::write(
        &csv,
        ",count,class,tweet\n0,3,1,\"you are a bitch\"\n1,3,2,\"nice day\"\n",
    )
    .unwrap();
    chatguard(
        &[
            "features",
            csv.to_str().unwrap(),
            "--out",
            svm.to_str().unwrap(),
            "--positive-values",
            "0,1",
        ],
        b"",
    );
    let text = std::fs::read_to_string(&svm).unwrap();
    assert!(text.starts_with("1 "));
    assert!(text.lines().nth(1).unwrap().starts_with("0 "));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_spam_verdict_has_the_severity_of_its_spam_category() {
    let out = assert_cmd::Command::cargo_bin("chatguard")
        .unwrap()
        .args(["scan", "--json"])
        .write_stdin("FREE robux!!! visit www.free-robux.xyz now, follow me\n")
        .output()
        .unwrap();
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["categories"], serde_json::json!(["spam"]));
    assert_eq!(row["action"], "block");
    assert_eq!(row["severity"], "moderate", "{row}");
}
