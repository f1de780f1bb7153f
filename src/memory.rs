//! How the process's allocator gives memory back.
//!
//! glibc raises its mmap threshold to the size of each large block freed, up to 32 MiB. After
//! the first sign-in frees its Argon2 buffer (19 MiB), every later one is carved from an arena
//! instead of mapped, and each of the many arenas (eight per core) keeps its high-water mark: the
//! hardening probe saw RSS stay at 250 MB, and the startup benchmark's load at 550 MB, long after
//! the load ended. A fixed threshold keeps large blocks mapped, so freeing them returns them to
//! the system at once, and fewer arenas bound what small allocations can strand. Measured with
//! `examples/startup.rs` (10,000 mixed requests): 552 MB held 5 s after the load without these
//! limits, 127 MB with them; with the trim below, 41 MB (README, Benchmarks).
//!
//! What is left after that is free memory inside the arenas: glibc gives an arena's pages back
//! only from its top, so one live block high in an arena holds everything below it. Once
//! requests stop, [`trim_when_quiet`] asks glibc to return every free page of every arena
//! (`malloc_trim`), which it does with `madvise` without moving live blocks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sets the allocator's limits; call before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; it is called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
            libc::mallopt(libc::M_ARENA_MAX, 4);
        }
    }
}

/// Requests (and other bursts of work) seen so far; [`trim_when_quiet`] waits for it to stop moving.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// Counts a request starting or finishing; called by the HTTP layer for each.
pub fn note_activity() {
    ACTIVITY.fetch_add(1, Ordering::Relaxed);
}

/// Returns free memory to the system after each burst of requests: every `every`, when no
/// request arrived since the last look but some did since the last trim. Trimming only when
/// quiet keeps it off the arena locks while requests are served.
pub async fn trim_when_quiet(every: Duration) {
    if !TRIM_SUPPORTED {
        return;
    }
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut watch = QuietWatch::new(ACTIVITY.load(Ordering::Relaxed));
    loop {
        ticks.tick().await;
        if watch.tick(ACTIVITY.load(Ordering::Relaxed)) {
            // It walks every arena under its lock: off the async threads.
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    }
}

/// Decides, from the activity count seen at each tick, when a burst has ended.
#[derive(Debug)]
struct QuietWatch {
    last_seen: u64,
    trimmed_at: u64,
}

impl QuietWatch {
    fn new(count: u64) -> Self {
        QuietWatch {
            last_seen: count,
            trimmed_at: count,
        }
    }

    /// True when the count stood still since the last tick and moved since the last trim.
    fn tick(&mut self, count: u64) -> bool {
        let trim = count == self.last_seen && count != self.trimmed_at;
        if trim {
            self.trimmed_at = count;
        }
        self.last_seen = count;
        trim
    }
}

const TRIM_SUPPORTED: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only returns free pages; it takes the arenas' own locks.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_counts_every_request() {
        let before = ACTIVITY.load(Ordering::Relaxed);
        note_activity();
        note_activity();
        assert!(ACTIVITY.load(Ordering::Relaxed) >= before + 2);
    }

    #[test]
    fn trims_once_after_each_burst_and_never_during_one() {
        let mut w = QuietWatch::new(0);
        assert!(!w.tick(0), "nothing happened yet");
        assert!(!w.tick(40), "requests are arriving");
        assert!(!w.tick(90), "still arriving");
        assert!(w.tick(90), "the burst ended");
        assert!(!w.tick(90), "already trimmed");
        assert!(!w.tick(91));
        assert!(w.tick(91), "the next burst ended");
    }
}
