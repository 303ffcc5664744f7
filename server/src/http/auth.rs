//! Who is calling: session cookie or `Authorization: Bearer`, resolved in one place for
//! REST routes, server functions and the page guard; plus the CSRF origin check.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};

use super::ApiError;
use crate::db::DbError;
use crate::state::AppState;
use crate::users::{self, CurrentUser, SESSION_COOKIE, SESSION_DAYS};

/// The bearer token of a request, if it sent one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The session token from the request's cookies.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

/// The signed-in user of a request: a bearer token wins over a cookie.
pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<CurrentUser>, DbError> {
    if let Some(token) = bearer(headers) {
        return users::token_user(state, token).await;
    }
    match session_token(headers) {
        Some(token) => users::session_user(state, &token).await,
        None => Ok(None),
    }
}

/// `Set-Cookie` value that stores a session (Secure when the public URL is https).
pub fn session_cookie(state: &AppState, token: &str) -> String {
    Cookie::build((SESSION_COOKIE, token.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.public_url.scheme() == "https")
        .max_age(cookie::time::Duration::days(SESSION_DAYS))
        .build()
        .to_string()
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> String {
    Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.public_url.scheme() == "https")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        resolve(state, &parts.headers).await?.ok_or_else(ApiError::unauthorized)
    }
}

fn origin_of(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    Some(url.origin().ascii_serialization())
}

/// Whether an unsafe request comes from our own pages: its Origin (or Referer) must be the
/// public URL's origin or the origin of the Host it was sent to. Requests that carry neither
/// header and no session cookie (provider webhooks, API clients with a bearer token) pass.
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    if bearer(headers).is_some() {
        return true;
    }
    let claimed = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .and_then(|v| v.to_str().ok())
        .map(|v| origin_of(v).unwrap_or_else(|| "invalid".into()));
    let Some(claimed) = claimed else {
        return session_token(headers).is_none();
    };
    let public = state.settings.public_url.origin().ascii_serialization();
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    claimed == public || claimed == format!("http://{host}") || claimed == format!("https://{host}")
}

/// Middleware: refuses cross-site state-changing requests with 403.
pub async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || same_origin(&state, request.headers()) {
        next.run(request).await
    } else {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "cross-site request refused").into_response()
    }
}
