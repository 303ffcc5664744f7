//! Plivo's numbers (PLIVO.md §5): `GET /v1/Account/{auth_id}/Number/` and
//! `GET /v1/Account/{auth_id}/Number/{number}/`, HTTP Basic auth id : auth token (the path's
//! auth id must be the user), `limit` (20 by default and at most), `offset`, and the filters
//! `number_startswith`, `services`, `type`, `alias`. And `POST /v1/Account/{auth_id}/Call/`: JSON
//! `from` (a number of the account), `to`, `answer_url`, `ring_url`, `hangup_url`,
//! `machine_detection`, `time_limit`, `ring_timeout`, … → 201 `call fired` with a
//! `request_uuid` that is not the call's `CallUUID` (the call itself: `callee::plivo`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use domain::phone_number::Provider;
use serde_json::{Value, json};

use super::callee::plivo::{Amd, Dial};
use super::callee::{self, Call};
use super::calls::{self, e164, secs, url_of};
use super::{Cloud, CloudAccount, CloudNumber, Params, basic_auth, reply, uuid, window};

const MAX_LIMIT: u64 = 20;

/// Every number here is a local one; Plivo's other types are `tollfree`, `mobile`, ….
const NUMBER_TYPE: &str = "local";

/// Plivo's routes (the trailing slash is part of Plivo's URLs).
pub(super) fn routes() -> Router<Cloud> {
    Router::new().route("/v1/Account/{auth_id}/Number/", get(list)).route("/v1/Account/{auth_id}/Number/{number}/", get(one))
}

/// Plivo's place-call route.
pub(super) fn calls() -> Router<Cloud> {
    Router::new().route("/v1/Account/{auth_id}/Call/", post(create))
}

/// A Plivo error: `{"api_id","error"}` (the shape of its 404; PLIVO.md names no other).
fn error(status: StatusCode, message: &str) -> Response {
    reply(status, json!({ "api_id": uuid(), "error": message }))
}

/// Plivo's 429 (300 requests per 5 s per account).
pub(super) fn too_many(_retry_after: u64) -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, "too many requests")
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "authentication failed")
}

/// The account whose auth id is both the path's and the Basic user, with the right token.
fn authorise(cloud: &Cloud, auth_id: &str, headers: &HeaderMap) -> Option<CloudAccount> {
    let (user, token) = basic_auth(headers)?;
    if user != auth_id {
        return None;
    }
    cloud.account(Provider::Plivo, Some(auth_id), &user, &token)
}

async fn list(
    State(cloud): State<Cloud>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(auth_id)) = path else {
        return error(StatusCode::BAD_REQUEST, "invalid auth_id");
    };
    let Some(account) = authorise(&cloud, &auth_id, &headers) else {
        return unauthorized();
    };
    let params = Params::parse(query.as_deref());
    let (limit, offset) = match (params.number(&["limit"]), params.number(&["offset"])) {
        (Ok(Some(0)), _) => return error(StatusCode::BAD_REQUEST, "limit must be at least 1"),
        (Ok(Some(limit)), _) if limit > MAX_LIMIT => return error(StatusCode::BAD_REQUEST, "limit cannot be greater than 20"),
        (Ok(limit), Ok(offset)) => (limit.unwrap_or(MAX_LIMIT), offset.unwrap_or(0)),
        (Err(name), _) | (_, Err(name)) => return error(StatusCode::BAD_REQUEST, &format!("{name} must be a whole number")),
    };
    let Some(filter) = Filter::read(&params) else {
        return error(StatusCode::BAD_REQUEST, "services must be voice, sms or mms, separated by commas");
    };
    let matching: Vec<&CloudNumber> = account.numbers.iter().filter(|n| filter.keeps(n)).collect();
    let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
    let objects: Vec<Value> = window(&matching, offset, limit).iter().map(|n| number(&account, n)).collect();
    let page = |offset: u64| page_uri(&auth_id, &params, limit, offset);
    let next = (offset.saturating_add(limit) < total).then(|| page(offset.saturating_add(limit)));
    let previous = (offset > 0).then(|| page(offset.saturating_sub(limit)));
    let meta = json!({ "limit": limit, "next": next, "offset": offset, "previous": previous, "total_count": total });
    reply(StatusCode::OK, json!({ "api_id": uuid(), "meta": meta, "objects": objects }))
}

async fn one(State(cloud): State<Cloud>, path: Result<Path<(String, String)>, PathRejection>, headers: HeaderMap) -> Response {
    let Ok(Path((auth_id, wanted))) = path else {
        return error(StatusCode::BAD_REQUEST, "invalid path");
    };
    let Some(account) = authorise(&cloud, &auth_id, &headers) else {
        return unauthorized();
    };
    // Plivo writes numbers without `+`; a `+1415…` is no number of the account.
    let Some(found) = account.numbers.iter().find(|n| n.number == wanted) else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    let mut object = number(&account, found);
    if let Value::Object(fields) = &mut object {
        fields.insert("api_id".into(), uuid().into());
    }
    reply(StatusCode::OK, object)
}

/// The listing's filters.
struct Filter<'a> {
    starts_with: &'a str,
    voice: bool,
    /// Plivo's numbers here send SMS but no MMS: asking for `mms` matches none.
    mms: bool,
    number_type: Option<&'a str>,
    alias: Option<&'a str>,
}

impl<'a> Filter<'a> {
    /// `None` when `services` names something Plivo does not offer.
    fn read(params: &'a Params) -> Option<Self> {
        let mut filter = Self {
            starts_with: params.get(&["number_startswith"]).unwrap_or_default(),
            voice: false,
            mms: false,
            number_type: params.get(&["type"]),
            alias: params.get(&["alias"]),
        };
        for service in params.get(&["services"]).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match service {
                "voice" => filter.voice = true,
                "mms" => filter.mms = true,
                "sms" => {}
                _ => return None,
            }
        }
        Some(filter)
    }

    fn keeps(&self, n: &CloudNumber) -> bool {
        n.number.starts_with(self.starts_with)
            && (n.voice || !self.voice)
            && !self.mms
            && self.number_type.is_none_or(|t| t == NUMBER_TYPE)
            // No number here has an alias.
            && self.alias.is_none()
    }
}

/// The relative URL of the page at `offset`, keeping the request's filters.
fn page_uri(auth_id: &str, params: &Params, limit: u64, offset: u64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("limit", &limit.to_string()).append_pair("offset", &offset.to_string());
    for name in ["number_startswith", "services", "type", "alias"] {
        if let Some(value) = params.get(&[name]) {
            query.append_pair(name, value);
        }
    }
    format!("/v1/Account/{auth_id}/Number/?{}", query.finish())
}

fn number(account: &CloudAccount, n: &CloudNumber) -> Value {
    json!({
        "number": n.number,
        "alias": null,
        "application": n.app.as_ref().map(|app| format!("/v1/Account/{}/Application/{app}/", account.id)),
        "number_type": NUMBER_TYPE,
        "sub_account": null,
        "voice_enabled": n.voice,
        "sms_enabled": true,
        "mms_enabled": false,
        "added_on": "2024-01-01",
        "carrier": "Plivo",
        "monthly_rental_rate": "0.80000",
        "resource_uri": format!("/v1/Account/{}/Number/{}/", account.id, n.number),
    })
}

/// Most seconds a call may last (`time_limit`, 24 h) and ring (`ring_timeout`).
const MAX_TIME_LIMIT: u64 = 86_400;
const MAX_RING_TIMEOUT: u64 = 300;

/// A JSON field as text: a string, or a number or boolean written out (Plivo takes both).
fn text(body: &Value, name: &str) -> Option<String> {
    match &body[name] {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An optional callback URL field; `Err` says it is no http(s) URL.
fn callback_url(body: &Value, name: &str) -> Result<Option<String>, String> {
    match text(body, name) {
        Some(url) if !url_of(&url, calls::WEB) => Err(format!("{name} is not a valid URL")),
        url => Ok(url),
    }
}

/// An optional whole number of seconds from 1 to `max`.
fn seconds(body: &Value, name: &str, max: u64) -> Result<Option<u64>, String> {
    match text(body, name) {
        None => Ok(None),
        Some(n) => match n.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{name} must be a whole number from 1 to {max}")),
        },
    }
}

/// `POST …/Call/`: dials `to` from `from`.
async fn create(State(cloud): State<Cloud>, path: Result<Path<String>, PathRejection>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(Path(auth_id)) = path else {
        return error(StatusCode::BAD_REQUEST, "invalid auth_id");
    };
    let Some(account) = authorise(&cloud, &auth_id, &headers) else {
        return unauthorized();
    };
    match place(&cloud, account, &body) {
        Ok(fired) => reply(StatusCode::CREATED, fired),
        Err(message) => error(StatusCode::BAD_REQUEST, &message),
    }
}

/// Validates the dial and places it: the 201's body, or why the request is bad.
fn place(cloud: &Cloud, account: CloudAccount, body: &[u8]) -> Result<Value, String> {
    let body: Value = serde_json::from_slice(body).ok().filter(Value::is_object).ok_or("the body must be a JSON object")?;
    let from_raw = text(&body, "from").ok_or("from is required")?;
    let from = e164(&from_raw)
        .filter(|n| callee::owned(&account, n).is_some())
        .ok_or_else(|| format!("from number {from_raw} is not a voice-enabled number of this account"))?;
    let to_raw = text(&body, "to").ok_or("to is required")?;
    if to_raw.contains('<') {
        return Err("this local cloud dials one destination per request".into());
    }
    let to = e164(&to_raw).ok_or_else(|| format!("to number {to_raw} is not a valid phone number"))?;
    let answer_url = callback_url(&body, "answer_url")?.ok_or("answer_url is required")?;
    for name in ["answer_method", "hangup_method", "ring_method", "machine_detection_method"] {
        if text(&body, name).is_some_and(|m| !m.eq_ignore_ascii_case("POST")) {
            return Err(format!("{name}: this local cloud only sends POST"));
        }
    }
    let (ring_url, hangup_url) = (callback_url(&body, "ring_url")?, callback_url(&body, "hangup_url")?);
    let machine_detection_url = callback_url(&body, "machine_detection_url")?;
    let machine_detection = match text(&body, "machine_detection").as_deref() {
        None | Some("false") => None,
        Some("true") => Some(Amd::Detect),
        Some("hangup") => Some(Amd::Hangup),
        Some(_) => return Err("machine_detection must be true or hangup".into()),
    };
    let time_limit = seconds(&body, "time_limit", MAX_TIME_LIMIT)?;
    let ring_timeout = seconds(&body, "ring_timeout", MAX_RING_TIMEOUT)?;
    let (call_uuid, request_uuid) = (uuid(), uuid());
    let accepted = cloud.accept(Provider::Plivo, &call_uuid, &request_uuid, &from, &to);
    let fired = json!({ "message": "call fired", "request_uuid": request_uuid, "api_id": uuid() });
    let digits = |n: &str| n.trim_start_matches('+').to_string();
    let dial = Dial {
        auth_id: account.id,
        auth_token: account.secret,
        call_uuid,
        request_uuid,
        from: digits(&from),
        to: digits(&to),
        answer_url,
        ring_url,
        hangup_url,
        machine_detection,
        machine_detection_url,
    };
    Call::spawn(callee::plivo::play(Call::new(cloud, accepted, secs(ring_timeout), secs(time_limit)), dial));
    Ok(fired)
}
