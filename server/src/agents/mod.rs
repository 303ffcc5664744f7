//! Agents service: create, edit, list and delete the voice agents that answer calls.

use domain::FieldError;
use domain::agent::{AgentInput, AgentView};

use crate::db::{self, agents as repo};
use crate::errors::DomainError;
use crate::secrets::{last4, mask_last4};
use crate::state::AppState;
use crate::users::Owner;

/// Associated data binding a sealed agent API key to its field.
const API_KEY_CONTEXT: &str = "agent.providers.api_key";

/// Settings as stored: the input without the plaintext key, plus the sealed key and its last 4.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    #[serde(flatten)]
    settings: AgentInput,
    #[serde(default, rename = "apiKeySealed", skip_serializing_if = "Option::is_none")]
    api_key_sealed: Option<String>,
    #[serde(default, rename = "apiKeyLast4", skip_serializing_if = "Option::is_none")]
    api_key_last4: Option<String>,
}

fn view(row: repo::AgentRow) -> Result<AgentView, DomainError> {
    let stored: Stored = serde_json::from_str(&row.settings_json).map_err(db::DbError::from)?;
    let mut settings = stored.settings;
    settings.name = row.name;
    settings.language = row.language;
    settings.providers.api_key = String::new();
    settings.providers.clear_api_key = false;
    settings.providers.api_key_hint = stored.api_key_last4.as_deref().map(mask_last4);
    Ok(AgentView { id: row.id, settings, linked_numbers: row.linked_numbers, created_at: row.created_at, updated_at: row.updated_at })
}

/// Validates `input` and builds its stored JSON; the key is sealed, or kept from `previous`
/// when the input leaves it empty.
fn checked(state: &AppState, input: AgentInput, previous: Option<&str>) -> Result<(AgentInput, String), DomainError> {
    let mut input = input.normalized();
    let errors = input.validate();
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let key = std::mem::take(&mut input.providers.api_key);
    let clear = std::mem::take(&mut input.providers.clear_api_key);
    input.providers.api_key_hint = None;
    let previous = previous.and_then(|p| serde_json::from_str::<Stored>(p).ok());
    let (sealed, last) = if !key.trim().is_empty() {
        (Some(state.secret_key().seal(API_KEY_CONTEXT, key.trim())), Some(last4(key.trim())))
    } else if clear {
        (None, None)
    } else {
        match previous {
            // A stored key goes only to the URL it was given for: a new URL needs the key again.
            Some(p) if p.api_key_sealed.is_some() && p.settings.providers.base_url != input.providers.base_url => {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "providers.apiKey",
                    "Enter the API key again: the base URL changed, and the saved key is only sent to the URL it was saved for.",
                )]));
            }
            Some(p) => (p.api_key_sealed, p.api_key_last4),
            None => (None, None),
        }
    };
    let json = serde_json::to_string(&Stored { settings: input.clone(), api_key_sealed: sealed, api_key_last4: last })
        .map_err(db::DbError::from)?;
    Ok((input, json))
}

/// Agents' settings (and API keys) for rendering greetings ahead of calls (the latest 200).
pub async fn recent_for_warm_up(state: &AppState) -> Vec<(AgentInput, Option<String>)> {
    match repo::recent_settings(&state.db, 200).await {
        Ok(rows) => rows
            .iter()
            .filter_map(|j| serde_json::from_str::<Stored>(j).ok())
            .map(|s| {
                let key = unseal(state, &s);
                (s.settings, key)
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read agents to render their greetings");
            Vec::new()
        }
    }
}

/// Renders a saved agent's greeting in the background, so its first call greets at once.
fn warm_greeting(state: &AppState, owner: &Owner, agent: &AgentView) {
    let (state, owner, agent) = (state.clone(), owner.clone(), agent.clone());
    tokio::spawn(async move {
        let key = api_key(&state, &owner, &agent).await;
        state.voice.warm_greeting(&agent.settings, key, Some(owner.id())).await
    });
}

fn unseal(state: &AppState, stored: &Stored) -> Option<String> {
    state.secret_key().open(API_KEY_CONTEXT, stored.api_key_sealed.as_deref()?).ok()
}

/// The agent's OpenAI-compatible API key, unsealed for a call (never logged); None when it
/// has none.
pub async fn api_key(state: &AppState, owner: &Owner, agent: &AgentView) -> Option<String> {
    agent.settings.providers.api_key_hint.as_ref()?;
    let row = repo::get(&state.db, owner, &agent.id).await.ok()??;
    unseal(state, &serde_json::from_str::<Stored>(&row.settings_json).ok()?)
}

/// Creates an agent for `owner`.
pub async fn create(state: &AppState, owner: &Owner, input: AgentInput) -> Result<AgentView, DomainError> {
    let (input, json) = checked(state, input, None)?;
    let key = db::new_key();
    repo::insert(&state.db, owner, &key, &input.name, &input.language, &json, &state.clock.now_rfc3339()).await?;
    // An unlinked number answers with the owner's newest agent.
    state.numbers_cache.forget_owner(owner.id());
    tracing::info!(user_id = %owner.id(), agent_id = %key, "agent created");
    let view = get(state, owner, &key).await?;
    warm_greeting(state, owner, &view);
    Ok(view)
}

/// Replaces `owner`'s agent `id`.
pub async fn update(state: &AppState, owner: &Owner, id: &str, input: AgentInput) -> Result<AgentView, DomainError> {
    let previous = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("agent"))?;
    let (input, json) = checked(state, input, Some(&previous.settings_json))?;
    let updated = repo::update(&state.db, owner, id, &input.name, &input.language, &json, &state.clock.now_rfc3339()).await?;
    state.numbers_cache.forget_owner(owner.id());
    if !updated {
        return Err(DomainError::NotFound("agent"));
    }
    let view = get(state, owner, id).await?;
    warm_greeting(state, owner, &view);
    Ok(view)
}

/// `owner`'s agent `id`.
pub async fn get(state: &AppState, owner: &Owner, id: &str) -> Result<AgentView, DomainError> {
    view(repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("agent"))?)
}

/// The agent that answers a call: the linked one if it still exists, else `owner`'s most
/// recently changed agent (one query, no linked-number count).
pub async fn for_call(state: &AppState, owner: &Owner, linked: Option<&str>) -> Result<Option<AgentView>, DomainError> {
    repo::get_for_call(&state.db, owner, linked).await?.map(view).transpose()
}

/// All of `owner`'s agents.
pub async fn list(state: &AppState, owner: &Owner) -> Result<Vec<AgentView>, DomainError> {
    repo::list(&state.db, owner).await?.into_iter().map(view).collect()
}

/// Deletes `owner`'s agent and unlinks the numbers that used it; returns how many were linked.
pub async fn delete(state: &AppState, owner: &Owner, id: &str) -> Result<i64, DomainError> {
    let linked = get(state, owner, id).await?.linked_numbers;
    // A route never points at nothing: the numbers whose routing names the agent change first.
    let routed = db::routing::numbers_routing_to(&state.db, owner, id).await?;
    if !routed.is_empty() {
        return Err(DomainError::Conflict(FieldError::new(
            "id",
            format!("Calls to {} are routed to this agent; change their routing first.", routed.join(", ")),
        )));
    }
    let deleted = repo::delete(&state.db, owner, id, &state.clock.now_rfc3339()).await?;
    state.numbers_cache.forget_owner(owner.id());
    if !deleted {
        return Err(DomainError::NotFound("agent"));
    }
    tracing::info!(user_id = %owner.id(), agent_id = %id, unlinked = linked, "agent deleted");
    Ok(linked)
}
