//! Sending one webhook try through the guarded client: signed, time-limited, the answer's body
//! read only up to a bound.

use std::time::Duration;

use futures_util::StreamExt;

use super::signing::{EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, header};
use crate::net::guard::{GuardedClient, refusal};

/// Longest a receiver may take to answer one try (connect included).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a receiver's answer read (the rest is dropped with the connection).
pub const MAX_ANSWER: usize = 16 * 1024;

/// How a try went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A 2xx answer.
    Delivered(u16),
    /// Worth another try later (5xx, 429, 408, other 4xx, a timeout, no connection).
    Retry { status: Option<u16>, error: String },
    /// Never worth another try: the guard refused the address, or the receiver said 410 Gone.
    Give { status: Option<u16>, error: String },
}

/// Posts `body` to `url`, signed with `secret` at `timestamp`.
pub async fn send(
    client: &GuardedClient,
    url: &str,
    secret: &str,
    event_id: &str,
    event_type: &str,
    body: Vec<u8>,
    timestamp: i64,
) -> Sent {
    let request = match client.post(url) {
        Ok(r) => r,
        Err(refused) => return Sent::Give { status: None, error: format!("refused: {refused}") },
    };
    let signature = header(secret, timestamp, &body);
    let sent = request
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "Voxgate-Webhooks/1")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_ID_HEADER, event_id)
        .header(EVENT_TYPE_HEADER, event_type)
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            if let Some(refused) = refusal(&e) {
                return Sent::Give { status: None, error: format!("refused: {refused}") };
            }
            let what = if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "request failed".to_string()
            };
            return Sent::Retry { status: None, error: what };
        }
    };
    let status = response.status().as_u16();
    drain(response).await;
    match status {
        200..=299 => Sent::Delivered(status),
        410 => Sent::Give { status: Some(status), error: "the receiver answered 410 Gone".to_string() },
        _ => Sent::Retry { status: Some(status), error: format!("the receiver answered {status}") },
    }
}

/// Reads at most [`MAX_ANSWER`] bytes of the answer (within the request's timeout), so a
/// receiver streaming forever holds nothing.
async fn drain(response: reqwest::Response) {
    let mut stream = response.bytes_stream();
    let mut read = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.len();
        if read >= MAX_ANSWER {
            break;
        }
    }
}
