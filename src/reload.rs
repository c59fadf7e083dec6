//! Hot reload: a [`SharedFilter`] that every connection thread reads and that a reload swaps
//! atomically, and (feature `watch`) a `RulesWatcher` that rebuilds it when a rules
//! directory changes, keeping the old filter when the new files fail `lint`.
//!
//! A message is always checked entirely by one [`Filter`], old or new: a thread takes the
//! current filter with [`SharedFilter::load`] and uses it for the whole check (and for looking
//! up the rules of its hits).
//!
//! ```
//! use chatguard::{reload::SharedFilter, Filter, FilterBuilder, Message, RuleSet};
//! let shared = SharedFilter::new(Filter::default_english().unwrap());
//! let mut scratch = shared.load().scratch();
//! assert!(shared.load().check_with(&mut scratch, &Message::new("noob")).action() == chatguard::Action::Allow);
//!
//! let mut rules = RuleSet::new();
//! rules.add_file("mine.rules", "[insult]\nnoob\n").unwrap();
//! shared.reload(FilterBuilder::new().rules(rules).build().unwrap());
//! // The scratch space is rebuilt for the new filter on its first use.
//! assert!(shared.load().check_with(&mut scratch, &Message::new("noob")).flagged());
//! assert_eq!(shared.generation(), 1);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::Filter;

/// A filter shared by every thread and swapped atomically on reload.
#[derive(Debug)]
pub struct SharedFilter {
    current: ArcSwap<Filter>,
    generation: AtomicU64,
}

impl SharedFilter {
    /// Shares `filter`.
    #[must_use]
    pub fn new(filter: Filter) -> SharedFilter {
        SharedFilter {
            current: ArcSwap::from_pointee(filter),
            generation: AtomicU64::new(0),
        }
    }

    /// The current filter. Hold it for the whole check of a message; it stays valid (and
    /// unchanged) even if a reload happens meanwhile.
    #[must_use]
    pub fn load(&self) -> Arc<Filter> {
        self.current.load_full()
    }

    /// Replaces the filter; checks that already hold the old one finish with it. Returns the
    /// new generation (how many reloads so far).
    pub fn reload(&self, filter: Filter) -> u64 {
        self.current.store(Arc::new(filter));
        self.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// How many reloads so far.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(feature = "watch")]
pub use watch::{ReloadEvent, RulesWatcher};

#[cfg(feature = "watch")]
mod watch {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::{Duration, SystemTime};

    use super::SharedFilter;
    use crate::rules::{lint_dir, Date, LintReport};
    use crate::{Error, Filter, RuleSet};

    /// What the watcher did after the rules directory changed.
    #[derive(Debug)]
    pub enum ReloadEvent {
        /// The new rules were built and are now in use.
        Reloaded {
            /// The shared filter's generation after the reload.
            generation: u64,
            /// How many rules the new filter holds.
            rules: usize,
        },
        /// The new rules failed `lint` (or could not be built); the old filter stays.
        Rejected {
            /// Every problem found (empty when the failure is `error`).
            report: LintReport,
            /// Why the build failed, when lint passed but building did not (or reading
            /// failed).
            error: Option<Error>,
        },
    }

    /// A thread that polls a rules directory and rebuilds the shared filter when a `*.rules`
    /// file is added, removed or modified. Stops when dropped.
    #[derive(Debug)]
    pub struct RulesWatcher {
        stop: Arc<AtomicBool>,
        handle: Option<JoinHandle<()>>,
    }

    type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

    fn stamp(dir: &Path) -> Stamp {
        let mut files = Vec::new();
        if crate::rules::collect_rule_files(dir, &mut files).is_err() {
            return Vec::new();
        }
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let meta = std::fs::metadata(&p).ok();
                let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
                let modified = meta.and_then(|m| m.modified().ok());
                (p, len, modified)
            })
            .collect()
    }

    impl RulesWatcher {
        /// Watches `dir` every `interval`. On a change, the files are linted; if they have
        /// errors the old filter stays and `on_event` gets the report; otherwise `build`
        /// turns the rules into a filter (with the server's config and models) and it is
        /// swapped in.
        pub fn spawn(
            dir: impl Into<PathBuf>,
            shared: Arc<SharedFilter>,
            interval: Duration,
            build: impl Fn(RuleSet) -> Result<Filter, Error> + Send + 'static,
            on_event: impl Fn(ReloadEvent) + Send + 'static,
        ) -> RulesWatcher {
            let dir = dir.into();
            let stop = Arc::new(AtomicBool::new(false));
            let stop_flag = Arc::clone(&stop);
            // Stamped before the thread starts, so an edit right after `spawn` is not missed.
            let mut last = stamp(&dir);
            let handle = std::thread::spawn(move || {
                while !stop_flag.load(Ordering::Acquire) {
                    std::thread::sleep(interval);
                    let now = stamp(&dir);
                    if now == last {
                        continue;
                    }
                    last = now;
                    on_event(rebuild(&dir, &shared, &build));
                }
            });
            RulesWatcher {
                stop,
                handle: Some(handle),
            }
        }
    }

    fn rebuild(
        dir: &Path,
        shared: &SharedFilter,
        build: &dyn Fn(RuleSet) -> Result<Filter, Error>,
    ) -> ReloadEvent {
        let report = match lint_dir(dir, Date::today()) {
            Ok(report) => report,
            Err(error) => {
                return ReloadEvent::Rejected {
                    report: LintReport::default(),
                    error: Some(error),
                }
            }
        };
        if !report.is_ok() {
            return ReloadEvent::Rejected {
                report,
                error: None,
            };
        }
        match RuleSet::from_dir(dir).and_then(&build) {
            Ok(filter) => {
                let rules = filter.rules().len();
                ReloadEvent::Reloaded {
                    generation: shared.reload(filter),
                    rules,
                }
            }
            Err(error) => ReloadEvent::Rejected {
                report,
                error: Some(error),
            },
        }
    }

    impl Drop for RulesWatcher {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Release);
            if let Some(handle) = self.handle.take() {
                let _ = handle.join();
            }
        }
    }
}
