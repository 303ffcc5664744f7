//! REST: `/api/phone-numbers`, with the old product's paths and JSON field names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::phone_number::{PhoneNumberInput, PhoneNumberPage, PhoneNumberQuery, PhoneNumberView};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::json::{JsonBody, QueryArgs};
use crate::numbers;
use crate::state::AppState;
use crate::users::CurrentUser;

/// Phone number routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/phone-numbers", get(list).post(create).put(update_by_body).delete(remove_by_query))
        .route("/api/phone-numbers/{id}", get(read).put(update).delete(remove))
        .route("/api/phone-numbers/{id}/rotate-secret", post(rotate))
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<PhoneNumberQuery>,
) -> Result<Json<PhoneNumberPage>, ApiError> {
    Ok(Json(numbers::list(&state, &user.owner, &q).await?))
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<PhoneNumberInput>,
) -> Result<(StatusCode, Json<PhoneNumberView>), ApiError> {
    Ok((StatusCode::CREATED, Json(numbers::create(&state, &user.owner, &input).await?)))
}

async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::get(&state, &user.owner, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PhoneNumberInput>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::update(&state, &user.owner, &id, &input).await?))
}

/// The old product's `PUT /api/phone-numbers` carries the id in the body.
#[derive(Deserialize)]
struct WithId {
    #[serde(default)]
    id: String,
    #[serde(flatten)]
    input: PhoneNumberInput,
}

async fn update_by_body(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<WithId>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    if body.id.trim().is_empty() {
        return Err(ApiError::invalid("id", "send the number's id"));
    }
    Ok(Json(numbers::update(&state, &user.owner, body.id.trim(), &body.input).await?))
}

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    numbers::delete(&state, &user.owner, &id).await?;
    Ok(Json(json!({ "deleted": id })))
}

#[derive(Deserialize)]
struct IdQuery {
    #[serde(default)]
    id: String,
}

async fn remove_by_query(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<IdQuery>,
) -> Result<Json<Value>, ApiError> {
    if q.id.trim().is_empty() {
        return Err(ApiError::invalid("id", "send ?id=<phone number id>"));
    }
    numbers::delete(&state, &user.owner, q.id.trim()).await?;
    Ok(Json(json!({ "deleted": q.id.trim() })))
}

async fn rotate(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::rotate_secret(&state, &user.owner, &id).await?))
}
