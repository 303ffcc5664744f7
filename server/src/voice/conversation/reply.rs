//! A reply's state while it is produced and played, its timings, and the turns it stores.

use std::sync::Arc;
use std::time::Duration;

use domain::call::{Role, TurnKind, TurnTimings};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Conv;
use crate::db;
use crate::voice::turn_end::{self, Finish};
use crate::voice::{AfterReply, ChatTurn};

/// A reply task's progress report.
pub(super) enum JobMsg {
    Transcript {
        id: u64,
        text: String,
        stt_ms: i64,
    },
    Token {
        id: u64,
    },
    /// `provider_ms`: time the providers (STT, agent, TTS) took before this audio was ready;
    /// `text`: what the audio says.
    Audio {
        id: u64,
        pcm: Arc<Vec<i16>>,
        provider_ms: f64,
        text: String,
    },
    Finished {
        id: u64,
        text: String,
        after: AfterReply,
        fallback: bool,
    },
}

impl JobMsg {
    pub(super) fn id(&self) -> u64 {
        match self {
            JobMsg::Transcript { id, .. } | JobMsg::Token { id } | JobMsg::Audio { id, .. } | JobMsg::Finished { id, .. } => *id,
        }
    }
}

/// The reply being produced or played.
pub(super) struct Reply {
    pub id: u64,
    pub kind: TurnKind,
    pub task: Option<JoinHandle<()>>,
    /// Caller's end of speech detected (or DTMF / start for the greeting).
    pub origin: Instant,
    pub started_wall: String,
    /// The caller's speech that led here (kept if the caller goes on talking before we answer).
    pub caller_audio: Arc<Vec<i16>>,
    pub caller_turn: Option<(String, TurnKind, String)>,
    pub stt_ms: Option<i64>,
    /// When the transcript was in hand (for an early reply: when the pause became the end).
    pub stt_done: Option<Instant>,
    pub first_token: Option<Instant>,
    pub first_audio: Option<Instant>,
    pub first_byte: Option<Instant>,
    pub provider_ms: f64,
    pub text: String,
    pub after: AfterReply,
    pub fallback: bool,
    pub finished: bool,
    pub audio_done: bool,
    /// False while the caller is only pausing (the reply started early): its output waits.
    pub committed: bool,
    pub buffered: Vec<JobMsg>,
    pub job_started: Instant,
    /// Silence waited before the caller's turn counted as ended (ms).
    pub endpointing_ms: u32,
}

/// Now on the wall clock, as stored on turns.
pub(super) fn now_wall() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Conv {
    pub(super) fn on_job(&mut self, msg: JobMsg) {
        let now = Instant::now();
        let Some(r) = &mut self.reply else { return };
        if !r.committed {
            if msg.id() != r.id {
                return;
            }
            let finished = matches!(&msg, JobMsg::Transcript { text, .. }
                if self.pipeline.vad.smart_end && turn_end::finish(text, &self.pipeline.vad.end_words) == Finish::Complete);
            r.buffered.push(msg);
            if finished {
                self.end_turn_on_words();
            }
            return;
        }
        match msg {
            JobMsg::Transcript { id, text, stt_ms } if id == r.id => {
                r.stt_ms = Some(stt_ms);
                r.stt_done = Some(now);
                if let Some((started, kind, ended)) = r.caller_turn.take()
                    && !text.is_empty()
                {
                    let timings =
                        TurnTimings { endpointing_ms: Some(i64::from(r.endpointing_ms)), stt_ms: Some(stt_ms), ..Default::default() };
                    self.history.push(ChatTurn { role: Role::Caller, text: text.clone() });
                    let seq = self.next_seq();
                    self.write_turn(seq, Role::Caller, kind, text, started, ended, false, timings);
                }
            }
            JobMsg::Token { id } if id == r.id => {
                r.first_token.get_or_insert(now);
            }
            JobMsg::Audio { id, pcm, provider_ms, text } if id == r.id => {
                // What has been spoken so far: a reply cut off by the caller keeps its words.
                if !text.is_empty() {
                    if !r.text.is_empty() {
                        r.text.push(' ');
                    }
                    r.text.push_str(&text);
                }
                if r.first_audio.is_none() {
                    r.first_audio = Some(now);
                    // Provider time spent before the end of speech was detected is off the
                    // caller's clock (an early reply).
                    let early = r.origin.saturating_duration_since(r.job_started).as_secs_f64() * 1000.0;
                    r.provider_ms = (provider_ms - early).max(0.0);
                }
                self.speaker.enqueue(id, pcm, now);
            }
            JobMsg::Finished { id, text, after, fallback } if id == r.id => {
                r.finished = true;
                r.text = text;
                r.after = after;
                r.fallback = fallback;
                r.task = None;
                if r.first_audio.is_none() {
                    // Nothing to say (no words recognised, or no voice to say a goodbye with):
                    // the turn is over, and a hang-up is due now.
                    if after.ends_call() {
                        self.end_after(after, now);
                    }
                    self.reply = None;
                }
            }
            _ => {}
        }
    }

    /// The reply was heard in full (its mark came back).
    pub(super) fn complete_reply(&mut self, heard: Option<Duration>) {
        let Some(r) = self.reply.take() else { return };
        let after = r.after;
        self.store_reply(r, false, heard);
        if after.ends_call() {
            self.end_after(after, Instant::now());
        }
    }

    pub(super) fn store_reply(&mut self, r: Reply, interrupted: bool, heard: Option<Duration>) {
        let ms = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(b.saturating_duration_since(a).as_millis() as i64),
            _ => None,
        };
        // Each stage is the wait it added after the end of speech was detected, so the stages
        // add up to `first_byte_ms` (an early reply's STT mostly ran during the pause).
        let after_stt = r.stt_done.or(Some(r.origin));
        let timings = if r.kind == TurnKind::Greeting {
            TurnTimings {
                tts_ms: ms(Some(r.origin), r.first_audio),
                first_byte_ms: ms(Some(r.origin), r.first_byte),
                heard_ms: heard.map(|h| h.as_millis() as i64),
                ..Default::default()
            }
        } else {
            TurnTimings {
                // The silence waited before the reply began (speech turns), so that
                // endpointing + first byte is the caller's voice-to-voice wait.
                endpointing_ms: r.stt_ms.map(|_| i64::from(r.endpointing_ms)),
                stt_ms: ms(Some(r.origin), r.stt_done),
                agent_ms: ms(after_stt, r.first_token.or(r.first_audio)),
                tts_ms: ms(r.first_token.or(after_stt), r.first_audio),
                first_byte_ms: ms(Some(r.origin), r.first_byte),
                heard_ms: heard.map(|h| h.as_millis() as i64),
            }
        };
        if r.kind != TurnKind::Greeting && !r.fallback {
            let m = crate::metrics::get();
            let stages = [
                ("endpointing", timings.endpointing_ms),
                ("stt", timings.stt_ms),
                ("agent", timings.agent_ms),
                ("tts", timings.tts_ms),
                ("first_byte", timings.first_byte_ms),
            ];
            for (stage, ms) in stages {
                if let Some(ms) = ms.and_then(|ms| u64::try_from(ms).ok()) {
                    m.turn_stage(stage, ms);
                }
            }
        }
        let text = if r.text.is_empty() && r.kind == TurnKind::Greeting { self.pipeline.greeting.clone() } else { r.text.clone() };
        if text.is_empty() {
            return;
        }
        self.history.push(ChatTurn { role: Role::Agent, text: text.clone() });
        let kind = match (r.fallback, r.after) {
            (true, _) => TurnKind::Fallback,
            (false, AfterReply::Transfer) => TurnKind::Transfer,
            _ => r.kind,
        };
        let seq = self.next_seq();
        self.write_turn(seq, Role::Agent, kind, text, r.started_wall.clone(), now_wall(), interrupted, timings);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_turn(
        &mut self,
        role: Role,
        kind: TurnKind,
        text: String,
        started: String,
        ended: String,
        interrupted: bool,
        timings: TurnTimings,
    ) {
        let seq = self.next_seq();
        self.history.push(ChatTurn { role, text: text.clone() });
        self.write_turn(seq, role, kind, text, started, ended, interrupted, timings);
    }

    fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.summary.turns = self.seq;
        self.seq
    }

    #[allow(clippy::too_many_arguments)]
    fn write_turn(
        &mut self,
        seq: i64,
        role: Role,
        kind: TurnKind,
        text: String,
        started: String,
        ended: String,
        interrupted: bool,
        timings: TurnTimings,
    ) {
        #[cfg(test)]
        self.written.push((role, kind, text.clone(), interrupted));
        let Some(store) = self.store.clone() else { return };
        let turn = db::turns::NewTurn {
            call_key: store.call_key.clone(),
            owner_id: store.owner_id.clone(),
            seq,
            role,
            kind,
            text,
            started_at: started,
            ended_at: ended,
            interrupted,
            timings,
        };
        // Finished writes are reaped here, so the set holds only those in flight.
        while self.writes.try_join_next().is_some() {}
        self.writes.spawn(async move {
            // A write that fails is tried twice more; one that never lands is counted on the
            // call (`lostTurns`), so a gap in the transcript is visible, not silent.
            let mut error = None;
            for wait in [0, 200, 1000] {
                tokio::time::sleep(Duration::from_millis(wait)).await;
                match db::turns::insert(&store.db, &turn).await {
                    Ok(()) => return crate::notify::caller_turn(&store.db, &turn),
                    Err(e) => error = Some(e),
                }
            }
            let e = error.map(|e| e.to_string()).unwrap_or_default();
            tracing::error!(call = %store.call_key, seq = turn.seq, error = %e, "cannot store a turn; counted as lost on the call");
            if let Err(e) = db::calls::count_lost_turn(&store.db, &store.call_key).await {
                tracing::error!(call = %store.call_key, error = %e, "cannot count a lost turn");
            }
        });
    }

    /// The call ends at `at` (the reply has been heard), hung up or handed to a person.
    pub(super) fn end_after(&mut self, after: AfterReply, at: Instant) {
        self.hangup_at = Some(at);
        self.ending = after;
    }

    /// For the person a call is handed to: what the caller said last (about 200 characters).
    pub(super) fn transfer_summary(&self) -> String {
        let said: Vec<&str> = self.history.iter().filter(|t| t.role == Role::Caller).map(|t| t.text.as_str()).collect();
        let recent = said.iter().rev().take(2).rev().copied().collect::<Vec<_>>().join(" ");
        let recent: String = recent.chars().take(200).collect();
        if recent.is_empty() {
            "A caller asked for a person.".to_string()
        } else {
            format!("A caller asked for a person. They said: {recent}")
        }
    }

    /// Waits (bounded) for the turn writes in flight, so a call read back as ended already
    /// holds every turn. Each write retries for about 1.2 s at most; past the bound they go
    /// on detached.
    pub(super) async fn settle_writes(&mut self) {
        let deadline = Instant::now() + TURN_WRITES;
        while let Ok(Some(_)) = tokio::time::timeout_at(deadline, self.writes.join_next()).await {}
        if !self.writes.is_empty() {
            tracing::warn!(pending = self.writes.len(), "turn writes still pending at the call's end");
        }
    }
}

/// Longest wait at the call's end for its turns to be stored.
const TURN_WRITES: Duration = Duration::from_secs(5);

impl Drop for Conv {
    /// A conversation dropped mid-call (its session cancelled) still lets its writes land.
    fn drop(&mut self) {
        self.writes.detach_all();
    }
}
