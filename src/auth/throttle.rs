//! Slows down repeated failed sign-ins, per user name and per client address.
//!
//! After [`FREE_FAILURES`] failures for a user name (or [`FREE_FAILURES_PER_CLIENT`] from one
//! client address) further attempts are refused for 30 seconds, doubling with every further
//! failure up to 15 minutes. A success clears the user name's count; quiet for 15 minutes clears
//! everything.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const FREE_FAILURES: u32 = 5;
pub const FREE_FAILURES_PER_CLIENT: u32 = 20;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    /// `Err(seconds)` while any of `keys` is locked.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap();
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k))
            .filter_map(|e| e.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(d) => Err(d.as_secs() + u64::from(d.subsec_nanos() > 0)),
            None => Ok(()),
        }
    }

    /// Records a failure for each `(key, free failures)`.
    pub fn fail(&self, keys: &[(String, u32)]) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap();
        entries.retain(|_, e| now - e.last_failure < FORGET_AFTER);
        for (key, free) in keys {
            let e = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            e.failures += 1;
            e.last_failure = now;
            if e.failures >= *free {
                let extra = (e.failures - free).min(10);
                let lock = (FIRST_LOCK * 2u32.pow(extra)).min(MAX_LOCK);
                e.locked_until = Some(now + lock);
            }
        }
    }

    pub fn succeed(&self, key: &str) {
        self.entries.lock().unwrap().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_free_failures() {
        let t = Throttle::default();
        let k = vec!["user:a".to_string()];
        for _ in 0..FREE_FAILURES - 1 {
            t.fail(&[(k[0].clone(), FREE_FAILURES)]);
            assert!(t.check(&k).is_ok());
        }
        t.fail(&[(k[0].clone(), FREE_FAILURES)]);
        let wait = t.check(&k).unwrap_err();
        assert!(wait > 0 && wait <= 30, "{wait}");
        t.succeed(&k[0]);
        assert!(t.check(&k).is_ok());
    }
}
