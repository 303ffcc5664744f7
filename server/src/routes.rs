//! The whole HTTP surface in one place, used by `voxgate serve` and by the tests alike: the
//! REST API, every provider's webhooks and streams, Prometheus /metrics, and the pages the caller adds (the Leptos
//! app), behind the CSRF origin guard, with security headers on every response.

use axum::Router;
use axum::middleware::from_fn_with_state;

use crate::state::AppState;

/// REST + telephony + `pages`, with the state, behind the CSRF guard.
pub fn router(state: AppState, pages: Router) -> Router {
    crate::http::router()
        .merge(crate::telephony::router())
        .route("/metrics", axum::routing::get(crate::metrics::scrape))
        // After routing: requests are timed under their route template, never their ids.
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state.clone())
        .merge(pages)
        .layer(from_fn_with_state(state.clone(), crate::http::auth::csrf_guard))
        .layer(from_fn_with_state(state, crate::http::headers::security_headers))
}
