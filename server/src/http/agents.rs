//! REST: `/api/agents`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use domain::agent::{AgentInput, AgentView};
use serde::Serialize;

use super::ApiError;
use super::json::JsonBody;
use super::openapi::{BadJson, Conflict, NotFound, SignedIn, Write};
use crate::agents;
use crate::state::AppState;
use crate::users::CurrentUser;

/// Agent routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/agents", get(list).post(create)).route("/api/agents/{id}", get(read).put(update).delete(remove))
}

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, create, read, update, remove))]
pub struct Api;

/// The caller's agents, newest first.
#[utoipa::path(get, path = "/api/agents", operation_id = "list_agents", tag = "agents", responses((status = 200, body = Vec<AgentView>), SignedIn))]
async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<AgentView>>, ApiError> {
    Ok(Json(agents::list(&state, &user.owner).await?))
}

/// Creates an agent.
///
/// Fields left out take their defaults; `providers.apiKey` is write-only.
#[utoipa::path(post, path = "/api/agents", operation_id = "create_agent", tag = "agents", request_body = AgentInput,
    responses((status = 201, description = "created", body = AgentView), SignedIn, Write, BadJson))]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<AgentInput>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    Ok((StatusCode::CREATED, Json(agents::create(&state, &user.owner, input).await?)))
}

/// One agent.
#[utoipa::path(get, path = "/api/agents/{id}", operation_id = "get_agent", tag = "agents", params(("id" = String, Path, description = "the agent's id")),
    responses((status = 200, body = AgentView), SignedIn, NotFound))]
async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<AgentView>, ApiError> {
    Ok(Json(agents::get(&state, &user.owner, &id).await?))
}

/// Replaces an agent's settings.
///
/// An empty `providers.apiKey` keeps the stored key (`providers.clearApiKey` removes it).
#[utoipa::path(put, path = "/api/agents/{id}", operation_id = "update_agent", tag = "agents", params(("id" = String, Path, description = "the agent's id")),
    request_body = AgentInput, responses((status = 200, body = AgentView), SignedIn, Write, BadJson, NotFound))]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AgentInput>,
) -> Result<Json<AgentView>, ApiError> {
    Ok(Json(agents::update(&state, &user.owner, &id, input).await?))
}

/// A deleted agent.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentDeleted {
    /// The agent's id.
    pub deleted: String,
    /// How many numbers were linked to it (they now have no agent).
    pub unlinked_numbers: i64,
}

/// Deletes an agent and unlinks its numbers.
#[utoipa::path(delete, path = "/api/agents/{id}", operation_id = "delete_agent", tag = "agents", params(("id" = String, Path, description = "the agent's id")),
    responses((status = 200, description = "deleted", body = AgentDeleted), SignedIn, Write, NotFound, Conflict))]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<AgentDeleted>, ApiError> {
    let unlinked_numbers = agents::delete(&state, &user.owner, &id).await?;
    Ok(Json(AgentDeleted { deleted: id, unlinked_numbers }))
}
