//! The figures of `benches/README.md`, each beside the raw Aho-Corasick scan (the baseline):
//! per-message latency (median and p99) per corpus, allocations per message, throughput with
//! 1 and 2 threads sharing one `Filter`, and the default filter's build time and memory.
//!
//! Criterion gives means with confidence intervals; a p99 needs every message timed on its
//! own, which this does with `Instant` around each call (the timer's own cost, measured on an
//! empty call, is subtracted). Allocations and memory come from a counting global allocator.
//!
//! The per-message tables run the rules-only and the with-models filters one after the other,
//! so a machine whose speed drifts (a shared VM) can skew the comparison between them; the
//! *interleaved* table alternates whole passes of the raw scan, the rules-only filter and the
//! filter with models over each corpus and keeps each one's fastest pass, which is what the
//! code costs when nothing interferes, measured under the same conditions for all three.
//!
//! `cargo bench --bench report` prints Markdown tables; `cargo bench -- --test` runs it once
//! on a few messages.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chatguard::{Filter, Message};
use common::Corpus;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; counting only touches
// atomics, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Resident set size of this process in bytes (Linux), for the build-memory row.
fn rss() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Times `f` on its own, `reps` times: nanoseconds per call, sorted.
fn timed(reps: usize, timer_cost: f64, mut f: impl FnMut()) -> Vec<f64> {
    let mut out = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f();
        out.push((t.elapsed().as_nanos() as f64 - timer_cost).max(0.0));
    }
    out.sort_by(f64::total_cmp);
    out
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let filter = Filter::default_english().expect("default rules");
    let ac = common::baseline(&filter);
    let corpora = common::corpora();

    // The timer's own cost, with nothing between the two reads.
    let empty = timed(100_000, 0.0, || {});
    let timer_cost = percentile(&empty, 0.5);

    let with_models = Filter::default_english_with_models().expect("default rules and models");
    if std::env::args().any(|a| a == "--interleaved") {
        // Only the interleaved table: the quick comparison while working on speed.
        interleaved(&filter, &with_models, &ac, &corpora, quick);
        return;
    }
    for (title, f) in [
        ("rules only (Filter::default_english)", &filter),
        (
            "rules and the default spam and toxicity models (Filter::default_english_with_models)",
            &with_models,
        ),
    ] {
        println!("\n{title}\n");
        table(f, &ac, &corpora, quick, timer_cost);
    }
    println!();
    println!("(per-message timer cost subtracted: {timer_cost:.0} ns)");
    println!();
    interleaved(&filter, &with_models, &ac, &corpora, quick);

    allocations("rules only", &filter, &corpora, quick);
    allocations("rules and models", &with_models, &corpora, quick);
    throughput("rules only", &filter, &ac, &corpora[0], quick);
    throughput("rules and models", &with_models, &ac, &corpora[0], quick);
    build(&filter, quick);
}

/// Alternating passes over each corpus: the raw scan, the rules-only filter, the filter with
/// models; the fastest pass of each, per message, and the ratios to the raw scan.
fn interleaved(
    rules: &Filter,
    models: &Filter,
    ac: &aho_corasick::AhoCorasick,
    corpora: &[Corpus],
    quick: bool,
) {
    let rounds = if quick { 1 } else { 25 };
    println!("interleaved: fastest of {rounds} alternating passes, ns per message\n");
    println!("| corpus | raw AC scan | rules | rules + models | models add | rules / AC | with models / AC |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut scratch = [rules.scratch(), models.scratch()];
    for corpus in corpora {
        let lines = if quick {
            &corpus.lines[..corpus.lines.len().min(20)]
        } else {
            &corpus.lines[..]
        };
        let mut best = [f64::MAX; 3];
        let mut counts = [0usize; 3];
        for _ in 0..rounds {
            let start = Instant::now();
            counts[0] = lines.iter().map(|l| ac.find_iter(l.as_str()).count()).sum();
            best[0] = best[0].min(per_message(start, lines.len()));
            for (k, filter) in [rules, models].into_iter().enumerate() {
                let start = Instant::now();
                counts[k + 1] = lines
                    .iter()
                    .filter(|l| {
                        filter
                            .check_with(&mut scratch[k], &Message::new(l))
                            .flagged()
                    })
                    .count();
                best[k + 1] = best[k + 1].min(per_message(start, lines.len()));
            }
        }
        assert!(
            quick || counts.iter().all(|&n| n > 0),
            "{}: {counts:?}",
            corpus.name
        );
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1}x | {:.1}x |",
            corpus.name,
            best[0],
            best[1],
            best[2],
            best[2] - best[1],
            best[1] / best[0],
            best[2] / best[0]
        );
    }
    println!();
}

fn per_message(start: Instant, n: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / n.max(1) as f64
}

/// The per-corpus table of `filter` against the raw scan.
fn table(
    filter: &Filter,
    ac: &aho_corasick::AhoCorasick,
    corpora: &[Corpus],
    quick: bool,
    timer_cost: f64,
) {
    let mut scratch = filter.scratch();
    println!("| corpus | lines | mean bytes | flagged | check median ns | check p99 ns | check mean ns | baseline median ns | baseline p99 ns | baseline mean ns | median ratio | p99 ratio | mean ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for corpus in corpora {
        let lines: Vec<&String> = if quick {
            corpus.lines.iter().take(20).collect()
        } else {
            corpus.lines.iter().collect()
        };
        // Enough passes for about 200,000 timed messages per corpus.
        let passes = if quick {
            1
        } else {
            (200_000 / lines.len()).max(3)
        };
        let mut check_ns = Vec::new();
        let mut base_ns = Vec::new();
        let mut flagged = 0;
        for l in &lines {
            flagged += usize::from(filter.check_with(&mut scratch, &Message::new(l)).flagged());
        }
        for _ in 0..passes {
            for l in &lines {
                check_ns.extend(timed(1, timer_cost, || {
                    black_box(
                        filter
                            .check_with(&mut scratch, &Message::new(black_box(l)))
                            .flagged(),
                    );
                }));
                base_ns.extend(timed(1, timer_cost, || {
                    black_box(ac.find_iter(black_box(l.as_str())).count());
                }));
            }
        }
        // Means from a tight loop, without a timer around each call.
        let mean = |f: &mut dyn FnMut()| {
            let t = Instant::now();
            for _ in 0..passes.min(20) {
                f();
            }
            t.elapsed().as_nanos() as f64 / (passes.min(20) * lines.len()) as f64
        };
        let check_mean = mean(&mut || {
            for l in &lines {
                black_box(
                    filter
                        .check_with(&mut scratch, &Message::new(black_box(l)))
                        .flagged(),
                );
            }
        });
        let base_mean = mean(&mut || {
            for l in &lines {
                black_box(ac.find_iter(black_box(l.as_str())).count());
            }
        });
        check_ns.sort_by(f64::total_cmp);
        base_ns.sort_by(f64::total_cmp);
        let (cm, cp) = (percentile(&check_ns, 0.5), percentile(&check_ns, 0.99));
        let (bm, bp) = (percentile(&base_ns, 0.5), percentile(&base_ns, 0.99));
        let bytes: usize = lines.iter().map(|l| l.len()).sum();
        println!(
            "| {} | {} | {:.0} | {:.0}% | {cm:.0} | {cp:.0} | {check_mean:.0} | {bm:.0} | {bp:.0} | {base_mean:.0} | {:.1}x | {:.1}x | {:.1}x |",
            corpus.name,
            lines.len(),
            bytes as f64 / lines.len() as f64,
            100.0 * flagged as f64 / lines.len() as f64,
            cm / bm.max(1.0),
            cp / bp.max(1.0),
            check_mean / base_mean,
        );
    }
}

/// Allocations per message after warm-up, over every corpus (the figure `tests/allocations.rs`
/// proves is 0); the baseline's `find_iter(..).count()` for comparison.
fn allocations(label: &str, filter: &Filter, corpora: &[Corpus], quick: bool) {
    let mut scratch = filter.scratch();
    let ac = common::baseline(filter);
    let all: Vec<&String> = corpora
        .iter()
        .flat_map(|c| c.lines.iter().take(if quick { 20 } else { usize::MAX }))
        .collect();
    for l in &all {
        black_box(filter.check_with(&mut scratch, &Message::new(l)).flagged());
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for l in &all {
        black_box(filter.check_with(&mut scratch, &Message::new(l)).flagged());
    }
    let check = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for l in &all {
        black_box(ac.find_iter(l.as_str()).count());
    }
    let base = ALLOCATIONS.load(Ordering::Relaxed) - before;
    println!(
        "allocations per message, {label} ({} messages, every corpus): check_with {:.3}, baseline {:.3}",
        all.len(),
        check as f64 / all.len() as f64,
        base as f64 / all.len() as f64
    );
    assert_eq!(check, 0, "check_with allocated after warm-up");
}

/// Messages per second with 1 and 2 threads sharing one `Filter` (a `Scratch` each), and the
/// same for the baseline automaton.
fn throughput(
    label: &str,
    filter: &Filter,
    ac: &aho_corasick::AhoCorasick,
    chat: &Corpus,
    quick: bool,
) {
    // Short runs of 1 and 2 threads alternate and the best rate of each is kept: on a VM whose
    // speed drifts (or whose host takes a core away for a moment), one long run of each
    // compares two different machines.
    let (rounds, run_for) = if quick {
        (1, Duration::from_millis(50))
    } else {
        (6, Duration::from_millis(750))
    };
    let lines = &chat.lines;
    let rate = |threads: usize, work: &(dyn Fn() + Sync)| -> f64 {
        let start = Instant::now();
        let counts: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut passes = 0_u64;
                        while start.elapsed() < run_for {
                            work();
                            passes += 1;
                        }
                        passes
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let messages = counts.iter().sum::<u64>() as f64 * lines.len() as f64;
        messages / start.elapsed().as_secs_f64()
    };
    let check = || {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Option<chatguard::Scratch>> = const { std::cell::RefCell::new(None) };
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let scratch = s.get_or_insert_with(|| filter.scratch());
            for l in lines {
                black_box(filter.check_with(scratch, &Message::new(l)).flagged());
            }
        });
    };
    let base = || {
        for l in lines {
            black_box(ac.find_iter(l.as_str()).count());
        }
    };
    let (mut c1, mut c2, mut b1, mut b2) = (0f64, 0f64, 0f64, 0f64);
    for _ in 0..rounds {
        c1 = c1.max(rate(1, &check));
        c2 = c2.max(rate(2, &check));
        b1 = b1.max(rate(1, &base));
        b2 = b2.max(rate(2, &base));
    }
    println!(
        "throughput on chat-short, {label} (messages/s, best of {rounds} alternating runs of each): check 1 thread {:.0}, 2 threads {:.0} ({:.2}x); baseline 1 thread {:.0}, 2 threads {:.0} ({:.2}x); check/baseline {:.2} (1 thread), {:.2} (2 threads)",
        c1, c2, c2 / c1, b1, b2, b2 / b1, c1 / b1, c2 / b2
    );
}

/// Build time (median of several builds) and memory of the default filter and of the
/// baseline automaton: bytes still allocated after the build, and the growth of RSS.
fn build(filter: &Filter, quick: bool) {
    let reps = if quick { 1 } else { 15 };
    let mut filter_ms = Vec::new();
    let mut ac_ms = Vec::new();
    let mut filter_bytes = 0;
    let mut ac_bytes = 0;
    let mut filter_rss = 0;
    let terms = common::term_list(filter);
    for _ in 0..reps {
        let (live, rss0) = (LIVE_BYTES.load(Ordering::Relaxed), rss().unwrap_or(0));
        let t = Instant::now();
        let built = Filter::default_english().expect("default rules");
        filter_ms.push(t.elapsed().as_secs_f64() * 1e3);
        filter_bytes = LIVE_BYTES.load(Ordering::Relaxed) - live;
        filter_rss = filter_rss.max(rss().unwrap_or(0) - rss0);
        drop(black_box(built));

        let live = LIVE_BYTES.load(Ordering::Relaxed);
        let t = Instant::now();
        let ac = aho_corasick::AhoCorasick::new(&terms).expect("baseline");
        ac_ms.push(t.elapsed().as_secs_f64() * 1e3);
        ac_bytes = LIVE_BYTES.load(Ordering::Relaxed) - live;
        drop(black_box(ac));
    }
    filter_ms.sort_by(f64::total_cmp);
    ac_ms.sort_by(f64::total_cmp);
    let (f, a) = (percentile(&filter_ms, 0.5), percentile(&ac_ms, 0.5));
    println!(
        "default filter build: {f:.1} ms, {:.1} MiB allocated (RSS growth of the first build {:.1} MiB); baseline automaton ({} terms): {a:.1} ms, {:.1} MiB; ratio {:.1}x time, {:.1}x memory",
        filter_bytes as f64 / (1 << 20) as f64,
        filter_rss as f64 / (1 << 20) as f64,
        terms.len(),
        ac_bytes as f64 / (1 << 20) as f64,
        f / a,
        filter_bytes as f64 / ac_bytes as f64
    );
}
