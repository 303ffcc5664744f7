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

/// Totals of listings, by (table, owner, filter).
pub struct CountCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (i64, Instant)>>,
}

impl CountCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn key(table: &str, owner: &str, filter: &str) -> String {
        format!("{table}\u{0}{owner}\u{0}{filter}")
    }

    /// The total kept for this listing, if still fresh.
    pub fn get(&self, table: &str, owner: &str, filter: &str) -> Option<i64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&Self::key(table, owner, filter)).filter(|(_, at)| at.elapsed() < self.ttl).map(|(n, _)| *n)
    }

    /// Keeps `total` for this listing.
    pub fn put(&self, table: &str, owner: &str, filter: &str, total: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                let oldest = entries.iter().min_by_key(|(_, (_, at))| *at).map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(Self::key(table, owner, filter), (total, Instant::now()));
    }

    /// Forgets every total of `owner`'s `table` (a row was added, changed or removed).
    pub fn forget(&self, table: &str, owner: &str) {
        let prefix = format!("{table}\u{0}{owner}\u{0}");
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).retain(|k, _| !k.starts_with(&prefix));
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
        assert!(big.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
