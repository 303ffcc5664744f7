//! Test calls: the step-by-step report of a number's "Test" (a simulated call through the
//! number's real answer URL and stream), and the messages of a browser test call's socket.

use serde::{Deserialize, Serialize};

use crate::phone_number::CheckStatus;

/// One step of a number's test call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TestStep {
    /// `number`, `credentials`, `webhook`, `answer`, `stream`, `greeting`, `caller`, `reply`,
    /// `hangup`, `recorded`.
    pub id: String,
    pub title: String,
    /// Pass, Fail, or Skip (not reached because an earlier step failed).
    pub status: CheckStatus,
    /// What happened (the answer's summary, a transcript line, an error).
    pub detail: String,
    /// How long the step took, when it is timed.
    pub ms: Option<i64>,
}

/// A number's test call, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NumberTestReport {
    pub phone_id: String,
    pub provider: String,
    /// No step failed.
    pub ok: bool,
    /// The recorded call (its page is `/calls?call=<id>`), when one was recorded.
    pub call_id: Option<String>,
    pub steps: Vec<TestStep>,
}

/// The `direction` of a test call's record (a browser test call, or a number's Test).
pub const TEST_DIRECTION: &str = "test";
/// The `phoneId` a browser test call is recorded under (it has no phone number).
pub const BROWSER_PHONE_ID: &str = "browser";

/// A browser test call's sample rate: 16-bit mono PCM both ways, in binary messages.
pub const BROWSER_RATE: u32 = 16_000;

/// A text message of a browser test call's socket (JSON, `event` names the kind), either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum BrowserMessage {
    /// Server → browser, first: the call is recorded under `call_id`; audio may flow.
    Started {
        #[serde(rename = "callId")]
        call_id: String,
    },
    /// Server → browser: tell us when the audio sent so far has played; browser → server: it has.
    Mark { name: String },
    /// Server → browser: drop the audio not yet played (the caller spoke over the agent).
    Clear,
    /// Browser → server: hang up.
    Stop,
}
