//! Where the offline models live (the set-up command unpacks them from PyPI wheels into
//! `VOXGATE_MODELS_DIR`), and the onnxruntime environment Silero and Piper share.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::VoiceError;

/// The files of the offline voice, relative to the models directory.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub dir: PathBuf,
    /// Whisper model: `tiny.en` (default) or `base`.
    pub whisper: String,
}

impl ModelFiles {
    pub fn new(dir: impl Into<PathBuf>, whisper: impl Into<String>) -> Self {
        Self { dir: dir.into(), whisper: whisper.into() }
    }

    pub fn whisper_dir(&self) -> PathBuf {
        self.dir.join(format!("whisper-{}", self.whisper))
    }
    pub fn silero(&self) -> PathBuf {
        self.dir.join("silero_vad.onnx")
    }
    pub fn piper_voice(&self, voice: &str) -> PathBuf {
        self.dir.join("piper").join(format!("{voice}.onnx"))
    }
    pub fn onnxruntime(&self) -> PathBuf {
        self.dir.join("onnxruntime").join("libonnxruntime.so")
    }

    /// The file, or an error naming it and how to get it.
    pub fn require(path: &Path) -> Result<&Path, VoiceError> {
        if path.is_file() { Ok(path) } else { Err(VoiceError::MissingModel(path.display().to_string())) }
    }

    /// Every file the default offline voice needs that is not there.
    pub fn missing(&self) -> Vec<PathBuf> {
        let w = self.whisper_dir();
        [
            w.join("model.bin"),
            w.join("config.json"),
            w.join("vocabulary.txt"),
            self.silero(),
            self.piper_voice(super::piper::DEFAULT_VOICE),
            self.piper_voice(super::piper::DEFAULT_VOICE).with_extension("onnx.json"),
            self.onnxruntime(),
        ]
        .into_iter()
        .filter(|p| !p.is_file())
        .collect()
    }
}

static ORT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// The process's onnxruntime environment, loading the library from the models directory once.
pub fn onnx_environment(files: &ModelFiles) -> Result<&'static ort::environment::Environment, VoiceError> {
    let lib = files.onnxruntime();
    let env = ORT.get_or_init(|| {
        if !lib.is_file() {
            return Err(VoiceError::MissingModel(lib.display().to_string()).to_string());
        }
        ort::init_from(&lib)
            .map_err(|e| format!("cannot load {}: {e}", lib.display()))?
            .with_name("voxgate")
            .build()
            .map_err(|e| format!("onnxruntime: {e}"))
    });
    env.as_ref().map_err(|e| VoiceError::Model(e.clone()))
}

/// An ONNX session with `threads` intra-op threads.
pub fn onnx_session(files: &ModelFiles, model: &Path, threads: usize) -> Result<ort::session::Session, VoiceError> {
    let env = onnx_environment(files)?;
    ModelFiles::require(model)?;
    let err = |e: String| VoiceError::Model(format!("{}: {e}", model.display()));
    ort::session::Session::builder(env)
        .map_err(|e| err(e.to_string()))?
        .with_intra_threads(threads)
        .map_err(|e| err(e.to_string()))?
        .with_inter_threads(1)
        .map_err(|e| err(e.to_string()))?
        .commit_from_file(model)
        .map_err(|e| err(e.to_string()))
}
