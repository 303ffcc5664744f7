//! Placing an outbound call through a provider's Calls API, in terms no provider owns: what we
//! ask for ([`DialRequest`]), with which credentials ([`DialCredentials`]), and how it can fail
//! ([`DialError`]). Each provider's request and the reading of its answer live in its folder
//! (`<provider>/dial.rs`); [`place`] picks one.
//!
//! Every URL given to a provider for an outbound call carries [`DIAL_PARAMETER`], our id for the
//! call, so its callbacks and its stream find the row made before the provider was asked.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;

use super::accounts::{AccountError, parse_retry_after};
use super::{exotel, plivo, twilio, vonage};
use crate::config::providers::ProviderApis;
use crate::net::guard::GuardedClient;

/// The query parameter (and stream parameter) naming our id of an outbound call.
pub const DIAL_PARAMETER: &str = "vg_dial";

/// Longest provider message kept in an error (they are shown to the user and stored).
const MAX_MESSAGE: usize = 300;

/// Largest answer body read from a Calls API.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// One outbound call as the provider is asked for it. Numbers are E.164 (`+…`); each provider
/// writes them its own way.
#[derive(Debug, Clone)]
pub struct DialRequest {
    /// Our number, the caller id.
    pub from: String,
    /// Whom to call.
    pub to: String,
    /// Where the provider asks what to do when the callee answers (Twilio, Vonage, Plivo).
    pub answer_url: String,
    /// Where the provider reports progress and the end (Twilio's status callback, Vonage's event
    /// URL, Plivo's hangup URL, Exotel's StatusCallback).
    pub events_url: String,
    /// Where Plivo reports ringing and machine detection (its ring and machine URLs).
    pub ring_url: String,
    /// The media stream URL (Exotel connects the call straight to it).
    pub stream_url: String,
    /// Whether to ask the provider to tell a person from an answering machine, and what to do
    /// with a machine.
    pub machine: Machine,
    /// Longest ring before the provider gives up.
    pub ring_timeout: Duration,
    /// Longest call.
    pub time_limit: Duration,
    /// Our id of the call (Exotel's `CustomField`).
    pub dial_id: String,
}

/// What an outbound call asks of the provider's answering-machine detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// No detection.
    Off,
    /// Detect, and hang up on a machine (the provider does, where it can).
    HangUp,
    /// Detect, and wait for the machine's beep to leave a message.
    LeaveMessage,
}

impl Machine {
    /// The policy an agent's `onMachine` names.
    pub fn of_agent(on_machine: &str) -> Self {
        if on_machine == "leave_message" { Self::LeaveMessage } else { Self::HangUp }
    }
}

/// The credentials a provider's Calls API takes (opened; never logged: `Debug` prints none).
#[derive(Clone)]
pub enum DialCredentials {
    Exotel {
        domain: String,
        sid: String,
        api_key: String,
        api_token: String,
    },
    Twilio {
        account_sid: String,
        auth_token: String,
    },
    /// Vonage's Voice API takes a JWT signed with the application's private key.
    Vonage {
        application_id: String,
        private_key: String,
    },
    Plivo {
        auth_id: String,
        auth_token: String,
    },
}

impl std::fmt::Debug for DialCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DialCredentials { .. }")
    }
}

/// Why a provider did not place the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// 401 or 403 without a reason of the provider's: the credentials are wrong.
    #[error("the provider refused the credentials")]
    Credentials,
    /// 429: the provider asks us to wait.
    #[error("the provider is rate limiting calls")]
    RateLimited { retry_after: Option<Duration> },
    /// The provider refused this call and said why (a number not allowed, an account limit…).
    #[error("{message}")]
    Refused { message: String },
    /// No answer, a timeout, a refused address or a 5xx.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// An answer we could not read.
    #[error("the provider answered unexpectedly: {0}")]
    Protocol(String),
}

impl From<AccountError> for DialError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Credentials => Self::Credentials,
            AccountError::RateLimited { retry_after } => Self::RateLimited { retry_after },
            AccountError::Unreachable(why) => Self::Unreachable(why),
            AccountError::Protocol(why) => Self::Protocol(why),
        }
    }
}

impl DialError {
    /// The error a refusing answer means: `message` is the provider's own words (from its error
    /// body), kept when the status is a refusal of the call rather than of us.
    pub(crate) fn from_reply(
        status: reqwest::StatusCode,
        retry_after: Option<&reqwest::header::HeaderValue>,
        message: Option<String>,
    ) -> Self {
        match (status.as_u16(), message) {
            (401, _) => Self::Credentials,
            (429, _) => Self::RateLimited { retry_after: retry_after.and_then(parse_retry_after) },
            (500..=599, _) => Self::Unreachable(format!("HTTP {}", status.as_u16())),
            (400..=499, Some(m)) if !m.trim().is_empty() => Self::Refused { message: clean(&m) },
            (403, None) => Self::Credentials,
            (other, _) => Self::Protocol(format!("HTTP {other}")),
        }
    }
}

/// A provider's message, one line and bounded.
fn clean(message: &str) -> String {
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(MAX_MESSAGE).collect()
}

/// What the provider answered when it took the call: its id for it (Plivo's request id until
/// the call's own id arrives at the answer URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub provider_call_id: String,
}

/// An answer of a Calls API, read whatever its status.
pub(crate) struct Answer {
    pub(crate) status: reqwest::StatusCode,
    pub(crate) retry_after: Option<reqwest::header::HeaderValue>,
    pub(crate) body: Vec<u8>,
}

/// Sends a Calls API request; reads at most [`MAX_BODY`] of its answer, whatever the status
/// (error bodies say why a call was refused).
pub(crate) async fn send(req: reqwest::RequestBuilder) -> Result<Answer, DialError> {
    let mut resp =
        req.timeout(super::accounts::REQUEST_TIMEOUT).send().await.map_err(|e| DialError::from(AccountError::from_transport(&e)))?;
    let (status, retry_after) = (resp.status(), resp.headers().get(RETRY_AFTER).cloned());
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| DialError::from(AccountError::from_transport(&e)))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(DialError::Protocol("an answer over 64 KiB".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, retry_after, body })
}

/// Asks the provider of `creds` to place `req`.
pub async fn place(client: &GuardedClient, apis: &ProviderApis, creds: &DialCredentials, req: &DialRequest) -> Result<Placed, DialError> {
    match creds {
        DialCredentials::Exotel { domain, sid, api_key, api_token } => {
            let base = apis.exotel.clone().unwrap_or_else(|| format!("https://{domain}"));
            exotel::dial::place(client, &base, &exotel::account::Credentials { sid, api_key, api_token }, req).await
        }
        DialCredentials::Twilio { account_sid, auth_token } => {
            twilio::dial::place(client, &apis.twilio, &twilio::account::Credentials { account_sid, auth_token }, req).await
        }
        DialCredentials::Vonage { application_id, private_key } => {
            vonage::dial::place(client, &apis.vonage_voice(), application_id, private_key, req).await
        }
        DialCredentials::Plivo { auth_id, auth_token } => {
            plivo::dial::place(client, &apis.plivo, &plivo::account::Credentials { auth_id, auth_token }, req).await
        }
    }
}

/// A call-update answer: fine when 2xx, else the refusal it means, with the provider's own words
/// from the JSON error body's `field` (Twilio's `message`, Vonage's `title`, Plivo's `error`).
pub(crate) fn accepted(answer: &Answer, field: &str) -> Result<(), DialError> {
    if answer.status.is_success() {
        return Ok(());
    }
    let body = serde_json::from_slice::<serde_json::Value>(&answer.body).ok();
    let message = body.and_then(|v| v[field].as_str().map(str::to_string));
    Err(DialError::from_reply(answer.status, answer.retry_after.as_ref(), message))
}

/// A number as Vonage and Plivo write it: its digits, without `+`.
pub fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// `url` with `name=value` added to its query.
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("{url}{sep}{name}={encoded}")
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn a_call_update_is_accepted_or_refused_in_the_providers_words() {
        let answer =
            |status: u16, body: &str| Answer { status: StatusCode::from_u16(status).unwrap(), retry_after: None, body: body.into() };
        assert_eq!(accepted(&answer(204, ""), "title"), Ok(()));
        assert_eq!(accepted(&answer(404, r#"{"title":"Not Found"}"#), "title"), Err(DialError::Refused { message: "Not Found".into() }));
        assert_eq!(accepted(&answer(401, r#"{"error":"bad"}"#), "error"), Err(DialError::Credentials));
        assert_eq!(digits("+1 (415) 555-0100"), "14155550100");
    }

    #[test]
    fn refusals_keep_the_providers_words_and_statuses_their_meaning() {
        let e = |s: u16, m: Option<&str>| DialError::from_reply(StatusCode::from_u16(s).unwrap(), None, m.map(str::to_string));
        assert_eq!(e(401, Some("Authenticate")), DialError::Credentials);
        assert_eq!(e(403, None), DialError::Credentials);
        assert_eq!(e(400, Some("Invalid 'To'\n Phone   Number")), DialError::Refused { message: "Invalid 'To' Phone Number".into() });
        assert_eq!(e(403, Some("from is not your number")), DialError::Refused { message: "from is not your number".into() });
        assert_eq!(e(502, Some("bad gateway")), DialError::Unreachable("HTTP 502".into()));
        assert_eq!(e(404, None), DialError::Protocol("HTTP 404".into()));
        let wait = HeaderValue::from_static("7");
        assert_eq!(
            DialError::from_reply(StatusCode::TOO_MANY_REQUESTS, Some(&wait), None),
            DialError::RateLimited { retry_after: Some(Duration::from_secs(7)) }
        );
        let long = "x".repeat(1000);
        let DialError::Refused { message } = e(400, Some(&long)) else { panic!() };
        assert_eq!(message.len(), MAX_MESSAGE);
    }

    #[test]
    fn the_dial_id_is_added_to_any_url() {
        assert_eq!(with_param("http://h/a/p1", DIAL_PARAMETER, "og1"), "http://h/a/p1?vg_dial=og1");
        assert_eq!(with_param("ws://h/ws/p1?key=k", DIAL_PARAMETER, "a b"), "ws://h/ws/p1?key=k&vg_dial=a+b");
        assert!(!format!("{:?}", DialCredentials::Twilio { account_sid: "AC1".into(), auth_token: "s3cret".into() }).contains("s3cret"));
    }
}

/// A request the providers' dial tests share.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn request() -> DialRequest {
        DialRequest {
            from: "+14155552671".into(),
            to: "+14155550199".into(),
            answer_url: "https://vox.example/answer/p1?vg_dial=og1".into(),
            events_url: "https://vox.example/events/p1?vg_dial=og1".into(),
            ring_url: "https://vox.example/ring/p1?vg_dial=og1".into(),
            stream_url: "wss://vox.example/ws/p1?key=k&session=og1".into(),
            machine: Machine::HangUp,
            ring_timeout: Duration::from_secs(30),
            time_limit: Duration::from_secs(3600),
            dial_id: "og1".into(),
        }
    }
}
