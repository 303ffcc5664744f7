//! REST: `/api/phone-numbers`, with the old product's paths and JSON field names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::phone_number::{DoctorReport, PhoneNumberInput, PhoneNumberPage, PhoneNumberQuery, PhoneNumberView};
use domain::routing::Routing;
use domain::test_call::NumberTestReport;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ApiError;
use super::json::{JsonBody, QueryArgs};
use super::openapi::{BadJson, BadQuery, Conflict, NotFound, Provider, SignedIn, Write};
use crate::numbers;
use crate::state::AppState;
use crate::users::CurrentUser;

/// Phone number routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/phone-numbers", get(list).post(create).put(update_by_body).delete(remove_by_query))
        .route("/api/phone-numbers/{id}", get(read).put(replace).patch(update).delete(remove))
        .route("/api/phone-numbers/{id}/rotate-secret", post(rotate))
        .route("/api/phone-numbers/{id}/verify", post(verify))
        .route("/api/phone-numbers/{id}/routing", get(read_routing).put(put_routing).delete(remove_routing))
        .route("/api/phone-numbers/{id}/doctor", get(doctor))
        .route("/api/phone-numbers/{id}/test", post(test_call))
        .route("/api/doctor", get(doctor_all))
}

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list,
    create,
    update_by_body,
    remove_by_query,
    read,
    replace,
    update,
    remove,
    rotate,
    verify,
    doctor,
    test_call,
    doctor_all,
    read_routing,
    put_routing,
    remove_routing
))]
pub struct Api;

/// The caller's numbers, newest first.
#[utoipa::path(get, path = "/api/phone-numbers", operation_id = "list_phone_numbers", tag = "phone numbers", params(PhoneNumberQuery),
    responses((status = 200, body = PhoneNumberPage), SignedIn, BadQuery))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<PhoneNumberQuery>,
) -> Result<Json<PhoneNumberPage>, ApiError> {
    Ok(Json(numbers::list(&state, &user.owner, &q).await?))
}

/// Imports a number.
///
/// The provider is asked first whether the account owns the number: not in the account, no
/// voice, or credentials refused is a 400 naming the field; an unreachable or rate-limiting
/// provider leaves it saved unverified (`verification` says why).
#[utoipa::path(post, path = "/api/phone-numbers", operation_id = "create_phone_number", tag = "phone numbers",
    request_body = PhoneNumberInput,
    responses((status = 201, description = "imported", body = PhoneNumberView), SignedIn, Write, BadJson, Conflict))]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<PhoneNumberInput>,
) -> Result<(StatusCode, Json<PhoneNumberView>), ApiError> {
    Ok((StatusCode::CREATED, Json(numbers::create(&state, &user.owner, &input).await?)))
}

const ID: &str = "the number's id";
const PARTIAL: &str = "only the fields sent change; a field left out keeps its value (stored secrets stay when sent empty)";

/// Edits a number (PUT): see PATCH.
#[utoipa::path(put, path = "/api/phone-numbers/{id}", operation_id = "replace_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), request_body(content = PhoneNumberInput, description = PARTIAL),
    responses((status = 200, body = PhoneNumberView), SignedIn, Write, BadJson, NotFound, Conflict))]
async fn replace(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<String>,
    sent: JsonBody<Value>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    update(state, user, id, sent).await
}

/// Edits a number.
///
/// A field sent is validated as on create and a bad one is named (`exotelConfig.region`),
/// changing nothing; `routing` (when sent) replaces the routing whole, `null` removes it.
#[utoipa::path(patch, path = "/api/phone-numbers/{id}", operation_id = "update_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), request_body(content = PhoneNumberInput, description = PARTIAL),
    responses((status = 200, body = PhoneNumberView), SignedIn, Write, BadJson, NotFound, Conflict))]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(sent): JsonBody<Value>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::patch(&state, &user.owner, &id, sent).await?))
}

/// The old product's edit: the number's `id` and only the fields that change.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the body `update_by_body` reads as JSON (the fields sent matter).
struct EditById {
    id: String,
    #[serde(flatten)]
    fields: PhoneNumberInput,
}

/// Edits a number named in the body (the old product's form).
///
/// `{id, linkedAgentId}` links an agent, `{id, status}` pauses a number.
#[utoipa::path(put, path = "/api/phone-numbers", operation_id = "edit_phone_number_by_body", tag = "phone numbers",
    request_body = EditById, responses((status = 200, body = PhoneNumberView), SignedIn, Write, BadJson, NotFound, Conflict))]
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

/// A deleted number.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NumberDeleted {
    /// The number's id.
    pub deleted: String,
}

/// Deletes a number.
#[utoipa::path(delete, path = "/api/phone-numbers/{id}", operation_id = "delete_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = NumberDeleted), SignedIn, Write, NotFound))]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<NumberDeleted>, ApiError> {
    numbers::delete(&state, &user.owner, &id).await?;
    Ok(Json(NumberDeleted { deleted: id }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IdQuery {
    /// The number's id.
    #[serde(default)]
    #[param(required = true)]
    id: String,
}

/// Deletes a number named in the query (the old product's form).
#[utoipa::path(delete, path = "/api/phone-numbers", operation_id = "delete_phone_number_by_query", tag = "phone numbers",
    params(IdQuery), responses((status = 200, body = NumberDeleted), SignedIn, Write, BadQuery, NotFound))]
async fn remove_by_query(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<IdQuery>,
) -> Result<Json<NumberDeleted>, ApiError> {
    if q.id.trim().is_empty() {
        return Err(ApiError::invalid("id", "send ?id=<phone number id>"));
    }
    numbers::delete(&state, &user.owner, q.id.trim()).await?;
    Ok(Json(NumberDeleted { deleted: q.id.trim().to_string() }))
}

/// One number.
#[utoipa::path(get, path = "/api/phone-numbers/{id}", operation_id = "get_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = PhoneNumberView), SignedIn, NotFound))]
async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::get(&state, &user.owner, &id).await?))
}

/// Gives the number a new URL secret.
///
/// The number comes back with its new URLs; the old ones stop working.
#[utoipa::path(post, path = "/api/phone-numbers/{id}/rotate-secret", operation_id = "rotate_phone_number_secret", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = PhoneNumberView), SignedIn, Write, NotFound))]
async fn rotate(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::rotate_secret(&state, &user.owner, &id).await?))
}

/// Asks the number's provider again whether its account owns the number.
///
/// The outcome is stored on the number. A refusal names the field (`phoneNumber`, a credential).
#[utoipa::path(post, path = "/api/phone-numbers/{id}/verify", operation_id = "verify_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, body = PhoneNumberView), (status = 400, description = "the provider refused: `error.field` says what",
        body = super::ErrorBody), SignedIn, Write, NotFound, Conflict, Provider))]
async fn verify(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::verify::verify(&state, &user.owner, &id).await?))
}

/// The number's provider check.
///
/// Public URL, credentials, ownership, stream settings, agent and status, each with a fix and
/// the anchor of its guide in docs/TELEPHONY_SETUP.md.
#[utoipa::path(get, path = "/api/phone-numbers/{id}/doctor", operation_id = "check_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = DoctorReport), SignedIn, NotFound))]
async fn doctor(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<DoctorReport>, ApiError> {
    Ok(Json(numbers::doctor::number(&state, &user.owner, &id).await?))
}

/// A simulated call through the number's real answer URL and stream, step by step.
#[utoipa::path(post, path = "/api/phone-numbers/{id}/test", operation_id = "test_phone_number", tag = "phone numbers",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "every step with pass, fail or skip", body = NumberTestReport), SignedIn, Write, NotFound,
        (status = 429, description = "2 test calls already running (`busy`)", body = super::ErrorBody),
        (status = 502, description = "the offline voice could not speak the test line", body = super::ErrorBody)))]
async fn test_call(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<NumberTestReport>, ApiError> {
    Ok(Json(crate::test_calls::number::run(&state, &user.owner, &id).await?))
}

/// Every number's provider check.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DoctorSummary {
    /// The newest 500 numbers' checks.
    pub numbers: Vec<DoctorReport>,
    /// How many pass.
    pub ok: usize,
    /// How many do not.
    pub failing: usize,
}

/// Every number's provider check (the newest 500), with how many pass.
#[utoipa::path(get, path = "/api/doctor", operation_id = "check_phone_numbers", tag = "phone numbers",
    responses((status = 200, body = DoctorSummary), SignedIn))]
async fn doctor_all(State(state): State<AppState>, user: CurrentUser) -> Result<Json<DoctorSummary>, ApiError> {
    let numbers = numbers::doctor::all(&state, &user.owner).await?;
    let ok = numbers.iter().filter(|r| r.ok).count();
    Ok(Json(DoctorSummary { failing: numbers.len() - ok, ok, numbers }))
}

/// A number's routing.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingView {
    /// `null` when the linked agent answers every call.
    pub routing: Option<Routing>,
}

/// The number's routing.
#[utoipa::path(get, path = "/api/phone-numbers/{id}/routing", operation_id = "get_routing", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = RoutingView), SignedIn, NotFound))]
async fn read_routing(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Result<Json<RoutingView>, ApiError> {
    let n = numbers::get(&state, &user.owner, &id).await?;
    Ok(Json(RoutingView { routing: n.routing }))
}

/// Replaces the number's routing.
///
/// The body is the routing (`null` removes it); a wrong field is a 400 naming it
/// (`routing.<field>`), and nothing is written.
#[utoipa::path(put, path = "/api/phone-numbers/{id}/routing", operation_id = "put_routing", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), request_body = Option<Routing>,
    responses((status = 200, description = "the number with its new routing", body = PhoneNumberView), SignedIn, Write, BadJson, NotFound))]
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
#[utoipa::path(delete, path = "/api/phone-numbers/{id}/routing", operation_id = "delete_routing", tag = "phone numbers",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = PhoneNumberView), SignedIn, Write, NotFound))]
async fn remove_routing(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    Ok(Json(numbers::routing::set(&state, &user.owner, &id, None).await?))
}
