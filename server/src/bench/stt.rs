//! `voxgate bench stt`: Whisper alone on the 20 bench utterances at 8 kHz, clean and through
//! G.711 with line noise: word error rate, key words, and where the time goes (a run that
//! stops after one token is the encoder's share), for one model, compute type, thread count,
//! window and decoding.

use std::time::Instant;

use super::voice::{Line, UTTERANCES};
use super::{anyhow_like, quantile};
use crate::voice::whisper::{Decoding, WhisperModel};
use crate::voice::{audio, models::ModelFiles};

/// A business's own words, said by callers: (utterance, the word as the business spells it).
const BUSINESS: [(&str, &str); 4] = [
    ("Can I see Doctor Okonkwo tomorrow?", "Okonkwo"),
    ("Is this Brightsmile Dental?", "Brightsmile"),
    ("I want the Zephyrine package.", "Zephyrine"),
    ("Do you take Medicaid at Sunnyvale Pediatrics?", "Sunnyvale"),
];

/// The vocabulary an agent of that business would list.
const BUSINESS_VOCABULARY: &str = "Dr. Okonkwo, Brightsmile Dental, Zephyrine, Sunnyvale Pediatrics";

/// What `voxgate bench stt` runs.
#[derive(Debug, Clone)]
pub struct SttBench {
    /// Model directory name under the models directory: `tiny.en` or `base`.
    pub model: String,
    /// CTranslate2 compute type: int8, int8_float32, int16 or float32.
    pub compute: String,
    pub threads: usize,
    pub decoding: Decoding,
    /// Prompt Whisper with the utterances' key words (an agent's vocabulary).
    pub prompt_key_words: bool,
}

fn compute_type(name: &str) -> Option<ct2rs::ComputeType> {
    Some(match name {
        "int8" => ct2rs::ComputeType::INT8,
        "int8_float32" => ct2rs::ComputeType::INT8_FLOAT32,
        "int16" => ct2rs::ComputeType::INT16,
        "float32" => ct2rs::ComputeType::FLOAT32,
        _ => return None,
    })
}

/// Runs the bench with the models in `models_dir`.
pub async fn stt(models_dir: &std::path::Path, bench: SttBench) -> anyhow_like::Result<Vec<String>> {
    let compute = compute_type(&bench.compute).ok_or_else(|| format!("unknown compute type {:?}", bench.compute))?;
    let files = ModelFiles::new(models_dir, bench.model.clone());
    let engine = crate::voice::engine::VoiceEngine::new(
        files.clone(),
        bench.threads,
        std::time::Duration::from_secs(10),
        crate::net::guard::GuardedClient::new(
            std::sync::Arc::new(crate::net::guard::GuardPolicy::new(Vec::new())),
            std::time::Duration::from_secs(5),
        )?,
    );
    let voice = engine.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    let mut clean = Vec::new();
    for (text, _) in UTTERANCES {
        clean.push(voice.tts.synthesize(text, 8000).await?);
    }
    let dir = files.whisper_dir();
    let threads = bench.threads;
    let loaded = Instant::now();
    let model = tokio::task::spawn_blocking(move || WhisperModel::load_as(&dir, threads, compute)).await??;
    let load_ms = loaded.elapsed().as_secs_f64() * 1000.0;
    let mut decoding = bench.decoding.clone();
    if bench.prompt_key_words {
        decoding.prompt = UTTERANCES.iter().map(|(_, k)| *k).collect::<Vec<_>>().join(", ");
    }
    let mut lines = vec![
        format!("processor: {}", super::machine::processor()),
        format!(
            "Whisper {} {} with {} threads, beam {}, {} window, prompt {:?}; load + first run {load_ms:.0} ms",
            bench.model,
            bench.compute,
            bench.threads,
            decoding.beam_size,
            if decoding.short_window { "10 s" } else { "30 s" },
            decoding.prompt
        ),
    ];
    for line in [Line::Clean, Line::G711Noise] {
        let audio16: Vec<Vec<f32>> = clean
            .iter()
            .map(|a| audio::resample(&audio::i16_to_f32(&line.carry(a, 8000)), 8000, audio::MODEL_RATE))
            .collect::<Result<_, _>>()?;
        let (model, decoding) = (model.clone(), decoding.clone());
        let runs = tokio::task::spawn_blocking(move || -> Result<Vec<(String, f64, f64, bool)>, crate::voice::VoiceError> {
            let mut out = Vec::new();
            let first_token = Decoding { max_tokens: 1, ..decoding.clone() };
            for a in &audio16 {
                let t = Instant::now();
                let run = model.run(a, &decoding)?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let t = Instant::now();
                model.run(a, &first_token)?;
                out.push((run.text, ms, t.elapsed().as_secs_f64() * 1000.0, run.fell_back));
            }
            Ok(out)
        })
        .await??;
        let heard: Vec<String> = runs.iter().map(|r| r.0.clone()).collect();
        let (wer_line, misheard) = super::voice::hearing(&UTTERANCES, &heard);
        let sorted = |i: usize| {
            let mut v: Vec<f64> = runs.iter().map(|r| if i == 0 { r.1 } else { r.2 }).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let (total, first) = (sorted(0), sorted(1));
        lines.push(format!(
            "{}: {wer_line}; run p50 {:.0} ms p90 {:.0} ms max {:.0} ms; encoder + first token p50 {:.0} ms; repetitions cut {}",
            line.name(),
            quantile(&total, 0.5),
            quantile(&total, 0.9),
            total.last().copied().unwrap_or(f64::NAN),
            quantile(&first, 0.5),
            runs.iter().filter(|r| r.3).count()
        ));
        lines.extend(misheard);
    }
    lines.push(business_words(&model, &voice, &decoding).await?);
    Ok(lines)
}

/// How many of the [`BUSINESS`] words Whisper spells right without and with the vocabulary.
async fn business_words(
    model: &std::sync::Arc<WhisperModel>,
    voice: &crate::voice::engine::Pipeline,
    decoding: &Decoding,
) -> anyhow_like::Result<String> {
    let mut audio16 = Vec::new();
    for (text, _) in BUSINESS {
        audio16.push(audio::resample(&audio::i16_to_f32(&voice.tts.synthesize(text, 8000).await?), 8000, audio::MODEL_RATE)?);
    }
    let mut counts = Vec::new();
    for prompt in ["", BUSINESS_VOCABULARY] {
        let (model, audio16) = (model.clone(), audio16.clone());
        let decoding = Decoding { prompt: prompt.to_string(), ..decoding.clone() };
        let heard =
            tokio::task::spawn_blocking(move || audio16.iter().map(|a| model.transcribe(a, &decoding)).collect::<Result<Vec<_>, _>>())
                .await??;
        counts.push(heard.iter().zip(BUSINESS).filter(|(h, (_, word))| h.contains(word)).count());
    }
    Ok(format!(
        "a business's own words spelled right (4 utterances at 8 kHz, clean): {}/4 without the agent's vocabulary, {}/4 with it",
        counts[0], counts[1]
    ))
}
