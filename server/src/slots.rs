//! Counted slots with two caps: at most `total` held in all, at most `per_key` per key (a user).
//! Concurrent calls and live event streams each have one. A slot is given back when dropped, so
//! a task that ends in any way (an error, a panic, a cancelled future) frees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Which cap refused a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Full {
    #[error("the server is at its limit of {0} at once")]
    Total(usize),
    #[error("this account is at its limit of {0} at once")]
    PerKey(usize),
}

/// The caps and what is held.
#[derive(Debug)]
pub struct Slots {
    total: usize,
    per_key: usize,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    per_key: HashMap<String, usize>,
}

/// One held slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    key: String,
}

impl Slots {
    pub fn new(total: usize, per_key: usize) -> Arc<Self> {
        Arc::new(Self { total, per_key, held: Mutex::default() })
    }

    /// Takes a slot for `key`, unless either cap is reached.
    pub fn take(self: &Arc<Self>, key: &str) -> Result<Slot, Full> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.total >= self.total {
            return Err(Full::Total(self.total));
        }
        let mine = held.per_key.get(key).copied().unwrap_or(0);
        if mine >= self.per_key {
            return Err(Full::PerKey(self.per_key));
        }
        held.total += 1;
        held.per_key.insert(key.to_string(), mine + 1);
        Ok(Slot { slots: self.clone(), key: key.to_string() })
    }

    /// Slots held in all.
    pub fn held(&self) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).total
    }

    /// Slots `key` holds.
    pub fn held_by(&self, key: &str) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).per_key.get(key).copied().unwrap_or(0)
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn per_key(&self) -> usize {
        self.per_key
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.total = held.total.saturating_sub(1);
        if let Some(n) = held.per_key.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.per_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_caps_hold_and_dropped_slots_come_back() {
        let slots = Slots::new(3, 2);
        let a1 = slots.take("a").unwrap();
        let _a2 = slots.take("a").unwrap();
        assert_eq!(slots.take("a").unwrap_err(), Full::PerKey(2));
        let _b1 = slots.take("b").unwrap();
        assert_eq!(slots.take("c").unwrap_err(), Full::Total(3));
        assert_eq!((slots.held(), slots.held_by("a")), (3, 2));
        drop(a1);
        assert_eq!((slots.held(), slots.held_by("a")), (2, 1));
        let _c1 = slots.take("c").unwrap();
        assert_eq!(slots.take("b").unwrap_err(), Full::Total(3));
    }

    #[test]
    fn keys_with_no_slot_are_forgotten() {
        let slots = Slots::new(10, 10);
        for k in 0..100 {
            drop(slots.take(&k.to_string()).unwrap());
        }
        assert!(slots.held.lock().unwrap().per_key.is_empty());
        assert_eq!(slots.held(), 0);
    }
}
