//! Server-side glue: the full axum router (Leptos pages + server fns + REST), the page
//! guard, and what server functions read from the request.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use server::AppState;
use server::users::CurrentUser;

use crate::error::AppError;
use crate::{App, shell};

/// Pages anyone may open; every other page needs a session.
const PUBLIC_PAGES: &[&str] = &["/login", "/signup"];

/// The state of the current request, provided to every server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        leptos::logging::error!("AppState missing from the server function context");
        AppError::Internal.respond()
    })
}

async fn headers() -> HeaderMap {
    leptos_axum::extract::<HeaderMap>().await.unwrap_or_default()
}

/// The signed-in user of this request (cookie or bearer token), if any.
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    let state = app_state()?;
    Ok(server::http::auth::resolve(&state, &headers().await).await?)
}

/// State and user for a server function that needs a signed-in user.
pub async fn signed_in() -> Result<(AppState, CurrentUser), AppError> {
    let state = app_state()?;
    let user = server::http::auth::resolve(&state, &headers().await).await?.ok_or_else(|| AppError::Unauthorized.respond())?;
    Ok((state, user))
}

/// The session token cookie of this request.
pub async fn session_token() -> Option<String> {
    server::http::auth::session_token(&headers().await)
}

/// The client of this request: the peer, or what a trusted proxy says it forwarded
/// (server::http::client_ip).
pub async fn client_ip() -> Option<IpAddr> {
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok()?.0.ip();
    let trusted = app_state().ok().map(|s| s.settings.trusted_proxies.clone()).unwrap_or_default();
    Some(server::http::client_ip::client_ip(peer, &headers().await, &trusted))
}

/// Adds a `Set-Cookie` header to this server function's response.
pub fn set_cookie(value: &str) {
    if let (Some(resp), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), value.parse()) {
        resp.append_header(axum::http::header::SET_COOKIE, v);
    }
}

fn is_page(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !(path.starts_with("/api/") || path.starts_with("/pkg/") || path == "/healthz" || last.contains('.'))
}

/// Sends visitors without a session from dashboard pages to `/login?next=…`, and signed-in
/// users away from the login and sign-up pages.
async fn page_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if !is_page(&path) {
        return next.run(request).await;
    }
    let user = match server::http::auth::resolve(&state, request.headers()).await {
        Ok(u) => u,
        Err(e) => return server::http::ApiError::unavailable("database", e).into_response(),
    };
    let public = PUBLIC_PAGES.contains(&path.as_str());
    match (user, public) {
        (None, false) => {
            let target = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next_param: String = url_escape(target);
            Redirect::to(&format!("/login?next={next_param}")).into_response()
        }
        (Some(_), true) => Redirect::to("/numbers").into_response(),
        _ => next.run(request).await,
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Everything the HTTP server serves: pages, server functions, static files and REST,
/// behind the CSRF origin check.
pub fn router(state: AppState, options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let fallback_state = state.clone();
    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, move || provide_context(context_state.clone()), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(move || provide_context(fallback_state.clone()), shell))
        .with_state(options)
        .layer(middleware::from_fn_with_state(state.clone(), page_guard));
    server::routes::router(state, pages)
}

/// Leptos options from the `[site]` settings the server loaded.
pub fn leptos_options(site: &server::config::SiteSettings) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(site.output_name.clone())
        .site_root(site.site_root.clone())
        .site_pkg_dir(site.site_pkg_dir.clone())
        .site_addr(site.site_addr)
        .reload_port(u32::from(site.reload_port))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_told_from_assets_and_api() {
        assert!(is_page("/numbers"));
        assert!(is_page("/"));
        assert!(!is_page("/pkg/voxgate.js"));
        assert!(!is_page("/favicon.ico"));
        assert!(!is_page("/api/auth/login"));
        assert!(!is_page("/healthz"));
        assert_eq!(url_escape("/calls?x=1&y=2"), "/calls%3Fx%3D1%26y%3D2");
    }
}
