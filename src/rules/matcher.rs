//! Compiled rules: Aho-Corasick automata over the folded views (one for the word view, one
//! for the canonical alphabet shared by the leet and joined views), a regex per regex rule,
//! and the matching loop that turns automaton matches into hits.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::automaton::Automaton as AcAutomaton;
use aho_corasick::{dfa, nfa::contiguous, Anchored, MatchKind, PatternID, StartKind};
use regex_automata::dfa::{dense, regex::Regex as DfaRegex};

use super::masked::{MaskIndex, UseKey, MASK};
use super::parse::{expand_alternatives, Date, EntryKind, Scope, Wildcard};
use super::{Rule, RuleKind, RuleSet};
use crate::error::{Error, RuleError};
use crate::fold::{
    leet_digit, FoldBuffers, Meta, View as FoldView, DISGUISE, STRONG, TOKEN_END, TOKEN_START,
};
use crate::message::MessageKind;
use crate::verdict::{Categories, Hit, RuleId, Severity, Span, View};

/// Limits applied while compiling.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CompileLimits {
    pub max_rules: usize,
    pub max_regex_size: usize,
}

/// One way a pattern of an automaton is used by a rule.
#[derive(Clone, Debug)]
struct PatternUse {
    rule: u32,
    /// Minimum run length of each byte of the collapsed pattern.
    runs: Box<[u8]>,
    wildcard: Wildcard,
    allow: bool,
    /// Not a term: a literal every match of a regex starts with, or one every match ends
    /// with (see [`regex_literals`]): the regex's index and the side ([`START`] or [`END`]).
    gate: Option<(u32, u8)>,
}

/// Gate sides of a regex: literals its matches start with, and literals they end with.
const START: u8 = 1;
const END: u8 = 2;

#[derive(Clone, Debug)]
struct Automaton {
    ac: Terms,
    uses: Vec<Vec<PatternUse>>,
    /// The single-word patterns again, for masked words (built for the canonical automaton
    /// only, which searches the leet view that holds them; empty for the word automaton).
    masked: MaskIndex,
}

/// A term automaton: a DFA (the word automaton, which every message is searched with), or a
/// contiguous NFA (the canonical automaton, which searches only the leet and joined views, empty
/// for most messages: a DFA of it would cost the filter's build as much again as the word
/// automaton's, for a few instructions a message; and the word automaton when its DFA would be
/// too large). Walked byte by byte here (see [`for_each_match`](Terms::for_each_match)) rather
/// than through `AhoCorasick`'s overlapping iterator, whose per-call set-up cost more than
/// the stepping on a chat line.
#[derive(Clone, Debug)]
enum Terms {
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

impl Terms {
    /// A DFA of `patterns`, or their NFA when the DFA cannot be built.
    fn dense(patterns: &[String]) -> Result<Terms, Error> {
        dfa::DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(patterns)
            .map(Terms::Dfa)
            .or_else(|_| Terms::compact(patterns))
    }

    /// A contiguous NFA of `patterns`: quicker to build, a little slower to search.
    fn compact(patterns: &[String]) -> Result<Terms, Error> {
        contiguous::NFA::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .map(Terms::Nfa)
            .map_err(|e| Error::limit(format!("cannot build the term automaton: {e}")))
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern in `text`,
    /// overlapping ones included, in order of their end.
    #[inline]
    fn for_each_match(&self, text: &[u8], f: impl FnMut(PatternID, usize, usize)) {
        match self {
            Terms::Dfa(a) => walk(a, text, f),
            Terms::Nfa(a) => walk(a, text, f),
        }
    }
}

/// The overlapping search of an unanchored automaton with no prefilter: one transition per
/// byte, and the matches of each match state entered.
#[inline]
fn walk<A: AcAutomaton>(a: &A, text: &[u8], mut f: impl FnMut(PatternID, usize, usize)) {
    let Ok(mut sid) = a.start_state(Anchored::No) else {
        return;
    };
    for (i, &b) in text.iter().enumerate() {
        sid = a.next_state(Anchored::No, sid, b);
        if a.is_special(sid) {
            if a.is_dead(sid) {
                return;
            }
            if a.is_match(sid) {
                for k in 0..a.match_len(sid) {
                    let pattern = a.match_pattern(sid, k);
                    f(pattern, i + 1 - a.pattern_len(pattern), i + 1);
                }
            }
        }
    }
}

/// The next non-empty match of `re` in `text` at or after `*at`, as `(start, end)`; moves `*at`
/// past it.
fn next_regex_match(re: &RuleRegex, text: &[u8], at: &mut usize) -> Option<(usize, usize)> {
    while *at <= text.len() {
        let input = regex_automata::Input::new(text).range(*at..);
        // No search can fail: the DFAs have no quit bytes (see `compile_regex`).
        let m = re.try_search(&input).ok().flatten()?;
        *at = if m.end() > m.start() {
            m.end()
        } else {
            m.end() + 1
        };
        if m.start() < m.end() {
            return Some((m.start(), m.end()));
        }
    }
    None
}

/// Writes `plain` into `out` with the digits of every word that mixes ASCII letters and
/// digits replaced by the letters they stand for, and a lone `1` read as `i` (`1 w1ll` → `i
/// will`); byte for byte, so offsets into `out` are offsets into `plain`. Returns whether
/// anything was replaced. `out` keeps its capacity (at least `plain`'s: allocates nothing).
fn unleet(plain: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    out.extend_from_slice(plain);
    let mut changed = false;
    let mut i = 0;
    while i < out.len() {
        if !out[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < out.len() && out[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let word = &mut out[start..i];
        let letters = word.iter().any(u8::is_ascii_alphabetic);
        let leet = word.iter().any(|&b| leet_digit(b).is_some());
        if letters && leet {
            for b in word.iter_mut() {
                if let Some(letter) = leet_digit(*b) {
                    *b = letter;
                }
            }
            changed = true;
        } else if word == b"1" {
            word[0] = b'i';
            changed = true;
        }
    }
    changed
}

/// Everything compiled from a rule set. Immutable; shared by all threads.
#[derive(Clone, Debug)]
pub(crate) struct Matcher {
    word: Option<Automaton>,
    canon: Option<Automaton>,
    regexes: Vec<(u32, RuleRegex)>,
    /// For each regex, the sides ([`START`], [`END`]) whose literals the word view must hold
    /// before it runs (see [`regex_literals`]); 0 for a regex with no finite set of literals
    /// on either side, which runs on every message.
    gates: Vec<u8>,
    /// Whether some regex is ungated, so that the plain view is built for every message.
    ungated: bool,
    pub rules: Vec<Rule>,
    /// For each rule: the rules an `allow: … for=…` is limited to (empty: every rule).
    for_rules: Vec<Box<[u32]>>,
    has_expiry: bool,
}

/// A permitted term found in the message.
#[derive(Clone, Copy, Debug)]
struct Permit {
    span: Span,
    rule: u32,
}

/// A blocked rule found in the message, before permits are applied.
#[derive(Clone, Copy, Debug)]
struct RawHit {
    rule: u32,
    span: Span,
    view: View,
    disguised: bool,
}

/// Per-thread buffers for matching. Sized from the config; never grow.
#[derive(Debug)]
pub(crate) struct MatchBuffers {
    raw: Vec<RawHit>,
    permits: Vec<Permit>,
    pub hits: Vec<Hit>,
    /// Hits found but not stored (the hit list was full).
    pub dropped: u32,
    pub categories: Categories,
    pub severity: Severity,
    pub per_category: [Severity; 6],
    pub evasive: bool,
    /// For each regex, the gate sides whose literals were found in the word view.
    armed: Vec<u8>,
    /// Some gate literal was found (so `armed` needs clearing).
    armed_any: bool,
    /// Some regex found every gate side it needs.
    plain_wanted: bool,
    /// For each regex, the gate sides found in the leet view (for the leetspeak pass).
    leet_armed: Vec<u8>,
    /// The plain view with leetspeak read as letters (see [`unleet`]), for the regexes.
    unleeted: Vec<u8>,
}

impl MatchBuffers {
    /// Buffers for `matcher`'s hits, at most `max_hits` of them, over plain views of at most
    /// `max_plain` bytes.
    pub fn new(matcher: &Matcher, max_hits: usize, max_plain: usize) -> MatchBuffers {
        MatchBuffers {
            raw: Vec::with_capacity(max_hits * 8),
            permits: Vec::with_capacity(max_hits * 8),
            hits: Vec::with_capacity(max_hits),
            dropped: 0,
            categories: Categories::NONE,
            severity: Severity::None,
            per_category: [Severity::None; 6],
            evasive: false,
            armed: vec![0; matcher.regexes.len()],
            leet_armed: vec![0; matcher.regexes.len()],
            armed_any: false,
            plain_wanted: false,
            unleeted: Vec::with_capacity(if matcher.regexes.is_empty() {
                0
            } else {
                max_plain
            }),
        }
    }

    fn clear(&mut self) {
        self.raw.clear();
        self.permits.clear();
        self.hits.clear();
        self.dropped = 0;
        self.categories = Categories::NONE;
        self.severity = Severity::None;
        self.per_category = [Severity::None; 6];
        self.evasive = false;
        if self.armed_any {
            self.armed.fill(0);
            self.leet_armed.fill(0);
            self.armed_any = false;
        }
        self.plain_wanted = false;
    }
}

/// The searchable forms of a term.
struct TermForms {
    word: Option<crate::fold::Pattern>,
    canon: Option<crate::fold::Pattern>,
}

fn term_forms(fold: &mut FoldBuffers, term: &str) -> TermForms {
    if term.len() > 48 {
        *fold = FoldBuffers::new(term.len());
    }
    fold.fold(term.as_bytes());
    let (word, canon) = fold.term_views();
    TermForms { word, canon }
}

impl Matcher {
    /// Compiles a rule set.
    #[allow(clippy::too_many_lines)] // one pass over the entries, each kind handled in place
    pub fn compile(rules: &RuleSet, limits: CompileLimits) -> Result<Matcher, Error> {
        if rules.entries.len() > limits.max_rules {
            return Err(Error::limit(format!(
                "{} rules exceed the limit of {} (Config::max_rules)",
                rules.entries.len(),
                limits.max_rules
            )));
        }
        let mut compiled: Vec<Rule> = Vec::with_capacity(rules.entries.len());
        let mut errors = Vec::new();
        let mut word = PatternTable::default();
        let mut canon = PatternTable::default();
        let mut regexes = Vec::new();
        // For each regex, its gate literals (see `regex_literals`).
        let mut literal_sides = Vec::new();
        let mut for_rules_of: Vec<Box<[u32]>> = Vec::with_capacity(rules.entries.len());
        let mut fold = FoldBuffers::new(64);
        // `for=` names a blocked term as written; resolve it after every term is known.
        let mut by_written: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, (_, e)) in rules.entries.iter().enumerate() {
            if matches!(e.kind, EntryKind::Term { .. } | EntryKind::Regex { .. }) {
                by_written
                    .entry(e.written.as_str())
                    .or_default()
                    .push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        for (i, (file, e)) in rules.entries.iter().enumerate() {
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            let error = |message: String, hint: Option<&str>| RuleError {
                file: Arc::clone(file),
                line: e.line,
                column: e.column,
                message,
                text: e.line_text.clone(),
                hint: hint.map(str::to_owned),
                warning: false,
            };
            let kind = match &e.kind {
                EntryKind::Term { term, wildcard } | EntryKind::Allow { term, wildcard, .. } => {
                    let (allow, for_rules) = match &e.kind {
                        EntryKind::Allow {
                            for_rule: Some(target),
                            ..
                        } => {
                            let Some(ids) = by_written.get(target.as_str()) else {
                                errors.push(error(
                                    format!("`for={target}` names no blocked term; expected a term written exactly as in a rule file"),
                                    Some("copy the term with its wildcards from its rule line, e.g. `for=cock*`"),
                                ));
                                continue;
                            };
                            (true, ids.clone().into_boxed_slice())
                        }
                        EntryKind::Allow { .. } => (true, Box::default()),
                        _ => (false, Box::default()),
                    };
                    // A term with alternatives (`{you|u} suck`) is every term it stands for,
                    // all under this rule; the parser checked the braces.
                    let alternatives =
                        expand_alternatives(term).unwrap_or_else(|_| vec![term.clone()]);
                    let mut matchable = false;
                    for alternative in &alternatives {
                        let mut forms = term_forms(&mut fold, alternative);
                        matchable |= forms.word.is_some() || forms.canon.is_some();
                        // A term written in leetspeak (`sub4sub`) is found in the leet view,
                        // which spells its digits as letters; kept out of the word automaton,
                        // whose alphabet (and so its size) a single digit would double.
                        let digit = |form: &Option<crate::fold::Pattern>| {
                            form.as_ref()
                                .is_some_and(|(text, _)| text.bytes().any(|b| b.is_ascii_digit()))
                        };
                        if digit(&forms.word) && forms.canon.is_some() && !digit(&forms.canon) {
                            forms.word = None;
                        }
                        for (table, form) in [(&mut word, forms.word), (&mut canon, forms.canon)] {
                            if let Some((text, runs)) = form {
                                let u = PatternUse {
                                    rule: id,
                                    runs: runs.into(),
                                    wildcard: *wildcard,
                                    allow,
                                    gate: None,
                                };
                                table.add(text, u);
                            }
                        }
                    }
                    if !matchable {
                        errors.push(error(
                            format!("the term `{}` can never match: it folds to no letters or digits", e.written),
                            Some("punctuation, emoji and marks are separators after folding; a term needs a letter or digit"),
                        ));
                        continue;
                    }
                    for_rules_of.push(for_rules);
                    if allow {
                        RuleKind::Allow
                    } else {
                        RuleKind::Term
                    }
                }
                EntryKind::Policy(_) => {
                    errors.push(error("a policy line was not applied".to_owned(), None));
                    continue;
                }
                EntryKind::Include { target } => {
                    errors.push(error(
                        format!("include `{target}` was not resolved"),
                        Some("add the file with RuleSet::from_dir"),
                    ));
                    continue;
                }
                EntryKind::Regex { pattern } => {
                    match compile_regex(pattern, limits.max_regex_size) {
                        Ok((re, hir)) => {
                            regexes.push((id, re));
                            literal_sides.push(regex_literals(&hir));
                            for_rules_of.push(Box::default());
                        }
                        Err((message, hint)) => {
                            errors.push(error(message.replace('\n', " "), Some(hint)));
                            continue;
                        }
                    }
                    RuleKind::Regex
                }
            };
            compiled.push(Rule {
                kind,
                written: e.written.clone(),
                categories: e.categories,
                severity: e.severity,
                scope: e.scope,
                expires: e.expires,
                file: Arc::clone(file),
                line: e.line,
            });
        }
        if !errors.is_empty() {
            return Err(Error::rules(errors));
        }
        let mut gates = Vec::with_capacity(regexes.len());
        for (k, regex_sides) in literal_sides.into_iter().enumerate() {
            let mut sides = 0;
            for (side, literals) in regex_sides {
                sides |= side;
                for literal in literals {
                    let gate = PatternUse {
                        rule: u32::MAX,
                        runs: vec![1; literal.len()].into(),
                        wildcard: Wildcard::default(),
                        allow: false,
                        gate: Some((u32::try_from(k).unwrap_or(u32::MAX), side)),
                    };
                    // The same literal in the canonical alphabet, found in the leet view, arms
                    // the regex for the leetspeak pass (see `Matcher::find`).
                    if let Some((text, _)) = term_forms(&mut fold, &literal).canon {
                        canon.add(text, gate.clone());
                    }
                    word.add(literal, gate);
                }
            }
            gates.push(sides);
        }
        Ok(Matcher {
            has_expiry: compiled.iter().any(|r| r.expires.is_some()),
            ungated: gates.contains(&0),
            gates,
            word: word.build(Terms::dense)?,
            canon: canon.build_with_masks()?,
            regexes,
            rules: compiled,
            for_rules: for_rules_of,
        })
    }

    /// Whether the rules include regexes (which search the plain view).
    pub fn has_regexes(&self) -> bool {
        !self.regexes.is_empty()
    }

    /// Finds every hit of `fold`'s views of `input` into `out`, building the plain view
    /// first when a regex may match: when the word view holds a literal every match of some
    /// regex holds (see [`regex_literals`]; most messages hold none), or for every message
    /// when some regex has no finite set of such literals.
    pub fn find(
        &self,
        fold: &mut FoldBuffers,
        input: &[u8],
        kind: MessageKind,
        out: &mut MatchBuffers,
    ) {
        out.clear();
        let today = if self.has_expiry {
            Some(Date::today())
        } else {
            None
        };
        let live = |rule: &Rule| {
            let scoped = match rule.scope {
                Scope::Both => true,
                Scope::Chat => kind == MessageKind::Chat,
                Scope::Whisper => kind == MessageKind::Whisper,
            };
            scoped && !matches!((rule.expires, today), (Some(e), Some(t)) if t >= e)
        };
        if let Some(a) = &self.word {
            self.search(a, &fold.word, View::Word, &live, out);
        }
        if let Some(a) = &self.canon {
            if !fold.leet.text.is_empty() {
                self.search(a, &fold.leet, View::Leet, &live, out);
                if !a.masked.is_empty() && memchr::memchr(MASK, &fold.leet.text).is_some() {
                    self.search_masked(a, &fold.leet, &live, out);
                }
            }
            if !fold.joined.text.is_empty() {
                self.search(a, &fold.joined, View::Joined, &live, out);
            }
        }
        if let Some(a) = &self.word {
            if fold.build_split_view(input) {
                self.search(a, &fold.split, View::Split, &live, out);
            }
        }
        // A word view cut short may lack a gate literal of a match in the rest of the text.
        let all = fold.word.full;
        if !self.regexes.is_empty() && (self.ungated || out.plain_wanted || all) {
            fold.ensure_plain(input);
        }
        if fold.plain_built {
            let plain = &fold.plain;
            self.search_regexes(&plain.text, false, plain, |out| &out.armed, all, &live, out);
        }
        // Regexes do not see through leetspeak in the plain view. When the fold undid some (the
        // leet view holds a disguised word), they run again over the plain view with the digits
        // of words that mix letters and digits read as the letters they stand for (`y0u ar3
        // s0 tr4sh`) when the canonical automaton found their gate literals in the leet view,
        // and keep the matches that needed it.
        let leet_armed = |k: usize| all || out.leet_armed[k] == self.gates[k];
        if !fold.leet.text.is_empty() && (0..self.regexes.len()).any(leet_armed) {
            fold.ensure_plain(input);
            let mut text = std::mem::take(&mut out.unleeted);
            if fold.plain_built && unleet(&fold.plain.text, &mut text) {
                let armed: fn(&MatchBuffers) -> &Vec<u8> = |out| &out.leet_armed;
                self.search_regexes(&text, true, &fold.plain, armed, all, &live, out);
            }
            out.unleeted = text;
        }
        self.resolve(out);
    }

    /// Runs every live regex whose gate sides `armed` holds (all of them with `all`) over
    /// `text`, which is the plain view `plain`, or (`unleeted`) the same bytes with leetspeak
    /// read as letters ([`unleet`]), and records its matches; in the latter only those whose
    /// text differs from the plain view's (the plain view has found the others), as disguised.
    #[allow(clippy::too_many_arguments)] // the two passes differ in text, armed sides and kind
    fn search_regexes(
        &self,
        text: &[u8],
        unleeted: bool,
        plain: &FoldView,
        armed: fn(&MatchBuffers) -> &Vec<u8>,
        all: bool,
        live: &dyn Fn(&Rule) -> bool,
        out: &mut MatchBuffers,
    ) {
        for (k, (rule, re)) in self.regexes.iter().enumerate() {
            // A regex whose gate literals were not all found cannot match (see
            // `regex_literals`).
            if !(all || armed(out)[k] == self.gates[k]) || !live(&self.rules[*rule as usize]) {
                continue;
            }
            let mut at = 0;
            while let Some((s, e)) = next_regex_match(re, text, &mut at) {
                if unleeted && text[s..e] == plain.text[s..e] {
                    continue;
                }
                let hit = RawHit {
                    rule: *rule,
                    span: plain.span(s, e),
                    view: View::Regex,
                    disguised: unleeted,
                };
                push_raw(out, hit, &self.rules);
            }
        }
    }

    fn search(
        &self,
        a: &Automaton,
        view: &FoldView,
        which: View,
        live: &dyn Fn(&Rule) -> bool,
        out: &mut MatchBuffers,
    ) {
        let text = &view.text;
        a.ac.for_each_match(text, |pattern, s, e| {
            for u in &a.uses[pattern.as_usize()] {
                if let Some((regex, side)) = u.gate {
                    let regex = regex as usize;
                    match which {
                        View::Word => {
                            out.armed[regex] |= side;
                            out.armed_any = true;
                            out.plain_wanted |= out.armed[regex] == self.gates[regex];
                        }
                        View::Leet => {
                            out.leet_armed[regex] |= side;
                            out.armed_any = true;
                        }
                        _ => {}
                    }
                    continue;
                }
                let fits = if which == View::Joined {
                    joined_fit(view, s, e, &u.runs, u.wildcard)
                } else if which == View::Split {
                    split_fit(view, s, e, &u.runs, u.wildcard)
                } else {
                    runs_fit(&view.meta[s..e], &u.runs) && boundaries_fit(view, s, e, u.wildcard)
                };
                if !fits {
                    continue;
                }
                if which == View::Leet && !view.meta[s..e].iter().any(|m| m.flags & STRONG != 0) {
                    continue;
                }
                self.record(u, view, which, (s, e), live, out);
            }
        });
    }

    /// The terms the masked words of the leet view (`f*ck`, `c**t`) stand for, found through
    /// the canonical automaton's [`MaskIndex`] (see [`masked`](super::masked)); each word is
    /// one whose bytes hold a [`MASK`].
    fn search_masked(
        &self,
        a: &Automaton,
        view: &FoldView,
        live: &dyn Fn(&Rule) -> bool,
        out: &mut MatchBuffers,
    ) {
        let (text, meta) = (&view.text, &view.meta);
        let mut at = 0;
        while let Some(p) = memchr::memchr(MASK, &text[at..]) {
            let (mut s, mut e) = (at + p, at + p + 1);
            while s > 0 && meta[s].flags & TOKEN_START == 0 {
                s -= 1;
            }
            while e < text.len() && meta[e - 1].flags & TOKEN_END == 0 {
                e += 1;
            }
            a.masked.find(&text[s..e], &meta[s..e], |m| {
                let u = &a.uses[m.key.pattern as usize][m.key.use_index as usize];
                let fits =
                    (u.wildcard.leading || m.start == 0) && (u.wildcard.trailing || m.end == e - s);
                if fits {
                    self.record(u, view, View::Leet, (s + m.start, s + m.end), live, out);
                }
            });
            at = e;
        }
    }

    /// Records a pattern use found at view bytes `found`: a permit, or a hit of a live rule.
    fn record(
        &self,
        u: &PatternUse,
        view: &FoldView,
        which: View,
        found: (usize, usize),
        live: &dyn Fn(&Rule) -> bool,
        out: &mut MatchBuffers,
    ) {
        let (s, e) = found;
        let rule = &self.rules[u.rule as usize];
        if !live(rule) {
            return;
        }
        let span = word_span(view, which, s, e, u.wildcard);
        if u.allow {
            if out.permits.len() < out.permits.capacity() {
                out.permits.push(Permit { span, rule: u.rule });
            }
        } else {
            let disguised =
                which != View::Word || view.meta[s..e].iter().any(|m| m.flags & DISGUISE != 0);
            push_raw(
                out,
                RawHit {
                    rule: u.rule,
                    span,
                    view: which,
                    disguised,
                },
                &self.rules,
            );
        }
    }

    /// Applies permits, removes duplicates, and aggregates.
    fn resolve(&self, out: &mut MatchBuffers) {
        let MatchBuffers {
            raw, permits, hits, ..
        } = out;
        for r in raw.iter() {
            let permitted = permits.iter().any(|p| {
                p.span.contains(r.span)
                    && self
                        .for_rules_of(p.rule)
                        .is_none_or(|targets| targets.contains(&r.rule))
            });
            if permitted {
                continue;
            }
            if hits
                .iter()
                .any(|h| h.rule.0 == r.rule && h.span.overlaps(r.span))
            {
                continue;
            }
            let rule = &self.rules[r.rule as usize];
            out.categories = out.categories.union(rule.categories);
            out.severity = out.severity.max(rule.severity);
            for c in rule.categories.iter() {
                let slot = &mut out.per_category[c as usize];
                *slot = (*slot).max(rule.severity);
            }
            out.evasive |= r.disguised;
            if hits.len() < hits.capacity() {
                hits.push(Hit {
                    rule: RuleId(r.rule),
                    categories: rule.categories,
                    severity: rule.severity,
                    span: r.span,
                    view: r.view,
                });
            } else {
                out.dropped += 1;
            }
        }
        hits.sort_unstable_by_key(|h| (h.span.start, h.span.end, h.rule));
    }

    /// The rules an allow rule is limited to, or `None` for a global permit.
    fn for_rules_of(&self, allow_rule: u32) -> Option<&[u32]> {
        let targets = &self.for_rules[allow_rule as usize];
        if targets.is_empty() {
            None
        } else {
            Some(targets)
        }
    }
}

fn push_raw(out: &mut MatchBuffers, hit: RawHit, rules: &[Rule]) {
    if out.raw.len() < out.raw.capacity() {
        out.raw.push(hit);
    } else {
        // Past the buffer (only for adversarial inputs with hundreds of hits): still count it
        // towards the verdict, without permit checks.
        let rule = &rules[hit.rule as usize];
        out.categories = out.categories.union(rule.categories);
        out.severity = out.severity.max(rule.severity);
        for c in rule.categories.iter() {
            let slot = &mut out.per_category[c as usize];
            *slot = (*slot).max(rule.severity);
        }
        out.dropped += 1;
    }
}

/// Whether the repeated letters of the text fit the term: each run is as long as the term
/// writes it, or longer: a letter the term writes once may be doubled (`fuuck`, `biitch`),
/// and any letter repeated three times or more. A letter the term doubles is never matched
/// by one (`ass` does not match `as`). Dictionary words that double a letter of a term
/// (`assess`, `shiitake`, `rapper`) are on the generated allow list.
#[inline]
fn runs_fit(text: &[Meta], pattern_runs: &[u8]) -> bool {
    text.iter()
        .zip(pattern_runs)
        .all(|(m, &p)| run_fits(m.run, p))
}

/// Whether a letter written `run` times fits one the term writes `want` times (see
/// [`runs_fit`]).
#[inline]
fn run_fits(run: u8, want: u8) -> bool {
    run == want || (run > want && (want == 1 || run >= 3))
}

/// The original span of a hit. A wildcard term covers the whole word it sits in (`fvck1ng`,
/// not `fvck1n`), so that censoring masks the word and permitted words are compared with
/// whole words; in the joined view a run may hold other words, so the match is kept.
fn word_span(view: &FoldView, which: View, s: usize, e: usize, wildcard: Wildcard) -> Span {
    let meta = &view.meta;
    let (mut s, mut e) = (s, e);
    if which != View::Joined {
        if wildcard.leading {
            while s > 0 && meta[s].flags & TOKEN_START == 0 {
                s -= 1;
            }
        }
        if wildcard.trailing {
            while e < meta.len() && meta[e - 1].flags & TOKEN_END == 0 {
                e += 1;
            }
        }
    }
    view.span(s, e)
}

/// Word-boundary semantics in the word and leet views: a term starts at a word start unless
/// written `*term`, and ends at a word end unless written `term*`.
fn boundaries_fit(view: &FoldView, s: usize, e: usize, wildcard: Wildcard) -> bool {
    let meta = &view.meta;
    (wildcard.leading || meta[s].flags & TOKEN_START != 0)
        && (wildcard.trailing || meta[e - 1].flags & TOKEN_END != 0)
}

/// In the split view a match must start where a piece starts (whatever its wildcard:
/// `this.hit` does not hold "shit"), hold the cut between two pieces (a piece alone is a word
/// the word view has searched), and end where a piece ends unless written `term*`. A letter
/// repeated across a cut is one run (`as.shole`), so at the edges of the match a run may be
/// longer than the term writes: the rest belongs to the piece beside it (`is sh it`).
fn split_fit(view: &FoldView, s: usize, e: usize, pattern_runs: &[u8], wildcard: Wildcard) -> bool {
    let meta = &view.meta;
    let n = e - s;
    meta[s].flags & TOKEN_START != 0
        && (wildcard.trailing || meta[e - 1].flags & TOKEN_END != 0)
        && meta[s + 1..e].iter().any(|m| m.flags & TOKEN_START != 0)
        && meta[s].run >= pattern_runs[0]
        && meta[e - 1].run >= pattern_runs[n - 1]
        && (n <= 2 || runs_fit(&meta[s + 1..e - 1], &pattern_runs[1..n - 1]))
}

/// In the joined view every letter was written as its own word, so letters of the run
/// around a match may be words of their own (`a b i t c h` is "a bitch"). A whole-word term
/// must touch one edge of the joined run and leave at most one letter at the other
/// (`c l a s s` does not hold "ass"). Repeats at the edges of the match beyond what the term
/// writes are such leftover letters (`a a n a l`), not part of the term.
#[allow(clippy::many_single_char_names)] // s..e is the match, as everywhere in this module
fn joined_fit(
    view: &FoldView,
    s: usize,
    e: usize,
    pattern_runs: &[u8],
    wildcard: Wildcard,
) -> bool {
    let all = &view.meta;
    let matched = &all[s..e];
    let n = matched.len();
    if n == 0 || matched[0].run < pattern_runs[0] || matched[n - 1].run < pattern_runs[n - 1] {
        return false;
    }
    if n > 2 && !runs_fit(&matched[1..n - 1], &pattern_runs[1..n - 1]) {
        return false;
    }
    let mut before = usize::from(matched[0].run - pattern_runs[0]);
    let mut i = s;
    while all[i].flags & TOKEN_START == 0 && i > 0 {
        i -= 1;
        before += usize::from(all[i].run);
    }
    let mut after = if n > 1 {
        usize::from(matched[n - 1].run - pattern_runs[n - 1])
    } else {
        0
    };
    let mut j = e - 1;
    while all[j].flags & TOKEN_END == 0 && j + 1 < all.len() {
        j += 1;
        after += usize::from(all[j].run);
    }
    let start_ok = wildcard.leading || before == 0 || (before <= 1 && after == 0);
    let end_ok = wildcard.trailing || after == 0 || (after <= 1 && before == 0);
    start_ok && end_ok
}

/// Collapsed patterns and their uses, before the automaton is built.
#[derive(Default)]
struct PatternTable {
    ids: HashMap<String, usize>,
    patterns: Vec<String>,
    uses: Vec<Vec<PatternUse>>,
}

impl PatternTable {
    fn add(&mut self, text: String, u: PatternUse) {
        let next = self.patterns.len();
        let id = *self.ids.entry(text.clone()).or_insert(next);
        if id == next {
            self.patterns.push(text);
            self.uses.push(Vec::new());
        }
        self.uses[id].push(u);
    }

    /// [`build`](Self::build), with the [`MaskIndex`] of its single-word patterns.
    fn build_with_masks(self) -> Result<Option<Automaton>, Error> {
        let mut masked = MaskIndex::default();
        for (pattern, (text, uses)) in self.patterns.iter().zip(&self.uses).enumerate() {
            for (use_index, u) in uses.iter().enumerate() {
                if u.gate.is_none() {
                    let key = UseKey {
                        pattern: u32::try_from(pattern).unwrap_or(u32::MAX),
                        use_index: u32::try_from(use_index).unwrap_or(u32::MAX),
                    };
                    masked.add(key, text, &u.runs);
                }
            }
        }
        Ok(self
            .build(Terms::compact)?
            .map(|a| Automaton { masked, ..a }))
    }

    /// The automaton of the patterns, built by `terms` ([`Terms::dense`] or
    /// [`Terms::compact`]); `None` without patterns.
    fn build(
        self,
        terms: fn(&[String]) -> Result<Terms, Error>,
    ) -> Result<Option<Automaton>, Error> {
        if self.patterns.is_empty() {
            return Ok(None);
        }
        let ac = terms(&self.patterns)?;
        Ok(Some(Automaton {
            ac,
            uses: self.uses,
            masked: MaskIndex::default(),
        }))
    }
}

/// A rule regex: a forward DFA and a reverse one (to find where a match starts).
type RuleRegex = DfaRegex<dense::DFA<Vec<u32>>>;

/// Compiles a rule regex to dense DFAs and nothing else, so that searching needs no cache and
/// never allocates; returns them with the parsed pattern (for [`regex_literals`]). `Err` (a
/// message and a hint) when the pattern is invalid or a DFA would take more than `max_size`
/// bytes, rather than a slower engine with a growing cache.
///
/// Word boundaries (`\b`, `\B`, `\<`, `\>`) are ASCII ones: the folded text is ASCII letters
/// and digits but for the letters of other scripts, and a DFA stops at a non-ASCII byte next
/// to a Unicode word boundary, where a search would have to fall back to a slower engine.
fn compile_regex(
    pattern: &str,
    max_size: usize,
) -> Result<(RuleRegex, regex_syntax::hir::Hir), (String, &'static str)> {
    use regex_automata::nfa::thompson;
    use regex_automata::{dfa::StartKind, MatchKind};
    let hir = regex_syntax::ParserBuilder::new()
        .nest_limit(64)
        .build()
        .parse(pattern)
        .map_err(|err| {
            let message = match &err {
                regex_syntax::Error::Parse(p) => format!(
                    "invalid regex: {} (at character {} of the pattern)",
                    p.kind(),
                    p.span().start.column
                ),
                regex_syntax::Error::Translate(t) => format!(
                    "invalid regex: {} (at character {} of the pattern)",
                    t.kind(),
                    t.span().start.column
                ),
                _ => format!("invalid regex: {err}"),
            };
            let hint =
                "chatguard uses the Rust regex crate's syntax: no look-around or backreferences";
            (message, hint)
        })?;
    let hir = ascii_word_boundaries(&hir);
    let too_large = |what: &str| {
        (
            format!("regex is too large: its {what} exceeds the size limit of {max_size} bytes (Config::max_regex_size)"),
            "large counted repetitions (`{1000}`), nested repetitions and long alternations grow the compiled regex; simplify it, or split it into several rules",
        )
    };
    let nfa = |reverse: bool| {
        thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .nfa_size_limit(Some(max_size))
                    .which_captures(thompson::WhichCaptures::None)
                    .reverse(reverse),
            )
            .build_from_hir(&hir)
            .map_err(|_| too_large("automaton"))
    };
    let dfa = |nfa: &thompson::NFA, config: dense::Config| {
        dense::Builder::new()
            .configure(
                config
                    .dfa_size_limit(Some(max_size))
                    .determinize_size_limit(Some(max_size)),
            )
            .build_from_nfa(nfa)
            .map_err(|err| {
                if err.is_size_limit_exceeded() {
                    too_large("DFA")
                } else {
                    (
                        format!("regex cannot be compiled: {err}"),
                        "simplify the pattern",
                    )
                }
            })
    };
    let forward = dfa(&nfa(false)?, dense::Config::new())?;
    let reverse = dfa(
        &nfa(true)?,
        dense::Config::new()
            .prefilter(None)
            .specialize_start_states(false)
            .start_kind(StartKind::Anchored)
            .match_kind(MatchKind::All),
    )?;
    Ok((DfaRegex::builder().build_from_dfas(forward, reverse), hir))
}

/// `hir` with every Unicode word boundary made an ASCII one (see [`compile_regex`]).
fn ascii_word_boundaries(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};
    match hir.kind() {
        HirKind::Look(look) => Hir::look(match look {
            Look::WordUnicode => Look::WordAscii,
            Look::WordUnicodeNegate => Look::WordAsciiNegate,
            Look::WordStartUnicode => Look::WordStartAscii,
            Look::WordEndUnicode => Look::WordEndAscii,
            Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
            Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
            other => *other,
        }),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(ascii_word_boundaries(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(ascii_word_boundaries(&c.sub)),
            ..c.clone()
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(ascii_word_boundaries).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(ascii_word_boundaries).collect())
        }
        _ => hir.clone(),
    }
}

/// The literals that gate a regex, on each side that has them: the finite set of literals
/// every match of it starts with ([`START`]) and the set every match ends with ([`END`])
/// (regex-syntax's prefix and suffix extraction), rewritten as the word view writes text (`v`
/// as `u`, runs of a letter collapsed to one). A match in the plain view holds one literal of
/// each set, and the same text in the word view then holds that literal so rewritten, because
/// the word view is the plain view with exactly these two changes (a collapsed substring is a
/// substring of the collapsed text). So a regex can match only a message whose word view
/// holds a literal of every side returned: `/(?:i ll|i will) kill/` runs only where `i ll
/// kill` or `i will kill` is, `/you(?: are)? (?:trash|clown)/` only where both `you` and
/// `trash` or `clown` are. A side with no finite set (`/.*x/` has no start literals), or
/// with an empty literal, is left out; a regex with neither side runs on every message.
fn regex_literals(hir: &regex_syntax::hir::Hir) -> Vec<(u8, Vec<String>)> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut sides = Vec::new();
    for (side, kind) in [(START, ExtractKind::Prefix), (END, ExtractKind::Suffix)] {
        let seq = Extractor::new().kind(kind).extract(hir);
        let Some(literals) = seq.literals() else {
            continue;
        };
        let words: Option<Vec<String>> = literals
            .iter()
            .map(|literal| {
                let text = std::str::from_utf8(literal.as_bytes()).ok()?;
                let mut word = String::with_capacity(text.len());
                let mut last = None;
                for c in text.chars().map(crate::fold::word_letter) {
                    if last != Some(c) {
                        word.push(c);
                    }
                    last = Some(c);
                }
                (!word.is_empty()).then_some(word)
            })
            .collect();
        if let Some(words) = words {
            sides.push((side, words));
        }
    }
    sides
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(rules: &str) -> Matcher {
        let mut set = RuleSet::default_english().unwrap();
        set.add_file("extra.rules", rules).unwrap();
        compile(&set)
    }

    /// A matcher of `rules` alone, without the default rules.
    fn matcher_alone(rules: &str) -> Matcher {
        let mut set = RuleSet::new();
        set.add_file("alone.rules", rules).unwrap();
        compile(&set)
    }

    fn compile(set: &RuleSet) -> Matcher {
        let limits = CompileLimits {
            max_rules: 100_000,
            max_regex_size: 10 << 20,
        };
        Matcher::compile(set, limits).unwrap()
    }

    /// Whether checking `text` built the plain view.
    fn built_plain(m: &Matcher, text: &str) -> bool {
        let mut fold = FoldBuffers::new(512);
        fold.fold_for_rules(text.as_bytes(), false);
        let mut out = MatchBuffers::new(m, 64, fold.plain.text.capacity());
        m.find(&mut fold, text.as_bytes(), MessageKind::Chat, &mut out);
        fold.plain_built
    }

    #[test]
    fn the_default_regexes_are_gated() {
        let m = matcher("");
        assert!(!m.ungated, "the default regexes lost their literal gate");
        // A plain greeting needs no plain view; a threat does, however spelled.
        assert!(!built_plain(&m, "hello there, I will be late"));
        assert!(built_plain(&m, "I WIIILL kill u"));
        assert!(built_plain(&m, "im gonna stab u"));
    }

    #[test]
    fn a_regex_without_finite_literals_disables_the_gate() {
        let m = matcher("[spam]\nregex: /.*qqzz.*/\n");
        assert!(m.ungated);
        assert!(built_plain(&m, "hello there"));
    }

    #[test]
    fn a_regex_is_gated_by_its_start_and_its_end() {
        let m = matcher_alone(
            "[insult]\nregex: /\\byou(?: are| re)? (?:trash|clown)\\b/\n[spam]\nregex: /.*qqzz/\n",
        );
        assert!(
            !m.ungated,
            "`/.*qqzz/` is gated by the literal its matches end with"
        );
        // Its start without its end, its end without its start: the regex cannot match.
        assert!(!built_plain(&m, "you are welcome"));
        assert!(!built_plain(&m, "this patch is trash"));
        assert!(built_plain(&m, "yoouuu're trash"), "folded, `you re trash`");
        assert!(
            !built_plain(&m, "you're such trash"),
            "`such` is not in the regex"
        );
        assert!(built_plain(&m, "xqqqzz"));
    }
}

#[cfg(test)]
mod walk_tests {
    use super::*;
    use aho_corasick::AhoCorasick;

    /// Every occurrence, as `AhoCorasick`'s overlapping iterator reports them: the oracle.
    fn oracle(patterns: &[String], text: &[u8]) -> Vec<(u32, usize, usize)> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap();
        ac.find_overlapping_iter(text)
            .map(|m| (m.pattern().as_u32(), m.start(), m.end()))
            .collect()
    }

    fn walked(terms: &Terms, text: &[u8]) -> Vec<(u32, usize, usize)> {
        let mut found = Vec::new();
        terms.for_each_match(text, |p, s, e| found.push((p.as_u32(), s, e)));
        found
    }

    fn both(patterns: &[String]) -> [Terms; 2] {
        let Terms::Dfa(dfa) = Terms::dense(patterns).unwrap() else {
            panic!("a small pattern set builds a DFA");
        };
        let Terms::Nfa(nfa) = Terms::compact(patterns).unwrap() else {
            panic!("compact builds an NFA");
        };
        [Terms::Dfa(dfa), Terms::Nfa(nfa)]
    }

    #[test]
    fn overlapping_and_nested_terms() {
        let patterns: Vec<String> = ["ass", "assassin", "sass", "s", "in"]
            .iter()
            .map(|&p| p.to_owned())
            .collect();
        let text = b"an assassin's sassy ass";
        let expected = oracle(&patterns, text);
        assert!(expected.len() > 10, "{expected:?}");
        for terms in both(&patterns) {
            assert_eq!(walked(&terms, text), expected);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// The byte-by-byte walk of the DFA and of the NFA finds exactly what the overlapping
        /// iterator finds, in the same order.
        #[test]
        fn walk_finds_what_the_overlapping_iterator_finds(
            patterns in proptest::collection::vec("[abc ]{1,5}", 1..8),
            text in "[abcd ]{0,40}",
        ) {
            let expected = oracle(&patterns, text.as_bytes());
            for terms in both(&patterns) {
                proptest::prop_assert_eq!(walked(&terms, text.as_bytes()), expected.clone());
            }
        }
    }
}

#[cfg(test)]
mod unleet_tests {
    use super::*;

    #[test]
    fn digits_of_mixed_words_read_as_letters() {
        let cases: &[(&str, &str, bool)] = &[
            ("y0u ar3 s0 tr4sh", "you are so trash", true),
            ("1 w1ll k1ll y0u", "i will kill you", true),
            ("usel3ss n00b", "useless noob", true),
            // Numbers alone and words without a digit are left as they are.
            (
                "you are 2nd with 50 kills",
                "you are 2nd with 50 kills",
                false,
            ),
            ("m4x lvl 50", "max lvl 50", true),
            ("gg 2 ez", "gg 2 ez", false),
            ("level 50", "level 50", false),
            ("", "", false),
            ("caf\u{e9} 4u", "caf\u{e9} au", true),
        ];
        let mut out = Vec::with_capacity(64);
        for &(plain, expected, changed) in cases {
            assert_eq!(unleet(plain.as_bytes(), &mut out), changed, "{plain}");
            assert_eq!(out, expected.as_bytes(), "{plain}");
        }
    }

    proptest::proptest! {
        /// Byte for byte (offsets carry over), and only digits ever change.
        #[test]
        fn unleet_keeps_length_and_changes_only_digits(text in "[a-z0-9 ]{0,40}") {
            let mut out = Vec::with_capacity(64);
            unleet(text.as_bytes(), &mut out);
            proptest::prop_assert_eq!(out.len(), text.len());
            for (&a, &b) in text.as_bytes().iter().zip(&out) {
                proptest::prop_assert!(a == b || a.is_ascii_digit());
            }
        }
    }

    #[test]
    fn leetspeak_regex_hits_are_evasive_and_need_a_substitution() {
        let set = {
            let mut set = RuleSet::new();
            set.add_file(
                "t.rules",
                "regex: /you are so (?:trash|bad)/ category=insult\n",
            )
            .unwrap();
            set
        };
        let limits = CompileLimits {
            max_rules: 100,
            max_regex_size: 1 << 20,
        };
        let m = Matcher::compile(&set, limits).unwrap();
        let find = |text: &str| {
            let mut fold = FoldBuffers::new(512);
            fold.fold_for_rules(text.as_bytes(), false);
            let mut out = MatchBuffers::new(&m, 64, fold.plain.text.capacity());
            m.find(&mut fold, text.as_bytes(), MessageKind::Chat, &mut out);
            out.hits
                .iter()
                .map(|h| (h.span, out.evasive))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            find("y0u ar3 s0 tr4sh"),
            [(Span { start: 0, end: 16 }, true)]
        );
        assert_eq!(
            find("ok y0u are so b4d"),
            [(Span { start: 3, end: 17 }, true)]
        );
        assert_eq!(
            find("you are so trash"),
            [(Span { start: 0, end: 16 }, false)]
        );
        assert!(find("y0u are 2nd").is_empty());
    }
}
