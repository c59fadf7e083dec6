//! The chat server's logic, separate from `main.rs` so that `tests/chat_server.rs` can run it
//! in-process.
//!
//! Protocol: JSON text frames over WebSocket. The client's first frame is
//! `{"type":"hello","user":"alice","account_age_days":400}`; then any of
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
//! rules reload takes effect on the next message), with a [`Scratch`] per connection.
//!
//! Whisper spam policy (this example's, until the whisper decision tree lands): every
//! whisper is counted by one shared [`SenderTracker`]; a whisper from an account younger
//! than [`YOUNG_ACCOUNT_DAYS`] whose near-duplicate fan-out (distinct recipients that got
//! the same message, or a templated variation of it, within the tracker's window) reaches
//! [`SPAM_FANOUT`] is dropped as spam. So a new account's template reaches its first two
//! recipients and no more.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chatguard::fold::Folder;
use chatguard::reload::SharedFilter;
use chatguard::tracker::{Fingerprint, SenderObservation, SenderTracker, TrackerConfig};
use chatguard::{Action, Filter, Message, MessageKind, Scratch, SenderContext};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Accounts younger than this many days are "young" for the whisper spam policy.
pub const YOUNG_ACCOUNT_DAYS: u64 = 7;
/// A young account's whisper is dropped once its near-duplicate fan-out reaches this.
pub const SPAM_FANOUT: u32 = 3;

/// What a client sends.
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMsg {
    Hello { user: String, account_age_days: u64 },
    Join { channel: String },
    Say { channel: String, text: String },
    Whisper { to: String, text: String },
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

/// State shared by every connection.
pub struct Hub {
    filter: Arc<SharedFilter>,
    tracker: SenderTracker,
    started: Instant,
    /// Connected users by name: each one's outgoing queue.
    users: Mutex<HashMap<String, mpsc::UnboundedSender<ServerMsg>>>,
    /// Members of each channel.
    channels: Mutex<HashMap<String, HashSet<String>>>,
}

impl Hub {
    /// A hub checking messages with `filter` and counting whispers in a default-sized
    /// tracker.
    #[must_use]
    pub fn new(filter: Arc<SharedFilter>) -> Arc<Hub> {
        Arc::new(Hub {
            filter,
            tracker: SenderTracker::new(TrackerConfig::default()),
            started: Instant::now(),
            users: Mutex::new(HashMap::new()),
            channels: Mutex::new(HashMap::new()),
        })
    }

    fn users(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<ServerMsg>>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send_to(&self, user: &str, msg: ServerMsg) -> bool {
        self.users()
            .get(user)
            .is_some_and(|tx| tx.send(msg).is_ok())
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
    let (tx, mut rx) = mpsc::unbounded_channel::<ServerMsg>();
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
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => break,
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
                None => hello(&hub, &tx, msg, &mut session),
                Some(s) => s.handle(&hub, msg),
            },
        };
        if let Some(reply) = reply {
            let _ = tx.send(reply);
        }
    }
    if let Some(s) = session {
        s.leave(&hub);
    }
    drop(tx);
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
    tx: &mpsc::UnboundedSender<ServerMsg>,
    msg: ClientMsg,
    session: &mut Option<Session>,
) -> Option<ServerMsg> {
    let ClientMsg::Hello {
        user,
        account_age_days,
    } = msg
    else {
        return Some(error("say hello first"));
    };
    {
        let mut users = hub.users();
        if users.contains_key(&user) {
            return Some(error(format!("the name {user} is taken")));
        }
        users.insert(user.clone(), tx.clone());
    }
    *session = Some(Session {
        id: user_id(&user),
        user: user.clone(),
        account_age_days,
        channels: HashSet::new(),
        scratch: hub.filter.load().scratch(),
        folder: Folder::new(hub.filter.load().config().max_message_bytes),
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
    folder: Folder,
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
                match self.check(hub, &text, MessageKind::Chat, None) {
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
                match self.check(hub, &text, MessageKind::Whisper, Some(user_id(&to))) {
                    Outcome::Deliver => {
                        let from = self.user.clone();
                        hub.send_to(&to, ServerMsg::Whisper { from, text });
                        None
                    }
                    outcome => Some(notice(outcome)),
                }
            }
        }
    }

    /// Runs `text` through the current filter and, for a whisper to `recipient`, the tracker.
    fn check(
        &mut self,
        hub: &Hub,
        text: &str,
        kind: MessageKind,
        recipient: Option<u64>,
    ) -> Outcome {
        let filter: Arc<Filter> = hub.filter.load();
        let message = Message::new(text).kind(kind).sender(SenderContext {
            account_age_secs: Some(self.account_age_days * 86_400),
            sender_id: Some(self.id),
            recipient_id: recipient,
            ..SenderContext::default()
        });
        let verdict = filter.check_with(&mut self.scratch, &message);
        let categories: Vec<String> = verdict
            .categories()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        let action = verdict.action();

        if let Some(recipient) = recipient {
            let signals = hub.tracker.observe(&SenderObservation {
                sender: self.id,
                recipient,
                fingerprint: Fingerprint::of_text(&mut self.folder, text.as_bytes()),
                now_ms: u64::try_from(hub.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            });
            if action != Action::Block
                && self.account_age_days < YOUNG_ACCOUNT_DAYS
                && signals.near_duplicate_fanout >= SPAM_FANOUT
            {
                return Outcome::Dropped(format!(
                    "spam: a new account sent this to {} recipients",
                    signals.near_duplicate_fanout
                ));
            }
        }
        match action {
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
