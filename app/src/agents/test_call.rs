//! "Test call" on an agent's card: talk to the agent with the microphone, in the browser (no
//! phone, no provider), with the live transcript beside it. The call is stored like any other
//! (direction `test`), so the transcript is the call's own turns, followed live.

use std::rc::Rc;

use leptos::prelude::*;

use super::audio::{self, BrowserCall, CallEvent};
use crate::form::{PRIMARY, SECONDARY};

/// Where a test call stands.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Connecting,
    Live,
    Ended(String),
    Failed(String),
}

/// The panel: Start / Stop, what is happening, and the transcript.
#[component]
pub fn TestCallPanel(agent_id: String, agent_name: String, on_close: Callback<()>) -> impl IntoView {
    let phase = RwSignal::new(Phase::Idle);
    let call_id = RwSignal::new(None::<String>);
    let running = StoredValue::new_local(None::<BrowserCall>);
    let (live, _) = crate::calls::live::use_live_calls();
    let detail = Resource::new(
        move || (call_id.get(), live.get()),
        |(id, _)| async move {
            match id {
                Some(id) => crate::calls::get_call(id).await.ok(),
                None => None,
            }
        },
    );
    let start = move |_| {
        running.set_value(None);
        call_id.set(None);
        phase.set(Phase::Connecting);
        let agent = agent_id.clone();
        leptos::task::spawn_local(async move {
            let on_event: Rc<dyn Fn(CallEvent)> = Rc::new(move |e| match e {
                CallEvent::Started(id) => {
                    call_id.set(Some(id));
                    phase.set(Phase::Live);
                }
                CallEvent::Ended(why) => phase.set(Phase::Ended(why)),
            });
            match audio::start(&agent, on_event).await {
                Ok(call) => running.set_value(Some(call)),
                Err(e) => phase.set(Phase::Failed(e)),
            }
        });
    };
    let stop = move |_| {
        running.with_value(|c| {
            if let Some(c) = c {
                c.stop();
            }
        })
    };
    // Leaving the page hangs up.
    on_cleanup(move || running.set_value(None));
    let active = move || matches!(phase.get(), Phase::Connecting | Phase::Live);
    view! {
        <div class="fixed inset-0 z-10 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-6" role="dialog" aria-modal="true" aria-label="Test call">
            <section class="w-full max-w-3xl rounded-xl bg-white p-6 shadow-xl" data-testid="test-call-panel">
                <div class="flex items-start justify-between">
                    <div>
                        <h2 class="text-lg font-semibold">"Test call with " {agent_name}</h2>
                        <p class="mt-1 text-xs text-slate-500">"Talk to the agent with your microphone. No phone or provider is used; the call is saved in Calls as a test."</p>
                    </div>
                    <button class=SECONDARY data-testid="test-call-close" on:click=move |_| { running.set_value(None); on_close.run(()) }>"Close"</button>
                </div>
                <div class="mt-4 grid gap-6 md:grid-cols-[14rem_1fr]">
                    <div class="space-y-3">
                        {move || if active() {
                            view! { <button class=PRIMARY data-testid="test-call-stop" on:click=stop>"Stop"</button> }.into_any()
                        } else {
                            view! { <button class=PRIMARY data-testid="test-call-start" on:click=start.clone()>"Start"</button> }.into_any()
                        }}
                        <p class="text-sm" data-testid="test-call-status" data-phase=move || match phase.get() {
                            Phase::Idle => "idle", Phase::Connecting => "connecting", Phase::Live => "live", Phase::Ended(_) => "ended", Phase::Failed(_) => "failed",
                        }>
                            {move || match phase.get() {
                                Phase::Idle => view! { <span class="text-slate-600">"Press Start and allow the microphone."</span> }.into_any(),
                                Phase::Connecting => view! { <span class="text-slate-600">"Connecting…"</span> }.into_any(),
                                Phase::Live => view! { <span class="font-medium text-emerald-700">"● Live: speak to the agent"</span> }.into_any(),
                                Phase::Ended(why) => view! { <span class="text-slate-700">{why}</span> }.into_any(),
                                Phase::Failed(why) => view! { <span class="text-red-700" data-testid="test-call-error">{why}</span> }.into_any(),
                            }}
                        </p>
                        {move || call_id.get().map(|id| view! {
                            <a class="text-sm font-medium text-indigo-700 hover:underline" data-testid="test-call-link" href=format!("/calls?call={id}")>"Open in Calls"</a>
                        })}
                    </div>
                    <div>
                        <h3 class="text-xs font-medium uppercase tracking-wide text-slate-400">"Transcript"</h3>
                        <Transition fallback=|| ()>
                            {move || detail.get().flatten().map(|d| {
                                let empty = d.turns.is_empty();
                                let max_ms = d.turns.iter().map(|t| crate::calls::detail::stages(&t.timings).iter().sum::<i64>()).max().unwrap_or(1);
                                view! {
                                    {empty.then(|| view! { <p class="mt-2 text-sm text-slate-500">"Turns appear here as you talk."</p> })}
                                    <ol class="mt-2 max-h-96 space-y-2 overflow-y-auto" data-testid="test-call-transcript">
                                        {d.turns.into_iter().map(|t| crate::calls::detail::bubble(t, max_ms)).collect_view()}
                                    </ol>
                                }
                            })}
                        </Transition>
                    </div>
                </div>
            </section>
        </div>
    }
}
