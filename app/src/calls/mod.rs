//! Call logs: every call with its status, and what the provider sent.

use domain::call::{CallDetail, CallPage, CallQuery, STATUSES};
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

const PAGE_SIZE: u32 = 25;

fn badge(status: &str) -> &'static str {
    match status {
        "completed" => "bg-emerald-100 text-emerald-800",
        "in_progress" | "ringing" => "bg-sky-100 text-sky-800",
        "failed" => "bg-red-100 text-red-800",
        _ => "bg-slate-200 text-slate-700",
    }
}

fn duration(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)).unwrap_or_else(|| "—".into())
}

/// The Call Logs page (`?phoneId=` narrows it to one number).
#[component]
pub fn CallLogsPage() -> impl IntoView {
    let phone_id = move || use_query_map().with(|q| q.get("phoneId"));
    let status = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let version = RwSignal::new(0u32);
    let calls = Resource::new(
        move || (phone_id(), status.get(), from.get(), page.get(), version.get()),
        |(phone_id, status, from, page, _)| {
            list_calls(CallQuery { phone_id, status: Some(status), from: Some(from), page: Some(page), page_size: Some(PAGE_SIZE), ..Default::default() })
        },
    );
    let selected = RwSignal::new(None::<String>);
    let detail = Resource::new(move || selected.get(), |id| async move {
        match id {
            Some(id) => get_call(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <div class="flex items-start justify-between">
            <PageHeader title="Call Logs" subtitle="Every call answered by your agents, with what the provider sent."/>
            <button class=SECONDARY data-testid="refresh-calls" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
        </div>
        <div class="mb-4 flex flex-wrap gap-3">
            <select aria-label="Filter by status" class=format!("{INPUT} mt-0 max-w-44") on:change=move |ev| { page.set(1); status.set(event_target_value(&ev)); }>
                <option value="">"All statuses"</option>
                {STATUSES.iter().map(|(k, l)| view! { <option value=*k>{*l}</option> }).collect_view()}
            </select>
            <input type="date" aria-label="From date" class=format!("{INPUT} mt-0 max-w-44") on:change=move |ev| { page.set(1); from.set(event_target_value(&ev)); }/>
            {move || phone_id().map(|_| view! { <a href="/calls" class="self-center text-sm text-indigo-700 hover:underline">"Showing one number · show all"</a> })}
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
                                    <tr><th class="px-4 py-2">"Number"</th><th class="px-4 py-2">"Caller"</th><th class="px-4 py-2">"Agent"</th><th class="px-4 py-2">"Started"</th><th class="px-4 py-2">"Duration"</th><th class="px-4 py-2">"Status"</th></tr>
                                </thead>
                                <tbody>
                                    {p.calls.into_iter().map(|c| {
                                        let id = c.id.clone();
                                        view! {
                                            <tr data-testid="call-row" class="cursor-pointer border-t border-slate-100 hover:bg-slate-50" on:click=move |_| selected.set(Some(id.clone()))>
                                                <td class="px-4 py-2 font-mono">{c.phone_number}</td>
                                                <td class="px-4 py-2 font-mono" data-testid="call-caller">{c.caller.unwrap_or_else(|| "unknown".into())}</td>
                                                <td class="px-4 py-2">{c.agent_name.unwrap_or_else(|| "—".into())}</td>
                                                <td class="px-4 py-2 text-slate-500">{c.started_at}</td>
                                                <td class="px-4 py-2">{duration(c.duration_ms)}</td>
                                                <td class="px-4 py-2"><span data-testid="call-status" class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", badge(&c.status))>{c.status.replace('_', " ")}</span></td>
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
                <section data-testid="call-detail" class="mt-6 rounded-xl border border-slate-200 bg-white p-5">
                    <div class="flex items-start justify-between">
                        <h2 class="font-medium">"Call " <span class="font-mono">{d.call.session_id.clone()}</span></h2>
                        <button class=SECONDARY on:click=move |_| selected.set(None)>"Close"</button>
                    </div>
                    <p class="mt-1 text-sm text-slate-500">{d.call.reason.clone().unwrap_or_default()}</p>
                    <p class="mt-3 text-sm text-slate-500">"The conversation (turns) appears here once the voice pipeline answers calls."</p>
                    <h3 class="mt-4 text-xs font-medium uppercase tracking-wide text-slate-400">"Provider parameters"</h3>
                    <dl class="mt-2 grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 font-mono text-xs">
                        {d.provider_params.into_iter().map(|(k, v)| view! { <dt class="text-slate-500">{k}</dt><dd data-testid="call-param">{v}</dd> }).collect_view()}
                    </dl>
                </section>
            })}
        </Transition>
    }
}
