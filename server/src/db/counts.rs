//! Listing totals kept for a few seconds. Counting an owner's rows walks all of them (10,000
//! numbers: ~45 ms; 100,000 calls: far more), while the page itself is an index scan of a few
//! milliseconds, so a listing's total is counted once and reused until it expires or, for
//! numbers, until this node changes one of the owner's numbers. Several nodes: another node's
//! change shows within the time to live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a number listing's total is kept (this node forgets it at once on a change).
pub const NUMBERS_TTL: Duration = Duration::from_secs(30);
/// How long a call listing's total is kept (this node forgets it when a call of the owner starts;
/// totals by status, which change as calls end, are never kept).
pub const CALLS_TTL: Duration = Duration::from_secs(5);

/// Totals kept at most (the oldest go first past this).
pub const MAX_ENTRIES: usize = 10_000;

/// Totals of listings, by (table, owner), then by filter: forgetting an owner's totals is one
/// removal (it runs whenever a call starts).
pub struct CountCache {
    ttl: Duration,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_owner: HashMap<(String, String), HashMap<String, (i64, Instant)>>,
    len: usize,
}

impl CountCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, inner: Mutex::new(Entries::default()) }
    }

    fn owner_key(table: &str, owner: &str) -> (String, String) {
        (table.to_string(), owner.to_string())
    }

    /// The total kept for this listing, if still fresh.
    pub fn get(&self, table: &str, owner: &str, filter: &str) -> Option<i64> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (n, at) = inner.by_owner.get(&Self::owner_key(table, owner))?.get(filter)?;
        (at.elapsed() < self.ttl).then_some(*n)
    }

    /// Keeps `total` for this listing.
    pub fn put(&self, table: &str, owner: &str, filter: &str, total: i64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.len >= MAX_ENTRIES {
            // Rare: drop what expired, or else everything (the totals are only counted again).
            let ttl = self.ttl;
            inner.by_owner.values_mut().for_each(|m| m.retain(|_, (_, at)| at.elapsed() < ttl));
            inner.by_owner.retain(|_, m| !m.is_empty());
            if inner.by_owner.values().map(HashMap::len).sum::<usize>() >= MAX_ENTRIES {
                inner.by_owner.clear();
            }
            inner.len = inner.by_owner.values().map(HashMap::len).sum();
        }
        let added = inner.by_owner.entry(Self::owner_key(table, owner)).or_default().insert(filter.to_string(), (total, Instant::now()));
        if added.is_none() {
            inner.len += 1;
        }
    }

    /// Forgets every total of `owner`'s `table` (a row was added, changed or removed).
    pub fn forget(&self, table: &str, owner: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = inner.by_owner.remove(&Self::owner_key(table, owner)) {
            inner.len -= m.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_expire_are_forgotten_per_owner_and_stay_bounded() {
        let c = CountCache::new(Duration::from_millis(50));
        c.put("phone_number", "u1", "", 7);
        c.put("phone_number", "u1", "status=active", 5);
        c.put("phone_number", "u2", "", 3);
        assert_eq!(c.get("phone_number", "u1", ""), Some(7));
        assert_eq!(c.get("call", "u1", ""), None, "tables are apart");
        c.forget("phone_number", "u1");
        assert_eq!((c.get("phone_number", "u1", ""), c.get("phone_number", "u1", "status=active")), (None, None));
        assert_eq!(c.get("phone_number", "u2", ""), Some(3), "another owner's total stays");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get("phone_number", "u2", ""), None, "expired");
        let big = CountCache::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES + 10 {
            big.put("call", &format!("u{i}"), "", 1);
        }
        assert!(big.inner.lock().unwrap().len <= MAX_ENTRIES);
        assert_eq!(big.get("call", &format!("u{}", MAX_ENTRIES + 9), ""), Some(1), "the newest total is kept");
    }
}
