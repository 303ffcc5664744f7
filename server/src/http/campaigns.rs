//! REST: `/api/campaigns`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::campaign::{CampaignCreated, CampaignInput, CampaignView, ContactPage};

use super::ApiError;
use super::json::{JsonBody, QueryArgs};
use super::openapi::{BadJson, BadQuery, Conflict, NotFound, SignedIn, Write};
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

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, create, read, contacts, results, pause, resume, cancel))]
pub struct Api;

const ID: &str = "the campaign's id";

/// The caller's campaigns, newest first, with their counts.
#[utoipa::path(get, path = "/api/campaigns", operation_id = "list_campaigns", tag = "campaigns",
    responses((status = 200, body = Vec<CampaignView>), SignedIn))]
async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<CampaignView>>, ApiError> {
    Ok(Json(campaigns::list(&state, &user.owner).await?))
}

/// Creates a campaign from a CSV list of contacts.
///
/// 201 with the campaign, how many contacts it took and every row it left out.
#[utoipa::path(post, path = "/api/campaigns", operation_id = "create_campaign", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, description = "created", body = CampaignCreated), SignedIn, Write, BadJson))]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<(StatusCode, Json<CampaignCreated>), ApiError> {
    Ok((StatusCode::CREATED, Json(campaigns::create(&state, &user.owner, &input).await?)))
}

/// One campaign.
#[utoipa::path(get, path = "/api/campaigns/{id}", operation_id = "get_campaign", tag = "campaigns",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = CampaignView), SignedIn, NotFound))]
async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::get(&state, &user.owner, &id).await?))
}

#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, rename_all = "camelCase")]
struct ContactArgs {
    /// Only contacts in this state: pending, dialing, done, failed or canceled.
    state: Option<String>,
    /// From 1.
    page: Option<u32>,
    page_size: Option<u32>,
}

/// A campaign's contacts in file order.
#[utoipa::path(get, path = "/api/campaigns/{id}/contacts", operation_id = "list_contacts", tag = "campaigns",
    params(("id" = String, Path, description = ID), ContactArgs),
    responses((status = 200, body = ContactPage), SignedIn, BadQuery, NotFound))]
async fn contacts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryArgs(q): QueryArgs<ContactArgs>,
) -> Result<Json<ContactPage>, ApiError> {
    Ok(Json(campaigns::contacts(&state, &user.owner, &id, q.state.as_deref(), q.page, q.page_size).await?))
}

/// Every contact's outcome as CSV, to download.
///
/// Columns `line, phone, state, outcome, attempts, call_id, reason`.
#[utoipa::path(get, path = "/api/campaigns/{id}/results.csv", operation_id = "campaign_results", tag = "campaigns",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "the results", body = String, content_type = "text/csv"), SignedIn, NotFound))]
async fn results(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Response, ApiError> {
    let csv = campaigns::export_csv(&state, &user.owner, &id).await?;
    let disposition =
        format!("attachment; filename=\"campaign-{}.csv\"", id.chars().filter(char::is_ascii_alphanumeric).collect::<String>());
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], csv).into_response())
}

/// Pauses a campaign.
#[utoipa::path(post, path = "/api/campaigns/{id}/pause", operation_id = "pause_campaign", tag = "campaigns",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = CampaignView), SignedIn, Write, NotFound, Conflict))]
async fn pause(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::act(&state, &user.owner, &id, Action::Pause).await?))
}

/// Resumes a paused campaign.
#[utoipa::path(post, path = "/api/campaigns/{id}/resume", operation_id = "resume_campaign", tag = "campaigns",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = CampaignView), SignedIn, Write, NotFound, Conflict))]
async fn resume(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::act(&state, &user.owner, &id, Action::Resume).await?))
}

/// Cancels a campaign: contacts not yet reached become `canceled`.
#[utoipa::path(post, path = "/api/campaigns/{id}/cancel", operation_id = "cancel_campaign", tag = "campaigns",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = CampaignView), SignedIn, Write, NotFound, Conflict))]
async fn cancel(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::act(&state, &user.owner, &id, Action::Cancel).await?))
}
