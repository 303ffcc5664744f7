//! REST routes and the mapping of errors to JSON responses.

pub mod agents;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod client_ip;
pub mod error;
pub mod headers;
pub mod json;
pub mod notifications;
pub mod number_import;
pub mod phone_numbers;
pub mod tokens;

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;
pub use error::ApiError;

/// The REST API and health (the whole surface is composed in [`crate::routes`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(tokens::router())
        .merge(agents::router())
        .merge(calls::router())
        .merge(campaigns::router())
        .merge(notifications::router())
        .merge(phone_numbers::router())
        .merge(number_import::router())
}

#[tracing::instrument(skip_all)]
async fn healthz(State(state): State<AppState>) -> Result<Json<crate::system::Health>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), crate::system::health(&state.db)).await {
        Ok(Ok(h)) => Ok(Json(h)),
        Ok(Err(e)) => Err(ApiError::unavailable("database", e)),
        Err(_) => Err(ApiError::unavailable("database", "timed out after 2 s")),
    }
}
