//! Placing a call with Exotel (EXOTEL.md §3, "Connect Voice AI"): `POST
//! /v1/Accounts/{sid}/Calls/connect.json`, HTTP Basic API key : token, a form with the number to
//! dial in `From`, our ExoPhone in `CallerId` and our WebSocket in `StreamUrl` (Exotel connects
//! the answered call straight to it: no answer webhook), and `StatusCallback` for the end.

use serde::Deserialize;

use super::account::Credentials;
use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{Answer, DialError, DialRequest, Placed, send};

/// The form Exotel is sent for `req`.
pub fn form(req: &DialRequest) -> Vec<(&'static str, String)> {
    vec![
        ("From", req.to.clone()),
        ("CallerId", req.from.clone()),
        ("StreamUrl", req.stream_url.clone()),
        ("StreamType", "bidirectional".into()),
        ("StatusCallback", req.events_url.clone()),
        ("StatusCallbackEvents[0]", "terminal".into()),
        ("StatusCallbackEvents[1]", "answered".into()),
        ("StatusCallbackContentType", "application/x-www-form-urlencoded".into()),
        ("CustomField", req.dial_id.clone()),
        ("TimeOut", req.ring_timeout.as_secs().to_string()),
        ("TimeLimit", req.time_limit.as_secs().min(14_400).to_string()),
    ]
}

/// Asks Exotel at `base` to place `req`.
pub async fn place(client: &GuardedClient, base: &str, creds: &Credentials<'_>, req: &DialRequest) -> Result<Placed, DialError> {
    let url = endpoint(base, &["v1", "Accounts", creds.sid, "Calls", "connect.json"])?;
    let http = client.post(&url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    let http = http.basic_auth(creds.api_key, Some(creds.api_token)).header(reqwest::header::ACCEPT, "application/json").form(&form(req));
    read(&send(http).await?)
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "Call")]
    call: CreatedCall,
}

#[derive(Deserialize)]
struct CreatedCall {
    #[serde(rename = "Sid")]
    sid: String,
}

#[derive(Deserialize)]
struct Refusal {
    #[serde(rename = "RestException")]
    exception: RefusalBody,
}

#[derive(Deserialize)]
struct RefusalBody {
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

/// Reads Exotel's answer: the call's `Sid`, or the `RestException` message of a refusal.
fn read(answer: &Answer) -> Result<Placed, DialError> {
    if !answer.status.is_success() {
        let message = serde_json::from_slice::<Refusal>(&answer.body).ok().and_then(|r| r.exception.message);
        return Err(DialError::from_reply(answer.status, answer.retry_after.as_ref(), message));
    }
    let created: Created = crate::telephony::accounts::parse_json(&answer.body)?;
    Ok(Placed { provider_call_id: created.call.sid })
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status: StatusCode::from_u16(status).unwrap(), retry_after: None, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn the_form_dials_the_callee_from_our_exophone_into_our_stream() {
        let req = crate::telephony::dial::tests_support::request();
        let sent = form(&req);
        let get = |k: &str| sent.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("From"), Some("+14155550199"), "Exotel's From is the number dialed");
        assert_eq!(get("CallerId"), Some("+14155552671"));
        assert_eq!(get("StreamUrl"), Some(req.stream_url.as_str()));
        assert_eq!(get("CustomField"), Some("og1"));
        assert_eq!(get("Url"), None, "a StreamUrl call takes no flow URL");
    }

    #[test]
    fn answers_give_the_sid_or_exotels_message() {
        assert_eq!(read(&answer(200, r#"{"Call":{"Sid":"abc123","Status":"in-progress"}}"#)).unwrap().provider_call_id, "abc123");
        let refused = read(&answer(400, r#"{"RestException":{"Status":400,"Message":"CallerId is not an ExoPhone"}}"#));
        assert_eq!(refused, Err(DialError::Refused { message: "CallerId is not an ExoPhone".into() }));
        assert_eq!(read(&answer(401, r#"{"RestException":{"Status":401,"Message":"Authentication"}}"#)), Err(DialError::Credentials));
        assert!(matches!(read(&answer(200, r#"{"Call":{}}"#)), Err(DialError::Protocol(_))));
    }
}
