//! Accounts in the dashboard: sign-up, login, logout, the current user, API tokens.

mod pages;
mod tokens;

pub use pages::{LoginPage, LogoutButton, SignupPage};
pub use tokens::SettingsPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in user as the browser sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
}

/// The signed-in user, or `None` when the request has no valid session.
#[server(endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(crate::ssr::current_user().await?.map(|u| Me { email: u.email }))
}

/// Only local paths are followed after login, so the `next` field cannot redirect off-site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/api/")
                && n.len() <= 512
                && n.bytes().all(|b| b > 0x20 && b < 0x7f && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/numbers".to_string(),
    }
}

/// Creates an account (with an invite code when the server asks for one), signs it in and
/// goes to the dashboard.
#[server(endpoint = "auth/signup")]
pub async fn sign_up(email: String, password: String, #[server(default)] invite: Option<String>) -> Result<(), AppError> {
    let state = crate::ssr::app_state()?;
    let ip = crate::ssr::client_ip().await;
    let user = server::users::sign_up_from(&state, &email, &password, ip, invite.as_deref()).await?;
    let token = server::users::open_session(&state, &user.owner).await?;
    crate::ssr::set_cookie(&server::http::auth::session_cookie(&state, &token));
    leptos_axum::redirect("/numbers");
    Ok(())
}

/// The server's sign-up mode: `open`, `invite` or `closed` (the sign-up page adapts).
#[server(endpoint = "auth/signup-mode")]
pub async fn signup_mode() -> Result<String, AppError> {
    Ok(crate::ssr::app_state()?.settings.signup.as_str().to_string())
}

/// Checks e-mail and password, sets the session cookie and follows `next`.
#[server(endpoint = "auth/login")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let state = crate::ssr::app_state()?;
    let ip = crate::ssr::client_ip().await;
    let (_, token) = server::users::log_in(&state, &email, &password, ip).await?;
    crate::ssr::set_cookie(&server::http::auth::session_cookie(&state, &token));
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session and returns to the login page.
#[server(endpoint = "auth/logout")]
pub async fn log_out() -> Result<(), AppError> {
    let state = crate::ssr::app_state()?;
    if let Some(token) = crate::ssr::session_token().await {
        server::users::log_out(&state, &token).await?;
    }
    crate::ssr::set_cookie(&server::http::auth::clear_session_cookie(&state));
    leptos_axum::redirect("/login");
    Ok(())
}

/// The message for `field` in the latest result of an action, if it failed there.
pub fn field_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    move || match value.get() {
        Some(Err(AppError::Internal)) if field == "form" => Some(AppError::Internal.to_string()),
        Some(Err(AppError::ServerFn(e))) if field == "form" => Some(e.to_string()),
        Some(Err(e)) => e.for_field(field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_follows_local_paths() {
        assert_eq!(safe_next(Some("/calls")), "/calls");
        assert_eq!(safe_next(Some("//evil.example.com")), "/numbers");
        assert_eq!(safe_next(Some("https://evil.example.com")), "/numbers");
        assert_eq!(safe_next(Some("/\\evil.example.com")), "/numbers");
        assert_eq!(safe_next(Some("/\t/evil.example.com")), "/numbers", "browsers drop tabs: //evil");
        assert_eq!(safe_next(Some("/calls\nSet-Cookie: x")), "/numbers");
        assert_eq!(safe_next(None), "/numbers");
    }
}
