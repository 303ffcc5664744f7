//! Offline speech-to-text: Whisper (CTranslate2 format) through ct2rs's low-level API.
//!
//! The high-level `ct2rs::Whisper` always prompts with `<|en|><|transcribe|>`, which makes
//! English-only (`.en`) models answer "." for some utterances; the low-level API lets the
//! prompt match the model (shared/OFFLINE_VOICE.md). Features are Whisper's log-mel
//! spectrogram, computed here with realfft; tokens are decoded from the model's byte-level
//! BPE vocabulary, so no tokenizer crate (and its C dependencies) is needed.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use realfft::RealFftPlanner;

use super::VoiceError;
use super::audio::MODEL_RATE;
use super::models::ModelFiles;

const N_FFT: usize = 400;
const HOP: usize = 160;
const N_MELS: usize = 80;
/// Whisper always reads a 30 s window.
const N_SAMPLES: usize = 30 * MODEL_RATE as usize;
const N_FRAMES: usize = N_SAMPLES / HOP;

/// A loaded Whisper model.
pub struct WhisperModel {
    model: ct2rs::sys::Whisper,
    multilingual: bool,
    filters: Vec<f32>,
}

impl WhisperModel {
    /// Loads `models/whisper-<size>/` with `threads` CPU threads.
    pub fn load(files: &ModelFiles, threads: usize) -> Result<Arc<Self>, VoiceError> {
        let dir = files.whisper_dir();
        for f in ["model.bin", "config.json", "vocabulary.txt"] {
            ModelFiles::require(&dir.join(f))?;
        }
        let config =
            ct2rs::Config { compute_type: ct2rs::ComputeType::INT8, num_threads_per_replica: threads.max(1), ..Default::default() };
        let model = ct2rs::sys::Whisper::new(&dir, config).map_err(|e| VoiceError::Model(format!("{}: {e}", dir.display())))?;
        let multilingual = model.is_multilingual();
        Ok(Arc::new(Self { model, multilingual, filters: mel_filters() }))
    }

    /// Transcribes 16 kHz mono audio (at most 30 s is read). Blocking: call from a blocking thread.
    pub fn transcribe(&self, audio: &[f32]) -> Result<String, VoiceError> {
        let mut mel = log_mel(audio, &self.filters);
        let features = ct2rs::sys::StorageView::new(&[1, N_MELS, N_FRAMES], &mut mel, Default::default())
            .map_err(|e| VoiceError::Stt(e.to_string()))?;
        let prompt: Vec<&str> = if self.multilingual {
            vec!["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
        } else {
            vec!["<|startoftranscript|>", "<|notimestamps|>"]
        };
        let options = ct2rs::sys::WhisperOptions { beam_size: 1, max_length: 224, return_no_speech_prob: true, ..Default::default() };
        let result = self.model.generate(&features, &[prompt], &options).map_err(|e| VoiceError::Stt(e.to_string()))?;
        let Some(first) = result.first() else { return Ok(String::new()) };
        if first.no_speech_prob > 0.8 {
            return Ok(String::new());
        }
        Ok(first.sequences.first().map(|t| decode_tokens(t)).unwrap_or_default())
    }
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

/// Whisper's 80-bin log-mel spectrogram of a 30 s window, row-major [mel][frame]. Frames
/// past the audio are zero padding, so their value is the floor; only the audio's frames
/// (plus one window) are transformed, and each filter only reads its non-zero bins.
fn log_mel(audio: &[f32], filters: &[f32]) -> Vec<f32> {
    let mut padded = vec![0.0f32; N_SAMPLES + N_FFT];
    let n = audio.len().min(N_SAMPLES);
    // Centre the frames: reflect N_FFT/2 samples at the start (the end is zero padding).
    let half = N_FFT / 2;
    padded[half..half + n].copy_from_slice(&audio[..n]);
    for i in 0..half.min(n.saturating_sub(1)) {
        padded[half - 1 - i] = audio[i + 1];
    }
    let window: Vec<f32> = (0..N_FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N_FFT as f32).cos()).collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let bins = N_FFT / 2 + 1;
    let ranges: Vec<(usize, usize)> = (0..N_MELS)
        .map(|m| {
            let row = &filters[m * bins..(m + 1) * bins];
            let first = row.iter().position(|w| *w > 0.0).unwrap_or(0);
            let last = row.iter().rposition(|w| *w > 0.0).map_or(0, |l| l + 1);
            (first, last.max(first))
        })
        .collect();
    let floor = 1e-10f32.log10();
    let mut mel = vec![floor; N_MELS * N_FRAMES];
    let mut power = vec![0.0f32; bins];
    let audio_frames = (n / HOP + N_FFT / HOP + 1).min(N_FRAMES);
    for frame in 0..audio_frames {
        let start = frame * HOP;
        for (i, x) in input.iter_mut().enumerate() {
            *x = padded[start + i] * window[i];
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            continue;
        }
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        for (m, &(a, b)) in ranges.iter().enumerate() {
            let row = &filters[m * bins + a..m * bins + b];
            let e: f32 = row.iter().zip(&power[a..b]).map(|(w, p)| w * p).sum();
            mel[m * N_FRAMES + frame] = e.max(1e-10).log10();
        }
    }
    let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for v in &mut mel {
        *v = ((*v).max(max - 8.0) + 4.0) / 4.0;
    }
    mel
}

fn hz_to_mel(f: f64) -> f64 {
    let sp = 200.0 / 3.0;
    let log_step = 6.4f64.ln() / 27.0;
    if f >= 1000.0 { 15.0 + (f / 1000.0).ln() / log_step } else { f / sp }
}

fn mel_to_hz(m: f64) -> f64 {
    let sp = 200.0 / 3.0;
    let log_step = 6.4f64.ln() / 27.0;
    if m >= 15.0 { 1000.0 * (log_step * (m - 15.0)).exp() } else { sp * m }
}

/// Slaney-style triangular mel filters (librosa's defaults, as Whisper uses), [mel][bin].
fn mel_filters() -> Vec<f32> {
    let bins = N_FFT / 2 + 1;
    let sr = MODEL_RATE as f64;
    let top = hz_to_mel(sr / 2.0);
    let points: Vec<f64> = (0..N_MELS + 2).map(|i| mel_to_hz(top * i as f64 / (N_MELS + 1) as f64)).collect();
    let mut out = vec![0.0f32; N_MELS * bins];
    for m in 0..N_MELS {
        let (lo, mid, hi) = (points[m], points[m + 1], points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for k in 0..bins {
            let f = k as f64 * sr / N_FFT as f64;
            let w = ((f - lo) / (mid - lo)).min((hi - f) / (hi - mid)).max(0.0);
            out[m * bins + k] = (w * norm) as f32;
        }
    }
    out
}

/// Decodes byte-level BPE token strings (GPT-2's byte-to-unicode mapping) into text,
/// skipping special tokens such as `<|endoftext|>`.
fn decode_tokens(tokens: &[String]) -> String {
    let table = unicode_to_byte();
    let mut bytes = Vec::new();
    for t in tokens.iter().filter(|t| !(t.starts_with("<|") && t.ends_with("|>"))) {
        for c in t.chars() {
            match table.get(&c) {
                Some(b) => bytes.push(*b),
                None => bytes.extend_from_slice(c.to_string().as_bytes()),
            }
        }
    }
    String::from_utf8_lossy(&bytes).trim().to_string()
}

fn unicode_to_byte() -> &'static std::collections::HashMap<char, u8> {
    static TABLE: OnceLock<std::collections::HashMap<char, u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        let mut extra = 0;
        (0u32..=255)
            .map(|b| {
                let c = if printable(b) {
                    char::from_u32(b).unwrap_or('?')
                } else {
                    extra += 1;
                    char::from_u32(255 + extra).unwrap_or('?')
                };
                (c, b as u8)
            })
            .collect()
    })
}

/// Whisper's configured model directory exists (for a clear error before a call starts).
pub fn present(dir: &Path) -> bool {
    dir.join("model.bin").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_text() {
        let tokens: Vec<String> =
            ["<|startoftranscript|>", "ĠOur", "Ġopening", "Ġhours", "?", "<|endoftext|>"].iter().map(|s| s.to_string()).collect();
        assert_eq!(decode_tokens(&tokens), "Our opening hours?");
        // Multi-byte UTF-8 split over tokens: "é" is bytes C3 A9 -> "Ã" "©".
        let tokens: Vec<String> = ["ĠcafÃ", "©"].iter().map(|s| s.to_string()).collect();
        assert_eq!(decode_tokens(&tokens), "café");
    }

    #[test]
    fn mel_filters_cover_the_band_like_librosa() {
        let f = mel_filters();
        let bins = N_FFT / 2 + 1;
        // Every filter has weight; the lowest starts at 0 Hz and the top one reaches near 8 kHz.
        for m in 0..N_MELS {
            assert!(f[m * bins..(m + 1) * bins].iter().any(|w| *w > 0.0), "filter {m} is empty");
        }
        assert!(f[(N_MELS - 1) * bins + bins - 2] > 0.0);
        // Slaney normalisation: each triangle has unit area over Hz (bins are 40 Hz apart);
        // the wide upper filters show it without the sampling error of narrow ones.
        for m in 40..N_MELS - 1 {
            let area: f32 = f[m * bins..(m + 1) * bins].iter().sum::<f32>() * 40.0;
            assert!((area - 1.0).abs() < 0.1, "filter {m} has area {area}");
        }
    }

    #[test]
    fn log_mel_is_normalised_like_whisper() {
        let tone: Vec<f32> = (0..16000).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin() * 0.3).collect();
        let mel = log_mel(&tone, &mel_filters());
        let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = mel.iter().copied().fold(f32::INFINITY, f32::min);
        // (x + 4) / 4 with x clamped to 8 below the max: the range is exactly 2.
        assert!((max - min - 2.0).abs() < 1e-4, "{min}..{max}");
        // Frames after the audio are at the floor.
        assert_eq!(mel[N_FRAMES - 1], min);
    }
}
