//! Masked words: letters replaced by a symbol inside a word (`f*ck`, `sh*t`, `c**t`, `n#gger`).
//!
//! The fold keeps such a word whole in the leet view and writes each run of mask symbols as one
//! [`MASK`] byte whose run is how many symbols were written. No automaton pattern holds that
//! byte, so this index finds the terms a masked word can stand for: a trie of the canonical
//! single-word patterns (the same collapsed text and runs the leet view is searched with),
//! walked with every visible letter in place and each mask run standing for exactly as many
//! letters of the term as it has symbols. `f**k` is `fuck` (two letters hidden), not `fk` or
//! `frick`. A term must keep at least two of its letters visible and hide at least one, so
//! `f***` and `**` match nothing.
//!
//! Only masked words are searched (most messages have none), and the walk is bounded: a
//! mask run longer than [`MAX_MASK_RUN`] letters or a word with more than [`MAX_MASKS`] mask
//! runs is not searched, so an adversarial message costs a few thousand node visits at most.

use crate::fold::Meta;

/// The byte the leet view writes for a run of mask symbols.
pub(crate) const MASK: u8 = b'*';

/// The longest mask run that stands for letters (`f****ing` hides four).
const MAX_MASK_RUN: u8 = 4;

/// The most mask runs one word may have and still be searched.
const MAX_MASKS: usize = 3;

/// A trie of collapsed ASCII patterns; each edge is a byte and its run.
#[derive(Clone, Debug, Default)]
pub(crate) struct MaskIndex {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    /// `(byte, run, child)`, few per node.
    children: Vec<(u8, u8, u32)>,
    /// What ends here: the keys the patterns were added with.
    ends: Vec<UseKey>,
}

/// What a pattern was added with: a pattern of the automaton and one of its uses (each use
/// has its own runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UseKey {
    pub pattern: u32,
    pub use_index: u32,
}

/// One match of a masked word: the pattern use and the bytes `start..end` of the word it
/// covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MaskedMatch {
    pub key: UseKey,
    pub start: usize,
    pub end: usize,
}

impl MaskIndex {
    /// Adds a pattern, collapsed `text` with its `runs`, under `key`, if it is a single word of
    /// ASCII letters of at least three letters in all (others cannot be told from a mask).
    pub fn add(&mut self, key: UseKey, text: &str, runs: &[u8]) {
        let letters: usize = runs.iter().map(|&r| usize::from(r)).sum();
        if letters < 3 || !text.bytes().all(|b| b.is_ascii_lowercase()) {
            return;
        }
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut at = 0usize;
        for (b, &run) in text.bytes().zip(runs) {
            let next = self.nodes[at]
                .children
                .iter()
                .find(|&&(cb, cr, _)| cb == b && cr == run)
                .map(|&(_, _, child)| child as usize);
            at = if let Some(child) = next {
                child
            } else {
                let child = self.nodes.len();
                self.nodes.push(Node::default());
                let id = u32::try_from(child).unwrap_or(u32::MAX);
                self.nodes[at].children.push((b, run, id));
                child
            };
        }
        self.nodes[at].ends.push(key);
    }

    /// Whether no pattern was added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Calls `found` with every pattern the masked word `text` (collapsed, with the run of
    /// each byte in `meta`) can stand for, starting and ending anywhere in it; the caller
    /// checks where a pattern may start and end. Each match hides at least one letter behind a
    /// mask and shows at least two.
    pub fn find(&self, text: &[u8], meta: &[Meta], mut found: impl FnMut(MaskedMatch)) {
        debug_assert_eq!(text.len(), meta.len());
        if self.nodes.is_empty() {
            return;
        }
        let masks = memchr::memchr_iter(MASK, text).count();
        let too_long = text
            .iter()
            .zip(meta)
            .any(|(&b, m)| b == MASK && m.run > MAX_MASK_RUN);
        if masks == 0 || masks > MAX_MASKS || too_long {
            return;
        }
        for start in 0..text.len() {
            // A match starts with a visible letter: a mask at its start could stand for any
            // prefix, which says nothing.
            if text[start] == MASK {
                continue;
            }
            let walk = Walk {
                index: self,
                text,
                meta,
                start,
            };
            walk.step(0, start, 0, None, Seen::default(), &mut found);
        }
    }
}

/// What a walk has matched so far.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    visible: u16,
    hidden: u16,
}

struct Walk<'a> {
    index: &'a MaskIndex,
    text: &'a [u8],
    meta: &'a [Meta],
    start: usize,
}

impl Walk<'_> {
    /// At trie node `node` and byte `i` of the word. `owed` letters of the mask run before `i`
    /// are still to be hidden; `carry` is a letter of the term whose run a mask hid only the
    /// start of, and how many of it the word must show next.
    fn step(
        &self,
        node: usize,
        i: usize,
        owed: u8,
        carry: Option<(u8, u8)>,
        seen: Seen,
        found: &mut impl FnMut(MaskedMatch),
    ) {
        let n = &self.index.nodes[node];
        if owed > 0 {
            for &(cb, cr, child) in &n.children {
                let hid = cr.min(owed);
                let seen = Seen {
                    hidden: seen.hidden + u16::from(hid),
                    ..seen
                };
                // The mask hides the whole run, or its start and the word shows the rest.
                let carry = (cr > owed).then(|| (cb, cr - owed));
                self.step(child as usize, i, owed - hid, carry, seen, found);
            }
            return;
        }
        if let Some((b, need)) = carry {
            let run = self.meta.get(i).map_or(0, |m| m.run);
            if self.text.get(i) == Some(&b) && fits(run, need) {
                let seen = Seen {
                    visible: seen.visible + u16::from(need),
                    ..seen
                };
                self.step(node, i + 1, 0, None, seen, found);
            }
            return;
        }
        if seen.hidden > 0 && seen.visible >= 2 {
            for &key in &n.ends {
                found(MaskedMatch {
                    key,
                    start: self.start,
                    end: i,
                });
            }
        }
        let Some(&b) = self.text.get(i) else {
            return;
        };
        let run = self.meta[i].run;
        if b == MASK {
            self.step(node, i + 1, run, None, seen, found);
            return;
        }
        for &(cb, cr, child) in &n.children {
            if cb != b {
                continue;
            }
            if fits(run, cr) {
                let seen = Seen {
                    visible: seen.visible + u16::from(cr),
                    ..seen
                };
                self.step(child as usize, i + 1, 0, None, seen, found);
            } else if run < cr && self.text.get(i + 1) == Some(&MASK) {
                // The word shows the start of the run and a mask hides the rest (`fa*got`).
                let hide = cr - run;
                let mask = self.meta[i + 1].run;
                if mask >= hide {
                    let seen = Seen {
                        visible: seen.visible + u16::from(run),
                        hidden: seen.hidden + u16::from(hide),
                    };
                    self.step(child as usize, i + 2, mask - hide, None, seen, found);
                }
            }
        }
    }
}

/// A letter written `run` times fits one the term writes `want` times when the counts
/// agree, or when it is a deliberate repeat (three or more). Stricter than the automata's
/// `runs_fit`, which also lets a single letter be doubled: in a masked word the letters
/// shown must spell the term's length exactly, or `b**aa` would hide `basa`.
fn fits(run: u8, want: u8) -> bool {
    run == want || (run > want && run >= 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of `terms` (uncollapsed ASCII words), with their collapsed forms.
    fn index(terms: &[&str]) -> (MaskIndex, Vec<String>) {
        let mut index = MaskIndex::default();
        let mut names = Vec::new();
        for (id, term) in terms.iter().enumerate() {
            let (text, runs) = collapse(term);
            let key = UseKey {
                pattern: u32::try_from(id).unwrap(),
                use_index: 0,
            };
            index.add(key, &text, &runs);
            names.push((*term).to_owned());
        }
        (index, names)
    }

    fn collapse(word: &str) -> (String, Vec<u8>) {
        let mut text = String::new();
        let mut runs: Vec<u8> = Vec::new();
        for c in word.chars() {
            if text.ends_with(c) {
                *runs.last_mut().unwrap() += 1;
            } else {
                text.push(c);
                runs.push(1);
            }
        }
        (text, runs)
    }

    /// The terms `word` (`*` for a mask symbol) matches, with the byte range of the collapsed
    /// word they cover.
    fn matches(terms: &[&str], word: &str) -> Vec<(String, usize, usize)> {
        let (index, names) = index(terms);
        let (text, runs) = collapse(word);
        let meta: Vec<Meta> = runs
            .iter()
            .map(|&run| Meta {
                run,
                ..Meta::default()
            })
            .collect();
        let mut out = Vec::new();
        index.find(text.as_bytes(), &meta, |m| {
            out.push((names[m.key.pattern as usize].clone(), m.start, m.end));
        });
        out.sort();
        out
    }

    #[test]
    fn a_mask_stands_for_as_many_letters_as_it_has_symbols() {
        let terms = ["fuck", "shit", "cunt", "asshole", "nigger", "frick", "slut"];
        assert_eq!(matches(&terms, "f*ck"), [("fuck".into(), 0, 4)]);
        assert_eq!(matches(&terms, "f**k"), [("fuck".into(), 0, 3)]);
        assert_eq!(matches(&terms, "c**t"), [("cunt".into(), 0, 3)]);
        assert_eq!(matches(&terms, "a**hole"), [("asshole".into(), 0, 6)]);
        assert_eq!(matches(&terms, "n*gger"), [("nigger".into(), 0, 5)]);
        assert_eq!(
            matches(&terms, "s**t"),
            [("shit".into(), 0, 3), ("slut".into(), 0, 3)]
        );
        // Too few letters hidden, or too few shown; three hidden between f and k is `frick`.
        assert!(matches(&terms, "f*k").is_empty());
        assert_eq!(matches(&terms, "f***k"), [("frick".into(), 0, 3)]);
        assert!(matches(&terms, "f***").is_empty());
        // No mask: the automata find it, not this index.
        assert!(matches(&terms, "fuck").is_empty());
    }

    #[test]
    fn a_term_may_lie_inside_a_longer_masked_word() {
        let terms = ["fuck", "bitch"];
        assert_eq!(matches(&terms, "f*cking"), [("fuck".into(), 0, 4)]);
        assert_eq!(matches(&terms, "sonofab*tch"), [("bitch".into(), 6, 11)]);
    }

    #[test]
    fn repeats_follow_the_automata() {
        let terms = ["shit", "ass", "faggot", "nigger"];
        // A deliberate repeat (three or more) of a visible letter still fits.
        assert!(
            matches(&terms, "shiiit*").is_empty(),
            "the mask is past the term"
        );
        assert_eq!(matches(&terms, "s*iiit"), [("shit".into(), 0, 4)]);
        // A mask may hide the start or the end of a doubled letter, or all of it.
        assert_eq!(matches(&terms, "a*s"), [("ass".into(), 0, 3)]);
        assert_eq!(matches(&terms, "as*"), [("ass".into(), 0, 3)]);
        assert_eq!(matches(&terms, "fa*got"), [("faggot".into(), 0, 6)]);
        assert_eq!(matches(&terms, "f*ggot"), [("faggot".into(), 0, 5)]);
        assert_eq!(matches(&terms, "ni**er"), [("nigger".into(), 0, 5)]);
        assert_eq!(matches(&terms, "ni*ger"), [("nigger".into(), 0, 6)]);
        // Hiding one letter of a double and showing none of it is a different word.
        assert!(matches(&terms, "fa*ot").is_empty());
    }

    #[test]
    fn long_masks_and_many_masks_are_not_searched() {
        let terms = ["fuckingshit"];
        assert!(matches(&terms, "f*****gshit").is_empty(), "a run of five");
        assert!(matches(&terms, "f*c*i*g*hit").is_empty(), "four mask runs");
        assert_eq!(matches(&terms, "f*ck*ngsh*t").len(), 1);
    }

    /// The definition on uncollapsed text: a masked word matches a term where it has the
    /// term's length, every visible letter in place, at least one letter hidden and two shown,
    /// starting with a visible letter, and neither end cutting a run of one character.
    fn oracle(terms: &[String], word: &str) -> Vec<(String, usize, usize)> {
        let w: Vec<char> = word.chars().collect();
        let boundary = |i: usize| i == 0 || i == w.len() || w[i] != w[i - 1];
        let mut out = Vec::new();
        for term in terms {
            let t: Vec<char> = term.chars().collect();
            for s in 0..w.len() {
                let e = s + t.len();
                if e > w.len() || w[s] == '*' || !boundary(s) || !boundary(e) {
                    continue;
                }
                let piece = &w[s..e];
                let hidden = piece.iter().filter(|&&c| c == '*').count();
                let agree = piece.iter().zip(&t).all(|(&c, &tc)| c == '*' || c == tc);
                if agree && hidden > 0 && t.len() - hidden >= 2 {
                    out.push((term.clone(), s, e));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Byte offsets of the collapsed word back to offsets of the uncollapsed one.
    fn uncollapsed(word: &str, at: usize) -> usize {
        let (_, runs) = collapse(word);
        runs[..at].iter().map(|&r| usize::from(r)).sum()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

        /// Over a small alphabet (so that terms and words collide often), with no letter
        /// repeated three times (a deliberate repeat fits a shorter run by design) and mask
        /// runs and counts within the searched bounds.
        #[test]
        fn matches_follow_the_definition(
            terms in proptest::collection::vec("[abs]{3,6}", 1..6),
            word in "[abs*]{2,10}",
        ) {
            let (_, runs) = collapse(&word);
            let (text, _) = collapse(&word);
            let masks = text.matches('*').count();
            proptest::prop_assume!(runs.iter().zip(text.chars()).all(|(&r, c)| if c == '*' { r <= MAX_MASK_RUN } else { r <= 2 }));
            proptest::prop_assume!(masks <= MAX_MASKS);
            let terms: Vec<String> = terms.into_iter().filter(|t| !t.contains("aaa") && !t.contains("bbb") && !t.contains("sss")).collect();
            let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
            let mut got: Vec<(String, usize, usize)> = matches(&refs, &word)
                .into_iter()
                .map(|(t, s, e)| (t, uncollapsed(&word, s), uncollapsed(&word, e)))
                .collect();
            got.sort();
            got.dedup();
            proptest::prop_assert_eq!(got, oracle(&terms, &word));
        }
    }

    #[test]
    fn only_ascii_words_of_three_letters_are_indexed() {
        let terms = ["ab", "çava", "two words"];
        let (index, _) = index(&terms);
        assert!(index.is_empty());
    }
}
