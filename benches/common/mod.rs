//! Corpora, the baseline and the fixture models, shared by the `check` and `report` benches.

#![allow(dead_code)]

use std::path::Path;

use aho_corasick::AhoCorasick;
use chatguard::model::{FeatureRow, Model};
use chatguard::{Filter, RuleKind};

pub fn read(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A named list of messages.
pub struct Corpus {
    pub name: &'static str,
    pub lines: Vec<String>,
}

impl Corpus {
    pub fn bytes(&self) -> usize {
        self.lines.iter().map(String::len).sum()
    }
}

/// Every benchmark corpus, in the order of the README's table:
/// - `chat-short`: short chat-like lines from tweets and SMS, abuse-heavy (~70% flagged);
/// - `chat-clean`: short lines of a mostly clean channel (SMS ham, tweets labelled neither);
/// - `sms`: the SMS Spam Collection, spam and ham;
/// - `heavy-unicode`: disguised abuse (confusables, zero-width, marks, fullwidth, leet);
/// - `4k`: chat-short lines joined into lines of just under 4 KiB (the default limit).
pub fn corpora() -> Vec<Corpus> {
    let chat: Vec<String> = read("fixtures/corpora/chat_short.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let clean: Vec<String> = read("fixtures/corpora/chat_clean/chat_clean.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let sms: Vec<String> = read("fixtures/corpora/sms_spam_collection/SMSSpamCollection")
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
        .collect();
    let unicode: Vec<String> = read("fixtures/eval/evasion_generated.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(4).map(str::to_owned))
        .collect();
    let mut long = Vec::new();
    let mut line = String::new();
    for l in &chat {
        if line.len() + 1 + l.len() > 4096 {
            long.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(l);
    }
    vec![
        Corpus {
            name: "chat-short",
            lines: chat,
        },
        Corpus {
            name: "chat-clean",
            lines: clean,
        },
        Corpus {
            name: "sms",
            lines: sms,
        },
        Corpus {
            name: "heavy-unicode",
            lines: unicode,
        },
        Corpus {
            name: "4k",
            lines: long,
        },
    ]
}

/// The default filter's blocked terms as written, without wildcards: the baseline's list.
pub fn term_list(filter: &Filter) -> Vec<String> {
    filter
        .rules()
        .iter()
        .filter(|r| *r.kind() == RuleKind::Term)
        .map(|r| r.pattern().trim_matches('*').to_owned())
        .collect()
}

/// The baseline: a plain Aho-Corasick automaton over the raw text (no folding, no word
/// boundaries, no allow list), with the default term list.
pub fn baseline(filter: &Filter) -> AhoCorasick {
    AhoCorasick::new(term_list(filter)).expect("baseline automaton")
}

/// A held-out row: the named features, and the hashed entries (indices relative to the
/// hashed block).
pub type Row = (Vec<f32>, Vec<(u32, f32)>);

/// The parity fixture models (trained on SMS features) and their held-out rows.
pub struct Models {
    pub models: Vec<(&'static str, Model)>,
    /// `(named, hashed)` per row; hashed indices relative to the hashed block.
    pub rows: Vec<Row>,
}

impl Models {
    pub fn load() -> Models {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models/parity");
        let models: Vec<(&'static str, Model)> = [
            ("linear", "linear.json"),
            ("tree", "tree.json"),
            ("forest", "forest.json"),
            ("boosting", "gradient_boosting.json"),
        ]
        .into_iter()
        .map(|(name, file)| {
            let model = Model::from_path(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            (name, model)
        })
        .collect();
        let named = models[0].1.schema().names.len();
        let rows = read("fixtures/models/parity/heldout.svm")
            .lines()
            .map(|line| {
                let mut dense = vec![0.0_f32; named];
                let mut hashed = Vec::new();
                for item in line.split_ascii_whitespace().skip(1) {
                    let (i, v) = item.split_once(':').expect("idx:val");
                    let i: usize = i.parse().expect("index");
                    let v: f32 = v.parse().expect("value");
                    if i < named {
                        dense[i] = v;
                    } else {
                        hashed.push((u32::try_from(i - named).expect("index"), v));
                    }
                }
                (dense, hashed)
            })
            .collect();
        Models { models, rows }
    }

    /// The sum of the probabilities a model gives the held-out rows.
    pub fn score_all(model: &Model, rows: &[Row]) -> f64 {
        rows.iter()
            .map(|(d, h)| model.predict_proba(FeatureRow::new(d, h)))
            .sum()
    }
}
