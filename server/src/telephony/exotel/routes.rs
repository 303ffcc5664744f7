//! The HTTP endpoints Exotel calls: the answer webhook, the Voicebot applet's dynamic URL and
//! WebSocket, and the Greeting and Passthru applets' URLs.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::call::CallStatus;
use domain::phone_number::Provider;
use serde_json::json;

use super::answer::{self, Answer};
use super::auth::{key_matches, key_of};
use super::codec::ExotelCodec;
use super::stream::RATES;
use super::urls;
use crate::db::{self, DbError};
use crate::http::ApiError;
use crate::state::AppState;
use crate::telephony::calls::{self, AnswerError, Verified};
use crate::telephony::params::{self, CallParams, MAX_INPUT, ParamError};
use crate::telephony::session::{self, StreamContext};

/// Exotel's routes; bodies are capped at 64 KiB.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/telephony/webhook/{id}", get(webhook).post(webhook))
        .route("/api/telephony/ws/{id}", get(stream))
        .route("/api/telephony/exotel/voicebot/{id}", get(voicebot).post(voicebot))
        .route("/api/telephony/exotel/greeting/{id}", get(greeting))
        .route("/api/telephony/exotel/passthru/{id}", get(passthru).post(passthru))
        .route("/api/telephony/exotel/status/{id}", get(status).post(status))
        .route("/api/telephony/exotel/connect/{id}", get(connect).post(connect))
        .layer(DefaultBodyLimit::max(MAX_INPUT))
}

/// The number, if the query's key is its secret.
async fn verify(state: &AppState, id: &str, query: Option<&str>) -> Result<Verified, AnswerError> {
    let key = key_of(query);
    calls::verify(state, id, |number| key_matches(number, key.as_deref())).await
}

/// Every provider parameter of the request, without our `key`.
fn read(query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Result<BTreeMap<String, String>, AnswerError> {
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
) -> Result<(Verified, CallParams), ApiError> {
    let verified = verify(state, id, query).await?;
    let params = CallParams::from_raw(read(query, headers, body)?).map_err(AnswerError::from)?;
    Ok((verified, params))
}

/// The stream URL Exotel is told to open for this call.
fn stream_url_for(state: &AppState, v: &Verified, call_sid: &str) -> String {
    let base = crate::telephony::urls(state, &v.number).websocket;
    urls::stream_url(&base, call_sid, v.agent.as_ref().map(|a| a.id.as_str()))
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
    let verified = verify(&state, &id, query.as_deref()).await?;
    let raw = read(query.as_deref(), &headers, &body)?;
    if method == Method::GET && !raw.contains_key("CallSid") {
        // Built without the secret: this answer is for anyone who has the URL.
        let ws = crate::telephony::urls_for(&state, verified.number.provider, &verified.number.id, "").websocket.replace("?key=&", "?");
        return Ok(Json(json!({
            "found": true,
            "active": verified.active(),
            "phoneNumber": verified.number.phone_number,
            "status": verified.number.status,
            "agent": verified.agent.as_ref().map(|a| json!({ "id": a.id, "name": a.settings.name, "language": a.settings.language })),
            "websocketUrl": ws,
        }))
        .into_response());
    }
    let params = CallParams::from_raw(raw).map_err(AnswerError::from)?;
    calls::answer(&state, Provider::Exotel, &verified, &params).await?;
    let language = verified.language();
    let xml = if verified.active() {
        let url = stream_url_for(&state, &verified, &params.call_sid);
        let agent_id = verified.agent.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
        // The stream speaks the greeting (cached audio, within ~200 ms of `start`); a <Say>
        // here would greet twice.
        let parameters = [("session_id", params.call_sid.as_str()), ("agent_id", agent_id)];
        answer::to_xml(&Answer::Stream { greeting: "", language, url: &url, parameters: &parameters })
    } else {
        answer::to_xml(&Answer::SayAndHangUp { message: answer::not_in_service(language), language })
    };
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
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
    calls::answer(&state, Provider::Exotel, &verified, &params).await?;
    if !verified.active() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "inactive", "this number is not in service"));
    }
    Ok(Json(json!({ "url": stream_url_for(&state, &verified, &params.call_sid) })).into_response())
}

/// The Greeting applet's "text from URL": the agent's greeting as `text/plain` (HEAD answers
/// the same headers, which axum derives from this GET handler).
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn greeting(State(state): State<AppState>, Path(id): Path<String>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let verified = verify(&state, &id, query.as_deref()).await?;
    let text = match &verified.agent {
        Some(a) if verified.active() => a.settings.greeting.clone(),
        _ => answer::not_in_service(verified.language()).to_string(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain")], text).into_response())
}

/// Passthru after the Voicebot applet: Exotel reports the stream's outcome; we keep every
/// parameter on the call (creating the call if the Passthru is the first we hear of it), end
/// it on `Stream[Status]`, and answer 200 (the flow's first branch).
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn passthru(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (verified, params) = incoming(&state, &id, query.as_deref(), &headers, &body).await?;
    let recorded = calls::record(&state, Provider::Exotel, &verified, &params).await?;
    let mut merged: BTreeMap<String, String> = serde_json::from_str(&recorded.call.params_json).unwrap_or_default();
    merged.extend(params.raw.clone());
    // Only Exotel's exact words end the call: `completed` or `failed`.
    let stream_end = params.raw.get("Stream[Status]").and_then(|s| CallStatus::ALL.iter().copied().find(|c| c.as_str() == s));
    let duration_ms = params.raw.get("Stream[Duration]").and_then(|d| d.trim().parse::<f64>().ok()).map(|s| (s * 1000.0) as i64);
    let json = serde_json::to_string(&merged).map_err(|e| AnswerError::Db(DbError::from(e)))?;
    db::calls::merge_params(&state.db, &recorded.call.id, &json, stream_end, duration_ms, &state.clock.now_rfc3339())
        .await
        .map_err(AnswerError::from)?;
    if stream_end.is_some() {
        crate::notify::call_ended(&state, &recorded.call.id);
    }
    // A call the agent handed over takes the flow's second branch, to its Connect applet.
    if crate::telephony::transfer::requested(&state, &id, &recorded.call.id).await.is_some() {
        return Ok(StatusCode::FOUND.into_response());
    }
    Ok(StatusCode::OK.into_response())
}

/// The Connect applet's dynamic URL: where the agent handed the call (`destination`), and the
/// summary the person hears first on a warm transfer; 404 for a call without a transfer.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn connect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, params) = incoming(&state, &id, query.as_deref(), &headers, &body).await?;
    let key = db::calls::key(Provider::Exotel, &params.call_sid);
    match crate::telephony::transfer::requested(&state, &id, &key).await {
        Some(t) => Ok(Json(super::transfer::connect(&t.to, t.summary.as_deref())).into_response()),
        None => Err(ApiError::not_found("transfer")),
    }
}

/// An outbound call's StatusCallback (EXOTEL.md §3): `answered`, then `terminal` with `Status`
/// (`completed`, `busy`, `no-answer`, `failed`), kept on the call; a failure ends it.
#[tracing::instrument(skip_all, fields(phone_id = %id))]
async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (verified, params) = incoming(&state, &id, query.as_deref(), &headers, &body).await?;
    let status = params.raw.get("Status").map(String::as_str);
    let end = match status {
        Some("completed") => Some(CallStatus::Completed),
        Some("busy" | "no-answer" | "failed" | "canceled") => Some(CallStatus::Failed),
        _ => None,
    };
    calls::progress(&state, Provider::Exotel, &verified, &params, end, status.unwrap_or("unknown")).await?;
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
    let verified = verify(&state, &id, query.as_deref()).await?;
    if !verified.active() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "inactive", "this number is not in service"));
    }
    let q: BTreeMap<String, String> = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()).into_owned().collect();
    let sample_rate = match q.get("sample-rate").map(|r| r.parse::<u32>()) {
        None => 8000,
        Some(Ok(r)) if RATES.contains(&r) => r,
        Some(_) => return Err(ApiError::invalid("sample-rate", "use 8000, 16000 or 24000")),
    };
    let ctx = StreamContext { verified, session: q.get("session").cloned() };
    // Exotel's frames are ~100 ms of audio (≤ 7 KB of JSON at 24 kHz); a 512 KiB cap on a
    // message keeps a misbehaving peer from making us buffer megabytes.
    let upgrade = session::sized(upgrade, 512 * 1024);
    let codec = ExotelCodec::new(sample_rate);
    Ok(upgrade.on_upgrade(move |socket| session::run(state, ctx, codec, socket)).into_response())
}
