//! The calls' rows as answer webhooks create them, written in groups: every create that
//! arrives while one transaction commits goes into the next, so a burst of answers costs one
//! disk sync per group, not one per call (the embedded store syncs every commit). An answer
//! waits for its row while the writer is idle; while a group is being written it may go
//! without waiting (`submit`), its row following in the next group (see
//! crate::telephony::calls::answer).
//!
//! A group that fails (one of its calls was already there: a provider's retry, or another
//! node's answer of the same call) is written again call by call, each finding its row or
//! creating it as [`super::calls::insert_or_get`] does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use tokio::sync::{mpsc, oneshot};

use super::calls::{self, CallRow, NewCall};
use super::{Db, DbError};

/// Calls waiting for the next group, at most; past it an answer writes its call alone.
pub const QUEUE: usize = 4096;
/// Calls in one transaction, at most.
pub const GROUP: usize = 128;

type Reply = oneshot::Sender<Result<(CallRow, bool), DbError>>;

enum Job {
    Call(Box<Call>),
    /// Answered once every call queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// Cheap to clone; the writer task ends when the last clone is dropped.
#[derive(Clone)]
pub struct CallWriter {
    db: Db,
    jobs: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

/// What the writer and its handles count together.
#[derive(Default)]
struct Counts {
    /// Groups committed in one transaction (of two calls or more).
    grouped: AtomicU64,
    /// Calls submitted and not yet written.
    pending: AtomicUsize,
    /// Calls answered before their row was written ([`CallWriter::submit_unwaited`]).
    unwaited: AtomicU64,
}

/// A call's row on its way: its outcome once written.
pub type Written = oneshot::Receiver<Result<(CallRow, bool), DbError>>;

impl CallWriter {
    /// Starts the writer on `db` (needs a Tokio runtime).
    pub fn start(db: Db) -> Self {
        Self::start_with(db, GROUP)
    }

    /// Starts a writer whose groups hold `group` calls at most (1: each call alone, as
    /// `voxgate bench webhook --group 1` compares).
    pub fn start_with(db: Db, group: usize) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let counts = Arc::<Counts>::default();
        tokio::spawn(run(db.clone(), rx, Arc::clone(&counts), group.clamp(1, GROUP)));
        Self { db, jobs, counts }
    }

    /// Whether calls are being written now (an answer then need not wait for its own).
    pub fn busy(&self) -> bool {
        self.counts.pending.load(Relaxed) > 0
    }

    /// Waits until every call submitted before is written (read-your-writes for tests and
    /// benchmarks; a no-op wait when nothing is pending).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.jobs.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// How many groups of two calls or more were committed in one transaction.
    pub fn grouped(&self) -> u64 {
        self.counts.grouped.load(Relaxed)
    }

    /// Creates the call, or returns the existing one for a retried webhook; `true` when created.
    pub async fn insert_or_get(&self, c: &NewCall<'_>, now: &str) -> Result<(CallRow, bool), DbError> {
        match self.submit(c, now) {
            Some(written) => match written.await {
                Ok(result) => result,
                Err(_) => calls::insert_or_get(&self.db, c, now).await,
            },
            // A full queue (or a writer gone): this call is written on its own.
            None => calls::insert_or_get(&self.db, c, now).await,
        }
    }

    /// [`CallWriter::submit`] for a call whose answer goes without waiting for it (counted).
    pub fn submit_unwaited(&self, c: &NewCall<'_>, now: &str) -> Option<Written> {
        let written = self.submit(c, now)?;
        self.counts.unwaited.fetch_add(1, Relaxed);
        Some(written)
    }

    /// How many calls were answered before their row was written.
    pub fn unwaited(&self) -> u64 {
        self.counts.unwaited.load(Relaxed)
    }

    /// Queues the call for the next group; None when the queue is full.
    pub fn submit(&self, c: &NewCall<'_>, now: &str) -> Option<Written> {
        let (reply, written) = oneshot::channel();
        let job = Job::Call(Box::new(Call { vars: calls::create_vars(c, now), row: calls::created_row(c, now), reply }));
        self.counts.pending.fetch_add(1, Relaxed);
        if self.jobs.try_send(job).is_err() {
            self.counts.pending.fetch_sub(1, Relaxed);
            return None;
        }
        Some(written)
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, counts: Arc<Counts>, size: usize) {
    let mut jobs = Vec::with_capacity(size);
    while rx.recv_many(&mut jobs, size).await > 0 {
        // In order: a flush is answered once the calls before it are written.
        let mut group = Vec::with_capacity(jobs.len());
        for job in jobs.drain(..) {
            match job {
                Job::Call(call) => group.push(*call),
                Job::Flush(done) => {
                    written(&db, &counts, std::mem::take(&mut group)).await;
                    let _ = done.send(());
                }
            }
        }
        written(&db, &counts, group).await;
    }
}

/// Writes `group` (if any) and counts it.
async fn written(db: &Db, counts: &Counts, group: Vec<Call>) {
    let n = group.len();
    if n == 0 {
        return;
    }
    if write(db, group).await {
        counts.grouped.fetch_add(1, Relaxed);
    }
    counts.pending.fetch_sub(n, Relaxed);
}

struct Call {
    vars: serde_json::Value,
    row: CallRow,
    reply: Reply,
}

/// Writes `group` in one transaction, or call by call when that fails; whether it was one
/// transaction of two calls or more.
async fn write(db: &Db, group: Vec<Call>) -> bool {
    if group.len() > 1 {
        let mut sql = String::from("BEGIN TRANSACTION;\n");
        let mut vars = serde_json::Map::new();
        for (i, job) in group.iter().enumerate() {
            let var = format!("c{i}");
            sql.push_str(&calls::create_sql(&var));
            sql.push_str(";\n");
            vars.insert(var, job.vars.clone());
        }
        sql.push_str("COMMIT TRANSACTION;");
        if super::query(db, &sql, serde_json::Value::Object(vars)).await.is_ok() {
            for job in group {
                let _ = job.reply.send(Ok((job.row, true)));
            }
            return true;
        }
    }
    for job in group {
        let _ = job.reply.send(one(db, job.vars, job.row).await);
    }
    false
}

/// One call: created, or found when it was there first.
async fn one(db: &Db, vars: serde_json::Value, row: CallRow) -> Result<(CallRow, bool), DbError> {
    match super::rows::<serde_json::Value>(db, &calls::create_sql("c"), serde_json::json!({ "c": vars })).await {
        Ok(_) => Ok((row, true)),
        Err(e) if calls::already_there(&e) => {
            let found = calls::get_by_key(db, &row.id).await?;
            found.map(|r| (r, false)).ok_or_else(|| DbError::Decode(serde::de::Error::custom("call vanished")))
        }
        Err(e) => Err(e),
    }
}
