//! Outbound calls: an agent calls someone from one of the user's numbers. The call's row is made
//! first (keyed by our dial id, ringing, direction `outbound`), then the number's provider is
//! asked to place it; a refusal fails the row with the provider's reason. From then on the
//! provider's callbacks and stream find the row by the dial id in their URLs
//! (crate::telephony::dial), exactly as an inbound call's do.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::outbound::{PlaceCall, ValidPlaceCall};
use domain::phone_number::{NumberStatus, Provider};

use crate::db::number_checks::sealed_credentials;
use crate::db::phone_numbers::{self as numbers, NumberRow};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::telephony::dial::{self, DialCredentials, DialError, DialRequest};
use crate::users::Owner;

/// Longest an outbound call rings before the provider gives up.
pub const RING_TIMEOUT: Duration = Duration::from_secs(45);
/// Longest outbound call.
pub const TIME_LIMIT: Duration = Duration::from_secs(3600);

/// Where a dial came from, for a campaign's contact.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub campaign_id: Option<String>,
    pub contact_id: Option<String>,
    /// Our id for the call, when the caller chose it first (a campaign claims its contact with it).
    pub dial_id: Option<String>,
}

/// Why a dial did not leave.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// Nothing was written: the request itself is wrong (a field error, a missing number…).
    #[error(transparent)]
    Rejected(#[from] DomainError),
    /// The provider refused the call; its row `call_id` records why (and was discarded when
    /// `discarded`: a 429 of a campaign, whose contact is dialed again later).
    #[error("{error}")]
    Provider { call_id: String, provider: Provider, error: DialError, discarded: bool },
}

impl PlaceError {
    /// The error as the user sees it, and the failed call it recorded (a provider's refusal).
    pub fn into_domain(self) -> (Option<String>, DomainError) {
        match self {
            Self::Rejected(e) => (None, e),
            Self::Provider { call_id, provider, error, .. } => (Some(call_id), to_domain(provider, &error)),
        }
    }
}

/// A dial that left: our id of the call (its row's key).
#[derive(Debug, Clone)]
pub struct Placed {
    pub call_id: String,
    pub provider_call_id: String,
}

/// The provider error as the user sees it: the field it is about, or a 429 / 502.
pub fn to_domain(provider: Provider, e: &DialError) -> DomainError {
    let name = provider.label();
    match e {
        DialError::Credentials => DomainError::field(
            crate::numbers::verify::credential_field(provider),
            format!("{name} refused this number's credentials. Copy them again from the {name} console."),
        ),
        DialError::Refused { message } => DomainError::field("to", format!("{name} refused the call: {message}")),
        DialError::RateLimited { retry_after } => DomainError::ProviderBusy {
            message: format!("{name} is rate limiting calls; try again shortly."),
            retry_after: retry_after.map(|d| d.as_secs()),
        },
        DialError::Unreachable(why) => DomainError::ProviderUnreachable(format!("Could not reach {name} ({why}).")),
        DialError::Protocol(why) => DomainError::ProviderUnreachable(format!("{name} answered unexpectedly ({why}).")),
    }
}

/// The call's row reason for a provider's refusal.
fn reason(provider: Provider, e: &DialError) -> String {
    format!("{}: {e}", provider.label())
}

/// Places `input` for `owner` (REST, the number card, `voxgate dial`); returns the call's id.
pub async fn place(state: &AppState, owner: &Owner, input: &PlaceCall) -> Result<Placed, PlaceError> {
    let valid = input.validate().map_err(DomainError::Invalid)?;
    dial_valid(state, owner, &valid, &Origin::default(), false).await
}

/// Places a validated call. With `discard_busy`, a 429 leaves no row (a campaign tries later).
pub async fn dial_valid(
    state: &AppState,
    owner: &Owner,
    call: &ValidPlaceCall,
    origin: &Origin,
    discard_busy: bool,
) -> Result<Placed, PlaceError> {
    let number =
        numbers::get(&state.db, owner, &call.phone_id).await.map_err(DomainError::from)?.ok_or(DomainError::NotFound("phone number"))?;
    if number.status != NumberStatus::Active {
        return Err(DomainError::field("phoneId", "This number is not active; activate it to call from it.").into());
    }
    let agent_id = call
        .agent_id
        .clone()
        .or_else(|| number.linked_agent_id())
        .ok_or_else(|| DomainError::field("agentId", "Choose the agent that talks, or link one to this number."))?;
    let agent = crate::agents::get(state, owner, &agent_id).await.map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::field("agentId", "This agent does not exist."),
        other => other,
    })?;
    let creds = credentials(state, owner, &number).await?.ok_or_else(|| {
        DomainError::field(
            crate::numbers::verify::credential_field(number.provider),
            "Add this number's provider credentials before calling from it.",
        )
    })?;
    if crate::telephony::accounts::same_number(&call.to, &number.phone_number) {
        return Err(DomainError::field("to", "A number cannot call itself.").into());
    }
    let dial_id = origin.dial_id.clone().unwrap_or_else(|| format!("og{}", crate::secrets::random_string(b"0123456789abcdef", 30)));
    let variables_json = serde_json::to_string(&call.variables).map_err(|e| DomainError::from(crate::db::DbError::from(e)))?;
    let now = state.clock.now_rfc3339();
    let call_id = crate::db::outbound::insert(
        &state.db,
        &crate::db::outbound::NewDial {
            owner_id: owner.id(),
            phone_id: &number.id,
            phone_number: &number.phone_number,
            agent_id: &agent.id,
            provider: number.provider,
            dial_id: &dial_id,
            callee: &call.to,
            variables_json: &variables_json,
            campaign_id: origin.campaign_id.as_deref(),
            contact_id: origin.contact_id.as_deref(),
            node: &state.node,
        },
        &now,
    )
    .await
    .map_err(DomainError::from)?;
    state.call_counts.forget("call", owner.id());
    warm_greeting(state, owner, &agent, &call.variables);
    let urls = crate::telephony::dial_urls(state, &number, &dial_id, &agent.id);
    let request = DialRequest {
        from: number.phone_number.clone(),
        to: call.to.clone(),
        answer_url: urls.answer,
        events_url: urls.events,
        ring_url: urls.ring,
        stream_url: urls.stream,
        machine: dial::Machine::of_agent(&agent.settings.on_machine),
        ring_timeout: RING_TIMEOUT,
        time_limit: TIME_LIMIT,
        dial_id,
    };
    match dial::place(&state.provider_api, &state.settings.provider_apis, &creds, &request).await {
        Ok(placed) => {
            // The call left: whatever happens to this write, it is not a refusal (its callbacks
            // name it by the dial id anyway, and a retry here would dial twice).
            if let Err(e) = crate::db::outbound::set_provider_call_id(&state.db, &call_id, &placed.provider_call_id).await {
                tracing::warn!(call = %call_id, error = %e, "cannot store the provider's id of the call");
            }
            tracing::info!(user_id = %owner.id(), phone_id = %number.id, call = %call_id, provider = %number.provider, "outbound call placed");
            Ok(Placed { call_id, provider_call_id: placed.provider_call_id })
        }
        Err(error) => {
            let discarded = discard_busy && matches!(error, DialError::RateLimited { .. });
            let written = if discarded {
                crate::db::outbound::discard(&state.db, &call_id).await
            } else {
                crate::db::outbound::fail(&state.db, &call_id, &reason(number.provider, &error), &state.clock.now_rfc3339()).await
            };
            if let Err(e) = written {
                tracing::error!(call = %call_id, error = %e, "cannot record the refused call");
            } else if !discarded {
                crate::notify::call_ended(state, &call_id);
            }
            if discarded {
                tracing::debug!(user_id = %owner.id(), phone_id = %number.id, error = %error, "dial refused for now; tried again later");
            } else {
                tracing::warn!(user_id = %owner.id(), phone_id = %number.id, call = %call_id, error = %error, "outbound call refused");
            }
            Err(PlaceError::Provider { call_id, provider: number.provider, error, discarded })
        }
    }
}

/// Renders the agent's greeting (with the call's variables) while the callee's phone rings.
fn warm_greeting(state: &AppState, owner: &Owner, agent: &domain::agent::AgentView, variables: &BTreeMap<String, String>) {
    let (state, owner, agent) = (state.clone(), owner.clone(), agent.clone());
    let settings = with_variables(agent.settings.clone(), variables);
    tokio::spawn(async move {
        let key = crate::agents::api_key(&state, &owner, &agent).await;
        state.voice.warm_greeting(&settings, key, Some(owner.id())).await;
    });
}

/// The agent's settings with `{{name}}` filled in from the call's variables: the greeting, the
/// instructions, every scripted reply, the goodbye and the voicemail message.
pub fn with_variables(mut a: domain::agent::AgentInput, variables: &BTreeMap<String, String>) -> domain::agent::AgentInput {
    use domain::outbound::fill;
    if variables.is_empty() {
        return a;
    }
    a.greeting = fill(&a.greeting, variables);
    a.system_prompt = fill(&a.system_prompt, variables);
    a.default_reply = fill(&a.default_reply, variables);
    a.goodbye = fill(&a.goodbye, variables);
    a.voicemail_message = fill(&a.voicemail_message, variables);
    for rule in &mut a.rules {
        rule.reply = fill(&rule.reply, variables);
    }
    a
}

/// The number's provider credentials for its Calls API, opened; `None` when incomplete. Those of
/// the ownership check serve, but Vonage's Voice API takes the application's private key.
pub(crate) async fn credentials(state: &AppState, owner: &Owner, r: &NumberRow) -> Result<Option<DialCredentials>, DomainError> {
    use crate::numbers::verify::Ask;
    let Some(ask) = crate::numbers::verify::stored_ask(state, owner, r).await? else { return Ok(None) };
    Ok(match ask {
        Ask::Exotel { domain, sid, api_key, api_token } => Some(DialCredentials::Exotel { domain, sid, api_key, api_token }),
        Ask::Twilio { account_sid, auth_token } => Some(DialCredentials::Twilio { account_sid, auth_token }),
        Ask::Plivo { auth_id, auth_token } => Some(DialCredentials::Plivo { auth_id, auth_token }),
        Ask::Vonage { application_id, .. } => {
            let sealed = sealed_credentials(&state.db, owner, &r.id).await?.and_then(|s| s.vonage_private_key_sealed);
            let key = sealed.and_then(|s| state.secret_key().open(crate::numbers::VONAGE_PRIVATE_KEY_CONTEXT, &s).ok());
            key.map(|private_key| DialCredentials::Vonage { application_id, private_key })
        }
    })
}

/// The agent that talks on `call`: the one an outbound call was dialed with, else the number's.
pub async fn agent_for(
    state: &AppState,
    v: &crate::telephony::calls::Verified,
    call: &crate::db::calls::CallRow,
) -> Option<domain::agent::AgentView> {
    let chosen = call.agent_id.as_deref().filter(|_| call.direction.as_deref() == Some("outbound"));
    match chosen {
        Some(id) if v.agent.as_ref().map(|a| a.id.as_str()) != Some(id) => match crate::agents::for_call(state, &v.owner, Some(id)).await {
            Ok(Some(agent)) => Some(agent),
            Ok(None) => v.agent.clone(),
            Err(e) => {
                tracing::warn!(call = %call.id, error = %e, "cannot read the outbound call's agent; using the number's");
                v.agent.clone()
            }
        },
        _ => v.agent.clone(),
    }
}

/// An outbound call's variables (none for inbound calls).
pub fn variables_of(call: &crate::db::calls::CallRow) -> BTreeMap<String, String> {
    call.variables_json.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

/// An outbound call's answer when the provider says a machine took it (Twilio's `AnsweredBy`
/// on the answer webhook): its outcome stored, then TwiML that hangs up, or that leaves the
/// agent's voicemail message (after the beep: the dial asked Twilio to wait for it) and hangs
/// up. `None` for a person, an inbound call, or no verdict.
pub async fn on_machine(
    state: &AppState,
    v: &crate::telephony::calls::Verified,
    call: &crate::db::calls::CallRow,
    params: &crate::telephony::params::CallParams,
) -> Result<Option<String>, crate::telephony::calls::AnswerError> {
    if call.direction.as_deref() != Some("outbound")
        || crate::telephony::outcome::of(&params.raw) != Some(domain::outbound::CallOutcome::Machine)
    {
        return Ok(None);
    }
    crate::db::outbound::set_outcome(&state.db, &call.id, domain::outbound::CallOutcome::Machine).await?;
    let agent = with_variables(agent_for(state, v, call).await.map(|a| a.settings).unwrap_or_default(), &variables_of(call));
    tracing::info!(call = %call.id, on_machine = %agent.on_machine, "an answering machine took the call");
    Ok(Some(match dial::Machine::of_agent(&agent.on_machine) {
        dial::Machine::LeaveMessage => {
            let message = if agent.voicemail_message.is_empty() { &agent.greeting } else { &agent.voicemail_message };
            crate::telephony::twilio::answer::say_and_hang_up(message, &agent.language)
        }
        _ => crate::telephony::twilio::answer::hang_up(),
    }))
}

/// How the stream of `call` is screened for an answering machine, with the agent's policy and
/// message: outbound calls of providers that do not detect one themselves (Exotel's protocol),
/// and those of Vonage and Plivo that leave a message (their detection reports a machine while
/// the stream already runs, so Voxgate itself waits for the beep). Twilio waits for the beep
/// before it asks (`DetectMessageEnd`): never screened.
pub fn screening(
    provider: Provider,
    call: &crate::db::calls::CallRow,
    agent: &domain::agent::AgentInput,
) -> Option<crate::telephony::session::Screening> {
    let policy = dial::Machine::of_agent(&agent.on_machine);
    let theirs = match provider {
        Provider::Twilio => true,
        Provider::Vonage | Provider::Plivo => policy != dial::Machine::LeaveMessage,
        Provider::Exotel | Provider::Other => false,
    };
    if theirs || call.direction.as_deref() != Some("outbound") {
        return None;
    }
    let message = if agent.voicemail_message.is_empty() { agent.greeting.clone() } else { agent.voicemail_message.clone() };
    Some(crate::telephony::session::Screening { policy, message })
}
