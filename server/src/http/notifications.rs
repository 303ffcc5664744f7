//! REST: `/api/notifications`: the signed-in user's webhook and e-mail alert settings, the
//! signing secret, the delivery log and "Send test".

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::notify::{DeliveryView, NewSigningSecret, NotificationInput, NotificationSettings, SavedNotifications};

use super::ApiError;
use super::json::JsonBody;
use super::openapi::{BadJson, SignedIn, Write};
use crate::notify::settings;
use crate::state::AppState;
use crate::users::CurrentUser;

/// Notification routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(read).put(save))
        .route("/api/notifications/secret", post(rotate))
        .route("/api/notifications/deliveries", get(deliveries))
        .route("/api/notifications/test", post(test))
}

/// These routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(read, save, rotate, deliveries, test))]
pub struct Api;

/// The caller's notification settings (the signing secret masked).
#[utoipa::path(get, path = "/api/notifications", operation_id = "get_notifications", tag = "notifications",
    responses((status = 200, body = NotificationSettings), SignedIn))]
async fn read(State(state): State<AppState>, user: CurrentUser) -> Result<Json<NotificationSettings>, ApiError> {
    Ok(Json(settings::get(&state, &user.owner).await?))
}

/// Saves the caller's notification settings.
///
/// An empty URL or address turns that channel off. `newSecret` comes back when this save made
/// the first signing secret (shown once). A bad field is a 400 naming it; nothing is saved.
#[utoipa::path(put, path = "/api/notifications", operation_id = "save_notifications", tag = "notifications",
    request_body = NotificationInput, responses((status = 200, body = SavedNotifications), SignedIn, Write, BadJson))]
async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<NotificationInput>,
) -> Result<Json<SavedNotifications>, ApiError> {
    Ok(Json(settings::save(&state, &user.owner, input).await?))
}

/// A new webhook signing secret, shown this once.
#[utoipa::path(post, path = "/api/notifications/secret", operation_id = "rotate_signing_secret", tag = "notifications",
    responses((status = 200, body = NewSigningSecret), SignedIn, Write))]
async fn rotate(State(state): State<AppState>, user: CurrentUser) -> Result<Json<NewSigningSecret>, ApiError> {
    Ok(Json(settings::rotate_secret(&state, &user.owner).await?))
}

/// The latest 50 deliveries of webhooks and e-mails.
#[utoipa::path(get, path = "/api/notifications/deliveries", operation_id = "list_deliveries", tag = "notifications",
    responses((status = 200, body = Vec<DeliveryView>), SignedIn))]
async fn deliveries(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    Ok(Json(settings::deliveries(&state, &user.owner).await?))
}

/// Sends a test event to the webhook at once.
///
/// The delivery after its first try; 400 naming `webhookUrl` when none is saved.
#[utoipa::path(post, path = "/api/notifications/test", operation_id = "test_notifications", tag = "notifications",
    responses((status = 200, body = DeliveryView), (status = 400, description = "no webhook URL is saved (`webhookUrl`)",
        body = super::ErrorBody), SignedIn, Write))]
async fn test(State(state): State<AppState>, user: CurrentUser) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(settings::send_test(&state, &user.owner).await?))
}
