//! Group commit: many writers, one flush. A writer applies its change, then calls [`GroupCommit::sync`], which
//! returns once a flush that *started after the change was applied* has completed. When a flush is already running,
//! later writers wait for it and then share the next one, so N concurrent writers cost about two flushes, not N.

use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct State {
    /// Tickets handed out: ticket n means "n changes have been applied before asking".
    requested: u64,
    /// Every ticket up to this one is on disk.
    completed: u64,
    flushing: bool,
    /// The error of the most recent failed flush, with the highest ticket it covered.
    failed: Option<(u64, String)>,
}

/// Coordinates flushes between threads. `flush` is whatever makes applied changes durable.
#[derive(Default)]
pub struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    /// Blocks until everything applied before this call is durable. The flush itself runs on one of the waiting
    /// threads; its error is reported to every writer it covered.
    pub fn sync(&self, flush: impl Fn() -> Result<(), String>) -> Result<(), String> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.requested += 1;
        let mine = s.requested;
        loop {
            if s.completed >= mine {
                return match &s.failed {
                    Some((upto, e)) if *upto >= mine => Err(e.clone()),
                    _ => Ok(()),
                };
            }
            if !s.flushing {
                s.flushing = true;
                let target = s.requested;
                drop(s);
                let result = flush();
                s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                s.flushing = false;
                s.completed = target;
                if let Err(e) = result {
                    s.failed = Some((target, e));
                } else if s.failed.as_ref().is_some_and(|(upto, _)| *upto < target) {
                    s.failed = None;
                }
                self.done.notify_all();
            } else {
                s = self.done.wait(s).unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Every writer's change is covered by a flush that started after it was applied, and concurrent writers
    /// share flushes instead of paying one each.
    #[test]
    fn concurrent_writers_are_durable_and_share_flushes() -> TestResult {
        let gc = Arc::new(GroupCommit::default());
        let applied = Arc::new(AtomicU64::new(0));
        let durable = Arc::new(AtomicU64::new(0));
        let flushes = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (gc, applied, durable, flushes) = (
                    gc.clone(),
                    applied.clone(),
                    durable.clone(),
                    flushes.clone(),
                );
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let mine = applied.fetch_add(1, Ordering::SeqCst) + 1;
                        gc.sync(|| {
                            let snapshot = applied.load(Ordering::SeqCst);
                            flushes.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            durable.fetch_max(snapshot, Ordering::SeqCst);
                            Ok(())
                        })?;
                        assert!(
                            durable.load(Ordering::SeqCst) >= mine,
                            "sync returned before its change was flushed"
                        );
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "a writer thread panicked")??;
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(
            n <= 400,
            "{n} flushes for 800 concurrent syncs: group commit is not grouping"
        );
        Ok(())
    }

    #[test]
    fn a_failed_flush_is_reported_and_the_next_one_can_succeed() {
        let gc = GroupCommit::default();
        assert_eq!(
            gc.sync(|| Err("disk on fire".into())),
            Err("disk on fire".into())
        );
        assert_eq!(gc.sync(|| Ok(())), Ok(()));
    }
}
