//! Turn-taking: two-stage voice activity detection and end-of-speech detection.
//!
//! Stage 1 is webrtc-vad (GMM, no model) on every 20 ms frame: microseconds per frame, so it
//! runs on every call. Stage 2 is Silero (an ONNX model, ~12-16 ms CPU per second of audio)
//! and only runs where stage 1 hears a speech onset, to confirm it: noise that fools the
//! GMM (clicks, music, breathing) does not start a turn or interrupt the agent. Once a turn
//! is confirmed, stage 1 alone follows it until the agent's end-of-speech silence.

use std::collections::VecDeque;
use std::sync::Arc;

use super::VoiceError;
use super::audio::MODEL_RATE;

mod silero;
mod turn;
pub use silero::SileroModel;
use silero::SileroStream;
pub use turn::TurnAudio;

const FRAME_MS: u32 = 20;

/// The rate the detectors hear a call of `call_rate` Hz at: its own when both stages take it
/// (8 and 16 kHz: no resampler per call, and half the work at 8 kHz), else 16 kHz.
pub fn detector_rate(call_rate: u32) -> u32 {
    if call_rate == 8000 { 8000 } else { MODEL_RATE }
}

/// Stage 1: webrtc-vad at the detectors' rate.
struct WebRtc(webrtc_vad::Vad);

// SAFETY: the fvad instance behind the pointer is owned by this value alone and has no
// thread affinity; it is only ever used through `&mut self`, from one task at a time.
#[allow(unsafe_code)]
unsafe impl Send for WebRtc {}

impl WebRtc {
    fn new(rate: u32) -> Self {
        let rate = if rate == 8000 { webrtc_vad::SampleRate::Rate8kHz } else { webrtc_vad::SampleRate::Rate16kHz };
        Self(webrtc_vad::Vad::new_with_rate_and_mode(rate, webrtc_vad::VadMode::Aggressive))
    }
    fn is_speech(&mut self, frame: &[i16]) -> bool {
        self.0.is_voice_segment(frame).unwrap_or(false)
    }
}

/// Endpointing settings.
#[derive(Debug, Clone)]
pub struct VadSettings {
    /// Silence that ends a caller's turn.
    pub end_of_speech_ms: u32,
    /// Speech needed to start a turn (and to interrupt the agent).
    pub start_ms: u32,
    /// Turns with less speech than this are dropped as noise.
    pub min_speech_ms: u32,
    /// Audio kept from before the detected start.
    pub preroll_ms: u32,
    /// A turn is cut here even if the caller goes on.
    pub max_turn_ms: u32,
    /// Silero probability that confirms speech.
    pub threshold: f32,
    /// A pause this long inside a turn lets the reply start early (speculatively); it is
    /// kept if the silence reaches `end_of_speech_ms` or its transcript sounds finished
    /// ([`super::turn_end`]), dropped if the caller goes on.
    pub early_ms: u32,
    /// Whether a pause's transcript that sounds finished ends the turn before
    /// `end_of_speech_ms` (off: only the silence ends it).
    pub smart_end: bool,
    /// The agent's key words (normalised): a pause's transcript naming one sounds finished.
    pub end_words: Vec<String>,
}

impl Default for VadSettings {
    fn default() -> Self {
        Self {
            end_of_speech_ms: 700,
            start_ms: 60,
            min_speech_ms: 200,
            preroll_ms: 300,
            max_turn_ms: 15_000,
            threshold: 0.5,
            early_ms: 160,
            smart_end: true,
            end_words: Vec::new(),
        }
    }
}

/// What a frame changed.
#[derive(Debug, Clone, PartialEq)]
pub enum VadEvent {
    /// The caller started speaking (confirmed).
    SpeechStart,
    /// The caller paused for `early_ms`: the turn so far (at the call's rate), to start the
    /// reply early (shared with the endpointer's turn, not copied).
    Pause { audio: Arc<Vec<i16>> },
    /// The caller went on after a [`VadEvent::Pause`].
    Resume,
    /// The caller's turn ended; the turn's audio at the call's rate.
    SpeechEnd { audio: TurnAudio, speech_ms: u32 },
}

/// Counters for benchmarks and logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct VadStats {
    pub frames: u64,
    pub stage1_speech: u64,
    pub silero_chunks: u64,
    pub rejected_onsets: u64,
}

/// One call's voice activity detector and endpointer (20 ms frames at 8 or 16 kHz).
pub struct Endpointer {
    settings: VadSettings,
    webrtc: WebRtc,
    silero: Option<SileroStream>,
    /// Samples per 20 ms frame at the detectors' rate.
    frame_len: usize,
    /// The turn's lead-in at the call's rate.
    preroll: VecDeque<i16>,
    /// The last 80 ms at the detectors' rate, for Silero at an onset.
    recent: VecDeque<i16>,
    /// The current turn's audio, when the caller is speaking.
    turn: Option<TurnAudio>,
    /// Consecutive stage-1 speech frames before a turn is confirmed.
    onset_ms: u32,
    onset_confirmed: bool,
    silence_ms: u32,
    speech_ms: u32,
    paused: bool,
    pub stats: VadStats,
}

impl Endpointer {
    /// For a call at `call_rate` Hz; its detectors hear [`detector_rate`]. `silero` None uses
    /// stage 1 alone (tests of the state machine; a missing model is an error at the call
    /// level, not here).
    pub fn new(settings: VadSettings, silero: Option<Arc<SileroModel>>, call_rate: u32) -> Self {
        let rate = detector_rate(call_rate);
        let frame_len = rate as usize / 50;
        // Sized once: each holds its bound plus the frame added before it is trimmed.
        let preroll = (settings.preroll_ms / FRAME_MS + 1) as usize * (call_rate as usize / 50);
        Self {
            settings,
            webrtc: WebRtc::new(rate),
            silero: silero.map(|m| SileroStream::new(m, rate)),
            frame_len,
            preroll: VecDeque::with_capacity(preroll),
            recent: VecDeque::with_capacity(frame_len * 5),
            turn: None,
            onset_ms: 0,
            onset_confirmed: false,
            silence_ms: 0,
            speech_ms: 0,
            paused: false,
            stats: VadStats::default(),
        }
    }

    pub fn is_in_turn(&self) -> bool {
        self.turn.is_some()
    }

    /// Samples per frame that [`Self::push`] takes.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Feeds one 20 ms frame at the detectors' rate (`frame`, what they hear) and the same
    /// 20 ms at the call's rate (`raw`, what the turn keeps: the echo agent and the STT
    /// resampler start from the caller's own samples). At 8 and 16 kHz they are the same.
    pub fn push(&mut self, frame: &[i16], raw: &[i16]) -> Result<Option<VadEvent>, VoiceError> {
        self.stats.frames += 1;
        let raw_frame = raw.len().max(1);
        self.recent.extend(frame.iter().copied());
        while self.recent.len() > self.frame_len * 4 {
            self.recent.pop_front();
        }
        let voiced = self.webrtc.is_speech(frame);
        if voiced {
            self.stats.stage1_speech += 1;
        }
        if let Some(turn) = &mut self.turn {
            turn.extend(raw);
            if voiced {
                self.speech_ms += FRAME_MS;
                self.silence_ms = 0;
                if self.paused {
                    self.paused = false;
                    return Ok(Some(VadEvent::Resume));
                }
            } else {
                self.silence_ms += FRAME_MS;
            }
            let length_ms = (turn.len() / raw_frame) as u32 * FRAME_MS;
            if self.silence_ms >= self.settings.end_of_speech_ms || length_ms >= self.settings.max_turn_ms {
                let audio = self.turn.take().unwrap_or_default();
                let speech_ms = self.speech_ms;
                self.reset_onset();
                if speech_ms < self.settings.min_speech_ms {
                    return Ok(None);
                }
                self.paused = false;
                // Trailing silence is not speech.
                let keep = audio.len().saturating_sub((self.silence_ms.saturating_sub(200) / FRAME_MS) as usize * raw_frame);
                let mut audio = audio;
                audio.truncate(keep.max(raw_frame));
                return Ok(Some(VadEvent::SpeechEnd { audio, speech_ms }));
            }
            let early = self.settings.early_ms.min(self.settings.end_of_speech_ms.saturating_sub(FRAME_MS));
            if !self.paused && self.silence_ms == early.max(FRAME_MS) && self.speech_ms >= self.settings.min_speech_ms {
                self.paused = true;
                // The same cut as at the end of the turn: at most 200 ms of trailing silence.
                let audio = turn.share();
                let keep = audio.len().saturating_sub((self.silence_ms.saturating_sub(200) / FRAME_MS) as usize * raw_frame);
                let audio = if keep.max(raw_frame) < audio.len() { Arc::new(audio[..keep.max(raw_frame)].to_vec()) } else { audio };
                return Ok(Some(VadEvent::Pause { audio }));
            }
            return Ok(None);
        }

        // Not in a turn: keep the pre-roll and look for an onset.
        self.preroll.extend(raw.iter().copied());
        let max_preroll = (self.settings.preroll_ms / FRAME_MS) as usize * raw_frame;
        while self.preroll.len() > max_preroll {
            self.preroll.pop_front();
        }
        if !voiced {
            if self.onset_ms > 0 && !self.onset_confirmed {
                self.stats.rejected_onsets += 1;
            }
            self.reset_onset();
            return Ok(None);
        }
        self.onset_ms += FRAME_MS;
        if let Some(s) = &mut self.silero {
            if !self.onset_confirmed {
                // Stage 2 hears the onset's frames from the pre-roll start.
                if self.onset_ms == FRAME_MS {
                    s.reset();
                    let pre: Vec<i16> = self.recent.iter().copied().collect();
                    if let Some(p) = s.push(&pre)? {
                        self.stats.silero_chunks += 1;
                        self.onset_confirmed = p >= self.settings.threshold;
                    }
                } else if let Some(p) = s.push(frame)? {
                    self.stats.silero_chunks += 1;
                    self.onset_confirmed = p >= self.settings.threshold;
                }
            }
        } else {
            self.onset_confirmed = true;
        }
        if self.onset_confirmed && self.onset_ms >= self.settings.start_ms {
            self.turn = Some(TurnAudio::from(self.preroll.drain(..).collect::<Vec<_>>()));
            self.speech_ms = self.onset_ms;
            self.silence_ms = 0;
            return Ok(Some(VadEvent::SpeechStart));
        }
        Ok(None)
    }

    /// Ends the current turn now (its words sounded finished at a pause); returns the
    /// silence heard so far, or None when no turn was open. Later speech starts a new turn.
    pub fn end_turn(&mut self) -> Option<u32> {
        self.turn.take()?;
        let silence = self.silence_ms;
        self.reset_onset();
        self.paused = false;
        Some(silence)
    }

    fn reset_onset(&mut self) {
        self.onset_ms = 0;
        self.onset_confirmed = false;
        self.silence_ms = 0;
        self.speech_ms = 0;
    }
}

#[cfg(test)]
mod tests;
