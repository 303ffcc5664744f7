//! Vonage's Voice API place-call (VONAGE.md §5): `POST /v1/calls`, `Authorization: Bearer` a
//! JWT of the application (RS256 with its private key; claims `application_id`, `iat`, `jti`),
//! a JSON body with `to`, `from` (a number of the account), `answer_url` or `ncco`,
//! `event_url`, `machine_detection`, `ringing_timer`, `length_timer` → 201 `started`. Errors
//! are RFC 7807 problems, as the Voice API writes them (the call itself: `callee::vonage`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::phone_number::Provider;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::callee::vonage::{Amd, Dial, Ncco};
use super::callee::{self, Call};
use super::calls::{self, e164, secs, url_of};
use super::{Cloud, CloudAccount, reply, uuid};

/// Most seconds a call may ring (`ringing_timer`) and last (`length_timer`).
const MAX_RINGING_TIMER: u64 = 120;
const MAX_LENGTH_TIMER: u64 = 86_400;

/// Vonage's place-call route.
pub(in crate::simulator::cloud) fn calls() -> Router<Cloud> {
    Router::new().route("/v1/calls", post(create))
}

/// A Voice API problem: `{"type","title","detail","instance"}` (and `invalid_parameters`).
fn problem(status: StatusCode, kind: &str, title: &str, detail: &str, invalid: Option<Vec<Value>>) -> Response {
    let mut body = json!({
        "type": format!("https://developer.nexmo.com/api-errors{kind}"),
        "title": title,
        "detail": detail,
        "instance": uuid(),
    });
    if let (Some(invalid), Value::Object(fields)) = (invalid, &mut body) {
        fields.insert("invalid_parameters".into(), invalid.into());
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// The Voice API's 429: more than 3 creates a second.
pub(in crate::simulator::cloud) fn too_many_calls(_retry_after: u64) -> Response {
    problem(StatusCode::TOO_MANY_REQUESTS, "#throttled", "Throttled", "You have exceeded the rate of call creation requests.", None)
}

fn unauthorized() -> Response {
    problem(StatusCode::UNAUTHORIZED, "#unauthorized", "Unauthorized", "You did not provide correct credentials.", None)
}

/// The claims an application's JWT must carry.
#[derive(Deserialize)]
struct AppClaims {
    application_id: String,
    #[allow(dead_code, reason = "required, not read")]
    iat: i64,
    #[allow(dead_code, reason = "required, not read")]
    jti: String,
}

/// The account whose application signed the bearer JWT: named by its `application_id` claim,
/// and, when the account has the application's public key, verified with it (RS256, `exp`
/// when present).
pub(super) fn authorise(cloud: &Cloud, headers: &HeaderMap) -> Option<CloudAccount> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.split('.').count() != 3 {
        return None;
    }
    let claims = jsonwebtoken::dangerous::insecure_decode::<AppClaims>(token).ok()?.claims;
    let account = {
        let inner = cloud.lock();
        let found =
            inner.accounts.iter().find(|a| a.provider == Provider::Vonage && a.application_id.as_ref() == Some(&claims.application_id));
        found.cloned()?
    };
    if let Some(pem) = &account.public_key {
        let key = DecodingKey::from_rsa_pem(pem.as_bytes())
            .inspect_err(|e| tracing::warn!(error = %e, "the cloud's Vonage public key is no RSA public key in PEM form"))
            .ok()?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        jsonwebtoken::decode::<AppClaims>(token, &key, &validation).ok()?;
    }
    Some(account)
}

/// A body field that is wrong, and why.
type Invalid = (&'static str, String);

/// A `{"type":"phone","number":"<digits>"}` endpoint's number as `+` and digits.
fn phone(endpoint: &Value) -> Option<String> {
    (endpoint["type"] == "phone").then_some(())?;
    e164(endpoint["number"].as_str()?)
}

/// The one URL of a `["https://…"]` list.
fn one_url(value: &Value) -> Option<String> {
    match value.as_array()?.as_slice() {
        [url] => url.as_str().filter(|u| url_of(u, calls::WEB)).map(str::to_string),
        _ => None,
    }
}

/// A whole number of seconds from 1 to `max`.
fn timer(value: Option<&Value>, max: u64) -> Result<Option<u64>, String> {
    match value {
        None => Ok(None),
        Some(v) => v.as_u64().filter(|n| (1..=max).contains(n)).map(Some).ok_or_else(|| format!("must be a whole number from 1 to {max}")),
    }
}

/// What a valid body asks for.
struct Request {
    /// The callee, `+` and digits.
    to: String,
    /// Our number, `+` and digits (`None`: `random_from_number`).
    from: Option<String>,
    ncco: Ncco,
    event_url: Option<String>,
    machine_detection: Option<Amd>,
    /// Seconds it may ring, and the call may last.
    ringing_timer: Option<u64>,
    length_timer: Option<u64>,
}

/// Reads the body, or every field that is wrong.
fn read(body: &Map<String, Value>) -> Result<Request, Vec<Invalid>> {
    let mut invalid: Vec<Invalid> = Vec::new();
    let to = match body.get("to").and_then(Value::as_array).map(Vec::as_slice) {
        Some([endpoint]) => phone(endpoint),
        _ => None,
    };
    if to.is_none() {
        invalid.push(("to", "must be one phone endpoint with a number of 8 to 15 digits".into()));
    }
    let random_from = body.get("random_from_number") == Some(&Value::Bool(true));
    let from = match (body.get("from"), random_from) {
        (Some(_), true) => {
            invalid.push(("from", "from and random_from_number cannot both be given".into()));
            None
        }
        (Some(endpoint), false) => {
            let from = phone(endpoint);
            if from.is_none() {
                invalid.push(("from", "must be a phone endpoint with a number of 8 to 15 digits".into()));
            }
            from
        }
        (None, true) => None,
        (None, false) => {
            invalid.push(("from", "from or random_from_number is required".into()));
            None
        }
    };
    let ncco = match (body.get("answer_url"), body.get("ncco")) {
        (Some(url), None) => one_url(url).map(Ncco::Url),
        (None, Some(ncco)) if ncco.is_array() => Some(Ncco::Inline(ncco.to_string())),
        _ => None,
    };
    if ncco.is_none() {
        invalid.push(("answer_url", "exactly one of answer_url (one http(s) URL) and ncco (an array) is required".into()));
    }
    if body.get("answer_method").and_then(Value::as_str).is_some_and(|m| !m.eq_ignore_ascii_case("GET")) {
        invalid.push(("answer_method", "this local cloud only fetches answer_url with GET".into()));
    }
    let event_url = body.get("event_url").map(one_url);
    if event_url.as_ref().is_some_and(Option::is_none) {
        invalid.push(("event_url", "must be one http(s) URL".into()));
    }
    if body.get("event_method").and_then(Value::as_str).is_some_and(|m| !m.eq_ignore_ascii_case("POST")) {
        invalid.push(("event_method", "this local cloud only sends events with POST".into()));
    }
    let machine_detection = match body.get("machine_detection").map(|m| m.as_str()) {
        None => None,
        Some(Some("continue")) => Some(Amd::Continue),
        Some(Some("hangup")) => Some(Amd::Hangup),
        Some(_) => {
            invalid.push(("machine_detection", "must be continue or hangup".into()));
            None
        }
    };
    let ringing_timer = timer(body.get("ringing_timer"), MAX_RINGING_TIMER).unwrap_or_else(|e| {
        invalid.push(("ringing_timer", e));
        None
    });
    let length_timer = timer(body.get("length_timer"), MAX_LENGTH_TIMER).unwrap_or_else(|e| {
        invalid.push(("length_timer", e));
        None
    });
    match (to, ncco) {
        (Some(to), Some(ncco)) if invalid.is_empty() => {
            Ok(Request { to, from, ncco, event_url: event_url.flatten(), machine_detection, ringing_timer, length_timer })
        }
        _ => Err(invalid),
    }
}

/// `POST /v1/calls`: dials `to` from `from`.
async fn create(State(cloud): State<Cloud>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(account) = authorise(&cloud, &headers) else {
        return unauthorized();
    };
    let request = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(body)) => read(&body),
        _ => Err(vec![("body", "must be a JSON object".into())]),
    };
    let request = match request {
        Ok(request) => request,
        Err(invalid) => {
            let invalid = invalid.into_iter().map(|(name, reason)| json!({ "name": name, "reason": reason })).collect();
            return problem(
                StatusCode::BAD_REQUEST,
                "#validation",
                "Bad Request",
                "The request failed due to validation errors",
                Some(invalid),
            );
        }
    };
    let number = match &request.from {
        Some(from) => callee::owned(&account, from),
        None => account.numbers.iter().find(|n| n.voice),
    };
    let Some(from) = number.and_then(|n| e164(&n.number)) else {
        let detail = format!("The from number {} is not a number of this account.", request.from.as_deref().unwrap_or("(random)"));
        return problem(StatusCode::FORBIDDEN, "/voice#forbidden", "Forbidden", &detail, None);
    };
    let call_uuid = uuid();
    let conversation_uuid = format!("CON-{}", uuid());
    let accepted = cloud.accept(Provider::Vonage, &call_uuid, &call_uuid, &from, &request.to);
    let body = json!({ "uuid": call_uuid, "status": "started", "direction": "outbound", "conversation_uuid": conversation_uuid });
    let digits = |n: &str| n.trim_start_matches('+').to_string();
    let dial = Dial {
        api_key: account.key,
        application_id: account.application_id.unwrap_or_default(),
        signature_secret: account.signature_secret,
        uuid: call_uuid,
        conversation_uuid,
        from: digits(&from),
        to: digits(&request.to),
        ncco: request.ncco,
        event_url: request.event_url,
        machine_detection: request.machine_detection,
    };
    let call = Call::new(&cloud, accepted, secs(request.ringing_timer), secs(request.length_timer));
    Call::spawn(callee::vonage::play(call, dial));
    reply(StatusCode::CREATED, body)
}
