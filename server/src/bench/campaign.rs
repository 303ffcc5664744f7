//! `voxgate bench campaign`: a campaign of N contacts on an embedded file database, dialed
//! through the local provider cloud's Twilio (which plays every callee and refuses dials past
//! its rate with 429), measuring the dial rate held against the campaign's, the provider's
//! 429s, the peak of concurrent calls, double-dials (must be 0) and contacts lost (must be 0).

use std::time::{Duration, Instant};

use domain::campaign::CampaignInput;

use super::{TWILIO_ACCOUNT, anyhow_like};
use crate::simulator::cloud::{Cloud, CloudAccount, CloudNumber};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct CampaignBench {
    pub contacts: usize,
    pub concurrent: u32,
    pub calls_per_second: f64,
    /// The provider's own limit of dials a second (429 past it), if any.
    pub provider_rate: Option<u32>,
}

/// Runs the campaign to its end and returns the report's lines.
pub async fn run(dir: &std::path::Path, b: CampaignBench) -> anyhow_like::Result<Vec<String>> {
    let (sid, token) = TWILIO_ACCOUNT;
    let cloud = Cloud::new(vec![CloudAccount::new(
        domain::phone_number::Provider::Twilio,
        sid,
        sid,
        token,
        vec![CloudNumber { number: "+14155552671".into(), voice: true, app: None }],
    )]);
    cloud.dial_rate(b.provider_rate);
    let api = format!("http://{}", crate::simulator::cloud::start(cloud.clone()).await?);
    let agent = domain::agent::AgentInput { name: "Reminders".into(), greeting: "Hi, a reminder.".into(), ..Default::default() };
    let (state, user, agent, number) =
        super::call_line_with(dir, agent, 1000, domain::phone_number::Provider::Twilio, |s| s.provider_apis.twilio = api).await?;
    crate::campaigns::dialer::spawn(state.clone());
    let mut csv = String::from("phone,name\n");
    for i in 0..b.contacts {
        csv.push_str(&format!("+1415{:07},C{i}\n", 3_000_000 + i));
    }
    let input = CampaignInput {
        name: "Bench".into(),
        agent_id: agent.id.clone(),
        phone_ids: vec![number.id.clone()],
        contacts_csv: csv,
        max_concurrent: b.concurrent,
        calls_per_second: b.calls_per_second,
        max_attempts: 1,
        retry_delay_secs: 60,
        ..Default::default()
    };
    let started = Instant::now();
    let created = crate::campaigns::create(&state, &user.owner, &input).await.map_err(|e| e.to_string())?;
    let id = created.campaign.id;
    let done = loop {
        let c = crate::campaigns::get(&state, &user.owner, &id).await.map_err(|e| e.to_string())?;
        if c.status == domain::campaign::CampaignStatus::Completed || started.elapsed() > Duration::from_secs(3600) {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    let dials = cloud.dials();
    let first = dials.first().map(|d| d.at);
    // The rate held while dialing: dials over the span from the first to the last dial.
    let span = match (first, dials.last()) {
        (Some(a), Some(z)) => z.at.duration_since(a).as_secs_f64().max(0.001),
        _ => f64::NAN,
    };
    let mut seen = std::collections::HashSet::new();
    let twice = dials.iter().filter(|d| !seen.insert(d.to.clone())).count();
    let c = &done.counts;
    let lost = c.remaining + c.in_progress;
    Ok(vec![
        format!(
            "campaign: {} contacts, {} at once, {} calls/s asked, provider limit {}",
            b.contacts,
            b.concurrent,
            b.calls_per_second,
            b.provider_rate.map_or("none".into(), |r| format!("{r}/s (429 past it)"))
        ),
        format!("finished in {elapsed:.1} s ({:?})", done.status),
        format!(
            "dials {} in {span:.1} s: {:.1} dials/s held; refused with 429: {}",
            dials.len(),
            dials.len() as f64 / span,
            cloud.refused_dials()
        ),
        format!("peak concurrent calls {} (limit {})", cloud.peak_live(), b.concurrent),
        format!("answered {} failed {} no answer {} busy {}", c.answered, c.failed, c.no_answer, c.busy),
        format!(
            "double-dials (a contact dialed while its call was live) {}; contacts dialed twice {twice}; contacts lost {lost}",
            cloud.overlapping()
        ),
    ])
}
