//! Security headers on every response. Dashboard pages carry their own Content-Security-Policy
//! with a per-response nonce for Leptos's hydration script ([`page_policy`], set by the app's
//! shell); everything else gets [`API_POLICY`], which allows nothing. Framing is refused
//! everywhere, and HSTS is sent when the public URL is https.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// For responses that are not pages (JSON, audio, static files): nothing may run or frame them.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// HSTS for an https public URL: one year.
pub const HSTS: &str = "max-age=31536000";

/// A dashboard page's policy: scripts from our origin or bearing `nonce` (the hydration
/// script), WebAssembly compiled from our own module, no plug-ins, no framing, requests to our
/// origin only. Inline style attributes stay allowed (Leptos sets them; styles run no code).
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the headers to every response (a page's own policy is kept).
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(API_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Webhook and stream URLs carry their number's secret: never in a Referer.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.settings.public_url.scheme() == "https" {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}
