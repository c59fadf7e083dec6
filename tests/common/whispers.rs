//! Simulated whisper streams (`fixtures/whispers/*.tsv`, written by
//! `tools/simulate_whispers.py`), for the tests and the benches. The `chatguard` command has
//! its own reader with error positions (`cli/src/stream.rs`); these files are fixtures, so a
//! bad row here is a panic.
// Each bench or test reads the fields it needs.
#![allow(dead_code)]

use chatguard::{Message, MessageKind, SenderContext};

/// The header line of a stream file.
pub const HEADER: &str = "time\tsender\trecipient\taccount_age_days\tfirst_contact\ttext\tlabel";

/// One row of a stream file.
pub struct Whisper {
    pub time_ms: u64,
    pub sender: u64,
    pub recipient: u64,
    pub account_age_days: u64,
    pub first_contact: bool,
    pub text: String,
    pub spam: bool,
}

impl Whisper {
    /// What a server knows of the sender and the recipient.
    pub fn context(&self) -> SenderContext {
        SenderContext {
            account_age_secs: Some(self.account_age_days * 86_400),
            first_contact: Some(self.first_contact),
            sender_id: Some(self.sender),
            recipient_id: Some(self.recipient),
            ..SenderContext::default()
        }
    }

    /// The whisper as a message to check.
    pub fn message(&self) -> Message<'_> {
        Message::new(&self.text)
            .kind(MessageKind::Whisper)
            .sender(self.context())
    }
}

/// The rows of stream file `name` whose text is `text`.
pub fn parse(name: &str, text: &str) -> Vec<Whisper> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER), "{name}: header");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 7, "{name}: {l}");
            let number = |i: usize| -> u64 {
                f[i].parse()
                    .unwrap_or_else(|_| panic!("{name}: column {i} of {l}"))
            };
            Whisper {
                time_ms: number(0) * 1000,
                sender: number(1),
                recipient: number(2),
                account_age_days: number(3),
                first_contact: f[4] == "1",
                text: f[5].to_owned(),
                spam: match f[6] {
                    "spam" => true,
                    "ham" => false,
                    other => panic!("{name}: label {other}"),
                },
            }
        })
        .collect()
}
