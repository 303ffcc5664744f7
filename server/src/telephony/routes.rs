//! The HTTP endpoints Exotel calls: the answer webhook and the Voicebot applet's dynamic URL.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::calls::{self, AnswerError};
use super::exotel::params::{self, CallParams, MAX_INPUT, ParamError};
use crate::http::ApiError;
use crate::state::AppState;

/// Telephony routes; bodies are capped at 64 KiB.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/telephony/webhook/{id}", get(webhook).post(webhook))
        .route("/api/telephony/ws/{id}", get(stream))
        .route("/api/telephony/exotel/voicebot/{id}", get(voicebot).post(voicebot))
        .route("/api/telephony/exotel/greeting/{id}", get(greeting))
        .route("/api/telephony/exotel/passthru/{id}", get(passthru).post(passthru))
        .layer(DefaultBodyLimit::max(MAX_INPUT))
}

impl From<AnswerError> for ApiError {
    fn from(e: AnswerError) -> Self {
        match e {
            AnswerError::NotFound => ApiError::not_found("phone number"),
            AnswerError::BadKey => ApiError::new(StatusCode::UNAUTHORIZED, "bad_key", "the URL's key does not match this number"),
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

/// The number's URL secret, read from the query string alone (so a bad body is still a 400
/// for a caller who knows the key, and a 401 for one who does not).
fn key_of(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).find(|(k, _)| k == "key").map(|(_, v)| v.into_owned())
}

/// Every provider parameter of the request, without our `key`.
fn read(query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Result<std::collections::BTreeMap<String, String>, AnswerError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_INPUT {
        return Err(ParamError::MalformedBody("query (too long)").into());
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mut raw = params::collect(query, content_type, body)?;
    raw.remove("key");
    Ok(raw)
}

/// A provider request whose number and key checked out, with its call parameters.
async fn incoming(
    state: &AppState,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(calls::Verified, CallParams), ApiError> {
    let verified = calls::verify(state, id, key_of(query).as_deref()).await?;
    let params = CallParams::from_raw(read(query, headers, body)?).map_err(AnswerError::from)?;
    Ok((verified, params))
}

/// `POST` (and `GET` with a `CallSid`) answers a call with XML; `GET` without one verifies the URL.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn webhook(
    State(state): State<AppState>,
    method: Method,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let verified = calls::verify(&state, &id, key_of(query.as_deref()).as_deref()).await?;
    let raw = read(query.as_deref(), &headers, &body)?;
    if method == Method::GET && !raw.contains_key("CallSid") {
        let ws = crate::numbers::urls(&state, &verified.number.id, "").websocket.replace("?key=&", "?");
        return Ok(Json(json!({
            "found": true,
            "active": verified.number.status == "active",
            "phoneNumber": verified.number.phone_number,
            "status": verified.number.status,
            "agent": verified.agent.as_ref().map(|a| json!({ "id": a.id, "name": a.settings.name, "language": a.settings.language })),
            "websocketUrl": ws,
        }))
        .into_response());
    }
    let params = CallParams::from_raw(raw).map_err(AnswerError::from)?;
    let answered = calls::answer(&state, &verified, &params).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], answered.xml).into_response())
}

/// The Voicebot applet's dynamic URL: records the call and answers `{"url": "wss://…"}`.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn voicebot(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (verified, params) = incoming(&state, &id, query.as_deref(), &headers, &body).await?;
    let answered = calls::answer(&state, &verified, &params).await?;
    if !answered.active {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "inactive", "this number is not in service"));
    }
    Ok(Json(json!({ "url": answered.stream_url })).into_response())
}

/// The Greeting applet's "text from URL": the agent's greeting as `text/plain` (HEAD answers
/// the same headers, which axum derives from this GET handler).
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn greeting(State(state): State<AppState>, Path(id): Path<String>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let verified = calls::verify(&state, &id, key_of(query.as_deref()).as_deref()).await?;
    let text = match (&verified.agent, verified.number.status.as_str()) {
        (Some(a), "active") => a.settings.greeting.clone(),
        (a, _) => super::exotel::answer::not_in_service(a.as_ref().map(|a| a.settings.language.as_str()).unwrap_or("en")).to_string(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain")], text).into_response())
}

/// Passthru after the Voicebot applet: Exotel reports the stream's outcome; we keep every
/// parameter on the call and answer 200 (the flow's first branch).
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn passthru(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (verified, params) = incoming(&state, &id, query.as_deref(), &headers, &body).await?;
    calls::record_passthru(&state, &verified, &params).await?;
    Ok(StatusCode::OK.into_response())
}

/// Exotel's Voicebot WebSocket. The key and `sample-rate` (8000 when absent, 16000, 24000) are
/// checked before the upgrade, so a bad URL gets an HTTP error, not a socket.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    upgrade: axum::extract::WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let verified = calls::verify(&state, &id, key_of(query.as_deref()).as_deref()).await?;
    if verified.number.status != "active" {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "inactive", "this number is not in service"));
    }
    let q: std::collections::BTreeMap<String, String> =
        form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()).into_owned().collect();
    let sample_rate = match q.get("sample-rate").map(|r| r.parse::<u32>()) {
        None => 8000,
        Some(Ok(r)) if super::exotel::stream::RATES.contains(&r) => r,
        Some(_) => return Err(ApiError::invalid("sample-rate", "use 8000, 16000 or 24000")),
    };
    let ctx = super::session::StreamContext { verified, sample_rate, session: q.get("session").cloned() };
    // Exotel's frames are ~100 ms of audio (≤ 7 KB of JSON at 24 kHz): small socket buffers
    // (the defaults are 128 KiB each way) keep a call's memory low, and a 512 KiB cap on a
    // message keeps a misbehaving peer from making us buffer megabytes.
    let upgrade = upgrade.read_buffer_size(16 * 1024).write_buffer_size(8 * 1024).max_message_size(512 * 1024).max_frame_size(512 * 1024);
    Ok(upgrade.on_upgrade(move |socket| super::session::run(state, ctx, socket)).into_response())
}
