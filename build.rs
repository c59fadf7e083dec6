//! Generates the character folding table (`$OUT_DIR/fold_table.rs`).
//!
//! For every non-ASCII code point the table says what folding does with it:
//!
//! * drop it (invisible: zero-width, soft hyphen, BOM, bidi controls, variation selectors, tags…),
//! * drop it (a combining mark: accents, zalgo stacks, strike-through overlays),
//! * replace it by a string (compatibility forms via NFKD, every TR39 confusable via
//!   `tools/unicode/confusables.txt`, case), recursively until nothing changes, so that folding
//!   is idempotent,
//! * keep it as a letter (alphanumeric) or as a separator (anything else: punctuation, emoji).
//!
//! The ASCII range is handled by a fast path in `src/fold`, so entries only cover U+0080 and up.
//! Lookup is two-level (block index, then a 256-entry block of indices into a table of entries):
//! O(1) and about a few hundred KiB.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

const CONFUSABLES: &str = "tools/unicode/confusables.txt";

const KIND_LETTER: u32 = 0;
const KIND_SEPARATOR: u32 = 1;
const KIND_INVISIBLE: u32 = 2;
const KIND_MARK: u32 = 3;
const KIND_MAP: u32 = 4;

const FLAG_CONFUSABLE: u32 = 1;
const FLAG_COMPAT: u32 = 2;

/// Default_Ignorable_Code_Point (DerivedCoreProperties.txt), plus the Hangul fillers that
/// render as blanks: characters people put between letters because nobody sees them.
const INVISIBLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Enclosed letters that have no compatibility decomposition in UnicodeData but are used as
/// letters all the same: negative circled, negative squared and regional-indicator A–Z.
const LETTER_RUNS: &[(u32, u8)] = &[
    (0x249C, b'a'),
    (0x1F150, b'a'),
    (0x1F170, b'a'),
    (0x1F1E6, b'a'),
];

/// Letters that look like a Latin letter but that TR39 leaves alone or maps to another
/// non-ASCII letter: the small capitals (`ᴀssʜᴏʟᴇ`), and kra, the target of Cyrillic ka.
const LOOKALIKES: &[(char, char)] = &[
    ('ᴀ', 'a'),
    ('ʙ', 'b'),
    ('ᴄ', 'c'),
    ('ᴅ', 'd'),
    ('ᴇ', 'e'),
    ('ꜰ', 'f'),
    ('ɢ', 'g'),
    ('ʜ', 'h'),
    ('ɪ', 'i'),
    ('ᴊ', 'j'),
    ('ᴋ', 'k'),
    ('ʟ', 'l'),
    ('ᴍ', 'm'),
    ('ɴ', 'n'),
    ('ᴏ', 'o'),
    ('ᴘ', 'p'),
    ('ꞯ', 'q'),
    ('ʀ', 'r'),
    ('ꜱ', 's'),
    ('ᴛ', 't'),
    ('ᴜ', 'u'),
    ('ᴠ', 'v'),
    ('ᴡ', 'w'),
    ('ʏ', 'y'),
    ('ᴢ', 'z'),
    ('ĸ', 'k'),
];

fn main() {
    write_default_rules();
    println!("cargo:rerun-if-changed={CONFUSABLES}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(CONFUSABLES)
        .unwrap_or_else(|e| panic!("cannot read {CONFUSABLES}: {e}"));
    let mut confusables = parse_confusables(&text);
    // TR39 prototypes live in "skeleton space", where even some ASCII letters map elsewhere
    // (`m` → `rn`). Folding keeps ASCII as it is, so a prototype equal to the skeleton of an
    // ASCII letter is replaced by that letter: 𝐦 folds to `m`, not `rn`.
    let ascii_skeletons: HashMap<String, char> = ('a'..='z')
        .filter_map(|c| confusables.get(&c).map(|t| (t.clone(), c)))
        .collect();
    for target in confusables.values_mut() {
        if let Some(&c) = ascii_skeletons.get(target.as_str()) {
            *target = c.to_string();
        }
    }
    for &(from, to) in LOOKALIKES {
        confusables.insert(from, to.to_string());
    }
    let mut folder = Folder {
        confusables,
        memo: HashMap::new(),
    };

    let mut entries: Vec<u32> = Vec::new();
    let mut entry_ids: HashMap<u32, u16> = HashMap::new();
    let mut pool = String::new();
    let mut pool_ids: HashMap<String, u32> = HashMap::new();
    let mut blocks: Vec<Vec<u16>> = Vec::new();
    let mut block_ids: HashMap<Vec<u16>, u16> = HashMap::new();
    let mut block_index: Vec<u16> = Vec::new();

    for block in 0..0x1100u32 {
        let mut ids = Vec::with_capacity(256);
        for low in 0..256u32 {
            let cp = (block << 8) | low;
            let entry = match char::from_u32(cp) {
                None => KIND_SEPARATOR << 29,
                Some(c) if c.is_ascii() => KIND_LETTER << 29, // never used: ASCII fast path
                Some(c) => encode(&mut folder, c, &mut pool, &mut pool_ids),
            };
            let next = u16::try_from(entries.len()).expect("fewer than 65536 distinct entries");
            let id = *entry_ids.entry(entry).or_insert_with(|| {
                entries.push(entry);
                next
            });
            ids.push(id);
        }
        let next = u16::try_from(blocks.len()).expect("fewer than 65536 distinct blocks");
        let id = *block_ids.entry(ids.clone()).or_insert_with(|| {
            blocks.push(ids);
            next
        });
        block_index.push(id);
    }

    let mut out = String::new();
    out.push_str(
        "// @generated by build.rs from tools/unicode/confusables.txt (Unicode TR39 17.0.0)\n",
    );
    out.push_str("// and the Unicode data of the unicode-normalization crate. Do not edit.\n\n");
    let _ = writeln!(out, "pub(crate) const KIND_LETTER: u32 = {KIND_LETTER};");
    let _ = writeln!(
        out,
        "pub(crate) const KIND_SEPARATOR: u32 = {KIND_SEPARATOR};"
    );
    let _ = writeln!(
        out,
        "pub(crate) const KIND_INVISIBLE: u32 = {KIND_INVISIBLE};"
    );
    let _ = writeln!(out, "pub(crate) const KIND_MARK: u32 = {KIND_MARK};");
    let _ = writeln!(
        out,
        "#[allow(dead_code)]\npub(crate) const KIND_MAP: u32 = {KIND_MAP};"
    );
    let _ = writeln!(
        out,
        "pub(crate) const FLAG_CONFUSABLE: u32 = {FLAG_CONFUSABLE};"
    );
    let _ = writeln!(out, "pub(crate) const FLAG_COMPAT: u32 = {FLAG_COMPAT};");
    // Escaped to ASCII, so the generated file reads the same in every editor.
    let mut escaped = String::new();
    for c in pool.chars() {
        match c {
            '\\' | '"' => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if c.is_ascii_graphic() || c == ' ' => escaped.push(c),
            c => {
                let _ = write!(escaped, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    let _ = writeln!(out, "pub(crate) static POOL: &str = \"{escaped}\";");
    let _ = write!(
        out,
        "pub(crate) static ENTRIES: [u32; {}] = [",
        entries.len()
    );
    for e in &entries {
        let _ = write!(out, "{e},");
    }
    out.push_str("];\n");
    let _ = write!(
        out,
        "pub(crate) static BLOCK_INDEX: [u16; {}] = [",
        block_index.len()
    );
    for b in &block_index {
        let _ = write!(out, "{b},");
    }
    out.push_str("];\n");
    let _ = write!(
        out,
        "pub(crate) static BLOCKS: [[u16; 256]; {}] = [",
        blocks.len()
    );
    for block in &blocks {
        out.push('[');
        for id in block {
            let _ = write!(out, "{id},");
        }
        out.push_str("],");
    }
    out.push_str("];\n");

    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"))
        .join("fold_table.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}

/// Lists every `rules/en/*.rules` and `rules/lang/*.rules` file for embedding, so that adding
/// a generated file needs no code change.
fn write_default_rules() {
    embed_dir("en", "default_rules.rs", |n| format!("en/{n}"));
    embed_dir("lang", "lang_rules.rs", |n| {
        n.trim_end_matches(".rules").to_owned()
    });
}

fn embed_dir(dir: &str, out_name: &str, key: impl Fn(&str) -> String) {
    println!("cargo:rerun-if-changed=rules/{dir}");
    let mut names: Vec<String> = std::fs::read_dir(format!("rules/{dir}"))
        .unwrap_or_else(|e| panic!("rules/{dir}: {e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".rules"))
        .collect();
    names.sort();
    let mut out =
        format!("// @generated by build.rs: the embedded rule files of rules/{dir}.\n&[\n");
    for n in &names {
        println!("cargo:rerun-if-changed=rules/{dir}/{n}");
        let _ = writeln!(
            out,
            "    ({:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/rules/{dir}/{n}\"))),",
            key(n)
        );
    }
    out.push_str("]\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join(out_name);
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}

fn parse_confusables(text: &str) -> HashMap<char, String> {
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{FEFF}');
        let data = line.split('#').next().unwrap_or("").trim();
        if data.is_empty() {
            continue;
        }
        let mut fields = data.split(';');
        let (Some(source), Some(target)) = (fields.next(), fields.next()) else {
            panic!("{CONFUSABLES}:{}: expected `source ; target ; type`", n + 1);
        };
        let source = parse_cp(source.trim(), n);
        let target: String = target.split_whitespace().map(|t| parse_cp(t, n)).collect();
        map.insert(source, target);
    }
    map
}

fn parse_cp(hex: &str, n: usize) -> char {
    u32::from_str_radix(hex, 16)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or_else(|| panic!("{CONFUSABLES}:{}: bad code point {hex:?}", n + 1))
}

/// What folding does with one character.
#[derive(Clone, PartialEq, Eq)]
enum Fold {
    Invisible,
    Mark,
    /// Replaced by this string of folded characters; flags say why.
    Map(String, u32),
    Letter,
    Separator,
}

struct Folder {
    confusables: HashMap<char, String>,
    memo: HashMap<char, Fold>,
}

impl Folder {
    fn fold(&mut self, c: char) -> Fold {
        if let Some(f) = self.memo.get(&c) {
            return f.clone();
        }
        // Guard against cycles in the data: a character being folded folds to itself.
        self.memo.insert(
            c,
            if c.is_alphanumeric() {
                Fold::Letter
            } else {
                Fold::Separator
            },
        );
        let f = self.fold_uncached(c);
        self.memo.insert(c, f.clone());
        f
    }

    fn fold_uncached(&mut self, c: char) -> Fold {
        let cp = c as u32;
        if INVISIBLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp)) {
            return Fold::Invisible;
        }
        if c.is_ascii() {
            return if c.is_ascii_uppercase() {
                Fold::Map(c.to_ascii_lowercase().to_string(), 0)
            } else if c.is_ascii_alphanumeric() {
                Fold::Letter
            } else {
                Fold::Separator
            };
        }
        if is_combining_mark(c) {
            return Fold::Mark;
        }
        for &(start, first) in LETTER_RUNS {
            if (start..start + 26).contains(&cp) {
                let letter = char::from(first + u8::try_from(cp - start).expect("< 26"));
                return Fold::Map(letter.to_string(), FLAG_COMPAT);
            }
        }
        if c.is_whitespace() {
            return Fold::Map(" ".to_string(), 0);
        }
        // One step, in this order: the compatibility decomposition when it gives plain
        // letters and digits (exact: fullwidth Ｉ is I, 𝐦 is m; NFKD then dropping marks also
        // strips accents); else the TR39 prototype of the character as written (Cyrillic В is
        // B, Cherokee Ꭺ is A; TR39 is defined on the glyph, so before any case change); else
        // any other compatibility decomposition; else lower case.
        let lower: String = c.to_lowercase().collect();
        let mut nfkd = String::new();
        decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                nfkd.push(d);
            }
        });
        let plain = !nfkd.is_empty()
            && nfkd != c.to_string()
            && nfkd.chars().all(|d| d.is_ascii_alphanumeric());
        let (step, flag) = if plain {
            (nfkd, FLAG_COMPAT)
        } else if let Some(proto) = self.confusables.get(&c) {
            (proto.clone(), FLAG_CONFUSABLE)
        } else if !nfkd.is_empty() && nfkd != c.to_string() {
            (nfkd, FLAG_COMPAT)
        } else if lower != c.to_string() {
            (lower, 0)
        } else if c.is_alphanumeric() {
            return Fold::Letter;
        } else {
            return Fold::Separator;
        };
        let mut out = String::new();
        let mut flags = flag;
        for d in step.chars() {
            match self.fold(d) {
                Fold::Invisible | Fold::Mark => {}
                Fold::Map(s, f) => {
                    out.push_str(&s);
                    flags |= f;
                }
                Fold::Letter | Fold::Separator => out.push(d),
            }
        }
        if out == c.to_string() {
            return if c.is_alphanumeric() {
                Fold::Letter
            } else {
                Fold::Separator
            };
        }
        if out.is_empty() {
            // Everything it decomposed to was a mark: it behaves like one.
            return Fold::Mark;
        }
        Fold::Map(out, flags)
    }
}

fn encode(
    folder: &mut Folder,
    c: char,
    pool: &mut String,
    pool_ids: &mut HashMap<String, u32>,
) -> u32 {
    match folder.fold(c) {
        Fold::Letter => KIND_LETTER << 29,
        Fold::Separator => KIND_SEPARATOR << 29,
        Fold::Invisible => KIND_INVISIBLE << 29,
        Fold::Mark => KIND_MARK << 29,
        Fold::Map(s, flags) => {
            let len = u32::try_from(s.len()).expect("short");
            assert!(len < 128, "mapping of {c:?} is too long: {s:?}");
            let offset = *pool_ids.entry(s.clone()).or_insert_with(|| {
                let off = u32::try_from(pool.len()).expect("pool < 4 GiB");
                pool.push_str(&s);
                off
            });
            assert!(offset < (1 << 20), "pool too large");
            (KIND_MAP << 29) | (flags << 27) | (len << 20) | offset
        }
    }
}
