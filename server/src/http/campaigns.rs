//! REST: `/api/campaigns`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::campaign::{CampaignCreated, CampaignInput, CampaignView, ContactPage};

use super::ApiError;
use super::json::{JsonBody, QueryArgs};
use crate::campaigns::{self, Action};
use crate::state::AppState;
use crate::users::CurrentUser;

/// Campaign routes (bodies up to the contact list's limit).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/campaigns", get(list).post(create))
        .route("/api/campaigns/{id}", get(read))
        .route("/api/campaigns/{id}/contacts", get(contacts))
        .route("/api/campaigns/{id}/results.csv", get(results))
        .route("/api/campaigns/{id}/pause", post(pause))
        .route("/api/campaigns/{id}/resume", post(resume))
        .route("/api/campaigns/{id}/cancel", post(cancel))
        .layer(axum::extract::DefaultBodyLimit::max(campaigns::contacts_csv::MAX_BYTES + 64 * 1024))
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<CampaignView>>, ApiError> {
    Ok(Json(campaigns::list(&state, &user.owner).await?))
}

/// `POST /api/campaigns`: 201 with the campaign, how many contacts it took and every row it left out.
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<(StatusCode, Json<CampaignCreated>), ApiError> {
    Ok((StatusCode::CREATED, Json(campaigns::create(&state, &user.owner, &input).await?)))
}

async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::get(&state, &user.owner, &id).await?))
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ContactArgs {
    state: Option<String>,
    page: Option<u32>,
    page_size: Option<u32>,
}

async fn contacts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryArgs(q): QueryArgs<ContactArgs>,
) -> Result<Json<ContactPage>, ApiError> {
    Ok(Json(campaigns::contacts(&state, &user.owner, &id, q.state.as_deref(), q.page, q.page_size).await?))
}

/// Every contact's outcome as CSV, to download.
async fn results(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Response, ApiError> {
    let csv = campaigns::export_csv(&state, &user.owner, &id).await?;
    let disposition =
        format!("attachment; filename=\"campaign-{}.csv\"", id.chars().filter(char::is_ascii_alphanumeric).collect::<String>());
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], csv).into_response())
}

async fn pause(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::act(&state, &user.owner, &id, Action::Pause).await?))
}

async fn resume(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::act(&state, &user.owner, &id, Action::Resume).await?))
}

async fn cancel(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::act(&state, &user.owner, &id, Action::Cancel).await?))
}
