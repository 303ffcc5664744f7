//! `voxgate call`: acts as Exotel for one call, from the wire formats in
//! shared/protocols/EXOTEL.md. Posts the number's webhook, opens the stream URL of the answer,
//! sends `connected`, `start`, then caller audio in real time (100 ms `media` frames, silence
//! between utterances), DTMF when asked, echoes `mark`s once their audio has "played", obeys
//! `clear`, and records what the agent said. The report has per-turn latencies.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::telephony::exotel::stream::{self, Inbound, Outbound, Start};

/// One thing the caller does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Speak (16-bit samples at the call's rate), then wait for the agent's whole reply.
    Say {
        label: String,
        audio: Arc<[i16]>,
    },
    /// Speak without waiting for the reply (a [`Step::BargeIn`] usually follows).
    Ask {
        label: String,
        audio: Arc<[i16]>,
    },
    /// Speak over the agent: starts `after` into the agent's reply (or greeting) (barge-in).
    BargeIn {
        label: String,
        audio: Arc<[i16]>,
        after: Duration,
    },
    /// Wait until the agent has spoken and gone quiet (e.g. the greeting).
    WaitReply,
    Silence(Duration),
    /// Press keys, then wait for the reply.
    Dtmf(String),
    /// Press keys without waiting for the reply (a [`Step::BargeIn`] usually follows).
    Press(String),
}

#[derive(Debug, Clone)]
pub struct CallOptions {
    /// The number's webhook URL (an XML answer), or its Voicebot URL (a JSON answer).
    pub webhook: String,
    pub call_sid: String,
    pub from: String,
    pub to: String,
    /// Overrides the stream URL's `sample-rate`.
    pub rate: Option<u32>,
    pub steps: Vec<Step>,
    /// Longest wait for a reply to start.
    pub reply_timeout: Duration,
    /// Silence after the agent's audio that ends its reply.
    pub reply_gap: Duration,
    /// Inbound frame length (Exotel sends ~100 ms).
    pub frame: Duration,
    pub record: Option<PathBuf>,
    /// Keep the agent's audio in the report (off for load tests).
    pub keep_audio: bool,
}

impl CallOptions {
    pub fn new(webhook: impl Into<String>, steps: Vec<Step>) -> Self {
        Self {
            webhook: webhook.into(),
            call_sid: format!("SIM{}", crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 16)),
            from: "+919876543210".into(),
            to: "+918047491899".into(),
            rate: None,
            steps,
            reply_timeout: Duration::from_secs(20),
            reply_gap: Duration::from_millis(900),
            frame: Duration::from_millis(100),
            record: None,
            keep_audio: true,
        }
    }
}

/// What happened around one caller step.
#[derive(Debug, Clone, Default)]
pub struct TurnReport {
    pub label: String,
    /// Caller audio length (ms).
    pub spoken_ms: f64,
    /// Caller stopped speaking (or pressed keys) -> first agent audio received (ms).
    pub reply_after_ms: Option<f64>,
    /// Agent audio received for the reply (ms of audio).
    pub reply_audio_ms: f64,
    /// Barge-in: caller speech start -> `clear` received (ms).
    pub clear_after_ms: Option<f64>,
    /// Wall-clock time the caller began this step's audio (to match it with stored turns).
    pub began_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct CallReport {
    pub call_sid: String,
    pub stream_url: String,
    pub rate: u32,
    /// `start` sent -> first greeting audio received (ms).
    pub greeting_after_ms: Option<f64>,
    pub greeting_audio_ms: f64,
    pub turns: Vec<TurnReport>,
    /// Everything the agent sent, at the call's rate.
    pub agent_audio: Vec<i16>,
    pub media_frames: u64,
    pub marks_echoed: u64,
    pub clears: u64,
    /// Sizes of the agent's media payloads that broke Exotel's rules (multiple of 320, 3,200..100 KB).
    pub bad_chunks: u64,
    /// Frames from the server that were not valid Voicebot frames.
    pub bad_frames: u64,
    /// Chunks of an utterance that arrived more than 20 ms after the audio before them had
    /// played out (a gap the caller would hear), and the longest such gap (ms).
    pub late_chunks: u64,
    pub max_gap_ms: f64,
    /// The server closed the stream (code, reason), e.g. after the agent's goodbye.
    pub closed_by_server: Option<(u16, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("webhook: {0}")]
    Webhook(String),
    #[error("stream: {0}")]
    Stream(String),
}

/// The stream URL in a webhook answer: `<Stream url>` of an XML answer or `url` of a JSON one.
pub fn stream_url_of(body: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return v.get("url").and_then(Value::as_str).map(str::to_string);
    }
    let mut reader = quick_xml::Reader::from_str(body);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) if e.name().as_ref() == b"Stream" => {
                return e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"url")
                    .and_then(|a| a.unescape_value().ok())
                    .map(|v| v.to_string());
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// Places the call and runs the steps; ends with `stop` unless the server closes first.
pub async fn run(opts: CallOptions) -> Result<CallReport, SimError> {
    let client = reqwest::Client::new();
    let form = [
        ("CallSid", opts.call_sid.as_str()),
        ("CallFrom", opts.from.as_str()),
        ("CallTo", opts.to.as_str()),
        ("From", opts.from.as_str()),
        ("To", opts.to.as_str()),
        ("Direction", "incoming"),
        ("CallType", "call-attempt"),
    ];
    let res = client.post(&opts.webhook).form(&form).send().await.map_err(|e| SimError::Webhook(e.to_string()))?;
    let status = res.status();
    let body = res.text().await.map_err(|e| SimError::Webhook(e.to_string()))?;
    if !status.is_success() {
        return Err(SimError::Webhook(format!("HTTP {status}: {body}")));
    }
    let mut url = url::Url::parse(&stream_url_of(&body).ok_or_else(|| SimError::Webhook(format!("no stream URL in the answer: {body}")))?)
        .map_err(|e| SimError::Webhook(e.to_string()))?;
    if let Some(rate) = opts.rate {
        let pairs: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| k != "sample-rate").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        url.query_pairs_mut().clear().extend_pairs(pairs).append_pair("sample-rate", &rate.to_string());
    }
    let rate: u32 = url.query_pairs().find(|(k, _)| k == "sample-rate").and_then(|(_, v)| v.parse().ok()).unwrap_or(8000);
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(8 * 1024);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
        .await
        .map_err(|e| SimError::Stream(e.to_string()))?;
    let mut call = Sim::new(opts, url.to_string(), rate, ws);
    call.run().await?;
    if let Some(path) = &call.opts.record {
        crate::voice::audio::write_wav(path, &call.report.agent_audio, rate).map_err(|e| SimError::Stream(e.to_string()))?;
    }
    Ok(call.report)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Sim {
    opts: CallOptions,
    ws: Ws,
    rate: u32,
    report: CallReport,
    seq: u64,
    chunk: u64,
    started: Instant,
    /// When the caller will have heard all agent audio received so far.
    playing_until: Instant,
    last_agent_audio: Option<Instant>,
    /// Marks to echo once their audio has played.
    marks: Vec<(Instant, String)>,
    /// Agent audio received since the current step began waiting for a reply.
    reply_first: Option<Instant>,
    reply_audio_ms: f64,
    clear_at: Option<Instant>,
    closed: bool,
    spoke_at: chrono::DateTime<chrono::Utc>,
    /// Agent audio is mid-utterance (media since the last mark or clear).
    mid_utterance: bool,
}

impl Sim {
    fn new(opts: CallOptions, stream_url: String, rate: u32, ws: Ws) -> Self {
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
        }
    }

    async fn send(&mut self, frame: Inbound) -> Result<(), SimError> {
        self.seq += 1;
        let text = stream::encode_inbound(&self.stream_sid(), self.seq, &frame);
        self.ws.send(Message::Text(text.into())).await.map_err(|e| SimError::Stream(e.to_string()))
    }

    fn stream_sid(&self) -> String {
        format!("MZ{}", self.opts.call_sid)
    }

    async fn run(&mut self) -> Result<(), SimError> {
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
        let steps = std::mem::take(&mut self.opts.steps);
        // The greeting plays first, unless the caller talks over it.
        if !matches!(steps.first(), Some(Step::BargeIn { .. })) {
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

    async fn send_media(&mut self, samples: &[i16]) -> Result<(), SimError> {
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

    /// Sends silence frames and handles the server until its reply has started and ended.
    async fn wait_reply(&mut self) -> Result<(), SimError> {
        let gap = self.opts.reply_gap;
        let timeout = self.opts.reply_timeout;
        let began = Instant::now();
        self.wait_until(move |s| {
            let done = s.reply_first.is_some() && s.last_agent_audio.is_some_and(|_| Instant::now() >= s.playing_until + gap);
            done || began.elapsed() > timeout
        })
        .await
    }

    async fn wait_until(&mut self, done: impl Fn(&Sim) -> bool) -> Result<(), SimError> {
        let per_frame = (self.rate as f64 * self.opts.frame.as_secs_f64()) as usize;
        let silence = vec![0i16; per_frame];
        let mut next = Instant::now();
        let limit = Instant::now() + self.opts.reply_timeout + Duration::from_secs(30);
        while !done(self) && !self.closed && Instant::now() < limit {
            self.send_media(&silence).await?;
            next += self.opts.frame;
            self.pump_until(next).await?;
        }
        Ok(())
    }

    /// Handles server frames and due marks until `until`.
    async fn pump_until(&mut self, until: Instant) -> Result<(), SimError> {
        loop {
            self.echo_due_marks().await?;
            let now = Instant::now();
            if now >= until || self.closed {
                return Ok(());
            }
            let wait = self.marks.iter().map(|m| m.0).min().map_or(until, |m| m.min(until));
            match tokio::time::timeout(wait.saturating_duration_since(now), self.ws.next()).await {
                Err(_) => {}
                Ok(None) => self.closed = true,
                Ok(Some(Err(e))) => {
                    tracing::debug!(error = %e, "stream read failed");
                    self.closed = true;
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    self.report.closed_by_server = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    self.closed = true;
                }
                Ok(Some(Ok(Message::Text(t)))) => self.on_server(t.as_str()),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    fn on_server(&mut self, text: &str) {
        let Ok(frame) = stream::decode_outbound(text) else {
            self.report.bad_frames += 1;
            return;
        };
        let now = Instant::now();
        match frame {
            Outbound::Media { pcm: bytes } => {
                self.report.media_frames += 1;
                if !stream::chunk_size_ok(bytes.len()) {
                    self.report.bad_chunks += 1;
                }
                let samples = crate::voice::audio::bytes_to_i16(&bytes);
                let ms = samples.len() as f64 * 1000.0 / self.rate as f64;
                if self.mid_utterance && now > self.playing_until {
                    let gap = (now - self.playing_until).as_secs_f64() * 1000.0;
                    self.report.max_gap_ms = self.report.max_gap_ms.max(gap);
                    if gap > 20.0 {
                        self.report.late_chunks += 1;
                    }
                }
                self.mid_utterance = true;
                if self.opts.keep_audio {
                    self.report.agent_audio.extend(samples);
                }
                self.playing_until = self.playing_until.max(now) + Duration::from_secs_f64(ms / 1000.0);
                self.last_agent_audio = Some(now);
                if self.reply_first.is_none() {
                    self.reply_first = Some(now);
                }
                self.reply_audio_ms += ms;
            }
            Outbound::Mark { name } => {
                self.mid_utterance = false;
                self.marks.push((self.playing_until, name));
            }
            Outbound::Clear => {
                self.mid_utterance = false;
                self.report.clears += 1;
                self.clear_at.get_or_insert(now);
                self.playing_until = now;
                // Exotel drops queued audio; its pending marks are not echoed.
                self.marks.clear();
            }
        }
    }

    async fn echo_due_marks(&mut self) -> Result<(), SimError> {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.marks).into_iter().partition(|m| m.0 <= now);
        self.marks = later;
        for (_, name) in due {
            self.send(Inbound::Mark { name }).await?;
            self.report.marks_echoed += 1;
        }
        Ok(())
    }
}

/// What `voxgate call` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CliCall {
    pub url: String,
    pub say: Vec<String>,
    pub wav: Vec<PathBuf>,
    pub dtmf: Option<String>,
    pub barge_in: Option<String>,
    pub record: Option<PathBuf>,
    pub rate: Option<u32>,
    pub token: Option<String>,
}

/// The caller's steps for `voxgate call`: each spoken turn, then the keys, each waiting for
/// its reply, except the last one when the caller then talks over the agent's reply to it.
fn cli_steps(spoken: Vec<(String, Arc<[i16]>)>, dtmf: Option<String>, barge_in: Option<(String, Arc<[i16]>)>) -> Vec<Step> {
    let mut steps: Vec<Step> = spoken.into_iter().map(|(label, audio)| Step::Say { label, audio }).collect();
    steps.extend(dtmf.map(Step::Dtmf));
    if let Some((label, audio)) = barge_in {
        match steps.pop() {
            Some(Step::Say { label, audio }) => steps.push(Step::Ask { label, audio }),
            Some(Step::Dtmf(digits)) => steps.push(Step::Press(digits)),
            Some(other) => steps.push(other),
            None => {}
        }
        steps.push(Step::BargeIn { label, audio, after: Duration::from_millis(800) });
    }
    steps
}

/// `voxgate call`: places the call, prints the transcript with per-turn latencies.
pub async fn cli(settings: &crate::Settings, args: CliCall) -> Result<(), String> {
    let rate = args.rate.unwrap_or(8000);
    let engine = crate::voice::engine::VoiceEngine::new(
        crate::voice::models::ModelFiles::new(&settings.models_dir, &settings.stt_model),
        settings.voice_threads,
        settings.provider_timeout,
    );
    let voice = engine.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    let mut spoken: Vec<(String, Arc<[i16]>)> = Vec::new();
    for text in &args.say {
        spoken.push((format!("{text:?}"), voice.tts.synthesize(text, rate).await.map_err(|e| e.to_string())?.into()));
    }
    for path in &args.wav {
        let (samples, from) = crate::voice::audio::read_wav(path).map_err(|e| e.to_string())?;
        let at = crate::voice::audio::resample(&crate::voice::audio::i16_to_f32(&samples), from, rate).map_err(|e| e.to_string())?;
        spoken.push((path.display().to_string(), crate::voice::audio::f32_to_i16(&at).into()));
    }
    let barge_in = match &args.barge_in {
        Some(text) => {
            Some((format!("{text:?} (over the agent)"), voice.tts.synthesize(text, rate).await.map_err(|e| e.to_string())?.into()))
        }
        None => None,
    };
    let mut opts = CallOptions::new(args.url.clone(), cli_steps(spoken, args.dtmf.clone(), barge_in));
    opts.rate = args.rate;
    opts.record = args.record.clone();
    let report = run(opts).await.map_err(|e| e.to_string())?;
    let secs = |ms: f64| format!("{:.2} s", ms / 1000.0);
    println!("call {} ({} Hz)", report.call_sid, report.rate);
    match report.greeting_after_ms {
        Some(ms) => println!("  greeting   first audio {ms:.0} ms after start, {} of audio", secs(report.greeting_audio_ms)),
        None => println!("  greeting   none"),
    }
    for t in &report.turns {
        let reply = match t.reply_after_ms {
            Some(ms) => format!("agent replied after {} ({} of audio)", secs(ms), secs(t.reply_audio_ms)),
            None => "no reply".to_string(),
        };
        let clear = t.clear_after_ms.map(|c| format!("; agent cleared {c:.0} ms after the caller began")).unwrap_or_default();
        println!("  caller     {} ({})  ->  {reply}{clear}", t.label, secs(t.spoken_ms));
    }
    println!(
        "  stream     {} agent frames ({} off-size, {} late by > 20 ms; longest gap {:.0} ms), {} marks echoed, {} clears{}",
        report.media_frames,
        report.bad_chunks,
        report.late_chunks,
        report.max_gap_ms,
        report.marks_echoed,
        report.clears,
        report.closed_by_server.as_ref().map(|(c, r)| format!(", closed by the server ({c} {r})")).unwrap_or_default()
    );
    if let Some(path) = &args.record {
        println!("  recording  {}", path.display());
    }
    if let Some(token) = &args.token {
        print_transcript(&args.url, token, &report.call_sid).await?;
    } else {
        println!("  (pass --token or VOXGATE_TOKEN to print the stored transcript)");
    }
    Ok(())
}

/// Prints the stored turns of the call (REST: `GET /api/calls/{id}`).
async fn print_transcript(webhook: &str, token: &str, call_sid: &str) -> Result<(), String> {
    let url = url::Url::parse(webhook).map_err(|e| e.to_string())?;
    let api = format!("{}/api/calls/exotel_{call_sid}", url.origin().ascii_serialization());
    // Turns are written as they finish; give the last one a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = reqwest::Client::new().get(&api).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("GET {api}: HTTP {}", res.status()));
    }
    let detail: domain::call::CallDetail = res.json().await.map_err(|e| e.to_string())?;
    println!("transcript ({}, {})", detail.call.status, detail.call.reason.unwrap_or_default());
    for t in detail.turns {
        let ms = |v: Option<i64>| v.map(|v| format!("{v}")).unwrap_or_else(|| "-".into());
        let tm = &t.timings;
        let timing = if t.role == "agent" {
            format!(
                "  [stt {} · agent {} · tts {} · first byte {} ms]",
                ms(tm.stt_ms),
                ms(tm.agent_ms),
                ms(tm.tts_ms),
                ms(tm.first_byte_ms)
            )
        } else {
            String::new()
        };
        let cut = if t.interrupted { " (interrupted)" } else { "" };
        println!("  {:<6} {}{cut}{timing}", t.role, t.text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_talks_over_the_reply_to_its_last_words_or_keys() {
        let said = |l: &str| (l.to_string(), Arc::from(vec![1i16; 10]));
        let kinds = |steps: Vec<Step>| -> Vec<String> {
            steps
                .into_iter()
                .map(|s| match s {
                    Step::Say { label, .. } => format!("say {label}"),
                    Step::Ask { label, .. } => format!("ask {label}"),
                    Step::BargeIn { label, .. } => format!("over {label}"),
                    Step::Dtmf(d) => format!("keys {d}"),
                    Step::Press(d) => format!("press {d}"),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(kinds(cli_steps(vec![said("a"), said("b")], Some("1".into()), None)), ["say a", "say b", "keys 1"]);
        assert_eq!(kinds(cli_steps(vec![said("a"), said("b")], None, Some(said("bye")))), ["say a", "ask b", "over bye"]);
        // Keys and then a barge-in: every step is kept, and the keys' reply is talked over.
        assert_eq!(kinds(cli_steps(vec![said("a")], Some("12".into()), Some(said("bye")))), ["say a", "press 12", "over bye"]);
        assert_eq!(kinds(cli_steps(vec![], None, Some(said("hi")))), ["over hi"]);
    }

    #[test]
    fn the_stream_url_is_read_from_xml_and_json_answers() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://h/api/telephony/ws/n1?key=a&amp;sample-rate=8000"><Parameter name="x" value="y"/></Stream></Connect></Response>"#;
        assert_eq!(stream_url_of(xml).as_deref(), Some("ws://h/api/telephony/ws/n1?key=a&sample-rate=8000"));
        assert_eq!(stream_url_of(r#"{"url":"wss://h/ws"}"#).as_deref(), Some("wss://h/ws"));
        assert_eq!(stream_url_of("<Response><Hangup/></Response>"), None);
    }
}
