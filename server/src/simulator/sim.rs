//! The simulated call's state, the caller's steps, and the frames the caller sends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};

use super::wire;
use super::{CallOptions, CallReport, SimError, Step, TurnReport};
use crate::telephony::exotel::stream::{Inbound, Start};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One simulated call: the stream, the caller's clock and what has been heard so far.
pub(super) struct Sim {
    pub(super) opts: CallOptions,
    pub(super) ws: Ws,
    pub(super) rate: u32,
    pub(super) report: CallReport,
    seq: u64,
    chunk: u64,
    started: Instant,
    /// When the caller will have heard all agent audio received so far.
    pub(super) playing_until: Instant,
    pub(super) last_agent_audio: Option<Instant>,
    /// Marks to echo once their audio has played.
    pub(super) marks: Vec<(Instant, String)>,
    /// Agent audio received since the current step began waiting for a reply.
    pub(super) reply_first: Option<Instant>,
    pub(super) reply_audio_ms: f64,
    pub(super) clear_at: Option<Instant>,
    pub(super) closed: bool,
    spoke_at: chrono::DateTime<chrono::Utc>,
    /// Agent audio is mid-utterance (media since the last mark or clear).
    pub(super) mid_utterance: bool,
    /// What the answer said about the stream: its parameters, sent back in `start` (Twilio's
    /// customParameters, Vonage's headers), and its audio format.
    pub(super) answered: wire::Answered,
}

impl Sim {
    pub(super) fn new(opts: CallOptions, stream_url: String, rate: u32, ws: Ws, answered: wire::Answered) -> Self {
        let report = CallReport { call_sid: opts.call_sid.clone(), stream_url, rate, ..Default::default() };
        let now = Instant::now();
        Self {
            opts,
            ws,
            rate,
            report,
            seq: 0,
            chunk: 0,
            started: now,
            playing_until: now,
            last_agent_audio: None,
            marks: Vec::new(),
            reply_first: None,
            reply_audio_ms: 0.0,
            clear_at: None,
            closed: false,
            spoke_at: chrono::Utc::now(),
            mid_utterance: false,
            answered,
        }
    }

    pub(super) async fn send(&mut self, frame: Inbound) -> Result<(), SimError> {
        self.seq += 1;
        match wire::encode(&self.opts.provider, &self.answered, &self.stream_sid(), self.seq, frame) {
            Some(message) => self.ws.send(message).await.map_err(|e| SimError::Stream(e.to_string())),
            None => Ok(()),
        }
    }

    pub(super) fn stream_sid(&self) -> String {
        format!("MZ{}", self.opts.call_sid)
    }

    pub(super) async fn run(&mut self) -> Result<(), SimError> {
        self.send(Inbound::Connected).await?;
        let start = Start {
            stream_sid: self.stream_sid(),
            call_sid: self.opts.call_sid.clone(),
            account_sid: Some("simulator".into()),
            from: Some(self.opts.from.clone()),
            to: Some(self.opts.to.clone()),
            custom_parameters: Default::default(),
            encoding: Some("audio/x-raw".into()),
            sample_rate: Some(self.rate),
        };
        self.send(Inbound::Start(start)).await?;
        self.started = Instant::now();
        self.begin_wait();
        let mut steps = std::mem::take(&mut self.opts.steps);
        if let Some(from) = self.opts.audio_rate.filter(|r| *r != self.rate) {
            steps = steps.into_iter().map(|s| super::step_at_rate(s, from, self.rate)).collect();
        }
        // The greeting plays first, unless the caller talks over it (or, called, speaks first).
        let speaks_first = self.opts.outbound && matches!(steps.first(), Some(Step::Ask { .. }));
        if !speaks_first && !matches!(steps.first(), Some(Step::BargeIn { .. })) {
            self.wait_reply().await?;
            self.take_greeting();
        }
        let mut asked: Option<(String, Arc<[i16]>, Instant)> = None;
        for step in steps {
            if self.closed {
                break;
            }
            match step {
                Step::WaitReply => self.wait_reply().await?,
                Step::Silence(d) => self.speak(&vec![0; (self.rate as f64 * d.as_secs_f64()) as usize]).await?,
                Step::Say { label, audio } => {
                    self.speak(&audio).await?;
                    let ended = Instant::now();
                    self.begin_wait();
                    self.wait_reply().await?;
                    self.report.turns.push(self.turn(label, &audio, ended, None));
                }
                Step::Ask { label, audio } => {
                    self.speak(&audio).await?;
                    asked = Some((label, audio, Instant::now()));
                    self.begin_wait();
                }
                Step::BargeIn { label, audio, after } => {
                    // Wait for the agent to start its reply (or greeting), then talk over it.
                    self.wait_until(move |s| s.reply_first.is_some_and(|f| f.elapsed() >= after)).await?;
                    if let Some((l, a, ended)) = asked.take() {
                        self.report.turns.push(self.turn(l, &a, ended, None));
                    } else if self.report.turns.is_empty() && self.report.greeting_after_ms.is_none() {
                        self.take_greeting();
                    }
                    self.clear_at = None;
                    let began = Instant::now();
                    self.speak(&audio).await?;
                    let ended = Instant::now();
                    let clear = self.clear_at.map(|c| c.saturating_duration_since(began).as_secs_f64() * 1000.0);
                    self.begin_wait();
                    self.wait_reply().await?;
                    self.report.turns.push(self.turn(label, &audio, ended, clear));
                }
                Step::Dtmf(digits) => {
                    self.press(&digits).await?;
                    let ended = Instant::now();
                    self.begin_wait();
                    self.wait_reply().await?;
                    self.report.turns.push(self.turn(format!("DTMF {digits}"), &[], ended, None));
                }
                Step::Press(digits) => {
                    self.press(&digits).await?;
                    asked = Some((format!("DTMF {digits}"), Arc::from(Vec::new()), Instant::now()));
                    self.begin_wait();
                }
            }
        }
        if !self.closed {
            self.send(Inbound::Stop { reason: Some("callended".into()) }).await?;
            let _ = self.ws.close(None).await;
            // Drain until the server closes.
            let _ = tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
        }
        Ok(())
    }

    fn take_greeting(&mut self) {
        self.report.greeting_after_ms = self.reply_first.map(|f| f.saturating_duration_since(self.started).as_secs_f64() * 1000.0);
        self.report.greeting_audio_ms = self.reply_audio_ms;
    }

    fn turn(&self, label: String, audio: &[i16], ended: Instant, clear_after_ms: Option<f64>) -> TurnReport {
        TurnReport {
            label,
            spoken_ms: audio.len() as f64 * 1000.0 / self.rate as f64,
            reply_after_ms: self.reply_first.map(|f| f.saturating_duration_since(ended).as_secs_f64() * 1000.0),
            reply_audio_ms: self.reply_audio_ms,
            clear_after_ms,
            began_at: self.spoke_at,
        }
    }

    fn begin_wait(&mut self) {
        self.reply_first = None;
        self.reply_audio_ms = 0.0;
    }

    /// Sends `audio` (then nothing more) in real time, one frame per frame period, handling
    /// what the server sends meanwhile.
    async fn speak(&mut self, audio: &[i16]) -> Result<(), SimError> {
        let per_frame = (self.rate as f64 * self.opts.frame.as_secs_f64()) as usize;
        let t0 = Instant::now();
        self.spoke_at = chrono::Utc::now();
        for (i, frame) in audio.chunks(per_frame).enumerate() {
            let due = t0 + self.opts.frame * i as u32;
            self.pump_until(due).await?;
            if self.closed {
                return Ok(());
            }
            let mut frame = frame.to_vec();
            frame.resize(per_frame, 0);
            self.send_media(&frame).await?;
        }
        let end = t0 + self.opts.frame * audio.len().div_ceil(per_frame.max(1)) as u32;
        self.pump_until(end).await
    }

    pub(super) async fn send_media(&mut self, samples: &[i16]) -> Result<(), SimError> {
        self.chunk += 1;
        let timestamp_ms = Some(self.started.elapsed().as_millis() as u64);
        self.send(Inbound::Media { chunk: Some(self.chunk), timestamp_ms, pcm: crate::voice::audio::i16_to_bytes(samples) }).await
    }

    async fn press(&mut self, digits: &str) -> Result<(), SimError> {
        for d in digits.chars() {
            self.send(Inbound::Dtmf { digit: d.to_string(), duration_ms: Some(100) }).await?;
        }
        Ok(())
    }
}
