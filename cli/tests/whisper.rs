//! Whisper streams on the command line: `features --whisper-stream` writes the tracker's
//! signals, refuses bad rows with file:line:column, `explain --whisper-stream` prints the
//! path the whisper tree took, and `scan --json --kind whisper` keeps its contract.

use assert_cmd::Command;
use serde_json::Value;

mod common;

use common::chatguard;

const HEADER: &str = "time\tsender\trecipient\taccount_age_days\tfirst_contact\ttext\tlabel\n";

/// A day-old account sending one template to four strangers, and two friends chatting.
fn stream() -> String {
    let mut s = HEADER.to_owned();
    for (i, recipient) in [11, 12, 13, 14].iter().enumerate() {
        s.push_str(&format!(
            "{}\t100001\t{recipient}\t1\t1\they join my guild, we raid every night {i}\tspam\n",
            10 * i
        ));
        s.push_str(&format!(
            "{}\t1\t2\t400\t0\tsee you at 9\tham\n",
            10 * i + 1
        ));
    }
    s
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chatguard-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn features_of_a_whisper_stream_carry_the_tracker_signals() {
    let dir = temp_dir("whisper-features");
    let input = dir.join("stream.tsv");
    std::fs::write(&input, stream()).unwrap();
    let svm = dir.join("stream.svm");
    let texts = dir.join("texts.txt");
    chatguard(
        &[
            "features",
            "--whisper-stream",
            input.to_str().unwrap(),
            "--out",
            svm.to_str().unwrap(),
            "--texts",
            texts.to_str().unwrap(),
        ],
        b"",
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("schema.json")).unwrap()).unwrap();
    let names: Vec<&str> = schema["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let column = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let value = |row: &str, name: &str| -> f32 {
        let j = column(name).to_string();
        row.split(' ')
            .skip(1)
            .find_map(|p| {
                let (i, v) = p.split_once(':')?;
                (i == j).then(|| v.parse().unwrap())
            })
            .unwrap_or(0.0)
    };
    let text = std::fs::read_to_string(&svm).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 8);
    for (i, row) in rows.iter().enumerate() {
        let bot = i % 2 == 0;
        assert!(row.starts_with(if bot { "1 " } else { "0 " }), "{row}");
        assert_eq!(value(row, "kind_whisper"), 1.0);
        assert_eq!(value(row, "tracker_known"), 1.0);
        let n = (i / 2 + 1) as f32;
        if bot {
            // The template reached one more stranger each time.
            assert_eq!(value(row, "tracker_fanout_log"), n.ln_1p(), "{row}");
            assert_eq!(value(row, "tracker_recipients_log"), n.ln_1p());
            assert_eq!(value(row, "sender_first_contact"), 1.0);
            assert_eq!(value(row, "sender_age_days_log"), 1f32.ln_1p());
        } else {
            // The same line to the same friend is one recipient.
            assert_eq!(value(row, "tracker_fanout_log"), 1f32.ln_1p(), "{row}");
            assert_eq!(value(row, "tracker_messages_log"), n.ln_1p());
            assert_eq!(value(row, "sender_first_contact"), -1.0);
        }
    }
    let texts = std::fs::read_to_string(&texts).unwrap();
    assert_eq!(texts.lines().nth(1), Some("see you at 9"));
    std::fs::remove_dir_all(&dir).ok();
}

fn fails(args: &[&str]) -> String {
    let out = Command::cargo_bin("chatguard")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_stream_rows_are_reported_with_a_position() {
    let dir = temp_dir("whisper-bad");
    let input = dir.join("bad.tsv");
    let path = input.to_str().unwrap();
    let svm = dir.join("bad.svm");
    let out = svm.to_str().unwrap();
    let cases = [
        (
            format!("{HEADER}1\t1\t2\t400\t0\thi\tham\n2\t1\tbob\t400\t0\thi\tham\n"),
            format!("{path}:3:5: invalid recipient `bob`; expected a whole number"),
        ),
        (
            format!("{HEADER}5\t1\t2\t400\t0\thi\tham\n2\t1\t3\t400\t0\thi\tham\n"),
            format!(
                "{path}:3:1: time `2` is earlier than the row before; expected rows in time order"
            ),
        ),
        (
            "time\tsender\ttext\tlabel\n".to_owned(),
            format!(
                "{path}:1:1: the header has no `recipient` column; expected a tab-separated header"
            ),
        ),
    ];
    for (content, expected) in cases {
        std::fs::write(&input, content).unwrap();
        let err = fails(&["features", "--whisper-stream", path, "--out", out]);
        assert!(err.contains(&expected), "{err}\nexpected: {expected}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let err = fails(&[
        "features",
        "--whisper-stream",
        "/nonexistent/stream.tsv",
        "--out",
        out,
    ]);
    assert!(err.contains("cannot read /nonexistent/stream.tsv"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explain_prints_the_path_the_whisper_tree_took() {
    let dir = temp_dir("whisper-explain");
    let input = dir.join("stream.tsv");
    std::fs::write(&input, stream()).unwrap();
    let path = input.to_str().unwrap();
    // Line 8 is the bot's fourth whisper: a near-duplicate fan-out of 4 to strangers.
    let out = chatguard(&["explain", "--whisper-stream", path, "--line", "8"], b"");
    assert!(
        out.contains(&format!("whisper:   {path}:8, sender 100001 to 14")),
        "{out}"
    );
    assert!(
        out.contains(
            "tracker:   4 messages to 4 recipients in the window, near-duplicate fan-out 4"
        ),
        "{out}"
    );
    assert!(out.contains("score:     whisper "), "{out}");
    assert!(out.contains("decision tree path:"), "{out}");
    let step = out
        .lines()
        .find(|l| l.trim_start().starts_with("tracker_fanout_log"))
        .unwrap_or_else(|| panic!("no fan-out step in\n{out}"));
    assert!(
        step.contains("1.609438") && step.contains("→ right"),
        "{step}"
    );
    assert!(step.contains("(n = 4.00 >"), "{step}");
    assert!(out.contains("leaf: probability 0.99"), "{out}");
    assert!(out.contains("action:    block"), "{out}");
    // A friend's line: allowed, and the tree says why.
    let out = chatguard(&["explain", "--whisper-stream", path, "--line", "3"], b"");
    assert!(out.contains("decision tree path:"), "{out}");
    assert!(out.contains("action:    allow"), "{out}");
    // A whisper on its own has no tracker signals: the tree does not score it.
    let out = chatguard(&["explain", "--kind", "whisper", "see you at 9"], b"");
    assert!(!out.contains("score:     whisper"), "{out}");
    assert!(
        out.contains("whisper model not scored: the whisper has no sender-tracker signals"),
        "{out}"
    );
    let err = fails(&["explain", "--whisper-stream", path, "--line", "1"]);
    assert!(
        err.contains(&format!("{path}:1: no whisper on this line")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn scan_json_for_whispers_keeps_its_contract_with_the_whisper_model_loaded() {
    let input = "hey join my guild, we raid every night 1\nsee you at 9\nFREE robux at www.free-robux.xyz\n";
    let rows: Vec<Value> = chatguard(&["scan", "--json", "--kind", "whisper"], input.as_bytes())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        common::assert_scan_json_fields(row);
        assert_eq!(row["line"], i + 1);
        assert!((0.0..=1.0).contains(&row["score"].as_f64().unwrap()));
    }
    // Lines are checked one by one, without a sender tracker: the whisper tree does not
    // score them, and ordinary lines are allowed.
    assert_eq!(rows[0]["action"], "allow", "{}", rows[0]);
    assert_eq!(rows[1]["action"], "allow", "{}", rows[1]);
    assert_eq!(rows[2]["categories"], serde_json::json!(["spam"]));
}
