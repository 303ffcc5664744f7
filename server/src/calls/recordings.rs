//! Call recordings after the call: where one is fetched, deleting a call with its recording,
//! and deleting recordings past their agent's retention. (Recording itself happens in the
//! stream's session: crate::telephony::session.)

use std::path::PathBuf;

use crate::db;
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;
use domain::FieldError;

/// Expired recordings deleted per sweep at most (the next sweep takes the rest).
const SWEEP_BATCH: u32 = 200;

/// The REST path of call `id`'s recording.
pub fn url(id: &str) -> String {
    format!("/api/calls/{id}/recording")
}

/// The file of `owner`'s recording of call `id`.
pub async fn file(state: &AppState, owner: &Owner, id: &str) -> Result<PathBuf, DomainError> {
    let row = db::recordings::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("recording"))?;
    let path = state.settings.data_dir.join(&row.file);
    if tokio::fs::metadata(&path).await.is_err() {
        return Err(DomainError::NotFound("recording"));
    }
    Ok(path)
}

/// Deletes `owner`'s ended call `id`: its turns, its recording (file and row) and itself. A call
/// still ringing or in progress is a conflict.
pub async fn delete_call(state: &AppState, owner: &Owner, id: &str) -> Result<(), DomainError> {
    let call = db::calls::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("call"))?;
    if call.call.status.is_live() {
        return Err(DomainError::Conflict(FieldError::new("status", "The call is still live; delete it once it has ended.")));
    }
    // The file first: a row left behind by a failed delete can be deleted again, a file left
    // behind without its row could not.
    if let Some(r) = db::recordings::get(&state.db, owner, id).await? {
        remove(state, &r.file).await?;
    }
    db::calls::delete(&state.db, owner, id).await?;
    tracing::info!(call = %id, user_id = %owner.id(), "call deleted");
    Ok(())
}

async fn remove(state: &AppState, file: &str) -> Result<(), DomainError> {
    match tokio::fs::remove_file(state.settings.data_dir.join(file)).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DomainError::Storage(format!("cannot delete a recording's file: {e}"))),
    }
}

/// Deletes the recordings whose retention has ended (file, then row); how many.
pub async fn sweep_expired(state: &AppState) -> Result<usize, DomainError> {
    let expired = db::recordings::expired(&state.db, &state.clock.now_rfc3339(), SWEEP_BATCH).await?;
    let mut deleted = 0;
    for r in expired {
        if remove(state, &r.file).await.is_ok() {
            db::recordings::delete(&state.db, &r.call_key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
