//! One call's conversation: caller audio in, through VAD, STT, the agent and TTS, paced agent
//! audio out; barge-in, DTMF, fallbacks, and every finished turn stored with its timings.
//!
//! The loop owns the turn-taking state and the speaker; each reply runs as its own task
//! ([`job`]) so the loop keeps listening (and can cancel the reply) while STT, the agent and
//! TTS work. [`reply`] keeps a reply's state and timings and stores finished turns. The loop
//! speaks only the pipeline's vocabulary ([`super::frames`]): whoever carries the call
//! translates it.

mod job;
mod output;
mod reply;
#[cfg(test)]
mod tests;
mod text;

use std::sync::Arc;
use std::time::Duration;

use domain::call::{Role, TurnKind, TurnTimings};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::audio::FrameResampler;
use super::engine::{Pipeline, VoiceEngine};
use super::frames::{AgentFrame, CallAudio, CallerEvent, Queued};
use super::speaker::{Speaker, marked_utterance};
use super::stats::Summary;
use super::vad::{Endpointer, TurnAudio, VadEvent};
use super::{AfterReply, AgentInput, ChatTurn};
use crate::db::Db;
use job::Job;
use reply::{JobMsg, Reply, now_wall};

/// Where finished turns go.
#[derive(Clone)]
pub struct TurnStore {
    pub db: Db,
    pub call_key: String,
    pub owner_id: String,
    /// The last turn number already stored for this call (a stream that reconnects goes on
    /// from it); 0 for a new call.
    pub last_seq: i64,
    /// The caller has heard this agent's greeting already (a stream that reconnects): no new one.
    pub greeted: bool,
}

/// How long the writer may be unable to take a frame before the peer counts as gone.
const PEER_STALL: Duration = Duration::from_secs(5);

/// After the goodbye's last chunk: time for it to play out if its mark never comes back.
const HANGUP_GRACE: Duration = Duration::from_millis(700);

/// Runs the conversation until the caller side closes `inbound` or the agent hangs up.
pub async fn run(
    engine: Arc<VoiceEngine>,
    pipeline: Pipeline,
    audio: CallAudio,
    store: Option<TurnStore>,
    inbound: mpsc::Receiver<Queued>,
    out: mpsc::Sender<AgentFrame>,
) -> Summary {
    let mut c = Conv::new(engine, pipeline, audio, store, out);
    drive(&mut c, inbound).await
}

/// What reaches the loop: the caller side's events, or (in tests, which drive turn-taking
/// without audio) what the endpointer would have said.
enum Input {
    Caller(CallerEvent),
    #[cfg_attr(not(test), allow(dead_code))]
    Vad(VadEvent),
}

impl From<CallerEvent> for Input {
    fn from(e: CallerEvent) -> Self {
        Input::Caller(e)
    }
}

/// Taken off the queue: its bytes go back to the transport's budget.
impl From<Queued> for Input {
    fn from(q: Queued) -> Self {
        Input::Caller(q.event)
    }
}

/// The loop: caller input, reply progress and the speaker's clock, until the caller side
/// closes or the agent hangs up.
async fn drive<I: Into<Input>>(c: &mut Conv, mut inbound: mpsc::Receiver<I>) -> Summary {
    let (job_tx, mut job_rx) = mpsc::channel::<JobMsg>(64);
    c.job_tx = Some(job_tx);
    if c.greet {
        c.start_greeting();
    }
    loop {
        let due = c.speaker.next_due();
        let hangup = c.hangup_at;
        tokio::select! {
            ev = inbound.recv() => match ev.map(Into::into) {
                None => break,
                Some(Input::Caller(ev)) => c.on_caller(ev).await,
                Some(Input::Vad(ev)) => c.on_vad(ev).await,
            },
            Some(msg) = job_rx.recv() => c.on_job(msg),
            _ = sleep_until_opt(due) => {}
            _ = sleep_until_opt(hangup) => {
                c.summary.agent_hung_up = true;
                if c.ending == AfterReply::Transfer {
                    c.summary.transfer = Some(c.transfer_summary());
                    c.summary.transfer_to = c.pipeline.transfer_after_greeting.clone();
                }
                break;
            }
        }
        if c.summary.peer_stalled || !c.pump().await {
            break;
        }
    }
    c.finish().await;
    c.engine.record(&c.summary);
    std::mem::take(&mut c.summary)
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

struct Conv {
    engine: Arc<VoiceEngine>,
    pipeline: Pipeline,
    audio: CallAudio,
    store: Option<TurnStore>,
    out: mpsc::Sender<AgentFrame>,
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
    /// What `hangup_at` does: hang up, or hand the caller to a person.
    ending: AfterReply,
    /// Whether the conversation opens with the greeting.
    greet: bool,
    summary: Summary,
    /// Turn writes still in flight: the call's end waits for them (`finish`), so a call read
    /// back as ended already holds every turn.
    writes: tokio::task::JoinSet<()>,
    /// Every turn written, as (role, kind, text, interrupted), for the state machine's tests.
    #[cfg(test)]
    written: Vec<(Role, TurnKind, String, bool)>,
}

impl Conv {
    fn new(
        engine: Arc<VoiceEngine>,
        pipeline: Pipeline,
        audio: CallAudio,
        store: Option<TurnStore>,
        out: mpsc::Sender<AgentFrame>,
    ) -> Self {
        let silero = match engine.silero() {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, "Silero VAD unavailable; using the first VAD stage alone");
                None
            }
        };
        let resampler = FrameResampler::new(audio.rate, super::vad::detector_rate(audio.rate))
            .map_err(|e| tracing::error!(error = %e, "no resampler for the call's rate"))
            .ok();
        let last_seq = store.as_ref().map_or(0, |s| s.last_seq);
        let greet = store.as_ref().is_none_or(|s| !s.greeted);
        Self {
            endpointer: Endpointer::new(pipeline.vad.clone(), silero, audio.rate),
            engine,
            pipeline,
            audio,
            store,
            out,
            job_tx: None,
            speaker: Speaker::new(audio.rate, audio.chunks),
            resampler,
            pending: Vec::new(),
            history: Vec::new(),
            reply: None,
            next_id: 0,
            seq: last_seq,
            carry: Vec::new(),
            speech_started: None,
            hangup_at: None,
            ending: AfterReply::HangUp,
            greet,
            summary: Summary::default(),
            writes: tokio::task::JoinSet::new(),
            #[cfg(test)]
            written: Vec::new(),
        }
    }

    fn new_reply(&mut self, kind: TurnKind, origin: Instant) -> u64 {
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
            endpointing_ms: self.pipeline.vad.end_of_speech_ms,
        });
        self.next_id
    }

    async fn on_caller(&mut self, ev: CallerEvent) {
        if self.summary.wrapped_up && !matches!(ev, CallerEvent::Played(_)) {
            return;
        }
        match ev {
            CallerEvent::Closing => self.wrap_up().await,
            CallerEvent::Audio(samples) => {
                self.pending.extend_from_slice(&samples);
                let Some(n) = self.resampler.as_ref().map(FrameResampler::frame_in) else { return };
                while self.pending.len() >= n {
                    let frame: Vec<i16> = self.pending.drain(..n).collect();
                    let Some(Ok(heard)) = self.resampler.as_mut().map(|r| r.process(&frame)) else { continue };
                    // One 20 ms frame in, one 20 ms frame at the detectors' rate out.
                    for f in heard.chunks_exact(self.endpointer.frame_len()).take(1) {
                        match self.endpointer.push(f, &frame) {
                            Ok(Some(event)) => self.on_vad(event).await,
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "VAD failed on a frame"),
                        }
                    }
                }
            }
            CallerEvent::Dtmf(digit) => {
                self.interrupt().await;
                self.store_turn(Role::Caller, TurnKind::Dtmf, digit.clone(), now_wall(), now_wall(), false, TurnTimings::default());
                self.start_reply(AgentInput::Dtmf(digit), Arc::default(), Instant::now());
            }
            CallerEvent::Played(name) => {
                if let (Some(id), Some(r)) = (marked_utterance(&name), &self.reply)
                    && r.id == id
                {
                    let heard = r.origin.elapsed();
                    self.complete_reply(Some(heard));
                }
            }
        }
    }

    /// What the caller's voice did, as the endpointer tells it.
    async fn on_vad(&mut self, event: VadEvent) {
        match event {
            VadEvent::SpeechStart => self.on_speech_start().await,
            VadEvent::Pause { audio } => self.on_pause(audio),
            VadEvent::Resume => self.on_resume(),
            VadEvent::SpeechEnd { audio, .. } => self.on_speech_end(audio),
        }
    }

    /// The caller started talking: stop the agent (barge-in) and cancel what it was preparing.
    async fn on_speech_start(&mut self) {
        self.speech_started = Some((Instant::now(), now_wall()));
        self.interrupt().await;
    }

    /// The caller paused: start the reply early on what they said so far. Its output is
    /// held until the pause turns out to be the end of the turn.
    fn on_pause(&mut self, audio: Arc<Vec<i16>>) {
        if self.reply.is_some() {
            return;
        }
        // The endpointer's own samples, shared: copied only to put carried-over words first.
        let turn_audio = if self.carry.is_empty() { audio } else { Arc::new([&self.carry[..], &audio[..]].concat()) };
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

    fn on_speech_end(&mut self, audio: TurnAudio) {
        let now = Instant::now();
        let started = self.speech_started.take().map(|(_, w)| w).unwrap_or_else(now_wall);
        if self.reply.as_ref().is_some_and(|r| !r.committed) {
            self.commit_early_reply(now, self.pipeline.vad.end_of_speech_ms);
            return;
        }
        let carry = std::mem::take(&mut self.carry);
        let turn_audio = if carry.is_empty() { audio.into_vec() } else { [carry, audio.into_vec()].concat() };
        self.start_reply_with_turn(AgentInput::Speech(String::new()), Arc::new(turn_audio), now, Some(started));
    }

    /// The pause was the end of the turn (`waited_ms` of silence): the early reply stands and
    /// its held output goes out now.
    fn commit_early_reply(&mut self, now: Instant, waited_ms: u32) {
        let Some(r) = &mut self.reply else { return };
        self.carry.clear();
        r.committed = true;
        r.origin = now;
        r.endpointing_ms = waited_ms;
        // The agent's turn begins where the caller's ends: at the detected end of speech.
        r.started_wall = now_wall();
        if let Some((_, _, ended)) = &mut r.caller_turn {
            *ended = r.started_wall.clone();
        }
        for msg in std::mem::take(&mut r.buffered) {
            self.on_job(msg);
        }
    }

    /// An early reply's transcript sounds finished: end the caller's turn now instead of
    /// waiting out the end-of-speech silence.
    fn end_turn_on_words(&mut self) {
        // The endpointer's turn is open while a reply waits uncommitted (its tests drive the
        // conversation with events alone, and no audio ever opened one).
        let waited = self.endpointer.end_turn().unwrap_or(self.pipeline.vad.early_ms);
        self.speech_started = None;
        self.summary.ended_on_words += 1;
        self.commit_early_reply(Instant::now(), waited);
    }

    fn start_reply(&mut self, input: AgentInput, turn_audio: Arc<Vec<i16>>, origin: Instant) {
        self.start_reply_with_turn(input, turn_audio, origin, None);
    }

    fn start_reply_with_turn(&mut self, input: AgentInput, turn_audio: Arc<Vec<i16>>, origin: Instant, caller_started: Option<String>) {
        let id = self.new_reply(TurnKind::Speech, origin);
        // The caller's turn ends where the agent's begins.
        let caller_ended = self.reply.as_ref().map(|r| r.started_wall.clone()).unwrap_or_else(now_wall);
        let (engine, pipeline, rate, history, tx) =
            (self.engine.clone(), self.pipeline.clone(), self.audio.rate, self.history.clone(), self.job_tx.clone());
        let speech = caller_started.is_some();
        // One copy of the caller's audio, shared by the reply task and the carry-over.
        let audio_for_job = if speech { turn_audio.clone() } else { Arc::default() };
        let task = tokio::spawn(async move {
            let Some(tx) = tx else { return };
            job::reply_job(Job { id, engine, pipeline, rate, tx }, history, input, audio_for_job).await;
        });
        if let Some(r) = &mut self.reply {
            r.task = Some(task);
            r.caller_audio = turn_audio;
            if let Some(started) = caller_started {
                r.caller_turn = Some((started, TurnKind::Speech, caller_ended));
            }
        }
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
        self.settle_writes().await;
    }
}
