//! REST: `/api/calls`.

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use domain::call::{CallDetail, CallPage, CallQuery};
use futures_util::{Stream, StreamExt};

use super::json::{JsonBody, QueryArgs};
use super::openapi::{BadJson, BadQuery, Conflict, NotFound, Provider, SignedIn, Write};
use super::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::users::CurrentUser;

/// Call log routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/calls", get(list).post(place))
        .route("/api/calls/live", get(live))
        .route("/api/calls/{id}", get(read).delete(delete))
        .route("/api/calls/{id}/recording", get(recording))
        .route("/api/analytics", get(analytics))
}

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, place, live, read, delete, recording, analytics))]
pub struct Api;

const ID: &str = "the call's id";

/// The caller's calls, newest first.
///
/// A call still ringing after 2 minutes (its stream never opened) becomes `failed`.
#[utoipa::path(get, path = "/api/calls", operation_id = "list_calls", tag = "calls", params(CallQuery),
    responses((status = 200, body = CallPage), SignedIn, BadQuery))]
async fn list(State(state): State<AppState>, user: CurrentUser, QueryArgs(q): QueryArgs<CallQuery>) -> Result<Json<CallPage>, ApiError> {
    Ok(Json(crate::calls::list(&state, &user.owner, &q).await?))
}

/// Places an outbound call.
///
/// The number's provider calls `to` with the agent (the number's own when `agentId` is empty);
/// 201 with the call, ringing. A provider's refusal is its error (the field, 429 with
/// `Retry-After`, 502) naming the failed call it recorded (`error.callId`).
#[utoipa::path(post, path = "/api/calls", operation_id = "place_call", tag = "calls", request_body = domain::outbound::PlaceCall,
    responses((status = 201, description = "ringing", body = CallDetail), SignedIn, Write, BadJson, NotFound, Provider))]
async fn place(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<domain::outbound::PlaceCall>,
) -> Result<(axum::http::StatusCode, Json<CallDetail>), ApiError> {
    match crate::calls::outbound::place(&state, &user.owner, &input).await {
        Ok(placed) => Ok((axum::http::StatusCode::CREATED, Json(crate::calls::get(&state, &user.owner, &placed.call_id).await?))),
        Err(e) => {
            let (call_id, error) = e.into_domain();
            Err(ApiError { call_id, ..ApiError::from(error) })
        }
    }
}

/// One call with its provider parameters and turns.
#[utoipa::path(get, path = "/api/calls/{id}", operation_id = "get_call", tag = "calls", params(("id" = String, Path, description = ID)),
    responses((status = 200, body = CallDetail), SignedIn, NotFound))]
async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CallDetail>, ApiError> {
    Ok(Json(crate::calls::get(&state, &user.owner, &id).await?))
}

/// Deletes an ended call, its turns and its recording.
///
/// A call still ringing or in progress is a conflict (409 naming `status`).
#[utoipa::path(delete, path = "/api/calls/{id}", operation_id = "delete_call", tag = "calls", params(("id" = String, Path, description = ID)),
    responses((status = 204, description = "deleted"), SignedIn, Write, NotFound, Conflict))]
async fn delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<axum::http::StatusCode, ApiError> {
    crate::calls::recordings::delete_call(&state, &user.owner, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The call's recording.
///
/// A stereo WAV (caller left, agent right), with range requests (206) for players that seek;
/// only its owner may fetch it.
#[utoipa::path(get, path = "/api/calls/{id}/recording", operation_id = "get_recording", tag = "calls",
    params(("id" = String, Path, description = ID), ("Range" = Option<String>, Header, description = "bytes to send, e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "the recording", body = [u8], content_type = "audio/wav"),
        (status = 206, description = "the range asked for", body = [u8], content_type = "audio/wav"),
        (status = 404, description = "no such call, no recording, or another user's", body = ErrorBody),
        (status = 416, description = "the range is outside the file"),
        SignedIn,
    ))]
async fn recording(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{HeaderValue, header};
    use tower::ServiceExt;
    let path = crate::calls::recordings::file(&state, &user.owner, &id).await?;
    let served = tower_http::services::ServeFile::new(path).oneshot(request).await.map_err(ApiError::internal)?;
    let mut response = served.map(axum::body::Body::new);
    let ok = response.status().is_success();
    let headers = response.headers_mut();
    if ok {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "inline; filename=\"call-{}.wav\"",
        id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// One event of `GET /api/calls/live`, as an event-stream parser reads it (the schema of each
/// event, for OpenAPI 3.1 readers such as schemathesis).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used: the stream is written by axum's `Event`.
struct LiveStreamEvent {
    /// The event's name.
    event: LiveStreamEventName,
    /// The event as JSON text: `{"type":"call","callId","status"}` or
    /// `{"type":"turn","callId","seq","role"}`.
    #[schema(content_media_type = "application/json")]
    data: String,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
enum LiveStreamEventName {
    Call,
    Turn,
}

/// Server-sent events for the caller's calls.
///
/// `event: call` `{"type":"call","callId","status"}` when a call is created or its status
/// changes, `event: turn` `{"type":"turn","callId","seq","role"}` when a turn is stored; from
/// SurrealDB live queries scoped to the user. At most 20 open streams per user.
#[utoipa::path(get, path = "/api/calls/live", operation_id = "live_calls", tag = "calls",
    responses(
        (status = 200, description = "an event stream that stays open; the schema is that of each event", body = LiveStreamEvent, content_type = "text/event-stream"),
        (status = 429, description = "20 streams already open (`too_many_streams`)", body = ErrorBody),
        SignedIn,
    ))]
async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    use crate::calls::live::SubscribeError;
    let events = crate::calls::live::subscribe(&state, &user.owner).await.map_err(|e| match e {
        SubscribeError::TooMany(_) => ApiError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, "too_many_streams", e.to_string()),
        SubscribeError::Db(e) => ApiError::from(e),
    })?;
    // A stopping server ends the stream (the browser reconnects to whichever server is up).
    let stop = state.shutdown.clone();
    let stream = events.take_until(async move { stop.begun().await }).map(|e| {
        let name = match &e {
            crate::calls::live::LiveEvent::Call { .. } => "call",
            crate::calls::live::LiveEvent::Turn { .. } => "turn",
        };
        Ok(Event::default().event(name).data(serde_json::to_string(&e).unwrap_or_default()))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
struct AnalyticsArgs {
    /// Days back from today, 1 to 90 (default 14).
    days: Option<u32>,
    /// `total` and `byDay` of this number only.
    phone_id: Option<String>,
    /// `total` and `byDay` of this agent only.
    agent_id: Option<String>,
}

/// Call figures per number, per agent and per day.
///
/// Calls, answered (the stream began), average duration, turns per call and voice-to-voice
/// latency (p50, p90); `total` and `byDay` are of the chosen number or agent (else every call).
#[utoipa::path(get, path = "/api/analytics", operation_id = "analytics", tag = "calls", params(AnalyticsArgs),
    responses((status = 200, body = domain::call::Analytics), SignedIn, BadQuery))]
async fn analytics(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<AnalyticsArgs>,
) -> Result<Json<domain::call::Analytics>, ApiError> {
    Ok(Json(crate::calls::analytics(&state, &user.owner, q.days.unwrap_or(14), q.phone_id.as_deref(), q.agent_id.as_deref()).await?))
}
