//! `turn` rows: the conversation of a call, one row per caller or agent turn, written when the
//! turn finishes.

use domain::call::{Role, TurnKind, TurnTimings, TurnView};
use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, rows};
use crate::users::Owner;

/// A finished turn to store.
#[derive(Debug, Clone)]
pub struct NewTurn {
    pub call_key: String,
    pub owner_id: String,
    pub seq: i64,
    pub role: Role,
    pub kind: TurnKind,
    pub text: String,
    pub started_at: String,
    pub ended_at: String,
    pub interrupted: bool,
    pub timings: TurnTimings,
}

/// Stores a turn.
pub async fn insert(db: &Db, t: &NewTurn) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "CREATE turn SET call = type::record('call', $call), owner = type::record('user', $owner), seq = $seq,
            role = $role, kind = $kind, text = $text, started_at = <datetime>$started, ended_at = <datetime>$ended,
            interrupted = $interrupted, endpointing_ms = ($t.endpointingMs ?? NONE), stt_ms = ($t.sttMs ?? NONE), agent_ms = ($t.agentMs ?? NONE),
            tts_ms = ($t.ttsMs ?? NONE), first_byte_ms = ($t.firstByteMs ?? NONE), heard_ms = ($t.heardMs ?? NONE)
         RETURN NONE",
        json!({
            "call": t.call_key, "owner": t.owner_id, "seq": t.seq, "role": t.role, "kind": t.kind, "text": t.text,
            "started": t.started_at, "ended": t.ended_at, "interrupted": t.interrupted, "t": t.timings,
        }),
    )
    .await
    .map(|_| ())
}

#[derive(Deserialize)]
struct TurnRow {
    seq: i64,
    role: Role,
    kind: TurnKind,
    text: String,
    started_at: String,
    ended_at: String,
    interrupted: bool,
    endpointing_ms: Option<i64>,
    stt_ms: Option<i64>,
    agent_ms: Option<i64>,
    tts_ms: Option<i64>,
    first_byte_ms: Option<i64>,
    heard_ms: Option<i64>,
}

/// The turns of `owner`'s call `call_key`, in order (empty for another user's call).
pub async fn for_call(db: &Db, owner: &Owner, call_key: &str) -> Result<Vec<TurnView>, DbError> {
    let rows: Vec<TurnRow> = rows(
        db,
        "SELECT seq, role, kind, text, started_at, ended_at, interrupted,
            endpointing_ms, stt_ms, agent_ms, tts_ms, first_byte_ms, heard_ms
         FROM turn WHERE call = type::record('call', $call) AND owner = type::record('user', $owner) ORDER BY seq",
        json!({ "call": call_key, "owner": owner.id() }),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TurnView {
            seq: r.seq,
            role: r.role,
            kind: r.kind,
            text: r.text,
            started_at: r.started_at,
            ended_at: r.ended_at,
            interrupted: r.interrupted,
            timings: TurnTimings {
                endpointing_ms: r.endpointing_ms,
                stt_ms: r.stt_ms,
                agent_ms: r.agent_ms,
                tts_ms: r.tts_ms,
                first_byte_ms: r.first_byte_ms,
                heard_ms: r.heard_ms,
            },
        })
        .collect())
}
