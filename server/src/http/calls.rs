//! REST: `/api/calls`.

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use domain::call::{CallDetail, CallPage, CallQuery};
use futures_util::{Stream, StreamExt};

use super::ApiError;
use super::json::{JsonBody, QueryArgs};
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

async fn list(State(state): State<AppState>, user: CurrentUser, QueryArgs(q): QueryArgs<CallQuery>) -> Result<Json<CallPage>, ApiError> {
    Ok(Json(crate::calls::list(&state, &user.owner, &q).await?))
}

/// `POST /api/calls` `{phoneId, to, agentId?, variables?}`: the number's provider calls `to` with
/// the agent; 201 with the call (ringing). A provider's refusal is its error (the field, 429 with
/// `Retry-After`, 502) naming the failed call it recorded (`callId`).
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

async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CallDetail>, ApiError> {
    Ok(Json(crate::calls::get(&state, &user.owner, &id).await?))
}

/// `DELETE /api/calls/{id}`: the ended call, its turns and its recording; 204. A live call is a
/// conflict (409).
async fn delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<axum::http::StatusCode, ApiError> {
    crate::calls::recordings::delete_call(&state, &user.owner, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/calls/{id}/recording`: the call's stereo WAV (caller left, agent right), with range
/// requests (206) for players that seek; only its owner may fetch it.
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

/// Server-sent events for the caller's calls: `call` (created or status changed) and `turn`
/// (stored), each with the call id; from SurrealDB live queries scoped to the user.
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

#[derive(serde::Deserialize, Default)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
struct AnalyticsArgs {
    days: Option<u32>,
    phone_id: Option<String>,
    agent_id: Option<String>,
}

/// `GET /api/analytics?days=14&phoneId=&agentId=`: per number, per agent, and per day (of the
/// chosen number or agent) figures.
async fn analytics(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<AnalyticsArgs>,
) -> Result<Json<domain::call::Analytics>, ApiError> {
    Ok(Json(crate::calls::analytics(&state, &user.owner, q.days.unwrap_or(14), q.phone_id.as_deref(), q.agent_id.as_deref()).await?))
}
