//! Calls service: the signed-in user's call logs.

pub mod live;
pub mod outbound;
pub mod recordings;

use domain::call::{CallDetail, CallPage, CallQuery, CallStatus, CallView};

use crate::db::calls::{self as repo, CallListRow};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// Largest page a listing returns.
pub const MAX_PAGE_SIZE: u32 = 200;

fn view(r: CallListRow) -> CallView {
    let outbound = r.call.direction.as_deref() == Some("outbound");
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
        callee: r.call.callee.filter(|_| outbound),
        outcome: r.call.outcome,
        route: r.call.route,
        turn_count: r.turns,
        lost_turns: r.lost_turns.unwrap_or(0),
    }
}

/// A date filter as RFC 3339. A plain `YYYY-MM-DD` is a whole day (UTC): `from` is its start
/// and `to` includes it (the next day's start, exclusive).
fn date(field: &str, v: &Option<String>) -> Result<Option<String>, DomainError> {
    let Some(v) = v.as_ref().map(|s| s.trim()).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let d = if field == "to" { d.succ_opt().unwrap_or(d) } else { d };
        return Ok(Some(format!("{d}T00:00:00Z")));
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| Some(crate::clock::rfc3339(t.with_timezone(&chrono::Utc))))
        .map_err(|_| DomainError::field(field, "Use a date like 2026-11-25 or an RFC 3339 time."))
}

/// One page of `owner`'s calls matching `q`, newest first.
pub async fn list(state: &AppState, owner: &Owner, q: &CallQuery) -> Result<CallPage, DomainError> {
    let (page, page_size, start) = crate::errors::page_window(q.page, q.page_size, MAX_PAGE_SIZE)?;
    let status = domain::parse_choice::<CallStatus>("status", q.status.as_deref()).map_err(|e| DomainError::Invalid(vec![e]))?;
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
    // A total by status changes as calls end: counted every time; the others are kept a moment.
    let key = format!("{:?}", (&filter.phone_id, &filter.agent_id, &filter.from, &filter.to));
    let kept = if filter.status.is_none() { state.call_counts.get("call", owner.id(), &key) } else { None };
    let (rows, counted) = repo::list(&state.db, owner, &filter, kept.is_none()).await?;
    if let (Some(t), None) = (counted, filter.status) {
        state.call_counts.put("call", owner.id(), &key, t);
    }
    let total = counted.or(kept).unwrap_or(0);
    Ok(CallPage { calls: rows.into_iter().map(view).collect(), page, page_size, total })
}

/// One of `owner`'s calls with its provider parameters.
pub async fn get(state: &AppState, owner: &Owner, id: &str) -> Result<CallDetail, DomainError> {
    let row = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("call"))?;
    let provider_params = serde_json::from_str(&row.call.params_json).unwrap_or_default();
    let turns = crate::db::turns::for_call(&state.db, owner, id).await?;
    let recording = crate::db::recordings::get(&state.db, owner, id).await?;
    Ok(CallDetail {
        call: view(row),
        provider_params,
        turns,
        recording_url: recording.as_ref().map(|_| recordings::url(id)),
        recording_ms: recording.as_ref().and_then(|r| r.duration_ms),
        recording_expires_at: recording.and_then(|r| r.expires_at),
    })
}

/// Calls, answer rate, duration, turns and voice-to-voice latency of `owner`'s calls over the
/// last `days` days (1..=90): per number and per agent, and in total and per day for the
/// number `phone_id` or agent `agent_id` when one is given (else for every call).
pub async fn analytics(
    state: &AppState,
    owner: &Owner,
    days: u32,
    phone_id: Option<&str>,
    agent_id: Option<&str>,
) -> Result<domain::call::Analytics, DomainError> {
    use domain::call::{Analytics, AnalyticsDay, AnalyticsRow};
    let days = days.clamp(1, 90);
    let now = state.clock.now();
    let first_day = (now - chrono::Duration::days(days as i64 - 1)).date_naive();
    let from = first_day.and_hms_opt(0, 0, 0).map(|d| d.and_utc().to_rfc3339()).unwrap_or_default();
    let calls = repo::for_analytics(&state.db, owner, &from).await?;

    fn row(id: &str, label: &str, calls: &[&repo::AnalyticsCall]) -> AnalyticsRow {
        // Answered: the call's stream began (a call that never streamed was not answered).
        let answered: Vec<&&repo::AnalyticsCall> = calls.iter().filter(|c| c.answered_at.is_some()).collect();
        let durations: Vec<i64> = answered.iter().filter_map(|c| c.duration_ms).collect();
        let mut v2v: Vec<i64> = calls.iter().flat_map(|c| c.voice_to_voice.iter().flatten().copied()).collect();
        v2v.sort_unstable();
        let q = |p: f64| (!v2v.is_empty()).then(|| v2v[((v2v.len() - 1) as f64 * p).round() as usize]);
        AnalyticsRow {
            id: id.to_string(),
            label: label.to_string(),
            calls: calls.len() as i64,
            answered: answered.len() as i64,
            outbound: calls.iter().filter(|c| c.direction.as_deref() == Some("outbound")).count() as i64,
            machine: calls.iter().filter(|c| c.outcome == Some(domain::outbound::CallOutcome::Machine)).count() as i64,
            avg_duration_ms: (!durations.is_empty()).then(|| durations.iter().sum::<i64>() / durations.len() as i64),
            turns_per_call: (!answered.is_empty()).then(|| answered.iter().map(|c| c.turns as f64).sum::<f64>() / answered.len() as f64),
            voice_to_voice_p50_ms: q(0.5),
            voice_to_voice_p90_ms: q(0.9),
        }
    }
    let phone_id = phone_id.map(str::trim).filter(|s| !s.is_empty());
    let agent_id = agent_id.map(str::trim).filter(|s| !s.is_empty());
    let chosen: Vec<&repo::AnalyticsCall> = calls
        .iter()
        .filter(|c| phone_id.is_none_or(|p| c.phone_id == p) && agent_id.is_none_or(|a| c.agent_id.as_deref() == Some(a)))
        .collect();
    let group = |key: &dyn Fn(&repo::AnalyticsCall) -> Option<(String, String)>| {
        let mut groups: std::collections::BTreeMap<(String, String), Vec<&repo::AnalyticsCall>> = Default::default();
        for c in &calls {
            if let Some(k) = key(c) {
                groups.entry(k).or_default().push(c);
            }
        }
        let mut rows: Vec<AnalyticsRow> = groups.iter().map(|((id, label), cs)| row(id, label, cs)).collect();
        rows.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.label.cmp(&b.label)));
        rows
    };
    let by_number = group(&|c| Some((c.phone_id.clone(), c.phone_number.clone())));
    let by_agent = group(&|c| Some((c.agent_id.clone()?, c.agent_name.clone().unwrap_or_else(|| "(deleted agent)".into()))));
    let by_day = (0..days)
        .map(|i| {
            let day = (first_day + chrono::Duration::days(i as i64)).format("%Y-%m-%d").to_string();
            let on: Vec<&repo::AnalyticsCall> = chosen.iter().copied().filter(|c| c.started_at.starts_with(&day)).collect();
            let r = row(&day, &day, &on);
            AnalyticsDay {
                day,
                calls: r.calls,
                answered: r.answered,
                voice_to_voice_p50_ms: r.voice_to_voice_p50_ms,
                voice_to_voice_p90_ms: r.voice_to_voice_p90_ms,
            }
        })
        .collect();
    Ok(Analytics {
        days,
        phone_id: phone_id.map(str::to_string),
        agent_id: agent_id.map(str::to_string),
        total: row("all", "All calls", &chosen),
        by_number,
        by_agent,
        by_day,
    })
}

/// A call still ringing after this long never got its stream.
pub const RINGING_LIMIT: chrono::Duration = chrono::Duration::minutes(2);

/// Ends calls that cannot be live any more: ringing past [`RINGING_LIMIT`], or in progress
/// past the longest stream (a server that stopped mid-call never wrote their end).
pub async fn end_stale(state: &AppState) -> Result<usize, DomainError> {
    use crate::clock::rfc3339;
    let now = state.clock.now();
    let live = chrono::Duration::from_std(crate::telephony::session::MAX_SESSION).unwrap_or(chrono::Duration::hours(1))
        + chrono::Duration::minutes(5);
    let ended = repo::end_stale(&state.db, &rfc3339(now - RINGING_LIMIT), &rfc3339(now - live), &rfc3339(now)).await?;
    ended.iter().for_each(|call| crate::notify::call_ended(state, call));
    Ok(ended.len())
}

/// Fails the calls this node left live when its last process stopped (killed, crashed, or cut
/// off by power): their stream is gone with it. Run at start, before serving.
pub async fn recover(state: &AppState) -> Result<usize, DomainError> {
    let failed = repo::fail_interrupted(&state.db, &state.node, &state.clock.now_rfc3339()).await?;
    failed.iter().for_each(|call| crate::notify::call_ended(state, call));
    if !failed.is_empty() {
        tracing::warn!(calls = failed.len(), node = %state.node, "calls left live by the previous run failed: server restarted");
    }
    Ok(failed.len())
}
