//! Analytics: calls, answer rate, duration, turns and voice-to-voice latency per number and
//! per agent, with charts over time.

pub mod charts;

use domain::call::{Analytics, AnalyticsRow};
use leptos::prelude::*;

use crate::error::AppError;
use crate::form::INPUT;
use crate::layout::{EmptyState, PageHeader};

/// The signed-in user's figures over the last `days` days; totals and charts for the number
/// or agent `scope` names (`number:<id>`, `agent:<id>`; empty for every call).
#[server(endpoint = "analytics/get")]
pub async fn get_analytics(days: u32, scope: String) -> Result<Analytics, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    let (phone_id, agent_id) = (scope.strip_prefix("number:"), scope.strip_prefix("agent:"));
    Ok(server::calls::analytics(&state, &user.owner, days, phone_id, agent_id).await?)
}

/// The chart's scope choices: every call, each number, each agent.
fn scope_select(a: &Analytics, scope: RwSignal<String>) -> impl IntoView + use<> {
    let option = |value: String, label: String| view! { <option value=value>{label}</option> };
    view! {
        <label class="mt-6 flex items-center gap-2 text-sm text-slate-600">
            "Totals and charts for"
            <select aria-label="Totals and charts for" data-testid="analytics-scope" class=format!("{INPUT} mt-0 max-w-72")
                prop:value=move || scope.get() on:change=move |ev| scope.set(event_target_value(&ev))>
                <option value="">"All calls"</option>
                <optgroup label="Numbers">
                    {a.by_number.iter().map(|r| option(format!("number:{}", r.id), r.label.clone())).collect_view()}
                </optgroup>
                <optgroup label="Agents">
                    {a.by_agent.iter().map(|r| option(format!("agent:{}", r.id), r.label.clone())).collect_view()}
                </optgroup>
            </select>
        </label>
    }
}

fn ms(v: Option<i64>) -> String {
    v.map(|v| format!("{:.2} s", v as f64 / 1000.0)).unwrap_or_else(|| "—".into())
}

fn rate(r: &AnalyticsRow) -> String {
    if r.calls == 0 { "—".into() } else { format!("{:.0} %", 100.0 * r.answered as f64 / r.calls as f64) }
}

fn table(title: &'static str, testid: &'static str, rows: Vec<AnalyticsRow>) -> impl IntoView {
    view! {
        <section class="mt-6">
            <h2 class="mb-2 font-medium">{title}</h2>
            <div class="overflow-hidden rounded-xl border border-slate-200 bg-white">
                <table class="w-full text-left text-sm" data-testid=testid>
                    <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                        <tr>
                            <th class="px-4 py-2">"Name"</th><th class="px-4 py-2">"Calls"</th><th class="px-4 py-2">"Answered"</th>
                            <th class="px-4 py-2">"Outbound"</th><th class="px-4 py-2">"Machine"</th>
                            <th class="px-4 py-2">"Avg duration"</th><th class="px-4 py-2">"Turns / call"</th>
                            <th class="px-4 py-2">"Voice-to-voice p50"</th><th class="px-4 py-2">"p90"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr class="border-t border-slate-100" data-testid="analytics-row">
                                <td class="px-4 py-2 font-medium">{r.label.clone()}</td>
                                <td class="px-4 py-2" data-testid="analytics-calls">{r.calls}</td>
                                <td class="px-4 py-2">{rate(&r)}</td>
                                <td class="px-4 py-2" data-testid="analytics-outbound">{r.outbound}</td>
                                <td class="px-4 py-2" data-testid="analytics-machine">{r.machine}</td>
                                <td class="px-4 py-2">{ms(r.avg_duration_ms)}</td>
                                <td class="px-4 py-2">{r.turns_per_call.map(|t| format!("{t:.1}")).unwrap_or_else(|| "—".into())}</td>
                                <td class="px-4 py-2" data-testid="analytics-p50">{ms(r.voice_to_voice_p50_ms)}</td>
                                <td class="px-4 py-2">{ms(r.voice_to_voice_p90_ms)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The Analytics page.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let days = RwSignal::new(14u32);
    let scope = RwSignal::new(String::new());
    let (live, _) = crate::calls::live::use_live_calls();
    let data = Resource::new(move || (days.get(), scope.get(), live.get()), |(d, s, _)| get_analytics(d, s));
    view! {
        <div class="flex items-start justify-between">
            <PageHeader title="Analytics" subtitle="How your numbers and agents are doing: calls, answer rate, duration, turns and voice-to-voice latency."/>
            <select aria-label="Period" class=format!("{INPUT} mt-0 max-w-40") on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(14))>
                <option value="7">"Last 7 days"</option>
                <option value="14" selected>"Last 14 days"</option>
                <option value="30">"Last 30 days"</option>
                <option value="90">"Last 90 days"</option>
            </select>
        </div>
        <Transition fallback=|| view! { <div class="h-60 animate-pulse rounded-xl bg-slate-200"></div> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="text-red-600">{e.to_string()}</p> }.into_any(),
                Ok(a) if a.by_number.is_empty() => view! {
                    <EmptyState title="No calls in this period" body="Figures appear here once your numbers take calls.">
                        <a href="/setup" class="text-sm font-medium text-indigo-700 hover:underline">"Put a number on Exotel"</a>
                    </EmptyState>
                }.into_any(),
                Ok(a) => view! {
                    {scope_select(&a, scope)}
                    <div class="mt-3 grid gap-4 md:grid-cols-4" data-testid="analytics-totals">
                        <Stat label="Calls" value=a.total.calls.to_string() testid="total-calls"/>
                        <Stat label="Answered" value=rate(&a.total) testid="total-answered"/>
                        <Stat label="Avg duration" value=ms(a.total.avg_duration_ms) testid="total-duration"/>
                        <Stat label="Voice-to-voice p50 / p90" value=format!("{} / {}", ms(a.total.voice_to_voice_p50_ms), ms(a.total.voice_to_voice_p90_ms)) testid="total-latency"/>
                    </div>
                    <div class="mt-6 grid gap-4 md:grid-cols-2">
                        <section class="rounded-xl border border-slate-200 bg-white p-4">
                            <h2 class="mb-2 text-sm font-medium">"Calls per day"</h2>
                            <charts::CallsChart days=a.by_day.clone()/>
                        </section>
                        <section class="rounded-xl border border-slate-200 bg-white p-4">
                            <h2 class="mb-2 text-sm font-medium">"Voice-to-voice latency (ms): " <span class="text-indigo-700">"p50"</span> " · " <span class="text-amber-600">"p90"</span></h2>
                            <charts::LatencyChart days=a.by_day.clone()/>
                        </section>
                    </div>
                    {table("Per number", "by-number", a.by_number)}
                    {table("Per agent", "by-agent", a.by_agent)}
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Stat(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-slate-200 bg-white p-4">
            <p class="text-xs uppercase tracking-wide text-slate-500">{label}</p>
            <p class="mt-1 text-2xl font-semibold" data-testid=testid>{value}</p>
        </div>
    }
}
