//! Placing a call with Twilio (TWILIO.md §5): `POST /2010-04-01/Accounts/{AC}/Calls.json`,
//! HTTP Basic Account SID : auth token, a form with `To`, `From`, our voice webhook in `Url`
//! (Twilio fetches it when the callee answers), the status callback with every event, and
//! answering-machine detection when asked.

use serde::Deserialize;

use super::account::Credentials;
use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{Answer, DialError, DialRequest, Machine, Placed, send};

/// The form Twilio is sent for `req` (`StatusCallbackEvent` repeats, one event each).
pub fn form(req: &DialRequest) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("To", req.to.clone()),
        ("From", req.from.clone()),
        ("Url", req.answer_url.clone()),
        ("Method", "POST".into()),
        ("StatusCallback", req.events_url.clone()),
        ("StatusCallbackMethod", "POST".into()),
        ("Timeout", req.ring_timeout.as_secs().clamp(5, 600).to_string()),
        ("TimeLimit", req.time_limit.as_secs().to_string()),
    ];
    for event in ["initiated", "ringing", "answered", "completed"] {
        form.push(("StatusCallbackEvent", event.into()));
    }
    // The answer webhook waits for the verdict (`AnsweredBy`): at once to hang up, after the
    // greeting's beep to leave a message.
    match req.machine {
        Machine::Off => {}
        Machine::HangUp => form.push(("MachineDetection", "Enable".into())),
        Machine::LeaveMessage => form.push(("MachineDetection", "DetectMessageEnd".into())),
    }
    form
}

/// Asks Twilio at `base` to place `req`.
pub async fn place(client: &GuardedClient, base: &str, creds: &Credentials<'_>, req: &DialRequest) -> Result<Placed, DialError> {
    let url = endpoint(base, &["2010-04-01", "Accounts", creds.account_sid, "Calls.json"])?;
    let http = client.post(&url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    let http = http.basic_auth(creds.account_sid, Some(creds.auth_token)).form(&form(req));
    read(&send(http).await?)
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// Twilio's error body: `{"code","message","more_info","status"}`.
#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads Twilio's answer: the call's `sid`, or the error's message and code.
fn read(answer: &Answer) -> Result<Placed, DialError> {
    if !answer.status.is_success() {
        let message = serde_json::from_slice::<Refusal>(&answer.body).ok().and_then(|r| match (r.message, r.code) {
            (Some(m), Some(code)) => Some(format!("{m} (error {code})")),
            (m, _) => m,
        });
        return Err(DialError::from_reply(answer.status, answer.retry_after.as_ref(), message));
    }
    let created: Created = crate::telephony::accounts::parse_json(&answer.body)?;
    Ok(Placed { provider_call_id: created.sid })
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status: StatusCode::from_u16(status).unwrap(), retry_after: None, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn the_form_names_our_webhooks_every_event_and_detection() {
        let req = crate::telephony::dial::tests_support::request();
        let sent = form(&req);
        let get = |k: &str| sent.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!((get("To"), get("From")), (Some("+14155550199"), Some("+14155552671")));
        assert_eq!(get("Url"), Some(req.answer_url.as_str()));
        assert_eq!(get("StatusCallback"), Some(req.events_url.as_str()));
        assert_eq!(get("MachineDetection"), Some("Enable"));
        let events: Vec<&str> = sent.iter().filter(|(n, _)| *n == "StatusCallbackEvent").map(|(_, v)| v.as_str()).collect();
        assert_eq!(events, ["initiated", "ringing", "answered", "completed"]);
        let message = form(&DialRequest { machine: Machine::LeaveMessage, ..req.clone() });
        assert!(message.iter().any(|(n, v)| *n == "MachineDetection" && v == "DetectMessageEnd"));
        let plain = form(&DialRequest { machine: Machine::Off, ..req });
        assert!(plain.iter().all(|(n, _)| *n != "MachineDetection"));
    }

    #[test]
    fn answers_give_the_sid_or_twilios_message() {
        assert_eq!(read(&answer(201, r#"{"sid":"CA1","status":"queued"}"#)).unwrap().provider_call_id, "CA1");
        let refused = read(&answer(400, r#"{"code":21211,"message":"Invalid 'To' Phone Number","status":400}"#));
        assert_eq!(refused, Err(DialError::Refused { message: "Invalid 'To' Phone Number (error 21211)".into() }));
        assert_eq!(read(&answer(401, r#"{"code":20003,"message":"Authenticate","status":401}"#)), Err(DialError::Credentials));
        assert!(matches!(read(&answer(429, r#"{"code":20429}"#)), Err(DialError::RateLimited { .. })));
    }
}
