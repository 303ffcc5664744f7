//! Call logs: every call with its status and conversation, updated live while calls run.

pub mod detail;
pub mod live;

use domain::call::{CallDetail, CallPage, CallQuery, CallStatus};
use domain::phone_number::PhoneNumberQuery;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::form::{INPUT, SECONDARY};
use crate::layout::{EmptyState, PageHeader};

/// One page of the signed-in user's calls.
#[server(endpoint = "calls/list", input = Json)]
pub async fn list_calls(query: CallQuery) -> Result<CallPage, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::calls::list(&state, &user.owner, &query).await?)
}

/// One call with its provider parameters.
#[server(endpoint = "calls/get")]
pub async fn get_call(id: String) -> Result<CallDetail, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::calls::get(&state, &user.owner, &id).await?)
}

/// Deletes an ended call with its turns and recording.
#[server(endpoint = "calls/delete")]
pub async fn delete_call(id: String) -> Result<(), AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::calls::recordings::delete_call(&state, &user.owner, &id).await?)
}

const PAGE_SIZE: u32 = 25;

fn badge(status: CallStatus) -> &'static str {
    match status {
        CallStatus::Completed => "bg-emerald-100 text-emerald-800",
        s if s.is_live() => "bg-sky-100 text-sky-800",
        CallStatus::Failed => "bg-red-100 text-red-800",
        _ => "bg-slate-200 text-slate-700",
    }
}

fn duration(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)).unwrap_or_else(|| "—".into())
}

/// The Call Logs page (`?phoneId=` narrows it to one number; `?call=` opens one call).
#[component]
pub fn CallLogsPage() -> impl IntoView {
    let query = use_query_map();
    let phone_id = RwSignal::new(query.with_untracked(|q| q.get("phoneId")).unwrap_or_default());
    let agent_id = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let version = RwSignal::new(0u32);
    let (live, connected) = live::use_live_calls();
    let some = |s: String| (!s.is_empty()).then_some(s);
    let calls = Resource::new(
        move || (phone_id.get(), agent_id.get(), status.get(), from.get(), to.get(), page.get(), version.get(), live.get()),
        move |(phone_id, agent_id, status, from, to, page, _, _)| {
            list_calls(CallQuery {
                phone_id: some(phone_id),
                agent_id: some(agent_id),
                status: some(status),
                from: some(from),
                to: some(to),
                page: Some(page),
                page_size: Some(PAGE_SIZE),
            })
        },
    );
    let numbers = Resource::new(|| (), |_| crate::numbers::list_numbers(PhoneNumberQuery { page_size: Some(100), ..Default::default() }));
    let agents = Resource::new(|| (), |_| crate::agents::list_agents());
    let selected = RwSignal::new(query.with_untracked(|q| q.get("call")));
    let detail = Resource::new(
        move || (selected.get(), live.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_call(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let filter = move |signal: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            page.set(1);
            signal.set(event_target_value(&ev));
        }
    };
    view! {
        <div class="flex items-start justify-between">
            <PageHeader title="Call Logs" subtitle="Every call answered by your agents: the conversation, its timings, and what the provider sent."/>
            <div class="flex items-center gap-3">
                <span data-testid="live-status" class="flex items-center gap-1 text-xs text-slate-500">
                    <span class=move || format!("inline-block h-2 w-2 rounded-full {}", if connected.get() { "bg-emerald-500" } else { "bg-slate-300" })></span>
                    {move || if connected.get() { "Live" } else { "Offline" }}
                </span>
                <button class=SECONDARY data-testid="refresh-calls" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
            </div>
        </div>
        <div class="mb-4 flex flex-wrap gap-3">
            <select aria-label="Filter by number" class=format!("{INPUT} mt-0 max-w-52") prop:value=move || phone_id.get() on:change=filter(phone_id)>
                <option value="">"All numbers"</option>
                <Transition fallback=|| ()>
                    {move || numbers.get().and_then(Result::ok).map(|p| p.phone_numbers.into_iter().map(|n| {
                        let label = if n.display_name.is_empty() { n.phone_number.clone() } else { format!("{} ({})", n.display_name, n.phone_number) };
                        let selected = phone_id.get_untracked() == n.id;
                        view! { <option value=n.id selected=selected>{label}</option> }
                    }).collect_view())}
                </Transition>
            </select>
            <select aria-label="Filter by agent" class=format!("{INPUT} mt-0 max-w-44") prop:value=move || agent_id.get() on:change=filter(agent_id)>
                <option value="">"All agents"</option>
                <Transition fallback=|| ()>
                    {move || agents.get().and_then(Result::ok).map(|a| a.into_iter().map(|a| view! { <option value=a.id>{a.settings.name}</option> }).collect_view())}
                </Transition>
            </select>
            <select aria-label="Filter by status" class=format!("{INPUT} mt-0 max-w-44") on:change=filter(status)>
                <option value="">"All statuses"</option>
                {CallStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
            </select>
            <label class="flex items-center gap-2 text-sm text-slate-600">"From"
                <input type="date" aria-label="From date" class=format!("{INPUT} mt-0 max-w-44") on:change=filter(from)/>
            </label>
            <label class="flex items-center gap-2 text-sm text-slate-600">"To"
                <input type="date" aria-label="To date" class=format!("{INPUT} mt-0 max-w-44") on:change=filter(to)/>
            </label>
        </div>
        <Transition fallback=|| view! { <div class="h-40 animate-pulse rounded-xl bg-slate-200"></div> }>
            {move || calls.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
                Ok(p) if p.calls.is_empty() => view! {
                    <EmptyState title="No calls yet" body="Calls appear here as soon as a linked number rings.">
                        <a href="/numbers" class="text-sm font-medium text-indigo-700 hover:underline">"Set up a phone number"</a>
                    </EmptyState>
                }.into_any(),
                Ok(p) => {
                    let pages = ((p.total as u32).div_ceil(PAGE_SIZE)).max(1);
                    view! {
                        <div class="overflow-hidden rounded-xl border border-slate-200 bg-white">
                            <table class="w-full text-left text-sm">
                                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                                    <tr>
                                        <th class="px-4 py-2">"Number"</th><th class="px-4 py-2">"Caller"</th><th class="px-4 py-2">"Agent"</th>
                                        <th class="px-4 py-2">"Started"</th><th class="px-4 py-2">"Duration"</th><th class="px-4 py-2">"Turns"</th><th class="px-4 py-2">"Status"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.calls.into_iter().map(|c| {
                                        let id = c.id.clone();
                                        let started = c.started_at.replace('T', " ").chars().take(19).collect::<String>();
                                        view! {
                                            <tr data-testid="call-row" data-call=c.id.clone() class="cursor-pointer border-t border-slate-100 hover:bg-slate-50" on:click=move |_| selected.set(Some(id.clone()))>
                                                <td class="px-4 py-2 font-mono">{c.phone_number}</td>
                                                <td class="px-4 py-2 font-mono" data-testid="call-caller">{c.caller.unwrap_or_else(|| "unknown".into())}</td>
                                                <td class="px-4 py-2">{c.agent_name.unwrap_or_else(|| "—".into())}</td>
                                                <td class="px-4 py-2 text-slate-500">{started}</td>
                                                <td class="px-4 py-2">{duration(c.duration_ms)}</td>
                                                <td class="px-4 py-2" data-testid="call-turns">{c.turn_count}</td>
                                                <td class="px-4 py-2"><span data-testid="call-status" class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", badge(c.status))>{c.status.as_str().replace('_', " ")}</span></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <nav class="mt-4 flex items-center justify-center gap-3 text-sm" aria-label="Pages">
                            <button class=SECONDARY disabled=move || page.get() <= 1 on:click=move |_| page.update(|p| *p -= 1)>"Previous"</button>
                            <span>"Page " {move || page.get()} " of " {pages} " · " {p.total} " calls"</span>
                            <button class=SECONDARY disabled=move || { page.get() >= pages } on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
                        </nav>
                    }.into_any()
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || detail.get().and_then(Result::ok).flatten().map(|d| view! {
                <detail::CallDetailPanel detail=d on_close=Callback::new(move |_| selected.set(None))
                    on_deleted=Callback::new(move |_| {
                        selected.set(None);
                        version.update(|v| *v += 1);
                    })/>
            })}
        </Transition>
    }
}
