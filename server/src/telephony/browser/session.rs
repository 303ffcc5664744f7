//! One browser test call: recorded as a call (provider `other`, direction `test`, number
//! "Browser"), run by the same conversation as a phone call (VAD, STT, the agent, TTS,
//! barge-in, turns stored as they finish), with the browser's socket as its transport.

use std::fmt::Display;
use std::time::Duration;

use axum::extract::ws::Message;
use domain::agent::AgentView;
use domain::call::CallStatus;
use domain::test_call::{BROWSER_PHONE_ID, BrowserMessage, TEST_DIRECTION};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::codec::BrowserCodec;
use crate::db;
use crate::slots::Slot;
use crate::state::AppState;
use crate::telephony::peer::PeerRules;
use crate::telephony::session::writer::{Sender, writer};
use crate::telephony::stream::{StreamCodec, StreamEvent, WireIn};
use crate::users::Owner;
use crate::voice::conversation;
use crate::voice::frames::{AgentFrame, CallerEvent, Queued};

/// A test call ends after this long.
pub const MAX_TEST_CALL: Duration = Duration::from_secs(10 * 60);
/// A browser that sends nothing (not even silence) for this long is gone.
pub const IDLE: Duration = Duration::from_secs(20);
/// Caller events waiting for the conversation, at most (each at most one message's audio).
const QUEUE: usize = 64;
/// The number shown for a browser test call.
pub const PHONE_LABEL: &str = "Browser test call";

/// Runs one test call of `owner` with `agent` over `socket`; `slot` is held until it ends.
pub async fn run<S, E>(state: AppState, owner: Owner, agent: AgentView, slot: Slot, socket: S)
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Send + Unpin + 'static,
    E: Display + Send,
{
    let _slot = slot;
    let mut codec = BrowserCodec;
    let (mut sink, mut source) = socket.split();
    let session = format!("web{}", crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 20));
    let now = state.clock.now_rfc3339();
    let new = db::calls::NewCall {
        owner_id: owner.id(),
        phone_id: BROWSER_PHONE_ID,
        phone_number: PHONE_LABEL,
        agent_id: Some(&agent.id),
        provider: codec.provider(),
        session_id: &session,
        status: CallStatus::Ringing,
        caller: Some("browser"),
        callee: None,
        direction: Some(TEST_DIRECTION),
        params_json: r#"{"Transport":"browser"}"#,
        reason: None,
        node: &state.node,
    };
    let call_key = match db::calls::insert_or_get(&state.db, &new, &now).await {
        Ok((row, _)) => row.id,
        Err(e) => {
            tracing::error!(user_id = %owner.id(), error = %e, "cannot record the test call");
            let _ = sink.send(close(1011, "cannot record the call")).await;
            return;
        }
    };
    state.call_counts.forget("call", owner.id());
    if let Err(e) = db::calls::mark_answered(&state.db, &call_key, &state.node, &now).await {
        tracing::warn!(call = %call_key, error = %e, "cannot mark the test call in progress");
    }
    tracing::info!(call = %call_key, user_id = %owner.id(), agent = %agent.id, "browser test call started");
    let started = BrowserMessage::Started { call_id: call_key.clone() };
    if sink.send(Message::Text(serde_json::to_string(&started).unwrap_or_default().into())).await.is_err() {
        end(&state, &call_key, Instant::now(), CallStatus::Failed, "the browser went away").await;
        return;
    }

    let audio = codec.audio();
    let (out_tx, out_rx) = mpsc::channel::<AgentFrame>(64);
    let (caller_tx, caller_rx) = mpsc::channel::<Queued>(QUEUE);
    let api_key = crate::agents::api_key(&state, &owner, &agent).await;
    let mut pipeline = state.voice.pipeline(&agent.settings, api_key);
    pipeline.tenant = Some(owner.id().to_string());
    let last_seq = 0;
    let store = conversation::TurnStore {
        db: state.db.clone(),
        call_key: call_key.clone(),
        owner_id: owner.id().to_string(),
        last_seq,
        greeted: last_seq > 0,
    };
    let mut talk = tokio::spawn(conversation::run(state.voice.clone(), pipeline, audio, Some(store), caller_rx, out_tx));
    let (frames, task) = writer(sink, codec, out_rx, None);
    let mut sender: Sender<S> = Sender::Writer { frames, task };
    let mut rules = PeerRules::new(audio.rate);
    let began = Instant::now();
    let mut talking = true;
    let stopping = state.shutdown.begun();
    tokio::pin!(stopping);

    let (status, reason, code) = loop {
        let left = MAX_TEST_CALL.saturating_sub(began.elapsed());
        if left.is_zero() {
            break (CallStatus::Completed, "test call limit reached".to_string(), 1000);
        }
        let next = tokio::select! {
            n = tokio::time::timeout(IDLE.min(left), source.next()) => n,
            () = &mut stopping => break (CallStatus::Completed, crate::telephony::session::SHUTTING_DOWN.into(), crate::telephony::session::GOING_AWAY),
            summary = &mut talk, if talking => {
                talking = false;
                match summary {
                    Ok(s) if s.agent_hung_up => break (CallStatus::Completed, "agent ended the call".into(), 1000),
                    Ok(_) => break (CallStatus::Completed, "conversation ended".into(), 1000),
                    Err(e) => {
                        tracing::error!(call = %call_key, error = %e, "the test call's conversation ended abnormally");
                        break (CallStatus::Failed, "internal error in the conversation".into(), 1011);
                    }
                }
            }
        };
        let message = match next {
            Err(_) if left <= IDLE => continue,
            Err(_) => break (CallStatus::Failed, "no audio from the browser for 20 s".into(), 1001),
            Ok(None | Some(Ok(Message::Close(_)))) => break (CallStatus::Completed, "browser closed the call".into(), 1000),
            Ok(Some(Err(e))) => break (CallStatus::Failed, format!("socket error: {e}"), 1011),
            Ok(Some(Ok(m))) => m,
        };
        let decoded = match &message {
            Message::Text(t) => codec.decode(WireIn::Text(t.as_str())),
            Message::Binary(b) => codec.decode(WireIn::Binary(b)),
            _ => continue,
        };
        let event = match decoded {
            Ok(StreamEvent::Caller(e)) => e,
            Ok(StreamEvent::Stop { .. }) => break (CallStatus::Completed, "caller hung up".into(), 1000),
            Ok(_) => continue,
            Err(e) => break (CallStatus::Failed, format!("malformed message: {}", e.reason), e.code),
        };
        if let Err(breach) = rules.check(&event, Instant::now()) {
            break (CallStatus::Failed, breach.to_string(), breach.code());
        }
        // Never wait on a busy conversation: audio it cannot take now is dropped.
        let audio = matches!(event, CallerEvent::Audio(_));
        if caller_tx.try_send(Queued { event, budget: None }).is_err() && !audio {
            tracing::debug!(call = %call_key, "mark dropped: the conversation is not keeping up");
        }
    };
    // The conversation stores its last turn, then the socket closes and the call gets its end.
    drop(caller_tx);
    if talking {
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut talk).await;
        talk.abort();
    }
    sender.close(code, &reason).await;
    tracing::info!(call = %call_key, %reason, "browser test call ended");
    end(&state, &call_key, began, status, &reason).await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(axum::extract::ws::CloseFrame { code, reason: reason.to_string().into() }))
}

async fn end(state: &AppState, key: &str, began: Instant, status: CallStatus, reason: &str) {
    let now = state.clock.now_rfc3339();
    let duration = began.elapsed().as_millis() as i64;
    if let Err(e) = db::calls::set_status(&state.db, key, status, Some(reason), Some(&now), Some(duration)).await {
        tracing::error!(call = %key, error = %e, "cannot store the test call's end");
    }
}
