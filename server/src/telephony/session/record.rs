//! Recording a call: what the caller sent and what we sent back go to a task of their own that
//! lays them on one timeline ([`crate::voice::recorder`]) and appends them to a stereo WAV under
//! the data directory, about once a second (the header is brought up to date on every write, so
//! a killed server leaves a playable file). The session never waits on it: events it cannot
//! queue are dropped and counted.

use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::db;
use crate::state::AppState;
use crate::voice::frames::AgentFrame;
use crate::voice::recorder::Timeline;

/// Events queued for the recorder at most (about 10 s of 20 ms frames each way).
const QUEUE: usize = 1024;
/// How often heard audio is appended to the file.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Longest wait at the call's end for the file to be completed.
const FINISH_LIMIT: Duration = Duration::from_secs(5);

type Wav = hound::WavWriter<BufWriter<std::fs::File>>;

enum Event {
    Caller(Instant, Vec<i16>),
    Agent(Instant, Vec<i16>),
    Clear(Instant),
}

/// A call being recorded.
pub(super) struct Recording {
    tap: Tap,
    task: JoinHandle<()>,
}

/// Where the session hands what it hears and says.
#[derive(Clone)]
pub(crate) struct Tap {
    tx: mpsc::Sender<Event>,
    dropped: Arc<AtomicU64>,
}

impl Tap {
    fn send(&self, e: Event) {
        if self.tx.try_send(e).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The caller's audio, as received.
    pub(super) fn caller(&self, samples: &[i16]) {
        self.send(Event::Caller(Instant::now(), samples.to_vec()));
    }

    /// A frame we sent the caller.
    pub(super) fn agent(&self, frame: &AgentFrame) {
        match frame {
            AgentFrame::Audio(samples) => self.send(Event::Agent(Instant::now(), samples.clone())),
            AgentFrame::Clear => self.send(Event::Clear(Instant::now())),
            AgentFrame::Mark(_) => {}
        }
    }
}

impl Recording {
    /// Starts recording `call_key` at `rate` into a new file of `owner_id`; `None` (logged)
    /// when the file or its row cannot be made: the call then goes on unrecorded.
    pub(super) async fn start(state: &AppState, owner_id: &str, call_key: &str, rate: u32, retention_days: u32) -> Option<Self> {
        let file = format!("recordings/{owner_id}/{}.wav", db::new_key());
        let path = state.settings.data_dir.join(&file);
        let created = tokio::task::spawn_blocking({
            let path = path.clone();
            move || create(&path, rate)
        })
        .await;
        let wav = match created {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => {
                tracing::error!(call = %call_key, error = %e, "cannot create the call's recording; not recording");
                return None;
            }
            Err(e) => {
                tracing::error!(call = %call_key, error = %e, "cannot create the call's recording; not recording");
                return None;
            }
        };
        let expires =
            (retention_days > 0).then(|| crate::clock::rfc3339(state.clock.now() + chrono::Duration::days(i64::from(retention_days))));
        if let Err(e) = db::recordings::start(&state.db, owner_id, call_key, &file, rate, expires.as_deref()).await {
            tracing::error!(call = %call_key, error = %e, "cannot store the call's recording; not recording");
            drop(wav);
            let _ = tokio::fs::remove_file(&path).await;
            return None;
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(state.db.clone(), call_key.to_string(), path, wav, rate, rx, dropped.clone()));
        Some(Self { tap: Tap { tx, dropped }, task })
    }

    /// What the writer feeds (its own handle, taken once).
    pub(super) fn tap(&self) -> Tap {
        self.tap.clone()
    }

    /// The caller's audio, as received.
    pub(super) fn caller(&self, samples: &[i16]) {
        self.tap.caller(samples);
    }

    /// The call is over: the rest is written and the file completed (bounded wait).
    pub(super) async fn finish(self) {
        let Self { tap, task } = self;
        drop(tap);
        if tokio::time::timeout(FINISH_LIMIT, task).await.is_err() {
            tracing::warn!("the call's recording is still being written");
        }
    }
}

fn create(path: &PathBuf, rate: u32) -> Result<Wav, hound::Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let spec = hound::WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    hound::WavWriter::create(path, spec)
}

/// Appends `samples` on the blocking pool; `wav` is gone after a failed write.
async fn append(wav: &mut Option<Wav>, samples: Vec<i16>) {
    if samples.is_empty() {
        return;
    }
    let Some(mut w) = wav.take() else { return };
    let written = tokio::task::spawn_blocking(move || -> Result<Wav, hound::Error> {
        for s in samples {
            w.write_sample(s)?;
        }
        w.flush()?;
        Ok(w)
    })
    .await;
    match written {
        Ok(Ok(w)) => *wav = Some(w),
        Ok(Err(e)) => tracing::error!(error = %e, "cannot write the call's recording; it stops here"),
        Err(e) => tracing::error!(error = %e, "cannot write the call's recording; it stops here"),
    }
}

async fn run(db: db::Db, call_key: String, path: PathBuf, wav: Wav, rate: u32, mut rx: mpsc::Receiver<Event>, dropped: Arc<AtomicU64>) {
    let mut timeline = Timeline::new(rate, Instant::now());
    let mut wav = Some(wav);
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            e = rx.recv() => match e {
                Some(Event::Caller(at, s)) => timeline.caller(at, &s),
                Some(Event::Agent(at, s)) => timeline.agent(at, &s),
                Some(Event::Clear(at)) => timeline.clear(at),
                None => break,
            },
            _ = tick.tick() => append(&mut wav, timeline.take_heard(Instant::now())).await,
        }
    }
    append(&mut wav, timeline.take_rest()).await;
    let finalized = match wav {
        Some(w) => {
            tokio::task::spawn_blocking(move || w.finalize()).await.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string()))
        }
        None => Ok(()),
    };
    if let Err(e) = finalized {
        tracing::error!(call = %call_key, error = %e, "cannot complete the call's recording");
    }
    let bytes = tokio::fs::metadata(&path).await.map(|m| m.len() as i64).unwrap_or(0);
    let ms = (timeline.position() * 1000 / u64::from(rate.max(1))) as i64;
    let lost = dropped.load(Ordering::Relaxed) + timeline.dropped;
    if lost > 0 {
        tracing::warn!(call = %call_key, lost, "recording events dropped: the recorder fell behind");
    }
    if let Err(e) = db::recordings::finish(&db, &call_key, ms, bytes).await {
        tracing::error!(call = %call_key, error = %e, "cannot store the recording's length");
    }
}
