//! Placing a call with Vonage (VONAGE.md §5): `POST /v1/calls` with `Authorization: Bearer` a
//! JWT signed RS256 with the application's private key (claims `application_id`, `iat`, `jti`,
//! `exp`), a JSON body with the callee and our number as phone endpoints (digits without `+`),
//! our answer and event URLs, and machine detection when asked.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{Answer, DialError, DialRequest, Machine, Placed, digits, send};

/// How long our application token is good for (Vonage's own libraries use 15 minutes).
const TOKEN_SECS: i64 = 15 * 60;

#[derive(Serialize)]
struct AppClaims<'a> {
    application_id: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

/// The application JWT for the Voice API, issued at `now` (Unix seconds).
pub fn app_token(application_id: &str, private_key_pem: &str, now: i64) -> Result<String, DialError> {
    let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
        .map_err(|_| DialError::Refused { message: "the number's Vonage private key is not an RSA key".into() })?;
    let claims =
        AppClaims { application_id, iat: now, exp: now + TOKEN_SECS, jti: crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 24) };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
        .map_err(|_| DialError::Refused { message: "the number's Vonage private key cannot sign".into() })
}

/// The JSON body Vonage is sent for `req`.
pub fn body(req: &DialRequest) -> Value {
    let mut body = json!({
        "to": [{ "type": "phone", "number": digits(&req.to) }],
        "from": { "type": "phone", "number": digits(&req.from) },
        "answer_url": [req.answer_url],
        "answer_method": "GET",
        "event_url": [req.events_url],
        "event_method": "POST",
        "ringing_timer": req.ring_timeout.as_secs().clamp(1, 120),
        "length_timer": req.time_limit.as_secs().clamp(1, 86_400),
    });
    // `hangup`: Vonage ends a call a machine took; `continue`: the call goes on (the agent's
    // greeting is the message) and a `machine` event says what answered.
    match req.machine {
        Machine::Off => {}
        Machine::HangUp => body["machine_detection"] = json!("hangup"),
        Machine::LeaveMessage => body["machine_detection"] = json!("continue"),
    }
    body
}

/// Asks Vonage's Voice API at `base` to place `req` for application `application_id`.
pub async fn place(
    client: &GuardedClient,
    base: &str,
    application_id: &str,
    private_key_pem: &str,
    req: &DialRequest,
) -> Result<Placed, DialError> {
    let token = app_token(application_id, private_key_pem, chrono::Utc::now().timestamp())?;
    let url = endpoint(base, &["v1", "calls"])?;
    let http = client.post(&url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    read(&send(http.bearer_auth(token).json(&body(req))).await?)
}

#[derive(Deserialize)]
struct Created {
    uuid: String,
}

/// Vonage's problem body: `{"type","title","detail","invalid_parameters":[{"name","reason"}]}`.
#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    invalid_parameters: Vec<Invalid>,
}

#[derive(Deserialize)]
struct Invalid {
    name: String,
    reason: String,
}

/// Reads Vonage's answer: the call's `uuid`, or what the problem body says.
fn read(answer: &Answer) -> Result<Placed, DialError> {
    if !answer.status.is_success() {
        let message = serde_json::from_slice::<Refusal>(&answer.body).ok().and_then(|r| {
            let invalid: Vec<String> = r.invalid_parameters.iter().map(|p| format!("{}: {}", p.name, p.reason)).collect();
            match (r.detail.or(r.title), invalid.is_empty()) {
                (Some(d), true) => Some(d),
                (Some(d), false) => Some(format!("{d} ({})", invalid.join("; "))),
                (None, false) => Some(invalid.join("; ")),
                (None, true) => None,
            }
        });
        // A 401 with Vonage's words is still our credentials.
        return Err(DialError::from_reply(answer.status, answer.retry_after.as_ref(), message));
    }
    let created: Created = crate::telephony::accounts::parse_json(&answer.body)?;
    Ok(Placed { provider_call_id: created.uuid })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};
    use reqwest::StatusCode;

    use super::*;

    const PRIVATE: &str = include_str!("../../bench/throwaway-rsa.pem");
    const PUBLIC: &str = include_str!("../../bench/throwaway-rsa.pub.pem");

    #[test]
    fn the_token_is_rs256_for_the_application() {
        let now = chrono::Utc::now().timestamp();
        let token = app_token("app-1", PRIVATE, now).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(), &v).unwrap().claims;
        assert_eq!(claims["application_id"], "app-1");
        assert_eq!(claims["iat"], now);
        assert_eq!(claims["exp"], now + TOKEN_SECS);
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() == 24));
        assert!(matches!(app_token("app-1", "not a key", now), Err(DialError::Refused { .. })));
    }

    #[test]
    fn the_body_uses_phone_endpoints_in_digits_and_our_urls() {
        let req = crate::telephony::dial::tests_support::request();
        let b = body(&req);
        assert_eq!(b["to"], json!([{ "type": "phone", "number": "14155550199" }]));
        assert_eq!(b["from"], json!({ "type": "phone", "number": "14155552671" }));
        assert_eq!(b["answer_url"][0], req.answer_url.as_str());
        assert_eq!(b["event_url"][0], req.events_url.as_str());
        assert_eq!(b["machine_detection"], "hangup");
        assert_eq!(body(&DialRequest { machine: Machine::LeaveMessage, ..req.clone() })["machine_detection"], "continue");
        assert!(body(&DialRequest { machine: Machine::Off, ..req }).get("machine_detection").is_none());
    }

    #[test]
    fn answers_give_the_uuid_or_the_problem() {
        let answer = |s: u16, b: &str| Answer { status: StatusCode::from_u16(s).unwrap(), retry_after: None, body: b.as_bytes().to_vec() };
        assert_eq!(read(&answer(201, r#"{"uuid":"u-1","status":"started"}"#)).unwrap().provider_call_id, "u-1");
        let bad = read(&answer(400, r#"{"title":"Bad Request","invalid_parameters":[{"name":"to","reason":"not a number"}]}"#));
        assert_eq!(bad, Err(DialError::Refused { message: "Bad Request (to: not a number)".into() }));
        assert_eq!(
            read(&answer(401, r#"{"title":"Unauthorized","detail":"You did not provide correct credentials."}"#)),
            Err(DialError::Credentials)
        );
    }
}
