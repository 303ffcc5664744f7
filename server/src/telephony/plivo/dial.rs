//! Placing a call with Plivo (PLIVO.md §5): `POST /v1/Account/{auth_id}/Call/`, HTTP Basic
//! auth id : auth token, JSON with numbers as digits, our answer URL (Plivo posts to it when the
//! callee answers), hangup and ring URLs, and machine detection when asked. Plivo answers with a
//! request id, not the call's id: that arrives at the answer URL (with `ALegRequestUUID`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::account::Credentials;
use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{Answer, DialError, DialRequest, Machine, Placed, digits, send};

/// The JSON body Plivo is sent for `req`.
pub fn body(req: &DialRequest) -> Value {
    let mut body = json!({
        "from": digits(&req.from),
        "to": digits(&req.to),
        "answer_url": req.answer_url,
        "answer_method": "POST",
        "hangup_url": req.events_url,
        "hangup_method": "POST",
        "ring_url": req.ring_url,
        "ring_method": "POST",
        "ring_timeout": req.ring_timeout.as_secs().clamp(1, 120),
        "time_limit": req.time_limit.as_secs().clamp(1, 14_400),
    });
    // `hangup`: Plivo ends a call a machine took; `true`: it reports the machine and goes on.
    if req.machine != Machine::Off {
        body["machine_detection"] = json!(if req.machine == Machine::HangUp { "hangup" } else { "true" });
        body["machine_detection_url"] = json!(req.ring_url);
        body["machine_detection_method"] = json!("POST");
    }
    body
}

/// Asks Plivo at `base` to place `req`.
pub async fn place(client: &GuardedClient, base: &str, creds: &Credentials<'_>, req: &DialRequest) -> Result<Placed, DialError> {
    // Plivo's resource paths end in `/`.
    let url = endpoint(base, &["v1", "Account", creds.auth_id, "Call", ""])?;
    let http = client.post(&url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    read(&send(http.basic_auth(creds.auth_id, Some(creds.auth_token)).json(&body(req))).await?)
}

#[derive(Deserialize)]
struct Created {
    request_uuid: String,
}

#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    error: Option<Value>,
}

/// Reads Plivo's answer: the request id, or the `error` it gave (a string or an object).
fn read(answer: &Answer) -> Result<Placed, DialError> {
    if !answer.status.is_success() {
        let message = serde_json::from_slice::<Refusal>(&answer.body).ok().and_then(|r| match r.error? {
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        });
        return Err(DialError::from_reply(answer.status, answer.retry_after.as_ref(), message));
    }
    let created: Created = crate::telephony::accounts::parse_json(&answer.body)?;
    Ok(Placed { provider_call_id: created.request_uuid })
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    #[test]
    fn the_body_names_our_urls_in_digits() {
        let req = crate::telephony::dial::tests_support::request();
        let b = body(&req);
        assert_eq!((b["from"].as_str(), b["to"].as_str()), (Some("14155552671"), Some("14155550199")));
        assert_eq!(b["answer_url"], req.answer_url.as_str());
        assert_eq!(b["hangup_url"], req.events_url.as_str());
        assert_eq!(b["ring_url"], req.ring_url.as_str());
        assert_eq!(b["machine_detection"], "hangup");
        assert_eq!(body(&DialRequest { machine: Machine::LeaveMessage, ..req.clone() })["machine_detection"], "true");
        assert!(body(&DialRequest { machine: Machine::Off, ..req }).get("machine_detection").is_none());
    }

    #[test]
    fn answers_give_the_request_id_or_plivos_error() {
        let answer = |s: u16, b: &str| Answer { status: StatusCode::from_u16(s).unwrap(), retry_after: None, body: b.as_bytes().to_vec() };
        let placed = read(&answer(201, r#"{"message":"call fired","request_uuid":"r-1","api_id":"a"}"#)).unwrap();
        assert_eq!(placed.provider_call_id, "r-1");
        let bad = read(&answer(400, r#"{"api_id":"a","error":"from number not in account"}"#));
        assert_eq!(bad, Err(DialError::Refused { message: "from number not in account".into() }));
        assert_eq!(read(&answer(401, r#"{"api_id":"a","error":"not authorized"}"#)), Err(DialError::Credentials));
    }
}
