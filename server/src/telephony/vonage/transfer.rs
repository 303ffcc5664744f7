//! Handing a Vonage call to a person (VONAGE.md §5): `PUT /v1/calls/{uuid}` with
//! `{"action":"transfer","destination":{"type":"ncco","ncco":[connect to the phone]}}` and the
//! application's JWT; a warm transfer's phone endpoint has an `onAnswer` URL whose NCCO Vonage
//! plays to the person before connecting them (our whisper route).

use serde_json::{Value, json};

use super::dial::app_token;
use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{DialError, accepted, digits, send};
use crate::telephony::transfer::Request;

/// The transfer's body: an NCCO that connects the caller to the person.
pub fn body(req: &Request) -> Value {
    let mut endpoint = json!({ "type": "phone", "number": digits(req.to) });
    if let Some(url) = &req.whisper_url {
        endpoint["onAnswer"] = json!({ "url": url });
    }
    json!({
        "action": "transfer",
        "destination": { "type": "ncco", "ncco": [{ "action": "connect", "from": digits(req.from), "endpoint": [endpoint] }] }
    })
}

/// What the person hears before they are connected.
pub fn whisper(summary: &str) -> Value {
    json!([{ "action": "talk", "text": summary }])
}

/// Asks Vonage's Voice API at `base` to transfer the caller's leg.
pub async fn ask(client: &GuardedClient, base: &str, application_id: &str, private_key: &str, req: &Request<'_>) -> Result<(), DialError> {
    let token = app_token(application_id, private_key, chrono::Utc::now().timestamp())?;
    let url = endpoint(base, &["v1", "calls", req.call_id])?;
    let http = client.request(reqwest::Method::PUT, &url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    accepted(&send(http.bearer_auth(token).json(&body(req))).await?, "title")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ncco_connects_the_person_and_whispers_when_warm() {
        let mut req = Request { call_id: "u-1", from: "+14155552671", to: "+14155550100", whisper_url: None, dial_url: String::new() };
        let cold = body(&req);
        assert_eq!(cold["action"], "transfer");
        let connect = &cold["destination"]["ncco"][0];
        assert_eq!((connect["action"].as_str(), connect["from"].as_str()), (Some("connect"), Some("14155552671")));
        assert_eq!(connect["endpoint"][0], json!({ "type": "phone", "number": "14155550100" }));
        req.whisper_url = Some("https://v.example/w".into());
        assert_eq!(body(&req)["destination"]["ncco"][0]["endpoint"][0]["onAnswer"]["url"], "https://v.example/w");
        assert_eq!(whisper("Hi")[0]["text"], "Hi");
    }
}
