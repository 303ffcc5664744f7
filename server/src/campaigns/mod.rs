//! Campaigns service: create one from a contact list, follow it, pause, resume, cancel, export
//! its results. The dialing itself is [`dialer`]'s.
//!
//! - `contacts_csv`: the contact list's rows.
//! - `hours`: calling hours in each contact's time zone.
//! - `dialer`: the background loop that claims due contacts and places their calls.

pub mod contacts_csv;
pub mod dialer;
pub mod hours;

use domain::campaign::{CampaignCreated, CampaignInput, CampaignStatus, CampaignView, ContactPage, ContactState, ContactView};
use domain::phone_number::{NumberStatus, Provider};

use crate::db::campaigns::{self as repo, CampaignRow, NewCampaign};
use crate::db::contacts::{self, ContactRow};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// Largest page of contacts.
pub const MAX_PAGE_SIZE: u32 = 500;

async fn view(state: &AppState, r: CampaignRow) -> Result<CampaignView, DomainError> {
    let counts = repo::counts(&state.db, &r.id).await?;
    Ok(CampaignView {
        id: r.id,
        name: r.name,
        agent_id: r.agent_id,
        agent_name: r.agent_name,
        phone_ids: r.phone_ids,
        status: r.status,
        status_reason: r.status_reason,
        start_at: r.start_at,
        hours_from: r.hours_from,
        hours_to: r.hours_to,
        timezone: r.timezone,
        max_concurrent: r.max_concurrent,
        calls_per_second: r.calls_per_second,
        max_attempts: r.max_attempts,
        retry_delay_secs: r.retry_delay_secs,
        counts,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn contact_view(c: ContactRow) -> ContactView {
    ContactView {
        id: c.id,
        line: c.line,
        phone: c.phone,
        timezone: c.timezone,
        variables: serde_json::from_str(&c.variables_json).unwrap_or_default(),
        state: c.state,
        attempts: c.attempts,
        outcome: c.outcome,
        call_id: c.call_id,
        reason: c.reason,
        next_at: (c.state == ContactState::Pending).then_some(c.next_at),
    }
}

/// Creates `owner`'s campaign from `input`: every number must be the owner's, active and of a
/// provider that places calls; rows of the contact list that cannot be called are reported and
/// left out. It runs at once, or is scheduled for `startAt`.
pub async fn create(state: &AppState, owner: &Owner, input: &CampaignInput) -> Result<CampaignCreated, DomainError> {
    let mut errors = input.check();
    let tz = input.timezone.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        domain::FieldError::new("timezone", format!("{:?} is not a time zone; use a name like Asia/Kolkata.", input.timezone.trim()))
    });
    if let Err(e) = &tz {
        errors.push(e.clone());
    }
    let now = state.clock.now();
    let start_at = match input.start_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => now,
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&chrono::Utc),
            Err(_) => {
                errors.push(domain::FieldError::new("startAt", "Use an RFC 3339 time like 2026-12-24T09:00:00+05:30."));
                now
            }
        },
    };
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    crate::agents::get(state, owner, input.agent_id.trim()).await.map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::field("agentId", "This agent does not exist."),
        other => other,
    })?;
    let mut phone_ids: Vec<String> = input.phone_ids.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    phone_ids.dedup();
    for id in &phone_ids {
        let n = crate::db::phone_numbers::get(&state.db, owner, id)
            .await?
            .ok_or_else(|| DomainError::field("phoneIds", format!("Number {id} does not exist.")))?;
        if n.provider == Provider::Other || n.status != NumberStatus::Active {
            return Err(DomainError::field(
                "phoneIds",
                format!("{} cannot place calls: it must be an active Exotel, Twilio, Vonage or Plivo number.", n.phone_number),
            ));
        }
    }
    let (new_contacts, rejected) = contacts_csv::read(&input.contacts_csv).map_err(|e| DomainError::Invalid(vec![e]))?;
    if new_contacts.is_empty() {
        let why = rejected.first().and_then(|r| r.errors.first()).map(|e| format!(" (line {}: {})", rejected[0].line, e.message));
        return Err(DomainError::field("contactsCsv", format!("No row of the list can be called{}.", why.unwrap_or_default())));
    }
    let status = if start_at > now { CampaignStatus::Scheduled } else { CampaignStatus::Running };
    let start = crate::clock::rfc3339(start_at);
    let id = repo::insert(
        &state.db,
        owner,
        &NewCampaign {
            name: input.name.trim(),
            agent_id: input.agent_id.trim(),
            phone_ids: &phone_ids,
            status,
            start_at: &start,
            hours_from: input.hours_from.trim(),
            hours_to: input.hours_to.trim(),
            timezone: input.timezone.trim(),
            max_concurrent: input.max_concurrent,
            calls_per_second: input.calls_per_second,
            max_attempts: input.max_attempts,
            retry_delay_secs: input.retry_delay_secs,
        },
        &new_contacts,
        &crate::clock::rfc3339(now),
    )
    .await?;
    tracing::info!(user_id = %owner.id(), campaign = %id, contacts = new_contacts.len(), rejected = rejected.len(), "campaign created");
    Ok(CampaignCreated { campaign: get(state, owner, &id).await?, contacts: new_contacts.len(), rejected })
}

/// One of `owner`'s campaigns with its counts.
pub async fn get(state: &AppState, owner: &Owner, id: &str) -> Result<CampaignView, DomainError> {
    let r = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("campaign"))?;
    view(state, r).await
}

/// `owner`'s campaigns, newest first, with their counts.
pub async fn list(state: &AppState, owner: &Owner) -> Result<Vec<CampaignView>, DomainError> {
    let mut out = Vec::new();
    for r in repo::list(&state.db, owner).await? {
        out.push(view(state, r).await?);
    }
    Ok(out)
}

/// What a user can do to a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Cancel,
}

/// Pauses, resumes or cancels `owner`'s campaign. Calls already going on finish; a cancel
/// leaves the contacts not yet reached canceled. A move its state does not allow is a 409.
pub async fn act(state: &AppState, owner: &Owner, id: &str, action: Action) -> Result<CampaignView, DomainError> {
    use CampaignStatus::*;
    let current = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("campaign"))?;
    let (from, to): (&[CampaignStatus], CampaignStatus) = match action {
        Action::Pause => (&[Running, Scheduled], Paused),
        Action::Resume => (&[Paused], Running),
        Action::Cancel => (&[Running, Scheduled, Paused], Canceled),
    };
    let now = state.clock.now_rfc3339();
    if !repo::set_status(&state.db, owner, id, from, to, None, &now).await? {
        return Err(DomainError::Conflict(domain::FieldError::new(
            "status",
            format!(
                "A {} campaign cannot be {}.",
                current.status.as_str(),
                match action {
                    Action::Pause => "paused",
                    Action::Resume => "resumed",
                    Action::Cancel => "canceled",
                }
            ),
        )));
    }
    if action == Action::Cancel {
        let n = contacts::cancel_pending(&state.db, id, &now).await?;
        tracing::info!(user_id = %owner.id(), campaign = %id, canceled_contacts = n, "campaign canceled");
    }
    get(state, owner, id).await
}

/// One page of `owner`'s campaign's contacts (of one state when `filter` names one).
pub async fn contacts(
    state: &AppState,
    owner: &Owner,
    id: &str,
    filter: Option<&str>,
    page: Option<u32>,
    page_size: Option<u32>,
) -> Result<ContactPage, DomainError> {
    repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("campaign"))?;
    let wanted = domain::parse_choice::<ContactState>("state", filter).map_err(|e| DomainError::Invalid(vec![e]))?;
    let (page, page_size, start) = crate::errors::page_window(page, page_size, MAX_PAGE_SIZE)?;
    let (rows, total) = contacts::page(&state.db, owner, id, wanted, page_size, start).await?;
    Ok(ContactPage { contacts: rows.into_iter().map(contact_view).collect(), page, page_size, total })
}

/// Every contact of `owner`'s campaign as CSV: line, phone, state, outcome, attempts, call, reason.
pub async fn export_csv(state: &AppState, owner: &Owner, id: &str) -> Result<String, DomainError> {
    repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("campaign"))?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| DomainError::Db(crate::db::DbError::Decode(serde::de::Error::custom(e.to_string())));
    out.write_record(["line", "phone", "state", "outcome", "attempts", "call_id", "reason"]).map_err(csv_error)?;
    let mut start = 0;
    loop {
        let (rows, _) = contacts::page(&state.db, owner, id, None, MAX_PAGE_SIZE, start).await?;
        for c in &rows {
            let outcome = c.outcome.map(|o| o.as_str()).unwrap_or_default();
            out.write_record([
                c.line.to_string().as_str(),
                &c.phone,
                c.state.as_str(),
                outcome,
                &c.attempts.to_string(),
                c.call_id.as_deref().unwrap_or_default(),
                c.reason.as_deref().unwrap_or_default(),
            ])
            .map_err(csv_error)?;
        }
        if rows.len() < MAX_PAGE_SIZE as usize {
            break;
        }
        start += MAX_PAGE_SIZE;
    }
    let bytes = out.into_inner().map_err(|e| csv_error(e.into_error().into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
