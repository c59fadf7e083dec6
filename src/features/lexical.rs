//! The lexical features of the original text: lengths, character classes, runs, links,
//! mentions, emoji.
//!
//! One pass: ASCII bytes (most chat) are counted eight character classes at once, with one
//! table lookup and one addition per byte (a byte-wide counter per class in a `u64`); other
//! characters are decoded and classified one by one, and an invalid UTF-8 sequence counts
//! as one whitespace character. Words are only looked at (for links and mentions) when the
//! text holds a `.`, `:` or `@`.

/// Counts gathered from one message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lexical {
    pub chars: u32,
    pub upper: u32,
    pub letters: u32,
    pub digits: u32,
    pub symbols: u32,
    pub non_space: u32,
    pub non_ascii: u32,
    pub emoji: u32,
    pub exclamations: u32,
    pub currency: u32,
    pub urls: u32,
    pub mentions: u32,
    /// Distinct characters: ASCII ones exactly, others by code point modulo 1024.
    pub distinct: u32,
}

/// The byte-wide counters of [`CLASSES`], by position in the `u64`.
const UPPER: usize = 0;
const LOWER: usize = 1;
const DIGIT: usize = 2;
const SPACE: usize = 3;
const BANG: usize = 4;
const DOLLAR: usize = 5;
/// `.`, `:` and `@`: a word holding one may be a link or a mention.
const MARK: usize = 6;
/// ASCII control characters other than whitespace: not letters, digits or punctuation.
const CONTROL: usize = 7;

/// For each ASCII byte, a 1 in the byte-wide counter of its class (none for punctuation
/// other than `! $ . : @`). Indexed by any byte, so that a byte needs no mask to be looked
/// up: the ASCII passes look up only ASCII bytes (the rest of the table is zero).
static CLASSES: [u64; 256] = classes();

const fn classes() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 128 {
        #[allow(clippy::cast_possible_truncation)]
        let b = i as u8;
        let class = if b.is_ascii_uppercase() {
            UPPER
        } else if b.is_ascii_lowercase() {
            LOWER
        } else if b.is_ascii_digit() {
            DIGIT
        } else if b == b' ' || (b >= b'\t' && b <= b'\r') {
            // `char::is_whitespace` on ASCII: tab to carriage return, and space.
            SPACE
        } else if b == b'!' {
            BANG
        } else if b == b'$' {
            DOLLAR
        } else if b == b'.' || b == b':' || b == b'@' {
            MARK
        } else if b.is_ascii_punctuation() {
            usize::MAX
        } else {
            CONTROL
        };
        if class != usize::MAX {
            table[i] = 1 << (8 * class);
        }
        i += 1;
    }
    table
}

impl Lexical {
    /// The counts of `text`.
    pub fn of(text: &[u8]) -> Lexical {
        let mut pass = Pass::default();
        if text.is_ascii() {
            for block in text.chunks(BLOCK) {
                let mut acc = 0u64;
                for &b in block {
                    pass.ascii_byte(b, &mut acc);
                }
                add_classes(&mut pass.classes, acc);
            }
            pass.ascii = text.len() as u32;
        } else {
            pass.mixed(text);
        }
        pass.finish(text)
    }
}

/// Byte-wide class counters overflow after 255 additions: they are added up every `BLOCK`
/// bytes.
const BLOCK: usize = 255;

/// The state of [`Lexical::of`]'s pass.
struct Pass {
    n: Lexical,
    /// The byte-wide class counters, summed.
    classes: [u32; 8],
    ascii: u32,
    /// One byte per ASCII character, 1 once seen: a store per byte, no dependency between
    /// bytes (a bitmap would chain every byte on the previous one). Indexed by any byte, like
    /// [`CLASSES`]; only the first 128 are ever set.
    seen_ascii: [u8; 256],
    /// Other characters by code point modulo 1024.
    seen_other: [u64; 16],
    other: u32,
    other_spaces: u32,
}

impl Default for Pass {
    fn default() -> Pass {
        Pass {
            n: Lexical::default(),
            classes: [0; 8],
            ascii: 0,
            seen_ascii: [0; 256],
            seen_other: [0; 16],
            other: 0,
            other_spaces: 0,
        }
    }
}

impl Pass {
    /// Counts one ASCII byte into the block's byte-wide counters `acc`: one table lookup and
    /// one addition, and one store for the distinct count (a store per byte has no
    /// dependency between bytes; a bitmap would chain every byte on the previous one).
    #[inline]
    fn ascii_byte(&mut self, b: u8, acc: &mut u64) {
        debug_assert!(b.is_ascii());
        *acc += CLASSES[usize::from(b)];
        self.seen_ascii[usize::from(b)] = 1;
    }

    /// Text with non-ASCII bytes: ASCII bytes as in the ASCII pass, other characters decoded
    /// one by one (an invalid sequence, as `str::from_utf8` delimits it, counts as one).
    fn mixed(&mut self, text: &[u8]) {
        let mut i = 0;
        // (The ASCII bytes are counted at the end: the other bytes are fewer.)
        let mut other_bytes = 0;
        while i < text.len() {
            // At most BLOCK ASCII bytes per block; a character may end a little past it.
            let end = (i + BLOCK).min(text.len());
            let mut acc = 0u64;
            while i < end {
                let b = text[i];
                if b.is_ascii() {
                    self.ascii_byte(b, &mut acc);
                    i += 1;
                } else {
                    let (c, len) = decode(&text[i..]);
                    self.other(c);
                    other_bytes += len;
                    i += len;
                }
            }
            add_classes(&mut self.classes, acc);
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            self.ascii = (text.len() - other_bytes) as u32;
        }
    }

    /// Counts one other character, `None` standing for an invalid UTF-8 sequence (counted as
    /// whitespace, and as U+FFFD for the distinct count).
    fn other(&mut self, c: Option<char>) {
        self.other += 1;
        let code = c.map_or(0xFFFD, u32::from);
        let slot = (code % 1024) as usize;
        self.seen_other[slot / 64] |= 1 << (slot % 64);
        let n = &mut self.n;
        if c.is_some_and(is_pictograph) {
            // Emoji, the commonest non-ASCII characters of chat, are neither whitespace,
            // letters nor currency: no Unicode table lookup (a test checks every one).
            n.non_ascii += 1;
            n.emoji += 1;
            return;
        }
        let Some(c) = c.filter(|c| !c.is_whitespace()) else {
            self.other_spaces += 1;
            return;
        };
        n.non_ascii += 1;
        if c.is_alphabetic() {
            n.letters += 1;
            n.upper += u32::from(c.is_uppercase());
        }
        n.emoji += u32::from(is_emoji(c));
        n.currency += u32::from(matches!(c, '£' | '€' | '¥'));
    }

    fn finish(self, text: &[u8]) -> Lexical {
        let mut n = self.n;
        let [upper, lower, digits, spaces, bangs, dollars, marks, controls] = self.classes;
        n.chars = self.ascii + self.other;
        n.upper += upper;
        n.letters += upper + lower;
        n.digits = digits;
        n.non_space = n.chars - spaces - self.other_spaces;
        // Every printable ASCII character that is not a letter or a digit is punctuation;
        // control characters are none of these.
        n.symbols = self.ascii - spaces - upper - lower - digits - controls;
        n.exclamations = bangs;
        n.currency += dollars;
        // The seen flags are 0 or 1 per byte: summing them eight at a time cannot carry
        // (at most 16 per byte lane), and one multiplication adds the lanes.
        let lanes = self.seen_ascii[..128]
            .chunks_exact(8)
            .map(|w| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]))
            .fold(0u64, u64::wrapping_add);
        #[allow(clippy::cast_possible_truncation)]
        let ascii_distinct = (lanes.wrapping_mul(0x0101_0101_0101_0101) >> 56) as u32;
        n.distinct = ascii_distinct;
        if self.other > 0 {
            // (Without a POPCNT instruction in the baseline target, a count is a dozen
            // instructions: skipped for ASCII text.)
            n.distinct += self.seen_other.iter().map(|w| w.count_ones()).sum::<u32>();
        }
        if marks > 0 {
            let mut count = |word: &[u8]| {
                n.urls += u32::from(is_url(word));
                n.mentions += u32::from(is_mention(word));
            };
            if self.other == 0 {
                // All ASCII: only the words around a mark that may start a link or a mention
                // are looked at (every link and mention holds one), each once.
                let space = |b: &u8| *b == b' ' || b.wrapping_sub(b'\t') < 5;
                let mut done = 0;
                for i in memchr::memchr3_iter(b'.', b':', b'@', text) {
                    if i < done || !may_start_link(text, i) {
                        continue;
                    }
                    let start = text[..i].iter().rposition(space).map_or(0, |p| p + 1);
                    let end = text[i..]
                        .iter()
                        .position(space)
                        .map_or(text.len(), |p| i + p);
                    count(&text[start..end]);
                    done = end;
                }
            } else if memchr::memchr3_iter(b'.', b':', b'@', text).any(|i| may_start_link(text, i))
            {
                for_each_word(text, count);
            }
        }
        n
    }
}

/// The character starting `bytes` (whose first byte is not ASCII) and its length; `None`
/// for an invalid sequence, whose length is the one `str::from_utf8` reports (the rest of
/// the text for a sequence cut short by its end), as `<[u8]>::utf8_chunks` delimits it.
fn decode(bytes: &[u8]) -> (Option<char>, usize) {
    let cont = |k: usize| bytes.get(k).copied().filter(|&b| b & 0xC0 == 0x80);
    let low = |b: u8| u32::from(b & 0x3F);
    // The second byte of a well-formed sequence, whose range depends on the lead byte (E0,
    // ED, F0 and F4 restrict it).
    let second = |lo: u8, hi: u8| bytes.get(1).copied().filter(|b| (lo..=hi).contains(b));
    // The well-formed sequences, decoded directly.
    let direct = match bytes[0] {
        0xC2..=0xDF => cont(1).map(|b1| (u32::from(bytes[0] & 0x1F) << 6 | low(b1), 2)),
        lead @ 0xE0..=0xEF => match lead {
            0xE0 => second(0xA0, 0xBF),
            0xED => second(0x80, 0x9F),
            _ => cont(1),
        }
        .zip(cont(2))
        .map(|(b1, b2)| (u32::from(lead & 0x0F) << 12 | low(b1) << 6 | low(b2), 3)),
        lead @ 0xF0..=0xF4 => match lead {
            // Emoji, the commonest four-byte characters, start F0 9F.
            0xF0 => second(0x90, 0xBF),
            0xF4 => second(0x80, 0x8F),
            _ => cont(1),
        }
        .zip(cont(2))
        .zip(cont(3))
        .map(|((b1, b2), b3)| {
            let lead = u32::from(bytes[0] & 0x07) << 18;
            (lead | low(b1) << 12 | low(b2) << 6 | low(b3), 4)
        }),
        _ => None,
    };
    if let Some((code, len)) = direct {
        return (char::from_u32(code), len);
    }
    let width = match bytes[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (None, 1),
    };
    let head = &bytes[..width.min(bytes.len())];
    match std::str::from_utf8(head) {
        Ok(s) => (s.chars().next(), width),
        Err(e) => (None, e.error_len().unwrap_or(head.len()).max(1)),
    }
}

/// Whether the mark (`.`, `:` or `@`) at `i` may belong to a link or a mention: an `@`
/// before a name character, `:/`, a `.` before a letter or digit, or `w.` before anything but
/// whitespace (`www.`). Every link and mention holds such a mark, so the words without one
/// (most sentences that end in a full stop) are never looked at.
fn may_start_link(text: &[u8], i: usize) -> bool {
    let before = if i > 0 { text[i - 1] } else { b' ' };
    let Some(&after) = text.get(i + 1) else {
        return false;
    };
    match text[i] {
        b'@' => after.is_ascii_alphanumeric() || after == b'_' || after == b'.',
        b':' => after == b'/',
        _ => {
            after.is_ascii_alphanumeric()
                || before.eq_ignore_ascii_case(&b'w') && !after.is_ascii_whitespace()
        }
    }
}

fn add_classes(classes: &mut [u32; 8], acc: u64) {
    for (k, count) in classes.iter_mut().enumerate() {
        *count += ((acc >> (8 * k)) & 0xff) as u32;
    }
}

/// Calls `f` with each word of `text`: the bytes between whitespace characters and invalid
/// UTF-8 sequences.
fn for_each_word(text: &[u8], mut f: impl FnMut(&[u8])) {
    let mut start = None;
    let mut offset = 0;
    for chunk in text.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            if c.is_whitespace() {
                if let Some(s) = start.take() {
                    f(&text[s..offset + i]);
                }
            } else if start.is_none() {
                start = Some(offset + i);
            }
        }
        offset += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            if let Some(s) = start.take() {
                f(&text[s..offset]);
            }
            offset += chunk.invalid().len();
        }
    }
    if let Some(s) = start {
        f(&text[s..]);
    }
}

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF)
}

/// The emoji that are neither letters nor whitespace: all but the squared, negative circled
/// and negative squared Latin capitals, which Unicode counts as alphabetic.
fn is_pictograph(c: char) -> bool {
    is_emoji(c)
        && !matches!(u32::from(c), 0x1F130..=0x1F149 | 0x1F150..=0x1F169 | 0x1F170..=0x1F189)
}

/// Whether a whitespace-separated word of the original text is a link: a scheme (`http://`),
/// `www.`, or a host ending in a common top-level domain.
pub(crate) fn is_url(word: &[u8]) -> bool {
    const TLDS: [&[u8]; 24] = [
        b"com", b"net", b"org", b"gg", b"tv", b"io", b"ly", b"co", b"me", b"ru", b"xyz", b"info",
        b"biz", b"uk", b"de", b"us", b"link", b"click", b"shop", b"top", b"site", b"online",
        b"app", b"store",
    ];
    if word.len() < 4 || !word.contains(&b'.') && !word.contains(&b':') {
        return false;
    }
    if word.windows(3).any(|w| w == b"://") {
        return true;
    }
    if word.len() > 4 && word[..4].eq_ignore_ascii_case(b"www.") {
        return true;
    }
    // host.tld, optionally followed by a path: find the host part.
    let host_end = word.iter().position(|&b| b == b'/').unwrap_or(word.len());
    let host = &word[..host_end];
    let host = host
        .strip_suffix(b".")
        .or_else(|| host.strip_suffix(b","))
        .unwrap_or(host);
    let Some(dot) = host.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let (name, tld) = (&host[..dot], &host[dot + 1..]);
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && name.iter().any(u8::is_ascii_alphabetic)
        && TLDS.iter().any(|t| tld.eq_ignore_ascii_case(t))
}

pub(crate) fn is_mention(word: &[u8]) -> bool {
    word.len() >= 2
        && word[0] == b'@'
        && word[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, one character at a time: what [`Lexical::of`] must compute.
    fn reference(text: &[u8]) -> Lexical {
        let mut n = Lexical::default();
        let mut seen = std::collections::HashSet::new();
        // Characters with their byte offsets; `None` for an invalid sequence.
        let mut chars: Vec<(usize, Option<char>)> = Vec::new();
        let mut offset = 0;
        for chunk in text.utf8_chunks() {
            chars.extend(
                chunk
                    .valid()
                    .char_indices()
                    .map(|(i, c)| (offset + i, Some(c))),
            );
            offset += chunk.valid().len();
            if !chunk.invalid().is_empty() {
                chars.push((offset, None));
                offset += chunk.invalid().len();
            }
        }
        let mut word_start = None;
        let mut words = Vec::new();
        for &(at, c) in &chars {
            n.chars += 1;
            let code = c.map_or(0xFFFD, u32::from);
            // ASCII exactly; other characters by code point modulo 1024, apart.
            seen.insert(if code < 128 { code } else { 1024 + code % 1024 });
            let Some(c) = c.filter(|c| !c.is_whitespace()) else {
                if let Some(s) = word_start.take() {
                    words.push(&text[s..at]);
                }
                continue;
            };
            word_start.get_or_insert(at);
            n.non_space += 1;
            n.non_ascii += u32::from(!c.is_ascii());
            if c.is_alphabetic() {
                n.letters += 1;
                n.upper += u32::from(c.is_uppercase());
            }
            n.digits += u32::from(c.is_ascii_digit());
            n.symbols += u32::from(c.is_ascii_punctuation());
            n.exclamations += u32::from(c == '!');
            n.currency += u32::from(matches!(c, '$' | '£' | '€' | '¥'));
            n.emoji += u32::from(is_emoji(c));
        }
        if let Some(s) = word_start {
            words.push(&text[s..]);
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            n.distinct = seen.len() as u32;
        }
        for word in words {
            n.urls += u32::from(is_url(word));
            n.mentions += u32::from(is_mention(word));
        }
        n
    }

    #[test]
    fn links_and_mentions() {
        for url in [
            "http://x.y",
            "https://bit.ly/abc",
            "www.example.org",
            "free-robux.xyz",
            "twitch.tv/someone",
            "Example.COM,",
        ] {
            assert!(is_url(url.as_bytes()), "{url}");
        }
        for not in ["a.b", "3.50", "e.g.", "...", "hello", "lol.jk", "1.com"] {
            assert!(!is_url(not.as_bytes()), "{not}");
        }
        assert!(is_mention(b"@streamer_1"));
        assert!(!is_mention(b"@"));
        assert!(!is_mention(b"a@b"));
    }

    /// `decode` against `utf8_chunks` (how the reference delimits characters) on every lead
    /// byte followed by continuation bytes at the edges of the ranges UTF-8 restricts, other
    /// bytes, and the end of the input after each byte.
    #[test]
    fn decode_delimits_like_utf8_chunks() {
        let next = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xF5,
        ];
        let mut inputs = Vec::new();
        for lead in 0x80..=0xFFu8 {
            inputs.push(vec![lead]);
            for &b1 in &next {
                inputs.push(vec![lead, b1]);
                for &b2 in &next {
                    inputs.push(vec![lead, b1, b2]);
                    for &b3 in &next {
                        inputs.push(vec![lead, b1, b2, b3, b'x']);
                    }
                }
            }
        }
        for bytes in inputs {
            let chunk = bytes.utf8_chunks().next().expect("non-empty input");
            let want = match chunk.valid().chars().next() {
                Some(c) => (Some(c), c.len_utf8()),
                None => (None, chunk.invalid().len()),
            };
            assert_eq!(decode(&bytes), want, "{bytes:02x?}");
        }
    }

    /// The shortcut for pictographs skips the Unicode lookups: it must not skip a letter or a
    /// space, and must cover every emoji that is neither.
    #[test]
    fn pictographs_are_the_emoji_that_are_neither_letters_nor_spaces() {
        for c in (0x2600..=0x2BFF)
            .chain(0x1F000..=0x1FAFF)
            .filter_map(char::from_u32)
        {
            let neither = !c.is_alphabetic() && !c.is_whitespace() && !c.is_uppercase();
            assert_eq!(
                is_pictograph(c),
                is_emoji(c) && neither,
                "U+{:04X}",
                u32::from(c)
            );
        }
        assert!(!is_pictograph('a') && !is_pictograph('\u{1F150}') && is_pictograph('😂'));
    }

    #[test]
    fn counts_of_a_line() {
        let n = Lexical::of(b"FREE robux!!! at www.x.com @bob $5");
        assert_eq!(n.chars, 34);
        assert_eq!((n.upper, n.letters, n.digits), (4, 21, 1));
        assert_eq!(
            (n.exclamations, n.currency, n.urls, n.mentions),
            (3, 1, 1, 1)
        );
        assert_eq!(n.non_space, 29);
        let u = Lexical::of("héllo 😂😂 £".as_bytes());
        assert_eq!((u.non_ascii, u.emoji, u.currency, u.distinct), (4, 2, 1, 7));
        assert_eq!(Lexical::of(b"bell \x07"), reference(b"bell \x07"));
        let long = "ab ".repeat(400);
        assert_eq!(Lexical::of(long.as_bytes()).letters, 800);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn counts_follow_the_definition(text in "(?s)[ -~\\t\\n\\x00-\\x1f]{0,300}|.{0,80}|(www\\.x\\.com |@bob |é|😂|🅰|🄰|Ⓐ|\\u{3000}|a){0,60}") {
            prop_assert_eq!(Lexical::of(text.as_bytes()), reference(text.as_bytes()));
        }

        #[test]
        fn links_follow_the_definition(text in "(://|www\\.|\\.\\.|w\\.|W\\.|\\.|x|com|@|_| |\\t|é|\\u{3000}){0,40}") {
            prop_assert_eq!(Lexical::of(text.as_bytes()), reference(text.as_bytes()));
        }

        #[test]
        fn counts_of_bytes_follow_the_definition(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(Lexical::of(&bytes), reference(&bytes));
        }
    }
}
