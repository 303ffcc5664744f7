//! A caller's turn as the endpointer keeps it: what was handed to an early reply at a pause
//! is shared with it, not copied, and the buffer grows in bounded steps, so a call holds its
//! turn's samples once plus a little, never two or three copies of them.

use std::sync::Arc;

/// Samples the buffer grows by at most (half a second at 8 kHz): a long turn wastes at most
/// this much, where doubling could waste as much as the turn itself. A 15 s turn at 8 kHz
/// takes about 30 steps, each a `realloc` (often in place).
const MAX_STEP: usize = 4_000;
/// Samples the buffer grows by at least (200 ms at 8 kHz).
const MIN_STEP: usize = 1_600;

/// A turn's audio at the call's rate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnAudio {
    /// Audio already shared (with the early reply of a pause).
    head: Arc<Vec<i16>>,
    /// Audio since.
    tail: Vec<i16>,
}

impl From<Vec<i16>> for TurnAudio {
    fn from(tail: Vec<i16>) -> Self {
        Self { head: Arc::default(), tail }
    }
}

impl TurnAudio {
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn extend(&mut self, samples: &[i16]) {
        let free = self.tail.capacity() - self.tail.len();
        if free < samples.len() {
            let step = self.len().clamp(MIN_STEP, MAX_STEP);
            self.tail.reserve_exact(step.max(samples.len()));
        }
        self.tail.extend_from_slice(samples);
    }

    /// The turn so far, shared: later samples do not change what was handed out. Copies
    /// only when an earlier share is still held by someone else.
    pub fn share(&mut self) -> Arc<Vec<i16>> {
        if !self.tail.is_empty() {
            if self.head.is_empty() {
                let mut all = std::mem::take(&mut self.tail);
                all.shrink_to_fit();
                self.head = Arc::new(all);
            } else {
                let head = Arc::make_mut(&mut self.head);
                head.reserve_exact(self.tail.len());
                head.append(&mut self.tail);
                self.tail = Vec::new();
            }
        }
        Arc::clone(&self.head)
    }

    /// Keeps the first `n` samples.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.head.len() {
            self.tail.truncate(n - self.head.len());
        } else {
            self.tail.clear();
            Arc::make_mut(&mut self.head).truncate(n);
        }
    }

    /// The samples in one buffer (a copy of the shared part only while it is still held).
    pub fn into_vec(self) -> Vec<i16> {
        let mut all = Arc::unwrap_or_clone(self.head);
        if all.is_empty() {
            return self.tail;
        }
        all.extend_from_slice(&self.tail);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_is_not_copied_and_later_samples_do_not_change_it() {
        let mut turn = TurnAudio::from(vec![1; 100]);
        let shared = turn.share();
        let again = turn.share();
        assert!(Arc::ptr_eq(&shared, &again), "nothing new: the same buffer");
        turn.extend(&[2; 50]);
        assert_eq!(shared.len(), 100, "the shared part stays as it was");
        assert_eq!(turn.len(), 150);
        let whole = turn.clone().into_vec();
        assert_eq!(&whole[..100], &[1; 100][..]);
        assert_eq!(&whole[100..], &[2; 50][..]);
        // Shared again while the first share is held: a new buffer, the old one unchanged.
        let second = turn.share();
        assert_eq!((shared.len(), second.len()), (100, 150));
        drop((shared, again, second));
        // Held by no one else: the turn's own buffer comes back without a copy.
        let ptr = turn.share().as_ptr();
        let back = turn.into_vec();
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn truncation_cuts_the_tail_or_the_shared_part_without_changing_a_share() {
        let mut turn = TurnAudio::from(vec![1; 100]);
        let shared = turn.share();
        turn.extend(&[2; 50]);
        turn.truncate(120);
        assert_eq!(turn.len(), 120);
        turn.truncate(60);
        assert_eq!(turn.clone().into_vec(), vec![1; 60]);
        assert_eq!(shared.len(), 100, "the early reply keeps what it was given");
    }

    #[test]
    fn growth_is_bounded_by_a_step_not_doubled() {
        let mut turn = TurnAudio::default();
        for _ in 0..1_000 {
            turn.extend(&[0; 160]);
        }
        assert_eq!(turn.len(), 160_000);
        assert!(turn.tail.capacity() - turn.len() <= MAX_STEP, "{} spare", turn.tail.capacity() - turn.len());
        let mut short = TurnAudio::default();
        short.extend(&[0; 160]);
        assert_eq!(short.tail.capacity(), MIN_STEP);
    }
}
