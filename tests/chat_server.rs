//! The chat server example (`examples/chat_server`) run in-process on 127.0.0.1 on a free
//! port, with real WebSocket clients: what each recipient receives.

#[allow(dead_code)]
#[path = "../examples/chat_server/server.rs"]
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chatguard::reload::SharedFilter;
use chatguard::{Filter, FilterBuilder, RuleSet};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use server::ServerMsg;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long to wait for a frame that must arrive.
const ARRIVES: Duration = Duration::from_secs(5);
/// How long to listen for a frame that must not arrive.
const NOTHING: Duration = Duration::from_millis(300);

struct Server {
    addr: SocketAddr,
    shared: Arc<SharedFilter>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start() -> Server {
        let shared = Arc::new(SharedFilter::new(
            Filter::default_english_with_models().unwrap(),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let hub = server::Hub::new(Arc::clone(&shared));
        let task = tokio::spawn(server::serve(listener, hub, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            shared,
            stop,
            task,
        }
    }

    /// Stops the server and checks that it closes its connections and returns.
    async fn stop(self, clients: Vec<Client>) {
        self.stop.send(()).unwrap();
        for mut client in clients {
            client.expect_closed().await;
        }
        tokio::time::timeout(ARRIVES, self.task)
            .await
            .expect("the server stops")
            .unwrap();
    }
}

struct Client {
    name: &'static str,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    /// Connects and says hello.
    async fn connect(server: &Server, name: &'static str, account_age_days: u64) -> Client {
        let (ws, _) = tokio::time::timeout(
            ARRIVES,
            tokio_tungstenite::connect_async(format!("ws://{}", server.addr)),
        )
        .await
        .expect("connect in time")
        .expect("connect");
        let mut client = Client { name, ws };
        client
            .send(json!({"type": "hello", "user": name, "account_age_days": account_age_days}))
            .await;
        assert_eq!(
            client.recv().await,
            ServerMsg::Welcome {
                user: name.to_owned()
            }
        );
        client
    }

    async fn send(&mut self, value: serde_json::Value) {
        self.ws.send(Frame::text(value.to_string())).await.unwrap();
    }

    async fn join(&mut self, channel: &str) {
        self.send(json!({"type": "join", "channel": channel})).await;
        assert_eq!(
            self.recv().await,
            ServerMsg::Joined {
                channel: channel.to_owned()
            }
        );
    }

    async fn say(&mut self, channel: &str, text: &str) {
        self.send(json!({"type": "say", "channel": channel, "text": text}))
            .await;
    }

    async fn whisper(&mut self, to: &str, text: &str) {
        self.send(json!({"type": "whisper", "to": to, "text": text}))
            .await;
    }

    /// The next frame, which must arrive within [`ARRIVES`].
    async fn recv(&mut self) -> ServerMsg {
        loop {
            let frame = tokio::time::timeout(ARRIVES, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{} received nothing", self.name))
                .expect("connection open")
                .unwrap();
            if let Frame::Text(text) = frame {
                return serde_json::from_str(text.as_str()).unwrap();
            }
        }
    }

    /// Nothing arrives within [`NOTHING`].
    async fn expect_nothing(&mut self) {
        if let Ok(frame) = tokio::time::timeout(NOTHING, self.ws.next()).await {
            panic!("{} received {frame:?}", self.name);
        }
    }

    /// The server closes the connection (no other frame may come first).
    async fn expect_closed(&mut self) {
        match tokio::time::timeout(ARRIVES, self.ws.next()).await {
            Err(_) => panic!("{}: the server did not close the connection", self.name),
            Ok(None | Some(Err(_) | Ok(Frame::Close(_)))) => {}
            Ok(Some(Ok(frame))) => panic!("{} received {frame:?} at shutdown", self.name),
        }
    }
}

fn message(channel: &str, from: &str, text: &str) -> ServerMsg {
    ServerMsg::Message {
        channel: channel.to_owned(),
        from: from.to_owned(),
        text: text.to_owned(),
    }
}

fn whisper(from: &str, text: &str) -> ServerMsg {
    ServerMsg::Whisper {
        from: from.to_owned(),
        text: text.to_owned(),
    }
}

#[tokio::test]
async fn clean_chat_reaches_the_other_members_of_the_channel() {
    let server = Server::start().await;
    let mut alice = Client::connect(&server, "alice", 400).await;
    let mut bob = Client::connect(&server, "bob", 30).await;
    let mut carol = Client::connect(&server, "carol", 2).await;
    let mut dave = Client::connect(&server, "dave", 900).await;
    for c in [&mut alice, &mut bob, &mut carol] {
        c.join("lobby").await;
    }
    dave.join("offtopic").await;

    let text = "gg everyone, that last round was close";
    alice.say("lobby", text).await;
    assert_eq!(bob.recv().await, message("lobby", "alice", text));
    assert_eq!(carol.recv().await, message("lobby", "alice", text));
    alice.expect_nothing().await; // no echo, no notice
    dave.expect_nothing().await; // not in the channel

    carol.say("lobby", "anyone up for a rematch?").await;
    assert_eq!(
        alice.recv().await,
        message("lobby", "carol", "anyone up for a rematch?")
    );
    assert_eq!(
        bob.recv().await,
        message("lobby", "carol", "anyone up for a rematch?")
    );

    // Saying into a channel one has not joined is refused.
    dave.say("lobby", "hello?").await;
    assert!(matches!(dave.recv().await, ServerMsg::Error { .. }));
    alice.expect_nothing().await;

    server.stop(vec![alice, bob, carol, dave]).await;
}

/// A young account (1 day) whispers `template` with a counter (1..=5) to five recipients.
/// `first_two_held`: whether the filter alone already holds the text (so even the first two,
/// below the fan-out threshold, are not delivered). From the third recipient on, the fan-out
/// policy drops it. Returns nothing: every expectation is asserted here.
async fn young_account_fanout(template: &str, first_two_held: bool) {
    let server = Server::start().await;
    let mut spammer = Client::connect(&server, "spammer", 1).await;
    let mut recipients = Vec::new();
    for name in ["r1", "r2", "r3", "r4", "r5"] {
        recipients.push(Client::connect(&server, name, 365).await);
    }

    for (i, r) in recipients.iter_mut().enumerate() {
        let n = i + 1;
        let text = format!("{template} {n}");
        spammer.whisper(r.name, &text).await;
        if n < server::SPAM_FANOUT as usize {
            if first_two_held {
                assert_eq!(
                    spammer.recv().await,
                    ServerMsg::Held {
                        reason: "held for review".to_owned(),
                        categories: vec!["spam".to_owned()]
                    },
                    "whisper {n}"
                );
                r.expect_nothing().await;
            } else {
                assert_eq!(r.recv().await, whisper("spammer", &text), "whisper {n}");
                spammer.expect_nothing().await;
            }
        } else {
            match spammer.recv().await {
                ServerMsg::Dropped { reason } => assert_eq!(
                    reason,
                    format!("spam: a new account sent this to {n} recipients")
                ),
                other => panic!("whisper {n}: {other:?}"),
            }
            r.expect_nothing().await;
        }
    }
    for r in &mut recipients {
        r.expect_nothing().await;
    }

    let mut clients = vec![spammer];
    clients.extend(recipients);
    server.stop(clients).await;
}

#[tokio::test]
async fn whisper_fanout_of_spam_text_from_a_new_account_reaches_no_one() {
    // The default spam model already holds this text on its own (review), so the first two
    // are held; the fan-out policy drops the third, fourth and fifth.
    young_account_fanout("buy followers and views cheap at x.com", true).await;
}

#[tokio::test]
async fn whisper_fanout_from_a_new_account_is_dropped_from_the_third_recipient() {
    // A template the filter allows on its own: only the fan-out policy stops it, after two.
    young_account_fanout("hey want to trade skins? add me", false).await;
}

#[tokio::test]
async fn an_evasive_insult_is_not_delivered_and_the_sender_is_told() {
    let server = Server::start().await;
    let mut alice = Client::connect(&server, "alice", 400).await;
    let mut bob = Client::connect(&server, "bob", 400).await;
    alice.join("lobby").await;
    bob.join("lobby").await;

    for (i, send_as_whisper) in [false, true].into_iter().enumerate() {
        if send_as_whisper {
            alice.whisper("bob", "ur such a b.i.t.c.h").await;
        } else {
            alice.say("lobby", "ur such a b.i.t.c.h").await;
        }
        match alice.recv().await {
            ServerMsg::Held { categories, .. } => {
                assert!(
                    categories.iter().any(|c| c == "profanity"),
                    "{categories:?}"
                );
            }
            ServerMsg::Dropped { reason } => assert!(reason.starts_with("blocked"), "{reason}"),
            other => panic!("{i}: {other:?}"),
        }
        bob.expect_nothing().await;
    }

    server.stop(vec![alice, bob]).await;
}

#[tokio::test]
async fn an_old_account_whispers_friends_normally() {
    let server = Server::start().await;
    let mut alice = Client::connect(&server, "alice", 400).await;
    let mut friends = Vec::new();
    for name in ["bob", "carol", "dave", "erin"] {
        friends.push(Client::connect(&server, name, 200).await);
    }

    alice
        .whisper("bob", "are you coming to the raid tonight?")
        .await;
    assert_eq!(
        friends[0].recv().await,
        whisper("alice", "are you coming to the raid tonight?")
    );
    // The same line to several friends: an old account is not held to the fan-out rule.
    for friend in &friends {
        alice
            .whisper(friend.name, "raid starts at 9, bring potions")
            .await;
    }
    for friend in &mut friends {
        assert_eq!(
            friend.recv().await,
            whisper("alice", "raid starts at 9, bring potions")
        );
    }
    alice.expect_nothing().await;
    friends[0].whisper("alice", "sure, see you there").await;
    assert_eq!(alice.recv().await, whisper("bob", "sure, see you there"));

    let mut clients = vec![alice];
    clients.extend(friends);
    server.stop(clients).await;
}

#[tokio::test]
async fn a_rules_reload_applies_to_the_next_message_without_a_restart() {
    let server = Server::start().await;
    let mut alice = Client::connect(&server, "alice", 400).await;
    let mut bob = Client::connect(&server, "bob", 400).await;
    alice.join("lobby").await;
    bob.join("lobby").await;

    alice.say("lobby", "pineapple on pizza").await;
    assert_eq!(
        bob.recv().await,
        message("lobby", "alice", "pineapple on pizza")
    );

    let mut rules = RuleSet::new();
    rules
        .add_file("house.rules", "[insult severity=severe]\npineapple\n")
        .unwrap();
    server
        .shared
        .reload(FilterBuilder::new().rules(rules).build().unwrap());

    alice.say("lobby", "pineapple on pizza").await;
    assert!(matches!(
        alice.recv().await,
        ServerMsg::Dropped { .. } | ServerMsg::Held { .. }
    ));
    bob.expect_nothing().await;

    server.stop(vec![alice, bob]).await;
}
