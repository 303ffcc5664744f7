//! The numbers (with the agent that answers each) that provider webhooks read, kept in memory
//! so an answer costs no database read: only the call's row is written.
//!
//! Entries are dropped when they change: at once by the service that changes them on this
//! node, and on every other node by SurrealDB live queries on `phone_number` and `agent`
//! ([`watch`]). A bounded life (`TTL`) caps how stale an entry can get should a node miss a
//! notification (its database connection dropped and came back). A read racing a change
//! cannot store what it read before the change: each change moves a generation counter,
//! and a read is stored only if the counter did not move while it ran.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use domain::agent::AgentView;
use futures_util::StreamExt;
use serde_json::Value;
use surrealdb::Notification;

use crate::db::phone_numbers::NumberRow;
use crate::state::AppState;
use crate::users::Owner;

/// Numbers kept at most (each about 2 KB with its agent's settings).
pub const CAPACITY: usize = 10_000;
/// How long an entry serves at most.
pub const TTL: Duration = Duration::from_secs(30);

/// A number as a webhook needs it: the row, its owner and the agent that answers.
#[derive(Debug, Clone)]
pub struct Intake {
    pub number: NumberRow,
    pub owner: Owner,
    pub agent: Option<AgentView>,
}

/// Numbers by id, bounded, with a generation that every change moves.
pub struct NumberCache {
    entries: quick_cache::sync::Cache<String, (Instant, Arc<Intake>)>,
    generation: AtomicU64,
    ttl: Duration,
}

impl Default for NumberCache {
    fn default() -> Self {
        Self::new(CAPACITY, TTL)
    }
}

impl NumberCache {
    /// A cache of `capacity` numbers, each served for `ttl` at most.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self { entries: quick_cache::sync::Cache::new(capacity), generation: AtomicU64::new(0), ttl }
    }

    /// Number `id`, if kept and fresh.
    pub fn get(&self, id: &str) -> Option<Arc<Intake>> {
        let (at, intake) = self.entries.get(id)?;
        (at.elapsed() < self.ttl).then_some(intake)
    }

    /// The generation to hand to [`NumberCache::put`] with what is read from now on.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `intake` (read after `generation` was taken) unless something changed since.
    pub fn put(&self, generation: u64, intake: Intake) -> Arc<Intake> {
        let intake = Arc::new(intake);
        if self.generation() == generation {
            self.entries.insert(intake.number.id.clone(), (Instant::now(), intake.clone()));
        }
        intake
    }

    /// Number `id` changed (its settings, key, routing, link, or it was deleted).
    pub fn forget_number(&self, id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(id);
    }

    /// One of `owner_id`'s agents changed: any of their numbers may answer differently (a
    /// number without a link takes the most recently changed agent).
    pub fn forget_owner(&self, owner_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.retain(|_, (_, intake)| intake.owner.id() != owner_id);
    }

    /// Everything (a change whose owner the notification did not say).
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    /// Numbers kept now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The key of a record id however the SDK renders it.
fn key_of(v: Option<&Value>) -> Option<String> {
    crate::calls::live::record_key(v?)
}

/// Follows changes made by every node (this one included) to numbers and agents, until the
/// server stops; a dropped subscription is made again, and what was kept is dropped then,
/// since changes may have been missed meanwhile.
pub async fn watch(state: AppState) {
    loop {
        let followed = async {
            // A session of its own: its live queries end with it, not with the node's.
            let db = (*state.db).clone();
            let mut response =
                db.query("LIVE SELECT id FROM phone_number; LIVE SELECT id, owner FROM agent;").await.map_err(crate::db::DbError::from)?;
            let numbers = response.stream::<Notification<Value>>(0).map_err(crate::db::DbError::from)?;
            let agents = response.stream::<Notification<Value>>(1).map_err(crate::db::DbError::from)?;
            state.numbers_cache.forget_all();
            let numbers = numbers.map(|n| (true, n.ok().map(|n| n.data)));
            let agents = agents.map(|n| (false, n.ok().map(|n| n.data)));
            let mut changes = futures_util::stream::select(numbers, agents);
            while let Some((is_number, data)) = changes.next().await {
                let cache = &state.numbers_cache;
                match (is_number, data) {
                    (true, Some(d)) => match key_of(d.get("id")) {
                        Some(id) => cache.forget_number(&id),
                        None => cache.forget_all(),
                    },
                    (false, Some(d)) => match key_of(d.get("owner")) {
                        Some(owner) => cache.forget_owner(&owner),
                        None => cache.forget_all(),
                    },
                    (_, None) => cache.forget_all(),
                }
            }
            Ok::<(), crate::db::DbError>(())
        };
        tokio::select! {
            result = followed => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "cannot follow number and agent changes; retrying");
                }
            }
            () = state.shutdown.begun() => return,
        }
        state.numbers_cache.forget_all();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = state.shutdown.begun() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intake(id: &str, owner: &str) -> Intake {
        let number: NumberRow = serde_json::from_value(serde_json::json!({
            "id": id, "owner_id": owner, "phone_number": "+14155550100", "display_name": "", "provider": "twilio",
            "status": "active", "url_secret": "s", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        Intake { number, owner: Owner::of_row(owner.into()), agent: None }
    }

    #[test]
    fn changes_drop_entries_and_a_read_racing_a_change_is_not_kept() {
        let cache = NumberCache::new(100, TTL);
        let g = cache.generation();
        cache.put(g, intake("n1", "u1"));
        cache.put(g, intake("n2", "u1"));
        cache.put(g, intake("n3", "u2"));
        assert_eq!(cache.get("n1").unwrap().number.id, "n1");
        cache.forget_number("n1");
        assert!(cache.get("n1").is_none());
        cache.forget_owner("u1");
        assert!(cache.get("n2").is_none());
        assert!(cache.get("n3").is_some(), "another owner's number stays");
        // Read before a change, stored after it: not kept.
        let before = cache.generation();
        cache.forget_number("n9");
        cache.put(before, intake("n1", "u1"));
        assert!(cache.get("n1").is_none());
        cache.forget_all();
        assert!(cache.is_empty());
    }

    #[test]
    fn entries_expire_and_the_cache_is_bounded() {
        let cache = NumberCache::new(100, Duration::ZERO);
        cache.put(cache.generation(), intake("n1", "u1"));
        assert!(cache.get("n1").is_none(), "expired");
        let cache = NumberCache::new(50, TTL);
        for i in 0..500 {
            cache.put(cache.generation(), intake(&format!("n{i}"), "u1"));
        }
        assert!(cache.len() <= 50, "{}", cache.len());
    }
}
