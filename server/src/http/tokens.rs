//! REST: the caller's identity and API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::json::JsonBody;
use crate::state::AppState;
use crate::users::{self, ApiToken, CurrentUser};

/// `/api/me` and `/api/tokens`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me)).route("/api/tokens", get(list).post(create)).route("/api/tokens/{id}", delete(revoke))
}

async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({ "id": user.owner.id(), "email": user.email }))
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(users::list_tokens(&state, &user.owner).await?))
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    name: String,
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (listed, token) = users::create_token(&state, &user.owner, &body.name).await?;
    let mut out = serde_json::to_value(listed).map_err(ApiError::internal)?;
    out["token"] = Value::String(token);
    Ok((StatusCode::CREATED, Json(out)))
}

async fn revoke(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    users::revoke_token(&state, &user.owner, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
