//! Stage 2: the Silero VAD model (ONNX), at 8 or 16 kHz.

use std::sync::{Arc, Mutex};

use super::super::VoiceError;
use super::super::models::{self, ModelFiles};

/// The Silero VAD model, shared by all calls (each call keeps its own recurrent state). A
/// run takes about half a millisecond; a few sessions (one per core) let confirmations of
/// different calls run at once instead of queueing on one lock.
pub struct SileroModel {
    sessions: Vec<Mutex<ort::session::Session>>,
    next: std::sync::atomic::AtomicUsize,
}

/// Values of the recurrent state (2x1x128).
const STATE: usize = 256;

impl SileroModel {
    pub fn load(files: &ModelFiles) -> Result<Arc<Self>, VoiceError> {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
        let sessions = (0..n).map(|_| models::onnx_session(files, &files.silero(), 1).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(Arc::new(Self { sessions, next: Default::default() }))
    }

    /// A free session if there is one, else the next in turn (waiting for it).
    fn session(&self) -> std::sync::MutexGuard<'_, ort::session::Session> {
        for s in &self.sessions {
            if let Ok(g) = s.try_lock() {
                return g;
            }
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.sessions.len();
        self.sessions[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Speech probability of one chunk at `rate` Hz; updates `state`.
    fn probability(&self, input: &[f32], state: &mut [f32], rate: u32) -> Result<f32, VoiceError> {
        use ort::value::Tensor;
        let err = |e: ort::Error| VoiceError::Model(format!("silero: {e}"));
        let x = Tensor::from_array(([1usize, input.len()], input.to_vec())).map_err(err)?;
        let s = Tensor::from_array(([2usize, 1, 128], state.to_vec())).map_err(err)?;
        let sr = Tensor::from_array(([1usize], vec![i64::from(rate)])).map_err(err)?;
        let mut session = self.session();
        let out = session.run(ort::inputs!["input" => x, "state" => s, "sr" => sr]).map_err(err)?;
        let (_, p) = out["output"].try_extract_tensor::<f32>().map_err(err)?;
        let (_, next) = out["stateN"].try_extract_tensor::<f32>().map_err(err)?;
        if next.len() != state.len() {
            return Err(VoiceError::Model(format!("silero: state of {} values, expected {}", next.len(), state.len())));
        }
        state.copy_from_slice(next);
        Ok(p.first().copied().unwrap_or(0.0))
    }
}

/// One call's Silero stream. Each chunk is 32 ms of new samples (512 at 16 kHz, 256 at 8 kHz)
/// after the previous chunk's last 4 ms as context (64 or 32 samples), as the model takes them.
pub(super) struct SileroStream {
    model: Arc<SileroModel>,
    rate: u32,
    chunk: usize,
    context: usize,
    state: Vec<f32>,
    window: Vec<f32>,
}

impl SileroStream {
    /// `rate`: 8000 or 16000.
    pub(super) fn new(model: Arc<SileroModel>, rate: u32) -> Self {
        let (chunk, context) = if rate == 8000 { (256, 32) } else { (512, 64) };
        Self { model, rate, chunk, context, state: vec![0.0; STATE], window: vec![0.0; context] }
    }

    pub(super) fn reset(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0.0);
        self.window.truncate(0);
        self.window.resize(self.context, 0.0);
    }

    /// Adds a frame; returns the probability of the last chunk completed by it.
    pub(super) fn push(&mut self, frame: &[i16]) -> Result<Option<f32>, VoiceError> {
        self.window.extend(frame.iter().map(|&s| s as f32 / 32768.0));
        let mut last = None;
        while self.window.len() >= self.context + self.chunk {
            last = Some(self.model.probability(&self.window[..self.context + self.chunk], &mut self.state, self.rate)?);
            self.window.drain(..self.chunk);
        }
        Ok(last)
    }
}
