//! A reply's work, as its own task: STT (for speech), then the agent streamed sentence by
//! sentence into TTS; provider failures and timeouts turn into the fallback line.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::reply::JobMsg;
use super::text::{first_piece_end, is_noise_transcript, sentence_end};
use crate::voice::audio::{self, MODEL_RATE};
use crate::voice::engine::{Pipeline, VoiceEngine};
use crate::voice::{AfterReply, AgentInput, ChatTurn, VoiceError};
use domain::call::TurnKind;

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a reply task needs.
pub(super) struct Job {
    pub id: u64,
    pub engine: Arc<VoiceEngine>,
    pub pipeline: Pipeline,
    pub rate: u32,
    pub tx: mpsc::Sender<JobMsg>,
}

impl super::Conv {
    pub(super) fn start_greeting(&mut self) {
        let id = self.new_reply(TurnKind::Greeting, Instant::now());
        self.spawn_canned(id, greeting_job);
    }

    /// The transport is closing: stop whatever is being said, say the closing line, hang up.
    pub(super) async fn wrap_up(&mut self) {
        self.summary.wrapped_up = true;
        self.interrupt().await;
        let id = self.new_reply(TurnKind::Fallback, Instant::now());
        self.spawn_canned(id, closing_job);
    }

    fn spawn_canned<F: Future<Output = ()> + Send + 'static>(&mut self, id: u64, job: fn(Job) -> F) {
        let (engine, pipeline, rate, tx) = (self.engine.clone(), self.pipeline.clone(), self.audio.rate, self.job_tx.clone());
        let task = tokio::spawn(async move {
            let Some(tx) = tx else { return };
            job(Job { id, engine, pipeline, rate, tx }).await;
        });
        if let Some(r) = &mut self.reply {
            r.task = Some(task);
        }
    }
}

/// The closing line (cached, in the offline voice), then hang up.
pub(super) async fn closing_job(job: Job) {
    let Job { id, ref engine, ref pipeline, rate, ref tx } = job;
    let text = pipeline.closing_line.clone();
    match engine.closing(pipeline, rate).await {
        Ok(pcm) => {
            let _ = tx.send(JobMsg::Audio { id, pcm, provider_ms: 0.0, text: text.clone() }).await;
        }
        Err(e) => tracing::warn!(error = %e, "cannot render the closing line"),
    }
    let _ = tx.send(JobMsg::Finished { id, text, after: AfterReply::HangUp, fallback: true }).await;
}

/// The greeting, from the cache (rendered when the call was answered).
pub(super) async fn greeting_job(job: Job) {
    let Job { id, ref engine, ref pipeline, rate, ref tx } = job;
    let text = pipeline.greeting.clone();
    // A cloud voice that fails greets in the offline voice instead.
    let greeting = match engine.greeting(pipeline, rate).await {
        Ok(pcm) => Ok(pcm),
        Err(e) => {
            tracing::warn!(error = %e, "cannot render the greeting; using the offline voice");
            engine.greeting_offline(pipeline, rate).await
        }
    };
    match greeting {
        Ok(pcm) => {
            let _ = tx.send(JobMsg::Audio { id, pcm, provider_ms: 0.0, text: text.clone() }).await;
        }
        Err(e) => tracing::warn!(error = %e, "cannot render the greeting"),
    }
    let after = match (&pipeline.transfer_after_greeting, pipeline.hang_up_after_greeting) {
        (Some(_), _) => AfterReply::Transfer,
        (None, true) => AfterReply::HangUp,
        (None, false) => AfterReply::Listen,
    };
    let _ = tx.send(JobMsg::Finished { id, text, after, fallback: false }).await;
}

/// One reply: STT for speech, the agent, TTS sentence by sentence.
pub(super) async fn reply_job(job: Job, history: Vec<ChatTurn>, input: AgentInput, turn_audio: Arc<Vec<i16>>) {
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
        loop {
            // The reply's first piece may end at a clause (speech starts sooner); later pieces
            // are whole sentences (better prosody).
            let end = if said.is_empty() { first_piece_end(&pending, done) } else { sentence_end(&pending, done) };
            let Some(end) = end else { break };
            let sentence: String = pending.drain(..end).collect();
            let sentence = sentence.trim().to_string();
            if sentence.is_empty() {
                continue;
            }
            match tokio::time::timeout(limits.tts, speak(&job, &sentence, provider_ms, said.is_empty())).await {
                Ok(Ok(ms)) => {
                    provider_ms = ms;
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

/// Pieces of a sentence's audio between its voice and the caller's queue.
const SPEECH_PIECES: usize = 8;

/// Speaks `sentence`: each piece of its audio goes to the caller as the voice makes it (a
/// streaming voice's first words play while the rest is still coming). The providers' time so
/// far, plus (for the reply's `first` sentence) the voice's wait for its first audio.
async fn speak(job: &Job, sentence: &str, provider_ms: f64, first: bool) -> Result<f64, VoiceError> {
    let Job { id, ref pipeline, rate, ref tx, .. } = *job;
    let (pcm_tx, pcm_rx) = mpsc::channel::<Vec<i16>>(SPEECH_PIECES);
    let started = Instant::now();
    let forward = async {
        // Owned here: once the caller's side is gone, the voice's sends fail and it stops.
        let mut pcm_rx = pcm_rx;
        let mut ms = provider_ms;
        let mut text = Some(sentence.to_string());
        while let Some(pcm) = pcm_rx.recv().await {
            if pcm.is_empty() {
                continue;
            }
            if first && text.is_some() {
                ms += started.elapsed().as_secs_f64() * 1000.0;
            }
            // The sentence's words go with its first audio: a reply cut off keeps them.
            let text = text.take().unwrap_or_default();
            if tx.send(JobMsg::Audio { id, pcm: Arc::new(pcm), provider_ms: ms, text }).await.is_err() {
                break; // the conversation is gone; dropping the receiver stops the voice
            }
        }
        ms
    };
    let (made, ms) = tokio::join!(pipeline.tts.synthesize_stream(sentence, rate, pcm_tx), forward);
    made.map(|()| ms)
}

/// A turn at the call's rate as the speech models want it (16 kHz).
fn to_model_rate(audio: &[i16], rate: u32) -> Vec<i16> {
    if rate == MODEL_RATE {
        return audio.to_vec();
    }
    audio::resample(&audio::i16_to_f32(audio), rate, MODEL_RATE).map(|a| audio::f32_to_i16(&a)).unwrap_or_default()
}

async fn fallback(job: &Job, error: VoiceError) {
    tracing::warn!(error = %error, "provider failed; saying the fallback line");
    crate::metrics::get().provider_error(error.stage());
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
