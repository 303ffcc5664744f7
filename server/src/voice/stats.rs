//! Figures of conversations: one call's summary, and the totals of a process.

use super::speaker::Lateness;
use super::vad::VadStats;

/// How a conversation went (logs, the simulator's tests, benchmarks).
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub turns: i64,
    pub barge_ins: u32,
    pub agent_hung_up: bool,
    /// The peer stopped reading our audio.
    pub peer_stalled: bool,
    /// The transport asked the call to end ([`CallerEvent::Closing`](super::frames::CallerEvent)).
    pub wrapped_up: bool,
    pub lateness: Lateness,
    pub vad: VadStats,
    /// Per reply: speech end detected -> first byte out, minus provider time (ms).
    pub server_added_ms: Vec<f64>,
    /// Caller turns ended early because their words sounded finished ([`super::turn_end`]).
    pub ended_on_words: u32,
    /// The agent handed the caller to a person: a one-line summary of the call for them.
    pub transfer: Option<String>,
    /// Where that transfer goes when the conversation itself says (a route's person); else the
    /// agent's own destination.
    pub transfer_to: Option<String>,
}

/// Totals over finished conversations.
#[derive(Debug, Default, Clone)]
pub struct CallStats {
    pub calls: u64,
    pub barge_ins: u64,
    /// How late outbound chunks left against their real-time schedule.
    pub lateness: Lateness,
    /// Per reply: end of speech detected -> first byte out, minus provider time (ms).
    pub server_added_ms: Vec<f64>,
}

impl CallStats {
    /// Adds one finished conversation (reply figures are kept up to a million).
    pub fn add(&mut self, summary: &Summary) {
        self.calls += 1;
        self.barge_ins += u64::from(summary.barge_ins);
        self.lateness.merge(&summary.lateness);
        if self.server_added_ms.len() < 1_000_000 {
            self.server_added_ms.extend(&summary.server_added_ms);
        }
    }
}
