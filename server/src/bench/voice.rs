//! `voxgate bench voice`: the offline voice end to end on 20 phone utterances, with the word
//! error rate of what was heard.

use std::time::Duration;

use crate::state::AppState;

use super::{anyhow_like, call_line, quantile, stats_line};

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
fn wer_words(text: &str) -> Vec<String> {
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

async fn caller_speech(state: &AppState, text: &str) -> anyhow_like::Result<Vec<i16>> {
    let p = state.voice.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    Ok(p.tts.synthesize(text, 8000).await?)
}

/// One call of the 20 utterances through the offline voice (Silero + webrtc-vad, Whisper,
/// scripted agent, Piper): voice-to-voice latency with its breakdown, and the word error rate.
pub async fn voice(dir: &std::path::Path) -> anyhow_like::Result<Vec<String>> {
    let rules = UTTERANCES
        .iter()
        .map(|(_, key)| domain::agent::ScriptRule { keywords: vec![key.to_string()], reply: format!("You said {key}. Anything else?") })
        .collect();
    let agent = domain::agent::AgentInput { name: "Voice bench".into(), rules, ..Default::default() };
    let (state, webhook) = call_line(dir, agent, 1, domain::phone_number::Provider::Other).await?;
    let mut steps = Vec::new();
    for (text, _) in UTTERANCES {
        steps.push(crate::simulator::Step::Say { label: text.to_string(), audio: caller_speech(&state, text).await?.into() });
    }
    let mut opts = crate::simulator::CallOptions::new(webhook, steps);
    opts.keep_audio = false;
    let report = crate::simulator::run(opts).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let call_key = format!("exotel_{}", report.call_sid);
    let turns: Vec<serde_json::Value> = crate::db::rows(
        &state.db,
        "SELECT role, kind, text, started_at, stt_ms, agent_ms, tts_ms, first_byte_ms FROM turn WHERE call = type::record('call', $c) ORDER BY seq",
        serde_json::json!({ "c": call_key }),
    )
    .await?;
    let caller: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "caller").collect();
    let agent: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "agent" && t["kind"] != "greeting").collect();
    // Each stored caller turn belongs to the utterance being spoken when it began (an
    // utterance split in two turns is joined; one never heard counts as all words missed).
    let began: Vec<chrono::DateTime<chrono::Utc>> = report.turns.iter().map(|t| t.began_at).collect();
    let heard_texts = heard_per_utterance(&began, &caller);
    let (mut errors, mut words, mut hits) = (0.0, 0.0, 0);
    let mut misheard = Vec::new();
    for ((said, key), heard) in UTTERANCES.iter().zip(heard_texts.iter()) {
        let heard = heard.as_str();
        if word_error_rate(said, heard) > 0.0 {
            misheard.push(format!("  said {said:?} heard {heard:?}"));
        }
        let n = wer_words(said).len() as f64;
        errors += word_error_rate(said, heard) * n;
        words += n;
        if wer_words(heard).iter().any(|w| w == key) {
            hits += 1;
        }
    }
    let v2v: Vec<f64> = report.turns.iter().filter_map(|t| t.reply_after_ms).collect();
    let field = |k: &str| agent.iter().filter_map(|t| t[k].as_f64()).collect::<Vec<f64>>();
    let first_byte = field("first_byte_ms");
    // Endpointing: caller audio ended -> end of speech detected = heard - (detected -> first byte).
    let endpointing: Vec<f64> =
        report.turns.iter().zip(agent.iter()).filter_map(|(t, a)| Some(t.reply_after_ms? - a["first_byte_ms"].as_f64()?)).collect();
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        quantile(&v, 0.5)
    };
    Ok(vec![
        format!("{} utterances at 8 kHz (Piper voice), {} caller turns heard, {} replies", UTTERANCES.len(), caller.len(), agent.len()),
        stats_line("voice-to-voice (caller stops speaking -> first agent audio heard)", v2v.clone()),
        format!(
            "breakdown (medians; waits after end of speech was detected): end-of-speech detection {:.0} ms | STT {:.0} ms | agent {:.0} ms | TTS first sentence {:.0} ms | detection -> first byte {:.0} ms",
            median(&endpointing),
            median(&field("stt_ms")),
            median(&field("agent_ms")),
            median(&field("tts_ms")),
            median(&first_byte)
        ),
        format!(
            "Whisper run time per turn (median, mostly overlapped with the end-of-speech silence): {:.0} ms",
            median(&caller.iter().filter_map(|t| t["stt_ms"].as_f64()).collect::<Vec<_>>())
        ),
        format!("word error rate {:.1} % over {} words; key words heard {hits}/{}", 100.0 * errors / words.max(1.0), words, UTTERANCES.len()),
    ]
    .into_iter()
    .chain(misheard)
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
