//! Agents service: create, edit, list and delete the voice agents that answer calls.

use domain::agent::{AgentInput, AgentView};

use crate::db::{self, agents as repo};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

fn view(row: repo::AgentRow) -> Result<AgentView, DomainError> {
    let mut settings: AgentInput = serde_json::from_str(&row.settings_json).map_err(db::DbError::from)?;
    settings.name = row.name;
    settings.language = row.language;
    Ok(AgentView {
        id: row.id,
        settings,
        linked_numbers: row.linked_numbers,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn checked(input: AgentInput) -> Result<(AgentInput, String), DomainError> {
    let input = input.normalized();
    let errors = input.validate();
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let json = serde_json::to_string(&input).map_err(db::DbError::from)?;
    Ok((input, json))
}

/// Creates an agent for `owner`.
pub async fn create(state: &AppState, owner: &Owner, input: AgentInput) -> Result<AgentView, DomainError> {
    let (input, json) = checked(input)?;
    let key = db::new_key();
    repo::insert(&state.db, owner, &key, &input.name, &input.language, &json, &state.clock.now_rfc3339()).await?;
    tracing::info!(user_id = %owner.id(), agent_id = %key, "agent created");
    get(state, owner, &key).await
}

/// Replaces `owner`'s agent `id`.
pub async fn update(state: &AppState, owner: &Owner, id: &str, input: AgentInput) -> Result<AgentView, DomainError> {
    let (input, json) = checked(input)?;
    if !repo::update(&state.db, owner, id, &input.name, &input.language, &json, &state.clock.now_rfc3339()).await? {
        return Err(DomainError::NotFound("agent"));
    }
    get(state, owner, id).await
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
    if !repo::delete(&state.db, owner, id, &state.clock.now_rfc3339()).await? {
        return Err(DomainError::NotFound("agent"));
    }
    tracing::info!(user_id = %owner.id(), agent_id = %id, unlinked = linked, "agent deleted");
    Ok(linked)
}
