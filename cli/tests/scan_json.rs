//! The `scan --json` contract of DESIGN.md: one object per input line, in order, for every
//! line including empty and invalid-UTF-8 ones, with exactly the documented fields.

use assert_cmd::Command;
use serde_json::Value;

mod common;

fn scan(args: &[&str], input: &[u8]) -> Vec<Value> {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    common::chatguard(&all, input)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

#[test]
fn one_object_per_line_with_the_contract_fields() {
    let mut bytes = "gg wp everyone\n\nfuck off\r\nyou b\u{200b}itch\n"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"bad \xFF\xFE line shit\n");
    bytes.extend_from_slice(b"Scunthorpe\n");
    let rows = scan(&["--json"], &bytes);
    assert_eq!(rows.len(), 6, "{rows:#?}");
    for (i, row) in rows.iter().enumerate() {
        common::assert_scan_json_fields(row);
        assert_eq!(row["line"], i + 1);
        let action = row["action"].as_str().unwrap();
        assert!(["allow", "review", "block"].contains(&action));
        assert_eq!(row["flagged"], action != "allow");
        assert!(["none", "mild", "moderate", "severe"].contains(&row["severity"].as_str().unwrap()));
        let score = row["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        for hit in row["hits"].as_array().unwrap() {
            let h = hit.as_object().unwrap();
            let mut keys: Vec<&str> = h.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["category", "end", "rule", "start"]);
            assert!(h["start"].as_u64().unwrap() < h["end"].as_u64().unwrap());
        }
    }
    assert_eq!(rows[0]["action"], "allow");
    assert_eq!(rows[1]["action"], "allow", "empty line");
    assert_eq!(rows[1]["hits"].as_array().unwrap().len(), 0);
    assert_eq!(rows[2]["flagged"], true);
    assert_eq!(rows[2]["hits"][0]["start"], 0);
    assert_eq!(rows[2]["hits"][0]["end"], 4);
    assert!(rows[2]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "profanity"));
    // Offsets are bytes of the original line: the zero-width space is inside the hit.
    assert_eq!(rows[3]["hits"][0]["start"], 4);
    assert_eq!(rows[3]["hits"][0]["end"], 4 + "b\u{200b}itch".len());
    // Invalid UTF-8 is a separator; the offsets still index the original bytes.
    assert_eq!(rows[4]["flagged"], true);
    assert_eq!(
        rows[4]["hits"][0]["start"],
        "bad ".len() + 2 + " line ".len()
    );
    assert_eq!(rows[5]["action"], "allow");
}

#[test]
fn reads_a_file_and_checks_whispers() {
    let dir = std::env::temp_dir().join(format!("chatguard-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("w.rules"),
        "[spam severity=severe scope=whisper]\nfree gold*\n",
    )
    .unwrap();
    let input = dir.join("in.txt");
    std::fs::write(&input, "get free gold now\nhello\n").unwrap();
    let path = input.to_str().unwrap();
    let rules = rules.to_str().unwrap();
    let chat = scan(&["--json", "--rules", rules, path], b"");
    assert_eq!(
        chat[0]["action"], "allow",
        "a whisper-only rule does not apply to chat"
    );
    let whisper = scan(
        &["--json", "--kind", "whisper", "--rules", rules, path],
        b"",
    );
    assert_eq!(whisper[0]["action"], "block");
    assert_eq!(whisper[0]["categories"], serde_json::json!(["spam"]));
    assert_eq!(whisper[0]["hits"][0]["rule"], "free gold*");
    assert_eq!(whisper[1]["action"], "allow");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn text_output_is_readable() {
    let out = Command::cargo_bin("chatguard")
        .unwrap()
        .arg("scan")
        .write_stdin("hello\nthis is shit\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("allow") && lines[0].contains("hello"));
    assert!(
        lines[1].contains("review") && lines[1].contains("⟦shit⟧"),
        "{}",
        lines[1]
    );
}

#[test]
fn a_broken_rules_directory_is_reported_with_a_position() {
    let dir = std::env::temp_dir().join(format!("chatguard-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.rules"), "[profanity]\nf*ck\n").unwrap();
    let out = Command::cargo_bin("chatguard")
        .unwrap()
        .args(["scan", "--rules", dir.to_str().unwrap()])
        .write_stdin("x\n")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.rules:2:2:") && err.contains("wildcard"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
