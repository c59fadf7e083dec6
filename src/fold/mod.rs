//! Folding: undoing in one pass what people do to slip words past a filter.
//!
//! A message is decoded into *units* (folded characters, each remembering the bytes of the
//! original it came from), then laid out in three views that the rule matcher searches:
//!
//! * **word**: lower case, compatibility forms (fullwidth, mathematical, enclosed, superscript,
//!   ligatures) and every Unicode TR39 confusable mapped to their prototype, accents and
//!   combining marks (zalgo, strike-through overlays) and invisible characters dropped, and
//!   one space between words. Digits and punctuation are left alone, so "5 hit combo" stays
//!   what it says.
//! * **leet**: the words that hold a disguise, with leetspeak undone (`5h1t`, `fvck`,
//!   `@ss`, `b!7ch`), and the plain words up to four words from one, so that a term of
//!   several words matches when only some are disguised (`k1ll yourself`). Letters that leetspeak makes ambiguous share one canonical letter
//!   (`i l 1 ! |` are all `i`; `u v` are `u`), on the terms' side too, so `bu11sh1t` needs no
//!   guessing. A hit here only counts where a substitution was actually undone, so that
//!   ordinary words that differ from a term only by `i`/`l` stay clean. A *masked* word, with
//!   letters hidden behind `*` or `#` inside it (`f*ck`, `sh#t`, `c**t`), is kept whole here,
//!   each run of mask symbols written `*` with its run; the matcher finds the terms it can
//!   stand for (`rules::masked`). Mask symbols at the edges of a word (`**bold**`, `C#`) and
//!   between single letters (`f*u*c*k`, which the joined view joins) mask nothing.
//! * **joined**: runs of single letters with separators between them (`f.u.c.k`, `f u c k`,
//!   `s_h_i_t`, `f🍆u🍆c🍆k`) joined into one word. Letters that are not single (`sh ift`)
//!   are never joined, so no word is invented out of two real ones.
//! * **split** (`split.rs`): a word cut in two pieces, by a separator inside it (`fu.ck`,
//!   `bi-tch`) or by a space next to a two-letter piece that is no word (`fu ck`, `bit ch`),
//!   joined back; built from the word view by the matcher. `sh ift`, `pen is` and `this
//!   hit` stay apart.
//!
//! Each view collapses repeated letters (`fuuuuck`) into one byte with a run length, so a
//! term matches however many times a letter is repeated but never with fewer repeats than it
//! is written with (`ass` does not match `as`). Every byte of every view keeps the byte range
//! of the original text it came from.
//!
//! The character table is generated at build time (`build.rs`) from the committed
//! `tools/unicode/confusables.txt` and the Unicode data of `unicode-normalization`; ASCII
//! takes a fast path.
//!
//! # Cost
//!
//! Every message is folded, so the fold is written for instruction counts (measured with
//! callgrind on the chat and SMS corpora). An ASCII message, most of them, has its word
//! view written straight from its bytes through tables, with no units: the tokens and the
//! leet and joined views read its units from the bytes when they are needed, and they are
//! written out only for the plain view. Views are written into slices sized once per
//! message rather than pushed to (their capacity, four bytes a unit, leaves room for any
//! message the units hold), with the checked pushes kept for views that might fill. UTF-8
//! is checked as it is decoded. A frozen copy of the straightforward fold (`reference.rs`,
//! tests only) is the oracle that the property tests hold all of this to, byte for byte.

#[allow(clippy::pedantic)]
mod table {
    include!(concat!(env!("OUT_DIR"), "/fold_table.rs"));
}

use crate::verdict::Span;

#[cfg(test)]
mod equivalence;
#[cfg(test)]
mod reference;
mod split;

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

/// The leet view writes the plain words up to this many words before or after a disguised
/// one: enough for a term of five words with one of them disguised.
const PLAIN_WORDS_NEAR: usize = 4;

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

/// [`ascii_class`] as a table (bytes past ASCII are never looked up): one load instead of a
/// chain of compares for every byte of a message.
static ASCII_CLASS: [u8; 256] = {
    let mut t = [SEP; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)]
        {
            t[b] = ascii_class(b as u8);
        }
        b += 1;
    }
    t
};

/// Each ASCII byte lower-cased, and its class in the high byte: a unit of it in one load.
static ASCII_UNIT: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        #[allow(clippy::cast_possible_truncation)]
        let c = b as u8;
        t[b] = c.to_ascii_lowercase() as u16 | (ASCII_CLASS[b] as u16) << 8;
        b += 1;
    }
    t
};

/// [`word_letter`] of each ASCII letter and digit lower-cased, 0 for the other bytes.
static ASCII_WORD_LETTER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)]
        if ascii_class(b as u8) <= DIGIT {
            t[b] = (b as u8).to_ascii_lowercase();
        }
        b += 1;
    }
    t[b'v' as usize] = b'u';
    t[b'V' as usize] = b'u';
    t
};

/// The canonical letter of a unit in the leet and joined views, and whether getting there
/// undid a substitution (as opposed to merging two real letters, `l`→`i`).
#[inline]
const fn canonical(ch: char) -> (char, bool) {
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

/// How many of the units `range` (masks and the pieces between them that join a token) the
/// leet view could undo: digits, symbols, confusables, capital Is and the masks themselves.
fn masked_leety<S: UnitSource + ?Sized>(units: &S, range: std::ops::Range<usize>) -> u32 {
    range
        .map(|k| {
            let v = units.unit(k);
            u32::from(
                matches!(v.class, DIGIT | SYM)
                    || v.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0
                    || is_mask(v),
            )
        })
        .sum()
}

/// The letter an ASCII digit stands for in leetspeak (`h0m3` → `home`), `None` for a digit that
/// stands for none (`2`, `6`) and for any other byte. What the tracker and the regexes read
/// words of letters and digits with; the leet view's [`canonical`] alphabet has more.
#[must_use]
pub(crate) const fn leet_digit(b: u8) -> Option<u8> {
    match b {
        b'0' => Some(b'o'),
        b'1' => Some(b'i'),
        b'3' => Some(b'e'),
        b'4' => Some(b'a'),
        b'5' => Some(b's'),
        b'7' => Some(b't'),
        b'8' => Some(b'b'),
        b'9' => Some(b'g'),
        _ => None,
    }
}

/// How folding treats one character of the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharFold {
    /// Kept as it is: a letter or digit that needs no folding.
    Letter,
    /// Kept as it is: a separator (space, punctuation, symbol, emoji).
    Separator,
    /// Dropped: an invisible character (zero-width, soft hyphen, BOM, bidi control, …).
    Invisible,
    /// Dropped: a combining mark (accent, zalgo, overlay).
    Mark,
    /// Replaced by the given folded text; `confusable` tells whether a TR39 confusable was
    /// mapped on the way.
    Mapped {
        /// The folded text.
        to: &'static str,
        /// Whether a confusable (rather than only case or a compatibility form) was mapped.
        confusable: bool,
    },
}

/// Looks up how folding treats `c` (outside ASCII; ASCII letters are only lower-cased).
///
/// ```
/// use chatguard::fold::{fold_char, CharFold};
/// assert_eq!(fold_char('с'), CharFold::Mapped { to: "c", confusable: true }); // Cyrillic es
/// assert_eq!(fold_char('\u{200B}'), CharFold::Invisible);
/// ```
#[must_use]
pub fn fold_char(c: char) -> CharFold {
    if c.is_ascii() {
        return if c.is_ascii_uppercase() {
            let i = usize::from(c as u8 - b'A');
            CharFold::Mapped {
                to: &"abcdefghijklmnopqrstuvwxyz"[i..=i],
                confusable: false,
            }
        } else if c.is_ascii_alphanumeric() {
            CharFold::Letter
        } else {
            CharFold::Separator
        };
    }
    let e = entry(c);
    match e >> 29 {
        table::KIND_LETTER => CharFold::Letter,
        table::KIND_SEPARATOR => CharFold::Separator,
        table::KIND_INVISIBLE => CharFold::Invisible,
        table::KIND_MARK => CharFold::Mark,
        _ => CharFold::Mapped {
            to: mapped(e),
            confusable: (e >> 27) & table::FLAG_CONFUSABLE != 0,
        },
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
    /// Whether the leet view shows a disguise in it (set by `build_leet_view`).
    shown: bool,
}

/// What [`FoldBuffers::tokenize`] has seen since the last token: separators (a repeated one
/// counted once), separator units, whether an apostrophe was among them, and their signature.
#[derive(Clone, Copy, Debug, Default)]
struct Between {
    seps: u32,
    units: u32,
    apostrophe: bool,
    sig: u32,
}

impl Between {
    /// One separator unit `ch`; `new` when it differs from the one before it.
    #[inline]
    fn separator(&mut self, new: bool, ch: u32, apostrophe: bool) {
        if new {
            self.seps += 1;
            self.sig = self.sig.wrapping_mul(31).wrapping_add(ch);
        }
        self.units += 1;
        self.apostrophe |= apostrophe;
    }
}

/// A run of units between separators (`i..j`), trimmed to `first..end`, with how many of its
/// units leetspeak could undo.
#[derive(Clone, Copy, Debug)]
struct Run {
    i: usize,
    first: usize,
    end: usize,
    j: usize,
    leety: u32,
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
    cap: usize,
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

/// Counts of what folding undid, for features and explanations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldStats {
    /// Characters decoded (invalid UTF-8 sequences count as one each).
    pub chars: u32,
    /// Characters replaced through a TR39 confusable.
    pub confusables: u32,
    /// Characters replaced through a compatibility form only (fullwidth, mathematical, …).
    pub compat: u32,
    /// Invisible characters dropped.
    pub invisibles: u32,
    /// Combining marks dropped.
    pub marks: u32,
    /// Leetspeak substitutions undone in words that were searched in the leet view.
    pub leet: u32,
    /// Separator characters skipped between single letters that were joined.
    pub separators_skipped: u32,
    /// Letters joined into words in the joined view.
    pub joined_letters: u32,
    /// Invalid UTF-8 sequences.
    pub invalid_utf8: u32,
    /// Words mixing Latin letters with letters mapped from another script.
    pub mixed_script_words: u32,
}

/// What [`FoldBuffers`] holds of the units of the last input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Units {
    /// None: the fast path folded it (or nothing was folded yet).
    None,
    /// None yet: the input is ASCII, whose units are one a byte, and the general path left
    /// them to [`FoldBuffers::ensure_units`], as most messages need none.
    Pending,
    /// All of them: the general path folded it.
    Built,
}

/// The reusable buffers folding writes into. Sized once; never grows.
#[derive(Clone, Debug)]
pub(crate) struct FoldBuffers {
    units: Vec<Unit>,
    tokens: Vec<Token>,
    unit_cap: usize,
    /// The word view, uncollapsed: what regexes search and what explanations show.
    pub plain: View,
    pub word: View,
    pub leet: View,
    pub joined: View,
    /// Words cut in two, joined back (see `split.rs`); built by
    /// [`build_split_view`](Self::build_split_view), not by the fold.
    pub split: View,
    pub stats: FoldStats,
    /// The input did not fit in the buffers and was folded only in part.
    pub truncated: bool,
    /// Whether the plain view was built for the last input.
    pub plain_built: bool,
    /// What `units` holds of the last input.
    units_state: Units,
    /// How many more bytes than units the letters of `units` take in UTF-8: with
    /// `units.len()`, a bound on the length of the word and plain views.
    wide: usize,
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
            split: View::with_capacity(view_cap, true),
            stats: FoldStats::default(),
            truncated: false,
            plain_built: false,
            units_state: Units::None,
            wide: 0,
        }
    }

    /// Folds `input` into every view, by the general path (terms and tools read its units).
    pub fn fold(&mut self, input: &[u8]) {
        self.reset();
        self.fold_general(input);
        self.ensure_plain(input);
        self.build_split_view(input);
    }

    fn reset(&mut self) {
        self.stats = FoldStats::default();
        self.truncated = false;
        self.plain_built = false;
        self.units_state = Units::None;
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
        if self.units_state == Units::None {
            // The fast path kept no units: fold again by the general path.
            self.reset();
            self.fold_general(input);
        }
        self.ensure_units(input);
        self.plain.clear();
        if lay_out::<false>(&mut self.plain, &self.units, self.wide).is_none() {
            for u in &self.units {
                if u.class == ALPHA || u.class == DIGIT {
                    let flags = if u.flags != 0 { DISGUISE } else { 0 };
                    self.plain.push_char::<false>(u.ch, u.start, u.end, flags);
                } else {
                    self.plain.push_sep(u.start, u.end);
                }
            }
            self.plain.finish();
        }
        self.plain_built = true;
        self.truncated |= self.plain.full;
    }

    /// The general path: every character decoded into units (ASCII input: the word view
    /// straight from the bytes, the units left for later), then the views the matcher always
    /// searches built from them (the plain view is [`ensure_plain`](Self::ensure_plain)'s).
    fn fold_general(&mut self, input: &[u8]) {
        // Leetspeak needs a digit, a symbol, a `v`, a confusable or a capital I inside a word;
        // joining needs at least three letters standing alone.
        // A mask symbol may also hide a letter (`f*ck`).
        let (mut leet, singles) = if input.is_ascii() && self.ascii_room(input) < self.word.cap {
            self.fold_ascii(input)
        } else {
            self.decode(input);
            self.build_word_view()
        };
        if leet || singles >= 3 {
            if self.units_state == Units::Pending {
                // Read the units of ASCII input from its bytes rather than build them.
                let units = AsciiUnits(&input[..self.ascii_room(input)]);
                // Nine in ten chat lines with three single letters have no three in a row
                // (`i think u are a ...`), and half the lines with a digit or a symbol would
                // leave the leet view empty (`5 hit`, `wow!`, `10:30`): a scan of the bytes
                // tells, quicker than the tokens (but not quicker than the view, when the
                // tokens are needed anyway).
                let join = singles >= 3 && ascii_join_is_possible(units.0);
                leet = leet
                    && (join
                        || ascii_leet_view_is_needed(units.0)
                        || ascii_masks_a_letter(units.0));
                self.undo_leet_and_join(&units, leet, join);
            } else {
                // Taken out (no allocation) so that the views can be written while it is read.
                let units = std::mem::take(&mut self.units);
                self.undo_leet_and_join(&units[..], leet, singles >= 3);
                self.units = units;
            }
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

    /// How much of an ASCII input fits in the units: the general loop of
    /// [`decode`](Self::decode) stops once fewer than 8 units are left, but lets its last
    /// run of ASCII take one unit past that.
    fn ascii_room(&self, input: &[u8]) -> usize {
        input.len().min(self.unit_cap - 7)
    }

    /// The general path for ASCII input: the word view straight from the bytes, the units
    /// left for [`ensure_units`](Self::ensure_units). Returns what
    /// [`build_word_view`](Self::build_word_view) returns.
    fn fold_ascii(&mut self, input: &[u8]) -> (bool, u32) {
        let bytes = &input[..self.ascii_room(input)];
        self.units.clear();
        self.units_state = Units::Pending;
        self.wide = 0;
        #[allow(clippy::cast_possible_truncation)]
        {
            self.stats.chars = bytes.len() as u32;
        }
        self.truncated |= bytes.len() < input.len();
        self.word.clear();
        lay_out_ascii(&mut self.word, bytes)
    }

    /// Builds the units of the last input if [`fold_ascii`](Self::fold_ascii) left them.
    fn ensure_units(&mut self, input: &[u8]) {
        if self.units_state == Units::Pending {
            self.units_state = Units::Built;
            let bytes = &input[..self.ascii_room(input)];
            self.push_ascii(bytes, 0, false);
        }
    }

    fn decode(&mut self, input: &[u8]) {
        self.units.clear();
        self.units_state = Units::Built;
        self.wide = 0;
        let mut dropped = false;
        // Most input is valid UTF-8: decoded as it is checked, it needs no `Utf8Chunks`.
        let (stats, truncated) = (self.stats, self.truncated);
        if self.decode_valid(input, 0, &mut dropped).is_ok() {
            return;
        }
        // It is not: start over, a valid chunk at a time.
        (self.stats, self.truncated, self.wide, dropped) = (stats, truncated, 0, false);
        self.units.clear();
        let mut offset = 0usize;
        for chunk in input.utf8_chunks() {
            if self.decode_valid(chunk.valid().as_bytes(), offset, &mut dropped) != Ok(true) {
                return;
            }
            offset += chunk.valid().len();
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

    /// Decodes `bytes`, which start at byte `offset` of the input, into units; `dropped`
    /// tells whether the last character was dropped. Returns `Ok(false)` when the units are
    /// full (and the input truncated), and `Err` at the first byte that is not valid UTF-8.
    fn decode_valid(
        &mut self,
        bytes: &[u8],
        offset: usize,
        dropped: &mut bool,
    ) -> Result<bool, ()> {
        let mut i = 0;
        while i < bytes.len() {
            if self.units.len() + 8 > self.unit_cap {
                self.truncated = true;
                return Ok(false);
            }
            let b = bytes[i];
            let start = u32::try_from(offset + i).unwrap_or(u32::MAX);
            if b.is_ascii() && !*dropped {
                // ASCII fast path: the whole run of ASCII bytes in one extend.
                let run = bytes[i..]
                    .iter()
                    .position(|c| !c.is_ascii())
                    .unwrap_or(bytes.len() - i);
                let run = run
                    .min(self.unit_cap.saturating_sub(self.units.len() + 8))
                    .max(1);
                let prev_lower = i > 0 && bytes[i - 1].is_ascii_lowercase();
                self.push_ascii(&bytes[i..i + run], start, prev_lower);
                self.stats.chars += run as u32;
                i += run;
                continue;
            }
            if b.is_ascii() {
                // ASCII fast path.
                self.stats.chars += 1;
                let mut flags = if *dropped { U_AFTER_DROP } else { 0 };
                if b == b'I' && i > 0 && bytes[i - 1].is_ascii_lowercase() {
                    flags |= U_CAPITAL_I;
                }
                self.units.push(Unit {
                    ch: char::from(b.to_ascii_lowercase()),
                    start,
                    end: start + 1,
                    class: ASCII_CLASS[usize::from(b)],
                    flags,
                });
                *dropped = false;
                i += 1;
                continue;
            }
            let (c, len) = decode_utf8(bytes, i).ok_or(())?;
            let end = start + u32::try_from(len).unwrap_or(4);
            *dropped = self.push_non_ascii(c, start, end, *dropped);
            i += len;
        }
        Ok(true)
    }

    /// Pushes a unit for each of `bytes`, ASCII starting at byte `start` of the input, after
    /// an ASCII lower-case letter if `prev_lower`.
    fn push_ascii(&mut self, bytes: &[u8], start: u32, prev_lower: bool) {
        let first = self.units.len();
        self.units.extend(bytes.iter().enumerate().map(|(k, &b)| {
            #[allow(clippy::cast_possible_truncation)]
            let at = start + k as u32;
            let [lower, class] = ASCII_UNIT[usize::from(b)].to_le_bytes();
            Unit {
                ch: char::from(lower),
                start: at,
                end: at + 1,
                class,
                flags: 0,
            }
        }));
        // Rare, so looked for apart.
        for k in memchr::memchr_iter(b'I', bytes) {
            if (k > 0 && bytes[k - 1].is_ascii_lowercase()) || (k == 0 && prev_lower) {
                self.units[first + k].flags = U_CAPITAL_I;
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
                self.wide += c.len_utf8() - 1;
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
                        self.wide += d.len_utf8() - 1;
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

    /// Splits `units` into tokens, then builds the leet view if `leet` and the joined view
    /// if `join`. (They never read `self.units`, which `units` may be.)
    // Not inlined, nor `build_word_view`: the ASCII loops inlined in `fold_general` keep more
    // registers then (measured).
    #[inline(never)]
    fn undo_leet_and_join<S: UnitSource + ?Sized>(&mut self, units: &S, leet: bool, join: bool) {
        if !(leet || join) {
            return;
        }
        self.tokenize(units);
        if leet {
            self.build_leet_view(units);
        }
        if join {
            self.build_joined_view(units);
        }
    }

    /// Ends the run of units `run.i..run.j`: a token of `run.first..run.end` (the run with
    /// its punctuating symbols trimmed, which count as separators), or more of the gap when
    /// nothing is left. `first_ch` and `last_ch` are the run's first and last characters.
    /// Returns whether the run ends in separators (so that its last character is the last one
    /// seen).
    #[inline]
    fn end_run(&mut self, between: &mut Between, run: Run, first_ch: u32, last_ch: u32) -> bool {
        let Run {
            i,
            first,
            end,
            j,
            leety,
        } = run;
        let lead = (first - i) as u32;
        let trail = (j - end) as u32;
        if first < end {
            self.tokens.push(Token {
                first: first as u32,
                end: end as u32,
                gap: between.seps + u32::from(lead > 0),
                gap_units: between.units + lead,
                apostrophe: between.apostrophe,
                sig: if lead > 0 {
                    between.sig.wrapping_mul(31).wrapping_add(first_ch)
                } else {
                    between.sig
                },
                // The trimmed symbols are all leetspeak symbols.
                leetish: leety > lead + trail,
                shown: false,
            });
            *between = Between {
                seps: u32::from(trail > 0),
                units: trail,
                apostrophe: false,
                sig: if trail > 0 { last_ch } else { 0 },
            };
            trail > 0
        } else {
            between.seps += 1;
            between.units += (j - i) as u32;
            between.sig = between.sig.wrapping_mul(31).wrapping_add(first_ch);
            true
        }
    }

    /// Splits the units into tokens of letters, digits and leet symbols, trimming the
    /// symbols that punctuate a sentence at either end of a word (`fuck!!!`, `(lol`) but
    /// keeping the others there (`@ss`, `a$$`, `+wat`, `ja1lba|+`).
    fn tokenize<S: UnitSource + ?Sized>(&mut self, units: &S) {
        if let Some(bytes) = units.ascii() {
            self.tokenize_ascii(bytes);
            return;
        }
        self.tokens.clear();
        let count = units.count();
        let mut i = 0;
        let mut between = Between::default();
        let mut last_sep: Option<char> = None;
        while i < count {
            let u = units.unit(i);
            if u.class >= SEP {
                between.separator(last_sep != Some(u.ch), u.ch as u32, u.class == APOS);
                last_sep = Some(u.ch);
                i += 1;
                continue;
            }
            // The run of letters, digits and symbols, and how many of its units the leet view
            // could undo.
            let mut j = i;
            let mut leety = 0u32;
            while j < count {
                let v = units.unit(j);
                if v.class > SYM {
                    break;
                }
                leety += u32::from(
                    matches!(v.class, DIGIT | SYM) || v.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0,
                );
                j += 1;
            }
            if j < count && units.mask(j) {
                if let Some(masked) = masked_end(units, i, count) {
                    // The masks and the pieces after them join the token, which the leet
                    // view then shows (the masks are what it undoes).
                    leety += masked_leety(units, j..masked);
                    j = masked;
                }
            }
            let (mut first, mut end) = (i, j);
            while first < end && punctuating(units.unit(first)) {
                first += 1;
            }
            while end > first && punctuating(units.unit(end - 1)) {
                end -= 1;
            }
            let last = units.unit(j - 1).ch;
            let run = Run {
                i,
                first,
                end,
                j,
                leety,
            };
            last_sep = self
                .end_run(&mut between, run, u.ch as u32, last as u32)
                .then_some(last);
            i = j;
        }
    }

    /// [`tokenize`](Self::tokenize) for the units of ASCII `bytes` (one a byte), read
    /// from the bytes through a table rather than as units: the same tokens, for a third of
    /// the instructions (measured on SMS, where most lines have tokens to undo). A unit's
    /// character is its byte here, but for letters, which never count as separators.
    fn tokenize_ascii(&mut self, bytes: &[u8]) {
        self.tokens.clear();
        let count = bytes.len();
        let mut i = 0;
        let mut between = Between::default();
        let mut last_sep: Option<u8> = None;
        while i < count {
            let b = bytes[i];
            let class = ASCII_CLASS[usize::from(b)];
            if class >= SEP {
                between.separator(last_sep != Some(b), u32::from(b), class == APOS);
                last_sep = Some(b);
                i += 1;
                continue;
            }
            // The run of letters, digits and symbols, and how many of its units the leet view
            // could undo: digits, symbols and capital Is after a lower-case letter.
            let mut j = i;
            let mut leety = 0u32;
            while j < count {
                let t = ASCII_TOKEN[usize::from(bytes[j])];
                if t == T_NONE {
                    break;
                }
                leety += u32::from(
                    t == T_LEETY
                        || (t == T_CAPITAL_I && j > 0 && bytes[j - 1].is_ascii_lowercase()),
                );
                j += 1;
            }
            if j < count && matches!(bytes[j], b'*' | b'#') {
                let units = AsciiUnits(bytes);
                if let Some(masked) = masked_end(&units, i, count) {
                    leety += masked_leety(&units, j..masked);
                    j = masked;
                }
            }
            let (mut first, mut end) = (i, j);
            while first < end && matches!(bytes[first], b'!' | b'(') {
                first += 1;
            }
            while end > first && matches!(bytes[end - 1], b'!' | b'(') {
                end -= 1;
            }
            let last = bytes[j - 1];
            let run = Run {
                i,
                first,
                end,
                j,
                leety,
            };
            last_sep = self
                .end_run(&mut between, run, u32::from(b), u32::from(last))
                .then_some(last);
            i = j;
        }
    }

    /// Builds the word view from the units, and returns whether a unit could be leetspeak
    /// (a digit, a symbol, a confusable or a capital I after a lower-case letter) or a mask
    /// symbol could hide a letter ([`masks_a_letter`]), and how many tokens (runs of letters,
    /// digits and symbols) are one unit long.
    #[inline(never)]
    fn build_word_view(&mut self) -> (bool, u32) {
        self.word.clear();
        match lay_out::<true>(&mut self.word, &self.units, self.wide) {
            Some(scan) => scan,
            None => self.build_word_view_near_full(),
        }
    }

    /// [`build_word_view`](Self::build_word_view) for units that might not fit: every push
    /// checks for room.
    fn build_word_view_near_full(&mut self) -> (bool, u32) {
        let (mut leet, mut singles, mut token) = (false, 0u32, 0u32);
        for u in &self.units {
            leet |= matches!(u.class, DIGIT | SYM) || u.flags & (U_CONFUSABLE | U_CAPITAL_I) != 0;
            if matches!(u.class, ALPHA | DIGIT | SYM) {
                token += 1;
            } else {
                singles += u32::from(token == 1);
                token = 0;
            }
            if u.class == ALPHA || u.class == DIGIT {
                let flags = if u.flags != 0 { DISGUISE } else { 0 };
                self.word
                    .push_char::<true>(word_letter(u.ch), u.start, u.end, flags);
            } else {
                self.word.push_sep(u.start, u.end);
            }
        }
        singles += u32::from(token == 1);
        self.word.finish();
        (leet || masks_a_letter(&self.units[..]), singles)
    }

    fn build_leet_view<S: UnitSource + ?Sized>(&mut self, all: &S) {
        self.leet.clear();
        // Which tokens show a disguise this view undoes. The plain words near one are written
        // too (no `STRONG`), so that a term of several words matches across a disguised word
        // and plain ones (`k1ll yourself`); a hit here needs a `STRONG` byte.
        let mut any = false;
        for k in 0..self.tokens.len() {
            let t = self.tokens[k];
            if !t.leetish {
                continue;
            }
            let (mut alpha, mut strong, mut confusable, mut latin, mut money) =
                (false, false, false, false, false);
            for u in (t.first as usize..t.end as usize).map(|i| all.unit(i)) {
                money |= matches!(u.ch, '@' | '$');
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
            let shown = (alpha || money) && strong;
            self.tokens[k].shown = shown;
            any |= shown;
        }
        let mut last_shown = None;
        for (k, t) in self.tokens.iter().enumerate() {
            // Tokens are never empty.
            let first = all.unit(t.first as usize);
            if t.shown {
                last_shown = Some(k);
            }
            let plain_near = any
                && !t.leetish
                && (last_shown.is_some_and(|s| k - s <= PLAIN_WORDS_NEAR)
                    || self.tokens[k + 1..]
                        .iter()
                        .take(PLAIN_WORDS_NEAR)
                        .any(|n| n.shown));
            if !t.shown && !plain_near {
                self.leet.push_sep(first.start, first.end);
                continue;
            }
            for u in (t.first as usize..t.end as usize).map(|i| all.unit(i)) {
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
            let last = all.unit(t.end as usize - 1);
            self.leet.push_sep(last.end, last.end);
        }
        self.leet.finish();
    }

    fn build_joined_view<S: UnitSource + ?Sized>(&mut self, units: &S) {
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
                .filter(|t| units.unit(t.first as usize).class == ALPHA)
                .count();
            if run.len() >= 3 && letters >= 2 {
                for (k, t) in run.iter().enumerate() {
                    let u = units.unit(t.first as usize);
                    let (c, _) = canonical(u.ch);
                    self.joined
                        .push_char::<false>(c, u.start, u.end, STRONG | DISGUISE);
                    if k > 0 {
                        self.stats.separators_skipped += t.gap_units;
                    }
                }
                self.stats.joined_letters += run.len() as u32;
                let last = units.unit(run[run.len() - 1].first as usize);
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

/// Lays `units` out in `view` (just cleared) as the word view (`WORD`: `v` written `u`,
/// runs collapsed, word starts kept) or as the plain view; for the word view, returns what
/// [`FoldBuffers::build_word_view`] returns (the mask scan only when a mask symbol follows
/// a token, which most messages with a `*` or `#` lack). Returns `None`, having written nothing, when
/// the view might fill: then each push must check for room, as `View::push_char` does.
#[allow(clippy::too_many_lines)] // one pass over the units, each kind handled in place
fn lay_out<const WORD: bool>(view: &mut View, units: &[Unit], wide: usize) -> Option<(bool, u32)> {
    // The view takes at most a byte for each unit and `wide` more for its wider letters.
    let bound = units.len() + wide;
    if bound + 1 > view.cap {
        return None;
    }
    let View {
        text,
        meta,
        words,
        max_run,
        last,
        last_len,
        ..
    } = view;
    // Room for every byte up front, so that each write is a store into a slice rather than
    // a `push`, whose length and capacity the compiler reloads after every store.
    text.resize(bound, 0);
    grow_zeroed(meta, bound);
    let (t, m) = (&mut text[..], &mut meta[..]);
    let mut n = 0;
    let (mut prev, mut prev_len, mut longest) = (None, 0usize, 1u8);
    let (mut leet, mut singles, mut token) = (false, 0u32, 0u32);
    // The flags of the letters and digits ORed, with bit 4 for a digit: a digit, a
    // confusable or a capital I could be leetspeak.
    let mut seen = 0u8;
    // Whether a mask symbol follows a letter, digit or symbol (see `masks_a_letter`).
    let mut mask_after_token = false;
    for u in units {
        if u.class <= DIGIT {
            if WORD {
                // ALPHA is 0 and DIGIT 1, shifted past the unit flags.
                seen |= u.flags | u.class << 4;
                token += 1;
            }
            let c = if WORD { word_letter(u.ch) } else { u.ch };
            let flags = if u.flags != 0 { DISGUISE } else { 0 };
            if WORD && prev == Some(c) {
                for x in &mut m[n - prev_len..n] {
                    x.run = x.run.saturating_add(1);
                    x.end = u.end;
                    x.flags |= flags;
                }
                longest = longest.max(m[n - 1].run);
                if let Some(w) = words.last_mut() {
                    *w |= WORD_HAS_RUN;
                }
                continue;
            }
            let first = if prev.is_none() {
                if WORD && words.len() < words.capacity() {
                    #[allow(clippy::cast_possible_truncation)]
                    words.push(n as u32);
                }
                TOKEN_START
            } else {
                0
            };
            prev = Some(c);
            let rest = Meta {
                start: u.start,
                end: u.end,
                run: 1,
                flags,
            };
            if c.is_ascii() {
                #[allow(clippy::cast_possible_truncation)]
                {
                    t[n] = c as u8;
                }
                prev_len = 1;
            } else {
                prev_len = c.encode_utf8(&mut t[n..]).len();
                m[n + 1..n + prev_len].fill(rest);
            }
            m[n] = Meta {
                flags: flags | first,
                ..rest
            };
            n += prev_len;
        } else {
            if WORD {
                if u.class == SYM {
                    leet = true;
                    token += 1;
                } else if token != 0 {
                    // Only the first separator after a token changes anything.
                    mask_after_token |= is_mask(*u);
                    singles += u32::from(token == 1);
                    token = 0;
                }
            }
            if prev.is_some() {
                m[n - 1].flags |= TOKEN_END;
                t[n] = b' ';
                m[n] = Meta {
                    start: u.start,
                    end: u.end,
                    run: 1,
                    flags: 0,
                };
                n += 1;
                prev = None;
            }
        }
    }
    singles += u32::from(token == 1);
    text.truncate(n);
    meta.truncate(n);
    (*last, *last_len, *max_run) = (prev, prev_len, longest);
    view.finish();
    leet |= seen & (U_CONFUSABLE | U_CAPITAL_I | DIGIT << 4) != 0;
    Some((
        leet || (WORD && mask_after_token && masks_a_letter(units)),
        singles,
    ))
}

/// [`ASCII_WORD`] flags, above the word letter: a digit, a leetspeak symbol (a token byte
/// outside the words), a mask symbol, a capital I.
const W_DIGIT: u16 = 1 << 8;
const W_SYM: u16 = 1 << 9;
const W_MASK: u16 = 1 << 10;
const W_CAPITAL_I: u16 = 1 << 11;

/// For each ASCII byte, its [`ASCII_WORD_LETTER`] (0 if none) and its `W_` flags: all that
/// [`lay_out_ascii`] asks of a byte, in one load.
static ASCII_WORD: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)]
        let c = b as u8;
        let mut e = ASCII_WORD_LETTER[b] as u16;
        match ascii_class(c) {
            DIGIT => e |= W_DIGIT,
            SYM => e |= W_SYM,
            _ => {}
        }
        if c == b'*' || c == b'#' {
            e |= W_MASK;
        } else if c == b'I' {
            e |= W_CAPITAL_I;
        }
        t[b] = e;
        b += 1;
    }
    t
};

/// [`lay_out`] for the units of ASCII `bytes` (one a byte), straight from the bytes, a word
/// at a time: a space (the span of the first separator after the previous word) before
/// every word but the first, `TOKEN_START` on a word's first byte and `TOKEN_END` on its
/// last. The caller checks that the view cannot fill.
fn lay_out_ascii(view: &mut View, bytes: &[u8]) -> (bool, u32) {
    let len = bytes.len();
    // An ASCII byte writes at most one byte of the view: room for all of them up front.
    view.text.resize(len, 0);
    grow_zeroed(&mut view.meta, len);
    let (text, meta) = (&mut view.text[..len], &mut view.meta[..len]);
    let words = &mut view.words;
    let (mut out, mut at) = (0, 0);
    // The `W_` flags of every byte, ORed.
    let mut seen = 0u16;
    let (mut singles, mut token, mut longest) = (0u32, 0u32, 1u8);
    // Where the separator after the last word started.
    let mut sep = 0;
    'words: loop {
        let mut e;
        loop {
            if at == len {
                break 'words;
            }
            e = ASCII_WORD[usize::from(bytes[at])];
            if e & 0xFF != 0 {
                break;
            }
            seen |= e;
            if e & W_SYM != 0 {
                token += 1;
            } else if token != 0 {
                // Only the first separator after a token changes anything.
                singles += u32::from(token == 1);
                token = 0;
            }
            at += 1;
        }
        if out > 0 {
            text[out] = b' ';
            meta[out] = ascii_meta(sep, 0);
            out += 1;
        }
        if words.len() < words.capacity() {
            #[allow(clippy::cast_possible_truncation)]
            words.push(out as u32);
        }
        // The word, repeats collapsed.
        let start = at;
        #[allow(clippy::cast_possible_truncation)]
        let mut prev = e as u8;
        seen |= e;
        text[out] = prev;
        meta[out] = ascii_meta(at, TOKEN_START);
        out += 1;
        at += 1;
        let mut run = 1u8;
        while at < len {
            let e = ASCII_WORD[usize::from(bytes[at])];
            #[allow(clippy::cast_possible_truncation)]
            let c = e as u8;
            if c == 0 {
                break;
            }
            seen |= e;
            if c == prev {
                let last = &mut meta[out - 1];
                last.run = last.run.saturating_add(1);
                #[allow(clippy::cast_possible_truncation)]
                {
                    last.end = at as u32 + 1;
                }
                run = run.max(last.run);
            } else {
                text[out] = c;
                meta[out] = ascii_meta(at, 0);
                out += 1;
                prev = c;
            }
            at += 1;
        }
        meta[out - 1].flags |= TOKEN_END;
        if run > 1 {
            longest = longest.max(run);
            // The word's own start when it was kept, else the last one kept.
            if let Some(w) = words.last_mut() {
                *w |= WORD_HAS_RUN;
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            token += (at - start) as u32;
        }
        sep = at;
    }
    singles += u32::from(token == 1);
    let mut leet = seen & (W_DIGIT | W_SYM) != 0;
    // A mask symbol may hide letters of a word (`f*ck`).
    leet = leet || (seen & W_MASK != 0 && ascii_masks_a_letter(bytes));
    if seen & W_CAPITAL_I != 0 {
        leet |= mark_capital_i(bytes, &mut meta[..out]);
    }
    view.text.truncate(out);
    view.meta.truncate(out);
    view.max_run = view.max_run.max(longest);
    // Whether the text ends in a word.
    view.last = (out > 0 && sep == len).then(|| char::from(view.text[out - 1]));
    view.last_len = 1;
    (leet, singles)
}

/// Marks `DISGUISE` on the bytes of the word view `meta` (of ASCII `bytes`) that stand for
/// a capital I after a lower-case letter (see `U_CAPITAL_I`), and returns whether there
/// was one. Rare, so looked for apart, each byte of the view found by its span.
fn mark_capital_i(bytes: &[u8], meta: &mut [Meta]) -> bool {
    let mut any = false;
    for k in memchr::memchr_iter(b'I', bytes) {
        if k > 0 && bytes[k - 1].is_ascii_lowercase() {
            let byte = meta.partition_point(|m| m.end as usize <= k);
            meta[byte].flags |= DISGUISE;
            any = true;
        }
    }
    any
}

/// The meta of ASCII byte `at`, not collapsed.
#[inline]
fn ascii_meta(at: usize, flags: u8) -> Meta {
    #[allow(clippy::cast_possible_truncation)]
    let at = at as u32;
    Meta {
        start: at,
        end: at + 1,
        run: 1,
        flags,
    }
}

/// Zeroed metas to copy from: `Vec::resize` writes a `Meta` at a time, a copy from here is
/// a `memcpy`.
static ZERO_METAS: [Meta; 256] = [Meta {
    start: 0,
    end: 0,
    run: 0,
    flags: 0,
}; 256];

/// Makes `meta` (empty) `len` long, its contents to be overwritten.
fn grow_zeroed(meta: &mut Vec<Meta>, len: usize) {
    while meta.len() < len {
        let k = (len - meta.len()).min(ZERO_METAS.len());
        meta.extend_from_slice(&ZERO_METAS[..k]);
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

/// The character whose UTF-8 encoding starts at `bytes[i]` (not ASCII) and its length, or
/// `None` if the bytes there are not valid UTF-8.
#[inline]
fn decode_utf8(bytes: &[u8], i: usize) -> Option<(char, usize)> {
    let lead = u32::from(bytes[i]);
    let next = |k: usize| {
        bytes
            .get(i + k)
            .map(|&b| u32::from(b))
            .filter(|b| b & 0xC0 == 0x80)
            .map(|b| b & 0x3F)
    };
    // The shortest form only (so no code point below `least`); `from_u32` refuses
    // surrogates and code points past U+10FFFF.
    let (cp, len, least) = match lead {
        0xC0..=0xDF => ((lead & 0x1F) << 6 | next(1)?, 2, 0x80),
        0xE0..=0xEF => ((lead & 0x0F) << 12 | next(1)? << 6 | next(2)?, 3, 0x800),
        0xF0..=0xF7 => (
            (lead & 0x07) << 18 | next(1)? << 12 | next(2)? << 6 | next(3)?,
            4,
            0x1_0000,
        ),
        _ => return None,
    };
    if cp < least {
        return None;
    }
    char::from_u32(cp).map(|c| (c, len))
}

/// Whether the leet view of ASCII `bytes` holds anything: whether a token (see
/// [`FoldBuffers::tokenize`]) has a letter (or `@`, `$`) and a substitution the leet view
/// undoes, which is what [`FoldBuffers::build_leet_view`] asks of it (ASCII has no
/// confusables). If not, the view is empty and no count changes.
fn ascii_leet_view_is_needed(bytes: &[u8]) -> bool {
    // What a token needs, gathered over a run of letters, digits and symbols; a `!` or `(`
    // counts only inside the token, as `tokenize` trims them from its ends.
    let (mut acc, mut after_punct) = (0u8, false);
    for (k, &b) in bytes.iter().enumerate() {
        let f = ASCII_LEET[usize::from(b)];
        if f & L_TOKEN == 0 {
            if acc & (L_LETTER | L_STRONG) == L_LETTER | L_STRONG {
                return true;
            }
            (acc, after_punct) = (0, false);
            continue;
        }
        if f & L_PUNCT != 0 {
            // Inside if something not trimmed came before it in the token.
            after_punct |= acc & L_CORE != 0;
            continue;
        }
        acc |= f | L_CORE;
        if after_punct {
            // So the `!` or `(` before it was inside.
            acc |= L_STRONG;
        }
        if b == b'I' && k > 0 && bytes[k - 1].is_ascii_lowercase() {
            acc |= L_STRONG;
        }
    }
    acc & (L_LETTER | L_STRONG) == L_LETTER | L_STRONG
}

/// Whether the joined view of ASCII `bytes` could hold anything: whether three tokens in a
/// row (see [`FoldBuffers::tokenize`]) are one unit long, which a run that
/// [`FoldBuffers::build_joined_view`] joins needs. Each run of letters, digits and symbols
/// is taken for a token, trimmed of the `!` and `(` at its ends (none if nothing is left);
/// a masked word that `tokenize` makes of several runs is longer than one unit, so taking
/// its runs apart can only find more single ones, never fewer.
fn ascii_join_is_possible(bytes: &[u8]) -> bool {
    let (mut i, mut in_a_row) = (0, 0);
    while i < bytes.len() {
        if ASCII_CLASS[usize::from(bytes[i])] > SYM {
            i += 1;
            continue;
        }
        let mut first = i;
        while i < bytes.len() && ASCII_CLASS[usize::from(bytes[i])] <= SYM {
            i += 1;
        }
        let mut end = i;
        while first < end && matches!(bytes[first], b'!' | b'(') {
            first += 1;
        }
        while end > first && matches!(bytes[end - 1], b'!' | b'(') {
            end -= 1;
        }
        match end - first {
            // Punctuation only: no token, so the tokens around it are in a row.
            0 => {}
            1 => {
                in_a_row += 1;
                if in_a_row == 3 {
                    return true;
                }
            }
            _ => in_a_row = 0,
        }
    }
    false
}

/// [`ASCII_LEET`] bits: a letter, digit or symbol (part of a token).
const L_TOKEN: u8 = 1;
/// A letter, `@` or `$`: what lets a token into the leet view.
const L_LETTER: u8 = 2;
/// A substitution the leet view undoes (`4 8 3 6 9 1 0 5 7 @ $ | +`; `!` and `(` apart).
const L_STRONG: u8 = 4;
/// `!` or `(`: punctuation at the ends of a token, a substitution inside it.
const L_PUNCT: u8 = 8;
/// Set in the accumulator once a byte that is not `!` or `(` was seen in the token.
const L_CORE: u8 = 16;

/// The [`ascii_leet_view_is_needed`] bits of each ASCII byte.
static ASCII_LEET: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)]
        let c = b as u8;
        let class = ascii_class(c);
        if class <= SYM {
            t[b] = L_TOKEN;
            if class == ALPHA || c == b'@' || c == b'$' {
                t[b] |= L_LETTER;
            }
            if c == b'!' || c == b'(' {
                t[b] |= L_PUNCT;
            } else if class != ALPHA && canonical(c as char).1 {
                t[b] |= L_STRONG;
            }
        }
        b += 1;
    }
    t
};

/// [`ASCII_TOKEN`] values: not a token byte (a separator), a letter, a byte the leet view
/// could undo (a digit or a leet symbol), a capital I (undone after a lower-case letter).
const T_NONE: u8 = 0;
const T_LETTER: u8 = 1;
const T_LEETY: u8 = 2;
const T_CAPITAL_I: u8 = 3;

/// What [`FoldBuffers::tokenize_ascii`] asks of each ASCII byte.
static ASCII_TOKEN: [u8; 256] = {
    let mut t = [T_NONE; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)]
        let c = b as u8;
        t[b] = match ascii_class(c) {
            ALPHA if c == b'I' => T_CAPITAL_I,
            ALPHA => T_LETTER,
            DIGIT | SYM => T_LEETY,
            _ => T_NONE,
        };
        b += 1;
    }
    t
};

/// Where tokens and the leet and joined views read units from: the units decoded, or the
/// bytes of ASCII input, whose units (one a byte) most messages never need written out.
trait UnitSource {
    fn count(&self) -> usize;
    fn unit(&self, i: usize) -> Unit;

    /// The ASCII bytes these units are, one a byte, if they are read from bytes.
    #[inline]
    fn ascii(&self) -> Option<&[u8]> {
        None
    }

    /// Whether unit `i` is a mask symbol ([`is_mask`]).
    #[inline]
    fn mask(&self, i: usize) -> bool {
        is_mask(self.unit(i))
    }
}

impl UnitSource for [Unit] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }

    #[inline]
    fn unit(&self, i: usize) -> Unit {
        self[i]
    }
}

/// The units of ASCII bytes, as [`FoldBuffers::push_ascii`] writes them.
struct AsciiUnits<'a>(&'a [u8]);

impl UnitSource for AsciiUnits<'_> {
    #[inline]
    fn count(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn ascii(&self) -> Option<&[u8]> {
        Some(self.0)
    }

    #[inline]
    fn mask(&self, i: usize) -> bool {
        matches!(self.0[i], b'*' | b'#')
    }

    #[inline]
    fn unit(&self, i: usize) -> Unit {
        let b = self.0[i];
        #[allow(clippy::cast_possible_truncation)]
        let at = i as u32;
        Unit {
            ch: char::from(b.to_ascii_lowercase()),
            start: at,
            end: at + 1,
            class: ASCII_CLASS[usize::from(b)],
            flags: if b == b'I' && i > 0 && self.0[i - 1].is_ascii_lowercase() {
                U_CAPITAL_I
            } else {
                0
            },
        }
    }
}

/// Whether a unit is a leet symbol that punctuates a sentence at the edge of a word.
#[inline]
fn punctuating(u: Unit) -> bool {
    u.class == SYM && punctuates(u.ch)
}

/// Whether a unit is a mask symbol: `*` or `#`, which may stand for a hidden letter.
#[inline]
fn is_mask(u: Unit) -> bool {
    u.class == SEP && matches!(u.ch, '*' | '#')
}

/// Whether a mask symbol follows a letter, digit or symbol and comes before a letter, as in
/// every masked word (see [`masked_end`]): most messages with a `*` or `#` (`#hashtags`,
/// `**bold**`, `5*3`) have none, so the leet view is not built for their sake.
fn masks_a_letter<S: UnitSource + ?Sized>(units: &S) -> bool {
    let count = units.count();
    let mut i = 1;
    while i < count {
        if is_mask(units.unit(i)) && units.unit(i - 1).class <= SYM {
            let mut j = i + 1;
            while j < count && is_mask(units.unit(j)) {
                j += 1;
            }
            if j < count && units.unit(j).class == ALPHA {
                return true;
            }
            i = j;
        }
        i += 1;
    }
    false
}

/// [`masks_a_letter`] for the units of ASCII `bytes`: only the `*` and `#` are looked at.
fn ascii_masks_a_letter(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(b'*', b'#', bytes).any(|p| {
        p > 0
            && ASCII_CLASS[usize::from(bytes[p - 1])] <= SYM
            && bytes[p..]
                .iter()
                .find(|&&b| b != b'*' && b != b'#')
                .is_some_and(u8::is_ascii_alphabetic)
    })
}

/// The end of the masked word starting at unit `i` (the first of a run of letters, digits
/// and symbols), if one starts there: pieces of such runs joined by runs of mask symbols, each
/// mask run right after a piece and right before a letter (`f*ck`, `f**k`, `sh#t`, `b*tch!`).
/// Not when every piece is one unit and there are three or more (`f*u*c*k`): that is a word
/// spelled out with `*` between its letters, which the joined view joins; and never from a
/// piece right after a mask, inside such a chain. The leet view shows
/// a masked word whole, each run of mask symbols as one `*` with its run (see
/// `rules::masked`, which finds the terms it can stand for).
fn masked_end<S: UnitSource + ?Sized>(units: &S, i: usize, count: usize) -> Option<usize> {
    // A piece right after a mask belongs to the chain decided where it starts.
    if i > 0 && units.mask(i - 1) {
        return None;
    }
    let (mut j, mut pieces, mut singles_only) = (i, 0usize, true);
    let end = loop {
        let piece = j;
        while j < count && units.unit(j).class <= SYM {
            j += 1;
        }
        pieces += 1;
        singles_only &= j - piece == 1;
        let end = j;
        while j < count && units.mask(j) {
            j += 1;
        }
        if j == end || j == count || units.unit(j).class != ALPHA {
            break end;
        }
    };
    (pieces >= 2 && !(singles_only && pieces >= 3)).then_some(end)
}

/// Whether a leet symbol at the edge of a word is sentence punctuation rather than a letter.
fn punctuates(c: char) -> bool {
    matches!(c, '!' | '(')
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

/// The views of a folded message, owned: for tools, tests and explanations. The hot path
/// uses the same code on buffers inside [`Scratch`](crate::Scratch) instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    /// The word view, repeats kept: lower case, confusables and compatibility forms mapped,
    /// marks and invisibles dropped, one space between words.
    pub word: String,
    /// The word view with repeated letters collapsed.
    pub word_collapsed: String,
    /// The leet view (only words that hold a disguise), collapsed.
    pub leet: String,
    /// The joined view (single letters joined), collapsed.
    pub joined: String,
    /// The split view (words cut in two, joined back: `fu ck`, `bi.tch`), collapsed.
    pub split: String,
    /// For each byte of `word`, the span of the original it came from.
    pub word_spans: Vec<Span>,
    /// What folding undid.
    pub stats: FoldStats,
}

/// Reusable folding buffers: folds messages into their views without allocating (after the
/// first call), for tools, benchmarks and features.
///
/// ```
/// let mut folder = chatguard::fold::Folder::new(4096);
/// let views = folder.fold(b"what the f.u.c.k");
/// assert_eq!(views.word(), "what the f u c k");
/// assert_eq!(views.joined(), "fuck");
/// ```
#[derive(Clone, Debug)]
pub struct Folder {
    buffers: FoldBuffers,
}

impl Folder {
    /// Buffers for messages of about `max_bytes` bytes. The buffers keep headroom for
    /// characters that fold to several (`ﬃ` → `ffi`), so a message a little longer is still
    /// folded whole; past the headroom it is folded in part and marked
    /// [`FoldedRef::truncated`]. (A [`Filter`](crate::Filter) cuts messages at
    /// `Config::max_message_bytes` before folding.)
    #[must_use]
    pub fn new(max_bytes: usize) -> Folder {
        Folder {
            buffers: FoldBuffers::new(max_bytes),
        }
    }

    /// Folds `text` (any bytes; invalid UTF-8 is a separator) into every view.
    pub fn fold(&mut self, text: &[u8]) -> FoldedRef<'_> {
        self.buffers.fold(text);
        FoldedRef {
            buffers: &self.buffers,
        }
    }
}

/// The views of a message folded by a [`Folder`], borrowed from it.
#[derive(Clone, Copy, Debug)]
pub struct FoldedRef<'a> {
    buffers: &'a FoldBuffers,
}

impl<'a> FoldedRef<'a> {
    /// The word view, repeats kept (see [`Folded::word`]).
    #[must_use]
    pub fn word(&self) -> &'a str {
        self.buffers.plain.as_str()
    }

    /// The word view with repeats collapsed and `v` folded to `u`: what blocked terms are
    /// matched against.
    #[must_use]
    pub fn word_collapsed(&self) -> &'a str {
        self.buffers.word.as_str()
    }

    /// The leet view (only words that hold a disguise), collapsed.
    #[must_use]
    pub fn leet(&self) -> &'a str {
        self.buffers.leet.as_str()
    }

    /// The joined view (single letters joined), collapsed.
    #[must_use]
    pub fn joined(&self) -> &'a str {
        self.buffers.joined.as_str()
    }

    /// The split view (words cut in two, joined back: `fu ck`, `bi.tch`), collapsed.
    #[must_use]
    pub fn split(&self) -> &'a str {
        self.buffers.split.as_str()
    }

    /// The original span of byte `i` of [`word`](Self::word).
    #[must_use]
    pub fn word_span(&self, i: usize) -> Span {
        self.buffers.plain.span(i, i + 1)
    }

    /// What folding undid.
    #[must_use]
    pub fn stats(&self) -> FoldStats {
        self.buffers.stats
    }

    /// Whether the message did not fit in the buffers and was folded only in part.
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.buffers.truncated
    }
}

/// Folds `text` into its views (allocates; see the module docs, and [`Folder`] for the
/// reusable form).
///
/// ```
/// let f = chatguard::fold::fold("Ｆück ＴＨＩＳ");
/// assert_eq!(f.word, "fuck this");
/// let f = chatguard::fold::fold("f.u.c.k off");
/// assert_eq!(f.joined, "fuck");
/// let f = chatguard::fold::fold("5h1t happens");
/// assert_eq!(f.leet, "shit hapens"); // plain words beside a disguised one, collapsed
/// let f = chatguard::fold::fold("no disguise here");
/// assert_eq!(f.leet, "");
/// ```
#[must_use]
pub fn fold(text: &str) -> Folded {
    let mut buffers = FoldBuffers::new(text.len());
    buffers.fold(text.as_bytes());
    let plain = &buffers.plain;
    Folded {
        word: plain.as_str().to_owned(),
        word_collapsed: buffers.word.as_str().to_owned(),
        leet: buffers.leet.as_str().to_owned(),
        joined: buffers.joined.as_str().to_owned(),
        split: buffers.split.as_str().to_owned(),
        word_spans: (0..plain.text.len())
            .map(|i| plain.span(i, i + 1))
            .collect(),
        stats: buffers.stats,
    }
}

#[cfg(test)]
mod tests {
    use super::FoldBuffers;
    use proptest::prelude::*;

    type View = (String, Vec<(u32, u32, u8, u8)>);

    fn view(v: &super::View) -> View {
        let meta = v
            .meta
            .iter()
            .map(|m| (m.start, m.end, m.run, m.flags))
            .collect();
        (v.as_str().to_owned(), meta)
    }

    /// The word view of `input` by `fold_views` without the plain view (the fast path when
    /// it applies), or by the general path alone; and whether the fast path was taken.
    fn word_view(input: &str, general: bool) -> (View, bool) {
        let mut b = FoldBuffers::new(input.len() + 16);
        if general {
            b.fold(input.as_bytes());
        } else {
            b.fold_views(input.as_bytes(), false);
        }
        let fast = b.units_state == super::Units::None && !input.is_empty();
        (view(&b.word), fast)
    }

    #[test]
    fn plain_text_takes_the_fast_path() {
        let (word, fast) = word_view("Soooo good, see you at 9!", false);
        assert!(fast);
        assert_eq!(word.0, "so god se you at 9");
        assert_eq!(word_view("Soooo good, see you at 9!", true).0, word);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// The fast path builds exactly the word view the general path builds.
        #[test]
        fn fast_path_equals_general_path(s in "[a-zA-Z0-9 .,!?()'@$|+vI_\\-🔥こ世éß\u{200b}]{0,40}") {
            prop_assert_eq!(word_view(&s, false).0, word_view(&s, true).0);
        }

        /// The scan that spares most ASCII lines the tokens and the joined view never says
        /// no to a line whose joined view holds something.
        #[test]
        fn join_scan_misses_no_joined_letters(s in "([a-cIv1!(@*#'.]{1,3}[ .,_\\-!*]{0,3}){0,12}") {
            let bytes = s.as_bytes();
            let mut b = FoldBuffers::new(bytes.len() + 16);
            let units = super::AsciiUnits(bytes);
            b.tokenize(&units);
            b.build_joined_view(&units);
            prop_assert!(b.joined.text.is_empty() || super::ascii_join_is_possible(bytes));
        }

        /// The word view is the plain view with `v` written as `u` and every run of a
        /// character collapsed to one: what lets a regex's literals, so rewritten, be
        /// looked for in the word view before the plain view is built.
        #[test]
        fn word_view_is_the_plain_view_rewritten(s in "[a-zA-Z0-9 .,!?()'@$|+vVuU_\\-🔥こ世éßſﬃＡ\u{200b}\u{301}]{0,60}|\\PC{0,30}") {
            let mut b = FoldBuffers::new(512);
            b.fold(s.as_bytes());
            let mut want = String::new();
            let mut last = None;
            for c in b.plain.as_str().chars().map(super::word_letter) {
                // Runs are collapsed within words; spaces already stand alone.
                if last != Some(c) || c == ' ' {
                    want.push(c);
                }
                last = Some(c);
            }
            prop_assert_eq!(b.word.as_str(), want.as_str());
        }
    }
}
