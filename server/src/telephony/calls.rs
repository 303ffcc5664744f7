//! The call intake, for every provider: find the number, let the provider's own check
//! authenticate the request, pick the agent, and record the call once per call id. What to
//! answer is the provider's business (its folder builds the answer).

use axum::http::StatusCode;
use domain::call::CallStatus;
use domain::phone_number::{NumberStatus, Provider};

use super::params::{CallParams, ParamError};
use crate::db::{self, DbError, calls::CallRow, phone_numbers::NumberRow};
use crate::errors::DomainError;
use crate::http::ApiError;
use crate::numbers::cache::Intake;
use crate::state::AppState;
use crate::users::Owner;

/// Why a telephony request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("phone number not found")]
    NotFound,
    #[error("wrong or missing key")]
    BadKey,
    /// A signed provider's request whose signature is missing or wrong.
    #[error("wrong or missing signature")]
    BadSignature,
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

/// Each refusal as the provider sees it: 404, 401 `bad_key`, 403 `bad_signature`, 400 naming
/// the field, 409.
impl From<AnswerError> for ApiError {
    fn from(e: AnswerError) -> Self {
        match e {
            AnswerError::NotFound => ApiError::not_found("phone number"),
            AnswerError::BadKey => ApiError::new(StatusCode::UNAUTHORIZED, "bad_key", "the URL's key does not match this number"),
            AnswerError::BadSignature => {
                ApiError::new(StatusCode::FORBIDDEN, "bad_signature", "the request's signature does not match this number's account")
            }
            AnswerError::Params(p) => {
                let field = match p {
                    ParamError::MissingCallSid | ParamError::BadCallSid(_) => "CallSid",
                    ParamError::MalformedBody(_) => "body",
                };
                ApiError::invalid(field, p.to_string())
            }
            AnswerError::CallOfAnotherNumber => ApiError {
                field: Some("CallSid".into()),
                ..ApiError::new(StatusCode::CONFLICT, "conflict", "this call id belongs to another number")
            },
            AnswerError::Db(e) => ApiError::internal(e),
        }
    }
}

/// A number whose request was authenticated, with the agent that answers it.
pub struct Verified {
    pub number: NumberRow,
    pub owner: Owner,
    pub agent: Option<domain::agent::AgentView>,
}

impl Verified {
    /// Whether the number takes calls.
    pub fn active(&self) -> bool {
        self.number.status == NumberStatus::Active
    }

    /// The agent's language (English without an agent).
    pub fn language(&self) -> &str {
        self.agent.as_ref().map(|a| a.settings.language.as_str()).unwrap_or("en")
    }
}

/// Finds number `id` and lets `authentic` (the provider's check: a URL key, a signature)
/// decide whether the request is the provider's; only then is the agent looked up.
/// The number and its agent come from memory when kept (crate::numbers::cache).
pub async fn verify(state: &AppState, id: &str, authentic: impl FnOnce(&NumberRow) -> bool) -> Result<Verified, AnswerError> {
    if let Some(kept) = state.numbers_cache.get(id) {
        if !authentic(&kept.number) {
            return Err(AnswerError::BadKey);
        }
        let Intake { number, owner, agent } = Intake::clone(&kept);
        return Ok(Verified { number, owner, agent });
    }
    let generation = state.numbers_cache.generation();
    let number = db::phone_numbers::find_for_telephony(&state.db, id).await?.ok_or(AnswerError::NotFound)?;
    if !authentic(&number) {
        return Err(AnswerError::BadKey);
    }
    let owner = Owner::of_row(number.owner_id.clone());
    let agent = crate::agents::for_call(state, &owner, number.linked_agent_id().as_deref()).await.map_err(domain_to_answer)?;
    state.numbers_cache.put(generation, Intake { number: number.clone(), owner: owner.clone(), agent: agent.clone() });
    Ok(Verified { number, owner, agent })
}

/// A recorded call.
pub struct Recorded {
    pub call: CallRow,
    /// False when this was a retry of a webhook already answered.
    pub created: bool,
}

/// Records the call that `provider` delivered (once per call id; an inactive number's call as
/// rejected), updates the number's `last_used`, and starts rendering the greeting for a call
/// that will stream. (A number of provider `other` takes calls through Exotel's protocol, so
/// the provider is the one whose request this is, not the number's label.)
pub async fn record(state: &AppState, provider: Provider, v: &Verified, params: &CallParams) -> Result<Recorded, AnswerError> {
    record_as(state, provider, v, params, false).await
}

/// An answer webhook's [`record`]: while the call writer is busy with other calls, a new
/// inbound call is answered without waiting for its row, which goes into the writer's next
/// group (milliseconds later, well before the provider opens the stream). The stream's `start`
/// records the call through the same queue, so it finds that row (or writes it, on another
/// node), and a call id that turns out to be another number's is refused there. An idle
/// writer writes the row before the answer, as [`record`] does.
pub async fn answer(state: &AppState, provider: Provider, v: &Verified, params: &CallParams) -> Result<Recorded, AnswerError> {
    record_as(state, provider, v, params, true).await
}

async fn record_as(
    state: &AppState,
    provider: Provider,
    v: &Verified,
    params: &CallParams,
    may_defer: bool,
) -> Result<Recorded, AnswerError> {
    let now = state.clock.now_rfc3339();
    let active = v.active();
    let params_json = serde_json::to_string(&params.raw).map_err(DbError::from)?;
    let outbound = params.direction.as_deref().is_some_and(|d| d.starts_with("outbound"));
    let new = |session_id| db::calls::NewCall {
        owner_id: v.owner.id(),
        phone_id: &v.number.id,
        phone_number: &v.number.phone_number,
        agent_id: v.agent.as_ref().map(|a| a.id.as_str()),
        provider,
        session_id,
        status: if active { CallStatus::Ringing } else { CallStatus::Rejected },
        caller: params.from.as_deref(),
        callee: params.to.as_deref(),
        direction: params.direction.as_deref(),
        params_json: &params_json,
        reason: (!active).then_some("number is not active"),
        node: &state.node,
    };
    // An inbound call (not one we dialed) need not wait while other calls are being written.
    if may_defer
        && !outbound
        && params.dial_id().is_none()
        && state.call_writer.busy()
        && let Some(written) = state.call_writer.submit_unwaited(&new(&params.call_sid), &now)
    {
        let call = db::calls::created_row(&new(&params.call_sid), &now);
        let (state2, owner, phone_id, call_sid) = (state.clone(), v.owner.clone(), v.number.id.clone(), params.call_sid.clone());
        tokio::spawn(async move {
            let outcome = match written.await {
                Ok(Ok((call, created))) => after_write(&state2, &owner, &phone_id, &call_sid, &call, created, active),
                Ok(Err(e)) => Err(e.into()),
                // The writer stopped (the server is stopping): the stream records the call.
                Err(_) => Ok(()),
            };
            if let Err(e) = outcome {
                tracing::warn!(call_sid = %call_sid, phone_id = %phone_id, error = %e, "answered call not recorded; its stream will record it");
            }
            if let Err(e) = touch_last_used(&state2, &phone_id, &now).await {
                tracing::warn!(phone_id = %phone_id, error = %e, "cannot update the number's last use");
            }
        });
        if active {
            warm_greeting(state, v);
        }
        return Ok(Recorded { call, created: true });
    }
    touch_last_used(state, &v.number.id, &now).await?;
    // An outbound call's requests name the row made when it was dialed; one that does not (a
    // provider's own callback) is found by the provider's id of the call.
    let found = match params.dial_id() {
        None if outbound => db::outbound::session_of(&state.db, provider, &params.call_sid).await?,
        _ => None,
    };
    let session = params.dial_id().or(found.as_deref()).unwrap_or(&params.call_sid);
    let (call, created) = state.call_writer.insert_or_get(&new(session), &now).await?;
    after_write(state, &v.owner, &v.number.id, &params.call_sid, &call, created, active)?;
    // The provider's own id of an outbound call (Plivo's arrives only now, after its request id).
    if session != params.call_sid && call.provider_call_id.as_deref() != Some(params.call_sid.as_str()) {
        db::outbound::set_provider_call_id(&state.db, &call.id, &params.call_sid).await?;
    }
    if created && active {
        warm_greeting(state, v);
    }
    Ok(Recorded { call, created })
}

/// Once the call's row is written (or found): counts and alerts for a new call, and the
/// check that a row found is this number's.
fn after_write(
    state: &AppState,
    owner: &Owner,
    phone_id: &str,
    call_sid: &str,
    call: &CallRow,
    created: bool,
    active: bool,
) -> Result<(), AnswerError> {
    if created {
        state.call_counts.forget("call", owner.id());
    }
    if created && !active {
        crate::notify::call_ended(state, &call.id);
    }
    // Call ids are global: a row found for another number (or owner) is not ours to answer or change.
    if call.owner_id != owner.id() || call.phone_id != phone_id {
        tracing::warn!(call_sid = %call_sid, phone_id = %phone_id, "call id already recorded for another number");
        return Err(AnswerError::CallOfAnotherNumber);
    }
    if created {
        tracing::info!(call_sid = %call_sid, phone_id = %phone_id, user_id = %owner.id(), active, "call answered");
    }
    Ok(())
}

/// Renders the greeting now, while the provider connects the stream, so its first audio
/// leaves right after `start` (cached per voice, text and rate).
fn warm_greeting(state: &AppState, v: &Verified) {
    let (state, owner, agent) = (state.clone(), v.owner.clone(), v.agent.clone());
    tokio::spawn(async move {
        let key = match &agent {
            Some(a) => crate::agents::api_key(&state, &owner, a).await,
            None => None,
        };
        let settings = agent.map(|a| a.settings).unwrap_or_default();
        state.voice.warm_greeting(&settings, key, Some(owner.id())).await;
    });
}

/// Writes a number's `last_used` at most once a second. Concurrent calls to one number race
/// on this row; a write conflict means another call is setting the same moment, so it is not
/// a reason to fail this call.
async fn touch_last_used(state: &AppState, phone_id: &str, now: &str) -> Result<(), AnswerError> {
    let writes = &state.last_used_writes;
    let due = writes.get(phone_id).is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1));
    if due {
        writes.insert(phone_id.to_string(), std::time::Instant::now());
    }
    if due && let Err(e) = db::phone_numbers::touch_last_used(&state.db, phone_id, now).await {
        if e.is_write_conflict() {
            tracing::debug!(phone_id = %phone_id, "last_used already being updated");
        } else {
            return Err(e.into());
        }
    }
    Ok(())
}

/// A provider's progress callback (a call or stream status): its parameters merged into the
/// call's, and an end recorded: `Completed`, or `Failed` with `reason` (named after the
/// provider) when the call was still live. Other statuses change only the parameters.
pub async fn progress(
    state: &AppState,
    provider: Provider,
    v: &Verified,
    params: &CallParams,
    end: Option<CallStatus>,
    reason: &str,
) -> Result<(), AnswerError> {
    let recorded = record(state, provider, v, params).await?;
    let live = recorded.call.status.is_live();
    let mut merged: std::collections::BTreeMap<String, String> = serde_json::from_str(&recorded.call.params_json).unwrap_or_default();
    merged.extend(params.raw.clone());
    let json = serde_json::to_string(&merged).map_err(DbError::from)?;
    let now = state.clock.now_rfc3339();
    db::calls::merge_params(&state.db, &recorded.call.id, &json, end, None, &now).await?;
    if let Some(outcome) = super::outcome::of(&params.raw) {
        db::outbound::set_outcome(&state.db, &recorded.call.id, outcome).await?;
    }
    if live && end == Some(CallStatus::Failed) {
        let reason = format!("{}: {}", provider.label(), reason.chars().take(200).collect::<String>());
        db::calls::set_status(&state.db, &recorded.call.id, CallStatus::Failed, Some(&reason), Some(&now), None).await?;
    }
    if end.is_some() {
        crate::notify::call_ended(state, &recorded.call.id);
    }
    Ok(())
}
