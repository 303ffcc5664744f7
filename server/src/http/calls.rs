//! REST: `/api/calls`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use domain::call::{CallDetail, CallPage, CallQuery};

use super::ApiError;
use super::json::QueryArgs;
use crate::state::AppState;
use crate::users::CurrentUser;

/// Call log routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/calls", get(list)).route("/api/calls/{id}", get(read))
}

async fn list(State(state): State<AppState>, user: CurrentUser, QueryArgs(q): QueryArgs<CallQuery>) -> Result<Json<CallPage>, ApiError> {
    Ok(Json(crate::calls::list(&state, &user.owner, &q).await?))
}

async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CallDetail>, ApiError> {
    Ok(Json(crate::calls::get(&state, &user.owner, &id).await?))
}
