//! Whisper streams on the command line: `features --whisper-stream` writes the tracker's
//! signals and refuses bad rows with file:line:column.

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
