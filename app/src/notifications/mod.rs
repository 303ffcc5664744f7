//! Notifications in Settings: the end-of-call webhook (signed), e-mail alerts, the delivery log
//! and "Send test" (server functions here, the section in `section`, the log in `log`).

mod log;
mod section;

pub use section::NotificationsSection;

use domain::notify::{DeliveryView, NewSigningSecret, NotificationInput, NotificationSettings, SavedNotifications};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// The signed-in user's notification settings (the signing secret masked).
#[server(endpoint = "notify/get")]
pub async fn get_notifications() -> Result<NotificationSettings, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::notify::settings::get(&state, &user.owner).await?)
}

/// Saves the settings; the first webhook's signing secret comes back this once.
#[server(endpoint = "notify/save", input = Json)]
pub async fn save_notifications(input: NotificationInput) -> Result<SavedNotifications, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::notify::settings::save(&state, &user.owner, input).await?)
}

/// A new signing secret, shown this once.
#[server(endpoint = "notify/rotate-secret")]
pub async fn rotate_signing_secret() -> Result<NewSigningSecret, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::notify::settings::rotate_secret(&state, &user.owner).await?)
}

/// The latest deliveries, newest first.
#[server(endpoint = "notify/deliveries")]
pub async fn list_deliveries() -> Result<Vec<DeliveryView>, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::notify::settings::deliveries(&state, &user.owner).await?)
}

/// Sends a test event to the webhook now; the delivery after its first try.
#[server(endpoint = "notify/test")]
pub async fn send_test_notification() -> Result<DeliveryView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::notify::settings::send_test(&state, &user.owner).await?)
}
