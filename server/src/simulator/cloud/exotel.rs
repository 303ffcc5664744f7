//! Exotel's ExoPhone listing (EXOTEL.md §3): `GET /v2_beta/Accounts/{sid}/IncomingPhoneNumbers`
//! (also with `.json`), HTTP Basic API key : API token, 0-based `page` and `page_size` (also
//! `Page`/`PageSize`, which third-party code sends), 50 a page by default, at most 100.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use domain::phone_number::Provider;
use serde_json::{Value, json};

use super::{Cloud, CloudAccount, CloudNumber, Params, basic_auth, country_of, reply, stable_hex, window};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 100;

/// Exotel's routes.
pub(super) fn routes() -> Router<Cloud> {
    Router::new()
        .route("/v2_beta/Accounts/{sid}/IncomingPhoneNumbers", get(list))
        .route("/v2_beta/Accounts/{sid}/IncomingPhoneNumbers.json", get(list))
}

/// EXOTEL.md gives no error body; this is the `RestException` envelope of Exotel's v1 JSON API
/// (the shape of Twilio's old errors), used for every status.
fn error(status: StatusCode, message: &str) -> Response {
    reply(status, json!({ "RestException": { "Status": status.as_u16(), "Message": message } }))
}

/// Exotel's 429 (≈200 requests a minute on its Voice APIs).
pub(super) fn too_many(_retry_after: u64) -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, "Too many requests. Please retry after some time.")
}

async fn list(
    State(cloud): State<Cloud>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(sid)) = path else {
        return error(StatusCode::BAD_REQUEST, "Invalid account SID");
    };
    // Exotel authenticates per account: a key that opens another account's SID is refused too.
    let Some(account) = basic_auth(&headers).and_then(|(key, token)| cloud.account(Provider::Exotel, Some(&sid), &key, &token)) else {
        return error(StatusCode::UNAUTHORIZED, "Authentication is required to view this page.");
    };
    let params = Params::parse(query.as_deref());
    let (page, size) = match (params.number(&["page", "Page"]), params.number(&["page_size", "PageSize"])) {
        (Ok(page), Ok(size)) => (page.unwrap_or(0), size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)),
        (Err(name), _) | (_, Err(name)) => return error(StatusCode::BAD_REQUEST, &format!("Invalid value for {name}")),
    };
    let numbers: Vec<Value> = window(&account.numbers, page.saturating_mul(size), size).iter().map(|n| number(&account, n)).collect();
    reply(StatusCode::OK, json!({ "page": page, "page_size": size, "incoming_phone_numbers": numbers }))
}

fn number(account: &CloudAccount, n: &CloudNumber) -> Value {
    json!({
        "sid": stable_hex(&[&account.id, &n.number]),
        "phone_number": n.number,
        "friendly_name": national(&n.number),
        "capabilities": { "voice": n.voice, "sms": true },
        "country": country_of(&n.number),
        "region": region(&n.number),
    })
}

/// India's `0`-prefixed national form (`+911140000001` → `01140000001`); others as written.
fn national(number: &str) -> String {
    number.strip_prefix("+91").map_or_else(|| number.to_string(), |rest| format!("0{rest}"))
}

/// The telecom circle of an Indian metro number (the doc's example is `DL` for `+9111…`); empty
/// for the rest, which the doc does not cover.
fn region(number: &str) -> &'static str {
    const CIRCLES: &[(&str, &str)] =
        &[("+9111", "DL"), ("+9122", "MH"), ("+9133", "WB"), ("+9144", "TN"), ("+9180", "KA"), ("+9140", "AP")];
    CIRCLES.iter().find(|(prefix, _)| number.starts_with(prefix)).map_or("", |(_, circle)| circle)
}
