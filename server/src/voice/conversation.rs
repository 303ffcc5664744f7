//! One call's conversation: caller audio in, through VAD, STT, the agent and TTS, paced agent
//! audio out; barge-in, DTMF, fallbacks, and every finished turn stored with its timings.
//!
//! The loop owns the turn-taking state and the speaker; each reply runs as its own task so
//! the loop keeps listening (and can cancel the reply) while STT, the agent and TTS work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::call::TurnTimings;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::audio::{self, FrameResampler, MODEL_RATE};
use super::engine::{Pipeline, VoiceEngine};
use super::speaker::{Lateness, Sent, Speaker};
use super::vad::{Endpointer, FRAME, VadEvent, VadStats};
use super::{AfterReply, AgentInput, ChatTurn, Role, VoiceError};
use crate::db::{self, Db};
use crate::telephony::exotel::stream::Outbound;

/// What the caller's side sent.
#[derive(Debug)]
pub enum CallerEvent {
    /// 16-bit samples at the call's rate.
    Audio(Vec<i16>),
    Dtmf(String),
    /// Exotel played our audio up to this mark.
    Mark(String),
}

/// Where finished turns go.
#[derive(Clone)]
pub struct TurnStore {
    pub db: Db,
    pub call_key: String,
    pub owner_id: String,
}

/// How a conversation went (logs, the simulator's tests, benchmarks).
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub turns: i64,
    pub barge_ins: u32,
    pub agent_hung_up: bool,
    /// The peer stopped reading our audio.
    pub peer_stalled: bool,
    pub lateness: Lateness,
    pub vad: VadStats,
    /// Per reply: speech end detected -> first byte out, minus provider time (ms).
    pub server_added_ms: Vec<f64>,
}

impl JobMsg {
    fn id(&self) -> u64 {
        match self {
            JobMsg::Transcript { id, .. } | JobMsg::Token { id } | JobMsg::Audio { id, .. } | JobMsg::Finished { id, .. } => *id,
        }
    }
}

/// How long the writer may be unable to take a frame before the peer counts as gone.
const PEER_STALL: Duration = Duration::from_secs(5);

/// After the goodbye's last chunk: time for it to play out if its mark never comes back.
const HANGUP_GRACE: Duration = Duration::from_millis(700);

/// A reply task's progress report.
enum JobMsg {
    Transcript {
        id: u64,
        text: String,
        stt_ms: i64,
    },
    Token {
        id: u64,
    },
    /// `provider_ms`: time the providers (STT, agent, TTS) took before this audio was ready;
    /// `text`: what the audio says.
    Audio {
        id: u64,
        pcm: Arc<Vec<i16>>,
        provider_ms: f64,
        text: String,
    },
    Finished {
        id: u64,
        text: String,
        after: AfterReply,
        fallback: bool,
    },
}

/// The reply being produced or played.
struct Reply {
    id: u64,
    kind: &'static str,
    task: Option<JoinHandle<()>>,
    /// Caller's end of speech detected (or DTMF / start for the greeting).
    origin: Instant,
    started_wall: String,
    /// The caller's speech that led here (kept if the caller goes on talking before we answer).
    caller_audio: Arc<Vec<i16>>,
    caller_turn: Option<(String, &'static str, String)>,
    stt_ms: Option<i64>,
    /// When the transcript was in hand (for an early reply: when the pause became the end).
    stt_done: Option<Instant>,
    first_token: Option<Instant>,
    first_audio: Option<Instant>,
    first_byte: Option<Instant>,
    provider_ms: f64,
    text: String,
    after: AfterReply,
    fallback: bool,
    finished: bool,
    audio_done: bool,
    /// False while the caller is only pausing (the reply started early): its output waits.
    committed: bool,
    buffered: Vec<JobMsg>,
    job_started: Instant,
}

/// Runs the conversation until the caller side closes `inbound` or the agent hangs up.
pub async fn run(
    engine: Arc<VoiceEngine>,
    pipeline: Pipeline,
    rate: u32,
    store: Option<TurnStore>,
    mut inbound: mpsc::Receiver<CallerEvent>,
    out: mpsc::Sender<Outbound>,
) -> Summary {
    let mut c = Conv::new(engine, pipeline, rate, store, out);
    let (job_tx, mut job_rx) = mpsc::channel::<JobMsg>(64);
    c.job_tx = Some(job_tx);
    c.start_greeting();
    loop {
        let due = c.speaker.next_due();
        let hangup = c.hangup_at;
        tokio::select! {
            ev = inbound.recv() => match ev {
                None => break,
                Some(ev) => c.on_caller(ev).await,
            },
            Some(msg) = job_rx.recv() => c.on_job(msg),
            _ = sleep_until_opt(due) => {}
            _ = sleep_until_opt(hangup) => {
                c.summary.agent_hung_up = true;
                break;
            }
        }
        if c.summary.peer_stalled || !c.pump().await {
            break;
        }
    }
    c.finish().await;
    c.engine.record(&c.summary);
    c.summary
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

struct Conv {
    engine: Arc<VoiceEngine>,
    pipeline: Pipeline,
    rate: u32,
    store: Option<TurnStore>,
    out: mpsc::Sender<Outbound>,
    job_tx: Option<mpsc::Sender<JobMsg>>,
    speaker: Speaker,
    endpointer: Endpointer,
    resampler: Option<FrameResampler>,
    pending: Vec<i16>,
    history: Vec<ChatTurn>,
    reply: Option<Reply>,
    next_id: u64,
    seq: i64,
    /// Caller speech (at the call's rate) kept from a reply cancelled before it said anything.
    carry: Vec<i16>,
    speech_started: Option<(Instant, String)>,
    hangup_at: Option<Instant>,
    summary: Summary,
}

impl Conv {
    fn new(engine: Arc<VoiceEngine>, pipeline: Pipeline, rate: u32, store: Option<TurnStore>, out: mpsc::Sender<Outbound>) -> Self {
        let silero = match engine.silero() {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, "Silero VAD unavailable; using the first VAD stage alone");
                None
            }
        };
        let resampler = FrameResampler::new(rate).map_err(|e| tracing::error!(error = %e, "no resampler for the call's rate")).ok();
        Self {
            endpointer: Endpointer::new(pipeline.vad.clone(), silero),
            engine,
            pipeline,
            rate,
            store,
            out,
            job_tx: None,
            speaker: Speaker::new(rate),
            resampler,
            pending: Vec::new(),
            history: Vec::new(),
            reply: None,
            next_id: 0,
            seq: 0,
            carry: Vec::new(),
            speech_started: None,
            hangup_at: None,
            summary: Summary::default(),
        }
    }

    fn new_reply(&mut self, kind: &'static str, origin: Instant) -> u64 {
        self.next_id += 1;
        self.reply = Some(Reply {
            id: self.next_id,
            kind,
            task: None,
            origin,
            started_wall: now_wall(),
            caller_audio: Arc::default(),
            caller_turn: None,
            stt_ms: None,
            stt_done: None,
            first_token: None,
            first_audio: None,
            first_byte: None,
            provider_ms: 0.0,
            text: String::new(),
            after: AfterReply::Listen,
            fallback: false,
            finished: false,
            audio_done: false,
            committed: true,
            buffered: Vec::new(),
            job_started: origin,
        });
        self.next_id
    }

    fn start_greeting(&mut self) {
        let id = self.new_reply("greeting", Instant::now());
        let (engine, pipeline, rate, tx) = (self.engine.clone(), self.pipeline.clone(), self.rate, self.job_tx.clone());
        let task = tokio::spawn(async move {
            let Some(tx) = tx else { return };
            let text = pipeline.greeting.clone();
            // A cloud voice that fails greets in the offline voice instead.
            let greeting = match engine.greeting(&pipeline, rate).await {
                Ok(pcm) => Ok(pcm),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot render the greeting; using the offline voice");
                    engine.greeting_offline(&pipeline, rate).await
                }
            };
            match greeting {
                Ok(pcm) => {
                    let _ = tx.send(JobMsg::Audio { id, pcm, provider_ms: 0.0, text: text.clone() }).await;
                }
                Err(e) => tracing::warn!(error = %e, "cannot render the greeting"),
            }
            let _ = tx.send(JobMsg::Finished { id, text, after: AfterReply::Listen, fallback: false }).await;
        });
        if let Some(r) = &mut self.reply {
            r.task = Some(task);
        }
    }

    async fn on_caller(&mut self, ev: CallerEvent) {
        match ev {
            CallerEvent::Audio(samples) => {
                self.pending.extend_from_slice(&samples);
                let Some(n) = self.resampler.as_ref().map(FrameResampler::frame_in) else { return };
                while self.pending.len() >= n {
                    let frame: Vec<i16> = self.pending.drain(..n).collect();
                    let Some(Ok(frame16)) = self.resampler.as_mut().map(|r| r.process(&frame)) else { continue };
                    // One 20 ms frame in, one 16 kHz frame out.
                    for f in frame16.chunks_exact(FRAME).take(1) {
                        match self.endpointer.push(f, &frame) {
                            Ok(Some(VadEvent::SpeechStart)) => self.on_speech_start().await,
                            Ok(Some(VadEvent::Pause { audio })) => self.on_pause(audio),
                            Ok(Some(VadEvent::Resume)) => self.on_resume(),
                            Ok(Some(VadEvent::SpeechEnd { audio, speech_ms })) => self.on_speech_end(audio, speech_ms),
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "VAD failed on a frame"),
                        }
                    }
                }
            }
            CallerEvent::Dtmf(digit) => {
                self.interrupt().await;
                self.store_turn(Role::Caller, "dtmf", digit.clone(), now_wall(), now_wall(), false, TurnTimings::default());
                self.start_reply(AgentInput::Dtmf(digit), Vec::new(), Instant::now());
            }
            CallerEvent::Mark(name) => {
                let id = name.strip_prefix("utterance-").and_then(|n| n.parse::<u64>().ok());
                if let (Some(id), Some(r)) = (id, &self.reply)
                    && r.id == id
                {
                    let heard = r.origin.elapsed();
                    self.complete_reply(Some(heard));
                }
            }
        }
    }

    /// The caller started talking: stop the agent (barge-in) and cancel what it was preparing.
    async fn on_speech_start(&mut self) {
        self.speech_started = Some((Instant::now(), now_wall()));
        self.interrupt().await;
    }

    async fn interrupt(&mut self) {
        let now = Instant::now();
        let frames = self.speaker.clear(now);
        let speaking = !frames.is_empty();
        for f in frames {
            // Bounded like every send: a peer that stopped reading ends the call (see `pump`).
            if !matches!(tokio::time::timeout(PEER_STALL, self.out.send(f)).await, Ok(Ok(()))) {
                self.summary.peer_stalled = true;
                break;
            }
        }
        let Some(mut r) = self.reply.take() else { return };
        if let Some(t) = r.task.take() {
            t.abort();
        }
        if r.audio_done && !speaking {
            // Played in full; the caller spoke after it (the mark may not have come back).
            self.store_reply(r, false, None);
            return;
        }
        if r.first_byte.is_none() && !speaking && r.kind == "speech" {
            // Nothing said yet: the caller was only pausing. Unless already transcribed,
            // their words join the next turn.
            if r.stt_ms.is_none() {
                self.carry = Arc::unwrap_or_clone(std::mem::take(&mut r.caller_audio));
            }
            self.hangup_at = None;
            return;
        }
        if r.first_byte.is_some() || speaking {
            self.summary.barge_ins += 1;
            tracing::debug!(reply = r.id, "barge-in: agent audio cleared");
            self.hangup_at = None;
            self.store_reply(r, true, None);
        }
    }

    /// The caller paused: start the reply early on what they said so far. Its output is
    /// held until the pause turns out to be the end of the turn.
    fn on_pause(&mut self, audio: Vec<i16>) {
        if self.reply.is_some() {
            return;
        }
        let mut turn_audio = self.carry.clone();
        turn_audio.extend(audio);
        let started = self.speech_started.as_ref().map(|(_, w)| w.clone()).unwrap_or_else(now_wall);
        self.start_reply_with_turn(AgentInput::Speech(String::new()), turn_audio, Instant::now(), Some(started));
        if let Some(r) = &mut self.reply {
            r.committed = false;
        }
    }

    /// The caller went on talking: the early reply is dropped.
    fn on_resume(&mut self) {
        if let Some(r) = &mut self.reply
            && !r.committed
        {
            if let Some(t) = r.task.take() {
                t.abort();
            }
            self.reply = None;
        }
    }

    fn on_speech_end(&mut self, audio: Vec<i16>, _speech_ms: u32) {
        let now = Instant::now();
        let started = self.speech_started.take().map(|(_, w)| w).unwrap_or_else(now_wall);
        if let Some(r) = &mut self.reply
            && !r.committed
        {
            // The pause was the end: the early reply stands; its held output goes out now.
            self.carry.clear();
            r.committed = true;
            r.origin = now;
            // The agent's turn begins where the caller's ends: at the detected end of speech.
            r.started_wall = now_wall();
            if let Some((_, _, ended)) = &mut r.caller_turn {
                *ended = r.started_wall.clone();
            }
            for msg in std::mem::take(&mut r.buffered) {
                self.on_job(msg);
            }
            return;
        }
        let mut turn_audio = std::mem::take(&mut self.carry);
        turn_audio.extend(audio);
        self.start_reply_with_turn(AgentInput::Speech(String::new()), turn_audio, now, Some(started));
    }

    fn start_reply(&mut self, input: AgentInput, turn_audio: Vec<i16>, origin: Instant) {
        self.start_reply_with_turn(input, turn_audio, origin, None);
    }

    fn start_reply_with_turn(&mut self, input: AgentInput, turn_audio: Vec<i16>, origin: Instant, caller_started: Option<String>) {
        let id = self.new_reply("speech", origin);
        // The caller's turn ends where the agent's begins.
        let caller_ended = self.reply.as_ref().map(|r| r.started_wall.clone()).unwrap_or_else(now_wall);
        let (engine, pipeline, rate, history, tx) =
            (self.engine.clone(), self.pipeline.clone(), self.rate, self.history.clone(), self.job_tx.clone());
        let speech = caller_started.is_some();
        // One copy of the caller's audio, shared by the reply task and the carry-over.
        let turn_audio = Arc::new(turn_audio);
        let audio_for_job = if speech { turn_audio.clone() } else { Arc::default() };
        let task = tokio::spawn(async move {
            let Some(tx) = tx else { return };
            reply_job(Job { id, engine, pipeline, rate, tx }, history, input, audio_for_job).await;
        });
        if let Some(r) = &mut self.reply {
            r.task = Some(task);
            r.caller_audio = turn_audio;
            if let Some(started) = caller_started {
                r.caller_turn = Some((started, "speech", caller_ended));
            }
        }
    }

    fn on_job(&mut self, msg: JobMsg) {
        let now = Instant::now();
        let Some(r) = &mut self.reply else { return };
        if !r.committed {
            if msg.id() == r.id {
                r.buffered.push(msg);
            }
            return;
        }
        match msg {
            JobMsg::Transcript { id, text, stt_ms } if id == r.id => {
                r.stt_ms = Some(stt_ms);
                r.stt_done = Some(now);
                if let Some((started, kind, ended)) = r.caller_turn.take()
                    && !text.is_empty()
                {
                    let timings = TurnTimings {
                        endpointing_ms: Some(self.pipeline.vad.end_of_speech_ms as i64),
                        stt_ms: Some(stt_ms),
                        ..Default::default()
                    };
                    self.history.push(ChatTurn { role: Role::Caller, text: text.clone() });
                    let seq = self.next_seq();
                    self.write_turn(seq, Role::Caller, kind, text, started, ended, false, timings);
                }
            }
            JobMsg::Token { id } if id == r.id => {
                if r.first_token.is_none() {
                    r.first_token = Some(now);
                }
            }
            JobMsg::Audio { id, pcm, provider_ms, text } if id == r.id => {
                // What has been spoken so far: a reply cut off by the caller keeps its words.
                if !text.is_empty() {
                    if !r.text.is_empty() {
                        r.text.push(' ');
                    }
                    r.text.push_str(&text);
                }
                if r.first_audio.is_none() {
                    r.first_audio = Some(now);
                    // Provider time spent before the end of speech was detected is off the
                    // caller's clock (an early reply).
                    let early = r.origin.saturating_duration_since(r.job_started).as_secs_f64() * 1000.0;
                    r.provider_ms = (provider_ms - early).max(0.0);
                }
                self.speaker.enqueue(id, pcm, now);
            }
            JobMsg::Finished { id, text, after, fallback } if id == r.id => {
                r.finished = true;
                r.text = text;
                r.after = after;
                r.fallback = fallback;
                r.task = None;
                if r.first_audio.is_none() {
                    // Nothing to say (no words recognised): the turn is over.
                    self.reply = None;
                }
            }
            _ => {}
        }
    }

    /// Sends what the speaker has due; false when the conversation should end.
    async fn pump(&mut self) -> bool {
        let now = Instant::now();
        let more = self.reply.as_ref().is_some_and(|r| !r.finished);
        let (frames, events) = self.speaker.poll(now, more);
        for f in frames {
            // A peer that stops reading fills the socket; after a few seconds the call ends
            // rather than holding its task forever (other calls never wait on it).
            match tokio::time::timeout(PEER_STALL, self.out.send(f)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return false,
                Err(_) => {
                    tracing::warn!("the stream's peer stopped reading; ending the call");
                    self.summary.peer_stalled = true;
                    return false;
                }
            }
        }
        for e in events {
            match e {
                Sent::First(id) => {
                    if let Some(r) = &mut self.reply
                        && r.id == id
                        && r.first_byte.is_none()
                    {
                        r.first_byte = Some(now);
                        // End of speech detected -> first byte out, minus the providers' own time.
                        if r.kind == "speech" && r.first_audio.is_some() && !r.provider_ms.is_nan() {
                            let total = now.duration_since(r.origin).as_secs_f64() * 1000.0;
                            self.summary.server_added_ms.push((total - r.provider_ms).max(0.0));
                        }
                    }
                }
                Sent::Done(id) => {
                    if let Some(r) = &mut self.reply
                        && r.id == id
                        && r.finished
                    {
                        r.audio_done = true;
                        if r.after == AfterReply::HangUp {
                            // Hang up once the caller has heard the goodbye (or a little after, if the mark never comes).
                            self.hangup_at = Some(now + HANGUP_GRACE);
                        }
                    }
                }
            }
        }
        true
    }

    /// The reply was heard in full (its mark came back).
    fn complete_reply(&mut self, heard: Option<Duration>) {
        let Some(r) = self.reply.take() else { return };
        let hang = r.after == AfterReply::HangUp;
        self.store_reply(r, false, heard);
        if hang {
            self.hangup_at = Some(Instant::now());
        }
    }

    fn store_reply(&mut self, r: Reply, interrupted: bool, heard: Option<Duration>) {
        let ms = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(b.saturating_duration_since(a).as_millis() as i64),
            _ => None,
        };
        // Each stage is the wait it added after the end of speech was detected, so the stages
        // add up to `first_byte_ms` (an early reply's STT mostly ran during the pause).
        let after_stt = r.stt_done.or(Some(r.origin));
        let timings = if r.kind == "greeting" {
            TurnTimings {
                tts_ms: ms(Some(r.origin), r.first_audio),
                first_byte_ms: ms(Some(r.origin), r.first_byte),
                heard_ms: heard.map(|h| h.as_millis() as i64),
                ..Default::default()
            }
        } else {
            TurnTimings {
                // The silence waited before the reply began (speech turns), so that
                // endpointing + first byte is the caller's voice-to-voice wait.
                endpointing_ms: r.stt_ms.map(|_| self.pipeline.vad.end_of_speech_ms as i64),
                stt_ms: ms(Some(r.origin), r.stt_done),
                agent_ms: ms(after_stt, r.first_token.or(r.first_audio)),
                tts_ms: ms(r.first_token.or(after_stt), r.first_audio),
                first_byte_ms: ms(Some(r.origin), r.first_byte),
                heard_ms: heard.map(|h| h.as_millis() as i64),
            }
        };
        let text = if r.text.is_empty() && r.kind == "greeting" { self.pipeline.greeting.clone() } else { r.text.clone() };
        if text.is_empty() {
            return;
        }
        self.history.push(ChatTurn { role: Role::Agent, text: text.clone() });
        let kind = if r.fallback { "fallback" } else { r.kind };
        let seq = self.next_seq();
        self.write_turn(seq, Role::Agent, kind, text, r.started_wall.clone(), now_wall(), interrupted, timings);
    }

    #[allow(clippy::too_many_arguments)]
    fn store_turn(
        &mut self,
        role: Role,
        kind: &'static str,
        text: String,
        started: String,
        ended: String,
        interrupted: bool,
        timings: TurnTimings,
    ) {
        let seq = self.next_seq();
        self.history.push(ChatTurn { role, text: text.clone() });
        self.write_turn(seq, role, kind, text, started, ended, interrupted, timings);
    }

    fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.summary.turns = self.seq;
        self.seq
    }

    #[allow(clippy::too_many_arguments)]
    fn write_turn(
        &self,
        seq: i64,
        role: Role,
        kind: &'static str,
        text: String,
        started: String,
        ended: String,
        interrupted: bool,
        timings: TurnTimings,
    ) {
        let Some(store) = self.store.clone() else { return };
        let turn = db::turns::NewTurn {
            call_key: store.call_key.clone(),
            owner_id: store.owner_id.clone(),
            seq,
            role: if role == Role::Caller { "caller" } else { "agent" },
            kind,
            text,
            started_at: started,
            ended_at: ended,
            interrupted,
            timings,
        };
        tokio::spawn(async move {
            if let Err(e) = db::turns::insert(&store.db, &turn).await {
                tracing::error!(call = %store.call_key, seq = turn.seq, error = %e, "cannot store a turn");
            }
        });
    }

    async fn finish(&mut self) {
        if let Some(mut r) = self.reply.take() {
            if let Some(t) = r.task.take() {
                t.abort();
            }
            if r.first_byte.is_some() {
                let interrupted = !self.summary.agent_hung_up && !r.audio_done;
                self.store_reply(r, interrupted, None);
            }
        }
        self.summary.lateness = self.speaker.lateness.clone();
        self.summary.vad = self.endpointer.stats;
    }
}

fn now_wall() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// STT (for speech), then the agent streamed sentence by sentence into TTS; provider failures
/// and timeouts turn into the fallback line.
struct Job {
    id: u64,
    engine: Arc<VoiceEngine>,
    pipeline: Pipeline,
    rate: u32,
    tx: mpsc::Sender<JobMsg>,
}

async fn reply_job(job: Job, history: Vec<ChatTurn>, input: AgentInput, turn_audio: Arc<Vec<i16>>) {
    let Job { id, ref pipeline, rate, ref tx, .. } = job;
    let limits = &pipeline.timeouts;
    if pipeline.agent.echoes_audio() {
        let _ = tx.send(JobMsg::Transcript { id, text: String::new(), stt_ms: 0 }).await;
        // The turn is kept at the call's rate: the caller's own samples go back.
        let _ = tx.send(JobMsg::Audio { id, pcm: turn_audio, provider_ms: 0.0, text: String::new() }).await;
        let _ = tx.send(JobMsg::Finished { id, text: String::new(), after: AfterReply::Listen, fallback: false }).await;
        return;
    }
    let mut provider_ms = 0.0;
    let input = match input {
        AgentInput::Speech(_) => {
            let started = Instant::now();
            let text = match tokio::time::timeout(limits.stt, pipeline.stt.transcribe(to_model_rate(&turn_audio, rate))).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => return fallback(&job, e).await,
                Err(_) => return fallback(&job, VoiceError::Timeout("speech-to-text")).await,
            };
            let stt_ms = started.elapsed().as_millis() as i64;
            provider_ms += started.elapsed().as_secs_f64() * 1000.0;
            let _ = tx.send(JobMsg::Transcript { id, text: text.clone(), stt_ms }).await;
            if text.trim().is_empty() || is_noise_transcript(&text) {
                let _ = tx.send(JobMsg::Finished { id, text: String::new(), after: AfterReply::Listen, fallback: false }).await;
                return;
            }
            AgentInput::Speech(text)
        }
        dtmf => dtmf,
    };

    let (token_tx, mut token_rx) = mpsc::channel::<String>(256);
    let agent = pipeline.agent.clone();
    let agent_input = input.clone();
    let asked = Instant::now();
    // Aborted with this job (barge-in): a cancelled reply stops its model too.
    let mut agent_task = AbortOnDrop(tokio::spawn(async move { agent.reply(&history, &agent_input, token_tx).await }));
    let mut said = String::new();
    let mut pending = String::new();
    let mut first = true;
    loop {
        let next = if first { tokio::time::timeout(limits.agent, token_rx.recv()).await } else { Ok(token_rx.recv().await) };
        let token = match next {
            Ok(t) => t,
            Err(_) => {
                agent_task.0.abort();
                if said.is_empty() {
                    return fallback(&job, VoiceError::Timeout("agent")).await;
                }
                None
            }
        };
        let done = token.is_none();
        if let Some(t) = token {
            if first {
                first = false;
                provider_ms += asked.elapsed().as_secs_f64() * 1000.0;
                let _ = tx.send(JobMsg::Token { id }).await;
            }
            pending.push_str(&t);
        }
        while let Some(end) = sentence_end(&pending, done) {
            let sentence: String = pending.drain(..end).collect();
            let sentence = sentence.trim().to_string();
            if sentence.is_empty() {
                continue;
            }
            let synth = Instant::now();
            match tokio::time::timeout(limits.tts, pipeline.tts.synthesize(&sentence, rate)).await {
                Ok(Ok(pcm)) => {
                    if said.is_empty() {
                        provider_ms += synth.elapsed().as_secs_f64() * 1000.0;
                    }
                    let _ = tx.send(JobMsg::Audio { id, pcm: Arc::new(pcm), provider_ms, text: sentence.clone() }).await;
                    if !said.is_empty() {
                        said.push(' ');
                    }
                    said.push_str(&sentence);
                }
                Ok(Err(e)) => return fallback(&job, e).await,
                Err(_) => return fallback(&job, VoiceError::Timeout("text-to-speech")).await,
            }
        }
        if done {
            break;
        }
    }
    let after = match (&mut agent_task.0).await {
        Ok(Ok(after)) => after,
        Ok(Err(e)) if said.is_empty() => return fallback(&job, e).await,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "agent failed mid-reply");
            AfterReply::Listen
        }
        Err(_) => AfterReply::Listen,
    };
    if said.is_empty() {
        return fallback(&job, VoiceError::Agent("empty reply".into())).await;
    }
    let _ = tx.send(JobMsg::Finished { id, text: said, after, fallback: false }).await;
}

/// A turn at the call's rate as the speech models want it (16 kHz).
fn to_model_rate(audio: &[i16], rate: u32) -> Vec<i16> {
    if rate == MODEL_RATE {
        return audio.to_vec();
    }
    audio::resample(&audio::i16_to_f32(audio), rate, MODEL_RATE).map(|a| audio::f32_to_i16(&a)).unwrap_or_default()
}

/// Whisper writes sound descriptions for non-speech ("[BLANK_AUDIO]", "(coughs)").
fn is_noise_transcript(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')')) || t.chars().all(|c| !c.is_alphanumeric())
}

/// Byte index just past the first complete sentence of `text` (all of it when `done`).
fn sentence_end(text: &str, done: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '?' | '!' | '।') {
            let next = i + c.len_utf8();
            // A decimal point ("9.30") is not a sentence end.
            if next < bytes.len() && bytes[next].is_ascii_whitespace() {
                return Some(next);
            }
        }
    }
    if done && !text.trim().is_empty() {
        return Some(text.len());
    }
    // A very long clause is spoken at its last comma (else its last space) rather than
    // waiting for the full stop.
    if text.len() > 240 {
        return text.rfind(", ").map(|i| i + 1).or_else(|| text.rfind(' ').filter(|&i| i > 0));
    }
    None
}

async fn fallback(job: &Job, error: VoiceError) {
    tracing::warn!(error = %error, "provider failed; saying the fallback line");
    let line = job.pipeline.fallback_line.clone();
    match job.engine.fallback(&job.pipeline, job.rate).await {
        Ok(pcm) => {
            // The wait for the failed provider is not ours: NaN keeps it out of server-added time.
            let _ = job.tx.send(JobMsg::Audio { id: job.id, pcm, provider_ms: f64::NAN, text: line.clone() }).await;
        }
        Err(e) => tracing::error!(error = %e, "cannot speak the fallback line"),
    }
    let _ = job.tx.send(JobMsg::Finished { id: job.id, text: line, after: AfterReply::Listen, fallback: true }).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_their_end_not_at_decimals() {
        assert_eq!(sentence_end("We open at 9.30 today. Then", false), Some(22));
        assert_eq!(sentence_end("We open at 9.30", false), None);
        assert_eq!(sentence_end("We open at 9.30", true), Some(15));
        assert_eq!(sentence_end("", true), None);
        // A long run with no stop is cut at its last comma, or its last space.
        let clause = format!("{}, and then", "word ".repeat(50).trim_end());
        assert_eq!(sentence_end(&clause, false), Some(clause.find(", and").unwrap() + 1));
        let run = "word ".repeat(60);
        assert_eq!(sentence_end(&run, false), Some(run.trim_end().len()));
    }

    #[test]
    fn sound_descriptions_are_not_speech() {
        assert!(is_noise_transcript("[BLANK_AUDIO]"));
        assert!(is_noise_transcript(" (coughs) "));
        assert!(is_noise_transcript("..."));
        assert!(!is_noise_transcript("Opening hours?"));
    }
}
