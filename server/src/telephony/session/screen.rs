//! Screening an outbound call whose provider cannot tell a person from an answering machine
//! (Exotel): the callee's first seconds go to the detector (crate::voice::machine) before the
//! conversation starts. A person (or silence, or a key pressed) gets the conversation as usual;
//! a machine gets the agent's policy: hang up at once, or wait for the beep and leave the
//! voicemail message, then hang up. The outcome `machine` is stored on the call.

use std::sync::Arc;
use std::time::Duration;

use domain::outbound::CallOutcome;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::telephony::dial::Machine;
use crate::voice::conversation::{self, TurnStore};
use crate::voice::engine::{Pipeline, VoiceEngine};
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, Queued};
use crate::voice::machine::{MachineDetector, Verdict};
use crate::voice::stats::Summary;

/// Longest wait for a verdict; undecided by then, the callee is taken for a person.
pub const VERDICT_LIMIT: Duration = Duration::from_secs(6);
/// Longest wait for a machine's beep before the message is left anyway.
pub const BEEP_LIMIT: Duration = Duration::from_secs(30);

/// What a screened call does with a machine, and the message it leaves.
pub struct Screening {
    pub policy: Machine,
    /// The voicemail message (variables filled in).
    pub message: String,
}

/// Screens the call, then runs its conversation (or hangs up on a machine).
pub async fn run(
    engine: Arc<VoiceEngine>,
    mut pipeline: Pipeline,
    audio: CallAudio,
    store: Option<TurnStore>,
    mut inbound: mpsc::Receiver<Queued>,
    out: mpsc::Sender<AgentFrame>,
    screening: Screening,
) -> Summary {
    let mut detector = MachineDetector::new(audio.rate);
    let started = Instant::now();
    let verdict = loop {
        let limit = if detector.push(&[]) == Verdict::Machine { BEEP_LIMIT } else { VERDICT_LIMIT };
        let Ok(next) = tokio::time::timeout_at(started + limit, inbound.recv()).await else {
            // Out of time: a machine still talking gets its message now; anyone else is a person.
            break if detector.push(&[]) == Verdict::Machine { Verdict::Beep } else { Verdict::Silent };
        };
        let Some(q) = next else { return Summary::default() };
        match q.event {
            CallerEvent::Audio(samples) => match detector.push(&samples) {
                Verdict::Listening => {}
                Verdict::Machine if screening.policy == Machine::LeaveMessage => {}
                v => break v,
            },
            // A key pressed is a person.
            CallerEvent::Dtmf(_) => break Verdict::Human,
            CallerEvent::Played(_) => {}
            CallerEvent::Closing => return Summary::default(),
        }
    };
    tracing::info!(verdict = ?verdict, after_ms = detector.elapsed_ms(), "outbound call screened");
    match verdict {
        Verdict::Machine | Verdict::Beep => {
            if let Some(s) = &store
                && let Err(e) = crate::db::outbound::set_outcome(&s.db, &s.call_key, CallOutcome::Machine).await
            {
                tracing::warn!(call = %s.call_key, error = %e, "cannot store the machine outcome");
            }
            if verdict == Verdict::Machine {
                return Summary { agent_hung_up: true, ..Summary::default() };
            }
            pipeline.greeting = screening.message;
            pipeline.hang_up_after_greeting = true;
            conversation::run(engine, pipeline, audio, store, inbound, out).await
        }
        _ => conversation::run(engine, pipeline, audio, store, inbound, out).await,
    }
}
