//! Imports running in the background for the dashboard's progress bar: each user may run one at
//! a time; a bounded number of finished ones are kept for their page to read.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use domain::phone_number::{ImportProgress, ImportReport};

/// Jobs kept, running or finished (the oldest finished ones go first).
pub const MAX_JOBS: usize = 64;

struct Job {
    id: String,
    owner: String,
    total: usize,
    done: Arc<AtomicUsize>,
    result: Option<Result<ImportReport, String>>,
}

/// Every job of this node.
#[derive(Default)]
pub struct ImportJobs {
    jobs: Mutex<VecDeque<Job>>,
}

/// Why a job could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Busy {
    /// This user already runs one.
    Running,
    /// The node keeps as many running jobs as it can.
    Full,
}

impl ImportJobs {
    /// Registers a job of `owner` over `total` rows; its counter counts rows handled.
    pub fn start(&self, owner: &str, total: usize) -> Result<(String, Arc<AtomicUsize>), Busy> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if jobs.iter().any(|j| j.owner == owner && j.result.is_none()) {
            return Err(Busy::Running);
        }
        while jobs.len() >= MAX_JOBS {
            let Some(i) = jobs.iter().position(|j| j.result.is_some()) else { return Err(Busy::Full) };
            jobs.remove(i);
        }
        let id = crate::db::new_key();
        let done = Arc::new(AtomicUsize::new(0));
        jobs.push_back(Job { id: id.clone(), owner: owner.to_string(), total, done: done.clone(), result: None });
        Ok((id, done))
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|j| j.result.is_none()).count()
    }

    /// Records how `id` ended.
    pub fn finish(&self, id: &str, result: Result<ImportReport, String>) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(j) = jobs.iter_mut().find(|j| j.id == id) {
            j.result = Some(result);
        }
    }

    /// `owner`'s job `id` (another user's is not found).
    pub fn get(&self, owner: &str, id: &str) -> Option<ImportProgress> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let j = jobs.iter().find(|j| j.id == id && j.owner == owner)?;
        let (report, error) = match &j.result {
            None => (None, None),
            Some(Ok(r)) => (Some(r.clone()), None),
            Some(Err(e)) => (None, Some(e.clone())),
        };
        Some(ImportProgress {
            id: j.id.clone(),
            total: j.total,
            done: j.done.load(Ordering::Relaxed),
            finished: j.result.is_some(),
            report,
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_running_job_per_user_jobs_are_private_and_the_store_is_bounded() {
        let jobs = ImportJobs::default();
        let (id, done) = jobs.start("u1", 10).unwrap();
        assert_eq!(jobs.start("u1", 5).unwrap_err(), Busy::Running);
        done.fetch_add(4, Ordering::Relaxed);
        let v = jobs.get("u1", &id).unwrap();
        assert_eq!((v.total, v.done, v.finished), (10, 4, false));
        assert!(jobs.get("u2", &id).is_none(), "another user's job is not found");
        jobs.finish(&id, Ok(ImportReport { rows: 10, imported: 10, ..Default::default() }));
        assert_eq!(jobs.get("u1", &id).unwrap().report.unwrap().imported, 10);
        for i in 0..MAX_JOBS - 1 {
            jobs.start(&format!("other{i}"), 1).unwrap();
        }
        jobs.start("evicts-the-finished-one", 1).unwrap();
        assert!(jobs.get("u1", &id).is_none(), "the oldest finished job made room");
        assert_eq!(jobs.start("one-too-many", 1).unwrap_err(), Busy::Full, "running jobs are never dropped");
    }
}
