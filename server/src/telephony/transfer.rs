//! Handing a caller to a person, for any provider: the agent has said its line (the
//! conversation ended with a transfer), the call row records where it goes, and the
//! provider is asked to connect the caller there:
//!
//! - Twilio, Vonage, Plivo: their call-update APIs replace the stream with a dial (each
//!   provider's request is its `transfer.rs`); a warm transfer lets the person hear a one-line
//!   summary first (Twilio's `<Number url>`, Vonage's `onAnswer`, Plivo's `confirmSound`), served
//!   by our whisper routes.
//! - Exotel: the stream closes and the flow goes on: its Passthru applet (our passthru URL)
//!   answers 302 for a call with a transfer, and the Connect applet's dynamic URL (ours) answers
//!   the destination (EXOTEL.md §1.2, §2.5).

use domain::phone_number::Provider;

use super::calls::Verified;
use super::dial::{DialCredentials, DialError};
use super::{plivo, twilio, vonage};
use crate::db::calls::CallRow;
use crate::state::AppState;

/// Where a call's transfers go, and whether the person hears a summary first.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    pub to: String,
    pub warm: bool,
    /// Our key of the call, and the provider's id of the caller's leg.
    pub call_key: String,
    pub provider_call_id: String,
}

impl Handover {
    /// How a call through `provider` is handed over, to the agent's destination (`to` empty when
    /// it has none: only a route's person can then be reached); none when the call cannot be
    /// handed over at all (an Exotel API call runs no flow).
    pub fn of(agent: &domain::agent::AgentInput, provider: Provider, call: &CallRow) -> Option<Self> {
        let exotel_api_call = matches!(provider, Provider::Exotel | Provider::Other) && call.direction.as_deref() == Some("outbound");
        (!exotel_api_call).then(|| Self {
            to: agent.transfer_to.clone(),
            warm: agent.warm_transfer,
            call_key: call.id.clone(),
            provider_call_id: call.provider_call_id.clone().unwrap_or_else(|| call.session_id.clone()),
        })
    }
}

/// The request a provider's call-update API takes to hand a call over.
pub struct Request<'a> {
    /// The provider's id of the caller's leg.
    pub call_id: &'a str,
    /// Our number (the caller id the person sees).
    pub from: &'a str,
    pub to: &'a str,
    /// Where the provider fetches what the person hears first (warm transfers).
    pub whisper_url: Option<String>,
    /// Where Plivo fetches the XML that dials (its transfer takes a URL, not XML).
    pub dial_url: String,
}

/// Records the transfer on the call and asks the provider to make it. The call's outcome is
/// `transferred`; a provider's refusal is stored as the transfer's state and returned.
pub async fn hand_over(state: &AppState, v: &Verified, h: &Handover, summary: &str) -> Result<(), String> {
    let key = &h.call_key;
    let summary = h.warm.then_some(summary);
    if let Err(e) = crate::db::transfers::set(&state.db, key, &h.to, summary, "requested").await {
        tracing::error!(call = %key, error = %e, "cannot store the transfer");
        return Err("cannot store the transfer".into());
    }
    // The user's "transfer requested" alert, if they chose it.
    if let Err(e) = crate::notify::transfer_requested(state, &v.owner, key, &h.to).await {
        tracing::warn!(call = %key, error = %e, "cannot queue the transfer alert");
    }
    let provider = v.number.provider;
    let asked = match provider {
        // The flow's Passthru and Connect applets take it from here.
        Provider::Exotel | Provider::Other => Ok(()),
        _ => ask(state, v, h).await.map_err(|e| e.to_string()),
    };
    // Already stored as requested; only a refusal changes the state.
    if let Err(why) = &asked
        && let Err(e) = crate::db::transfers::set(&state.db, key, &h.to, summary, &format!("failed: {why}")).await
    {
        tracing::error!(call = %key, error = %e, "cannot store the transfer's state");
    }
    match &asked {
        Ok(()) => tracing::info!(call = %key, phone_id = %v.number.id, warm = h.warm, "call handed to a person"),
        Err(e) => tracing::warn!(call = %key, phone_id = %v.number.id, error = %e, "the provider refused the transfer"),
    }
    asked
}

async fn ask(state: &AppState, v: &Verified, h: &Handover) -> Result<(), DialError> {
    let creds = crate::calls::outbound::credentials(state, &v.owner, &v.number)
        .await
        .map_err(|e| DialError::Unreachable(e.to_string()))?
        .ok_or(DialError::Credentials)?;
    let link = |path: &str| state.settings.public_link(&format!("{path}/{}?call={}", v.number.id, h.call_key));
    let req = Request {
        call_id: &h.provider_call_id,
        from: &v.number.phone_number,
        to: &h.to,
        whisper_url: h.warm.then(|| match v.number.provider {
            Provider::Twilio => link("/api/telephony/twilio/whisper"),
            Provider::Vonage => link("/api/telephony/vonage/whisper"),
            _ => link("/api/telephony/plivo/whisper"),
        }),
        dial_url: link("/api/telephony/plivo/transfer"),
    };
    let (client, apis) = (&state.provider_api, &state.settings.provider_apis);
    match &creds {
        DialCredentials::Twilio { account_sid, auth_token } => {
            twilio::transfer::ask(client, &apis.twilio, &twilio::account::Credentials { account_sid, auth_token }, &req).await
        }
        DialCredentials::Vonage { application_id, private_key } => {
            vonage::transfer::ask(client, &apis.vonage_voice(), application_id, private_key, &req).await
        }
        DialCredentials::Plivo { auth_id, auth_token } => {
            plivo::transfer::ask(client, &apis.plivo, &plivo::account::Credentials { auth_id, auth_token }, &req).await
        }
        DialCredentials::Exotel { .. } => Ok(()),
    }
}

/// The summary a warm transfer's person hears, for a signed whisper request of number
/// `phone_id` naming its call in `call`; none for a cold transfer or another number's call.
pub async fn whisper(state: &AppState, phone_id: &str, params: &super::params::CallParams) -> Option<String> {
    let key = params.raw.get("call")?;
    requested(state, phone_id, key).await.and_then(|t| t.summary)
}

/// The call of number `phone_id` a whisper or dial request names, with its transfer; none when
/// the call is another number's or has no transfer (a signed request cannot read other calls).
pub async fn requested(state: &AppState, phone_id: &str, call_key: &str) -> Option<crate::db::transfers::TransferRow> {
    match crate::db::transfers::of(&state.db, call_key).await {
        Ok(Some(t)) if t.phone_id == phone_id => Some(t),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(call = %call_key, error = %e, "cannot read the call's transfer");
            None
        }
    }
}
