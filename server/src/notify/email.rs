//! E-mail alerts: the message for an event, and one try through the operator's SMTP server.

use std::time::Duration;

use domain::call::CallView;
use domain::notify::EventKind;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::webhook::Sent;
use crate::config::notify::{SmtpSettings, SmtpTls};

/// Longest one SMTP conversation may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The subject and plain-text body of an alert about `call` (`detail`: the key word, or the
/// transfer's destination). `link` is the dashboard's Call Logs page.
pub fn compose(kind: EventKind, call: Option<&CallView>, detail: Option<&str>, link: &str) -> (String, String) {
    let who = call.map(|c| c.caller.clone().or(c.callee.clone()).unwrap_or_else(|| "unknown caller".into())).unwrap_or_default();
    let number = call.map(|c| c.phone_number.as_str()).unwrap_or_default();
    let subject = match kind {
        EventKind::CallFailed => format!("[Voxgate] Call failed on {number}"),
        EventKind::TransferRequested => format!("[Voxgate] Transfer requested on {number}"),
        EventKind::KeywordSaid => format!("[Voxgate] \"{}\" said on {number}", detail.unwrap_or_default()),
        EventKind::CallEnded => format!("[Voxgate] Call ended on {number}"),
        EventKind::Test => "[Voxgate] Test alert".to_string(),
    };
    let mut body = String::new();
    match kind {
        EventKind::CallFailed => body.push_str("A call failed.\n\n"),
        EventKind::TransferRequested => body.push_str(&format!("The caller asked for a person (to: {}).\n\n", detail.unwrap_or("-"))),
        EventKind::KeywordSaid => body.push_str(&format!("The caller said \"{}\".\n\n", detail.unwrap_or_default())),
        EventKind::CallEnded => body.push_str("A call ended.\n\n"),
        EventKind::Test => body.push_str("A test alert: e-mail alerts reach you.\n\n"),
    }
    if let Some(c) = call {
        body.push_str(&format!("Call: {}\n", c.id));
        body.push_str(&format!("Number: {} ({})\n", c.phone_number, c.provider));
        body.push_str(&format!("Other party: {who}\n"));
        if let Some(agent) = c.agent_name.as_deref().or(c.agent_id.as_deref()) {
            body.push_str(&format!("Agent: {agent}\n"));
        }
        body.push_str(&format!("Status: {}\n", c.status));
        if let Some(reason) = &c.reason {
            body.push_str(&format!("Reason: {reason}\n"));
        }
        body.push_str(&format!("Started: {}\n", c.started_at));
    }
    body.push_str(&format!("\nCall logs: {link}\n"));
    (subject, body)
}

/// Sends one alert to `to`. SMTP's permanent refusals (5xx) are not tried again; connection
/// failures and temporary refusals (4xx) are.
pub async fn send(smtp: &SmtpSettings, hello: &str, to: &str, subject: &str, body: String) -> Sent {
    let message = match (smtp.from.parse(), to.parse()) {
        (Ok(from), Ok(to)) => Message::builder().from(from).to(to).subject(subject).header(ContentType::TEXT_PLAIN).body(body),
        _ => return Sent::Give { status: None, error: "not a valid e-mail address".to_string() },
    };
    let Ok(message) = message else { return Sent::Give { status: None, error: "cannot build the message".to_string() } };
    let builder = match smtp.tls {
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)),
    };
    let Ok(mut builder) = builder else { return Sent::Give { status: None, error: "the SMTP host is not valid for TLS".to_string() } };
    builder = builder.port(smtp.port).timeout(Some(TIMEOUT)).hello_name(ClientId::Domain(hello.to_string()));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
    }
    let transport = builder.build();
    match tokio::time::timeout(TIMEOUT, transport.send(message)).await {
        Ok(Ok(response)) => Sent::Delivered(u16::from(response.code())),
        Ok(Err(e)) => {
            let status = e.status().map(u16::from);
            // lettre's message names the server's answer, never our credentials.
            let error = format!("SMTP: {}", status.map_or_else(|| "cannot deliver".to_string(), |s| format!("the server answered {s}")));
            if e.is_permanent() { Sent::Give { status, error } } else { Sent::Retry { status, error } }
        }
        Err(_) => Sent::Retry { status: None, error: format!("SMTP: no answer within {} s", TIMEOUT.as_secs()) },
    }
}
