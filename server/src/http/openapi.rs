//! The REST API's OpenAPI 3 document, generated from the code: each handler's
//! `#[utoipa::path]` (next to it in its module) and the `ToSchema` derives of the types it takes
//! and returns. Served at `/api/openapi.json`, and as a plain HTML page at `/api/docs`
//! ([`super::docs_page`]: rendered on the server, no scripts, so it works offline).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

use crate::state::AppState;

/// What the document says before its operations: authentication, errors, and what is not REST.
const DESCRIPTION: &str = "Voxgate's REST API: JSON in and out. Authenticate with `Authorization: Bearer <API token>` \
(create one under Settings or with `POST /api/tokens`), or with the dashboard's session cookie plus a same-origin \
`Origin` header on writes.

Every error is `{\"error\": {\"code\", \"message\", \"field\"?, \"errors\"?: [{\"field\", \"message\"}], \"callId\"?}}` \
with its HTTP status; `field` names the request field that was wrong, and a refused request changes nothing.

Not REST, so not in this document (provider-facing or streaming; see the README):

- the providers' webhooks and media streams under `/api/telephony/*` (Exotel, Twilio, Vonage, Plivo: \
  authenticated by each number's key or the provider's signature, not by a token);
- the browser test call, a WebSocket at `GET /api/agents/{id}/test-call`;
- the dashboard's server functions (`/api/auth/login`, `/api/auth/signup`, `/api/auth/logout`, …).";

/// The document's frame; each REST module adds its own operations ([`document`]).
#[derive(OpenApi)]
#[openapi(
    info(title = "Voxgate", description = DESCRIPTION, license(name = "MIT")),
    paths(openapi_json, docs),
    components(schemas(super::error::ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "account", description = "The caller and their API tokens"),
        (name = "agents", description = "What answers a call"),
        (name = "phone numbers", description = "Numbers, their provider settings, routing and checks"),
        (name = "calls", description = "The call log, outbound calls, recordings and analytics"),
        (name = "campaigns", description = "Outbound calls to a list of contacts"),
        (name = "notifications", description = "Webhooks and e-mail alerts"),
        (name = "system", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// The two ways to authenticate, required by every operation that does not say otherwise.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::users::SESSION_COOKIE,
                "the dashboard's session (writes also need a same-origin Origin header)",
            ))),
        );
        doc.security =
            Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new()), SecurityRequirement::new("session", Vec::<String>::new())]);
    }
}

/// The whole document: the frame and every REST module's operations.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    for part in [
        super::Api::openapi(),
        super::tokens::Api::openapi(),
        super::agents::Api::openapi(),
        super::phone_numbers::Api::openapi(),
        super::number_import::Api::openapi(),
        super::calls::Api::openapi(),
        super::campaigns::Api::openapi(),
        super::notifications::Api::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

/// The document as JSON, built once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    // Serializing a tree of strings and maps cannot fail; an empty object would show it.
    JSON.get_or_init(|| serde_json::to_string(&document()).unwrap_or_else(|_| "{}".to_string()))
}

/// `/api/openapi.json` and `/api/docs` (no sign-in needed).
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi_json)).route("/api/docs", get(docs))
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", security(()),
    responses((status = 200, description = "the OpenAPI document", body = Object)))]
async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], document_json()).into_response()
}

/// This document as a page to read.
///
/// Operations grouped by tag, with their parameters, request and response bodies; rendered on
/// the server without scripts.
#[utoipa::path(get, path = "/api/docs", tag = "system", security(()),
    responses((status = 200, description = "an HTML page", body = String, content_type = "text/html")))]
async fn docs() -> Response {
    super::docs_page::response()
}

/// The JSON error response of `description`.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    ResponseBuilder::new().description(description).content("application/json", content).build().into()
}

/// Declares a set of error responses (status and when), each with the [`ErrorBody`] schema,
/// for a handler's `responses(...)`.
///
/// [`ErrorBody`]: super::error::ErrorBody
macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident { $($status:literal => $when:literal),+ $(,)? }) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                [$(($status, $when)),+].into_iter().map(|(s, w)| (s.to_string(), error_response(w))).collect()
            }
        }
    };
}

error_set!(
    /// Every signed-in route.
    SignedIn { "401" => "no valid session cookie or API token" }
);
error_set!(
    /// Every state-changing route (POST, PUT, PATCH, DELETE).
    Write { "403" => "a cross-site request with a session cookie (send a same-origin Origin, or a bearer token)" }
);
error_set!(
    /// Routes with a JSON body.
    BadJson {
        "400" => "a field is wrong or missing (`error.field` names it, `error.errors` lists every problem); nothing changed",
        "415" => "the body is not `Content-Type: application/json`",
    }
);
error_set!(
    /// Routes with query parameters.
    BadQuery { "400" => "a query parameter is wrong (`error.field` names it)" }
);
error_set!(
    /// Routes about one resource by id.
    NotFound { "404" => "no such resource, or another user's" }
);
error_set!(
    /// Routes whose change can collide with what is stored.
    Conflict { "409" => "conflicts with what is stored (`error.field` names why); nothing changed" }
);
error_set!(
    /// Routes that ask the number's provider.
    Provider {
        "429" => "the provider rate limits (`Retry-After` says when to try again)",
        "502" => "the provider cannot be reached",
    }
);
