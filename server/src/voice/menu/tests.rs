//! The menu's turn-taking over channels, on a paused clock (time only moves when every task
//! waits), with a stand-in voice: one second of audio per prompt.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::*;
use crate::net::guard::{CONNECT_TIMEOUT, GuardedClient};
use crate::voice::frames::ChunkRules;
use crate::voice::models::ModelFiles;
use crate::voice::{TextToSpeech, VoiceError};

const RATE: u32 = 8000;

/// A second of a constant, whatever the text.
struct Second;

#[async_trait]
impl TextToSpeech for Second {
    async fn synthesize(&self, _text: &str, rate: u32) -> Result<Vec<i16>, VoiceError> {
        Ok(vec![1000; rate as usize])
    }
}

struct Menu {
    caller: mpsc::Sender<Queued>,
    out: mpsc::Receiver<AgentFrame>,
    task: tokio::task::JoinHandle<MenuResult>,
}

fn menu(repeats: u32) -> Menu {
    let http = GuardedClient::new(Arc::default(), CONNECT_TIMEOUT).unwrap();
    let engine =
        VoiceEngine::new(ModelFiles::new(std::env::temp_dir().join("voxgate-no-models"), "tiny.en"), 1, Duration::from_secs(8), http);
    let mut pipeline = engine.pipeline(&Default::default(), None);
    pipeline.fallback_tts = Arc::new(Second);
    pipeline.fallback_voice_key = format!("second-{}", crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 8));
    let spec = MenuSpec { prompt: "Press 1 or 2.".into(), keys: vec!["1".into(), "2".into()], timeout: Duration::from_secs(3), repeats };
    let (caller, mut inbound) = mpsc::channel(16);
    let (out_tx, out) = mpsc::channel(64);
    let audio = CallAudio { rate: RATE, chunks: ChunkRules { multiple: 160, min: 1600, max: 51200 } };
    let task = tokio::spawn(async move { ask(&engine, &pipeline, audio, &mut None, &mut inbound, &out_tx, &spec).await });
    Menu { caller, out, task }
}

impl Menu {
    async fn press(&self, key: &str) {
        self.caller.send(Queued { event: CallerEvent::Dtmf(key.into()), budget: None }).await.unwrap();
    }

    /// The samples sent until the next mark (one whole prompt).
    async fn prompt(&mut self) -> usize {
        let mut samples = 0;
        while let Some(f) = self.out.recv().await {
            match f {
                AgentFrame::Audio(a) => samples += a.len(),
                AgentFrame::Mark(_) => return samples,
                AgentFrame::Clear => {}
            }
        }
        samples
    }
}

#[tokio::test(start_paused = true)]
async fn a_key_during_the_prompt_stops_it_and_is_the_choice() {
    let mut m = menu(2);
    // The first chunk is out: the caller is hearing the prompt.
    assert!(matches!(m.out.recv().await, Some(AgentFrame::Audio(_))));
    m.press("2").await;
    assert_eq!(m.task.await.unwrap(), MenuResult::Key("2".into()));
    let mut rest = Vec::new();
    while let Ok(f) = m.out.try_recv() {
        rest.push(f);
    }
    assert_eq!(rest.last(), Some(&AgentFrame::Clear), "the prompt's audio is cleared: {rest:?}");
    assert!(!rest.iter().any(|f| matches!(f, AgentFrame::Mark(_))), "the prompt never finished");
}

#[tokio::test(start_paused = true)]
async fn a_wrong_key_or_none_repeats_the_prompt_until_the_repeats_run_out() {
    let mut m = menu(1);
    assert_eq!(m.prompt().await, RATE as usize, "the whole prompt");
    m.press("9").await;
    assert_eq!(m.prompt().await, RATE as usize, "said again after a key with no option");
    // Then nothing: after the timeout the repeats are spent.
    assert_eq!(m.task.await.unwrap(), MenuResult::NoChoice);
    assert!(m.out.recv().await.is_none(), "no third prompt");
}

#[tokio::test(start_paused = true)]
async fn the_wait_for_a_key_starts_once_the_prompt_is_heard() {
    let mut m = menu(0);
    let started = Instant::now();
    m.prompt().await;
    assert_eq!(m.task.await.unwrap(), MenuResult::NoChoice);
    // One second of prompt, then the three-second wait (and a chunk's lead, at most).
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(4) && waited < Duration::from_millis(4300), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_caller_who_leaves_ends_the_menu() {
    let mut m = menu(2);
    m.prompt().await;
    drop(m.caller);
    assert_eq!(m.task.await.unwrap(), MenuResult::Gone);
}
