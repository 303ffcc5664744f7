//! Calls service: the signed-in user's call logs.

pub mod live;

use domain::call::{CallDetail, CallPage, CallQuery, CallView, STATUSES};

use crate::db::calls::{self as repo, CallListRow};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// Largest page a listing returns.
pub const MAX_PAGE_SIZE: u32 = 200;

fn view(r: CallListRow) -> CallView {
    CallView {
        id: r.call.id,
        session_id: r.call.session_id,
        provider: r.call.provider,
        phone_id: r.call.phone_id,
        phone_number: r.call.phone_number,
        agent_id: r.call.agent_id,
        agent_name: r.agent_name,
        caller: r.call.caller,
        direction: r.call.direction,
        status: r.call.status,
        reason: r.call.reason,
        started_at: r.call.started_at,
        ended_at: r.ended_at,
        duration_ms: r.duration_ms,
    }
}

/// A date filter as RFC 3339: `YYYY-MM-DD` means that day's start (UTC).
fn date(field: &str, v: &Option<String>) -> Result<Option<String>, DomainError> {
    let Some(v) = v.as_ref().map(|s| s.trim()).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(Some(format!("{d}T00:00:00Z")));
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| Some(crate::clock::rfc3339(t.with_timezone(&chrono::Utc))))
        .map_err(|_| DomainError::field(field, "Use a date like 2026-11-25 or an RFC 3339 time."))
}

/// One page of `owner`'s calls matching `q`, newest first.
pub async fn list(state: &AppState, owner: &Owner, q: &CallQuery) -> Result<CallPage, DomainError> {
    let (page, page_size, start) = crate::errors::page_window(q.page, q.page_size, MAX_PAGE_SIZE)?;
    let status = q.status.as_ref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !STATUSES.iter().any(|(k, _)| k == s)
    {
        return Err(DomainError::field("status", "Choose ringing, in_progress, completed, failed or rejected."));
    }
    let clean = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = repo::ListFilter {
        phone_id: clean(&q.phone_id),
        agent_id: clean(&q.agent_id),
        status,
        from: date("from", &q.from)?,
        to: date("to", &q.to)?,
        limit: page_size,
        start,
    };
    let (rows, total) = repo::list(&state.db, owner, &filter).await?;
    Ok(CallPage { calls: rows.into_iter().map(view).collect(), page, page_size, total })
}

/// One of `owner`'s calls with its provider parameters.
pub async fn get(state: &AppState, owner: &Owner, id: &str) -> Result<CallDetail, DomainError> {
    let row = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("call"))?;
    let provider_params = serde_json::from_str(&row.call.params_json).unwrap_or_default();
    let turns = crate::db::turns::for_call(&state.db, owner, id).await?;
    Ok(CallDetail { call: view(row), provider_params, turns })
}
