//! Handing a Plivo call to a person (PLIVO.md §5): `POST /v1/Account/{id}/Call/{uuid}/` with
//! `legs=aleg` and an `aleg_url` whose XML (our transfer route) replaces the stream by a
//! `<Dial>`; a warm transfer's `confirmSound` is XML Plivo plays to the person when they answer
//! (our whisper route).

use serde_json::json;

use super::account::Credentials;
use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{DialError, accepted, digits, send};
use crate::telephony::transfer::Request;
use crate::telephony::xml::Response;

/// The XML that dials the person (the `aleg_url`'s answer), our number as the caller id.
pub fn dial(from: &str, to: &str, whisper_url: Option<&str>) -> String {
    let from = digits(from);
    let mut attrs = vec![("callerId", from.as_str())];
    if let Some(url) = whisper_url {
        attrs.push(("confirmSound", url));
    }
    let mut r = Response::new();
    r.open("Dial", &attrs).element("Number", &[], &digits(to)).close("Dial");
    r.finish()
}

/// What the person hears when they answer.
pub fn whisper(summary: &str) -> String {
    let mut r = Response::new();
    r.element("Speak", &[], summary);
    r.finish()
}

/// Asks Plivo at `base` to move the caller's leg to our transfer XML.
pub async fn ask(client: &GuardedClient, base: &str, creds: &Credentials<'_>, req: &Request<'_>) -> Result<(), DialError> {
    let url = endpoint(base, &["v1", "Account", creds.auth_id, "Call", req.call_id, ""])?;
    let http = client.post(&url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    let body = json!({ "legs": "aleg", "aleg_url": req.dial_url, "aleg_method": "POST" });
    accepted(&send(http.basic_auth(creds.auth_id, Some(creds.auth_token)).json(&body)).await?, "error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::xml::read_back;

    #[test]
    fn the_dial_xml_names_the_person_and_the_confirm_sound_when_warm() {
        let cold = read_back(&dial("+14155552671", "+14155550100", None));
        assert_eq!(cold.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["Response", "Dial", "Number"]);
        assert_eq!(cold[1].1, vec![("callerId".to_string(), "14155552671".to_string())]);
        assert_eq!(cold[2].2, "14155550100");
        let warm = read_back(&dial("+14155552671", "+14155550100", Some("https://v.example/w?call=a&b")));
        assert!(warm[1].1.contains(&("confirmSound".to_string(), "https://v.example/w?call=a&b".to_string())));
        assert_eq!(read_back(&whisper("Hi & bye"))[1].2, "Hi & bye");
    }
}
