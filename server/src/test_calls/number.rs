//! A number's "Test": the provider simulator (the tool behind `voxgate call`) places a call
//! the way the number's provider would, on this server's own public URL only: the number's
//! real webhook, signed with its stored credentials (opened here, never sent anywhere else),
//! then the stream its answer names, the greeting, one spoken test line and the hang-up. The
//! report says, step by step, what happened, and names the recorded call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::call::{CallDetail, Role, TurnKind};
use domain::phone_number::{CheckStatus, NumberStatus, Provider};
use domain::test_call::{NumberTestReport, TestStep};

use crate::db::phone_numbers::{self as repo, NumberRow};
use crate::errors::DomainError;
use crate::numbers::{PLIVO_TOKEN_CONTEXT, TWILIO_TOKEN_CONTEXT, VONAGE_SIGNATURE_CONTEXT};
use crate::simulator::{self, CallOptions, CallReport, Step};
use crate::state::AppState;
use crate::users::Owner;

/// What the caller says after the greeting.
pub const TEST_LINE: &str = "Hello, I would like to check the status of my order.";
/// The rate the test line is spoken at (resampled to the stream's).
const LINE_RATE: u32 = 16_000;
/// Longest wait for the webhook's answer.
const WEBHOOK_WAIT: Duration = Duration::from_secs(15);
/// Longest time for the call itself (greeting, test line, reply, hang-up).
const CALL_WAIT: Duration = Duration::from_secs(60);
/// Longest wait for the call's end to be stored after the hang-up.
const RECORD_WAIT: Duration = Duration::from_secs(8);

/// Every step, in order (those not reached are reported as skipped).
const STEPS: [(&str, &str); 9] = [
    ("credentials", "Credentials to sign as the provider"),
    ("webhook", "Answer URL (webhook)"),
    ("answer", "What the answer said"),
    ("stream", "Media stream connected"),
    ("greeting", "Greeting heard"),
    ("caller", "Test line transcribed"),
    ("reply", "Agent replied"),
    ("hangup", "Hang-up"),
    ("recorded", "Call recorded"),
];

fn title(id: &str) -> String {
    STEPS.iter().find(|(i, _)| *i == id).map(|(_, t)| t.to_string()).unwrap_or_default()
}

/// The report being built.
struct Steps(NumberTestReport);

impl Steps {
    fn push(&mut self, id: &str, ok: bool, detail: impl Into<String>, ms: Option<i64>) {
        let status = if ok { CheckStatus::Pass } else { CheckStatus::Fail };
        self.0.steps.push(TestStep { id: id.into(), title: title(id), status, detail: detail.into(), ms });
    }

    /// The report, every step not reached marked skipped.
    fn done(mut self) -> NumberTestReport {
        for (id, t) in STEPS {
            if !self.0.steps.iter().any(|s| s.id == id) {
                let skip = TestStep { id: id.into(), title: t.into(), status: CheckStatus::Skip, detail: "not reached".into(), ms: None };
                self.0.steps.push(skip);
            }
        }
        self.0.ok = self.0.steps.iter().all(|s| s.status != CheckStatus::Fail);
        self.0
    }
}

/// Runs `owner`'s number `id`'s test call and reports each step.
pub async fn run(state: &AppState, owner: &Owner, id: &str) -> Result<NumberTestReport, DomainError> {
    let row = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("phone number"))?;
    let _slot = super::take_slot(state, owner)?;
    let report =
        NumberTestReport { phone_id: row.id.clone(), provider: row.provider.as_str().into(), ok: false, call_id: None, steps: Vec::new() };
    let mut steps = Steps(report);
    tracing::info!(phone_id = %row.id, user_id = %owner.id(), "number test call");
    let Some(provider) = signing_as(state, &row).await? else {
        steps.push("credentials", false, "No complete credentials are stored for this number: edit it and enter them.", None);
        return Ok(steps.done());
    };
    steps.push("credentials", true, format!("Signing as {} with the number's stored credentials", row.provider.label()), None);
    let urls = crate::telephony::urls(state, &row);
    let line = match state.voice.pipeline(&domain::agent::AgentInput::default(), None).tts.synthesize(TEST_LINE, LINE_RATE).await {
        Ok(audio) => Arc::<[i16]>::from(audio),
        Err(e) => {
            tracing::error!(error = %e, "cannot speak the test line");
            return Err(DomainError::ProviderUnreachable("The offline voice could not speak the test line.".into()));
        }
    };
    let opts = options(&provider, urls.webhook, vec![Step::Say { label: "test line".into(), audio: line }]);
    let call_sid = opts.call_sid.clone();

    let asked = Instant::now();
    let answer = match tokio::time::timeout(WEBHOOK_WAIT, simulator::ask_answer(&opts)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            steps.push("webhook", false, refusal(&e.to_string()), Some(elapsed(asked)));
            return Ok(steps.done());
        }
        Err(_) => {
            let why = format!(
                "No answer within {} s: is the public URL ({}) reachable from this server?",
                WEBHOOK_WAIT.as_secs(),
                state.settings.public_link("")
            );
            steps.push("webhook", false, why, Some(elapsed(asked)));
            return Ok(steps.done());
        }
    };
    steps.push("webhook", true, "HTTP 200", Some(elapsed(asked)));
    let (stream_url, rate) = match simulator::answer_stream(&provider, &answer) {
        Ok(s) => s,
        Err(_) => {
            let why = if row.status == NumberStatus::Inactive { "The number is inactive: its answer hangs up. " } else { "" };
            steps.push("answer", false, format!("{why}The answer connects no stream: {}", summary(&answer)), None);
            return Ok(steps.done());
        }
    };
    steps.push("answer", true, format!("{}: stream {stream_url} at {rate} Hz", kind(&answer)), None);

    let connected = Instant::now();
    let ran = tokio::time::timeout(CALL_WAIT, simulator::run_answer(CallOptions { audio_rate: Some(LINE_RATE), ..opts }, &answer)).await;
    let sim = match ran {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            steps.push("stream", false, redact(&e.to_string()), Some(elapsed(connected)));
            return Ok(steps.done());
        }
        Err(_) => {
            steps.push("stream", false, format!("The call did not finish within {} s.", CALL_WAIT.as_secs()), Some(elapsed(connected)));
            return Ok(steps.done());
        }
    };
    steps.push("stream", true, format!("{} agent audio frames, {} marks echoed", sim.media_frames, sim.marks_echoed), None);
    let detail = recorded(state, owner, &row, &call_sid).await;
    heard(&mut steps, &sim, detail.as_ref());
    match detail {
        Some(d) => {
            let done = !d.call.status.is_live();
            let line = format!("Call {} · {} · {} turns", d.call.session_id, d.call.status.label(), d.turns.len());
            steps.0.call_id = Some(d.call.id.clone());
            steps.push("recorded", done, line, None);
        }
        None => steps.push("recorded", false, "The call was not found among this number's calls.", None),
    }
    Ok(steps.done())
}

/// The greeting, the test line and the reply, from the simulator's timings and the stored turns.
fn heard(steps: &mut Steps, sim: &CallReport, detail: Option<&CallDetail>) {
    let turns = detail.map(|d| d.turns.as_slice()).unwrap_or_default();
    let text = |role: Role, kinds: &[TurnKind]| turns.iter().find(|t| t.role == role && kinds.contains(&t.kind)).map(|t| t.text.clone());
    let ms = |v: Option<f64>| v.map(|m| m.round() as i64);
    match (sim.greeting_after_ms, text(Role::Agent, &[TurnKind::Greeting])) {
        (Some(_), Some(t)) => steps.push("greeting", true, format!("“{t}”"), ms(sim.greeting_after_ms)),
        (Some(_), None) => steps.push("greeting", true, "Audio heard (no greeting turn stored)", ms(sim.greeting_after_ms)),
        (None, _) => steps.push("greeting", false, "No audio came before the caller spoke.", None),
    }
    match text(Role::Caller, &[TurnKind::Speech]) {
        Some(t) if !t.trim().is_empty() => steps.push("caller", true, format!("Said “{TEST_LINE}”, heard “{t}”"), None),
        _ => steps.push("caller", false, format!("Said “{TEST_LINE}”; no transcript was stored."), None),
    }
    let reply = sim.turns.first().and_then(|t| t.reply_after_ms);
    let said = turns.iter().rev().find(|t| t.role == Role::Agent && t.kind != TurnKind::Greeting).map(|t| t.text.clone());
    match (reply, said) {
        (Some(_), Some(t)) => steps.push("reply", true, format!("“{t}”"), ms(reply)),
        (Some(_), None) => steps.push("reply", true, "Audio heard", ms(reply)),
        (None, _) => steps.push("reply", false, "The agent did not answer the test line.", None),
    }
    let hangup = match &sim.closed_by_server {
        Some((code, reason)) => format!("The server closed the stream ({code} {reason})"),
        None => "The caller hung up; the stream closed".into(),
    };
    steps.push("hangup", true, hangup, None);
}

/// The provider to play, with the credentials to sign as it does; `None` without them.
async fn signing_as(state: &AppState, row: &NumberRow) -> Result<Option<simulator::Provider>, DomainError> {
    // The sealed credentials are read by the telephony lookup alone; the row is already known
    // to be the owner's.
    let Some(full) = repo::find_for_telephony(&state.db, &row.id).await? else { return Ok(None) };
    let key = state.secret_key();
    let open = |context: &str, v: &Option<String>| v.as_deref().and_then(|s| key.open(context, s).ok());
    Ok(match full.provider {
        Provider::Exotel | Provider::Other => Some(simulator::Provider::Exotel),
        Provider::Twilio => (|| {
            Some(simulator::Provider::Twilio {
                account_sid: full.twilio_account_sid.clone()?,
                auth_token: open(TWILIO_TOKEN_CONTEXT, &full.twilio_auth_token_sealed)?,
            })
        })(),
        Provider::Vonage => (|| {
            Some(simulator::Provider::Vonage {
                api_key: full.vonage_api_key.clone()?,
                signature_secret: open(VONAGE_SIGNATURE_CONTEXT, &full.vonage_signature_secret_sealed)?,
                application_id: full.vonage_application_id.clone()?,
            })
        })(),
        Provider::Plivo => (|| {
            Some(simulator::Provider::Plivo {
                auth_id: full.plivo_auth_id.clone()?,
                auth_token: open(PLIVO_TOKEN_CONTEXT, &full.plivo_auth_token_sealed)?,
            })
        })(),
    })
}

/// The simulator's options for `provider`'s call to `webhook`.
fn options(provider: &simulator::Provider, webhook: String, steps: Vec<Step>) -> CallOptions {
    let mut opts = match provider {
        simulator::Provider::Exotel => CallOptions::new(webhook, steps),
        simulator::Provider::Twilio { account_sid, auth_token } => CallOptions::twilio(webhook, steps, account_sid, auth_token),
        simulator::Provider::Vonage { api_key, signature_secret, application_id } => {
            CallOptions::vonage(webhook, steps, api_key, signature_secret, application_id)
        }
        simulator::Provider::Plivo { auth_id, auth_token } => CallOptions::plivo(webhook, steps, auth_id, auth_token),
    };
    // Recorded as a test (Calls and Analytics tell it from a caller's call); the provider's
    // own parameter, so the call still takes the number's real path.
    let name = if matches!(provider, simulator::Provider::Vonage { .. }) { "direction" } else { "Direction" };
    opts.extra.push((name.into(), domain::test_call::TEST_DIRECTION.into()));
    opts.reply_timeout = Duration::from_secs(15);
    opts.keep_audio = false;
    opts
}

/// The call as stored (owner-scoped), once its end is recorded (or after [`RECORD_WAIT`]).
async fn recorded(state: &AppState, owner: &Owner, row: &NumberRow, call_sid: &str) -> Option<CallDetail> {
    let provider = if row.provider == Provider::Other { Provider::Exotel } else { row.provider };
    let key = crate::db::calls::key(provider, call_sid);
    let deadline = Instant::now() + RECORD_WAIT;
    loop {
        let found = crate::calls::get(state, owner, &key).await.ok();
        let settled = found.as_ref().is_some_and(|d| !d.call.status.is_live());
        if settled || Instant::now() >= deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `text` without the value of any `key=` (an Exotel URL's secret, as a request error quotes it).
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("key=") {
        out.push_str(&rest[..at + 4]);
        out.push('…');
        rest = rest[at + 4..].trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    out.push_str(rest);
    out
}

/// A webhook refusal, as the user can act on it.
fn refusal(error: &str) -> String {
    let error = redact(error.trim_start_matches("webhook: "));
    let error = error.as_str();
    if error.contains("403") {
        format!("{error} — the stored credentials do not sign as this number's provider account")
    } else {
        error.chars().take(300).collect()
    }
}

/// What kind of answer `body` is.
fn kind(body: &str) -> &'static str {
    let b = body.trim_start();
    if b.starts_with('[') {
        "NCCO"
    } else if b.starts_with('{') {
        "JSON"
    } else {
        "XML"
    }
}

/// The start of an answer, on one line.
fn summary(body: &str) -> String {
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{} {}", kind(body), one.chars().take(200).collect::<String>())
}

fn elapsed(since: Instant) -> i64 {
    since.elapsed().as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keys_are_left_out_of_what_the_report_says() {
        let error = "error sending request for url (http://h/api/telephony/webhook/n1?key=Abc-123_x&x=1)";
        assert_eq!(redact(error), "error sending request for url (http://h/api/telephony/webhook/n1?key=…&x=1)");
        assert_eq!(redact("no key here"), "no key here");
        assert!(refusal("webhook: HTTP 403 Forbidden: {}").contains("do not sign"));
        assert_eq!(kind(" [{\"action\":\"talk\"}]"), "NCCO");
        assert_eq!(summary("<Response>\n  <Hangup/>\n</Response>"), "XML <Response> <Hangup/> </Response>");
    }
}
