//! `voxgate bench voice`: the offline voice end to end on 20 phone utterances, with the word
//! error rate of what was heard.

use std::time::Duration;

use crate::state::AppState;
use crate::voice::engine::Tuning;

mod line;

pub use line::Line;

use super::{anyhow_like, quantile, stats_line};

/// The 20 phone-agent utterances of shared/OFFLINE_VOICE.md with their key word.
pub const UTTERANCES: [(&str, &str); 20] = [
    ("What are your opening hours?", "hours"),
    ("How much does the consultation cost?", "cost"),
    ("I would like an appointment for tomorrow.", "appointment"),
    ("Can I talk to a human, please?", "human"),
    ("Yes.", "yes"),
    ("No.", "no"),
    ("I want to cancel my booking.", "cancel"),
    ("Is Monday possible?", "monday"),
    ("What about Saturday?", "saturday"),
    ("What is your address?", "address"),
    ("My phone number is five five five, one two three, four five nine nine.", "phone"),
    ("Can we do three o'clock?", "three"),
    ("I need to reschedule.", "reschedule"),
    ("Can I pay by credit card?", "credit"),
    ("Is there parking nearby?", "parking"),
    ("My name is John Smith.", "john"),
    ("Could you repeat that, please?", "repeat"),
    ("Operator, please.", "operator"),
    ("Yes, that is correct.", "correct"),
    ("Thank you, goodbye.", "goodbye"),
];

/// Words for WER: lower case, no punctuation, every digit spelled ("555-1234" is "five five
/// five one two three four", as a caller says it).
pub(super) fn wer_words(text: &str) -> Vec<String> {
    const DIGITS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    crate::voice::agent::normalize(text)
        .into_iter()
        .flat_map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                w.chars().map(|c| DIGITS[c as usize - '0' as usize].to_string()).collect()
            } else {
                vec![w]
            }
        })
        .collect()
}

/// Word error rate of `heard` against `said`.
pub fn word_error_rate(said: &str, heard: &str) -> f64 {
    let a = wer_words(said);
    let b = wer_words(heard);
    strsim::generic_levenshtein(&a, &b) as f64 / a.len().max(1) as f64
}

/// The text heard during each utterance: stored caller turns (`started_at`, `text`) grouped
/// by the last utterance that had begun (with 200 ms of slack) when the turn started.
fn heard_per_utterance(began: &[chrono::DateTime<chrono::Utc>], caller_turns: &[&serde_json::Value]) -> Vec<String> {
    let mut heard = vec![String::new(); began.len()];
    for t in caller_turns {
        let Some(at) = t["started_at"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else { continue };
        let at = at.with_timezone(&chrono::Utc) + chrono::Duration::milliseconds(200);
        if let Some(i) = began.iter().rposition(|b| *b <= at) {
            if !heard[i].is_empty() {
                heard[i].push(' ');
            }
            heard[i].push_str(t["text"].as_str().unwrap_or_default());
        }
    }
    heard
}

/// Utterances with a pause inside them where the words so far trail off: (before the pause,
/// after it, key word). The agent must not answer in the pause.
pub const PAUSED: [(&str, &str, &str); 8] = [
    ("I'd like to book a table for", "two people tonight.", "table"),
    ("My name is", "John Smith.", "john"),
    ("Can we do it on", "Monday morning?", "monday"),
    ("I want to cancel my", "appointment.", "cancel"),
    ("My phone number is five five five,", "one two three, four five nine nine.", "phone"),
    ("I need to talk to", "a human, please.", "human"),
    ("Could you tell me the", "opening hours?", "hours"),
    ("I would like to pay by", "credit card.", "credit"),
];

/// The silence inside a [`PAUSED`] utterance: with the 60 ms kept at each side of its words,
/// about 620 ms in all, under the default 700 ms end of speech.
const PAUSE_MS: u32 = 500;

/// What `voxgate bench voice` runs.
#[derive(Debug, Clone, Copy)]
pub struct VoiceBench {
    pub line: Line,
    /// How turns end and Whisper reads them (`Tuning::before_smart_turns` for the old way).
    pub tuning: Tuning,
}

/// The caller saying `text` at 8 kHz, without the voice's own leading and trailing silence
/// (Piper leaves 40-360 ms): "the caller stops speaking" is then when the words end (within
/// 60 ms), and a pause inside an utterance is about the pause it says it is.
async fn caller_speech(state: &AppState, text: &str) -> anyhow_like::Result<Vec<i16>> {
    let p = state.voice.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    Ok(trim_silence(&p.tts.synthesize(text, 8000).await?, 8000))
}

/// `audio` from its first to its last 20 ms frame above -50 dBFS, with 60 ms kept each side (a
/// word's soft ending stays: trimmed at -40 dBFS and 20 ms, Whisper lost final consonants).
fn trim_silence(audio: &[i16], rate: u32) -> Vec<i16> {
    const MARGIN: usize = 3;
    let frame = (rate as usize / 50).max(1);
    let loud = |c: &[i16]| (c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / c.len() as f64).sqrt() > 104.0;
    let frames: Vec<&[i16]> = audio.chunks(frame).collect();
    let (Some(first), Some(last)) = (frames.iter().position(|c| loud(c)), frames.iter().rposition(|c| loud(c))) else {
        return audio.to_vec();
    };
    let from = first.saturating_sub(MARGIN) * frame;
    let to = ((last + 1 + MARGIN) * frame).min(audio.len());
    audio[from..to].to_vec()
}

/// One call of `utterances` (text said, key word, audio); its report and stored turns.
async fn one_call(
    state: &AppState,
    webhook: &str,
    said: Vec<(String, Vec<i16>)>,
) -> anyhow_like::Result<(crate::simulator::CallReport, Vec<serde_json::Value>)> {
    let steps = said.into_iter().map(|(label, audio)| crate::simulator::Step::Say { label, audio: audio.into() }).collect();
    let mut opts = crate::simulator::CallOptions::new(webhook, steps);
    opts.keep_audio = false;
    let report = crate::simulator::run(opts).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let call_key = format!("exotel_{}", report.call_sid);
    let turns: Vec<serde_json::Value> = crate::db::rows(
        &state.db,
        "SELECT role, kind, text, started_at, stt_ms, agent_ms, tts_ms, first_byte_ms, endpointing_ms FROM turn WHERE call = type::record('call', $c) ORDER BY seq",
        serde_json::json!({ "c": call_key }),
    )
    .await?;
    Ok((report, turns))
}

fn at(t: &serde_json::Value) -> Option<chrono::DateTime<chrono::Utc>> {
    t["started_at"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&chrono::Utc))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// Word errors and key words of what was heard per utterance.
pub(super) fn hearing(said: &[(&str, &str)], heard: &[String]) -> (String, Vec<String>) {
    let (mut errors, mut words, mut hits) = (0.0, 0.0, 0);
    let mut misheard = Vec::new();
    for ((said, key), heard) in said.iter().zip(heard) {
        let wer = word_error_rate(said, heard);
        if wer > 0.0 {
            misheard.push(format!("  said {said:?} heard {heard:?}"));
        }
        let n = wer_words(said).len() as f64;
        errors += wer * n;
        words += n;
        if wer_words(heard).iter().any(|w| w == key) {
            hits += 1;
        }
    }
    (
        format!("word error rate {:.1} % over {} words; key words heard {hits}/{}", 100.0 * errors / words.max(1.0), words, said.len()),
        misheard,
    )
}

/// The offline voice end to end (Silero + webrtc-vad, Whisper, scripted agent, Piper): one
/// call of the 20 utterances (voice-to-voice latency with its breakdown, word error rate),
/// then one call of the [`PAUSED`] utterances (callers cut off in their pause).
pub async fn voice(dir: &std::path::Path, bench: VoiceBench) -> anyhow_like::Result<Vec<String>> {
    let rules = UTTERANCES
        .iter()
        .map(|(_, key)| *key)
        .chain(PAUSED.iter().map(|(_, _, key)| *key))
        .map(|key| domain::agent::ScriptRule { keywords: vec![key.to_string()], reply: format!("You said {key}. Anything else?") })
        .collect();
    let agent = domain::agent::AgentInput { name: "Voice bench".into(), rules, ..Default::default() };
    let (state, _, _, number) = super::call_line_with(dir, agent, 1, domain::phone_number::Provider::Other, |_| {}).await?;
    state.voice.set_tuning(bench.tuning);
    let webhook = number.webhook_url;
    let mut said = Vec::new();
    for (text, _) in UTTERANCES {
        said.push((text.to_string(), bench.line.carry(&caller_speech(&state, text).await?, 8000)));
    }
    let (report, turns) = one_call(&state, &webhook, said).await?;
    let caller: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "caller").collect();
    let agent: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "agent" && t["kind"] != "greeting").collect();
    // Each stored caller turn belongs to the utterance being spoken when it began (an
    // utterance split in two turns is joined; one never heard counts as all words missed).
    let began: Vec<chrono::DateTime<chrono::Utc>> = report.turns.iter().map(|t| t.began_at).collect();
    let heard_texts = heard_per_utterance(&began, &caller);
    let (wer_line, misheard) = hearing(&UTTERANCES, &heard_texts);
    let v2v: Vec<f64> = report.turns.iter().filter_map(|t| t.reply_after_ms).collect();
    let field = |k: &str| agent.iter().filter_map(|t| t[k].as_f64()).collect::<Vec<f64>>();
    // Endpointing: caller audio ended -> end of speech detected = heard - (detected -> first byte).
    let endpointing: Vec<f64> =
        report.turns.iter().zip(agent.iter()).filter_map(|(t, a)| Some(t.reply_after_ms? - a["first_byte_ms"].as_f64()?)).collect();
    let early = caller.iter().filter(|t| t["endpointing_ms"].as_f64().is_some_and(|e| e < 700.0)).count();
    let mut lines = vec![
        format!("processor: {}", super::machine::processor()),
        format!(
            "{} utterances at 8 kHz (Piper voice, {} line), {} caller turns heard, {} replies; {:?}; turns ended before the full silence: {}",
            UTTERANCES.len(),
            bench.line.name(),
            caller.len(),
            agent.len(),
            bench.tuning,
            early
        ),
        stats_line("voice-to-voice (caller stops speaking -> first agent audio heard)", v2v),
        format!(
            "breakdown (medians; waits after end of speech was detected): end-of-speech detection {:.0} ms | STT {:.0} ms | agent {:.0} ms | TTS first sentence {:.0} ms | detection -> first byte {:.0} ms",
            median(&endpointing),
            median(&field("stt_ms")),
            median(&field("agent_ms")),
            median(&field("tts_ms")),
            median(&field("first_byte_ms"))
        ),
        format!(
            "Whisper run time per turn (median, mostly overlapped with the end-of-speech silence): {:.0} ms",
            median(&caller.iter().filter_map(|t| t["stt_ms"].as_f64()).collect::<Vec<_>>())
        ),
        wer_line,
    ];
    lines.extend(cut_off(&report, &turns).into_iter().map(|i| format!("  answered before the caller finished: {:?}", UTTERANCES[i].0)));
    lines.extend(misheard);
    lines.extend(pause_set(&state, &webhook, bench.line).await?);
    Ok(lines)
}

/// The utterances (by index) the agent began to answer before the caller had finished them.
fn cut_off(report: &crate::simulator::CallReport, turns: &[serde_json::Value]) -> Vec<usize> {
    let replies: Vec<chrono::DateTime<chrono::Utc>> =
        turns.iter().filter(|t| t["role"] == "agent" && t["kind"] != "greeting").filter_map(at).collect();
    report
        .turns
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            // The last 100 ms of an utterance is the voice's own trailing silence.
            let end = t.began_at + chrono::Duration::milliseconds(t.spoken_ms as i64 - 100);
            replies.iter().any(|r| *r > t.began_at && *r < end)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The [`PAUSED`] utterances in one call: how many callers the agent answered in their pause.
async fn pause_set(state: &AppState, webhook: &str, line: Line) -> anyhow_like::Result<Vec<String>> {
    let mut said = Vec::new();
    for (before, after, _) in PAUSED {
        let mut audio = caller_speech(state, before).await?;
        audio.extend(std::iter::repeat_n(0, (8 * PAUSE_MS) as usize));
        audio.extend(caller_speech(state, after).await?);
        said.push((format!("{before} ... {after}"), line.carry(&audio, 8000)));
    }
    let (report, turns) = one_call(state, webhook, said).await?;
    let caller: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "caller").collect();
    // What the first caller turn within the utterance heard: the words that ended it too soon.
    let heard_first = |i: usize| {
        let t = &report.turns[i];
        let first = caller.iter().find(|c| at(c).is_some_and(|a| a + chrono::Duration::milliseconds(200) >= t.began_at));
        first.map_or("", |c| c["text"].as_str().unwrap_or(""))
    };
    let cut: Vec<String> = cut_off(&report, &turns)
        .into_iter()
        .map(|i| format!("  cut off: {:?} … {:?} (its first turn heard {:?})", PAUSED[i].0, PAUSED[i].1, heard_first(i)))
        .collect();
    let began: Vec<chrono::DateTime<chrono::Utc>> = report.turns.iter().map(|t| t.began_at).collect();
    let heard = heard_per_utterance(&began, &caller);
    let texts: Vec<String> = PAUSED.iter().map(|(a, b, _)| format!("{a} {b}")).collect();
    let said: Vec<(&str, &str)> = texts.iter().zip(PAUSED).map(|(t, (_, _, k))| (t.as_str(), k)).collect();
    let (wer_line, _) = hearing(&said, &heard);
    let mut lines = vec![
        format!(
            "pause set: {} utterances with a {PAUSE_MS} ms pause where the words trail off: callers cut off {}/{}",
            PAUSED.len(),
            cut.len(),
            PAUSED.len()
        ),
        stats_line("pause set voice-to-voice (after the whole utterance)", report.turns.iter().filter_map(|t| t.reply_after_ms).collect()),
        format!("pause set {wer_line}"),
    ];
    lines.extend(cut);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voices_own_silence_is_trimmed_to_a_margin() {
        let mut audio = vec![0i16; 800];
        audio.extend(vec![3000i16; 1600]);
        audio.extend(vec![40i16; 2400]);
        let trimmed = trim_silence(&audio, 8000);
        assert_eq!(trimmed.len(), 480 + 1600 + 480);
        assert_eq!(trim_silence(&[0; 100], 8000), vec![0; 100], "silence alone stays");
    }

    #[test]
    fn word_error_rate_counts_words_not_spelling_of_numbers() {
        assert_eq!(word_error_rate("My number is five five five, one two.", "My number is 555-12."), 0.0);
        assert_eq!(word_error_rate("Is there parking nearby?", "Is their parking nearby?"), 0.25);
        assert_eq!(word_error_rate("Yes.", ""), 1.0);
    }

    #[test]
    fn stored_turns_are_matched_to_utterances_by_time() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let began = [at(0), at(10), at(20)];
        let turn = |s: &str, text: &str| serde_json::json!({ "started_at": s, "text": text });
        // The first utterance is heard in two turns, the second never, the third once (its
        // turn starts a little before the simulator's clock says it began speaking).
        let turns = [
            turn("2026-01-01T10:00:00.300Z", "what are"),
            turn("2026-01-01T10:00:02Z", "your hours"),
            turn("2026-01-01T10:00:19.900Z", "yes"),
        ];
        let refs: Vec<&serde_json::Value> = turns.iter().collect();
        assert_eq!(heard_per_utterance(&began, &refs), vec!["what are your hours".to_string(), String::new(), "yes".into()]);
    }
}
