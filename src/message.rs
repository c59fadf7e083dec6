//! The input: one chat line or whisper, with what the server knows about its sender.

/// Where a message is going.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A public line in a channel.
    #[default]
    Chat,
    /// A direct message to one recipient.
    Whisper,
}

impl MessageKind {
    /// The lower-case name (`chat`, `whisper`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Chat => "chat",
            MessageKind::Whisper => "whisper",
        }
    }
}

/// What the chat server knows about the sender and the recipient. Every field is optional:
/// unknown values are neutral.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SenderContext {
    /// Age of the sender's account in seconds.
    pub account_age_secs: Option<u64>,
    /// Whether this is the first message from the sender to this recipient (the recipient
    /// neither follows the sender nor has talked to them before).
    pub first_contact: Option<bool>,
    /// Whether the sender is verified.
    pub verified: Option<bool>,
    /// Whether the sender is a moderator of the channel.
    pub moderator: Option<bool>,
    /// An opaque id of the sender, for per-sender tracking.
    pub sender_id: Option<u64>,
    /// An opaque id of the channel or recipient.
    pub recipient_id: Option<u64>,
    /// What a [`SenderTracker`](crate::tracker::SenderTracker) counted for this sender,
    /// this message included. [`Filter::check_tracked`](crate::Filter::check_tracked) fills
    /// it in; a caller observing on its own may set it.
    pub tracker: Option<crate::tracker::SenderSignals>,
}

/// One message to check.
///
/// ```
/// use chatguard::{Message, MessageKind};
/// let m = Message::new("hello chat").kind(MessageKind::Whisper);
/// assert_eq!(m.text(), b"hello chat");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    text: &'a [u8],
    kind: MessageKind,
    sender: SenderContext,
}

impl<'a> Message<'a> {
    /// A chat message.
    #[must_use]
    pub fn new(text: &'a str) -> Message<'a> {
        Message::from_bytes(text.as_bytes())
    }

    /// A chat message given as raw bytes. Invalid UTF-8 is accepted: each invalid byte is
    /// treated as a separator, and hit spans still index the original bytes.
    #[must_use]
    pub fn from_bytes(text: &'a [u8]) -> Message<'a> {
        Message {
            text,
            kind: MessageKind::Chat,
            sender: SenderContext::default(),
        }
    }

    /// Sets the kind.
    #[must_use]
    pub fn kind(mut self, kind: MessageKind) -> Message<'a> {
        self.kind = kind;
        self
    }

    /// Sets the sender context.
    #[must_use]
    pub fn sender(mut self, sender: SenderContext) -> Message<'a> {
        self.sender = sender;
        self
    }

    /// The text as bytes.
    #[must_use]
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The kind of message.
    #[must_use]
    pub fn message_kind(&self) -> MessageKind {
        self.kind
    }

    /// The sender context.
    #[must_use]
    pub fn sender_context(&self) -> &SenderContext {
        &self.sender
    }
}
