//! REST: `/api/notifications`: the signed-in user's webhook and e-mail alert settings, the
//! signing secret, the delivery log and "Send test".

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::notify::{DeliveryView, NewSigningSecret, NotificationInput, NotificationSettings, SavedNotifications};

use super::ApiError;
use super::json::JsonBody;
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

async fn read(State(state): State<AppState>, user: CurrentUser) -> Result<Json<NotificationSettings>, ApiError> {
    Ok(Json(settings::get(&state, &user.owner).await?))
}

/// `PUT /api/notifications`: the settings, and `newSecret` when this save made the first one.
async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<NotificationInput>,
) -> Result<Json<SavedNotifications>, ApiError> {
    Ok(Json(settings::save(&state, &user.owner, input).await?))
}

/// `POST /api/notifications/secret`: a new signing secret, shown this once.
async fn rotate(State(state): State<AppState>, user: CurrentUser) -> Result<Json<NewSigningSecret>, ApiError> {
    Ok(Json(settings::rotate_secret(&state, &user.owner).await?))
}

async fn deliveries(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    Ok(Json(settings::deliveries(&state, &user.owner).await?))
}

/// `POST /api/notifications/test`: a test event sent at once; the delivery after its first try.
async fn test(State(state): State<AppState>, user: CurrentUser) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(settings::send_test(&state, &user.owner).await?))
}
