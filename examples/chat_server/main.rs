//! A small WebSocket chat server with channels and whispers, every message moderated by one
//! shared chatguard `Filter`, whispers through `Filter::check_tracked` with one shared
//! `SenderTracker` so that the whisper model judges each sender's fan-out. The protocol, the
//! whisper spam handling and the bounded outgoing queues are described in `server.rs`.
//!
//! ```text
//! cargo run --release --example chat_server --features watch -- --rules rules/en --addr 127.0.0.1:8080
//! ```
//!
//! With `--rules DIR` the rules are read from `DIR` and reloaded whenever a `*.rules` file
//! there changes (files that fail `chatguard lint` are rejected and the previous filter
//! stays); without it the embedded default English rules are used. The default spam,
//! toxicity and whisper models are loaded either way. Ctrl-C stops the server, closing every connection.

mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatguard::reload::{ReloadEvent, RulesWatcher, SharedFilter};
use chatguard::{Filter, FilterBuilder, RuleSet};

fn usage() -> ! {
    eprintln!("usage: chat_server [--addr HOST:PORT] [--rules DIR]");
    std::process::exit(2);
}

fn build(rules: RuleSet) -> Result<Filter, chatguard::Error> {
    FilterBuilder::new().rules(rules).default_models().build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut rules_dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().unwrap_or_else(|| usage()),
            "--rules" => rules_dir = Some(args.next().unwrap_or_else(|| usage()).into()),
            _ => usage(),
        }
    }

    let filter = match &rules_dir {
        Some(dir) => build(RuleSet::from_dir(dir)?)?,
        None => Filter::default_english_with_models()?,
    };
    println!("{} rules in use", filter.rules().len());
    let shared = Arc::new(SharedFilter::new(filter));
    // Kept alive until main returns; dropping it stops the watcher thread.
    let _watcher = rules_dir.map(|dir| {
        println!("watching {} for rule changes", dir.display());
        RulesWatcher::spawn(
            dir,
            Arc::clone(&shared),
            Duration::from_secs(1),
            build,
            |event| match event {
                ReloadEvent::Reloaded { generation, rules } => {
                    println!("rules reloaded (generation {generation}): {rules} rules in use");
                }
                ReloadEvent::Rejected { report, error } => {
                    println!("kept the previous rules: the new files do not lint");
                    for problem in report.errors() {
                        println!("  {problem}");
                    }
                    if let Some(error) = error {
                        println!("  {error}");
                    }
                }
            },
        )
    });

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("chat server listening on ws://{}", listener.local_addr()?);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down");
    };
    server::serve(listener, server::Hub::new(shared), shutdown).await;
    Ok(())
}
