//! REST: the caller's identity and API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::json::JsonBody;
use super::openapi::{BadJson, NotFound, SignedIn, Write};
use crate::state::AppState;
use crate::users::{self, ApiToken, CurrentUser};

/// `/api/me` and `/api/tokens`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me)).route("/api/tokens", get(list).post(create)).route("/api/tokens/{id}", delete(revoke))
}

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(me, list, create, revoke))]
pub struct Api;

/// The signed-in user.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
}

/// The caller.
#[utoipa::path(get, path = "/api/me", operation_id = "me", tag = "account", responses((status = 200, body = Me), SignedIn))]
async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me { id: user.owner.id().to_string(), email: user.email })
}

/// The caller's API tokens, newest first (never the tokens themselves).
#[utoipa::path(get, path = "/api/tokens", operation_id = "list_tokens", tag = "account", responses((status = 200, body = Vec<ApiToken>), SignedIn))]
async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(users::list_tokens(&state, &user.owner).await?))
}

/// A new API token's name.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// 1 to 64 characters, e.g. "CRM sync".
    #[serde(default)]
    name: String,
}

/// A token just created: as listed, plus the token itself, shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    listed: ApiToken,
    /// Send it as `Authorization: Bearer <token>`.
    token: String,
}

/// Creates an API token.
#[utoipa::path(post, path = "/api/tokens", operation_id = "create_token", tag = "account", request_body = NewToken,
    responses((status = 201, description = "created; `token` is shown this once", body = CreatedToken), SignedIn, Write, BadJson))]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (listed, token) = users::create_token(&state, &user.owner, &body.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { listed, token })))
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/api/tokens/{id}", operation_id = "revoke_token", tag = "account", params(("id" = String, Path, description = "the token's id")),
    responses((status = 204, description = "revoked"), SignedIn, Write, NotFound))]
async fn revoke(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    users::revoke_token(&state, &user.owner, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
