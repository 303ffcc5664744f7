//! Handing a Twilio call to a person (TWILIO.md §4.3, §5): `POST
//! /2010-04-01/Accounts/{AC}/Calls/{CallSid}.json` with `Twiml` replacing the stream by a
//! `<Dial>`; a warm transfer's `<Number url>` is TwiML Twilio plays to the person before it
//! connects them (our whisper route).

use super::account::Credentials;
use crate::net::guard::GuardedClient;
use crate::telephony::accounts::endpoint;
use crate::telephony::dial::{DialError, accepted, send};
use crate::telephony::transfer::Request;
use crate::telephony::xml::Response;

/// The TwiML that dials the person, with our number as the caller id.
pub fn dial(req: &Request) -> String {
    let mut r = Response::new();
    r.open("Dial", &[("callerId", req.from)]);
    match &req.whisper_url {
        Some(url) => r.element("Number", &[("url", url), ("method", "POST")], req.to),
        None => r.element("Number", &[], req.to),
    };
    r.close("Dial");
    r.finish()
}

/// What the person hears before they are connected.
pub fn whisper(summary: &str) -> String {
    let mut r = Response::new();
    r.element("Say", &[], summary);
    r.finish()
}

/// Asks Twilio at `base` to dial the person on the caller's call.
pub async fn ask(client: &GuardedClient, base: &str, creds: &Credentials<'_>, req: &Request<'_>) -> Result<(), DialError> {
    let url = endpoint(base, &["2010-04-01", "Accounts", creds.account_sid, "Calls", &format!("{}.json", req.call_id)])?;
    let http = client.post(&url).map_err(|refused| DialError::Unreachable(refused.to_string()))?;
    accepted(&send(http.basic_auth(creds.account_sid, Some(creds.auth_token)).form(&[("Twiml", dial(req))])).await?, "message")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::xml::read_back;

    fn attr<'a>(e: &'a crate::telephony::xml::Element, name: &str) -> Option<&'a str> {
        e.1.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_dial_names_the_person_and_the_whisper_when_warm() {
        let mut req = Request { call_id: "CA1", from: "+14155552671", to: "+14155550100", whisper_url: None, dial_url: String::new() };
        let cold = read_back(&dial(&req));
        assert_eq!(cold.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["Response", "Dial", "Number"]);
        assert_eq!(attr(&cold[1], "callerId"), Some("+14155552671"));
        assert_eq!((cold[2].2.as_str(), attr(&cold[2], "url")), ("+14155550100", None));
        req.whisper_url = Some("https://v.example/w?a=1&b=2".into());
        let warm = read_back(&dial(&req));
        assert_eq!(attr(&warm[2], "url"), Some("https://v.example/w?a=1&b=2"));
        assert_eq!(read_back(&whisper("Caller <needs> help"))[1].2, "Caller <needs> help");
    }
}
