//! Agents: the voice agents that answer calls (server functions and the Agents page).

mod audio;
mod form;
mod test_call;

use domain::agent::{AgentInput, AgentView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::form::{PRIMARY, SECONDARY};
use crate::layout::{EmptyState, PageHeader};

/// The signed-in user's agents.
#[server(endpoint = "agents/list")]
pub async fn list_agents() -> Result<Vec<AgentView>, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::agents::list(&state, &user.owner).await?)
}

/// Creates (no id) or replaces an agent.
#[server(endpoint = "agents/save", input = Json)]
pub async fn save_agent(id: Option<String>, input: AgentInput) -> Result<AgentView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(match id {
        Some(id) => server::agents::update(&state, &user.owner, &id, input).await?,
        None => server::agents::create(&state, &user.owner, input).await?,
    })
}

/// Deletes an agent, unlinking its numbers; returns how many were linked.
#[server(endpoint = "agents/delete")]
pub async fn delete_agent(id: String) -> Result<i64, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::agents::delete(&state, &user.owner, &id).await?)
}

/// The Agents page.
#[component]
pub fn AgentsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let agents = Resource::new(move || version.get(), |_| list_agents());
    // None: closed; Some(None): new agent; Some(Some(a)): editing a.
    let editing = RwSignal::new(None::<Option<AgentView>>);
    // The agent (id, name) with a test call panel open.
    let testing = RwSignal::new(None::<(String, String)>);
    let delete = ServerAction::<DeleteAgent>::new();
    Effect::new(move || {
        if delete.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    let on_saved = Callback::new(move |_: AgentView| {
        editing.set(None);
        version.update(|v| *v += 1);
    });
    view! {
        <div class="flex items-start justify-between">
            <PageHeader title="Agents" subtitle="Voice agents: greeting, language, speech and reply settings."/>
            <button class=PRIMARY data-testid="new-agent" on:click=move |_| editing.set(Some(None))>"New agent"</button>
        </div>
        {move || editing.get().map(|a| view! { <form::AgentForm agent=a on_saved on_close=Callback::new(move |_| editing.set(None))/> })}
        {move || testing.get().map(|(agent_id, agent_name)| view! {
            <test_call::TestCallPanel agent_id agent_name on_close=Callback::new(move |_| testing.set(None))/>
        })}
        <Transition fallback=|| view! { <div class="grid gap-4 md:grid-cols-2"><div class="h-32 animate-pulse rounded-xl bg-slate-200"></div><div class="h-32 animate-pulse rounded-xl bg-slate-200"></div></div> }>
            {move || agents.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <EmptyState title="No agents yet" body="Create an agent to answer your calls with a greeting and scripted or LLM replies.">
                        <button class=PRIMARY on:click=move |_| editing.set(Some(None))>"Create your first agent"</button>
                    </EmptyState>
                }.into_any(),
                Ok(list) => view! {
                    <div class="grid gap-4 md:grid-cols-2">
                        {list.into_iter().map(|a| {
                            let for_edit = a.clone();
                            let id = a.id.clone();
                            let for_test = (a.id.clone(), a.settings.name.clone());
                            let linked = a.linked_numbers;
                            view! {
                                <article id=format!("agent-{}", a.id) data-testid="agent-card" class="rounded-xl border border-slate-200 bg-white p-5 target:ring-2 target:ring-indigo-400">
                                    <div class="flex items-start justify-between gap-4">
                                        <div>
                                            <h2 class="font-semibold" data-testid="agent-name">{a.settings.name.clone()}</h2>
                                            <p class="text-xs uppercase text-slate-400">{a.settings.language.clone()} " · " {a.settings.providers.llm.clone()}</p>
                                        </div>
                                        <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">{linked} " numbers"</span>
                                    </div>
                                    <p class="mt-3 line-clamp-2 text-sm text-slate-600">"“" {a.settings.greeting.clone()} "”"</p>
                                    <div class="mt-4 flex gap-2">
                                        <button class=SECONDARY on:click=move |_| editing.set(Some(Some(for_edit.clone())))>"Edit"</button>
                                        <button class=SECONDARY data-testid="test-call-agent" on:click=move |_| testing.set(Some(for_test.clone()))>"Test call"</button>
                                        <button class="rounded-md px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50"
                                            on:click=move |_| {
                                                let msg = if linked > 0 {
                                                    format!("Delete this agent? {linked} phone number(s) use it and will be unlinked.")
                                                } else {
                                                    "Delete this agent?".to_string()
                                                };
                                                if window().confirm_with_message(&msg).unwrap_or(false) {
                                                    delete.dispatch(DeleteAgent { id: id.clone() });
                                                }
                                            }>"Delete"</button>
                                    </div>
                                </article>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}
