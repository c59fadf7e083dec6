//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod corpus;
pub mod counting_alloc;
pub mod whispers;

use std::path::PathBuf;

/// The path of a file under `fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// Reads a fixture as text.
pub fn read_fixture(path: &str) -> String {
    let p = fixture(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Decodes the escapes used in case files: `\uXXXX`, `\UXXXXXXXX`, `\xXX` (a code point, not
/// a byte), `\t`, `\n`, `\\`.
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
            let h: String = chars.take(n).collect();
            char::from_u32(
                u32::from_str_radix(&h, 16).unwrap_or_else(|_| panic!("bad escape in {s:?}")),
            )
            .unwrap_or_else(|| panic!("bad code point in {s:?}"))
        };
        match chars.next() {
            Some('u') => out.push(hex(&mut chars, 4)),
            Some('U') => out.push(hex(&mut chars, 8)),
            Some('x') => out.push(hex(&mut chars, 2)),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            other => panic!("unknown escape \\{other:?} in {s:?}"),
        }
    }
    out
}

/// Rows of a tab-separated case file, skipping comments and blank lines, with the 1-based
/// line number.
pub fn rows(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').map(unescape).collect()))
        .collect()
}

/// The rows of a whisper stream fixture (`whispers/…`).
pub fn whisper_stream(path: &str) -> Vec<whispers::Whisper> {
    whispers::parse(path, &read_fixture(path))
}
