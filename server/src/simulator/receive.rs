//! Waiting for the agent: handles what the server sends (audio, marks, `clear`, close)
//! while the caller keeps the stream's real-time pace.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use super::SimError;
use super::sim::Sim;
use crate::telephony::exotel::stream::{Inbound, Outbound};

impl Sim {
    /// Sends silence frames and handles the server until its reply has started and ended.
    pub(super) async fn wait_reply(&mut self) -> Result<(), SimError> {
        let gap = self.opts.reply_gap;
        let timeout = self.opts.reply_timeout;
        let began = Instant::now();
        self.wait_until(move |s| {
            let done = s.reply_first.is_some() && s.last_agent_audio.is_some_and(|_| Instant::now() >= s.playing_until + gap);
            done || began.elapsed() > timeout
        })
        .await
    }

    pub(super) async fn wait_until(&mut self, done: impl Fn(&Sim) -> bool) -> Result<(), SimError> {
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
    pub(super) async fn pump_until(&mut self, until: Instant) -> Result<(), SimError> {
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
                Ok(Some(Ok(m @ (Message::Text(_) | Message::Binary(_))))) => self.on_server(&m),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    fn on_server(&mut self, message: &Message) {
        let Some(frame) = super::wire::decode(&self.opts.provider, &self.answered, &self.stream_sid(), message) else {
            self.report.bad_frames += 1;
            return;
        };
        let now = Instant::now();
        match frame {
            Outbound::Media { pcm: bytes } => {
                self.report.media_frames += 1;
                if !super::wire::chunk_ok(&self.opts.provider, self.rate, bytes.len()) {
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
                if let Some(heard) = &self.opts.audio_heard {
                    heard.send_modify(|total| *total += ms);
                }
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
                // The provider drops queued audio; its pending marks are not echoed.
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
