//! Replays every committed fuzz input (the seed corpora under `fixtures/fuzz/<target>/` and
//! the crash inputs under `fixtures/fuzz/crashes/<target>/`) through the same checks the fuzz
//! targets run (`fuzz/src/checks.rs`), so a fixed crash stays fixed in a normal `cargo test`.
//!
//! Every crash file has a note on its root cause in [`CRASH_NOTES`]; a crash without a note
//! fails the test.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/checks.rs"]
#[allow(clippy::pedantic)]
mod checks;

/// A fuzz target's checks.
type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("fold", checks::fold),
    ("rules_parse", checks::rules_parse),
    ("model_load", checks::model_load),
    ("check", checks::check),
];

/// `(target, crash file, root cause)` for every file under `fixtures/fuzz/crashes/`.
const CRASH_NOTES: &[(&str, &str, &str)] = &[
    (
        "rules_parse",
        "inner-wildcard-column-multibyte",
        "a `*` inside a term after a leading `*` and a multi-byte letter: the error column was \
         counted by slicing `written` at an offset into `inner` (the term without its leading \
         `*`), which split the character; now counted on `inner` (src/rules/parse.rs)",
    ),
    (
        "rules_parse",
        "inner-wildcard-column-minimal",
        "the same bug, minimised by hand: `*shmÕ*isessy`",
    ),
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz");
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let dir = match kind {
            "seeds" => root.join(target),
            _ => root.join("crashes").join(target),
        };
        for file in files(&dir) {
            let data = std::fs::read(&file).expect("fuzz input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn seed_corpora_pass() {
    assert!(replay("seeds") >= 40, "the seed corpora are committed");
}

#[test]
fn crash_inputs_stay_fixed() {
    replay("crashes");
}

#[test]
fn every_crash_input_has_a_note() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/crashes");
    for (target, _) in TARGETS {
        for file in files(&root.join(target)) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                CRASH_NOTES
                    .iter()
                    .any(|(t, f, note)| t == target && *f == name && !note.is_empty()),
                "{target}/{name} has no root-cause note in CRASH_NOTES"
            );
        }
    }
    for (target, file, _) in CRASH_NOTES {
        assert!(
            root.join(target).join(file).is_file(),
            "CRASH_NOTES names {target}/{file}, which is not committed"
        );
    }
}
