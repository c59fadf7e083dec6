//! The live fold against the frozen oracle in [`super::reference`]: every field of every
//! view (text, every byte's span, run and flags, the word starts, `max_run`, `full`), the
//! stats, `truncated`, `plain_built`, the units and the term forms must be the same, after
//! `fold`, after `fold_for_rules` with and without the fast path, and after `ensure_plain`
//! that follows either; with buffers reused from one message to the next, with buffers
//! small enough that the input does not fit, and with views made small enough to fill.
//! (Units that the live fold leaves to be built when needed are built for the comparison.)

use super::reference;
use super::{FoldBuffers, FoldStats};
use proptest::prelude::*;

#[derive(Debug, PartialEq, Eq)]
struct ViewSnap {
    text: Vec<u8>,
    /// (start, end, run, flags) of each byte.
    meta: Vec<(u32, u32, u8, u8)>,
    words: Vec<u32>,
    max_run: u8,
    full: bool,
}

#[derive(Debug, PartialEq, Eq)]
struct Snap {
    plain: ViewSnap,
    word: ViewSnap,
    leet: ViewSnap,
    joined: ViewSnap,
    stats: FoldStats,
    truncated: bool,
    plain_built: bool,
    /// (char, start, end, class, flags) of each unit.
    units: Vec<(char, u32, u32, u8, u8)>,
}

macro_rules! view_snap {
    ($v:expr) => {{
        let v = &$v;
        ViewSnap {
            text: v.text.clone(),
            meta: v
                .meta
                .iter()
                .map(|m| (m.start, m.end, m.run, m.flags))
                .collect(),
            words: v.words.clone(),
            max_run: v.max_run,
            full: v.full,
        }
    }};
}

macro_rules! snap {
    ($b:expr) => {{
        let b = &$b;
        Snap {
            plain: view_snap!(b.plain),
            word: view_snap!(b.word),
            leet: view_snap!(b.leet),
            joined: view_snap!(b.joined),
            stats: b.stats,
            truncated: b.truncated,
            plain_built: b.plain_built,
            units: b
                .units
                .iter()
                .map(|u| (u.ch, u.start, u.end, u.class, u.flags))
                .collect(),
        }
    }};
}

/// Live and reference buffers of the same size, fed the same calls.
struct Pair {
    live: FoldBuffers,
    oracle: reference::FoldBuffers,
}

impl Pair {
    fn new(max_bytes: usize) -> Pair {
        Pair {
            live: FoldBuffers::new(max_bytes),
            oracle: reference::FoldBuffers::new(max_bytes),
        }
    }

    /// Makes the views of both hold at most `cap` bytes, so that they fill: the buffers
    /// never let that happen (they have room for four bytes a unit), but the code that
    /// stops a view that is full is there all the same, and must stop it where the oracle
    /// does.
    fn shrink_views(&mut self, cap: usize) {
        for v in [
            &mut self.live.plain,
            &mut self.live.word,
            &mut self.live.leet,
            &mut self.live.joined,
        ] {
            v.cap = cap;
        }
        for v in [
            &mut self.oracle.plain,
            &mut self.oracle.word,
            &mut self.oracle.leet,
            &mut self.oracle.joined,
        ] {
            v.cap = cap;
        }
    }

    fn same(&self, what: &str, input: &[u8]) -> Result<(), TestCaseError> {
        // The live fold builds the units of ASCII input only when it needs them: compare
        // the units it would build.
        let mut live = self.live.clone();
        live.ensure_units(input);
        let (live, oracle) = (snap!(live), snap!(self.oracle));
        if live != oracle {
            return Err(TestCaseError::fail(format!(
                "{what} of {:?} ({input:?}):\nlive   {live:?}\noracle {oracle:?}",
                String::from_utf8_lossy(input)
            )));
        }
        Ok(())
    }

    /// Every way the crate folds a message, each compared with the oracle.
    fn check(&mut self, input: &[u8]) -> Result<(), TestCaseError> {
        for try_fast in [false, true] {
            self.live.fold_for_rules(input, try_fast);
            self.oracle.fold_for_rules(input, try_fast);
            self.same(&format!("fold_for_rules(_, {try_fast})"), input)?;
            self.live.ensure_plain(input);
            self.oracle.ensure_plain(input);
            self.same("ensure_plain after it", input)?;
        }
        self.live.fold(input);
        self.oracle.fold(input);
        self.same("fold", input)?;
        prop_assert_eq!(self.live.term_views(), self.oracle.term_views());
        Ok(())
    }
}

/// Checks `input` with buffers sized for it (as `fold::fold` and the term compiler size
/// them), and with `shared`, reused across inputs and possibly too small.
fn check(shared: &mut Pair, input: &[u8]) -> Result<(), TestCaseError> {
    Pair::new(input.len()).check(input)?;
    shared.check(input)
}

/// Pieces of chat text: words, leetspeak, digits, punctuation, separators, repeats.
fn chat_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,8}",
        "[a-z0-9@$!|+(]{1,8}",
        "[0-9]{1,4}",
        "[ .,!?()'`_\\-*~#:;/\"]{1,3}",
        "[a-zA-Z]([ ._\\-*'][a-zA-Z]){1,6}",
        "[a-zA-Z]{1,3}I{1,3}[a-z]{0,3}",
        "(a|s|h|i|t|f|u|c|k|v|l|I|1|0|3|4|5|7|@|\\$|!|\\|){1,6}",
        ("[a-zA-Z0-9!$ .]", 2usize..9).prop_map(|(c, n)| c.repeat(n)),
        "(f+u+c+k+|s+h+i+t+|a+s+s+)",
        "[ \t\n\r\u{0}\u{7f}\u{1b}]{1,2}",
        // Masked words, and words spelled out with mask symbols between their letters.
        "[a-zA-Z0-9@$!]{1,3}[*#]{1,3}[a-zA-Z]{1,4}([*#][a-z!]{1,3})?",
        "[a-z]([*#][a-z]){1,5}",
        "[*#]{1,2}[a-z]{1,4}[*#]{0,2}",
    ]
}

fn chat_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            chat_piece(),
            prop::sample::select(vec!["", " ", "  ", ". ", "!"]),
        ),
        0..14,
    )
    .prop_map(|v| v.into_iter().flat_map(|(a, b)| [a, b.to_owned()]).collect())
}

/// Characters the fold treats specially outside ASCII: confusables (Cyrillic, Greek,
/// Cherokee, small capitals), compatibility forms (fullwidth, mathematical, enclosed,
/// superscript, ligatures, long expansions), marks (accents, zalgo, overlays), invisibles,
/// separators, emoji, CJK, and letters kept as they are.
const UNICODE: &[&str] = &[
    "а",
    "е",
    "о",
    "с",
    "р",
    "х",
    "і",
    "ѕ",
    "һ",
    "ԁ",
    "ο",
    "α",
    "ν",
    "τ",
    "κ",
    "ι",
    "Ꭺ",
    "Ꮪ",
    "ᴀ",
    "ʙ",
    "ᴄ",
    "ᴋ",
    "ꜱ",
    "ᴜ",
    "Ａ",
    "ｆ",
    "ｕ",
    "Ｉ",
    "１",
    "＠",
    "𝐟",
    "𝓯",
    "𝔲",
    "𝟏",
    "ⓕ",
    "🅵",
    "①",
    "ᶠ",
    "ᵘ",
    "ⁱ",
    "ﬃ",
    "ﬁ",
    "ß",
    "ſ",
    "Æ",
    "ŉ",
    "\u{FDFA}",
    "㎏",
    "½",
    "\u{301}",
    "\u{308}",
    "\u{336}",
    "\u{334}",
    "\u{335}",
    "\u{337}",
    "\u{338}",
    "\u{35c}",
    "\u{489}",
    "\u{200B}",
    "\u{200C}",
    "\u{200D}",
    "\u{2060}",
    "\u{FEFF}",
    "\u{AD}",
    "\u{202E}",
    "\u{2066}",
    "\u{180E}",
    "\u{FE0F}",
    "🔥",
    "🍆",
    "👉",
    "💀",
    "世",
    "こ",
    "한",
    "ü",
    "é",
    "ç",
    "ƒ",
    "ñ",
    "Ω",
    "ж",
    "א",
    "ب",
    "\u{3000}",
    "\u{A0}",
    "\u{2028}",
    "…",
    "’",
    "–",
    "\u{FFFD}",
    "\u{10FFFF}",
    "Ⅸ",
    "ǆ",
    "İ",
    "ẞ",
    // Fullwidth asterisk and number sign: mask symbols once folded.
    "＊",
    "＃",
    "ｆ＊ｃｋ",
];

fn unicode_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(UNICODE).prop_map(str::to_owned),
            2 => chat_piece(),
            1 => any::<char>().prop_map(String::from),
        ],
        0..30,
    )
    .prop_map(|v| v.concat())
}

/// Sequences at the edges of UTF-8: overlong forms, surrogates, code points past U+10FFFF,
/// stray and missing continuation bytes (all invalid), and the first and last code points
/// of each length (valid).
const EDGES: &[&[u8]] = &[
    &[0xC3],
    &[0xE2, 0x80],
    &[0xF0, 0x9F, 0x94],
    &[0xFF],
    &[0xFE],
    &[0x80],
    &[0x80, 0x80],
    &[0xBF],
    &[0xC0, 0xAF],
    &[0xC1, 0xBF],
    &[0xE0, 0x80, 0xAF],
    &[0xE0, 0x9F, 0xBF],
    &[0xF0, 0x80, 0x80, 0xAF],
    &[0xF0, 0x8F, 0xBF, 0xBF],
    &[0xED, 0xA0, 0x80],
    &[0xED, 0xBF, 0xBF],
    &[0xF4, 0x90, 0x80, 0x80],
    &[0xF5, 0x80, 0x80, 0x80],
    &[0xF7, 0xBF, 0xBF, 0xBF],
    &[0xF8, 0x88, 0x80, 0x80, 0x80],
    &[0xC2, 0x41],
    &[0xE2, 0x41, 0x80],
    &[0xC2, 0x80],
    &[0xDF, 0xBF],
    &[0xE0, 0xA0, 0x80],
    &[0xED, 0x9F, 0xBF],
    &[0xEE, 0x80, 0x80],
    &[0xEF, 0xBF, 0xBF],
    &[0xF0, 0x90, 0x80, 0x80],
    &[0xF4, 0x8F, 0xBF, 0xBF],
];

/// Bytes that are mostly UTF-8 with broken sequences mixed in.
fn broken_utf8() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => unicode_text().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 1..4),
            3 => prop::sample::select(EDGES).prop_map(<[u8]>::to_vec),
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

/// Sizes of the shared buffers: most inputs fit in the first, some fill the small ones.
fn sizes() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![4096, 64, 16, 1, 0])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn same_as_oracle_on_strings(inputs in prop::collection::vec(any::<String>(), 1..4), size in sizes()) {
        let mut shared = Pair::new(size);
        for s in &inputs {
            check(&mut shared, s.as_bytes())?;
        }
    }

    #[test]
    fn same_as_oracle_on_bytes(inputs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..4), size in sizes()) {
        let mut shared = Pair::new(size);
        for s in &inputs {
            check(&mut shared, s)?;
        }
    }

    #[test]
    fn same_as_oracle_on_chat(inputs in prop::collection::vec(chat_text(), 1..4), size in sizes()) {
        let mut shared = Pair::new(size);
        for s in &inputs {
            check(&mut shared, s.as_bytes())?;
        }
    }

    #[test]
    fn same_as_oracle_on_unicode(inputs in prop::collection::vec(unicode_text(), 1..4), size in sizes()) {
        let mut shared = Pair::new(size);
        for s in &inputs {
            check(&mut shared, s.as_bytes())?;
        }
    }

    #[test]
    fn same_as_oracle_on_broken_utf8(inputs in prop::collection::vec(broken_utf8(), 1..4), size in sizes()) {
        let mut shared = Pair::new(size);
        for s in &inputs {
            check(&mut shared, s)?;
        }
    }

    /// Views that fill up (see [`Pair::shrink_views`]).
    #[test]
    fn same_as_oracle_when_views_fill(
        inputs in prop::collection::vec(prop_oneof![chat_text(), unicode_text()], 1..4),
        cap in 0usize..48,
    ) {
        let mut shared = Pair::new(256);
        shared.shrink_views(cap);
        for s in &inputs {
            shared.check(s.as_bytes())?;
        }
    }

    /// Inputs around the capacity of 64-byte buffers (104 units, 424 view bytes).
    #[test]
    fn same_as_oracle_at_capacity(
        chat in prop::collection::vec(chat_piece(), 10..60),
        uni in prop::collection::vec(prop::sample::select(UNICODE), 10..120),
        ascii_len in 40usize..400,
    ) {
        let mut shared = Pair::new(64);
        let chat: String = chat.concat();
        let uni: String = uni.concat();
        let ascii: String = "ab cd e f g hh 1 x!".chars().cycle().take(ascii_len).collect();
        for s in [&chat, &uni, &ascii] {
            shared.check(s.as_bytes())?;
        }
        // Every length around the limit of ASCII input (105 units), where it starts to be cut.
        for s in [&chat, &ascii] {
            for end in 100..s.len().min(110) {
                shared.check(&s.as_bytes()[..end])?;
            }
        }
    }
}

/// Every line of the corpora and fixtures, with buffers of the filter's default size, of
/// the line's size, and too small for most lines.
#[test]
fn same_as_oracle_on_the_corpora() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // (file, the column that holds the text, 0-based; None for the whole line)
    let files: &[(&str, Option<usize>)] = &[
        ("corpora/chat_short.txt", None),
        ("corpora/sms_spam_collection/SMSSpamCollection", Some(1)),
        ("eval/evasion_generated.tsv", Some(4)),
        ("eval/innocent_scunthorpe.tsv", Some(1)),
        ("evasion-dev/evasion.tsv", Some(4)),
        ("evasion-dev/innocent.tsv", Some(1)),
    ];
    let (mut lines, mut truncated) = (0, 0);
    let mut shared = [Pair::new(4096), Pair::new(64)];
    for (file, column) in files {
        let text = std::fs::read(root.join(file)).unwrap();
        for line in text.split(|&b| b == b'\n') {
            let line = match column {
                None => line,
                Some(k) => match line.split(|&b| b == b'\t').nth(*k) {
                    Some(field) => field,
                    None => continue,
                },
            };
            for pair in &mut shared {
                pair.check(line).unwrap();
                truncated += usize::from(pair.live.truncated);
            }
            Pair::new(line.len()).check(line).unwrap();
            lines += 1;
        }
    }
    assert!(lines > 26_000, "only {lines} lines read");
    assert!(truncated > 500, "only {truncated} lines did not fit");
}
