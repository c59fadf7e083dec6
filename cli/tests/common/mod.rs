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
