//! Whole calls through the simulator (`voxgate call`'s engine), acting as each provider (Exotel,
//! Twilio, Vonage, Plivo) over real HTTP and WebSocket on loopback, against the real voice pipeline: Silero +
//! webrtc-vad, Whisper tiny.en, the scripted agent and Piper, with the turns stored in SurrealDB.
//! What does not depend on the provider is tested once, as a table over providers.

use crate::common;

use std::time::Duration;

use domain::agent::{AgentInput, ScriptRule};
use domain::phone_number::Provider as Via;
use server::simulator::{self, CallOptions, Step};

const HOURS: &str = "We are open from nine to five, Monday to Friday.";
const SALES: &str = "Connecting you to sales.";
const BOOKING: &str = "I can book you in for tomorrow morning at ten. Would that work for you, or would you like another day?";

/// The providers a call can come through.
const PROVIDERS: [Via; 4] = [Via::Exotel, Via::Twilio, Via::Vonage, Via::Plivo];

struct Line {
    state: server::AppState,
    webhook: String,
    via: Via,
    owner: server::users::Owner,
}

impl Line {
    /// A call to the line as its provider places it.
    fn call(&self, steps: Vec<Step>) -> CallOptions {
        match self.via {
            Via::Twilio => CallOptions::twilio(self.webhook.clone(), steps, common::TWILIO_SID, common::TWILIO_TOKEN),
            Via::Vonage | Via::Plivo => server::bench::bench_call(self.via, &self.webhook, steps),
            _ => CallOptions::new(self.webhook.clone(), steps),
        }
    }

    /// The stored call's key.
    fn key(&self, call_sid: &str) -> String {
        format!("{}_{call_sid}", self.protocol())
    }

    /// Whose protocol the call speaks (a number of provider `other` speaks Exotel's).
    fn protocol(&self) -> &'static str {
        if self.via == Via::Other { "exotel" } else { self.via.as_str() }
    }

    /// The stream's rate: the line's Vonage number streams at 16 kHz, the others at 8.
    fn rate(&self) -> u32 {
        server::bench::caller_rate(self.via)
    }
}

async fn line(llm: &str) -> Line {
    line_via(llm, Via::Exotel).await
}

async fn line_via(llm: &str, via: Via) -> Line {
    let (state, _base) = common::live_server().await;
    let user = common::user(&state, "caller-test@example.com").await;
    let rule = |k: &[&str], r: &str| ScriptRule { keywords: k.iter().map(|s| s.to_string()).collect(), reply: r.into() };
    let mut input = AgentInput {
        name: "Clinic".into(),
        greeting: "Thank you for calling the clinic. How can I help you?".into(),
        rules: vec![rule(&["opening hours", "open"], HOURS), rule(&["1"], SALES), rule(&["appointment", "book"], BOOKING)],
        ..Default::default()
    };
    input.providers.llm = llm.into();
    let agent = server::agents::create(&state, &user.owner, input.clone()).await.unwrap();
    let number = match via {
        Via::Twilio => common::twilio_number(&state, &user.owner, Some(&agent.id), "active").await,
        Via::Vonage => common::vonage_number(&state, &user.owner, Some(&agent.id), 16_000).await,
        Via::Plivo => common::plivo_number(&state, &user.owner, Some(&agent.id), "audio/x-mulaw;rate=8000").await,
        _ => common::linked_number(&state, &user.owner, &agent.id).await,
    };
    // What `voxgate serve` does at start: load the models, render the greetings.
    state.voice.warm_up(&[(input, None)], true).await;
    Line { state, webhook: number.webhook_url, via, owner: user.owner }
}

async fn speech(state: &server::AppState, text: &str, rate: u32) -> Vec<i16> {
    let p = state.voice.pipeline(&AgentInput { name: "Caller".into(), ..Default::default() }, None);
    p.tts.synthesize(text, rate).await.unwrap()
}

async fn turns(state: &server::AppState, call_key: &str) -> Vec<serde_json::Value> {
    server::db::rows(
        &state.db,
        "SELECT seq, role, kind, text, interrupted, <string>started_at AS started_at, <string>ended_at AS ended_at, stt_ms, agent_ms, tts_ms, first_byte_ms, heard_ms FROM turn WHERE call = type::record('call', $c) ORDER BY seq",
        serde_json::json!({ "c": call_key }),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_is_greeted_understood_answered_interrupted_and_said_goodbye_to() {
    let _serial = common::voice_lock().await;
    for via in PROVIDERS {
        greeted_understood_answered_interrupted_and_said_goodbye_to(via).await;
    }
}

async fn greeted_understood_answered_interrupted_and_said_goodbye_to(via: Via) {
    let l = line_via("scripted", via).await;
    let question = speech(&l.state, "Hello. What are your opening hours?", l.rate()).await;
    let booking = speech(&l.state, "I would like to book an appointment.", l.rate()).await;
    let bye = speech(&l.state, "No thanks, goodbye.", l.rate()).await;
    let mut opts = l.call(vec![
        Step::Say { label: "hours".into(), audio: question.into() },
        Step::Dtmf("1".into()),
        Step::Ask { label: "booking".into(), audio: booking.into() },
        Step::BargeIn { label: "bye".into(), audio: bye.into(), after: Duration::from_millis(600) },
    ]);
    // The live view: what the dashboard's event stream shows while the call runs.
    let live = server::calls::live::subscribe(&l.state, &l.owner).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut live = std::pin::pin!(live);
        let mut stopped = stopped;
        let mut seen = Vec::new();
        loop {
            tokio::select! {
                e = futures_util::StreamExt::next(&mut live) => match e {
                    Some(e) => seen.push(e),
                    None => break,
                },
                _ = &mut stopped => break,
            }
        }
        seen
    });
    let dir = std::env::temp_dir().join(format!("voxgate-call-{}-{via:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    opts.record = Some(dir.join("agent.wav"));
    let rendered = l.state.voice.greetings.rendered();
    let report = simulator::run(opts.clone()).await.expect("the call runs");

    // Greeting: cached audio (no voice synthesis for the call, at most a resampling of the cached
    // copy; how fast it leaves is measured by `voxgate bench`, not asserted here).
    assert!(report.greeting_after_ms.is_some(), "{via:?}: greeted");
    assert_eq!(l.state.voice.greetings.rendered(), rendered, "{via:?}: the greeting came from the cache");
    assert!(report.greeting_audio_ms > 1500.0, "{via:?}: {report:?}");
    // The provider's chunk rules and protocol held for every message; marks were echoed.
    assert_eq!((report.bad_chunks, report.bad_frames), (0, 0), "{via:?}");
    assert!(report.marks_echoed >= 2, "{via:?}: {}", report.marks_echoed);

    let [hours, dtmf, booking, bye] = &report.turns[..] else { panic!("{via:?}: four turns: {:?}", report.turns) };
    assert!(hours.reply_after_ms.is_some() && hours.reply_audio_ms > 2000.0, "{via:?}: {hours:?}");
    assert!(dtmf.reply_after_ms.is_some_and(|ms| ms < 2000.0), "{via:?}: {dtmf:?}");
    assert!(booking.reply_after_ms.is_some(), "{via:?}: {booking:?}");
    // Barge-in: the agent's audio was cleared within 300 ms of the caller starting to talk.
    let clear = bye.clear_after_ms.expect("clear sent on barge-in");
    assert!(clear <= 300.0, "{via:?}: clear after {clear} ms");
    // The goodbye ends the call from our side.
    assert_eq!(report.closed_by_server.as_ref().map(|c| c.0), Some(1000), "{via:?}: {:?}", report.closed_by_server);

    // The recording holds what the agent said.
    let (recorded, rate) = server::voice::audio::read_wav(&dir.join("agent.wav")).unwrap();
    assert_eq!((recorded.len(), rate), (report.agent_audio.len(), l.rate()));
    std::fs::remove_dir_all(&dir).unwrap();

    // Every turn is stored with its text and timings.
    let mut stored = Vec::new();
    for _ in 0..50 {
        stored = turns(&l.state, &l.key(&report.call_sid)).await;
        if stored.len() >= 9 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let said: Vec<(String, String, String)> = stored
        .iter()
        .map(|t| (t["role"].as_str().unwrap().into(), t["kind"].as_str().unwrap().into(), t["text"].as_str().unwrap().to_lowercase()))
        .collect();
    assert_eq!(said[0], ("agent".into(), "greeting".into(), "thank you for calling the clinic. how can i help you?".into()));
    assert!(said[1].0 == "caller" && said[1].2.contains("opening"), "{said:?}");
    assert_eq!(said[2], ("agent".into(), "speech".into(), HOURS.to_lowercase()));
    assert_eq!(said[3], ("caller".into(), "dtmf".into(), "1".into()));
    assert_eq!(said[4], ("agent".into(), "speech".into(), SALES.to_lowercase()));
    // Piper's voice is sampled: Whisper may write "a book and a point met"; a key word of the
    // booking rule is what matters (and the agent's booking reply proves it).
    assert!(said[5].0 == "caller" && (said[5].2.contains("appoint") || said[5].2.contains("book")), "{said:?}");
    assert_eq!(said[6].0, "agent");
    assert_eq!(stored[6]["interrupted"], true, "the booking reply was cut off: {stored:?}");
    assert!(said[7].0 == "caller" && said[7].2.contains("bye"), "{said:?}");
    assert_eq!(said[8], ("agent".into(), "speech".into(), AgentInput::default().goodbye.to_lowercase()));
    let answered = &stored[2];
    for k in ["stt_ms", "agent_ms", "tts_ms", "first_byte_ms"] {
        assert!(answered[k].as_i64().is_some(), "{k} missing: {answered}");
    }
    assert!(stored[1]["stt_ms"].as_i64().is_some_and(|ms| ms > 0));
    // The reply begins where the caller's turn ends: at the detected end of speech.
    assert_eq!(stored[2]["started_at"], stored[1]["ended_at"], "{stored:?}");

    let call = server::db::calls::get_by_key(&l.state.db, &l.key(&report.call_sid)).await.unwrap().unwrap();
    assert_eq!((call.status, call.reason.as_deref()), (domain::call::CallStatus::Completed, Some("agent ended the call")), "{via:?}");
    // The live view saw the call go in progress and end, and each of its turns as it was stored.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(());
    let seen = watcher.await.unwrap();
    let key = l.key(&report.call_sid);
    let statuses: Vec<domain::call::CallStatus> = seen
        .iter()
        .filter_map(|e| match e {
            server::calls::live::LiveEvent::Call { call_id, status } if *call_id == key => Some(*status),
            _ => None,
        })
        .collect();
    assert!(statuses.contains(&domain::call::CallStatus::InProgress), "{via:?}: {statuses:?}");
    assert_eq!(statuses.last(), Some(&domain::call::CallStatus::Completed), "{via:?}: {statuses:?}");
    let live_turns = seen.iter().filter(|e| matches!(e, server::calls::live::LiveEvent::Turn { call_id, .. } if *call_id == key)).count();
    assert_eq!(live_turns, 9, "{via:?}");
    // The call's record, as Call Logs and the analytics read it.
    let listed = server::calls::list(&l.state, &l.owner, &Default::default()).await.unwrap();
    assert_eq!(listed.calls.len(), 1, "{via:?}");
    assert_eq!(listed.calls[0].provider.as_str(), l.protocol());
    assert_eq!(listed.calls[0].turn_count, 9, "{via:?}");
    let figures = server::calls::analytics(&l.state, &l.owner, 1, None, None).await.unwrap();
    assert_eq!((figures.total.calls, figures.total.answered), (1, 1), "{via:?}");
    assert!(figures.total.voice_to_voice_p50_ms.is_some(), "{via:?}: {figures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_rate_is_honoured_both_ways() {
    let _serial = common::voice_lock().await;
    let l = line("echo").await;
    let mut greeting_ms = Vec::new();
    for rate in [8000u32, 16000, 24000] {
        // The echo agent answers with the caller's own audio: a wrong rate in either direction
        // changes the length (or the pitch) of what comes back.
        let said = speech(&l.state, "Testing one two three, can you hear me?", rate).await;
        let mut opts = CallOptions::new(l.webhook.clone(), vec![Step::Say { label: format!("{rate}"), audio: said.clone().into() }]);
        opts.rate = Some(rate);
        let rendered = l.state.voice.greetings.rendered();
        let report = simulator::run(opts).await.unwrap();
        assert_eq!(report.rate, rate);
        assert_eq!(report.bad_chunks, 0, "{rate} Hz");
        // Cached for every rate: no voice synthesis for the call.
        assert!(report.greeting_after_ms.is_some(), "{rate} Hz: greeted");
        assert_eq!(l.state.voice.greetings.rendered(), rendered, "{rate} Hz: the greeting came from the cache");
        let turn = &report.turns[0];
        let spoken = turn.spoken_ms;
        assert!(
            turn.reply_audio_ms > spoken * 0.7 && turn.reply_audio_ms < spoken * 1.6,
            "{rate} Hz: said {spoken} ms, heard back {} ms",
            turn.reply_audio_ms
        );
        greeting_ms.push(report.greeting_audio_ms);
    }
    // The greeting lasts as long at every rate (one rendering, resampled per rate; within
    // 20 %, where a wrong rate would be 2-3 times off).
    for g in &greeting_ms {
        assert!((g / greeting_ms[0] - 1.0).abs() < 0.2, "{greeting_ms:?}");
    }
}
