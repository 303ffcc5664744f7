//! REST routes and the mapping of errors to JSON responses.

pub mod agents;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod client_ip;
pub mod docs_page;
pub mod error;
pub mod headers;
pub mod json;
pub mod notifications;
pub mod number_import;
pub mod openapi;
pub mod phone_numbers;
pub mod tokens;

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;
pub use error::{ApiError, ErrorBody};

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
        .merge(openapi::router())
}

/// `/healthz` in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz))]
pub struct Api;

/// Whether this node and its database answer.
///
/// The database must answer within 2 s.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses(
    (status = 200, description = "up", body = crate::system::Health),
    (status = 503, description = "the database does not answer", body = ErrorBody),
))]
#[tracing::instrument(skip_all)]
async fn healthz(State(state): State<AppState>) -> Result<Json<crate::system::Health>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), crate::system::health(&state.db)).await {
        Ok(Ok(h)) => Ok(Json(h)),
        Ok(Err(e)) => Err(ApiError::unavailable("database", e)),
        Err(_) => Err(ApiError::unavailable("database", "timed out after 2 s")),
    }
}
