//! The conversation's state machine with fake STT, agent and TTS: turn-taking is driven with
//! the endpointer's events (no audio, no models), and every frame the transport would carry is
//! read back. The clock is tokio's paused clock: it jumps ahead whenever every task waits, so
//! the fakes' delays, the speaker's pacing and the providers' limits are exact and cost nothing,
//! and a loaded machine cannot change what a test sees.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::call::{Role, TurnKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};

use super::{Conv, Input, drive};
use crate::net::guard::{CONNECT_TIMEOUT, GuardedClient};
use crate::voice::engine::{Pipeline, Timeouts, VoiceEngine};
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, ChunkRules};
use crate::voice::models::ModelFiles;
use crate::voice::stats::Summary;
use crate::voice::vad::{VadEvent, VadSettings};
use crate::voice::{AfterReply, Agent, AgentInput, ChatTurn, SpeechToText, TextToSpeech, VoiceError};

mod streams;

const RATE: u32 = 8000;
/// Exotel's rules in samples: at 8 kHz a chunk is 200 ms.
const RULES: ChunkRules = ChunkRules { multiple: 160, min: 1600, max: 51200 };

/// Hears `text` after `delay`, or never answers.
struct FakeStt {
    text: String,
    delay: Duration,
    calls: AtomicUsize,
}

#[async_trait]
impl SpeechToText for FakeStt {
    async fn transcribe(&self, _audio: Vec<i16>) -> Result<String, VoiceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        Ok(self.text.clone())
    }
}

/// Answers every input with `reply` (hanging up when it is the goodbye) after `delay`,
/// and remembers what it was asked.
struct FakeAgent {
    reply: String,
    hang_up: bool,
    delay: Duration,
    asked: Mutex<Vec<String>>,
}

#[async_trait]
impl Agent for FakeAgent {
    async fn reply(&self, _history: &[ChatTurn], input: &AgentInput, out: mpsc::Sender<String>) -> Result<AfterReply, VoiceError> {
        self.asked.lock().unwrap().push(input.text());
        tokio::time::sleep(self.delay).await;
        let _ = out.send(self.reply.clone()).await;
        Ok(if self.hang_up { AfterReply::HangUp } else { AfterReply::Listen })
    }
}

/// 100 ms of a constant per word, so a reply's length follows its text.
struct FakeTts;

#[async_trait]
impl TextToSpeech for FakeTts {
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<i16>, VoiceError> {
        Ok(vec![1000; rate as usize / 10 * text.split_whitespace().count()])
    }
}

/// Streams each sentence as two 300 ms pieces, then never finishes it (a provider stalled
/// mid-sentence); `stopped` is set once its stream is dropped.
struct StallingTts {
    stopped: Arc<AtomicBool>,
}

/// Sets its flag when dropped (a cancelled future drops what it holds).
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl TextToSpeech for StallingTts {
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<i16>, VoiceError> {
        FakeTts.synthesize(text, rate).await
    }

    async fn synthesize_stream(&self, _text: &str, rate: u32, out: mpsc::Sender<Vec<i16>>) -> Result<(), VoiceError> {
        let _stopped = SetOnDrop(self.stopped.clone());
        for _ in 0..2 {
            if out.send(vec![1000; rate as usize * 3 / 10]).await.is_err() {
                return Ok(());
            }
        }
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// A written turn: role, kind, text, interrupted.
type Written = (Role, TurnKind, String, bool);

struct Call {
    stt: Arc<FakeStt>,
    agent: Arc<FakeAgent>,
    input: mpsc::Sender<Input>,
    out: mpsc::Receiver<AgentFrame>,
    task: JoinHandle<(Summary, Vec<Written>)>,
}

fn call(stt: FakeStt, agent: FakeAgent) -> Call {
    call_with_limit(stt, agent, Duration::from_secs(5))
}

/// A call whose providers may each take `limit` before the fallback line.
fn call_with_limit(stt: FakeStt, agent: FakeAgent, limit: Duration) -> Call {
    call_with(stt, agent, Arc::new(FakeTts), limit)
}

/// A call that speaks its replies with `tts`.
fn call_with(stt: FakeStt, agent: FakeAgent, tts: Arc<dyn TextToSpeech>, limit: Duration) -> Call {
    let dir = std::env::temp_dir().join("voxgate-no-models");
    let http = GuardedClient::new(Arc::default(), CONNECT_TIMEOUT).unwrap();
    let engine = VoiceEngine::new(ModelFiles::new(dir, "tiny.en"), 1, Duration::from_secs(8), http);
    let (stt, agent) = (Arc::new(stt), Arc::new(agent));
    let pipeline = Pipeline {
        stt: stt.clone(),
        agent: agent.clone(),
        tts,
        fallback_tts: Arc::new(FakeTts),
        greeting: "Hello there".into(),
        fallback_line: "Sorry say again".into(),
        closing_line: "Goodbye for now".into(),
        vad: VadSettings::default(),
        voice_key: "fake".into(),
        fallback_voice_key: "fake".into(),
        timeouts: Timeouts { stt: limit, agent: limit, tts: limit },
        tenant: None,
        hang_up_after_greeting: false,
        transfer_after_greeting: None,
    };
    let (out_tx, out) = mpsc::channel(64);
    let (input, inbound) = mpsc::channel::<Input>(64);
    let task = tokio::spawn(async move {
        let mut c = Conv::new(engine, pipeline, CallAudio { rate: RATE, chunks: RULES }, None, out_tx);
        let summary = drive(&mut c, inbound).await;
        (summary, std::mem::take(&mut c.written))
    });
    Call { stt, agent, input, out, task }
}

fn stt(text: &str, delay_ms: u64) -> FakeStt {
    FakeStt { text: text.into(), delay: Duration::from_millis(delay_ms), calls: AtomicUsize::new(0) }
}

fn agent(reply: &str, hang_up: bool, delay_ms: u64) -> FakeAgent {
    FakeAgent { reply: reply.into(), hang_up, delay: Duration::from_millis(delay_ms), asked: Mutex::default() }
}

/// A second of caller audio.
fn speech() -> Vec<i16> {
    vec![500; RATE as usize]
}

impl Call {
    async fn send(&self, input: Input) {
        self.input.send(input).await.unwrap();
    }

    /// The next frame within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<AgentFrame> {
        tokio::time::timeout(wait, self.out.recv()).await.ok().flatten()
    }

    /// Frames up to and including the next mark; returns the audio samples seen and the mark.
    async fn until_mark(&mut self) -> (usize, String) {
        let mut samples = 0;
        loop {
            match self.next(Duration::from_secs(10)).await {
                Some(AgentFrame::Audio(a)) => {
                    assert!(RULES.allows(a.len()), "chunk of {} samples", a.len());
                    samples += a.len();
                }
                Some(AgentFrame::Mark(m)) => return (samples, m),
                other => panic!("expected audio or a mark, got {other:?}"),
            }
        }
    }

    /// The greeting plays out (not interrupted) and the caller starts to talk.
    async fn greeted_then_caller_talks(&mut self) {
        self.until_mark().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.send(Input::Vad(VadEvent::SpeechStart)).await;
    }

    async fn end(self) -> (Summary, Vec<Written>) {
        drop(self.input);
        let mut out = self.out;
        let collect = tokio::spawn(async move { while out.recv().await.is_some() {} });
        let result = self.task.await.unwrap();
        collect.abort();
        result
    }
}

#[tokio::test(start_paused = true)]
async fn the_greeting_plays_in_chunks_then_its_mark() {
    let mut c = call(stt("", 0), agent("", false, 0));
    let (samples, mark) = c.until_mark().await;
    assert_eq!(mark, "utterance-1");
    // Two words of 100 ms: one 200 ms chunk (a resampled sample over would pad a second).
    assert!(samples == 1600 || samples == 3200, "{samples}");
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let (summary, written) = c.end().await;
    assert_eq!(written, vec![(Role::Agent, TurnKind::Greeting, "Hello there".into(), false)]);
    assert_eq!(summary.barge_ins, 0);
}

#[tokio::test(start_paused = true)]
async fn talking_over_the_agent_clears_its_audio_and_cancels_the_reply() {
    let mut c = call(stt("What time do you open", 50), agent("We open at nine in the morning every day of the week", false, 10));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 1000 })).await;
    // The reply (12 words: 1.2 s) starts; the caller talks over it after its first chunks.
    assert!(matches!(c.next(Duration::from_secs(5)).await, Some(AgentFrame::Audio(_))));
    c.send(Input::Vad(VadEvent::SpeechStart)).await;
    let mut cleared = false;
    while let Some(f) = c.next(Duration::from_millis(300)).await {
        match f {
            AgentFrame::Clear => cleared = true,
            AgentFrame::Mark(m) => panic!("the interrupted reply must not be marked as played: {m}"),
            AgentFrame::Audio(_) => assert!(!cleared, "no audio after the clear"),
        }
    }
    assert!(cleared, "barge-in sends clear");
    let (summary, written) = c.end().await;
    assert_eq!(summary.barge_ins, 1);
    let last = written.last().unwrap();
    assert_eq!((last.0, last.1, last.3), (Role::Agent, TurnKind::Speech, true), "{written:?}");
    assert!(written.contains(&(Role::Caller, TurnKind::Speech, "What time do you open".into(), false)));
}

#[tokio::test(start_paused = true)]
async fn an_early_reply_is_held_during_the_pause_and_sent_when_the_pause_ends_the_turn() {
    let mut c = call(stt("Book a table", 100), agent("Booked", false, 10));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::Pause { audio: speech().into() })).await;
    // STT, the agent and TTS all finish during the pause, but nothing may be said yet.
    assert_eq!(c.next(Duration::from_millis(400)).await, None);
    let before = Instant::now();
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 1000 })).await;
    assert!(matches!(c.next(Duration::from_secs(1)).await, Some(AgentFrame::Audio(_))));
    // Nothing is left to compute: the held audio leaves at the very instant speech ends.
    assert_eq!(before.elapsed(), Duration::ZERO, "held audio leaves at the end of speech");
    let (_, mark) = c.until_mark().await;
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let stt_runs = c.stt.calls.load(Ordering::SeqCst);
    let (_, written) = c.end().await;
    assert_eq!(stt_runs, 1, "the early transcription is the turn's");
    assert_eq!(
        &written[1..],
        &[(Role::Caller, TurnKind::Speech, "Book a table".into(), false), (Role::Agent, TurnKind::Speech, "Booked".into(), false)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_finished_question_is_answered_at_the_pause_without_waiting_for_the_silence() {
    let mut c = call(stt("What are your opening hours?", 100), agent("Nine to five", false, 10));
    c.greeted_then_caller_talks().await;
    let paused = Instant::now();
    c.send(Input::Vad(VadEvent::Pause { audio: speech().into() })).await;
    // No end of speech comes: the words end the turn once they are heard.
    assert!(matches!(c.next(Duration::from_secs(1)).await, Some(AgentFrame::Audio(_))), "the reply goes out at the pause");
    let waited = paused.elapsed();
    assert!(waited >= Duration::from_millis(100) && waited < Duration::from_millis(200), "STT and agent only: {waited:?}");
    // The reply plays out (the endpointer's turn was closed with it: the silence after it
    // ends nothing more, as its own tests show).
    let (_, mark) = c.until_mark().await;
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let (summary, written) = c.end().await;
    assert_eq!(summary.ended_on_words, 1);
    assert_eq!(
        &written[1..],
        &[
            (Role::Caller, TurnKind::Speech, "What are your opening hours?".into(), false),
            (Role::Agent, TurnKind::Speech, "Nine to five".into(), false)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn words_that_trail_off_wait_for_the_silence_and_the_caller_goes_on() {
    let mut c = call(stt("I'd like to book a table for", 100), agent("Booked", false, 10));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::Pause { audio: speech().into() })).await;
    assert_eq!(c.next(Duration::from_secs(2)).await, None, "the caller is not cut off");
    c.send(Input::Vad(VadEvent::Resume)).await;
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 2000 })).await;
    let (_, mark) = c.until_mark().await;
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let (summary, written) = c.end().await;
    assert_eq!(summary.ended_on_words, 0);
    assert_eq!(written.iter().filter(|t| t.0 == Role::Agent && t.1 == TurnKind::Speech).count(), 1, "{written:?}");
}

#[tokio::test(start_paused = true)]
async fn an_early_reply_is_dropped_when_the_caller_goes_on() {
    let mut c = call(stt("a table for two", 300), agent("Done", false, 10));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::Pause { audio: speech().into() })).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.send(Input::Vad(VadEvent::Resume)).await;
    assert_eq!(c.next(Duration::from_secs(1)).await, None, "the dropped reply says nothing");
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 2000 })).await;
    let (_, mark) = c.until_mark().await;
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let stt_runs = c.stt.calls.load(Ordering::SeqCst);
    let asked = c.agent.asked.lock().unwrap().clone();
    let (_, written) = c.end().await;
    assert_eq!(stt_runs, 2, "the turn is transcribed again, whole");
    assert_eq!(asked, vec!["a table for two"], "the agent answers the whole turn once");
    assert_eq!(written.iter().filter(|t| t.0 == Role::Agent && t.1 == TurnKind::Speech).count(), 1, "{written:?}");
}

#[tokio::test(start_paused = true)]
async fn a_keypad_digit_during_a_reply_interrupts_it_and_is_answered() {
    let mut c = call(stt("Tell me everything", 10), agent("one two three four five six seven eight nine ten", false, 10));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 1000 })).await;
    assert!(matches!(c.next(Duration::from_secs(5)).await, Some(AgentFrame::Audio(_))));
    c.send(Input::Caller(CallerEvent::Dtmf("5".into()))).await;
    loop {
        match c.next(Duration::from_secs(1)).await {
            Some(AgentFrame::Clear) => break,
            Some(AgentFrame::Audio(_)) => {}
            other => panic!("expected the clear, got {other:?}"),
        }
    }
    let (_, mark) = c.until_mark().await;
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let asked = c.agent.asked.lock().unwrap().clone();
    let (_, written) = c.end().await;
    assert_eq!(asked, vec!["Tell me everything", "pressed 5"]);
    let kinds: Vec<_> = written.iter().map(|t| (t.0, t.1, t.3)).collect();
    assert_eq!(
        kinds,
        vec![
            (Role::Agent, TurnKind::Greeting, false),
            (Role::Caller, TurnKind::Speech, false),
            (Role::Agent, TurnKind::Speech, true),
            (Role::Caller, TurnKind::Dtmf, false),
            (Role::Agent, TurnKind::Speech, false),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_goodbye_ends_the_call_after_a_grace_when_its_mark_never_comes() {
    let mut c = call(stt("Bye now", 10), agent("Goodbye", true, 10));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 800 })).await;
    let (_, mark) = c.until_mark().await;
    assert_eq!(mark, "utterance-2");
    // The mark is never echoed: the call still ends, a little after the audio played out.
    let sent = Instant::now();
    let (summary, _) = tokio::time::timeout(Duration::from_secs(5), c.task).await.expect("the agent hangs up").unwrap();
    assert!(summary.agent_hung_up);
    let waited = sent.elapsed();
    assert!(waited >= Duration::from_millis(700) && waited < Duration::from_millis(1000), "grace {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_provider_that_never_answers_gets_the_fallback_line_and_the_call_goes_on() {
    let mut c = call_with_limit(stt("Hello?", 60_000), agent("unused", false, 0), Duration::from_millis(300));
    c.greeted_then_caller_talks().await;
    let asked_at = Instant::now();
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 800 })).await;
    let (samples, mark) = c.until_mark().await;
    let waited = asked_at.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_millis(350), "the STT limit is waited out: {waited:?}");
    assert_eq!(samples, 3200, "three words of fallback line: 300 ms, padded to two chunks");
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let asked = c.agent.asked.lock().unwrap().len();
    let (summary, written) = c.end().await;
    assert_eq!(asked, 0);
    assert!(!summary.agent_hung_up);
    assert_eq!(written.last().unwrap(), &(Role::Agent, TurnKind::Fallback, "Sorry say again".into(), false));
}
