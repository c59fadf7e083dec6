//! A frozen copy of the fold as it was before it was tuned for speed (commit 70d67d2): the
//! oracle that the property tests in `super::equivalence` compare the live fold against.
//!
//! Why keep it: the live code takes shortcuts (an ASCII path, tables, checks hoisted out of
//! loops) whose only promise is to produce exactly what this straightforward version does,
//! byte for byte and flag for flag, for every input, including the odd corners (invalid
//! UTF-8, inputs that fill the buffers, marks and invisibles between letters). Do not
//! "fix" this copy: a change of behaviour belongs in the live code, with this oracle and
//! its tests updated in the same commit and the reason given there. (The only edits are the
//! visibility of `units` and `View::cap`, which the tests read and set, and two changes of
//! behaviour: masked words, `f*ck`, `sh#t`, kept whole in the leet view with each mask
//! symbol written `*` (see [`masked_end`]); and the plain words up to four words from a
//! disguised one in the leet view, so that `k1ll yourself` matches `kill yourself`.)
#![allow(dead_code)] // a verbatim copy: not every helper is needed by the tests

use super::{table, FoldStats};
use crate::verdict::Span;

/// Unit classes.
pub(crate) const ALPHA: u8 = 0;
pub(crate) const DIGIT: u8 = 1;
/// ASCII punctuation that leetspeak uses as a letter (`@ $ ! | + (`).
pub(crate) const SYM: u8 = 2;
pub(crate) const SEP: u8 = 3;
/// An apostrophe: a separator that never lets single letters around it be joined (`I'm a`).
pub(crate) const APOS: u8 = 4;

/// Unit flags.
const U_CONFUSABLE: u8 = 1;
const U_COMPAT: u8 = 2;
/// Something invisible or a combining mark was dropped right before this unit.
const U_AFTER_DROP: u8 = 4;
/// An ASCII capital `I` after a lower-case letter of the same word: TR39's confusable for `l`
/// (`buIIshit`), counted as a disguise.
const U_CAPITAL_I: u8 = 8;

/// View byte flags.
pub(crate) const TOKEN_START: u8 = 1;
pub(crate) const TOKEN_END: u8 = 2;
/// A leetspeak substitution or a confusable was undone here.
pub(crate) const STRONG: u8 = 4;
/// The original was disguised here (confusable, compatibility form, invisible or mark).
pub(crate) const DISGUISE: u8 = 8;

/// Most separator *runs* (a run is one separator character, repeated) allowed between two
/// single letters that are joined: `f . u` has three (space, dot, space), `f👉👉👉u` one.
const MAX_JOIN_GAP: u32 = 4;
/// Most separator units between two single letters that are joined, whatever they are.
const MAX_JOIN_UNITS: u32 = 32;

/// Classes of the ASCII characters, lower-case letters already applied.
const fn ascii_class(b: u8) -> u8 {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => ALPHA,
        b'0'..=b'9' => DIGIT,
        b'@' | b'$' | b'!' | b'|' | b'+' | b'(' => SYM,
        b'\'' | b'`' => APOS,
        _ => SEP,
    }
}

/// The canonical letter of a unit in the leet and joined views, and whether getting there
/// undid a substitution (as opposed to merging two real letters, `l`→`i`).
#[inline]
fn canonical(ch: char) -> (char, bool) {
    match ch {
        '4' | '@' => ('a', true),
        '8' => ('b', true),
        '(' => ('c', true),
        '3' => ('e', true),
        '6' | '9' => ('g', true),
        '1' | '!' | '|' => ('i', true),
        'l' => ('i', false),
        '0' => ('o', true),
        '5' | '$' => ('s', true),
        '7' | '+' => ('t', true),
        'v' => ('u', true),
        c => (c, false),
    }
}

#[inline]
fn entry(c: char) -> u32 {
    let cp = c as usize;
    let block = table::BLOCK_INDEX.get(cp >> 8).copied().unwrap_or(0);
    table::ENTRIES[usize::from(table::BLOCKS[usize::from(block)][cp & 0xFF])]
}

#[inline]
fn mapped(e: u32) -> &'static str {
    let len = ((e >> 20) & 0x7F) as usize;
    let off = (e & 0xF_FFFF) as usize;
    &table::POOL[off..off + len]
}

/// One folded character and where it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unit {
    pub ch: char,
    pub start: u32,
    pub end: u32,
    pub class: u8,
    pub flags: u8,
}

/// A word of the message, in units, after trimming punctuation that only ends a sentence.
#[derive(Clone, Copy, Debug)]
struct Token {
    first: u32,
    end: u32,
    /// Separator runs (see [`MAX_JOIN_GAP`]) between the previous token and this one.
    gap: u32,
    /// Separator units between the previous token and this one.
    gap_units: u32,
    /// Whether that separator holds an apostrophe.
    apostrophe: bool,
    /// A signature of that separator (its runs' characters): letters spelled out with one
    /// separator (`t-w-a-t`) stop being joined where another one starts (`t-w-a-t t-w-a-t`).
    sig: u32,
    /// Whether the token holds a digit, a symbol, a confusable or a capital I after a
    /// lower-case letter: something the leet view could undo.
    leetish: bool,
}

/// What a view knows of one of its bytes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Meta {
    /// Original span of the run of units this byte stands for.
    pub start: u32,
    pub end: u32,
    /// How many times the character was repeated (collapsed views), at most 255.
    pub run: u8,
    pub flags: u8,
}

/// One searchable view: bytes of folded text, and for each byte its run length, original
/// span and flags. Two arrays rather than one so that the automata scan plain bytes.
#[derive(Clone, Debug, Default)]
pub(crate) struct View {
    pub text: Vec<u8>,
    pub meta: Vec<Meta>,
    collapse: bool,
    last: Option<char>,
    last_len: usize,
    pub(super) cap: usize,
    pub full: bool,
    /// The longest run of one character collapsed into a byte (1 when none was).
    pub max_run: u8,
    /// Where each word starts (byte index), with [`WORD_HAS_RUN`] set when a character of
    /// it was repeated; kept only by views made with [`with_words`](Self::with_words), so
    /// that the features read the words without scanning for spaces.
    pub words: Vec<u32>,
}

/// In [`View::words`]: a character of the word was collapsed from a run.
pub(crate) const WORD_HAS_RUN: u32 = 1 << 31;

impl View {
    fn with_capacity(cap: usize, collapse: bool) -> View {
        View {
            text: Vec::with_capacity(cap),
            meta: Vec::with_capacity(cap),
            collapse,
            last: None,
            last_len: 0,
            cap,
            full: false,
            max_run: 1,
            words: Vec::new(),
        }
    }

    /// A view that also records where its words start ([`View::words`]).
    fn with_words(cap: usize, collapse: bool) -> View {
        View {
            // Words are at least one byte and one space apart.
            words: Vec::with_capacity(cap / 2 + 2),
            ..View::with_capacity(cap, collapse)
        }
    }

    fn clear(&mut self) {
        self.text.clear();
        self.meta.clear();
        self.last = None;
        self.last_len = 0;
        self.full = false;
        self.max_run = 1;
        self.words.clear();
    }

    #[allow(clippy::inline_always)] // measured: 20% of folding time when not inlined
    #[inline(always)]
    fn push_char<const WORDS: bool>(&mut self, c: char, start: u32, end: u32, flags: u8) {
        if self.full {
            return;
        }
        let n = self.text.len();
        if self.collapse && self.last == Some(c) {
            for m in &mut self.meta[n - self.last_len..n] {
                m.run = m.run.saturating_add(1);
                m.end = end;
                m.flags |= flags;
            }
            self.max_run = self.max_run.max(self.meta[n - 1].run);
            if WORDS {
                if let Some(w) = self.words.last_mut() {
                    *w |= WORD_HAS_RUN;
                }
            }
            return;
        }
        let first = if self.last.is_none() { TOKEN_START } else { 0 };
        if WORDS && first != 0 && self.words.len() < self.words.capacity() {
            // Room is checked below; a word that does not fit is not kept in the text either.
            if n + c.len_utf8() < self.cap {
                #[allow(clippy::cast_possible_truncation)]
                self.words.push(n as u32);
            }
        }
        self.last = Some(c);
        if c.is_ascii() {
            if n + 2 > self.cap {
                self.full = true;
                return;
            }
            self.text.push(c as u8);
            self.meta.push(Meta {
                start,
                end,
                run: 1,
                flags: flags | first,
            });
            self.last_len = 1;
            return;
        }
        let mut buf = [0u8; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        if n + bytes.len() + 1 > self.cap {
            self.full = true;
            return;
        }
        for (k, &b) in bytes.iter().enumerate() {
            self.text.push(b);
            self.meta.push(Meta {
                start,
                end,
                run: 1,
                flags: flags | if k == 0 { first } else { 0 },
            });
        }
        self.last_len = bytes.len();
    }

    #[allow(clippy::inline_always)] // see push_char
    #[inline(always)]
    fn push_sep(&mut self, start: u32, end: u32) {
        if self.last.is_none() || self.full {
            return;
        }
        if let Some(m) = self.meta.last_mut() {
            m.flags |= TOKEN_END;
        }
        self.text.push(b' ');
        self.meta.push(Meta {
            start,
            end,
            run: 1,
            flags: 0,
        });
        self.last = None;
    }

    fn finish(&mut self) {
        if self.last.is_some() {
            if let Some(m) = self.meta.last_mut() {
                m.flags |= TOKEN_END;
            }
        } else if self.text.last() == Some(&b' ') {
            self.text.pop();
            self.meta.pop();
        }
    }

    /// The original span of view bytes `s..e`.
    #[inline]
    pub fn span(&self, s: usize, e: usize) -> Span {
        Span {
            start: self.meta[s].start as usize,
            end: self.meta[e - 1].end as usize,
        }
    }

    /// The text with runs collapsed (what the automata search).
    pub fn as_str(&self) -> &str {
        // Built only from `char`s and ASCII spaces, so it is always valid UTF-8.
        std::str::from_utf8(&self.text).unwrap_or("")
    }

    /// The run length of each byte.
    pub fn runs(&self) -> Vec<u8> {
        self.meta.iter().map(|m| m.run).collect()
    }
}

/// The reusable buffers folding writes into. Sized once; never grows.
#[derive(Clone, Debug)]
pub(crate) struct FoldBuffers {
    pub(super) units: Vec<Unit>,
    tokens: Vec<Token>,
    unit_cap: usize,
    /// The word view, uncollapsed: what regexes search and what explanations show.
    pub plain: View,
    pub word: View,
    pub leet: View,
    pub joined: View,
    pub stats: FoldStats,
    /// The input did not fit in the buffers and was folded only in part.
    pub truncated: bool,
    /// Whether the plain view was built for the last input.
    pub plain_built: bool,
    /// Whether the last input went through the general path (so its units are kept).
    general: bool,
}

impl FoldBuffers {
    /// Buffers for inputs of up to `max_bytes` bytes.
    pub fn new(max_bytes: usize) -> FoldBuffers {
        // Compatibility forms can expand (ﬃ → ffi), so leave room; past it, fold a prefix.
        let unit_cap = max_bytes + max_bytes / 2 + 16;
        let view_cap = unit_cap * 4 + 8;
        FoldBuffers {
            units: Vec::with_capacity(unit_cap),
            tokens: Vec::with_capacity(unit_cap),
            unit_cap,
            plain: View::with_capacity(view_cap, false),
            word: View::with_words(view_cap, true),
            leet: View::with_capacity(view_cap, true),
            joined: View::with_capacity(view_cap, true),
            stats: FoldStats::default(),
            truncated: false,
            plain_built: false,
            general: false,
        }
    }

    /// Folds `input` into every view, by the general path (terms and tools read its units).
    pub fn fold(&mut self, input: &[u8]) {
        self.reset();
        self.fold_general(input);
        self.ensure_plain(input);
    }

    fn reset(&mut self) {
        self.stats = FoldStats::default();
        self.truncated = false;
        self.plain_built = false;
        self.general = false;
        self.plain.clear();
        self.leet.clear();
        self.joined.clear();
        self.tokens.clear();
    }

    /// Folds `input` into the views the matcher searches. The plain view (repeats kept) is
    /// built only when `plain` is set (regex rules and explanations need it); the leet and
    /// joined views only when the text holds something they could undo, which spares the
    /// common clean line two passes.
    #[cfg(test)]
    pub fn fold_views(&mut self, input: &[u8], plain: bool) {
        self.fold_for_rules(input, !plain);
        if plain {
            self.ensure_plain(input);
        }
    }

    /// Folds `input` into the views the matcher searches first, without the plain view
    /// (see [`ensure_plain`](Self::ensure_plain)). The fast path is tried only when
    /// `try_fast` is set.
    pub fn fold_for_rules(&mut self, input: &[u8], try_fast: bool) {
        self.reset();
        if try_fast && self.fold_simple(input) {
            return;
        }
        self.fold_general(input);
    }

    /// Builds the plain view of `input`, the last input folded, if it is not built yet.
    pub fn ensure_plain(&mut self, input: &[u8]) {
        if self.plain_built {
            return;
        }
        if !self.general {
            // The fast path kept no units: fold again by the general path.
            self.reset();
            self.fold_general(input);
        }
        self.plain.clear();
        for u in &self.units {
            if u.class == ALPHA || u.class == DIGIT {
                let flags = if u.flags != 0 { DISGUISE } else { 0 };
                self.plain.push_char::<false>(u.ch, u.start, u.end, flags);
            } else {
                self.plain.push_sep(u.start, u.end);
            }
        }
        self.plain.finish();
        self.plain_built = true;
        self.truncated |= self.plain.full;
    }

    /// The general path: every character decoded into units, then the views the matcher
    /// always searches built from them (the plain view is [`ensure_plain`](Self::ensure_plain)'s).
    fn fold_general(&mut self, input: &[u8]) {
        self.general = true;
        self.decode(input);
        self.build_word_view();
        // Leetspeak needs a digit, a symbol, a `v`, a confusable or a capital I inside a word;
        // joining needs at least three letters standing alone.
        let mut leet = false;
        let mut singles = 0u32;
        let mut run = 0u32;
        for u in &self.units {
            leet |= matches!(u.class, DIGIT | SYM)
                || u.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0
                || is_mask(u);
            if matches!(u.class, ALPHA | DIGIT | SYM) {
                run += 1;
            } else {
                singles += u32::from(run == 1);
                run = 0;
            }
        }
        singles += u32::from(run == 1);
        if leet || singles >= 3 {
            self.tokenize();
        }
        if leet {
            self.build_leet_view();
        }
        if singles >= 3 {
            self.build_joined_view();
        }
        self.truncated |= self.plain.full || self.word.full || self.leet.full || self.joined.full;
    }

    /// The fast path for plain text: the word view straight from the text, with no units.
    /// It takes ASCII letters and digits, whole numbers, sentence punctuation, and any
    /// character the table keeps as it is (emoji, CJK, other scripts' letters). Returns
    /// `false` (having built nothing that counts) when the text holds anything folding must
    /// undo or that the leet or joined view could need; the general path then starts over.
    fn fold_simple(&mut self, input: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(input) else {
            return false;
        };
        if input.len() + 2 > self.word.cap {
            return false;
        }
        self.word.clear();
        self.plain.clear();
        let (mut len, mut singles) = (0u32, 0u32);
        let (mut has_alpha, mut has_digit) = (false, false);
        let mut prev_lower = false;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let at = i as u32;
            let end = at + c.len_utf8() as u32;
            let class = if c.is_ascii() {
                ascii_class(c as u8)
            } else {
                match entry(c) >> 29 {
                    table::KIND_LETTER => ALPHA,
                    table::KIND_SEPARATOR => SEP,
                    _ => return false,
                }
            };
            match class {
                ALPHA | DIGIT => {
                    if c == 'I' && prev_lower {
                        return false;
                    }
                    has_alpha |= class == ALPHA;
                    has_digit |= class == DIGIT;
                    self.word
                        .push_char::<true>(word_letter(c.to_ascii_lowercase()), at, end, 0);
                    len += 1;
                }
                SYM => {
                    // Sentence punctuation at the edge of a word is a separator; any other
                    // symbol may be leetspeak, which the general path handles.
                    if !punctuates(c) {
                        return false;
                    }
                    while let Some(&(_, d)) = chars.peek() {
                        if !d.is_ascii() || ascii_class(d as u8) != SYM {
                            break;
                        }
                        if !punctuates(d) {
                            return false;
                        }
                        chars.next();
                    }
                    let next_is_word = chars.peek().is_some_and(|&(_, d)| d.is_alphanumeric());
                    if len > 0 && next_is_word {
                        return false;
                    }
                    if !end_token(&mut len, &mut singles, &mut has_alpha, &mut has_digit) {
                        return false;
                    }
                    // The separator spans the first mark, as the general path's does.
                    self.word.push_sep(at, end);
                }
                _ => {
                    // A mask symbol may hide a letter of a word, which the leet view shows.
                    if matches!(c, '*' | '#')
                        || !end_token(&mut len, &mut singles, &mut has_alpha, &mut has_digit)
                    {
                        return false;
                    }
                    self.word.push_sep(at, end);
                }
            }
            prev_lower = c.is_ascii_lowercase();
        }
        if !end_token(&mut len, &mut singles, &mut has_alpha, &mut has_digit) || singles >= 3 {
            return false;
        }
        self.word.finish();
        self.plain.clear();
        self.units.clear();
        self.stats.chars = text.chars().count() as u32;
        true
    }

    fn decode(&mut self, input: &[u8]) {
        self.units.clear();
        let mut offset = 0usize;
        let mut dropped = false;
        for chunk in input.utf8_chunks() {
            let valid = chunk.valid();
            let bytes = valid.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if self.units.len() + 8 > self.unit_cap {
                    self.truncated = true;
                    return;
                }
                let b = bytes[i];
                let start = u32::try_from(offset + i).unwrap_or(u32::MAX);
                if b.is_ascii() && !dropped {
                    // ASCII fast path: the whole run of ASCII bytes in one extend.
                    let run = bytes[i..]
                        .iter()
                        .position(|c| !c.is_ascii())
                        .unwrap_or(bytes.len() - i);
                    let run = run
                        .min(self.unit_cap.saturating_sub(self.units.len() + 8))
                        .max(1);
                    let prev = if i > 0 { bytes[i - 1] } else { 0 };
                    self.units
                        .extend(bytes[i..i + run].iter().enumerate().map(|(k, &c)| {
                            let before = if k > 0 { bytes[i + k - 1] } else { prev };
                            let flags = if c == b'I' && before.is_ascii_lowercase() {
                                U_CAPITAL_I
                            } else {
                                0
                            };
                            let at = start + k as u32;
                            Unit {
                                ch: char::from(c.to_ascii_lowercase()),
                                start: at,
                                end: at + 1,
                                class: ascii_class(c),
                                flags,
                            }
                        }));
                    self.stats.chars += run as u32;
                    i += run;
                    continue;
                }
                if b.is_ascii() {
                    // ASCII fast path.
                    self.stats.chars += 1;
                    let mut flags = if dropped { U_AFTER_DROP } else { 0 };
                    if b == b'I' && i > 0 && bytes[i - 1].is_ascii_lowercase() {
                        flags |= U_CAPITAL_I;
                    }
                    self.units.push(Unit {
                        ch: char::from(b.to_ascii_lowercase()),
                        start,
                        end: start + 1,
                        class: ascii_class(b),
                        flags,
                    });
                    dropped = false;
                    i += 1;
                    continue;
                }
                let c = valid[i..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                let len = c.len_utf8();
                let end = start + u32::try_from(len).unwrap_or(4);
                dropped = self.push_non_ascii(c, start, end, dropped);
                i += len;
            }
            offset += bytes.len();
            let invalid = chunk.invalid();
            if !invalid.is_empty() {
                if self.units.len() + 8 > self.unit_cap {
                    self.truncated = true;
                    return;
                }
                let start = u32::try_from(offset).unwrap_or(u32::MAX);
                let end = u32::try_from(offset + invalid.len()).unwrap_or(u32::MAX);
                self.units.push(Unit {
                    ch: char::REPLACEMENT_CHARACTER,
                    start,
                    end,
                    class: SEP,
                    flags: 0,
                });
                self.stats.chars += 1;
                self.stats.invalid_utf8 += 1;
                offset += invalid.len();
            }
        }
    }

    /// A dropped character belongs to the unit right before it (a mark to its base letter),
    /// so that hits and censoring cover it.
    fn absorb(&mut self, start: u32, end: u32) {
        if let Some(last) = self.units.last_mut() {
            if last.end == start && last.class != SEP {
                last.end = end;
            }
        }
    }

    /// Folds one non-ASCII character into units; returns whether it was dropped (so the next
    /// unit follows a drop).
    fn push_non_ascii(&mut self, c: char, start: u32, end: u32, dropped: bool) -> bool {
        self.stats.chars += 1;
        let e = entry(c);
        match e >> 29 {
            table::KIND_LETTER => {
                self.units.push(Unit {
                    ch: c,
                    start,
                    end,
                    class: ALPHA,
                    flags: after(dropped),
                });
                false
            }
            table::KIND_SEPARATOR => {
                self.units.push(Unit {
                    ch: c,
                    start,
                    end,
                    class: SEP,
                    flags: 0,
                });
                false
            }
            table::KIND_INVISIBLE => {
                self.stats.invisibles += 1;
                self.absorb(start, end);
                true
            }
            table::KIND_MARK => {
                self.stats.marks += 1;
                self.absorb(start, end);
                true
            }
            _ => {
                let flags = (e >> 27) & 3;
                let mut uflags = after(dropped);
                if flags & table::FLAG_CONFUSABLE != 0 {
                    uflags |= U_CONFUSABLE;
                    self.stats.confusables += 1;
                } else if flags & table::FLAG_COMPAT != 0 {
                    uflags |= U_COMPAT;
                    self.stats.compat += 1;
                }
                for d in mapped(e).chars() {
                    let class = if d.is_ascii() {
                        ascii_class(d as u8)
                    } else if entry(d) >> 29 == table::KIND_LETTER {
                        ALPHA
                    } else {
                        SEP
                    };
                    self.units.push(Unit {
                        ch: d,
                        start,
                        end,
                        class,
                        flags: uflags,
                    });
                }
                false
            }
        }
    }

    /// Splits the units into tokens of letters, digits and leet symbols, trimming the
    /// symbols that punctuate a sentence at either end of a word (`fuck!!!`, `(lol`) but
    /// keeping the others there (`@ss`, `a$$`, `+wat`, `ja1lba|+`).
    fn tokenize(&mut self) {
        self.tokens.clear();
        let units = &self.units;
        let n = units.len();
        let mut i = 0;
        let (mut gap, mut gap_units, mut apostrophe, mut sig) = (0u32, 0u32, false, 0u32);
        let mut last_sep: Option<char> = None;
        while i < n {
            let u = units[i];
            if u.class == SEP || u.class == APOS {
                if last_sep != Some(u.ch) {
                    gap += 1;
                    sig = sig.wrapping_mul(31).wrapping_add(u.ch as u32);
                }
                gap_units += 1;
                last_sep = Some(u.ch);
                apostrophe |= u.class == APOS;
                i += 1;
                continue;
            }
            let mut j = i;
            while j < n && matches!(units[j].class, ALPHA | DIGIT | SYM) {
                j += 1;
            }
            if let Some(masked) = masked_end(units, i) {
                j = masked;
            }
            let (mut first, mut end) = (i, j);
            while first < end && units[first].class == SYM && punctuates(units[first].ch) {
                first += 1;
            }
            while end > first && units[end - 1].class == SYM && punctuates(units[end - 1].ch) {
                end -= 1;
            }
            // Trimmed symbols count as separators.
            let lead = (first - i) as u32;
            let trail = (j - end) as u32;
            if first < end {
                let leetish = units[first..end].iter().any(|u| {
                    matches!(u.class, DIGIT | SYM)
                        || u.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0
                        || is_mask(u)
                });
                self.tokens.push(Token {
                    first: first as u32,
                    end: end as u32,
                    gap: gap + u32::from(lead > 0),
                    gap_units: gap_units + lead,
                    apostrophe,
                    sig: if lead > 0 {
                        sig.wrapping_mul(31).wrapping_add(units[i].ch as u32)
                    } else {
                        sig
                    },
                    leetish,
                });
                sig = if trail > 0 { units[j - 1].ch as u32 } else { 0 };
                gap = u32::from(trail > 0);
                gap_units = trail;
                apostrophe = false;
                last_sep = if trail > 0 {
                    Some(units[j - 1].ch)
                } else {
                    None
                };
            } else {
                gap += 1;
                gap_units += (j - i) as u32;
                sig = sig.wrapping_mul(31).wrapping_add(units[i].ch as u32);
                last_sep = Some(units[j - 1].ch);
            }
            i = j;
        }
    }

    fn build_word_view(&mut self) {
        self.word.clear();
        for u in &self.units {
            if u.class == ALPHA || u.class == DIGIT {
                let flags = if u.flags != 0 { DISGUISE } else { 0 };
                self.word
                    .push_char::<true>(word_letter(u.ch), u.start, u.end, flags);
            } else {
                self.word.push_sep(u.start, u.end);
            }
        }
        self.word.finish();
    }

    fn build_leet_view(&mut self) {
        self.leet.clear();
        // Which tokens show a disguise this view undoes. The plain words up to four words from
        // one are written too (no `STRONG`), so that a term of several words matches across a
        // disguised word and plain ones (`k1ll yourself`); a hit here needs a `STRONG` byte.
        let mut shown = Vec::with_capacity(self.tokens.len());
        for t in &self.tokens {
            let units = &self.units[t.first as usize..t.end as usize];
            if !t.leetish {
                shown.push(false);
                continue;
            }
            let mut alpha = false;
            let mut strong = false;
            let mut confusable = false;
            let mut latin = false;
            for u in units {
                alpha |= u.class == ALPHA;
                strong |= u.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0
                    || (u.class != ALPHA && canonical(u.ch).1)
                    || is_mask(u);
                confusable |= u.flags & U_CONFUSABLE != 0;
                latin |= u.class == ALPHA && u.flags & U_CONFUSABLE == 0 && u.ch.is_ascii();
            }
            if confusable && latin {
                self.stats.mixed_script_words += 1;
            }
            let qualifies = alpha || units.iter().any(|u| matches!(u.ch, '@' | '$'));
            shown.push(qualifies && strong);
        }
        for (k, (t, &show)) in self.tokens.iter().zip(&shown).enumerate() {
            let units = &self.units[t.first as usize..t.end as usize];
            // A plain word up to four words from a disguised one.
            let near = (k.saturating_sub(4)..=k + 4).any(|n| shown.get(n) == Some(&true));
            if !show && (!near || t.leetish) {
                if let Some(u) = units.first() {
                    self.leet.push_sep(u.start, u.end);
                }
                continue;
            }
            for u in units {
                let (c, subst) = canonical(u.ch);
                // Every mask symbol is written `*`, the byte `rules::masked` looks for.
                let c = if is_mask(u) { '*' } else { c };
                let is_strong = u.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0
                    || (subst && u.class != ALPHA)
                    || is_mask(u);
                if subst && u.class != ALPHA {
                    self.stats.leet += 1;
                }
                let mut flags = if is_strong { STRONG } else { 0 };
                if u.flags != 0 || is_strong {
                    flags |= DISGUISE;
                }
                self.leet.push_char::<false>(c, u.start, u.end, flags);
            }
            if let Some(u) = units.last() {
                self.leet.push_sep(u.end, u.end);
            }
        }
        self.leet.finish();
    }

    fn build_joined_view(&mut self) {
        self.joined.clear();
        let tokens = &self.tokens;
        let mut i = 0;
        while i < tokens.len() {
            // A run of single-unit tokens, each separated from the previous by a short
            // separator with no apostrophe, the same separator throughout.
            let mut j = i + 1;
            if tokens[i].end - tokens[i].first == 1 && !contraction(&tokens[i]) {
                while j < tokens.len()
                    && tokens[j].end - tokens[j].first == 1
                    && (j == i + 1 || tokens[j].sig == tokens[i + 1].sig)
                    && tokens[j].gap <= MAX_JOIN_GAP
                    && tokens[j].gap_units <= MAX_JOIN_UNITS
                    && !contraction(&tokens[j])
                {
                    j += 1;
                }
            }
            let run = &tokens[i..j];
            let letters = run
                .iter()
                .filter(|t| self.units[t.first as usize].class == ALPHA)
                .count();
            if run.len() >= 3 && letters >= 2 {
                for (k, t) in run.iter().enumerate() {
                    let u = self.units[t.first as usize];
                    let (c, _) = canonical(u.ch);
                    self.joined
                        .push_char::<false>(c, u.start, u.end, STRONG | DISGUISE);
                    if k > 0 {
                        self.stats.separators_skipped += t.gap_units;
                    }
                }
                self.stats.joined_letters += run.len() as u32;
                let last = self.units[run[run.len() - 1].first as usize];
                self.joined.push_sep(last.end, last.end);
            }
            // Where the separator changed, the last letter may start the next run: in
            // `u r a b.i.t.c.h` or `a ƒ.ü.ç.κ` the word spelled out starts at the change.
            let separator_changed =
                j < tokens.len() && tokens[j].end - tokens[j].first == 1 && j >= i + 2;
            i = if separator_changed { j - 1 } else { j };
        }
        self.joined.finish();
    }
}

/// Closes a token of the fast path: a word mixing letters and digits may be leetspeak
/// (`5h1t`), so it returns `false` for the general path.
fn end_token(len: &mut u32, singles: &mut u32, alpha: &mut bool, digit: &mut bool) -> bool {
    let plain = !(*alpha && *digit);
    *singles += u32::from(*len == 1);
    (*len, *alpha, *digit) = (0, false, false);
    plain
}

/// The letter the word view keeps for `c`: `v` is written for `u` so often (`fvck`, `cvnt`)
/// that the word view, on the terms' side too, does not tell them apart.
#[inline]
pub(crate) fn word_letter(c: char) -> char {
    if c == 'v' {
        'u'
    } else {
        c
    }
}

/// Whether a leet symbol at the edge of a word is sentence punctuation rather than a letter.
fn punctuates(c: char) -> bool {
    matches!(c, '!' | '(')
}

/// Whether a unit is a mask symbol: `*` or `#`, which may stand for a hidden letter.
fn is_mask(u: &Unit) -> bool {
    u.class == SEP && matches!(u.ch, '*' | '#')
}

/// The end of the masked word starting at unit `i` (the first of a run of letters, digits
/// and symbols), if one starts there: pieces of such runs joined by runs of mask symbols, each
/// mask run right after a piece and right before a letter (`f*ck`, `f**k`, `sh#t`, `b*tch!`).
/// Not when every piece is one unit and there are three or more (`f*u*c*k`): that is a word
/// spelled out with `*` between its letters, which the joined view joins; and never from a
/// piece right after a mask, inside such a chain.
fn masked_end(units: &[Unit], i: usize) -> Option<usize> {
    // A piece right after a mask belongs to the chain decided where it starts.
    if i > 0 && is_mask(&units[i - 1]) {
        return None;
    }
    let (mut j, mut pieces, mut singles_only) = (i, 0usize, true);
    let end = loop {
        let piece = j;
        while j < units.len() && matches!(units[j].class, ALPHA | DIGIT | SYM) {
            j += 1;
        }
        pieces += 1;
        singles_only &= j - piece == 1;
        let end = j;
        while j < units.len() && is_mask(&units[j]) {
            j += 1;
        }
        if j == end || j == units.len() || units[j].class != ALPHA {
            break end;
        }
    };
    (pieces >= 2 && !(singles_only && pieces >= 3)).then_some(end)
}

/// Whether a token is the tail of a contraction (`m` in `I'm`, `s` in `it's`): it is never
/// joined with the single letters around it.
fn contraction(t: &Token) -> bool {
    t.apostrophe && t.gap_units == 1
}

impl FoldBuffers {
    /// The searchable forms of a rule term folded into these buffers: its word view (unless it
    /// is written with leetspeak symbols, which only the canonical form can match) and its
    /// canonical form for the leet and joined views (if it has a letter). Each is the
    /// collapsed text with the run length of each byte. Used when compiling rules.
    pub fn term_views(&self) -> (Option<Pattern>, Option<Pattern>) {
        let has_sym = self.units.iter().any(|u| u.class == SYM);
        let has_alpha = self.units.iter().any(|u| u.class == ALPHA);
        let word = (!has_sym && !self.word.text.is_empty())
            .then(|| (self.word.as_str().to_owned(), self.word.runs()));
        let canon = has_alpha.then(|| {
            let mut view = View::with_capacity(self.units.len() * 4 + 8, true);
            for u in &self.units {
                if matches!(u.class, ALPHA | DIGIT | SYM) {
                    view.push_char::<false>(canonical(u.ch).0, u.start, u.end, 0);
                } else {
                    view.push_sep(u.start, u.end);
                }
            }
            view.finish();
            (view.as_str().to_owned(), view.runs())
        });
        (word, canon)
    }
}

#[inline]
fn after(dropped: bool) -> u8 {
    if dropped {
        U_AFTER_DROP
    } else {
        0
    }
}

/// A collapsed pattern: its text and the run length of each byte.
pub(crate) type Pattern = (String, Vec<u8>);
