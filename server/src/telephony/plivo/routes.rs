//! The HTTP endpoints Plivo calls: the answer URL (Plivo XML), the hangup URL, the stream's
//! status callback and the Audio Stream. Every webhook is checked against
//! `X-Plivo-Signature-V3` before its parameters are read or anything is written; the stream
//! proves itself at `start` with the per-call token its URL carries.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::call::CallStatus;
use domain::phone_number::{PLIVO_CONTENT_TYPES, Provider};

use super::codec::PlivoCodec;
use super::media::AudioFormat;
use super::{answer, signature, urls};
use crate::db::phone_numbers::NumberRow;
use crate::http::ApiError;
use crate::numbers::PLIVO_TOKEN_CONTEXT;
use crate::state::AppState;
use crate::telephony::calls;
use crate::telephony::dial::DIAL_PARAMETER;
use crate::telephony::params::MAX_INPUT;
use crate::telephony::session::{self, StreamContext};
use crate::telephony::signed::{self, Webhook, WebhookCheck};
use crate::telephony::token::{self, StreamAuth};
use crate::telephony::xml::not_in_service;

/// Plivo's routes; bodies are capped at 64 KiB.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/telephony/plivo/answer/{id}", get(answer_call).post(answer_call))
        .route("/api/telephony/plivo/hangup/{id}", get(hangup).post(hangup))
        .route("/api/telephony/plivo/status/{id}", get(status).post(status))
        .route("/api/telephony/plivo/stream/{id}", get(stream))
        .route("/api/telephony/plivo/transfer/{id}", get(transfer).post(transfer))
        .route("/api/telephony/plivo/whisper/{id}", get(whisper).post(whisper))
        .layer(DefaultBodyLimit::max(MAX_INPUT))
}

/// The number's stream format (μ-law at 8 kHz unless it says otherwise).
fn format(number: &NumberRow) -> AudioFormat {
    number
        .plivo_content_type
        .as_deref()
        .and_then(AudioFormat::parse)
        .or_else(|| AudioFormat::parse(PLIVO_CONTENT_TYPES[0]))
        .unwrap_or(AudioFormat::Mulaw8000)
}

/// Plivo's check: `X-Plivo-Signature-V3` with the number's auth token and the request's nonce,
/// over the URL it called and every parameter it sent.
pub struct PlivoCheck;

impl WebhookCheck for PlivoCheck {
    const PROVIDER: Provider = Provider::Plivo;
    const KEY_CONTEXT: &'static str = PLIVO_TOKEN_CONTEXT;

    fn sealed_key(number: &NumberRow) -> Option<&str> {
        number.plivo_auth_token_sealed.as_deref()
    }

    fn authentic(state: &AppState, _number: &NumberRow, auth_token: &str, w: &Webhook) -> bool {
        let form = if w.method == Method::POST { w.form() } else { Vec::new() };
        let url = w.public_url(state);
        signature::verify(auth_token, w.method.as_str(), &url, &form, w.header(signature::NONCE), w.header(signature::HEADER))
    }
}

type SignedCall = signed::SignedCall<PlivoCheck>;

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// The transfer's `aleg_url`: XML that dials the person the agent handed the call to (with the
/// whisper as its `confirmSound` on a warm transfer); a hang-up for a call without a transfer.
async fn transfer(State(state): State<AppState>, call: SignedCall) -> Response {
    let key = call.params.raw.get("call").cloned().unwrap_or_default();
    let phone_id = &call.verified.number.id;
    match crate::telephony::transfer::requested(&state, phone_id, &key).await {
        Some(t) => {
            let whisper =
                t.summary.is_some().then(|| state.settings.public_link(&format!("/api/telephony/plivo/whisper/{phone_id}?call={key}")));
            xml(super::transfer::dial(&t.phone_number, &t.to, whisper.as_deref()))
        }
        None => xml(answer::hang_up()),
    }
}

/// A warm transfer's whisper (`confirmSound`): the summary the person hears when they answer.
async fn whisper(State(state): State<AppState>, call: SignedCall) -> Response {
    let summary = crate::telephony::transfer::whisper(&state, &call.verified.number.id, &call.params).await;
    xml(summary.map(|s| super::transfer::whisper(&s)).unwrap_or_else(|| crate::telephony::xml::Response::new().finish()))
}

/// The answer URL: records the call and answers Plivo XML whose bidirectional `<Stream>`
/// connects it to our WebSocket (or, for an inactive number, says so and hangs up).
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn answer_call(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { id, verified, params, .. } = call;
    calls::answer(&state, Provider::Plivo, &verified, &params).await?;
    let language = verified.language();
    let xml = if verified.active() {
        let origin = state.settings.public_link("");
        let stream_token = token::issue(&verified.number.url_secret, Provider::Plivo, &id, &params.call_sid, state.clock.now().timestamp());
        // Plivo keeps the stream URL's query: the token travels there.
        let mut ws = format!("{}?{}={stream_token}", urls::urls(&origin, &id).websocket, token::PARAMETER);
        if let Some(dial) = params.dial_id() {
            ws = crate::telephony::dial::with_param(&ws, DIAL_PARAMETER, dial);
        }
        answer::stream(&ws, format(&verified.number).content_type(), &urls::status(&origin, &id))
    } else {
        answer::speak_and_hang_up(not_in_service(language), language)
    };
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

/// What the hangup URL or a stream status says about the call's end (PLIVO.md §1, §4).
fn ending(call_status: Option<&str>, stream_event: Option<&str>) -> Option<CallStatus> {
    match (stream_event, call_status) {
        (Some("DroppedStream"), _) => Some(CallStatus::Failed),
        (Some(_), _) => None,
        (None, Some("completed")) => Some(CallStatus::Completed),
        (None, Some("busy" | "failed" | "timeout" | "no-answer" | "cancel")) => Some(CallStatus::Failed),
        _ => None,
    }
}

/// The hangup URL: the call's end (with Plivo's `HangupCause`) kept on the call.
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn hangup(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { verified, params, .. } = call;
    let end = ending(params.call_status.as_deref().or(Some("completed")), None);
    let why = params.raw.get("HangupCause").or(params.call_status.as_ref()).map_or("unknown", String::as_str);
    calls::progress(&state, Provider::Plivo, &verified, &params, end, why).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The stream's status callback (`StartStream`, `StopStream`, `DroppedStream`,
/// `DegradedStream`): kept on the call; a dropped stream fails it.
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn status(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { verified, params, .. } = call;
    let event = params.raw.get("Event").map(String::as_str);
    let end = ending(params.call_status.as_deref(), Some(event.unwrap_or("unknown")));
    let why = params.raw.get("Error").map_or("stream dropped", String::as_str);
    calls::progress(&state, Provider::Plivo, &verified, &params, end, why).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The Audio Stream. The number must be a Plivo number in service; the stream proves itself at
/// `start` (the token in its URL, for the call `start` names), so a stream without a valid one
/// is closed with 1008 and writes nothing.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
    upgrade: axum::extract::WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let verified = signed::stream_number(&state, &id, Provider::Plivo).await?;
    let presented = query.get(token::PARAMETER).cloned();
    let auth = StreamAuth {
        provider: Provider::Plivo,
        secret: verified.number.url_secret.clone(),
        phone_id: id,
        now: state.clock.now().timestamp(),
    };
    let codec = PlivoCodec::new(auth, presented, format(&verified.number), verified.number.plivo_auth_id.clone());
    // An outbound call's stream names the row made when it was dialed.
    let session = query.get(DIAL_PARAMETER).filter(|d| crate::telephony::params::id_ok(d)).cloned();
    let ctx = StreamContext { verified, session };
    // Plivo's messages are 20 ms of audio in base64 JSON (under 2 KB): a 64 KiB cap on a message.
    let upgrade = session::sized(upgrade, 64 * 1024);
    Ok(upgrade.on_upgrade(move |socket| session::run(state, ctx, codec, socket)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangups_and_stream_events_end_the_call_as_plivo_says() {
        assert_eq!(ending(Some("completed"), None), Some(CallStatus::Completed));
        for failed in ["busy", "failed", "timeout", "no-answer"] {
            assert_eq!(ending(Some(failed), None), Some(CallStatus::Failed), "{failed}");
        }
        assert_eq!(ending(Some("in-progress"), None), None);
        assert_eq!(ending(None, Some("DroppedStream")), Some(CallStatus::Failed));
        for kept in ["StartStream", "StopStream", "DegradedStream"] {
            assert_eq!(ending(Some("completed"), Some(kept)), None, "{kept}");
        }
    }
}
