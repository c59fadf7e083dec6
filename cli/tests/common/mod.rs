//! Helpers shared by the command-line tests.
#![allow(dead_code)]

use assert_cmd::Command;

/// Runs `chatguard ARGS` with `input` on stdin, asserts it succeeded, and returns stdout.
pub fn chatguard(args: &[&str], input: &[u8]) -> String {
    let out = Command::cargo_bin("chatguard")
        .unwrap()
        .args(args)
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chatguard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("chatguard prints UTF-8")
}

/// The fields of a `scan --json` line (the contract of DESIGN.md), sorted.
pub const SCAN_JSON_FIELDS: [&str; 7] = [
    "action",
    "categories",
    "flagged",
    "hits",
    "line",
    "score",
    "severity",
];

/// Asserts that a `scan --json` line has exactly the contract's fields.
pub fn assert_scan_json_fields(row: &serde_json::Value) {
    let mut keys: Vec<&str> = row
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, SCAN_JSON_FIELDS, "{row}");
}
