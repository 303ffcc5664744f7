//! Bounded queues for CPU-heavy work: offline speech (Whisper, Piper, eSpeak: see
//! crate::voice::engine) and password hashing (Argon2: crate::users). A job takes a slot first,
//! so at most as many run at once as the machine has cores, whatever the load.
//!
//! A job waits for its slot asynchronously: when its call hangs up or its request is dropped,
//! the waiting future is dropped and the job never runs. The line is bounded: beyond
//! `max_waiting` jobs waiting, or after `max_wait` in line, a job is refused with [`Busy`] at
//! once (a call hears its fallback line; a sign-in gets 503) instead of waiting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Jobs that may wait per slot.
pub const WAITING_PER_SLOT: usize = 16;
/// Longest wait in line.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// A job refused for load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: the machine is busy")]
pub struct Busy {
    pub what: &'static str,
}

pub struct WorkQueue {
    slots: Semaphore,
    size: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
    refused: AtomicUsize,
}

/// Counts a waiting job while it waits (also when its future is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl WorkQueue {
    /// `slots` jobs at once (at least one), `max_waiting` more in line, each for `max_wait` at most.
    pub fn new(slots: usize, max_waiting: usize, max_wait: Duration) -> Self {
        let slots = slots.max(1);
        Self {
            slots: Semaphore::new(slots),
            size: slots,
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
            refused: AtomicUsize::new(0),
        }
    }

    /// One slot per core of this machine.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
        Self::new(cores, cores * WAITING_PER_SLOT, MAX_WAIT)
    }

    /// Jobs that may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn max_waiting(&self) -> usize {
        self.max_waiting
    }

    /// Jobs refused so far (the queue was full, or the wait too long).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// Runs `job` once a slot is free.
    pub async fn run<T, E, F>(&self, what: &'static str, job: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Busy>,
    {
        let _slot = self.slot(what).await?;
        job.await
    }

    async fn slot(&self, what: &'static str) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            self.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(job = what, waiting = self.max_waiting, "work queue full; job refused");
            return Err(Busy { what });
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Busy { what }),
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(job = what, waited_ms = self.max_wait.as_millis() as u64, "job waited too long in its queue; refused");
                Err(Busy { what })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn at_most_size_jobs_run_at_once_and_the_line_is_bounded() {
        let queue = Arc::new(WorkQueue::new(2, 3, Duration::from_secs(5)));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for _ in 0..5 {
            let (queue, running, peak) = (queue.clone(), running.clone(), peak.clone());
            jobs.push(tokio::spawn(async move {
                queue
                    .run::<_, Busy, _>("job", async {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Two running, three waiting: the sixth is refused at once.
        let refused = queue.run("stt", async { Ok::<(), Busy>(()) }).await.unwrap_err();
        assert_eq!(refused.to_string(), "stt: the machine is busy");
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(queue.refused(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_whose_call_went_away_never_runs_and_a_long_wait_is_refused() {
        let queue = Arc::new(WorkQueue::new(1, 10, Duration::from_secs(5)));
        let ran = Arc::new(AtomicUsize::new(0));
        let busy = {
            let queue = queue.clone();
            tokio::spawn(async move {
                queue
                    .run::<_, Busy, _>("long", async {
                        tokio::time::sleep(Duration::from_secs(20)).await;
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let cancelled = {
            let (queue, ran) = (queue.clone(), ran.clone());
            tokio::spawn(async move {
                queue
                    .run::<_, Busy, _>("cancelled", async {
                        ran.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        cancelled.abort();
        let started = tokio::time::Instant::now();
        let late = queue.run("late", async { Ok::<(), Busy>(()) }).await.unwrap_err();
        assert_eq!(late, Busy { what: "late" });
        assert_eq!(started.elapsed(), Duration::from_secs(5), "refused after the longest wait");
        busy.await.unwrap().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 0, "the cancelled job never ran");
        assert_eq!(queue.waiting.load(Ordering::SeqCst), 0, "no waiter left counted");
    }
}
