//! One call: the conversation as caller and agent bubbles, keypad presses and barge-ins
//! inline, a latency breakdown per agent reply, and the raw provider parameters.

use domain::call::{CallDetail, Role, TurnKind, TurnTimings, TurnView};
use leptos::prelude::*;

use crate::form::SECONDARY;

/// Stages of an agent reply's latency, with their colours (SVG fill).
const STAGES: [(&str, &str); 5] = [
    ("End of speech", "#94a3b8"),
    ("Speech to text", "#38bdf8"),
    ("Agent", "#a78bfa"),
    ("Text to speech", "#fbbf24"),
    ("Send (server + network)", "#34d399"),
];

/// Milliseconds of each stage: endpointing, STT, agent, TTS, and the rest up to the first byte.
pub fn stages(t: &TurnTimings) -> [i64; 5] {
    let stt = t.stt_ms.unwrap_or(0);
    let agent = t.agent_ms.unwrap_or(0);
    let tts = t.tts_ms.unwrap_or(0);
    let send = t.first_byte_ms.map(|f| (f - stt - agent - tts).max(0)).unwrap_or(0);
    [t.endpointing_ms.unwrap_or(0), stt, agent, tts, send]
}

/// A stacked bar of one reply's stages, scaled to `max_ms`.
#[component]
fn LatencyBar(timings: TurnTimings, max_ms: i64) -> impl IntoView {
    let parts = stages(&timings);
    let total: i64 = parts.iter().sum();
    let width = 220.0;
    let scale = width / max_ms.max(1) as f64;
    let mut x = 0.0;
    let rects = parts
        .iter()
        .zip(STAGES.iter())
        .filter(|(ms, _)| **ms > 0)
        .map(|(ms, (name, colour))| {
            let w = (*ms as f64 * scale).max(1.0);
            let r = view! { <rect x=format!("{x:.1}") y="0" width=format!("{w:.1}") height="10" fill=*colour><title>{format!("{name}: {ms} ms")}</title></rect> };
            x += w;
            r
        })
        .collect_view();
    let label = format!(
        "{} ms to first audio: {}",
        total,
        parts.iter().zip(STAGES.iter()).map(|(ms, (n, _))| format!("{n} {ms}")).collect::<Vec<_>>().join(", ")
    );
    view! {
        <div class="mt-1 flex items-center gap-2 text-xs text-slate-500" data-testid="turn-latency">
            <svg width=width height="10" role="img" aria-label=label.clone() class="rounded-sm bg-slate-100">{rects}</svg>
            <span>{format!("{total} ms")}</span>
        </div>
    }
}

/// One turn of a conversation as a bubble (also the browser test call's live transcript).
pub fn bubble(t: TurnView, max_ms: i64) -> impl IntoView {
    let caller = t.role == Role::Caller;
    if t.kind == TurnKind::Dtmf {
        return view! {
            <li class="flex justify-start" data-testid="turn" data-role={Role::Caller.as_str()}>
                <span class="rounded-full border border-slate-300 px-3 py-1 font-mono text-xs text-slate-600" data-testid="turn-dtmf">"Pressed " {t.text}</span>
            </li>
        }
        .into_any();
    }
    let side = if caller { "justify-start" } else { "justify-end" };
    let tone = if caller { "bg-slate-100 text-slate-900" } else { "bg-indigo-600 text-white" };
    let tag = match (t.kind, t.interrupted) {
        (_, true) => Some("interrupted by the caller"),
        (TurnKind::Greeting, _) => Some("greeting"),
        (TurnKind::Fallback, _) => Some("fallback line"),
        (TurnKind::Transfer, _) => Some("handed to a person"),
        _ => None,
    };
    let timings = (!caller && t.timings.first_byte_ms.is_some()).then(|| t.timings.clone());
    let barged = t.interrupted;
    view! {
        <li class=format!("flex {side}") data-testid="turn" data-role=t.role.as_str()>
            <div class="max-w-[75%]">
                <p class=format!("rounded-2xl px-4 py-2 text-sm {tone}") data-testid="turn-text">{t.text}</p>
                {tag.map(|tag| view! { <p class="mt-1 text-xs text-amber-700" data-testid="turn-tag">{tag}</p> })}
                {timings.map(|timings| view! { <LatencyBar timings max_ms/> })}
            </div>
        </li>
        // The barge-in as an event of its own, where it happened in the conversation.
        {barged.then(|| view! {
            <li class="flex justify-center" data-testid="turn-barge-in">
                <span class="rounded-full bg-amber-50 px-3 py-1 text-xs text-amber-800">"Caller spoke over the agent: audio cleared, agent listening"</span>
            </li>
        })}
    }
    .into_any()
}

/// What carried the call: its provider, or the browser, marked when it was a test call.
fn via(call: &domain::call::CallView) -> String {
    use domain::test_call::{BROWSER_PHONE_ID, TEST_DIRECTION};
    match (call.direction.as_deref() == Some(TEST_DIRECTION), call.phone_id == BROWSER_PHONE_ID) {
        (true, true) => "the browser (test call)".into(),
        (true, false) => format!("{} (test call)", call.provider.label()),
        _ => call.provider.label().into(),
    }
}

/// The detail panel of a call.
#[component]
pub fn CallDetailPanel(detail: CallDetail, on_close: Callback<()>, on_deleted: Callback<()>) -> impl IntoView {
    let delete = ServerAction::<super::DeleteCall>::new();
    Effect::new(move || {
        if let Some(Ok(())) = delete.value().get() {
            on_deleted.run(());
        }
    });
    let id = detail.call.id.clone();
    let live = detail.call.status.is_live();
    let recording = detail.recording_url.clone().map(|url| (url, detail.recording_ms, detail.recording_expires_at.clone()));
    let max_ms = detail.turns.iter().map(|t| stages(&t.timings).iter().sum::<i64>()).max().unwrap_or(1);
    let has_latency = detail.turns.iter().any(|t| t.role == Role::Agent && t.timings.first_byte_ms.is_some());
    let empty = detail.turns.is_empty();
    view! {
        <section data-testid="call-detail" class="mt-6 rounded-xl border border-slate-200 bg-white p-5">
            <div class="flex items-start justify-between">
                <div>
                    <h2 class="font-medium">"Call " <span class="font-mono">{detail.call.session_id.clone()}</span></h2>
                    <p class="mt-1 text-sm text-slate-500">
                        {detail.call.caller.clone().unwrap_or_else(|| "unknown caller".into())} " → " {detail.call.phone_number.clone()}
                        " · via " <span data-testid="detail-provider">{via(&detail.call)}</span>
                        " · " <span data-testid="detail-status">{detail.call.status.as_str().replace('_', " ")}</span>
                        {detail.call.reason.clone().map(|r| format!(" · {r}"))}
                    </p>
                </div>
                <div class="flex gap-2">
                    <button class=SECONDARY data-testid="delete-call" disabled=live title="Deletes the call, its conversation and its recording"
                        on:click=move |_| {
                            if window().confirm_with_message("Delete this call, its conversation and its recording?").unwrap_or(false) {
                                delete.dispatch(super::DeleteCall { id: id.clone() });
                            }
                        }>"Delete"</button>
                    <button class=SECONDARY on:click=move |_| on_close.run(())>"Close"</button>
                </div>
            </div>
            {move || delete.value().get().and_then(Result::err).map(|e| view! { <p class="mt-2 text-sm text-red-700" role="alert">{e.to_string()}</p> })}
            {recording.map(|(url, ms, expires)| view! {
                <div class="mt-4 flex flex-wrap items-center gap-3" data-testid="call-recording">
                    <audio controls preload="metadata" src=url.clone() data-testid="recording-player" aria-label="Call recording"></audio>
                    <a class="text-sm text-indigo-700 underline" href=url download="">"Download WAV"</a>
                    <span class="text-xs text-slate-500">
                        "Caller left, agent right"
                        {ms.map(|ms| format!(" · {}:{:02}", ms / 60_000, (ms / 1000) % 60))}
                        {expires.map(|e| format!(" · kept until {}", e.get(..10).unwrap_or(&e)))}
                    </span>
                </div>
            })}
            <h3 class="mt-4 text-xs font-medium uppercase tracking-wide text-slate-400">"Conversation"</h3>
            {empty.then(|| view! { <p class="mt-2 text-sm text-slate-500">"No turns yet. They appear here while the caller talks."</p> })}
            <ol class="mt-2 space-y-2" data-testid="conversation">
                {detail.turns.into_iter().map(|t| bubble(t, max_ms)).collect_view()}
            </ol>
            {has_latency.then(|| view! {
                <div class="mt-3 flex flex-wrap gap-3 text-xs text-slate-500" aria-label="Latency legend">
                    {STAGES.iter().map(|(n, c)| view! { <span class="flex items-center gap-1"><span class="inline-block h-2 w-3 rounded-sm" style=format!("background:{c}")></span>{*n}</span> }).collect_view()}
                </div>
            })}
            <h3 class="mt-5 text-xs font-medium uppercase tracking-wide text-slate-400">"Provider parameters"</h3>
            <dl class="mt-2 grid grid-cols-[auto_1fr] gap-x-6 gap-y-1 font-mono text-xs">
                {detail.provider_params.into_iter().map(|(k, v)| view! { <dt class="text-slate-500">{k}</dt><dd data-testid="call-param">{v}</dd> }).collect_view()}
            </dl>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_add_up_to_the_voice_to_voice_time() {
        let t = TurnTimings {
            endpointing_ms: Some(700),
            stt_ms: Some(850),
            agent_ms: Some(5),
            tts_ms: Some(120),
            first_byte_ms: Some(990),
            heard_ms: None,
        };
        assert_eq!(stages(&t), [700, 850, 5, 120, 15]);
        assert_eq!(stages(&t).iter().sum::<i64>(), 700 + 990);
        // Missing figures count as zero; the send part never goes negative.
        assert_eq!(stages(&TurnTimings { first_byte_ms: Some(10), stt_ms: Some(50), ..Default::default() }), [0, 50, 0, 0, 0]);
    }
}
