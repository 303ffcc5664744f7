//! Vonage's owned numbers (VONAGE.md §5): `GET /account/numbers`, HTTP Basic api_key : api_secret
//! (or `api_key`/`api_secret` in the query, as Vonage also takes), `pattern` with `search_pattern`
//! (0 starts with, 1 contains, 2 ends with), `size` (10 by default, at most 100), 1-based `index`,
//! and the filters `application_id`, `has_application`, `country`. The Voice API's
//! `POST /v1/calls` lives in `vonage_calls`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use domain::phone_number::Provider;
use serde_json::{Map, Value, json};

use super::{Cloud, CloudNumber, Params, basic_auth, country_of, reply, window};

const DEFAULT_SIZE: u64 = 10;
const MAX_SIZE: u64 = 100;

/// Vonage's routes.
pub(super) fn routes() -> Router<Cloud> {
    Router::new().route("/account/numbers", get(list))
}

/// VONAGE.md gives no error body. The Numbers API (rest.nexmo.com) answers with the legacy
/// `{"error-code","error-code-label"}` pair (Vonage's Java SDK tests its 401 with
/// `"401"`/`"authentication failed"`), not the RFC 7807 body of the newer APIs.
fn error(status: StatusCode, label: &str) -> Response {
    reply(status, json!({ "error-code": status.as_u16().to_string(), "error-code-label": label }))
}

/// Vonage's 429.
pub(super) fn too_many(_retry_after: u64) -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, "too many requests")
}

/// How `pattern` must sit in a number.
#[derive(Clone, Copy)]
enum Search {
    StartsWith,
    Contains,
    EndsWith,
}

async fn list(State(cloud): State<Cloud>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let from_query = || Some((params.get(&["api_key"])?.to_string(), params.get(&["api_secret"])?.to_string()));
    let Some(account) =
        basic_auth(&headers).or_else(from_query).and_then(|(key, secret)| cloud.account(Provider::Vonage, None, &key, &secret))
    else {
        return error(StatusCode::UNAUTHORIZED, "authentication failed");
    };
    let (size, index, search) = match (params.number(&["size"]), params.number(&["index"]), params.number(&["search_pattern"])) {
        (Ok(size), Ok(index), Ok(mode)) => {
            let search = match mode.unwrap_or(0) {
                0 => Search::StartsWith,
                1 => Search::Contains,
                2 => Search::EndsWith,
                _ => return error(StatusCode::BAD_REQUEST, "invalid parameter: search_pattern"),
            };
            (size.unwrap_or(DEFAULT_SIZE).clamp(1, MAX_SIZE), index.unwrap_or(1).max(1), search)
        }
        (Err(name), _, _) | (_, Err(name), _) | (_, _, Err(name)) => {
            return error(StatusCode::BAD_REQUEST, &format!("invalid parameter: {name}"));
        }
    };
    let has_application = match params.get(&["has_application"]) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return error(StatusCode::BAD_REQUEST, "invalid parameter: has_application"),
    };
    let pattern = params.get(&["pattern"]).unwrap_or_default();
    let application = params.get(&["application_id"]);
    let country = params.get(&["country"]);
    let matching: Vec<&CloudNumber> = account
        .numbers
        .iter()
        .filter(|n| match search {
            Search::StartsWith => n.number.starts_with(pattern),
            Search::Contains => n.number.contains(pattern),
            Search::EndsWith => n.number.ends_with(pattern),
        })
        .filter(|n| application.is_none_or(|app| n.app.as_deref() == Some(app)))
        .filter(|n| has_application.is_none_or(|has| n.app.is_some() == has))
        .filter(|n| country.is_none_or(|c| country_of(&n.number).eq_ignore_ascii_case(c)))
        .collect();
    let mut body = Map::new();
    body.insert("count".into(), matching.len().into());
    let page = window(&matching, (index - 1).saturating_mul(size), size);
    // Vonage leaves `numbers` out instead of sending an empty list (VPY fixture, DG).
    if !page.is_empty() {
        body.insert("numbers".into(), page.iter().map(|n| number(n)).collect::<Vec<Value>>().into());
    }
    reply(StatusCode::OK, Value::Object(body))
}

fn number(n: &CloudNumber) -> Value {
    let country = country_of(&n.number);
    let kind = if country == "GB" && n.number.starts_with("447") { "mobile-lvn" } else { "landline" };
    let features: &[&str] = if n.voice { &["VOICE", "SMS"] } else { &["SMS"] };
    let mut number = json!({ "country": country, "msisdn": n.number, "type": kind, "features": features });
    if let (Some(app), Value::Object(fields)) = (&n.app, &mut number) {
        fields.insert("voiceCallbackType".into(), "app".into());
        fields.insert("voiceCallbackValue".into(), app.as_str().into());
        fields.insert("app_id".into(), app.as_str().into());
    }
    number
}
