//! "Test" on a number's card: a simulated call through the number's real answer URL and stream
//! (the server plays the provider with the number's stored credentials), shown step by step.

use domain::phone_number::CheckStatus;
use domain::test_call::NumberTestReport;
use leptos::prelude::*;

use crate::error::AppError;
use crate::form::SECONDARY;

/// Runs a test call on the number; what happened, step by step.
#[server(endpoint = "numbers/test-call")]
pub async fn test_number(id: String) -> Result<NumberTestReport, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::test_calls::number::run(&state, &user.owner, &id).await?)
}

fn mark(s: CheckStatus) -> (&'static str, &'static str) {
    match s {
        CheckStatus::Pass => ("✓", "text-emerald-700"),
        CheckStatus::Warn => ("!", "text-amber-700"),
        CheckStatus::Fail => ("✗", "text-red-700"),
        CheckStatus::Skip => ("–", "text-slate-400"),
    }
}

/// The steps of a finished test call.
#[component]
fn Steps(report: NumberTestReport) -> impl IntoView {
    let ok = report.ok;
    let call = report.call_id.clone();
    let phone = report.phone_id.clone();
    view! {
        <p class=if ok { "text-sm font-medium text-emerald-700" } else { "text-sm font-medium text-red-700" } data-testid="test-verdict">
            {if ok { "The test call went through" } else { "The test call failed: see the step marked ✗" }}
        </p>
        <ol class="mt-3 space-y-2 text-sm" data-testid="test-steps">
            {report.steps.into_iter().map(|s| {
                let (sign, class) = mark(s.status);
                view! {
                    <li data-testid="test-step" data-step=s.id.clone() data-status=s.status.as_str()>
                        <span class=format!("mr-1 font-bold {class}")>{sign}</span>
                        <span class="font-medium">{s.title}</span>
                        {s.ms.map(|ms| view! { <span class="ml-1 text-xs text-slate-500">{format!("{ms} ms")}</span> })}
                        <span class="block break-words pl-4 text-xs text-slate-600" data-testid="test-step-detail">{s.detail}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
        {call.map(|c| view! {
            <a class="mt-3 inline-block text-sm font-medium text-indigo-700 hover:underline" data-testid="test-call-link"
                href=format!("/calls?phoneId={phone}&call={c}")>"Open the recorded call"</a>
        })}
    }
}

/// The card's "Test" button and the panel with the steps.
#[component]
pub fn TestButton(id: String, phone_number: String) -> impl IntoView {
    let run = ServerAction::<TestNumber>::new();
    let open = RwSignal::new(false);
    let start = move || {
        open.set(true);
        run.dispatch(TestNumber { id: id.clone() });
    };
    view! {
        <button class=SECONDARY data-testid="test-number" disabled=move || run.pending().get() on:click=move |_| start()>
            {move || if run.pending().get() { "Testing…" } else { "Test" }}
        </button>
        {move || open.get().then(|| view! {
            <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label="Test call">
                <section class="w-full max-w-lg rounded-xl bg-white p-6 shadow-xl" data-testid="test-panel">
                    <div class="flex items-start justify-between">
                        <h2 class="text-lg font-semibold">"Test call to " <span class="font-mono">{phone_number.clone()}</span></h2>
                        <button class=SECONDARY data-testid="test-close" on:click=move |_| open.set(false)>"Close"</button>
                    </div>
                    <p class="mt-1 text-xs text-slate-500">"A simulated call through this number's answer URL and stream, as its provider would place it."</p>
                    <div class="mt-4">
                        {move || match (run.pending().get(), run.value().get()) {
                            (true, _) | (_, None) => view! { <p class="text-sm text-slate-600" data-testid="test-running">"Calling… (about 15 seconds)"</p> }.into_any(),
                            (false, Some(Ok(report))) => view! { <Steps report/> }.into_any(),
                            (false, Some(Err(e))) => view! {
                                <p class="text-sm text-red-700" data-testid="test-error">{e.for_field("test").unwrap_or_else(|| e.to_string())}</p>
                            }.into_any(),
                        }}
                    </div>
                </section>
            </div>
        })}
    }
}
