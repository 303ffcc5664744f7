//! Offline speech-to-text: Whisper (CTranslate2 format) through ct2rs's low-level API.
//!
//! The high-level `ct2rs::Whisper` always prompts with `<|en|><|transcribe|>`, which makes
//! English-only (`.en`) models answer "." for some utterances; the low-level API lets the
//! prompt match the model (shared/OFFLINE_VOICE.md). Features are Whisper's log-mel
//! spectrogram ([`mel`]); tokens are decoded from, and prompts encoded with, the model's own
//! byte-level BPE ([`tokens`]).
//!
//! Speed: Whisper's encoder reads a 30 s window whatever the audio's length, and on a phone
//! turn of 1-3 s almost all of that work is padding. A turn of up to 9 s is read in a 10 s
//! window instead (CTranslate2 takes any window up to 30 s): the same words on the 20 bench
//! utterances at about a quarter of the time. Shorter windows made the decoder repeat
//! itself; the decoder gets room for only a turn's worth of tokens, and a transcript that
//! repeats keeps its first saying.

mod mel;
mod tokens;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::VoiceError;
use super::audio::MODEL_RATE;
use super::models::ModelFiles;
use mel::{HOP, N_FRAMES, N_MELS};
pub use tokens::decode_tokens;

/// The short window: 10 s.
const SHORT_FRAMES: usize = 1000;
/// Audio up to this many frames (9 s) is read in the short window (1 s of it stays padding).
const SHORT_MAX_AUDIO: usize = SHORT_FRAMES - 100;

/// How one utterance is decoded.
#[derive(Debug, Clone)]
pub struct Decoding {
    /// 1 is greedy; more keeps that many hypotheses (slower).
    pub beam_size: usize,
    /// Read short turns in the 10 s window (else always 30 s).
    pub short_window: bool,
    /// Above this no-speech probability the transcript is dropped (noise, breathing).
    pub no_speech: f32,
    /// Text given to Whisper as what came before (the agent's words: names, key words).
    pub prompt: String,
    /// Most tokens decoded (Whisper's own limit is 224).
    pub max_tokens: usize,
}

impl Default for Decoding {
    fn default() -> Self {
        Self { beam_size: 1, short_window: true, no_speech: 0.8, prompt: String::new(), max_tokens: 224 }
    }
}

/// What one run did (for `voxgate bench stt`).
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub text: String,
    /// Frames of the window read (1000 or 3000).
    pub window: usize,
    /// The decoder repeated itself and the repetition was cut.
    pub fell_back: bool,
}

/// A loaded Whisper model.
pub struct WhisperModel {
    model: ct2rs::sys::Whisper,
    multilingual: bool,
    filters: Vec<f32>,
    encoder: Option<tokens::Encoder>,
}

impl WhisperModel {
    /// Loads `models/whisper-<size>/` with `threads` CPU threads.
    pub fn load(files: &ModelFiles, threads: usize) -> Result<Arc<Self>, VoiceError> {
        Self::load_as(&files.whisper_dir(), threads, ct2rs::ComputeType::INT8)
    }

    /// Loads the model in `dir` computing in `compute` (benchmarks compare them).
    pub fn load_as(dir: &Path, threads: usize, compute: ct2rs::ComputeType) -> Result<Arc<Self>, VoiceError> {
        for f in ["model.bin", "config.json", "vocabulary.txt"] {
            ModelFiles::require(&dir.join(f))?;
        }
        let config = ct2rs::Config { compute_type: compute, num_threads_per_replica: threads.max(1), ..Default::default() };
        let model = ct2rs::sys::Whisper::new(dir, config).map_err(|e| VoiceError::Model(format!("{}: {e}", dir.display())))?;
        let multilingual = model.is_multilingual();
        // Without its tokenizer a model still transcribes; it only cannot take a prompt.
        let encoder = tokens::Encoder::load(&dir.join("tokenizer.json"))
            .map_err(|e| tracing::warn!(error = %e, "Whisper prompts are off: no tokenizer"))
            .ok();
        let me = Self { model, multilingual, filters: mel::mel_filters(), encoder };
        // The first run allocates the model's working memory: do it now, not on a caller's turn.
        me.run(&[0.0; MODEL_RATE as usize / 2], &Decoding::default())?;
        Ok(Arc::new(me))
    }

    /// Transcribes 16 kHz mono audio (at most 30 s is read). Blocking: call from a blocking thread.
    pub fn transcribe(&self, audio: &[f32], decoding: &Decoding) -> Result<String, VoiceError> {
        Ok(self.run(audio, decoding)?.text)
    }

    /// [`Self::transcribe`], saying which window was read.
    pub fn run(&self, audio: &[f32], decoding: &Decoding) -> Result<Run, VoiceError> {
        let audio_frames = audio.len() / HOP + 1;
        // A phone turn says at most a few words a second: the decoder gets room for about 8
        // tokens a second, so a decoder that lost its place stops within the turn's length.
        let seconds = audio.len() as f64 / f64::from(MODEL_RATE);
        let decoding = &Decoding { max_tokens: decoding.max_tokens.min(12 + (8.0 * seconds) as usize), ..decoding.clone() };
        let window = if decoding.short_window && audio_frames <= SHORT_MAX_AUDIO { SHORT_FRAMES } else { N_FRAMES };
        let text = self.decode(audio, window, decoding)?;
        // A transcript that repeats itself keeps its first saying (decoding again in the full
        // window took 1.3 s here and 5.7 s on a machine a third as fast, for the same words).
        match collapse_repeats(&text) {
            Some(once) => Ok(Run { text: once, window, fell_back: true }),
            None => Ok(Run { text, window, fell_back: false }),
        }
    }

    /// The model's tokens for `text` given as what came before (none without a tokenizer).
    pub fn prompt_tokens(&self, text: &str) -> Vec<String> {
        match &self.encoder {
            Some(enc) if !text.trim().is_empty() => enc.encode(&format!(" {}", text.trim())),
            _ => Vec::new(),
        }
    }

    fn decode(&self, audio: &[f32], frames: usize, decoding: &Decoding) -> Result<String, VoiceError> {
        let mut mel = mel::log_mel(audio, &self.filters, frames);
        let features =
            ct2rs::sys::StorageView::new(&[1, N_MELS, frames], &mut mel, Default::default()).map_err(|e| VoiceError::Stt(e.to_string()))?;
        let mut prompt: Vec<String> = Vec::new();
        let previous = self.prompt_tokens(&decoding.prompt);
        if !previous.is_empty() {
            prompt.push("<|startofprev|>".into());
            prompt.extend(previous);
        }
        prompt.push("<|startoftranscript|>".into());
        if self.multilingual {
            prompt.extend(["<|en|>".into(), "<|transcribe|>".into()]);
        }
        prompt.push("<|notimestamps|>".into());
        let prompt: Vec<&str> = prompt.iter().map(String::as_str).collect();
        let options = ct2rs::sys::WhisperOptions {
            beam_size: decoding.beam_size.max(1),
            // CTranslate2 counts the prompt in the length; Whisper's decoder holds 448 positions.
            max_length: (prompt.len() + decoding.max_tokens.clamp(1, 224)).min(448),
            return_no_speech_prob: true,
            ..Default::default()
        };
        let result = self.model.generate(&features, &[prompt], &options).map_err(|e| VoiceError::Stt(e.to_string()))?;
        let Some(first) = result.first() else { return Ok(String::new()) };
        if first.no_speech_prob > decoding.no_speech {
            return Ok(String::new());
        }
        Ok(first.sequences.first().map(|t| decode_tokens(t)).unwrap_or_default())
    }
}

/// A transcript that repeats itself (what a decoder that lost its place produces: a sentence
/// said twice in a row, or the same word four times running), cut before the repetition; None
/// when it does not repeat.
fn collapse_repeats(text: &str) -> Option<String> {
    let key = |s: &str| s.trim().trim_end_matches(['.', '?', '!', ',']).to_lowercase();
    let sentences: Vec<&str> = text.split_inclusive(['.', '?', '!']).collect();
    if let Some(i) = sentences.windows(2).position(|w| !key(w[0]).is_empty() && key(w[0]) == key(w[1])) {
        return Some(sentences[..=i].concat().trim().to_string());
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let bare = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    let i = words.windows(4).position(|w| !bare(w[0]).is_empty() && w.iter().all(|x| bare(x) == bare(w[0])))?;
    Some(words[..=i].join(" "))
}

/// The model loaded by this process and the directory it came from.
type Loaded = std::sync::Mutex<Option<(std::path::PathBuf, Arc<WhisperModel>)>>;

/// The models loaded by this process, by directory (loaded on first use).
pub fn shared(files: &ModelFiles, threads: usize) -> Result<Arc<WhisperModel>, VoiceError> {
    static MODEL: OnceLock<Loaded> = OnceLock::new();
    let slot = MODEL.get_or_init(Default::default);
    let mut slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = files.whisper_dir();
    if let Some((d, m)) = slot.as_ref()
        && d == &dir
    {
        return Ok(m.clone());
    }
    let m = WhisperModel::load(files, threads)?;
    *slot = Some((dir, m.clone()));
    Ok(m)
}

/// Whisper's configured model directory exists (for a clear error before a call starts).
pub fn present(dir: &Path) -> bool {
    dir.join("model.bin").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_that_loops_keeps_its_first_saying() {
        assert_eq!(collapse_repeats("What about Saturday? What about Saturday? What about").as_deref(), Some("What about Saturday?"));
        assert_eq!(collapse_repeats("yes yes yes yes yes").as_deref(), Some("yes"));
        assert_eq!(collapse_repeats("Can I pay by credit card card card card card").as_deref(), Some("Can I pay by credit card"));
        assert_eq!(collapse_repeats("Is Monday possible. Is Monday possible.").as_deref(), Some("Is Monday possible."));
        assert_eq!(collapse_repeats("My phone number is 555-123-4599."), None);
        assert_eq!(collapse_repeats("No, no. That is not it."), None);
        assert_eq!(collapse_repeats("Thank you. Goodbye."), None);
        assert_eq!(collapse_repeats(""), None);
    }
}
