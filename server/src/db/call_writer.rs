//! The calls' rows as answer webhooks create them, written in groups: every create that
//! arrives while one transaction commits goes into the next, so a burst of answers costs one
//! disk sync per group, not one per call (the embedded store syncs every commit). Each answer
//! still waits for its own row to be committed before it is sent.
//!
//! A group that fails (one of its calls was already there: a provider's retry, or another
//! node's answer of the same call) is written again call by call, each finding its row or
//! creating it as [`super::calls::insert_or_get`] does.

use tokio::sync::{mpsc, oneshot};

use super::calls::{self, CallRow, NewCall};
use super::{Db, DbError};

/// Calls waiting for the next group, at most; past it an answer writes its call alone.
pub const QUEUE: usize = 4096;
/// Calls in one transaction, at most.
pub const GROUP: usize = 128;

type Reply = oneshot::Sender<Result<(CallRow, bool), DbError>>;

struct Job {
    vars: serde_json::Value,
    row: CallRow,
    reply: Reply,
}

/// Cheap to clone; the writer task ends when the last clone is dropped.
#[derive(Clone)]
pub struct CallWriter {
    db: Db,
    jobs: mpsc::Sender<Job>,
    /// Groups committed in one transaction (of two calls or more).
    grouped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CallWriter {
    /// Starts the writer on `db` (needs a Tokio runtime).
    pub fn start(db: Db) -> Self {
        Self::start_with(db, GROUP)
    }

    /// Starts a writer whose groups hold `group` calls at most (1: each call alone, as
    /// `voxgate bench webhook --group 1` compares).
    pub fn start_with(db: Db, group: usize) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let grouped = std::sync::Arc::default();
        tokio::spawn(run(db.clone(), rx, std::sync::Arc::clone(&grouped), group.clamp(1, GROUP)));
        Self { db, jobs, grouped }
    }

    /// How many groups of two calls or more were committed in one transaction.
    pub fn grouped(&self) -> u64 {
        self.grouped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Creates the call, or returns the existing one for a retried webhook; `true` when created.
    pub async fn insert_or_get(&self, c: &NewCall<'_>, now: &str) -> Result<(CallRow, bool), DbError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { vars: calls::create_vars(c, now), row: calls::created_row(c, now), reply };
        if self.jobs.try_send(job).is_err() {
            // A full queue (or a writer gone): this call is written on its own.
            return calls::insert_or_get(&self.db, c, now).await;
        }
        match answer.await {
            Ok(result) => result,
            Err(_) => calls::insert_or_get(&self.db, c, now).await,
        }
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, grouped: std::sync::Arc<std::sync::atomic::AtomicU64>, size: usize) {
    let mut group = Vec::with_capacity(size);
    while rx.recv_many(&mut group, size).await > 0 {
        if write(&db, std::mem::take(&mut group)).await {
            grouped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Writes `group` in one transaction, or call by call when that fails; whether it was one
/// transaction of two calls or more.
async fn write(db: &Db, group: Vec<Job>) -> bool {
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
