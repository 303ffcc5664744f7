//! The HTTP endpoints Twilio calls: the voice webhook (TwiML), the stream status callback and
//! the Media Stream. Every webhook is checked against `X-Twilio-Signature` before its
//! parameters are read or anything is written; the stream proves itself at `start` with the
//! per-call token the answer gave it.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::call::CallStatus;
use domain::phone_number::Provider;

use super::codec::TwilioCodec;
use super::signature::{self, Signed};
use super::{answer, urls};
use crate::db::phone_numbers::NumberRow;
use crate::http::ApiError;
use crate::numbers::TWILIO_TOKEN_CONTEXT;
use crate::state::AppState;
use crate::telephony::calls::{self, AnswerError, Verified};
use crate::telephony::dial::DIAL_PARAMETER;
use crate::telephony::params::MAX_INPUT;
use crate::telephony::session::{self, StreamContext};
use crate::telephony::signed::{self, Webhook, WebhookCheck};
use crate::telephony::token::{self, StreamAuth};
use crate::telephony::xml::not_in_service;

/// Twilio's routes; bodies are capped at 64 KiB.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/telephony/twilio/voice/{id}", get(voice).post(voice))
        .route("/api/telephony/twilio/status/{id}", post(status))
        .route("/api/telephony/twilio/stream/{id}", get(stream))
        .route("/api/telephony/twilio/whisper/{id}", post(whisper))
        .layer(DefaultBodyLimit::max(MAX_INPUT))
}

/// Twilio's check: `X-Twilio-Signature` with the number's auth token, over the URL it called and
/// every parameter it sent (or, for a JSON body, its `bodySHA256`).
pub struct TwilioCheck;

impl WebhookCheck for TwilioCheck {
    const PROVIDER: Provider = Provider::Twilio;
    const KEY_CONTEXT: &'static str = TWILIO_TOKEN_CONTEXT;

    fn sealed_key(number: &NumberRow) -> Option<&str> {
        number.twilio_auth_token_sealed.as_deref()
    }

    fn authentic(state: &AppState, _number: &NumberRow, auth_token: &str, w: &Webhook) -> bool {
        let (url, form) = (w.public_url(state), w.form());
        signature::verify(auth_token, &Signed { url: &url, form: &form, body: &w.body, header: w.header(signature::HEADER) })
    }

    fn adjust(verified: &Verified, raw: &mut BTreeMap<String, String>) -> Result<(), AnswerError> {
        // A signed request for another account (a subaccount's number moved, say) is not this number's.
        if raw.get("AccountSid").is_some_and(|a| Some(a) != verified.number.twilio_account_sid.as_ref()) {
            tracing::warn!(phone_id = %verified.number.id, "signed request names another Twilio account");
            return Err(AnswerError::BadSignature);
        }
        Ok(())
    }
}

type SignedCall = signed::SignedCall<TwilioCheck>;

/// A warm transfer's whisper (`<Number url>`): the summary the person hears before they are
/// connected; an empty answer for a call without one.
async fn whisper(State(state): State<AppState>, call: SignedCall) -> Response {
    let xml = match crate::telephony::transfer::whisper(&state, &call.verified.number.id, &call.params).await {
        Some(s) => super::transfer::whisper(&s),
        None => crate::telephony::xml::Response::new().finish(),
    };
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

/// "A call comes in": records the call and answers TwiML that connects it to our stream (or,
/// for an inactive number, says so and hangs up).
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn voice(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { id, verified, params, .. } = call;
    let recorded = calls::answer(&state, Provider::Twilio, &verified, &params).await?;
    let language = verified.language();
    if let Some(xml) = crate::calls::outbound::on_machine(&state, &verified, &recorded.call, &params).await? {
        return Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response());
    }
    let xml = if verified.active() {
        let origin = state.settings.public_link("");
        let stream_token =
            token::issue(&verified.number.url_secret, Provider::Twilio, &id, &params.call_sid, state.clock.now().timestamp());
        let agent_id = verified.agent.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
        // The stream speaks the greeting (cached audio, within ~200 ms of `start`).
        let mut parameters = vec![("agent_id", agent_id), (token::PARAMETER, stream_token.as_str())];
        // Twilio drops a stream URL's query: an outbound call's id travels as a parameter.
        if let Some(dial) = params.dial_id() {
            parameters.push((DIAL_PARAMETER, dial));
        }
        answer::stream(&urls::urls(&origin, &id).websocket, &urls::status(&origin, &id), &parameters)
    } else {
        answer::say_and_hang_up(not_in_service(language), language)
    };
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response())
}

/// What a status callback says about the call's end: the stream's `StreamEvent`, or a call
/// status callback's `CallStatus` pointed here.
fn ending(raw: &BTreeMap<String, String>) -> Option<CallStatus> {
    match (raw.get("StreamEvent").map(String::as_str), raw.get("CallStatus").map(String::as_str)) {
        (Some("stream-error"), _) => Some(CallStatus::Failed),
        (Some("stream-stopped"), _) | (None, Some("completed")) => Some(CallStatus::Completed),
        (None, Some("busy" | "failed" | "no-answer" | "canceled")) => Some(CallStatus::Failed),
        _ => None,
    }
}

/// The stream's status callback (`stream-started`, `stream-stopped`, `stream-error`): kept on
/// the call, and an end or an error recorded.
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn status(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { verified, params, .. } = call;
    let end = ending(&params.raw);
    let why = params.raw.get("StreamError").or(params.raw.get("CallStatus")).map_or("unknown", String::as_str);
    calls::progress(&state, Provider::Twilio, &verified, &params, end, why).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The Media Stream. The number must be a Twilio number in service; the stream itself is
/// authenticated at `start` (its token), so a stream without one is closed with 1008 and
/// writes nothing.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    upgrade: axum::extract::WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let verified = signed::stream_number(&state, &id, Provider::Twilio).await?;
    let auth = StreamAuth {
        provider: Provider::Twilio,
        secret: verified.number.url_secret.clone(),
        phone_id: id,
        now: state.clock.now().timestamp(),
    };
    let ctx = StreamContext { verified, session: None };
    // Twilio's messages are 20 ms of μ-law (~300 bytes of JSON): a 64 KiB cap on a message.
    let upgrade = session::sized(upgrade, 64 * 1024);
    Ok(upgrade.on_upgrade(move |socket| session::run(state, ctx, TwilioCodec::new(auth), socket)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_callbacks_end_the_call_as_twilio_says() {
        let of = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        assert_eq!(ending(&of(&[("StreamEvent", "stream-started")])), None);
        assert_eq!(ending(&of(&[("StreamEvent", "stream-stopped")])), Some(CallStatus::Completed));
        assert_eq!(ending(&of(&[("StreamEvent", "stream-error"), ("StreamError", "x")])), Some(CallStatus::Failed));
        assert_eq!(ending(&of(&[("CallStatus", "no-answer")])), Some(CallStatus::Failed));
        assert_eq!(ending(&of(&[("CallStatus", "completed")])), Some(CallStatus::Completed));
        assert_eq!(ending(&of(&[("CallStatus", "in-progress")])), None);
    }
}
