//! The provider check ("doctor"): for each number, whether a caller dialling it now would reach
//! its agent, with the fix for each failure and the setup guide's section that explains it.
//! The same checklist in the dashboard, over REST and as `voxgate doctor`.

use std::net::IpAddr;
use std::time::Duration;

use domain::phone_number::{CheckStatus, DoctorCheck, DoctorReport, NumberStatus, Provider, VerifyStatus};

use super::verify;
use crate::db::{agents as agent_repo, number_checks as checks, phone_numbers as repo};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// Most numbers one "check all" covers (the newest first).
pub const MAX_NUMBERS: usize = 500;
/// Time for the public URL and an agent's provider to answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

fn check(id: &str, title: &str, status: CheckStatus, message: impl Into<String>, fix: impl Into<String>, guide: &str) -> DoctorCheck {
    DoctorCheck { id: id.into(), title: title.into(), status, message: message.into(), fix: fix.into(), guide: guide.into() }
}

/// Whether the public URL is https on a public host, and answers `/healthz` from here.
pub async fn public_url(state: &AppState) -> DoctorCheck {
    let url = &state.settings.public_url;
    let shown = url.as_str().trim_end_matches('/');
    let host = url.host_str().unwrap_or_default();
    let private =
        host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| crate::net::guard::reason(ip).is_some());
    let title = "Public URL";
    if private {
        return check(
            "public_url",
            title,
            CheckStatus::Fail,
            format!("VOXGATE_PUBLIC_URL is {shown}, which no provider can reach."),
            "Set VOXGATE_PUBLIC_URL to the https address your reverse proxy or tunnel serves, and restart.",
            "#public-url",
        );
    }
    let healthz = state.settings.public_link("/healthz");
    let answered = match reqwest::Client::builder().timeout(PROBE_TIMEOUT).build() {
        Ok(c) => c.get(&healthz).send().await.is_ok_and(|r| r.status().is_success()),
        Err(_) => false,
    };
    match (url.scheme() == "https", answered) {
        (false, _) => check(
            "public_url",
            title,
            CheckStatus::Warn,
            format!("VOXGATE_PUBLIC_URL is {shown}: plain http. Twilio, Vonage and Plivo need https, and Exotel's stream needs wss."),
            "Serve Voxgate behind TLS and set VOXGATE_PUBLIC_URL to its https address.",
            "#public-url",
        ),
        (true, false) => check(
            "public_url",
            title,
            CheckStatus::Warn,
            format!("{healthz} did not answer from this server; providers may not reach it either."),
            "Check the DNS name, the certificate and the reverse proxy.",
            "#public-url",
        ),
        (true, true) => check("public_url", title, CheckStatus::Pass, format!("{shown} answers over https."), "", "#public-url"),
    }
}

/// The checks of the number's provider account: credentials, ownership (asked now and stored).
async fn account(state: &AppState, owner: &Owner, r: &repo::NumberRow, checker: &mut verify::Checker) -> Vec<DoctorCheck> {
    let p = r.provider.as_str();
    let (cred_guide, own_guide) = (format!("#{p}-credentials"), format!("#{p}-ownership"));
    if r.provider == Provider::Other {
        let skip = |id: &str, title: &str| check(id, title, CheckStatus::Skip, "Voxgate cannot ask this provider.", "", "#ownership-check");
        return vec![skip("credentials", "Credentials"), skip("ownership", "Number in the account")];
    }
    let Ok(Some(ask)) = verify::stored_ask(state, owner, r).await else {
        return vec![
            check(
                "credentials",
                "Credentials",
                CheckStatus::Fail,
                "No credentials are stored for this number.",
                "Edit the number and enter them.",
                &cred_guide,
            ),
            check("ownership", "Number in the account", CheckStatus::Skip, "Needs the credentials.", "", &own_guide),
        ];
    };
    let c = match verify::check_and_record(state, owner, r, &ask, checker).await {
        Ok(c) => c,
        // Another account holds the number verified: these credentials prove nothing here.
        Err(e @ DomainError::Conflict(_)) => {
            return vec![
                check(
                    "credentials",
                    "Credentials",
                    CheckStatus::Skip,
                    "Another Voxgate account holds this number verified.",
                    "",
                    &cred_guide,
                ),
                check(
                    "ownership",
                    "Number in the account",
                    CheckStatus::Fail,
                    e.to_string(),
                    "Import it with the credentials of the provider account that owns it.",
                    &own_guide,
                ),
            ];
        }
        Err(e) => {
            let message = format!("The check could not be stored: {e}");
            return vec![
                check("credentials", "Credentials", CheckStatus::Warn, message.clone(), "Run the check again.", &cred_guide),
                check("ownership", "Number in the account", CheckStatus::Warn, message, "Run the check again.", &own_guide),
            ];
        }
    };
    let (cred, own) = match c.status {
        VerifyStatus::Credentials => (
            (CheckStatus::Fail, c.message.clone(), "Copy the credentials again from the provider's console and edit the number."),
            (CheckStatus::Skip, "Needs valid credentials.".to_string(), ""),
        ),
        VerifyStatus::RateLimited | VerifyStatus::Unreachable => (
            (CheckStatus::Warn, c.message.clone(), "Run the check again later."),
            (CheckStatus::Warn, c.message.clone(), "Run the check again later."),
        ),
        VerifyStatus::Verified if c.linked_elsewhere => (
            (CheckStatus::Pass, "The provider accepted the credentials.".into(), ""),
            (CheckStatus::Fail, c.message.clone(), "Link the number to the application in the provider's console."),
        ),
        VerifyStatus::Verified => {
            ((CheckStatus::Pass, "The provider accepted the credentials.".into(), ""), (CheckStatus::Pass, c.message.clone(), ""))
        }
        _ => (
            (CheckStatus::Pass, "The provider accepted the credentials.".into(), ""),
            (CheckStatus::Fail, c.message.clone(), "Import the number with the credentials of the account that owns it."),
        ),
    };
    vec![
        check("credentials", "Credentials", cred.0, cred.1, cred.2, &cred_guide),
        check("ownership", "Number in the account", own.0, own.1, own.2, &own_guide),
    ]
}

/// The stream settings each provider needs, as stored.
fn stream_settings(r: &repo::NumberRow) -> DoctorCheck {
    let p = r.provider.as_str();
    let guide = format!("#{p}-stream-settings");
    let (status, message, fix) = match r.provider {
        Provider::Exotel if r.exotel_app_id.is_none() => (
            CheckStatus::Warn,
            "Calls in: the Voicebot applet streams 16-bit PCM at the URL's sample rate. No flow (app) id is stored, which calls out need."
                .to_string(),
            "Add the flow's app id (App Bazaar → the flow's URL) to the number.",
        ),
        Provider::Exotel => (CheckStatus::Pass, "16-bit PCM at the URL's sample rate; the flow's app id is stored.".into(), ""),
        Provider::Twilio => (CheckStatus::Pass, "Twilio streams μ-law at 8 kHz, as Voxgate answers.".into(), ""),
        Provider::Vonage => {
            (CheckStatus::Pass, format!("16-bit PCM at {} Hz, as the NCCO asks.", r.vonage_sample_rate.unwrap_or(16000)), "")
        }
        Provider::Plivo => (
            CheckStatus::Pass,
            format!("{}, as the answer XML asks.", r.plivo_content_type.as_deref().unwrap_or("audio/x-mulaw;rate=8000")),
            "",
        ),
        Provider::Other => (CheckStatus::Skip, "Set by the provider.".into(), ""),
    };
    check("stream_settings", "Stream settings", status, message, fix, &guide)
}

/// Whether the agent that answers the number can: offline models present, cloud APIs reachable.
async fn agent(state: &AppState, owner: &Owner, r: &repo::NumberRow) -> DoctorCheck {
    let title = "Agent";
    let linked = r.linked_agent_id();
    let row = match agent_repo::get_for_call(&state.db, owner, linked.as_deref()).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return check(
                "agent",
                title,
                CheckStatus::Fail,
                "You have no agent to answer calls.",
                "Create an agent and link it to the number.",
                "#agent",
            );
        }
        Err(e) => {
            return check("agent", title, CheckStatus::Warn, format!("Could not read the agent: {e}"), "Run the check again.", "#agent");
        }
    };
    let Ok(settings) = serde_json::from_str::<domain::agent::AgentInput>(&row.settings_json) else {
        return check(
            "agent",
            title,
            CheckStatus::Fail,
            format!("Agent {} cannot be read.", row.name),
            "Open the agent and save it again.",
            "#agent",
        );
    };
    let p = &settings.providers;
    let offline = [p.stt.as_str(), p.tts.as_str()].iter().any(|s| s.ends_with("-local"));
    let missing = if offline { state.voice.files.missing() } else { Vec::new() };
    if !missing.is_empty() {
        let files: Vec<String> = missing.iter().map(|m| m.display().to_string()).collect();
        let fix = "Run the set-up command (scripts/setup.sh) to unpack the offline voice models, or set VOXGATE_MODELS_DIR.";
        return check("agent", title, CheckStatus::Fail, format!("Offline voice models are missing: {}", files.join(", ")), fix, "#agent");
    }
    let cloud = [&p.stt, &p.llm, &p.tts].iter().any(|s| s.as_str() == "openai");
    if cloud {
        let url = format!("{}/models", p.base_url.trim_end_matches('/'));
        let reached = match state.outbound.get(&url) {
            Ok(req) => req.timeout(PROBE_TIMEOUT).send().await.map(|_| ()).map_err(|e| e.to_string()),
            Err(refused) => Err(refused.to_string()),
        };
        if let Err(why) = reached {
            let fix = "Check the agent's base URL; private addresses need VOXGATE_OUTBOUND_ALLOW.";
            return check(
                "agent",
                title,
                CheckStatus::Fail,
                format!("Agent {}'s provider did not answer ({why}).", row.name),
                fix,
                "#agent",
            );
        }
    }
    let how = if linked.is_some() { "is linked" } else { "answers (your most recently changed agent; none is linked)" };
    let status = if linked.is_some() { CheckStatus::Pass } else { CheckStatus::Warn };
    let fix = if linked.is_some() { "" } else { "Link an agent to the number." };
    check("agent", title, status, format!("Agent {} {how}; its speech and reply providers are ready.", row.name), fix, "#agent")
}

fn number_status(r: &repo::NumberRow) -> DoctorCheck {
    match r.status {
        NumberStatus::Active => {
            check("number_status", "Number status", CheckStatus::Pass, "Active: calls are answered.", "", "#number-status")
        }
        other => check(
            "number_status",
            "Number status",
            CheckStatus::Fail,
            format!("{}: calls are turned away politely.", other.label()),
            "Edit the number and set its status to Active.",
            "#number-status",
        ),
    }
}

async fn report(state: &AppState, owner: &Owner, r: &repo::NumberRow, public: &DoctorCheck, checker: &mut verify::Checker) -> DoctorReport {
    let mut checks = vec![public.clone()];
    checks.extend(account(state, owner, r, checker).await);
    checks.push(stream_settings(r));
    checks.push(agent(state, owner, r).await);
    checks.push(number_status(r));
    DoctorReport {
        phone_id: r.id.clone(),
        phone_number: r.phone_number.clone(),
        provider: r.provider.as_str().into(),
        ok: !checks.iter().any(|c| c.status == CheckStatus::Fail),
        checks,
    }
}

/// The checklist of `owner`'s number `id`.
pub async fn number(state: &AppState, owner: &Owner, id: &str) -> Result<DoctorReport, DomainError> {
    let r = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("phone number"))?;
    let public = public_url(state).await;
    Ok(report(state, owner, &r, &public, &mut verify::Checker::single()).await)
}

/// The checklists of `owner`'s numbers (the newest [`MAX_NUMBERS`]); each account is asked once.
pub async fn all(state: &AppState, owner: &Owner) -> Result<Vec<DoctorReport>, DomainError> {
    let mut rows = checks::owner_numbers(&state.db, owner).await?;
    rows.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    rows.truncate(MAX_NUMBERS);
    let public = public_url(state).await;
    let mut checker = verify::Checker::bulk();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(report(state, owner, r, &public, &mut checker).await);
    }
    Ok(out)
}
