//! The split view: words cut in two and written as two (`fu ck`, `bit ch`, `fu.ck`,
//! `bi_tch`), joined back.
//!
//! The word view splits at every space and every separator, so a word cut by one is two
//! words there. This view joins the words of the word view that are *pieces* of one word:
//!
//! * two words with only a separator between them in the original, and no space or
//!   apostrophe (`fu.ck`, `bi-tch`, `fu🍆ck`): people do not put a dot or a dash inside a
//!   word except to cut it (`he'll`, `who're` stay apart: an apostrophe joins contractions);
//! * two words with only spaces between them, each of at least two letters, when one of
//!   them is a *fragment*: two letters that are not a word of their own (`fu ck`, `sh it`,
//!   `bit ch`), where a word is an English word of two letters or a chat abbreviation
//!   ([`COMMON_PAIRS`]: `is`, `it`, `gg`, `ur`). So `pen is`, `go ok` and `this hit` stay
//!   apart: no word is invented out of real ones.
//!
//! Only words of ASCII letters are pieces (digits, symbols and other scripts are for the
//! word and leet views). The pieces keep the word view's bytes, runs, spans and flags, with
//! `TOKEN_START` and `TOKEN_END` at each piece's first and last byte; the rule matcher
//! keeps a match only when it starts at the start of a piece, crosses the cut between two,
//! and ends at the end of one (or anywhere, for a term written `term*`), so `this.hit` does
//! not hold "shit". A letter repeated across the cut (`as shole`) is one run, as in the
//! other views.

use super::{FoldBuffers, View, TOKEN_END, TOKEN_START, WORD_HAS_RUN};

/// Two-letter English words and chat abbreviations: never a fragment of a cut word. The
/// rest of the 676 pairs of letters may be (`fu`, `ck`, `sh`, `ch`, `ni`, `cu`).
pub(crate) const COMMON_PAIRS: &[&[u8; 2]] = &[
    // English words and the parts contractions leave when the apostrophe is dropped.
    b"ad", b"ah", b"al", b"am", b"an", b"ar", b"as", b"at", b"aw", b"ax", b"ay", b"be", b"bi",
    b"bo", b"by", b"co", b"da", b"de", b"do", b"ed", b"eh", b"el", b"em", b"en", b"er", b"es",
    b"et", b"ex", b"go", b"ha", b"he", b"hi", b"hm", b"ho", b"id", b"if", b"im", b"in", b"is",
    b"it", b"jo", b"la", b"le", b"li", b"ll", b"lo", b"ma", b"me", b"mi", b"mm", b"mo", b"mu",
    b"my", b"na", b"ne", b"no", b"nu", b"ny", b"of", b"oh", b"oi", b"ok", b"om", b"on", b"oo",
    b"or", b"ow", b"ox", b"oy", b"pa", b"pe", b"pi", b"po", b"re", b"sa", b"si", b"so", b"ta",
    b"te", b"ti", b"to", b"uh", b"um", b"un", b"up", b"us", b"ve", b"we", b"wo", b"ya", b"ye",
    b"yo", b"yu", // Chat, gaming and everyday abbreviations.
    b"af", b"ai", b"ap", b"bb", b"bc", b"bf", b"bg", b"bp", b"bs", b"cc", b"cd", b"cs", b"cu",
    b"cv", b"dc", b"dj", b"dm", b"dr", b"ds", b"ea", b"eg", b"ep", b"eu", b"ez", b"fb", b"ff",
    b"fr", b"ft", b"fx", b"gb", b"gf", b"gg", b"gj", b"gl", b"gm", b"gn", b"gp", b"gr", b"gz",
    b"hf", b"hp", b"hq", b"hr", b"ic", b"ie", b"ig", b"ik", b"io", b"ip", b"iq", b"ir", b"jk",
    b"jr", b"js", b"kb", b"kd", b"kg", b"kk", b"km", b"ko", b"lb", b"lf", b"lg", b"lm", b"lp",
    b"lt", b"lv", b"mb", b"mc", b"md", b"mg", b"mk", b"ml", b"mp", b"mr", b"ms", b"mt", b"mv",
    b"nd", b"nm", b"np", b"ns", b"nt", b"nw", b"ob", b"oc", b"og", b"op", b"os", b"ot", b"pc",
    b"pg", b"ph", b"pk", b"pl", b"pm", b"pp", b"pr", b"ps", b"pt", b"pu", b"pv", b"pw", b"qa",
    b"qt", b"rd", b"rl", b"rn", b"rp", b"rs", b"rt", b"sc", b"sd", b"sf", b"sg", b"sk", b"sm",
    b"sp", b"sr", b"ss", b"st", b"sw", b"tb", b"tc", b"td", b"tf", b"th", b"tl", b"tp", b"tr",
    b"ts", b"tt", b"tv", b"tx", b"ty", b"ui", b"uk", b"ur", b"uw", b"vc", b"vg", b"vp", b"vr",
    b"vs", b"wb", b"wc", b"wp", b"wr", b"wt", b"ww", b"xd", b"xl", b"xo", b"xp", b"xx", b"yt",
    b"yw",
];

/// [`COMMON_PAIRS`] as a bit per pair: bit `b` of row `a` for the pair `a`, `b`.
const PAIRS: [u32; 26] = {
    let mut rows = [0u32; 26];
    let mut i = 0;
    while i < COMMON_PAIRS.len() {
        let [a, b] = *COMMON_PAIRS[i];
        rows[(a - b'a') as usize] |= 1 << (b - b'a');
        i += 1;
    }
    rows
};

/// Whether `word` (bytes of the word view) is a fragment: two ASCII letters that are not a
/// word of their own.
fn is_fragment(word: &[u8]) -> bool {
    match *word {
        [a, b] if a.is_ascii_lowercase() && b.is_ascii_lowercase() => {
            PAIRS[usize::from(a - b'a')] & (1 << (b - b'a')) == 0
        }
        _ => false,
    }
}

/// Whether the original bytes between two pieces cut one word: a separator of at most eight
/// bytes (`.`, `-`, `_`, `*`, an emoji) with no space, no apostrophe (`he'll`) and none of
/// the characters of addresses and mentions (`/ : @ # & = ? %`: `http://t.co`, `me@mail`);
/// or, with `spaced` set, spaces only.
fn cut(gap: &[u8], spaced: bool) -> bool {
    if gap.is_empty() {
        return false;
    }
    if gap.iter().all(u8::is_ascii_whitespace) {
        return spaced;
    }
    gap.len() <= 8
        && !gap.iter().any(|&b| {
            b.is_ascii_whitespace()
                || matches!(b, b'\'' | b'`' | b'/' | b':' | b'@' | b'#' | b'&' | b'=' | b'?' | b'%')
        })
        // U+2018, U+2019 (quotation marks used as apostrophes), U+00B4 (acute accent)
        && !gap.windows(3).any(|w| matches!(w, [0xE2, 0x80, 0x98 | 0x99]))
        && !gap.windows(2).any(|w| w == [0xC2, 0xB4])
}

impl FoldBuffers {
    /// Builds the split view of the word view of `input` (the text last folded); returns
    /// whether it holds anything. Allocates nothing: the view has the word view's capacity.
    #[inline(never)] // measured: inlined into the matcher's `find`, it slowed the rest of it
    pub fn build_split_view(&mut self, input: &[u8]) -> bool {
        let split = &mut self.split;
        if !split.text.is_empty() {
            split.text.clear();
            split.meta.clear();
        }
        let word = &self.word;
        let (text, meta, words) = (&word.text[..], &word.meta[..], &word.words[..]);
        // No cut is possible before the word the test points at.
        let Some(from) = may_hold_cut(input, text, meta, words) else {
            return false;
        };
        // The first word of the compound being read, if any.
        let mut first = None;
        // The previous word: its bytes in the view, and where it ends in the original.
        let (mut ps, mut pe, mut prev_end) = (0, 0, usize::MAX);
        for k in from..words.len() {
            let (s, e) = word_bytes(text.len(), words, k);
            if s >= e {
                continue;
            }
            let start = meta[s].start as usize;
            // The common case first: one space between the words, neither of two letters.
            let spaced = start == prev_end.wrapping_add(1) && input.get(prev_end) == Some(&b' ');
            let joined = prev_end != usize::MAX
                && !(spaced && e - s != 2 && pe - ps != 2)
                && joins(
                    input.get(prev_end..start).unwrap_or(&[]),
                    text,
                    (ps, pe),
                    (s, e),
                );
            if joined {
                first.get_or_insert(k - 1);
            } else if let Some(f) = first.take() {
                write_compound(split, word, f, k);
            }
            (ps, pe, prev_end) = (s, e, meta[e - 1].end as usize);
        }
        if let Some(f) = first {
            write_compound(split, word, f, words.len());
        }
        if split.text.last() == Some(&b' ') {
            split.text.pop();
            split.meta.pop();
        }
        !split.text.is_empty()
    }
}

/// Whether the word view (`text`, `meta`, word starts `words`) of `input` may hold a cut
/// word, and the first word a cut may follow: a word that is a fragment (what a cut at a
/// space needs), or two words with neither a space nor an apostrophe at either end of the
/// original bytes between them (what a cut by a separator needs). One step a word, most of
/// them a length test and two comparisons; a layout it does not expect answers from the
/// start (the full build decides).
fn may_hold_cut(input: &[u8], text: &[u8], meta: &[super::Meta], words: &[u32]) -> Option<usize> {
    let apart = |b: u8| b.is_ascii_whitespace() || b == b'\'';
    let (&first, rest) = words.split_first()?;
    let mut prev = (first & !WORD_HAS_RUN) as usize;
    for (k, &w) in rest.iter().enumerate() {
        // `w` is word `k + 1`; a cut after word `k - 1` is the earliest a fragment at word `k`
        // allows.
        let s = (w & !WORD_HAS_RUN) as usize;
        // The previous word is `prev..s - 1`: words are one space apart.
        if s < prev + 2 || s + 1 > text.len() {
            return Some(0);
        }
        if s - 1 - prev == 2 && is_fragment(&text[prev..prev + 2]) {
            return Some(k.saturating_sub(1));
        }
        let (end, start) = (meta[s - 2].end as usize, meta[s].start as usize);
        if end < start {
            if let (Some(&x), Some(&y)) = (input.get(end), input.get(start - 1)) {
                if !apart(x) && !apart(y) {
                    return Some(k);
                }
            }
        }
        prev = s;
    }
    (text.len() == prev + 2 && is_fragment(&text[prev..])).then(|| words.len().saturating_sub(2))
}

/// Whether the word-view words at bytes `ps..pe` and `s..e` (the next word), with the
/// original bytes `gap` between them, are two pieces of one word.
fn joins(gap: &[u8], text: &[u8], (ps, pe): (usize, usize), (s, e): (usize, usize)) -> bool {
    let candidate = match gap.first() {
        None => false,
        Some(b) if b.is_ascii_whitespace() => {
            let (a, b) = (&text[ps..pe], &text[s..e]);
            ((a.len() == 2 && b.len() >= 2 && is_fragment(a))
                || (b.len() == 2 && a.len() >= 2 && is_fragment(b)))
                && cut(gap, true)
        }
        Some(_) => cut(gap, false),
    };
    candidate
        && text[ps..pe].iter().all(u8::is_ascii_lowercase)
        && text[s..e].iter().all(u8::is_ascii_lowercase)
}

/// Bytes `s..e` of word `k` of a view of `len` bytes whose words start at `words`: words
/// are one space apart, and the last ends the view (a full view may cut it).
#[inline]
fn word_bytes(len: usize, words: &[u32], k: usize) -> (usize, usize) {
    let s = (words[k] & !WORD_HAS_RUN) as usize;
    let e = match words.get(k + 1) {
        Some(&next) => ((next & !WORD_HAS_RUN) as usize - 1).min(len),
        None => len,
    };
    (s, e)
}

/// Writes the words `first..last` (at least two) of `word` into `split` as one compound,
/// followed by a space.
fn write_compound(split: &mut View, word: &View, first: usize, last: usize) {
    debug_assert!(last >= first + 2);
    for k in first..last {
        let (s, e) = word_bytes(word.text.len(), &word.words, k);
        for i in s..e {
            let mut m = word.meta[i];
            m.flags &= !(TOKEN_START | TOKEN_END);
            if i == s {
                m.flags |= TOKEN_START;
            }
            if i + 1 == e {
                m.flags |= TOKEN_END;
            }
            // A letter repeated across the cut (`as shole`) is one run.
            if i == s && k > first && split.text.last() == Some(&word.text[i]) {
                if let Some(prev) = split.meta.last_mut() {
                    prev.run = prev.run.saturating_add(m.run);
                    prev.end = m.end;
                    prev.flags |= m.flags;
                }
                continue;
            }
            // The split view has the word view's capacity and holds fewer bytes.
            split.text.push(word.text[i]);
            split.meta.push(m);
        }
    }
    let end = split.meta.last().map_or(0, |m| m.end);
    split.text.push(b' ');
    split.meta.push(super::Meta {
        start: end,
        end,
        run: 1,
        flags: 0,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_of(text: &str) -> String {
        let mut b = FoldBuffers::new(256);
        b.fold(text.as_bytes());
        b.build_split_view(text.as_bytes());
        b.split.as_str().to_owned()
    }

    #[test]
    fn joins_cut_words_only() {
        assert_eq!(split_of("fu ck you"), "fuckyou");
        assert_eq!(split_of("you are a bit ch"), "bitch");
        // `ck` is a fragment, so `off` after it joins too: the match may end at any piece.
        assert_eq!(split_of("fu.ck off, bi_tch"), "fuckof bitch"); // runs collapsed
        assert_eq!(split_of("Sh-It"), "shit");
        assert_eq!(split_of("as.shole"), "ashole");
        for clean in [
            "the pen is mightier",
            "go ok",
            "this hit song",
            "he'll be back",
            "who're you",
            "well known",
            "a ss",
            "5 hit combo",
            "",
        ] {
            assert_eq!(split_of(clean), "", "{clean}");
        }
    }

    #[test]
    fn pairs_are_sorted_lowercase_and_unique() {
        let mut all: Vec<_> = COMMON_PAIRS.iter().map(|p| **p).collect();
        assert!(all.iter().flatten().all(u8::is_ascii_lowercase));
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), COMMON_PAIRS.len());
    }

    proptest::proptest! {
        /// Every compound of the split view is two or more consecutive words of the word
        /// view, joined (a letter repeated across a cut is one run), in ASCII letters.
        #[test]
        fn compounds_are_consecutive_words(
            text in "([a-zA-Z]{1,5}[ .\\-_'/,!🍆]{1,3}){0,10}",
        ) {
            let mut b = FoldBuffers::new(512);
            b.fold(text.as_bytes());
            let words: Vec<&str> = b.word.as_str().split(' ').collect();
            let squeeze = |s: &str| {
                let mut v: Vec<char> = s.chars().collect();
                v.dedup();
                v.into_iter().collect::<String>()
            };
            for compound in b.split.as_str().split(' ').filter(|c| !c.is_empty()) {
                proptest::prop_assert!(compound.bytes().all(|c| c.is_ascii_lowercase()));
                let found = (0..words.len()).any(|i| {
                    (i + 2..=words.len()).any(|j| squeeze(&words[i..j].concat()) == squeeze(compound))
                });
                proptest::prop_assert!(found, "{compound:?} in {:?}", b.word.as_str());
            }
        }
    }
}
