//! Routing per number (domain::routing): stored and read back through the numbers service, and
//! the decision a call's stream takes at its start, in the number's time zone with the state's
//! clock. An agent a routing names cannot be deleted until no routing names it (see
//! crate::agents::delete): a route never points at nothing.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use domain::FieldError;
use domain::phone_number::PhoneNumberView;
use domain::routing::{LocalTime, Opening, Routing, Target};

use crate::db::{self, agents as agent_repo, phone_numbers::NumberRow};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// The routing stored on a number (none when it has none, or — never written so — unreadable).
pub fn of(row: &NumberRow) -> Option<Routing> {
    let json = row.routing_json.as_deref()?;
    serde_json::from_str(json)
        .map_err(|e| tracing::error!(phone_id = %row.id, error = %e, "stored routing unreadable; the linked agent answers"))
        .ok()
}

/// A routing as sent in JSON (`null`: none); a field of the wrong shape is named from
/// `routing.` on (`routing.menu.options.0.target`).
pub fn parse(sent: serde_json::Value) -> Result<Option<Routing>, DomainError> {
    serde_path_to_error::deserialize(sent).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "routing".to_string() } else { format!("routing.{path}") };
        DomainError::field(&field, e.inner().to_string())
    })
}

/// `routing` checked for `owner` (every field, the time zone, each agent one of theirs), as the
/// JSON to store and the agents it names.
pub async fn prepare(state: &AppState, owner: &Owner, routing: &Routing) -> Result<(String, Vec<String>), DomainError> {
    let mut errors = routing.check();
    if !errors.iter().any(|e| e.field == "routing.timezone") && zone(routing).is_none() {
        errors.push(FieldError::new("routing.timezone", "Use a time zone name from the IANA database, e.g. Asia/Kolkata."));
    }
    let mut agents: Vec<String> = Vec::new();
    for (field, id) in routing.agents() {
        if id.is_empty() || errors.iter().any(|e| e.field == field) {
            continue;
        }
        if agent_repo::get(&state.db, owner, &id).await?.is_none() {
            errors.push(FieldError::new(&field, "Choose one of your agents."));
        } else if !agents.contains(&id) {
            agents.push(id);
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let json = serde_json::to_string(routing).map_err(|e| DomainError::field("routing", e.to_string()))?;
    Ok((json, agents))
}

/// Replaces (or, with `None`, removes) the routing of `owner`'s number `id`; nothing is written
/// when a field is wrong.
pub async fn set(state: &AppState, owner: &Owner, id: &str, routing: Option<&Routing>) -> Result<PhoneNumberView, DomainError> {
    let prepared = match routing {
        Some(r) => Some(prepare(state, owner, r).await?),
        None => None,
    };
    write(state, owner, id, prepared).await?;
    let view = super::get(state, owner, id).await?;
    if let Some(menu) = routing.and_then(|r| r.menu.as_ref()) {
        warm_prompt(state, owner, view.linked_agent_id.clone(), menu.prompt.clone());
    }
    Ok(view)
}

/// Renders the menu's prompt in the background (in the voice its calls use, charged to
/// `owner`), so the first call hears it at once.
fn warm_prompt(state: &AppState, owner: &Owner, linked: Option<String>, prompt: String) {
    let (state, owner) = (state.clone(), owner.clone());
    tokio::spawn(async move {
        let agent = crate::agents::for_call(&state, &owner, linked.as_deref()).await.ok().flatten();
        let mut pipeline = state.voice.pipeline(&agent.map(|a| a.settings).unwrap_or_default(), None);
        pipeline.tenant = Some(owner.id().to_string());
        // The providers' usual stream rates (the others resample the same rendering).
        for rate in [8_000, 16_000] {
            if let Err(e) = state.voice.offline_line(&pipeline, &prompt, rate).await {
                tracing::warn!(user_id = %owner.id(), error = %e, "cannot render a menu prompt ahead");
                break;
            }
        }
    });
}

/// Stores what [`prepare`] gave (or removes the routing).
pub async fn write(state: &AppState, owner: &Owner, id: &str, prepared: Option<(String, Vec<String>)>) -> Result<(), DomainError> {
    let (json, agents) = prepared.map_or((None, Vec::new()), |(j, a)| (Some(j), a));
    let saved = db::routing::set(&state.db, owner, id, json.as_deref(), &agents, &state.clock.now_rfc3339()).await?;
    state.numbers_cache.forget_number(id);
    if !saved {
        return Err(DomainError::NotFound("phone number"));
    }
    tracing::info!(user_id = %owner.id(), phone_id = %id, routed = json.is_some(), "routing saved");
    Ok(())
}

/// The routing's time zone.
pub fn zone(routing: &Routing) -> Option<Tz> {
    routing.timezone.trim().parse::<Tz>().ok()
}

/// `now` as the wall clock of `tz` shows it.
pub fn local_time(tz: Tz, now: DateTime<Utc>) -> LocalTime {
    let t = now.with_timezone(&tz);
    LocalTime {
        date: (t.year(), t.month(), t.day()),
        weekday: t.weekday().num_days_from_monday() as usize,
        minute: t.hour() * 60 + t.minute(),
    }
}

/// Whether the routing is open at `now`, and the target that applies.
pub fn decide(routing: &Routing, now: DateTime<Utc>) -> (Opening, &Target) {
    // A stored routing's zone was checked when saved; UTC only if the database changed under it.
    let tz = zone(routing).unwrap_or(chrono_tz::UTC);
    let opening = domain::routing::opening(routing, &local_time(tz, now));
    let target = if opening == Opening::Open { &routing.open } else { &routing.closed };
    (opening, target)
}

#[cfg(test)]
mod tests;
