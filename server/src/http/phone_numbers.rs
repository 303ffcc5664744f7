//! REST: `/api/phone-numbers`, with the old product's paths and JSON field names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::phone_number::{DoctorReport, PhoneNumberInput, PhoneNumberPage, PhoneNumberQuery, PhoneNumberView};
use domain::test_call::NumberTestReport;
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
        .route("/api/phone-numbers/{id}", get(read).put(update).patch(update).delete(remove))
        .route("/api/phone-numbers/{id}/rotate-secret", post(rotate))
        .route("/api/phone-numbers/{id}/verify", post(verify))
        .route("/api/phone-numbers/{id}/routing", get(read_routing).put(put_routing).delete(remove_routing))
        .route("/api/phone-numbers/{id}/doctor", get(doctor))
        .route("/api/phone-numbers/{id}/test", post(test_call))
        .route("/api/doctor", get(doctor_all))
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

/// PUT or PATCH: the fields sent change, a field left out keeps its value (a whole body, as the
/// dashboard sends, changes everything it names).
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(sent): JsonBody<Value>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::patch(&state, &user.owner, &id, sent).await?))
}

/// The old product's `PUT /api/phone-numbers` carries the id in the body, with only the fields
/// that change (`{id, linkedAgentId}`, `{id, status}`).
async fn update_by_body(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(mut sent): JsonBody<Value>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    let id = sent.as_object_mut().and_then(|o| o.remove("id")).and_then(|v| v.as_str().map(|s| s.trim().to_string()));
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return Err(ApiError::invalid("id", "send the number's id"));
    };
    Ok(Json(numbers::patch(&state, &user.owner, &id, sent).await?))
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

/// Asks the number's provider whether its account owns the number, and stores the outcome.
async fn verify(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::verify::verify(&state, &user.owner, &id).await?))
}

/// The number's checklist: public URL, credentials, ownership, stream settings, agent, status.
async fn doctor(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<DoctorReport>, ApiError> {
    Ok(Json(numbers::doctor::number(&state, &user.owner, &id).await?))
}

/// A simulated call through the number's real answer URL and stream, step by step.
async fn test_call(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<NumberTestReport>, ApiError> {
    Ok(Json(crate::test_calls::number::run(&state, &user.owner, &id).await?))
}

/// Every number's checklist (the newest 500), with how many pass.
async fn doctor_all(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, ApiError> {
    let reports = numbers::doctor::all(&state, &user.owner).await?;
    let ok = reports.iter().filter(|r| r.ok).count();
    Ok(Json(json!({ "numbers": reports, "ok": ok, "failing": reports.len() - ok })))
}

/// The number's routing (`null` when its linked agent answers every call).
async fn read_routing(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let n = numbers::get(&state, &user.owner, &id).await?;
    Ok(Json(json!({ "routing": n.routing })))
}

/// Replaces the number's routing (`null` removes it); a wrong field is a 400 naming it, and
/// nothing is written.
async fn put_routing(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(sent): JsonBody<Value>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    numbers::get(&state, &user.owner, &id).await?;
    let routing = numbers::routing::parse(sent)?;
    Ok(Json(numbers::routing::set(&state, &user.owner, &id, routing.as_ref()).await?))
}

/// Removes the number's routing: its linked agent answers every call again.
async fn remove_routing(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::routing::set(&state, &user.owner, &id, None).await?))
}
