//! Per-sender activity over a sliding window, in memory fixed when the tracker is built.
//!
//! Whisper spam is one message, or small variations of it, sent by one account to many
//! recipients. A [`SenderTracker`] remembers, per sender, how many messages it sent in the
//! window, to how many distinct recipients, and to how many distinct recipients it sent a
//! near-duplicate of the message being observed (the *fan-out*). Near-duplicates are judged by
//! a [`Fingerprint`]: a small `MinHash` sketch of the folded words, so templated variations
//! ("buy followers at x.com 1", "… 2") agree in most of it while unrelated messages do not.
//!
//! ```
//! use chatguard::fold::Folder;
//! use chatguard::tracker::{Fingerprint, SenderObservation, SenderTracker, TrackerConfig};
//!
//! let tracker = SenderTracker::new(TrackerConfig::default());
//! let mut folder = Folder::new(512);
//! let mut last = None;
//! for (recipient, text) in ["buy followers at x.com 1", "buy followers at x.com 2", "BUY followers at x.com 3"]
//!     .iter()
//!     .enumerate()
//! {
//!     let fingerprint = Fingerprint::of_text(&mut folder, text.as_bytes());
//!     last = Some(tracker.observe(&SenderObservation {
//!         sender: 7,
//!         recipient: recipient as u64,
//!         fingerprint,
//!         now_ms: 1_000 * recipient as u64,
//!     }));
//! }
//! let signals = last.unwrap();
//! assert_eq!(signals.messages_in_window, 3);
//! assert_eq!(signals.distinct_recipients, 3);
//! assert_eq!(signals.near_duplicate_fanout, 3);
//! ```
//!
//! ## Memory
//!
//! Everything is allocated in [`SenderTracker::new`]: `shards` tables of `slots_per_shard`
//! senders, each sender with a ring of time buckets, `recipients_per_sender` recipient
//! entries and `fanout_per_sender` message entries. [`SenderTracker::memory_bytes`] reports
//! the total, which never changes. A new sender takes a free slot in its set or evicts the
//! set's least recently seen sender ([`SenderTracker::evictions`] counts those); a sender's
//! own tables evict their oldest entry when full, so counts saturate at the table sizes.
//! [`SenderTracker::observe`] never allocates.
//!
//! ## Threads
//!
//! Each shard is a `std::sync::Mutex` around its table. One observation updates several
//! fields of one sender (the bucket ring, both entry tables) that must agree with each
//! other, which atomics alone cannot do without a much more intricate protocol; a lock held
//! for a bounded scan of a few dozen entries is cheap, and senders hash evenly over the
//! shards, so two threads rarely wait on the same lock. A panic while a lock is held cannot
//! leave an entry half-written in a way that matters (the data are counters), so a poisoned
//! lock is simply taken over.
//!
//! ## Time
//!
//! Callers pass the time (`now_ms`, milliseconds from any fixed origin), which keeps tests
//! deterministic and lets a replay run faster than real time. Observations slightly out of
//! order (from different threads) are fine; activity older than the window is ignored.

use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::fold::{FoldedRef, Folder};

/// Time buckets per sender: the message-rate window slides in steps of `window_ms / BUCKETS`.
const BUCKETS: usize = 8;

/// Senders per set: a new sender may take any slot of its set, evicting the least recently
/// seen one, so two busy senders that hash alike do not keep evicting each other.
const WAYS: usize = 4;

/// The sizes of a [`SenderTracker`], fixed at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackerConfig {
    /// Independent tables, each behind its own lock. More shards, less contention.
    pub shards: usize,
    /// Senders remembered per shard (rounded up to a multiple of 4).
    pub slots_per_shard: usize,
    /// Length of the sliding window in milliseconds.
    pub window_ms: u64,
    /// Distinct recipients remembered per sender; `distinct_recipients` saturates here.
    pub recipients_per_sender: usize,
    /// (Message, recipient) pairs remembered per sender; `near_duplicate_fanout` saturates
    /// here.
    pub fanout_per_sender: usize,
    /// Two fingerprints that agree in at least this many of their 16 parts are
    /// near-duplicates ([`Fingerprint::agreement`]).
    pub near_duplicate_agreement: u32,
}

impl Default for TrackerConfig {
    /// 16 shards × 1024 senders, a 10-minute window, 16 recipients and 16 messages per
    /// sender, near-duplicates agreeing in 7 of 16 parts: about 13 MiB (800 bytes
    /// per sender).
    fn default() -> TrackerConfig {
        TrackerConfig {
            shards: 16,
            slots_per_shard: 1024,
            window_ms: 10 * 60 * 1000,
            recipients_per_sender: 16,
            fanout_per_sender: 16,
            near_duplicate_agreement: 7,
        }
    }
}

/// A 64-bit `MinHash` sketch of a message's folded words: near-duplicate messages share most
/// of its 16 parts, unrelated messages about one.
///
/// The sketch holds, for 16 independent hash functions, the low 4 bits of the smallest hash
/// of any word in the folded word view ("b-bit `MinHash`"). Two sketches agree in a part with
/// probability about the Jaccard similarity of the two word sets (plus 1/16 by chance), so a
/// template with one word changed in eight ("hey anna, …" / "hey ben, …") still agrees in
/// about 13 of 16 parts. A word made only of digits counts as the same word whatever its
/// digits, so counters and random numbers appended by templates change nothing, and leet
/// digits inside words are read as letters. (A `SimHash` is
/// the usual alternative, but on chat-length texts one changed word in eight flips about a
/// quarter of its bits, too close to the half that unrelated texts differ in.)
///
/// ```
/// use chatguard::fold::Folder;
/// use chatguard::tracker::Fingerprint;
/// let mut folder = Folder::new(256);
/// let a = Fingerprint::of_text(&mut folder, "buy followers at x.com 1".as_bytes());
/// let b = Fingerprint::of_text(&mut folder, "Buy f0llowers at x.com 2!".as_bytes());
/// let c = Fingerprint::of_text(&mut folder, "see you at practice tomorrow".as_bytes());
/// assert_eq!(a.agreement(b), 16);
/// assert!(a.agreement(c) < 8);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The number of parts in a sketch, the most two sketches can agree in.
    pub const PARTS: u32 = 16;

    /// The fingerprint of `text`, folded with the caller's `folder`, whose buffers are reused:
    /// nothing is allocated in steady state.
    pub fn of_text(folder: &mut Folder, text: &[u8]) -> Fingerprint {
        Fingerprint::of_folded(&folder.fold(text))
    }

    /// The fingerprint of text already folded: of its word view with repeated letters
    /// collapsed, so that `freeee` and `free` agree.
    #[must_use]
    pub fn of_folded(folded: &FoldedRef<'_>) -> Fingerprint {
        Fingerprint::of_words(folded.word_collapsed())
    }

    /// The fingerprint of space-separated words (for instance a folded word view).
    #[must_use]
    pub fn of_words(words: &str) -> Fingerprint {
        let mut minima = [u16::MAX; Fingerprint::PARTS as usize];
        for word in words.split(' ').filter(|w| !w.is_empty()) {
            let h = word_hash(word);
            // Four mixes of the word give sixteen independent 16-bit hashes.
            for (round, chunk) in minima.chunks_exact_mut(4).enumerate() {
                let mixed = mix(h ^ SEEDS[round]);
                for (part, minimum) in chunk.iter_mut().enumerate() {
                    let value = (mixed >> (16 * part)) as u16;
                    *minimum = (*minimum).min(value);
                }
            }
        }
        let sketch = minima.iter().enumerate().fold(0u64, |sketch, (part, &m)| {
            sketch | (u64::from(m) & 0xf) << (4 * part)
        });
        Fingerprint(sketch)
    }

    /// In how many of the [`PARTS`](Self::PARTS) parts two sketches agree (0 to 16).
    #[must_use]
    pub fn agreement(self, other: Fingerprint) -> u32 {
        let diff = self.0 ^ other.0;
        (0..Fingerprint::PARTS)
            .filter(|part| (diff >> (4 * part)).trailing_zeros() >= 4)
            .count() as u32
    }
}

/// Seeds of the four `MinHash` rounds.
const SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

/// FNV-1a of a word. Every all-digit word hashes alike; in a word of letters and digits the
/// digits that stand for letters are read as those letters (`h0m3` as `home`), since the word
/// view keeps such disguises.
fn word_hash(word: &str) -> u64 {
    let bytes = word.as_bytes();
    let all_digits = bytes.iter().all(u8::is_ascii_digit);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut add = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    if all_digits {
        add(b'#');
    } else {
        for &b in bytes {
            add(crate::fold::leet_digit(b).unwrap_or(b));
        }
    }
    h
}

/// The splitmix64 finalizer: a bijection on `u64` that spreads every input bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One message seen by the tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderObservation {
    /// The sender's id (any `u64`; it is hashed).
    pub sender: u64,
    /// The recipient's id (a user for whispers, a channel for chat).
    pub recipient: u64,
    /// The message's fingerprint ([`Fingerprint::of_text`]).
    pub fingerprint: Fingerprint,
    /// The time of the message in milliseconds from any fixed origin.
    pub now_ms: u64,
}

/// What the tracker knows about a sender after counting one more message, all within the
/// window and including that message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SenderSignals {
    /// Messages sent (to anyone). Counted in time buckets, so the window's far edge moves in
    /// steps of an eighth of the window.
    pub messages_in_window: u32,
    /// Distinct recipients (saturates at `recipients_per_sender`).
    pub distinct_recipients: u32,
    /// Distinct recipients that got a near-duplicate of this message, this one included
    /// (saturates at `fanout_per_sender`).
    pub near_duplicate_fanout: u32,
    /// How long the tracker has known this sender, in milliseconds (0 for a sender first
    /// seen now, or forgotten since).
    pub known_for_ms: u64,
}

/// A time bucket of the message-rate ring.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    /// `now_ms / bucket_ms` of the messages counted here.
    epoch: u64,
    count: u32,
}

/// One sender's fixed part; its entry tables sit in the shard's flat vectors at the same
/// index, so a slot never owns heap memory of its own.
#[derive(Clone, Copy, Debug, Default)]
struct SenderSlot {
    used: bool,
    /// `mix(sender)`: a bijection, so equal keys mean the same sender.
    key: u64,
    first_seen: u64,
    last_seen: u64,
    buckets: [Bucket; BUCKETS],
}

/// A recipient of one sender.
#[derive(Clone, Copy, Debug, Default)]
struct RecipientEntry {
    recipient: u64,
    /// Time last seen plus one; 0 marks an unused entry (a flag would pad the entry by 8
    /// bytes).
    seen: u64,
}

/// A message (by fingerprint) and a recipient it went to.
#[derive(Clone, Copy, Debug, Default)]
struct MessageEntry {
    recipient: u64,
    fingerprint: u64,
    /// As in [`RecipientEntry::seen`].
    seen: u64,
}

#[derive(Debug)]
struct Shard {
    senders: Vec<SenderSlot>,
    /// `recipients_per_sender` entries per slot, slot-major.
    recipients: Vec<RecipientEntry>,
    /// `fanout_per_sender` entries per slot, slot-major.
    messages: Vec<MessageEntry>,
}

/// Per-sender message rate, distinct recipients and near-duplicate fan-out over a sliding
/// window, in memory fixed at construction. Shared by threads (`&self` methods; it is `Send +
/// Sync`); see the [module docs](self).
#[derive(Debug)]
pub struct SenderTracker {
    config: TrackerConfig,
    bucket_ms: u64,
    shards: Box<[Mutex<Shard>]>,
    /// Senders forgotten to make room for new ones (relaxed: a statistic).
    evictions: AtomicU64,
}

impl SenderTracker {
    /// Allocates every table. Zero sizes are raised to 1, `slots_per_shard` is rounded up to
    /// a multiple of 4, and a window shorter than 8 ms is raised to 8 ms.
    #[must_use]
    pub fn new(config: TrackerConfig) -> SenderTracker {
        let mut config = config;
        config.shards = config.shards.max(1);
        config.slots_per_shard = config.slots_per_shard.max(1).div_ceil(WAYS) * WAYS;
        config.recipients_per_sender = config.recipients_per_sender.max(1);
        config.fanout_per_sender = config.fanout_per_sender.max(1);
        config.window_ms = config.window_ms.max(BUCKETS as u64);
        config.near_duplicate_agreement =
            config.near_duplicate_agreement.clamp(1, Fingerprint::PARTS);
        let slots = config.slots_per_shard;
        let shards = (0..config.shards)
            .map(|_| {
                Mutex::new(Shard {
                    senders: vec![SenderSlot::default(); slots],
                    recipients: vec![
                        RecipientEntry::default();
                        slots * config.recipients_per_sender
                    ],
                    messages: vec![MessageEntry::default(); slots * config.fanout_per_sender],
                })
            })
            .collect();
        SenderTracker {
            bucket_ms: config.window_ms / BUCKETS as u64,
            config,
            shards,
            evictions: AtomicU64::new(0),
        }
    }

    /// The configuration in effect (after the adjustments made by [`new`](Self::new)).
    #[must_use]
    pub fn config(&self) -> TrackerConfig {
        self.config
    }

    /// How many senders the tracker can remember at once.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.config.shards * self.config.slots_per_shard
    }

    /// Bytes held by the tracker's tables, fixed at construction (the tracker never grows).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        let per_sender = size_of::<SenderSlot>()
            + self.config.recipients_per_sender * size_of::<RecipientEntry>()
            + self.config.fanout_per_sender * size_of::<MessageEntry>();
        size_of::<SenderTracker>()
            + self.config.shards * size_of::<Mutex<Shard>>()
            + self.capacity() * per_sender
    }

    /// Senders forgotten so far to make room for new ones.
    #[must_use]
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Counts one message and returns the sender's signals including it. Never allocates.
    pub fn observe(&self, observation: &SenderObservation) -> SenderSignals {
        let key = mix(observation.sender);
        // High bits pick the shard, low bits the set, so the two choices are independent.
        let shard_index = ((key >> 32) as usize) % self.shards.len();
        let mut shard = self.shards[shard_index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let sets = self.config.slots_per_shard / WAYS;
        let set = (key as usize % sets) * WAYS;
        let now = observation.now_ms;

        let found =
            (set..set + WAYS).find(|&i| shard.senders[i].used && shard.senders[i].key == key);
        let slot = if let Some(i) = found {
            i
        } else {
            // A free slot, else the least recently seen sender of the set.
            let i = (set..set + WAYS)
                .min_by_key(|&i| {
                    let s = &shard.senders[i];
                    (s.used, s.last_seen)
                })
                .unwrap_or(set);
            if shard.senders[i].used {
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
            self.reset_slot(&mut shard, i, key, now);
            i
        };

        let window = self.config.window_ms;
        // Entries store `seen` = time + 1, 0 for unused.
        let in_window = |seen: u64| seen != 0 && now.saturating_sub(seen - 1) < window;
        let stamp = now.saturating_add(1);

        // Message rate.
        let sender = &mut shard.senders[slot];
        sender.last_seen = sender.last_seen.max(now);
        let epoch = now / self.bucket_ms;
        let bucket = &mut sender.buckets[(epoch % BUCKETS as u64) as usize];
        if bucket.epoch < epoch || bucket.count == 0 {
            *bucket = Bucket { epoch, count: 0 };
        }
        if bucket.epoch == epoch {
            bucket.count = bucket.count.saturating_add(1);
        }
        let messages_in_window = sender
            .buckets
            .iter()
            .filter(|b| b.epoch <= epoch && epoch - b.epoch < BUCKETS as u64)
            .map(|b| b.count)
            .sum();
        let known_for_ms = now.saturating_sub(sender.first_seen);

        // Distinct recipients.
        let r = self.config.recipients_per_sender;
        let recipients = &mut shard.recipients[slot * r..(slot + 1) * r];
        upsert(
            recipients,
            |e| e.seen != 0 && e.recipient == observation.recipient,
            |e| (in_window(e.seen), e.seen),
            RecipientEntry {
                recipient: observation.recipient,
                seen: stamp,
            },
        );
        let distinct_recipients = recipients.iter().filter(|e| in_window(e.seen)).count() as u32;

        // Near-duplicate fan-out.
        let f = self.config.fanout_per_sender;
        let agreement = self.config.near_duplicate_agreement;
        let fingerprint = observation.fingerprint;
        let near = |e: &MessageEntry| {
            e.seen != 0 && Fingerprint(e.fingerprint).agreement(fingerprint) >= agreement
        };
        let messages = &mut shard.messages[slot * f..(slot + 1) * f];
        upsert(
            messages,
            |e| near(e) && e.recipient == observation.recipient,
            |e| (in_window(e.seen), e.seen),
            MessageEntry {
                recipient: observation.recipient,
                fingerprint: fingerprint.0,
                seen: stamp,
            },
        );
        let matching = |e: &MessageEntry| near(e) && in_window(e.seen);
        let near_duplicate_fanout = messages
            .iter()
            .enumerate()
            .filter(|&(i, e)| {
                matching(e)
                    && !messages[..i]
                        .iter()
                        .any(|p| matching(p) && p.recipient == e.recipient)
            })
            .count() as u32;

        SenderSignals {
            messages_in_window,
            distinct_recipients,
            near_duplicate_fanout,
            known_for_ms,
        }
    }

    fn reset_slot(&self, shard: &mut Shard, slot: usize, key: u64, now: u64) {
        shard.senders[slot] = SenderSlot {
            used: true,
            key,
            first_seen: now,
            last_seen: now,
            buckets: [Bucket::default(); BUCKETS],
        };
        let r = self.config.recipients_per_sender;
        shard.recipients[slot * r..(slot + 1) * r].fill(RecipientEntry::default());
        let f = self.config.fanout_per_sender;
        shard.messages[slot * f..(slot + 1) * f].fill(MessageEntry::default());
    }
}

/// Refreshes the entry that `same` finds, or else replaces the entry that `age` ranks
/// lowest (unused or expired entries first, then the least recently seen).
fn upsert<E: Copy>(
    entries: &mut [E],
    same: impl Fn(&E) -> bool,
    age: impl Fn(&E) -> (bool, u64),
    new: E,
) {
    let index = entries
        .iter()
        .position(&same)
        .or_else(|| (0..entries.len()).min_by_key(|&i| age(&entries[i])));
    if let Some(i) = index {
        entries[i] = new;
    }
}
