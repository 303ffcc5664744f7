//! The delivery log with its "Send test" button.

use domain::notify::{DeliveryState, DeliveryView};
use leptos::prelude::*;

use super::{SendTestNotification, list_deliveries};
use crate::form::SECONDARY;

fn badge(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Delivered => "rounded bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700",
        DeliveryState::Failed => "rounded bg-red-50 px-2 py-0.5 text-xs font-medium text-red-700",
        DeliveryState::Pending | DeliveryState::Sending => "rounded bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-700",
    }
}

/// One line of what happened to a delivery.
fn outcome(d: &DeliveryView) -> String {
    let status = d.last_status.map(|s| format!("{s}")).unwrap_or_else(|| "—".into());
    match (&d.last_error, &d.next_at) {
        (Some(e), Some(next)) => format!("{status} · {e} · next try {next}"),
        (Some(e), None) => format!("{status} · {e}"),
        (None, _) => status,
    }
}

/// Recent deliveries and "Send test" (`saved` bumps when the settings were saved).
#[component]
pub fn DeliveryLog(saved: Signal<u32>) -> impl IntoView {
    let test = ServerAction::<SendTestNotification>::new();
    let refresh = RwSignal::new(0u32);
    let log = Resource::new(move || (saved.get(), test.version().get(), refresh.get()), |_| list_deliveries());
    view! {
        <section class="mt-6 rounded-xl border border-slate-200 bg-white p-6">
            <div class="flex items-center justify-between">
                <h2 class="font-medium">"Delivery log"</h2>
                <div class="flex gap-2">
                    <button type="button" class=SECONDARY on:click=move |_| refresh.update(|r| *r += 1)>"Refresh"</button>
                    <button type="button" data-testid="send-test" class=SECONDARY disabled=move || test.pending().get()
                        on:click=move |_| { test.dispatch(SendTestNotification {}); }>
                        {move || if test.pending().get() { "Sending…" } else { "Send test" }}
                    </button>
                </div>
            </div>
            {move || test.value().get().map(|r| match r {
                Ok(d) => view! {
                    <p data-testid="test-result" class="mt-3 text-sm">
                        "Test event " <span class="font-mono">{d.id.clone()}</span> ": " <span class=badge(d.state)>{d.state.label()}</span>
                        " " {outcome(&d)}
                    </p>
                }.into_any(),
                Err(e) => view! { <p data-testid="test-result" class="mt-3 text-sm text-red-600">{e.to_string()}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="mt-4 h-6 animate-pulse rounded bg-slate-100"></p> }>
                {move || log.get().map(|r| match r {
                    Err(e) => view! { <p class="mt-4 text-sm text-red-600">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p data-testid="no-deliveries" class="mt-4 text-sm text-slate-500">"Nothing sent yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="mt-4 w-full text-left text-sm">
                            <thead class="text-xs uppercase text-slate-400">
                                <tr><th class="py-2">"Event"</th><th>"To"</th><th>"State"</th><th>"Tries"</th><th>"Result"</th><th>"When"</th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {list.into_iter().map(|d| view! {
                                    <tr data-testid="delivery-row" data-state=d.state.as_str()>
                                        <td class="py-2">{d.event.label()} <span class="ml-1 text-xs text-slate-400">{d.channel.label()}</span></td>
                                        <td class="max-w-xs truncate font-mono text-xs" title=d.target.clone()>{d.target.clone()}</td>
                                        <td><span class=badge(d.state)>{d.state.label()}</span></td>
                                        <td>{d.attempts}</td>
                                        <td data-testid="delivery-result" class="text-xs text-slate-600">{outcome(&d)}</td>
                                        <td class="text-xs text-slate-400">{d.updated_at.clone()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}
