//! A stream's `start`: the call recorded (or the webhook's found) as in progress, its place
//! under the caps taken, and its conversation started with the agent it was dialed with (or
//! the number's), its recording and where it can be handed over.

use super::*;

/// `start`: records the call (or finds the webhook's) as in progress and starts its
/// conversation; returns the conversation's outbound frames for the writer.
pub(super) async fn begin<C: StreamCodec>(
    state: &AppState,
    ctx: &StreamContext,
    codec: &C,
    start: StreamStart,
) -> Result<(Running, mpsc::Receiver<AgentFrame>), (u16, String)> {
    let phone_id = &ctx.verified.number.id;
    let audio = codec.audio();
    if start.sample_rate.is_some_and(|r| r != audio.rate) {
        tracing::warn!(phone_id = %phone_id, rate = audio.rate, start_rate = ?start.sample_rate, "sample rates differ; using the URL's");
    }
    let sid = ctx.session.clone().unwrap_or_else(|| start.call_sid.clone());
    let mut raw = start.parameters;
    raw.insert("CallSid".into(), sid);
    raw.insert("StreamSid".into(), start.stream_sid);
    for (name, value) in [("From", start.from), ("To", start.to)] {
        if let Some(v) = value {
            raw.insert(name.into(), v);
        }
    }
    let params = CallParams::from_raw(raw).map_err(|e| (1007, e.to_string()))?;
    let recorded = calls::record(state, codec.provider(), &ctx.verified, &params).await.map_err(|e| {
        tracing::error!(phone_id = %phone_id, error = %e, "cannot record the streamed call");
        (1011, "cannot record the call".to_string())
    })?;
    // Over a cap, the call is turned away as busy: closed with 1013 (try again later) and
    // recorded as rejected with the cap that refused it. A stopping server takes no new call.
    let taken = if state.shutdown.has_begun() {
        Err((GOING_AWAY, SHUTTING_DOWN.to_string()))
    } else {
        state.calls.take(ctx.verified.owner.id()).map_err(|full| (BUSY, format!("busy: {full}")))
    };
    let slot = match taken {
        Ok(slot) => slot,
        Err((code, reason)) => {
            tracing::warn!(call_sid = %params.call_sid, phone_id = %phone_id, %reason, "call turned away");
            let now = state.clock.now_rfc3339();
            if let Err(e) =
                db::calls::set_status(&state.db, &recorded.call.id, CallStatus::Rejected, Some(&reason), Some(&now), Some(0)).await
            {
                tracing::error!(call = %recorded.call.id, error = %e, "cannot record the call as rejected");
            }
            crate::notify::call_ended(state, &recorded.call.id);
            return Err((code, reason));
        }
    };
    if let Err(e) = db::calls::mark_answered(&state.db, &recorded.call.id, &state.node, &state.clock.now_rfc3339()).await {
        tracing::warn!(call = %recorded.call.id, error = %e, "cannot mark the call in progress");
    }
    tracing::info!(call_sid = %params.call_sid, phone_id = %phone_id, rate = audio.rate, "stream started");
    // The conversation starts now; the socket's sending half goes to its writer.
    let (out_tx, out_rx) = mpsc::channel::<AgentFrame>(64);
    let (caller_tx, caller_rx) = mpsc::channel::<Queued>(256);
    // An inbound call through its number's routing may reach another agent, a message or the
    // menu first; an outbound call talks with the agent it was dialed with, variables filled in.
    let plan = route::plan(state, &ctx.verified, &recorded.call).await;
    let agent = match &plan {
        Some(route::Plan::Agent(Some(a))) => Some(a.as_ref().clone()),
        _ => crate::calls::outbound::agent_for(state, &ctx.verified, &recorded.call).await,
    };
    let variables = crate::calls::outbound::variables_of(&recorded.call);
    let settings = crate::calls::outbound::with_variables(agent.as_ref().map(|a| a.settings.clone()).unwrap_or_default(), &variables);
    let api_key = match &agent {
        Some(a) => crate::agents::api_key(state, &ctx.verified.owner, a).await,
        None => None,
    };
    let handover = crate::telephony::transfer::Handover::of(&settings, codec.provider(), &recorded.call);
    // The agent offers transfers only where the call can be handed over.
    let settings = domain::agent::AgentInput { transfer_to: handover.as_ref().map(|h| h.to.clone()).unwrap_or_default(), ..settings };
    let mut pipeline = state.voice.pipeline(&settings, api_key);
    pipeline.tenant = Some(ctx.verified.owner.id().to_string());
    match &plan {
        Some(route::Plan::Message(text)) => pipeline = route::saying(pipeline, text.clone()),
        Some(route::Plan::Person(number)) => pipeline = route::handing(pipeline, settings.transfer_line.clone(), number),
        _ => {}
    }
    // A stream that reconnects for the same call goes on from its last stored turn.
    let last_seq = db::calls::last_seq(&state.db, &recorded.call.id).await.unwrap_or_else(|e| {
        tracing::warn!(call = %recorded.call.id, error = %e, "cannot read the call's last turn; numbering from 0");
        0
    });
    let store = conversation::TurnStore {
        db: state.db.clone(),
        call_key: recorded.call.id.clone(),
        owner_id: ctx.verified.owner.id().to_string(),
        last_seq,
        greeted: last_seq > 0,
    };
    // An outbound call on a provider that cannot tell a machine (Exotel) is screened first.
    let screening = crate::calls::outbound::screening(codec.provider(), &recorded.call, &settings);
    let recording = match settings.record_calls {
        true => {
            record::Recording::start(state, ctx.verified.owner.id(), &recorded.call.id, audio.rate, settings.recording_retention_days).await
        }
        false => None,
    };
    let task = match (screening, plan) {
        (Some(screening), _) => tokio::spawn(screen::run(state.voice.clone(), pipeline, audio, Some(store), caller_rx, out_tx, screening)),
        (None, Some(route::Plan::Menu { menu, opening })) => {
            let (owner, call_key) = (ctx.verified.owner.clone(), recorded.call.id.clone());
            tokio::spawn(route::run_menu(state.clone(), owner, agent, call_key, menu, opening, audio, Some(store), caller_rx, out_tx))
        }
        (None, _) => tokio::spawn(conversation::run(state.voice.clone(), pipeline, audio, Some(store), caller_rx, out_tx)),
    };
    let running = Running {
        call_key: recorded.call.id,
        started: Instant::now(),
        caller: caller_tx,
        budget: Arc::new(Semaphore::new(MAX_QUEUED_AUDIO_BYTES)),
        conversation: Some(task),
        recording,
        handover,
        _slot: slot,
        _live: crate::metrics::get().call_live(codec.provider()),
    };
    Ok((running, out_rx))
}
