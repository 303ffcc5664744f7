//! The HTTP endpoints Twilio calls: the voice webhook (TwiML), the stream status callback and
//! the Media Stream. Every webhook is checked against `X-Twilio-Signature` before its
//! parameters are read or anything is written; the stream proves itself at `start` with the
//! per-call token the answer gave it.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::call::CallStatus;
use domain::phone_number::Provider;

use super::codec::TwilioCodec;
use super::signature::{self, Signed};
use super::{answer, urls};
use crate::db::phone_numbers::NumberRow;
use crate::http::ApiError;
use crate::state::AppState;
use crate::telephony::calls::{self, AnswerError, Verified};
use crate::telephony::params::{self, CallParams, MAX_INPUT, ParamError};
use crate::telephony::session::{self, StreamContext};
use crate::telephony::token::{self, StreamAuth};
use crate::telephony::xml::not_in_service;

/// Twilio's routes; bodies are capped at 64 KiB.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/telephony/twilio/voice/{id}", get(voice).post(voice))
        .route("/api/telephony/twilio/status/{id}", post(status))
        .route("/api/telephony/twilio/stream/{id}", get(stream))
        .layer(DefaultBodyLimit::max(MAX_INPUT))
}

/// Whether `request` is signed with `number`'s auth token.
fn authentic(state: &AppState, number: &NumberRow, request: &Signed<'_>) -> bool {
    let Some(sealed) = number.twilio_auth_token_sealed.as_deref().filter(|_| number.provider == Provider::Twilio) else {
        return false;
    };
    match state.secret_key().open(crate::numbers::TWILIO_TOKEN_CONTEXT, sealed) {
        Ok(auth_token) => signature::verify(&auth_token, request),
        Err(_) => {
            tracing::error!(phone_id = %number.id, "cannot open the number's sealed auth token");
            false
        }
    }
}

/// A webhook whose signature checked out, and the call it is about (every parameter it carried,
/// query and body, kept). As an extractor, the check runs before the handler does anything.
struct SignedCall {
    id: String,
    verified: Verified,
    params: CallParams,
}

impl FromRequest<AppState> for SignedCall {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let Path(id) = Path::<String>::from_request_parts(&mut parts, state).await.map_err(|_| ApiError::not_found("phone number"))?;
        let (uri, headers) = (parts.uri.clone(), parts.headers.clone());
        // Read under the router's body limit (413 past it).
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| ApiError::new(e.status(), "body", e.body_text()))?;
        let (verified, params) = signed(state, &id, &uri, &headers, &body).await?;
        Ok(Self { id, verified, params })
    }
}

/// Checks the request's signature against the number's auth token, then reads its call.
async fn signed(state: &AppState, id: &str, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Result<(Verified, CallParams), AnswerError> {
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    if path_and_query.len() > MAX_INPUT {
        return Err(ParamError::MalformedBody("query (too long)").into());
    }
    // The URL Twilio called is our public URL (what the number is configured with) and the
    // path and query as received.
    let url = state.settings.public_link(path_and_query);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let is_json = content_type.is_some_and(|c| c.contains("json"));
    let form: Vec<(String, String)> = if is_json { Vec::new() } else { form_urlencoded::parse(body).into_owned().collect() };
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let request = Signed { url: &url, form: &form, body, header };
    let verified = calls::verify(state, id, |number| authentic(state, number, &request)).await.map_err(|e| match e {
        AnswerError::BadKey => AnswerError::BadSignature,
        other => other,
    })?;
    let raw = params::collect(uri.query().unwrap_or_default(), content_type, body)?;
    // A signed request for another account (a subaccount's number moved, say) is not this number's.
    if raw.get("AccountSid").is_some_and(|a| Some(a) != verified.number.twilio_account_sid.as_ref()) {
        tracing::warn!(phone_id = %id, "signed request names another Twilio account");
        return Err(AnswerError::BadSignature);
    }
    Ok((verified, CallParams::from_raw(raw)?))
}

/// "A call comes in": records the call and answers TwiML that connects it to our stream (or,
/// for an inactive number, says so and hangs up).
#[tracing::instrument(skip_all, fields(phone_id = %call.id))]
async fn voice(State(state): State<AppState>, call: SignedCall) -> Result<Response, ApiError> {
    let SignedCall { id, verified, params } = call;
    calls::record(&state, Provider::Twilio, &verified, &params).await?;
    let language = verified.language();
    let xml = if verified.active() {
        let origin = state.settings.public_link("");
        let stream_token =
            token::issue(&verified.number.url_secret, Provider::Twilio, &id, &params.call_sid, state.clock.now().timestamp());
        let agent_id = verified.agent.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
        // The stream speaks the greeting (cached audio, within ~200 ms of `start`).
        answer::stream(
            &urls::urls(&origin, &id).websocket,
            &urls::status(&origin, &id),
            &[("agent_id", agent_id), (token::PARAMETER, &stream_token)],
        )
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
    let verified = calls::verify(&state, &id, |n| n.provider == Provider::Twilio).await.map_err(|e| match e {
        AnswerError::BadKey => AnswerError::NotFound,
        other => other,
    })?;
    if !verified.active() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "inactive", "this number is not in service"));
    }
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
