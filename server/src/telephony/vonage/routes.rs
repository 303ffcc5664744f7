//! The HTTP endpoints Vonage calls: the answer URL (an NCCO), the event URL and the WebSocket.
//! Every webhook's JWT (signed with the account's signature secret) is checked before its
//! parameters are read or anything is written; the stream proves itself in its first message
//! with the per-call token the NCCO gave it.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::call::CallStatus;
use domain::phone_number::{Provider, VONAGE_SAMPLE_RATES};

use super::codec::VonageCodec;
use super::signature::{self, Expect};
use super::{ncco, urls};
use crate::db::phone_numbers::NumberRow;
use crate::http::ApiError;
use crate::numbers::VONAGE_SIGNATURE_CONTEXT;
use crate::state::AppState;
use crate::telephony::calls::{self, AnswerError, Verified};
use crate::telephony::dial::DIAL_PARAMETER;
use crate::telephony::params::MAX_INPUT;
use crate::telephony::session::{self, StreamContext};
use crate::telephony::signed::{self, Webhook, WebhookCheck};
use crate::telephony::token::{self, StreamAuth};
use crate::telephony::xml::not_in_service;

/// Vonage's routes; bodies are capped at 64 KiB.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/telephony/vonage/answer/{id}", get(answer).post(answer))
        .route("/api/telephony/vonage/event/{id}", get(event).post(event))
        .route("/api/telephony/vonage/stream/{id}", get(stream))
        .route("/api/telephony/vonage/whisper/{id}", get(whisper).post(whisper))
        .layer(DefaultBodyLimit::max(MAX_INPUT))
}

/// The stream's rate for `number` (16 kHz unless the number says 8).
fn rate(number: &NumberRow) -> u32 {
    number.vonage_sample_rate.filter(|r| VONAGE_SAMPLE_RATES.contains(r)).unwrap_or(VONAGE_SAMPLE_RATES[0])
}

/// Vonage's check: the webhook's JWT, signed with the number's signature secret, for its API
/// key and application, over this body, issued within the last five minutes.
pub struct VonageCheck;

impl WebhookCheck for VonageCheck {
    const PROVIDER: Provider = Provider::Vonage;
    const KEY_CONTEXT: &'static str = VONAGE_SIGNATURE_CONTEXT;

    fn sealed_key(number: &NumberRow) -> Option<&str> {
        number.vonage_signature_secret_sealed.as_deref()
    }

    fn authentic(state: &AppState, number: &NumberRow, secret: &str, w: &Webhook) -> bool {
        let expect =
            Expect { api_key: number.vonage_api_key.clone().unwrap_or_default(), application_id: number.vonage_application_id.clone() };
        match signature::verify(secret, w.header(header::AUTHORIZATION.as_str()), &w.body, &expect, state.clock.now().timestamp()) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(phone_id = %number.id, error = %e, "Vonage webhook refused");
                false
            }
        }
    }

    fn adjust(_verified: &Verified, raw: &mut BTreeMap<String, String>) -> Result<(), AnswerError> {
        // The WebSocket leg's own events name the call it belongs to in the headers we gave it.
        let call_of_leg = raw
            .get("headers")
            .and_then(|h| serde_json::from_str::<serde_json::Value>(h).ok())
            .and_then(|h| h.get("call_uuid").and_then(|c| c.as_str()).map(str::to_string));
        if let Some(call) = call_of_leg {
            raw.insert("CallSid".into(), call);
        } else if let Some(call) = raw.get("call_uuid").cloned() {
            // Machine-detection events carry `call_uuid`, not `uuid`.
            raw.entry("CallSid".into()).or_insert(call);
        }
        Ok(())
    }
}

type SignedCall = signed::SignedCall<VonageCheck>;

/// A warm transfer's whisper (the phone endpoint's `onAnswer`): an NCCO that says the summary
/// to the person before they are connected; an empty NCCO for a call without one.
async fn whisper(State(state): State<AppState>, call: SignedCall) -> Response {
    let summary = crate::telephony::transfer::whisper(&state, &call.verified.number.id, &call.params).await;
    let ncco = summary.map(|s| super::transfer::whisper(&s)).unwrap_or_else(|| serde_json::json!([]));
    axum::Json(ncco).into_response()
}

/// The answer URL: records the call and answers an NCCO that connects it to our WebSocket
/// (or, for an inactive number, says so).
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn answer(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { id, verified, params, .. } = call;
    calls::answer(&state, Provider::Vonage, &verified, &params).await?;
    let language = verified.language();
    let body = if verified.active() {
        let origin = state.settings.public_link("");
        let u = urls::urls(&origin, &id);
        let stream_token =
            token::issue(&verified.number.url_secret, Provider::Vonage, &id, &params.call_sid, state.clock.now().timestamp());
        let agent_id = verified.agent.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
        let digits: String = verified.number.phone_number.chars().filter(char::is_ascii_digit).collect();
        let mut headers = vec![("call_uuid", params.call_sid.as_str()), ("agent_id", agent_id), (token::PARAMETER, stream_token.as_str())];
        let mut events = u.events.clone();
        // An outbound call's id rides with its stream and with the stream leg's events.
        if let Some(dial) = params.dial_id() {
            headers.push((DIAL_PARAMETER, dial));
            events = crate::telephony::dial::with_param(&events, DIAL_PARAMETER, dial);
        }
        ncco::connect(&u.websocket, rate(&verified.number), &events, Some(&digits), &headers)
    } else {
        ncco::talk_and_end(not_in_service(language), language)
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response())
}

/// What an event says about the call's end (VONAGE.md §4). `disconnected` is our own socket
/// closing, which the stream has recorded already.
fn ending(status: Option<&str>) -> Option<CallStatus> {
    match status? {
        "completed" => Some(CallStatus::Completed),
        "busy" | "cancelled" | "unanswered" | "rejected" | "failed" | "timeout" => Some(CallStatus::Failed),
        _ => None,
    }
}

/// The event URL: every event is kept on its call, and an end or a failure recorded.
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn event(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { verified, params, .. } = call;
    let status = params.call_status.clone();
    calls::progress(&state, Provider::Vonage, &verified, &params, ending(status.as_deref()), status.as_deref().unwrap_or("unknown"))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The WebSocket. The number must be a Vonage number in service; the stream proves itself in
/// its first message (its token), so one without a valid token is closed with 1008 and writes
/// nothing.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    upgrade: axum::extract::WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let verified = signed::stream_number(&state, &id, Provider::Vonage).await?;
    let rate = rate(&verified.number);
    let auth = StreamAuth {
        provider: Provider::Vonage,
        secret: verified.number.url_secret.clone(),
        phone_id: id,
        now: state.clock.now().timestamp(),
    };
    let ctx = StreamContext { verified, session: None };
    // 20 ms of 16-bit audio is 640 bytes; control messages are small: a 64 KiB cap on a message.
    let upgrade = session::sized(upgrade, 64 * 1024);
    Ok(upgrade.on_upgrade(move |socket| session::run(state, ctx, VonageCodec::new(auth, rate), socket)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_end_the_call_as_vonage_says() {
        assert_eq!(ending(Some("completed")), Some(CallStatus::Completed));
        for failed in ["busy", "cancelled", "unanswered", "rejected", "failed", "timeout"] {
            assert_eq!(ending(Some(failed)), Some(CallStatus::Failed), "{failed}");
        }
        for other in ["started", "ringing", "answered", "disconnected", "human", "machine"] {
            assert_eq!(ending(Some(other)), None, "{other}");
        }
        assert_eq!(ending(None), None);
    }
}
