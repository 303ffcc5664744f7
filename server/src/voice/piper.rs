//! Offline text-to-speech: a Piper voice (VITS ONNX) run through onnxruntime, with phonemes
//! from the `espeak-ng` command; and eSpeak NG itself for languages without a Piper voice
//! (Hindi). eSpeak NG is GPL: it runs as a separate process and is never linked.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::VoiceError;
use super::audio;
use super::models::{self, ModelFiles};

pub const DEFAULT_VOICE: &str = "en_US-joe-medium";

#[derive(Debug, Deserialize)]
struct VoiceConfig {
    audio: AudioConfig,
    espeak: EspeakConfig,
    inference: Inference,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}
#[derive(Debug, Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}
#[derive(Debug, Deserialize)]
struct EspeakConfig {
    voice: String,
}
#[derive(Debug, Deserialize)]
struct Inference {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

/// A loaded Piper voice.
pub struct PiperVoice {
    session: Mutex<ort::session::Session>,
    config: VoiceConfig,
    ids: HashMap<char, Vec<i64>>,
}

impl PiperVoice {
    pub fn load(files: &ModelFiles, voice: &str, threads: usize) -> Result<Arc<Self>, VoiceError> {
        if voice.is_empty() || !voice.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(VoiceError::Config(format!("voice {voice:?} is not a Piper voice name")));
        }
        let model = files.piper_voice(voice);
        let json = model.with_extension("onnx.json");
        let text =
            std::fs::read_to_string(ModelFiles::require(&json)?).map_err(|e| VoiceError::Model(format!("{}: {e}", json.display())))?;
        let config: VoiceConfig = serde_json::from_str(&text).map_err(|e| VoiceError::Model(format!("{}: {e}", json.display())))?;
        let ids = config.phoneme_id_map.iter().filter_map(|(k, v)| {
            let mut cs = k.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Some((c, v.clone())),
                _ => None,
            }
        });
        let ids = ids.collect();
        let session = models::onnx_session(files, &model, threads)?;
        Ok(Arc::new(Self { session: Mutex::new(session), config, ids }))
    }

    /// The voice's native rate.
    pub fn rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// Phoneme ids of IPA text: BOS, then each phoneme followed by the pad, then EOS.
    fn phoneme_ids(&self, ipa: &str) -> Vec<i64> {
        let get = |c: char| self.ids.get(&c).cloned().unwrap_or_default();
        let mut out = get('^');
        out.extend(get('_'));
        for c in ipa.chars() {
            if let Some(id) = self.ids.get(&c) {
                out.extend(id);
                out.extend(get('_'));
            }
        }
        out.extend(get('$'));
        out
    }

    /// Synthesizes one sentence at the voice's rate (blocking; call from a blocking thread).
    /// `sampled`: the voice's own noise (natural, different each time); without it the same
    /// text always gives the same audio (tests).
    pub fn synthesize_ipa(&self, ipa: &str, sampled: bool) -> Result<Vec<f32>, VoiceError> {
        use ort::value::Tensor;
        let ids = self.phoneme_ids(ipa);
        if ids.len() <= 3 {
            return Ok(Vec::new());
        }
        let err = |e: ort::Error| VoiceError::Tts(format!("piper: {e}"));
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids)).map_err(err)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(err)?;
        let inf = &self.config.inference;
        let scales = Tensor::from_array((
            [3usize],
            if sampled { vec![inf.noise_scale, inf.length_scale, inf.noise_w] } else { vec![0.0, inf.length_scale, 0.0] },
        ))
        .map_err(err)?;
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = session.run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales]).map_err(err)?;
        let (_, samples) = out[0].try_extract_tensor::<f32>().map_err(err)?;
        Ok(samples.to_vec())
    }

    pub fn espeak_voice(&self) -> &str {
        &self.config.espeak.voice
    }
}

/// Voices loaded by this process, by file (each loaded once, on first use).
pub fn shared(files: &ModelFiles, voice: &str, threads: usize) -> Result<Arc<PiperVoice>, VoiceError> {
    static VOICES: OnceLock<Mutex<HashMap<std::path::PathBuf, Arc<PiperVoice>>>> = OnceLock::new();
    let path = files.piper_voice(voice);
    let mut voices = VOICES.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(v) = voices.get(&path) {
        return Ok(v.clone());
    }
    let v = PiperVoice::load(files, voice, threads)?;
    voices.insert(path, v.clone());
    Ok(v)
}

/// IPA phonemes of one sentence from `espeak-ng --ipa`, clauses joined with commas and the
/// sentence's own end mark kept (the command drops punctuation).
pub async fn phonemize(text: &str, espeak_voice: &str) -> Result<String, VoiceError> {
    let out = run_espeak(&["-q", "--ipa", "-v", espeak_voice, "--stdin"], text).await?;
    let clauses: Vec<&str> = std::str::from_utf8(&out).unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let end = text.trim_end().chars().last().filter(|c| matches!(c, '.' | '?' | '!')).unwrap_or('.');
    Ok(format!("{}{end}", clauses.join(", ")))
}

/// Speech from eSpeak NG itself, at its native rate (22,050 Hz).
pub async fn espeak_speech(text: &str, language: &str) -> Result<(Vec<i16>, u32), VoiceError> {
    let voice = match language {
        "hi" => "hi",
        _ => "en-us",
    };
    let mut wav = run_espeak(&["-v", voice, "--stdout", "--stdin"], text).await?;
    // Written to a pipe, the header cannot know the length: set the RIFF and data sizes.
    if wav.len() >= 44 && &wav[36..40] == b"data" {
        let len = wav.len() as u32;
        wav[4..8].copy_from_slice(&(len - 8).to_le_bytes());
        wav[40..44].copy_from_slice(&(len - 44).to_le_bytes());
    }
    audio::read_wav_bytes(&wav)
}

async fn run_espeak(args: &[&str], text: &str) -> Result<Vec<u8>, VoiceError> {
    let mut child = tokio::process::Command::new("espeak-ng")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| VoiceError::MissingModel(format!("espeak-ng command ({e}); install the Debian package espeak-ng")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).await.map_err(|e| VoiceError::Tts(format!("espeak-ng: {e}")))?;
    }
    let out = child.wait_with_output().await.map_err(|e| VoiceError::Tts(format!("espeak-ng: {e}")))?;
    if !out.status.success() {
        return Err(VoiceError::Tts(format!("espeak-ng exited with {}", out.status)));
    }
    Ok(out.stdout)
}
