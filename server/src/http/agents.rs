//! REST: `/api/agents`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use domain::agent::{AgentInput, AgentView};
use serde_json::{Value, json};

use super::ApiError;
use super::json::JsonBody;
use crate::agents;
use crate::state::AppState;
use crate::users::CurrentUser;

/// Agent routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/agents", get(list).post(create)).route("/api/agents/{id}", get(read).put(update).delete(remove))
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<AgentView>>, ApiError> {
    Ok(Json(agents::list(&state, &user.owner).await?))
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<AgentInput>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    Ok((StatusCode::CREATED, Json(agents::create(&state, &user.owner, input).await?)))
}

async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<AgentView>, ApiError> {
    Ok(Json(agents::get(&state, &user.owner, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AgentInput>,
) -> Result<Json<AgentView>, ApiError> {
    Ok(Json(agents::update(&state, &user.owner, &id, input).await?))
}

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let unlinked = agents::delete(&state, &user.owner, &id).await?;
    Ok(Json(json!({ "deleted": id, "unlinkedNumbers": unlinked })))
}
