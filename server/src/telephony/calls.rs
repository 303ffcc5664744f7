//! Answering a provider call: find the number, check its secret, pick the agent, record the
//! call once per call id, and say what to do next.

use subtle::ConstantTimeEq;

use super::exotel::answer::{self, Answer};
use super::exotel::params::{CallParams, ParamError};
use crate::db::{self, DbError, calls::CallRow, phone_numbers::NumberRow};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// Why a telephony request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("phone number not found")]
    NotFound,
    #[error("wrong or missing key")]
    BadKey,
    /// The call id is already recorded for another number.
    #[error("this call id belongs to another number")]
    CallOfAnotherNumber,
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn domain_to_answer(e: DomainError) -> AnswerError {
    match e {
        DomainError::Db(e) => AnswerError::Db(e),
        // An agent row that does not decode is a server fault, not the caller's.
        other => AnswerError::Db(DbError::Decode(serde::de::Error::custom(other.to_string()))),
    }
}

/// A number whose URL secret was checked, with the agent that answers it.
pub struct Verified {
    pub number: NumberRow,
    pub owner: Owner,
    pub agent: Option<domain::agent::AgentView>,
}

/// Finds number `id` and checks `key` against its URL secret in constant time.
pub async fn verify(state: &AppState, id: &str, key: Option<&str>) -> Result<Verified, AnswerError> {
    let number = db::phone_numbers::find_for_telephony(&state.db, id).await?.ok_or(AnswerError::NotFound)?;
    let given = key.unwrap_or_default().as_bytes();
    if !bool::from(given.ct_eq(number.url_secret.as_bytes())) {
        return Err(AnswerError::BadKey);
    }
    let owner = Owner::of_row(number.owner_id.clone());
    let agent = crate::agents::for_call(state, &owner, number.linked_agent_id().as_deref()).await.map_err(domain_to_answer)?;
    Ok(Verified { number, owner, agent })
}

/// The stream URL for a call: the number's WebSocket URL plus the session and agent.
pub fn stream_url(state: &AppState, v: &Verified, session_id: &str) -> String {
    let base = crate::numbers::urls(state, &v.number.id, &v.number.url_secret).websocket;
    let mut url = format!("{base}&session={session_id}");
    if let Some(a) = &v.agent {
        url.push_str(&format!("&agent={}", a.id));
    }
    url
}

/// A recorded call and the answer for the provider.
pub struct Answered {
    pub call: CallRow,
    /// False when this was a retry of a webhook already answered.
    pub created: bool,
    pub active: bool,
    pub stream_url: String,
    pub xml: String,
}

/// Records the call (once per call id) and builds the answer.
pub async fn answer(state: &AppState, v: &Verified, params: &CallParams) -> Result<Answered, AnswerError> {
    let now = state.clock.now_rfc3339();
    // `last_used` is written at most once a second per number. Concurrent calls to one number
    // race on this row; a write conflict means another call is setting the same moment, so it
    // is not a reason to fail this call.
    let due = {
        let mut writes = state.last_used_writes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = writes.get(&v.number.id).is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1));
        if !fresh {
            writes.insert(v.number.id.clone(), std::time::Instant::now());
        }
        !fresh
    };
    if due && let Err(e) = db::phone_numbers::touch_last_used(&state.db, &v.number.id, &now).await {
        if e.is_write_conflict() {
            tracing::debug!(phone_id = %v.number.id, "last_used already being updated");
        } else {
            return Err(e.into());
        }
    }
    let active = v.number.status == "active";
    let params_json = serde_json::to_string(&params.raw).map_err(DbError::from)?;
    let (call, created) = db::calls::insert_or_get(
        &state.db,
        &db::calls::NewCall {
            owner_id: v.owner.id(),
            phone_id: &v.number.id,
            phone_number: &v.number.phone_number,
            agent_id: v.agent.as_ref().map(|a| a.id.as_str()),
            provider: "exotel",
            session_id: &params.call_sid,
            status: if active { "ringing" } else { "rejected" },
            caller: params.from.as_deref(),
            callee: params.to.as_deref(),
            direction: params.direction.as_deref(),
            params_json: &params_json,
            reason: (!active).then_some("number is not active"),
        },
        &now,
    )
    .await?;
    // Call ids are global: a row found for another number (or owner) is not ours to answer or change.
    if call.owner_id != v.owner.id() || call.phone_id != v.number.id {
        tracing::warn!(call_sid = %params.call_sid, phone_id = %v.number.id, "call id already recorded for another number");
        return Err(AnswerError::CallOfAnotherNumber);
    }
    if created {
        tracing::info!(call_sid = %params.call_sid, phone_id = %v.number.id, user_id = %v.owner.id(), active, "call answered");
    }
    let language = v.agent.as_ref().map(|a| a.settings.language.as_str()).unwrap_or("en");
    let stream_url = stream_url(state, v, &params.call_sid);
    if created && active {
        // Render the greeting now, while the provider connects the stream, so its first audio
        // leaves right after `start` (cached per voice, text and rate).
        let (state, owner, agent) = (state.clone(), v.owner.clone(), v.agent.clone());
        tokio::spawn(async move {
            let key = match &agent {
                Some(a) => crate::agents::api_key(&state, &owner, a).await,
                None => None,
            };
            let settings = agent.map(|a| a.settings).unwrap_or_default();
            state.voice.warm_up(&[(settings, key)], false).await;
        });
    }
    let xml = if active {
        let agent_id = v.agent.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
        answer::to_xml(&Answer::Stream {
            // The stream speaks the greeting (cached audio, within ~200 ms of `start`); a <Say>
            // here would greet twice.
            greeting: "",
            language,
            url: &stream_url,
            parameters: &[("session_id", &params.call_sid), ("agent_id", agent_id)],
        })
    } else {
        answer::to_xml(&Answer::SayAndHangUp { message: answer::not_in_service(language), language })
    };
    Ok(Answered { call, created, active, stream_url, xml })
}

/// Merges a Passthru request's parameters into its call (creating the call if the Passthru
/// is the first we hear of it) and records the stream's end when Exotel reports it.
pub async fn record_passthru(state: &AppState, v: &Verified, params: &CallParams) -> Result<CallRow, AnswerError> {
    let answered = answer(state, v, params).await?;
    let mut merged: std::collections::BTreeMap<String, String> = serde_json::from_str(&answered.call.params_json).unwrap_or_default();
    merged.extend(params.raw.clone());
    let stream_status = params.raw.get("Stream[Status]").cloned();
    let duration_ms = params.raw.get("Stream[Duration]").and_then(|d| d.trim().parse::<f64>().ok()).map(|s| (s * 1000.0) as i64);
    let json = serde_json::to_string(&merged).map_err(DbError::from)?;
    let call =
        db::calls::merge_params(&state.db, &answered.call.id, &json, stream_status.as_deref(), duration_ms, &state.clock.now_rfc3339())
            .await?;
    Ok(call)
}
