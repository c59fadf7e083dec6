//! The chat server's logic, separate from `main.rs` so that `tests/chat_server.rs` can run it
//! in-process.
//!
//! Protocol: JSON text frames over WebSocket. The client's first frame is
//! `{"type":"hello","user":"alice","account_age_days":400}`, optionally with
//! `"friends":["bob",..]` (people who follow alice or whom she follows); then any of
//! `{"type":"join","channel":"lobby"}`, `{"type":"say","channel":"lobby","text":"..."}`,
//! `{"type":"whisper","to":"bob","text":"..."}`. The server acknowledges `hello` with
//! `{"type":"welcome","user":..}` and `join` with `{"type":"joined","channel":..}` (so a
//! client knows when it can be reached), and sends
//! `{"type":"message","channel":..,"from":..,"text":..}` to the other members of a channel,
//! `{"type":"whisper","from":..,"text":..}` to a whisper's recipient, and to the sender of a
//! flagged message `{"type":"held","reason":..,"categories":[..]}` (action `review`: not
//! delivered, a moderator may look at it) or `{"type":"dropped","reason":..}` (action
//! `block`, or whisper spam). Mistakes (a frame before `hello`, a taken name, an unknown
//! recipient, saying into a channel not joined) get `{"type":"error","reason":..}`.
//!
//! Every message is checked by one shared [`Filter`] (through a [`SharedFilter`], so a
//! rules reload takes effect on the next message), with a [`Scratch`] per connection. The
//! filter's action decides: `allow` delivers, `review` holds (not delivered; a moderator may
//! look at it), `block` drops.
//!
//! Whisper spam: every whisper is checked with [`Filter::check_tracked`] against one shared
//! [`SenderTracker`], with what the server knows about the sender: the account's age (from
//! `hello`) and whether this is a first contact (the two are not friends and have not
//! whispered each other before). The default whisper model (a decision tree over those
//! signals, see `models/README.md`) then judges the sender's fan-out: a young account
//! sending a template to strangers is held from its first whisper and dropped from its third
//! recipient; an old account sending one line to a few friends is delivered.
//!
//! Outgoing queues are bounded ([`OUTGOING_QUEUE`] messages per connection): a client that
//! stops reading while messages keep coming for it is disconnected when its queue is full,
//! rather than buffered without bound (the message that did not fit is not delivered to it;
//! a whisper's sender is told the recipient is not reachable).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chatguard::reload::SharedFilter;
use chatguard::tracker::{SenderTracker, TrackerConfig};
use chatguard::{Action, Filter, Message, MessageKind, Scratch, SenderContext};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Messages waiting to be written to one client, at most. A client whose queue is full is
/// disconnected.
pub const OUTGOING_QUEUE: usize = 256;

/// What a client sends.
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMsg {
    Hello {
        user: String,
        account_age_days: u64,
        /// People the user follows or is followed by: whispers between them are not first
        /// contacts.
        #[serde(default)]
        friends: Vec<String>,
    },
    Join {
        channel: String,
    },
    Say {
        channel: String,
        text: String,
    },
    Whisper {
        to: String,
        text: String,
    },
}

/// What the server sends.
#[derive(Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMsg {
    Welcome {
        user: String,
    },
    Joined {
        channel: String,
    },
    Message {
        channel: String,
        from: String,
        text: String,
    },
    Whisper {
        from: String,
        text: String,
    },
    Held {
        reason: String,
        categories: Vec<String>,
    },
    Dropped {
        reason: String,
    },
    Error {
        reason: String,
    },
}

/// A connected user.
struct User {
    /// The connection's outgoing queue (bounded).
    tx: mpsc::Sender<ServerMsg>,
    /// Wakes the connection to close it when its queue overflows.
    overflow: Arc<Notify>,
    /// Friends named at `hello` and everyone the user has exchanged a whisper with: a
    /// whisper to or from them is not a first contact. (In memory while connected; a real
    /// server asks its social graph.)
    contacts: HashSet<String>,
}

/// State shared by every connection.
pub struct Hub {
    filter: Arc<SharedFilter>,
    tracker: SenderTracker,
    started: Instant,
    queue: usize,
    /// Connected users by name.
    users: Mutex<HashMap<String, User>>,
    /// Members of each channel.
    channels: Mutex<HashMap<String, HashSet<String>>>,
}

impl Hub {
    /// A hub checking messages with `filter`, counting whispers in a default-sized tracker,
    /// with outgoing queues of [`OUTGOING_QUEUE`] messages.
    #[must_use]
    pub fn new(filter: Arc<SharedFilter>) -> Arc<Hub> {
        Hub::with_queue(filter, OUTGOING_QUEUE)
    }

    /// A hub whose outgoing queues hold `queue` messages (at least 1).
    #[must_use]
    pub fn with_queue(filter: Arc<SharedFilter>, queue: usize) -> Arc<Hub> {
        Arc::new(Hub {
            filter,
            tracker: SenderTracker::new(TrackerConfig::default()),
            started: Instant::now(),
            queue: queue.max(1),
            users: Mutex::new(HashMap::new()),
            channels: Mutex::new(HashMap::new()),
        })
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<String, User>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `msg` for `user`. Returns whether it was queued: not when the user is gone, or
    /// when its queue is full, in which case the user is disconnected.
    fn send_to(&self, user: &str, msg: ServerMsg) -> bool {
        let users = self.users();
        let Some(u) = users.get(user) else {
            return false;
        };
        match u.tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                u.overflow.notify_one();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Whether a whisper from `from` to `to` is a first contact.
    fn first_contact(&self, from: &str, to: &str) -> bool {
        let users = self.users();
        let knows = |a: &str, b: &str| users.get(a).is_some_and(|u| u.contacts.contains(b));
        !knows(from, to) && !knows(to, from)
    }

    /// Records that `a` and `b` exchanged a whisper.
    fn add_contact(&self, a: &str, b: &str) {
        let mut users = self.users();
        for (x, y) in [(a, b), (b, a)] {
            if let Some(u) = users.get_mut(x) {
                u.contacts.insert(y.to_owned());
            }
        }
    }
}

/// Accepts connections on `listener` until `shutdown` completes, then tells every
/// connection to close and waits for them.
pub async fn serve(listener: TcpListener, hub: Arc<Hub>, shutdown: impl Future<Output = ()>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, Arc::clone(&hub), stop_rx.clone()));
                }
                // A connection that failed before it was accepted; the listener is fine.
                Err(e) => eprintln!("accept: {e}"),
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
}

/// One client: a writer task drains the user's queue into the socket while this task reads
/// frames, until the client leaves or the server stops.
async fn connection(stream: TcpStream, hub: Arc<Hub>, mut stop: watch::Receiver<bool>) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut frames) = ws.split();
    let (tx, mut rx) = mpsc::channel::<ServerMsg>(hub.queue);
    let overflow = Arc::new(Notify::new());
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let json = serde_json::to_string(&msg).expect("server messages serialize");
            if sink.send(Frame::text(json)).await.is_err() {
                return;
            }
        }
        let _ = sink.send(Frame::Close(None)).await;
    });

    let mut session: Option<Session> = None;
    let mut overflowed = false;
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => break,
            // The client does not read what it is sent: close rather than buffer.
            () = overflow.notified() => {
                overflowed = true;
                break;
            }
            frame = frames.next() => frame,
        };
        let text = match frame {
            Some(Ok(Frame::Text(text))) => text,
            Some(Ok(Frame::Close(_)) | Err(_)) | None => break,
            Some(Ok(_)) => continue, // pings are answered by tungstenite; binary is ignored
        };
        let reply = match serde_json::from_str::<ClientMsg>(text.as_str()) {
            Err(e) => Some(error(format!("bad frame: {e}"))),
            Ok(msg) => match &mut session {
                None => hello(&hub, &tx, &overflow, msg, &mut session),
                Some(s) => s.handle(&hub, msg),
            },
        };
        if let Some(reply) = reply {
            if tx.try_send(reply).is_err() {
                overflowed = true; // its own queue is full: it does not read either
                break;
            }
        }
    }
    if let Some(s) = session {
        s.leave(&hub);
    }
    drop(tx);
    if overflowed {
        // The writer may be stuck on a socket the client does not read: drop the connection
        // (and what is still queued for it) instead of waiting.
        writer.abort();
    }
    let _ = writer.await;
}

fn error(reason: impl Into<String>) -> ServerMsg {
    ServerMsg::Error {
        reason: reason.into(),
    }
}

/// Handles the first frame, which must be `hello` with a free name.
fn hello(
    hub: &Hub,
    tx: &mpsc::Sender<ServerMsg>,
    overflow: &Arc<Notify>,
    msg: ClientMsg,
    session: &mut Option<Session>,
) -> Option<ServerMsg> {
    let ClientMsg::Hello {
        user,
        account_age_days,
        friends,
    } = msg
    else {
        return Some(error("say hello first"));
    };
    {
        let mut users = hub.users();
        if users.contains_key(&user) {
            return Some(error(format!("the name {user} is taken")));
        }
        users.insert(
            user.clone(),
            User {
                tx: tx.clone(),
                overflow: Arc::clone(overflow),
                contacts: friends.into_iter().collect(),
            },
        );
    }
    *session = Some(Session {
        id: user_id(&user),
        user: user.clone(),
        account_age_days,
        channels: HashSet::new(),
        scratch: hub.filter.load().scratch(),
    });
    Some(ServerMsg::Welcome { user })
}

/// A stable id for a user name (the tracker keys senders and recipients by `u64`).
fn user_id(name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// A connected user and the per-connection buffers its messages are checked with.
struct Session {
    user: String,
    id: u64,
    account_age_days: u64,
    channels: HashSet<String>,
    scratch: Scratch,
}

/// What to do with a checked message.
enum Outcome {
    Deliver,
    Held(Vec<String>),
    Dropped(String),
}

impl Session {
    fn handle(&mut self, hub: &Hub, msg: ClientMsg) -> Option<ServerMsg> {
        match msg {
            ClientMsg::Hello { .. } => Some(error("already said hello")),
            ClientMsg::Join { channel } => {
                hub.channels()
                    .entry(channel.clone())
                    .or_default()
                    .insert(self.user.clone());
                self.channels.insert(channel.clone());
                Some(ServerMsg::Joined { channel })
            }
            ClientMsg::Say { channel, text } => {
                if !self.channels.contains(&channel) {
                    return Some(error(format!("join {channel} first")));
                }
                match self.check(hub, &text, MessageKind::Chat, None, false) {
                    Outcome::Deliver => {
                        let members: Vec<String> = hub.channels()[&channel]
                            .iter()
                            .filter(|m| **m != self.user)
                            .cloned()
                            .collect();
                        for member in members {
                            hub.send_to(
                                &member,
                                ServerMsg::Message {
                                    channel: channel.clone(),
                                    from: self.user.clone(),
                                    text: text.clone(),
                                },
                            );
                        }
                        None
                    }
                    outcome => Some(notice(outcome)),
                }
            }
            ClientMsg::Whisper { to, text } => {
                if !hub.users().contains_key(&to) {
                    return Some(error(format!("{to} is not here")));
                }
                let first_contact = hub.first_contact(&self.user, &to);
                let recipient = Some(user_id(&to));
                match self.check(hub, &text, MessageKind::Whisper, recipient, first_contact) {
                    Outcome::Deliver => {
                        let from = self.user.clone();
                        if !hub.send_to(&to, ServerMsg::Whisper { from, text }) {
                            return Some(error(format!("{to} is not reachable")));
                        }
                        hub.add_contact(&self.user, &to);
                        None
                    }
                    outcome => Some(notice(outcome)),
                }
            }
        }
    }

    /// Runs `text` through the current filter: a whisper to `recipient` with
    /// [`Filter::check_tracked`], which counts it in the hub's tracker and lets the whisper
    /// model judge the sender's fan-out; a chat line with [`Filter::check_with`].
    fn check(
        &mut self,
        hub: &Hub,
        text: &str,
        kind: MessageKind,
        recipient: Option<u64>,
        first_contact: bool,
    ) -> Outcome {
        let filter: Arc<Filter> = hub.filter.load();
        let mut context = SenderContext {
            account_age_secs: Some(self.account_age_days * 86_400),
            sender_id: Some(self.id),
            ..SenderContext::default()
        };
        let verdict = if let Some(recipient) = recipient {
            context.recipient_id = Some(recipient);
            context.first_contact = Some(first_contact);
            let now_ms = u64::try_from(hub.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let message = Message::new(text).kind(kind).sender(context);
            filter.check_tracked(&mut self.scratch, &message, &hub.tracker, now_ms)
        } else {
            let message = Message::new(text).kind(kind).sender(context);
            filter.check_with(&mut self.scratch, &message)
        };
        let categories: Vec<String> = verdict
            .categories()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        match verdict.action() {
            Action::Allow => Outcome::Deliver,
            Action::Review => Outcome::Held(categories),
            Action::Block => Outcome::Dropped(format!("blocked: {}", categories.join(", "))),
        }
    }

    fn leave(self, hub: &Hub) {
        let mut channels = hub.channels();
        for channel in &self.channels {
            if let Some(members) = channels.get_mut(channel) {
                members.remove(&self.user);
                if members.is_empty() {
                    channels.remove(channel);
                }
            }
        }
        drop(channels);
        hub.users().remove(&self.user);
    }
}

fn notice(outcome: Outcome) -> ServerMsg {
    match outcome {
        Outcome::Deliver => unreachable!("delivered messages need no notice"),
        Outcome::Held(categories) => ServerMsg::Held {
            reason: "held for review".to_owned(),
            categories,
        },
        Outcome::Dropped(reason) => ServerMsg::Dropped { reason },
    }
}
