//! What the pages the whole team keeps reloading (the dashboard, the jobs history) read from the
//! database, kept in memory while nothing they show has changed.
//!
//! Triggers move one counter on every change to the tables those pages read (migration 0011),
//! so a page first reads the counter, one row by primary key, and rebuilds only when it moved.
//! The counter is read before the data, so what is kept is never older than its count says.
//! (Counts only grow; a database file restored under a running panel needs a restart.)

use crate::db::Db;
use crate::error::AppResult;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// The kept pages of the panel.
#[derive(Default)]
pub struct Pages {
    /// Dashboard pages by the name they start after.
    pub dashboard: PageCache<Option<String>, super::dashboard::DashboardData>,
    /// Jobs pages by filters (the deployment by name) and cursor.
    pub jobs: PageCache<super::jobs::JobsKey, Vec<crate::db::job_summaries::JobSummary>>,
    /// When each deployment's certificate was last read from the cloud for the certificate
    /// section that polls while it provisions.
    pub certificate_reads: ReadThrottle,
    /// The wizard's pick lists read from the cloud (projects, Cloud Run services).
    pub pickers: super::pickers::Pickers,
}

/// When each deployment was last read, so that however many open pages poll it, the cloud
/// is asked at most once an interval.
#[derive(Debug, Default)]
pub struct ReadThrottle(Mutex<HashMap<i64, std::time::Instant>>);

impl ReadThrottle {
    /// True, and counted as a read starting now, when `id` was not read in the last `every`.
    pub fn due(&self, id: i64, every: std::time::Duration) -> bool {
        let mut last = self.0.lock().expect("throttle lock");
        let now = std::time::Instant::now();
        match last.get(&id) {
            Some(t) if now.duration_since(*t) < every => false,
            _ => {
                last.insert(id, now);
                true
            }
        }
    }
}

/// Pages kept at most per cache; past it the cache starts afresh.
const LIMIT: usize = 256;

/// Values of one kind of page by key (filters, cursor), all read at one change count.
#[derive(Debug)]
pub struct PageCache<K, V> {
    entries: Mutex<Entries<K, V>>,
    /// Held while a page is read from the database: after a change, the requests that find
    /// nothing kept wait for one of them to read it rather than all reading it at once.
    loading: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Entries<K, V> {
    count: i64,
    map: HashMap<K, Arc<V>>,
}

impl<K, V> Default for PageCache<K, V> {
    fn default() -> Self {
        PageCache {
            entries: Mutex::new(Entries {
                count: -1,
                map: HashMap::new(),
            }),
            loading: tokio::sync::Mutex::new(()),
        }
    }
}

impl<K: Hash + Eq, V> PageCache<K, V> {
    /// The value kept for `key`, when it was read at `count` or later: a request that saw the
    /// count at `count` needs what it shows to be at least that new.
    pub fn get(&self, count: i64, key: &K) -> Option<Arc<V>> {
        let e = self.lock();
        if e.count < count {
            return None;
        }
        e.map.get(key).cloned()
    }

    /// Keeps `value`, read at `count`. A later count drops what was kept before it; a value read
    /// at an earlier count than what is kept is not kept.
    pub fn put(&self, count: i64, key: K, value: Arc<V>) {
        let mut e = self.lock();
        if count < e.count {
            return;
        }
        if count > e.count || e.map.len() >= LIMIT {
            e.map.clear();
            e.count = count;
        }
        e.map.insert(key, value);
    }

    /// The value for `key`: kept, or loaded by `load` and kept.
    pub async fn get_or_load<F, Fut>(&self, db: &Db, key: K, load: F) -> AppResult<Arc<V>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<V>>,
    {
        let count = crate::db::dashboard::change_count(db).await?;
        if let Some(v) = self.get(count, &key) {
            return Ok(v);
        }
        let _loading = self.loading.lock().await;
        // The request that held the lock may have read this page meanwhile.
        if let Some(v) = self.get(count, &key) {
            return Ok(v);
        }
        let v = Arc::new(load().await?);
        self.put(count, key, v.clone());
        Ok(v)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // Every entry is whole when inserted, so a panic elsewhere cannot leave one half-made.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_serves_requests_that_saw_its_count_or_an_earlier_one() {
        let c: PageCache<&str, i32> = PageCache::default();
        assert_eq!(c.get(0, &"a"), None);
        c.put(3, "a", Arc::new(1));
        c.put(3, "b", Arc::new(2));
        assert_eq!(c.get(3, &"a").as_deref(), Some(&1));
        assert_eq!(
            c.get(2, &"a").as_deref(),
            Some(&1),
            "newer than needed is fine"
        );
        assert_eq!(c.get(4, &"a"), None, "the count moved: read again");
        // Read at 4: what was kept at 3 goes.
        c.put(4, "a", Arc::new(10));
        assert_eq!(c.get(4, &"b"), None);
        assert_eq!(c.get(4, &"a").as_deref(), Some(&10));
        // A slow reader that saw 3 does not bring back an older page.
        c.put(3, "a", Arc::new(1));
        c.put(3, "b", Arc::new(2));
        assert_eq!(c.get(4, &"a").as_deref(), Some(&10));
        assert_eq!(c.get(3, &"b"), None);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c: PageCache<usize, usize> = PageCache::default();
        for n in 0..LIMIT + 5 {
            c.put(1, n, Arc::new(n));
        }
        assert!(c.lock().map.len() <= LIMIT);
        assert_eq!(c.get(1, &(LIMIT + 4)).as_deref(), Some(&(LIMIT + 4)));
    }
}
