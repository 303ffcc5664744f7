//! The browser as a transport: a test call from the agent's page, the microphone's audio over a
//! WebSocket (`GET /api/agents/{id}/test-call`) into the same conversation a phone call runs,
//! the agent's audio back. No phone and no provider. Signed-in users only (session cookie or
//! API token), from our own origin, with one of their own agents, two at once at most.

pub mod codec;
pub mod session;

use axum::Router;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::ApiError;
use crate::state::AppState;

/// The largest message taken (half a second of audio; the page sends 100 ms a message), so the
/// conversation's queue of 64 messages holds at most 1 MiB.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// The test-call route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/agents/{id}/test-call", get(upgrade))
}

/// Checks who asks, from where, for which agent, and whether a slot is free, before the upgrade.
async fn upgrade(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let user = match crate::http::auth::resolve(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return ApiError::unauthorized().into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    // A page of another site could open this socket with the user's cookie (WebSockets are not
    // bound by CORS): only our own pages may.
    if !crate::http::auth::same_origin(&state, &headers) {
        tracing::warn!(user_id = %user.owner.id(), "cross-site test call refused");
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden", "cross-site request refused").into_response();
    }
    let agent = match crate::agents::get(&state, &user.owner, &id).await {
        Ok(agent) => agent,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let slot = match crate::test_calls::take_slot(&state, &user.owner) {
        Ok(slot) => slot,
        Err(e) => return ApiError::from(e).into_response(),
    };
    crate::telephony::session::sized(ws, MAX_MESSAGE)
        .on_upgrade(move |socket| session::run(state, user.owner, agent, slot, socket))
        .into_response()
}
