//! REST: `POST /api/phone-numbers/import` (a CSV file, `text/csv`, or JSON `{csv, defaults,
//! dryRun}` when credentials are given once for the file), and the progress of an import run
//! in the background (`?background=true`, then `GET /api/phone-numbers/import/{job}`).

use std::sync::atomic::AtomicUsize;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ImportQuery {
    dry_run: bool,
    background: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
struct JsonImport {
    csv: String,
    defaults: Value,
    dry_run: bool,
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

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (bytes, options) = read(&headers, body, &q).await?;
    if !q.background {
        let report = import::import(&state, &user.owner, &bytes, &options, &AtomicUsize::new(0)).await?;
        return Ok(Json(report).into_response());
    }
    let started = import::spawn(&state, &user.owner, bytes, options)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "jobId": started.id, "total": started.total }))).into_response())
}

async fn progress(State(state): State<AppState>, user: CurrentUser, Path(job): Path<String>) -> Result<Response, ApiError> {
    let view = state.imports.get(user.owner.id(), &job).ok_or_else(|| ApiError::not_found("import"))?;
    Ok(Json(view).into_response())
}

async fn template(_user: CurrentUser) -> Response {
    let headers =
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"numbers.csv\"")];
    (headers, csv_rows::template()).into_response()
}
