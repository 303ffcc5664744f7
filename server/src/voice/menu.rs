//! A keypad menu before the conversation: the prompt said (the offline voice, cached like a
//! greeting), then one key from the caller. A key pressed during the prompt stops it. No key
//! within the timeout, or a key with no option, says the prompt again, up to the repeats. The
//! prompt and each key are stored as turns (a greeting turn, a keypad turn), like a
//! conversation's. Speaks only the pipeline's vocabulary; whoever runs the call picks what a
//! key leads to.

use std::sync::Arc;
use std::time::Duration;

use domain::call::{Role, TurnKind, TurnTimings};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::conversation::TurnStore;
use super::engine::{Pipeline, VoiceEngine};
use super::frames::{AgentFrame, CallAudio, CallerEvent, Queued};
use super::speaker::Speaker;

/// How long the peer may be unable to take a frame before it counts as gone.
const PEER_STALL: Duration = Duration::from_secs(5);

/// What the menu asks.
#[derive(Debug, Clone)]
pub struct MenuSpec {
    pub prompt: String,
    /// The keys that lead somewhere.
    pub keys: Vec<String>,
    /// The wait for a key once the prompt has been heard.
    pub timeout: Duration,
    /// Times the prompt is said again.
    pub repeats: u32,
}

/// How the menu ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuResult {
    /// A key with an option.
    Key(String),
    /// No such key before the repeats ran out.
    NoChoice,
    /// The caller's side went away (or the server is stopping).
    Gone,
}

/// Runs the menu on the call; `store` (when given) gets the turns, its `last_seq` kept current.
pub async fn ask(
    engine: &Arc<VoiceEngine>,
    pipeline: &Pipeline,
    audio: CallAudio,
    store: &mut Option<TurnStore>,
    inbound: &mut mpsc::Receiver<Queued>,
    out: &mpsc::Sender<AgentFrame>,
    spec: &MenuSpec,
) -> MenuResult {
    let prompt = match engine.offline_line(pipeline, &spec.prompt, audio.rate).await {
        Ok(pcm) => Some(pcm),
        Err(e) => {
            // The caller may still know the keys: the menu goes on, silent.
            tracing::warn!(error = %e, "cannot render the menu prompt");
            None
        }
    };
    for attempt in 0..=spec.repeats {
        let mut speaker = Speaker::new(audio.rate, audio.chunks);
        let started = now_wall();
        if let Some(pcm) = &prompt {
            speaker.enqueue(u64::from(attempt) + 1, pcm.clone(), Instant::now());
        }
        let pressed = loop {
            let due = speaker.next_due();
            // The wait for a key starts once the caller has heard the whole prompt.
            let deadline = if due.is_none() { Some(speaker.heard_by() + spec.timeout) } else { None };
            tokio::select! {
                ev = inbound.recv() => match ev.map(|q| q.event) {
                    None | Some(CallerEvent::Closing) => {
                        // The caller heard (some of) the prompt: it stays in the transcript.
                        let cut = speaker.is_speaking(Instant::now());
                        store_turn(store, Role::Agent, TurnKind::Greeting, &spec.prompt, started, cut).await;
                        return MenuResult::Gone;
                    }
                    Some(CallerEvent::Dtmf(d)) => break Some(d),
                    Some(_) => {}
                },
                _ = sleep_until_opt(due) => {
                    let (frames, _) = speaker.poll(Instant::now(), false);
                    for f in frames {
                        if !matches!(tokio::time::timeout(PEER_STALL, out.send(f)).await, Ok(Ok(()))) {
                            return MenuResult::Gone;
                        }
                    }
                }
                _ = sleep_until_opt(deadline) => break None,
            }
        };
        let now = Instant::now();
        let cut = speaker.is_speaking(now);
        for f in speaker.clear(now) {
            let _ = tokio::time::timeout(PEER_STALL, out.send(f)).await;
        }
        store_turn(store, Role::Agent, TurnKind::Greeting, &spec.prompt, started, cut).await;
        if let Some(d) = pressed {
            let at = now_wall();
            store_turn(store, Role::Caller, TurnKind::Dtmf, &d, at, false).await;
            if spec.keys.contains(&d) {
                return MenuResult::Key(d);
            }
        }
    }
    MenuResult::NoChoice
}

async fn store_turn(store: &mut Option<TurnStore>, role: Role, kind: TurnKind, text: &str, started: String, interrupted: bool) {
    let Some(s) = store.as_mut() else { return };
    s.last_seq += 1;
    let turn = crate::db::turns::NewTurn {
        call_key: s.call_key.clone(),
        owner_id: s.owner_id.clone(),
        seq: s.last_seq,
        role,
        kind,
        text: text.to_string(),
        started_at: started,
        ended_at: now_wall(),
        interrupted,
        timings: TurnTimings::default(),
    };
    if let Err(e) = crate::db::turns::insert(&s.db, &turn).await {
        tracing::warn!(call = %s.call_key, error = %e, "cannot store a menu turn");
    }
}

fn now_wall() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
