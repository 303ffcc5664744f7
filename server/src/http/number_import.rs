//! REST: `POST /api/phone-numbers/import` (a CSV file, `text/csv`, or JSON `{csv, defaults,
//! dryRun}` when credentials are given once for the file), and the progress of an import run
//! in the background (`?background=true`, then `GET /api/phone-numbers/import/{job}`).

use std::sync::atomic::AtomicUsize;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::phone_number::{ImportProgress, ImportReport};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::QueryArgs;
use super::openapi::{NotFound, SignedIn, Write};
use super::{ApiError, ErrorBody};
use crate::numbers::csv_rows::{self, MAX_BYTES};
use crate::numbers::import::{self, Options};
use crate::state::AppState;
use crate::users::CurrentUser;

/// Import routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/phone-numbers/import", post(start))
        .route("/api/phone-numbers/import/template.csv", get(template))
        .route("/api/phone-numbers/import/{job}", get(progress))
}

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(start, template, progress))]
pub struct Api;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", default)]
struct ImportQuery {
    /// Check every row and report what would happen; nothing is written.
    dry_run: bool,
    /// Run in the background: 202 with the job, progress at `/api/phone-numbers/import/{job}`.
    background: bool,
}

/// A CSV file as JSON, with the settings its rows share (credentials given once).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
struct JsonImport {
    /// The file: a header row of the JSON fields' names (`exotelConfig.sid` …), then one number a row.
    csv: String,
    /// Fields every row takes unless it has its own, e.g. `{"provider": "exotel", "exotelConfig": {…}}`.
    #[schema(value_type = Option<Object>)]
    defaults: Value,
    dry_run: bool,
}

/// An import started in the background.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ImportStarted {
    /// Its progress is at `/api/phone-numbers/import/{jobId}`.
    job_id: String,
    /// Data rows in the file.
    total: usize,
}

fn too_large() -> ApiError {
    ApiError {
        field: Some("file".into()),
        ..ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("The file is larger than {} MB.", MAX_BYTES / (1024 * 1024)))
    }
}

/// The body as (CSV bytes, options); the JSON form is a little larger than the file it carries.
async fn read(headers: &HeaderMap, body: Body, q: &ImportQuery) -> Result<(Vec<u8>, Options), ApiError> {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let bytes = axum::body::to_bytes(body, MAX_BYTES * 2 + 64 * 1024).await.map_err(|_| too_large())?;
    if kind.starts_with("application/json") {
        let j: JsonImport = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&bytes)).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(if path == "." { "body" } else { &path }, e.inner().to_string())
        })?;
        if !(j.defaults.is_null() || j.defaults.is_object()) {
            return Err(ApiError::invalid("defaults", "Send the shared settings as an object, e.g. {\"provider\": \"exotel\"}."));
        }
        return Ok((j.csv.into_bytes(), Options { defaults: j.defaults, dry_run: j.dry_run || q.dry_run }));
    }
    if !(kind.starts_with("text/csv") || kind.starts_with("text/plain") || kind.starts_with("application/csv")) {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send Content-Type: text/csv"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(too_large());
    }
    Ok((bytes.to_vec(), Options { defaults: Value::Null, dry_run: q.dry_run }))
}

/// Imports numbers from a CSV file.
///
/// Send the file as `text/csv`, or as JSON with the settings its rows share. A malformed file is
/// a 400 naming `file`, and nothing is imported; rows with problems are listed in `failed`.
#[utoipa::path(post, path = "/api/phone-numbers/import", operation_id = "import_phone_numbers", tag = "phone numbers", params(ImportQuery),
    request_body(content((String = "text/csv"), (JsonImport = "application/json"))),
    responses(
        (status = 200, description = "what the import did (or would do, on a dry run)", body = ImportReport),
        (status = 202, description = "started in the background", body = ImportStarted),
        (status = 400, description = "a malformed file, body or query parameter (`error.field` names it); nothing imported", body = ErrorBody),
        (status = 409, description = "an import of yours is already running", body = ErrorBody),
        (status = 413, description = "the file is larger than 20 MB", body = ErrorBody),
        (status = 415, description = "the body is neither `text/csv` nor JSON", body = ErrorBody),
        SignedIn, Write,
    ))]
async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (bytes, options) = read(&headers, body, &q).await?;
    if !q.background {
        let report = import::import(&state, &user.owner, &bytes, &options, &AtomicUsize::new(0)).await?;
        return Ok(Json(report).into_response());
    }
    let started = import::spawn(&state, &user.owner, bytes, options)?;
    Ok((StatusCode::ACCEPTED, Json(ImportStarted { job_id: started.id, total: started.total })).into_response())
}

/// The progress of an import running in the background, and its report once done.
#[utoipa::path(get, path = "/api/phone-numbers/import/{job}", operation_id = "import_progress", tag = "phone numbers",
    params(("job" = String, Path, description = "the `jobId` the import started with")),
    responses((status = 200, body = ImportProgress), SignedIn, NotFound))]
async fn progress(State(state): State<AppState>, user: CurrentUser, Path(job): Path<String>) -> Result<Json<ImportProgress>, ApiError> {
    state.imports.get(user.owner.id(), &job).map(Json).ok_or_else(|| ApiError::not_found("import"))
}

/// A CSV template with every column, to fill in.
#[utoipa::path(get, path = "/api/phone-numbers/import/template.csv", operation_id = "import_template", tag = "phone numbers",
    responses((status = 200, description = "the template", body = String, content_type = "text/csv"), SignedIn))]
async fn template(_user: CurrentUser) -> Response {
    let headers =
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"numbers.csv\"")];
    (headers, csv_rows::template()).into_response()
}
