//! `voxgate call`: places one call as Exotel, Twilio, Vonage or Plivo would, through the server crate's simulator
//! (`server::simulator`), and prints the transcript with per-turn latencies.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use server::simulator::{CallOptions, Provider, Step};

/// What `voxgate call` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CliCall {
    pub url: String,
    pub say: Vec<String>,
    pub wav: Vec<PathBuf>,
    pub dtmf: Option<String>,
    pub barge_in: Option<String>,
    pub record: Option<PathBuf>,
    pub rate: Option<u32>,
    pub token: Option<String>,
    /// Whose side to play, with the credentials to sign as it does.
    pub provider: Provider,
    /// The language the caller speaks (`en`, or `hi` through eSpeak NG).
    pub language: String,
    /// Open the stream on this origin instead of the answer's (another node).
    pub stream_origin: Option<url::Url>,
}

/// The credentials `voxgate call` was given (flags or environment).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    pub auth_id: Option<String>,
    pub plivo_token: Option<String>,
    pub api_key: Option<String>,
    pub signature_secret: Option<String>,
    pub application_id: Option<String>,
}

/// The provider named `name`, with the credentials it signs with (each one required).
pub fn provider(name: &str, c: Credentials) -> Result<Provider, String> {
    let need = |v: Option<String>, what: &str| v.filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("--provider {name} needs {what}"));
    Ok(match name {
        "twilio" => Provider::Twilio {
            account_sid: need(c.account_sid, "--account-sid (or TWILIO_ACCOUNT_SID)")?,
            auth_token: need(c.auth_token, "--auth-token (or TWILIO_AUTH_TOKEN)")?,
        },
        "vonage" => Provider::Vonage {
            api_key: need(c.api_key, "--api-key (or VONAGE_API_KEY)")?,
            signature_secret: need(c.signature_secret, "--signature-secret (or VONAGE_SIGNATURE_SECRET)")?,
            application_id: need(c.application_id, "--application-id (or VONAGE_APPLICATION_ID)")?,
        },
        "plivo" => Provider::Plivo {
            auth_id: need(c.auth_id, "--auth-id (or PLIVO_AUTH_ID)")?,
            auth_token: need(c.plivo_token, "--auth-token (or PLIVO_AUTH_TOKEN)")?,
        },
        _ => Provider::Exotel,
    })
}

/// The caller's steps for `voxgate call`: each spoken turn, then the keys, each waiting for
/// its reply, except the last one when the caller then talks over the agent's reply to it.
fn cli_steps(spoken: Vec<(String, Arc<[i16]>)>, dtmf: Option<String>, barge_in: Option<(String, Arc<[i16]>)>) -> Vec<Step> {
    let mut steps: Vec<Step> = spoken.into_iter().map(|(label, audio)| Step::Say { label, audio }).collect();
    steps.extend(dtmf.map(Step::Dtmf));
    if let Some((label, audio)) = barge_in {
        match steps.pop() {
            Some(Step::Say { label, audio }) => steps.push(Step::Ask { label, audio }),
            Some(Step::Dtmf(digits)) => steps.push(Step::Press(digits)),
            Some(other) => steps.push(other),
            None => {}
        }
        steps.push(Step::BargeIn { label, audio, after: Duration::from_millis(800) });
    }
    steps
}

/// `voxgate say`: `text` spoken by the offline voice at `rate`, with `pad_ms` of silence each
/// side, written to `out` as a WAV file.
pub async fn say(
    settings: &server::Settings,
    text: &str,
    language: &str,
    out: &std::path::Path,
    rate: u32,
    pad_ms: u32,
) -> Result<(), String> {
    if !(8000..=48_000).contains(&rate) {
        return Err(format!("--rate must be 8000..48000 Hz, not {rate}"));
    }
    let engine = server::voice::engine::VoiceEngine::new(
        server::voice::models::ModelFiles::new(&settings.models_dir, &settings.stt_model),
        settings.voice_threads,
        settings.provider_timeout,
        server::net::GuardedClient::from_settings(settings).map_err(|e| e.to_string())?,
    );
    let speech = server::simulator::caller_speech(&engine, text, language, rate).await.map_err(|e| e.to_string())?;
    let pad = vec![0i16; (u64::from(rate) * u64::from(pad_ms.min(60_000)) / 1000) as usize];
    let samples: Vec<i16> = pad.iter().chain(speech.iter()).chain(pad.iter()).copied().collect();
    server::voice::audio::write_wav(out, &samples, rate).map_err(|e| e.to_string())?;
    println!("{} ({:.1} s at {rate} Hz)", out.display(), samples.len() as f64 / f64::from(rate));
    Ok(())
}

/// `voxgate call`: places the call, prints the transcript with per-turn latencies.
pub async fn run(settings: &server::Settings, args: CliCall) -> Result<(), String> {
    // Twilio streams at 8 kHz only; Vonage at 16 kHz unless the number says 8 (--rate 8000).
    let rate = match &args.provider {
        Provider::Twilio { .. } => 8000,
        Provider::Vonage { .. } => args.rate.unwrap_or(16_000),
        _ => args.rate.unwrap_or(8000),
    };
    let engine = server::voice::engine::VoiceEngine::new(
        server::voice::models::ModelFiles::new(&settings.models_dir, &settings.stt_model),
        settings.voice_threads,
        settings.provider_timeout,
        server::net::GuardedClient::from_settings(settings).map_err(|e| e.to_string())?,
    );
    let speak = |text: String| {
        let engine = engine.clone();
        let language = args.language.clone();
        async move { server::simulator::caller_speech(&engine, &text, &language, rate).await.map_err(|e| e.to_string()) }
    };
    let mut spoken: Vec<(String, Arc<[i16]>)> = Vec::new();
    for text in &args.say {
        spoken.push((format!("{text:?}"), speak(text.clone()).await?.into()));
    }
    for path in &args.wav {
        let (samples, from) = server::voice::audio::read_wav(path).map_err(|e| e.to_string())?;
        let at = server::voice::audio::resample(&server::voice::audio::i16_to_f32(&samples), from, rate).map_err(|e| e.to_string())?;
        spoken.push((path.display().to_string(), server::voice::audio::f32_to_i16(&at).into()));
    }
    let barge_in = match &args.barge_in {
        Some(text) => Some((format!("{text:?} (over the agent)"), speak(text.clone()).await?.into())),
        None => None,
    };
    let steps = cli_steps(spoken, args.dtmf.clone(), barge_in);
    let url = args.url.clone();
    let mut opts = match &args.provider {
        Provider::Twilio { account_sid, auth_token } => CallOptions::twilio(url, steps, account_sid, auth_token),
        Provider::Vonage { api_key, signature_secret, application_id } => {
            CallOptions::vonage(url, steps, api_key, signature_secret, application_id)
        }
        Provider::Plivo { auth_id, auth_token } => CallOptions::plivo(url, steps, auth_id, auth_token),
        Provider::Exotel => CallOptions::new(url, steps),
    };
    opts.rate = if matches!(args.provider, Provider::Exotel) { args.rate } else { Some(rate) };
    opts.record = args.record.clone();
    opts.stream_origin = args.stream_origin.clone();
    let report = server::simulator::run(opts).await.map_err(|e| e.to_string())?;
    let secs = |ms: f64| format!("{:.2} s", ms / 1000.0);
    println!("call {} ({} Hz)", report.call_sid, report.rate);
    match report.greeting_after_ms {
        Some(ms) => println!("  greeting   first audio {ms:.0} ms after start, {} of audio", secs(report.greeting_audio_ms)),
        None => println!("  greeting   none"),
    }
    for t in &report.turns {
        let reply = match t.reply_after_ms {
            Some(ms) => format!("agent replied after {} ({} of audio)", secs(ms), secs(t.reply_audio_ms)),
            None => "no reply".to_string(),
        };
        let clear = t.clear_after_ms.map(|c| format!("; agent cleared {c:.0} ms after the caller began")).unwrap_or_default();
        println!("  caller     {} ({})  ->  {reply}{clear}", t.label, secs(t.spoken_ms));
    }
    println!(
        "  stream     {} agent frames ({} off-size, {} late by > 20 ms; longest gap {:.0} ms), {} marks echoed, {} clears{}",
        report.media_frames,
        report.bad_chunks,
        report.late_chunks,
        report.max_gap_ms,
        report.marks_echoed,
        report.clears,
        report.closed_by_server.as_ref().map(|(c, r)| format!(", closed by the server ({c} {r})")).unwrap_or_default()
    );
    if let Some(path) = &args.record {
        println!("  recording  {}", path.display());
    }
    if let Some(token) = &args.token {
        let provider = match &args.provider {
            Provider::Exotel => "exotel",
            Provider::Twilio { .. } => "twilio",
            Provider::Vonage { .. } => "vonage",
            Provider::Plivo { .. } => "plivo",
        };
        print_transcript(&args.url, token, &format!("{provider}_{}", report.call_sid)).await?;
    } else {
        println!("  (pass --token or VOXGATE_TOKEN to print the stored transcript)");
    }
    Ok(())
}

/// Prints the stored turns of the call (REST: `GET /api/calls/{id}`).
async fn print_transcript(webhook: &str, token: &str, call_id: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(webhook).map_err(|e| e.to_string())?;
    let api = format!("{}/api/calls/{call_id}", url.origin().ascii_serialization());
    // Turns are written as they finish; give the last one a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = reqwest::Client::new().get(&api).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("GET {api}: HTTP {}", res.status()));
    }
    let detail: domain::call::CallDetail = res.json().await.map_err(|e| e.to_string())?;
    println!("transcript ({}, {})", detail.call.status, detail.call.reason.unwrap_or_default());
    for t in detail.turns {
        let ms = |v: Option<i64>| v.map(|v| format!("{v}")).unwrap_or_else(|| "-".into());
        let tm = &t.timings;
        // As text: `{:<6}` pads a string (the role's own Display ignores widths).
        let role = t.role.to_string();
        let timing = if role == "agent" {
            format!(
                "  [stt {} · agent {} · tts {} · first byte {} ms]",
                ms(tm.stt_ms),
                ms(tm.agent_ms),
                ms(tm.tts_ms),
                ms(tm.first_byte_ms)
            )
        } else {
            String::new()
        };
        let cut = if t.interrupted { " (interrupted)" } else { "" };
        println!("  {role:<6} {}{cut}{timing}", t.text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_talks_over_the_reply_to_its_last_words_or_keys() {
        let said = |l: &str| (l.to_string(), Arc::from(vec![1i16; 10]));
        let kinds = |steps: Vec<Step>| -> Vec<String> {
            steps
                .into_iter()
                .map(|s| match s {
                    Step::Say { label, .. } => format!("say {label}"),
                    Step::Ask { label, .. } => format!("ask {label}"),
                    Step::BargeIn { label, .. } => format!("over {label}"),
                    Step::Dtmf(d) => format!("keys {d}"),
                    Step::Press(d) => format!("press {d}"),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(kinds(cli_steps(vec![said("a"), said("b")], Some("1".into()), None)), ["say a", "say b", "keys 1"]);
        assert_eq!(kinds(cli_steps(vec![said("a"), said("b")], None, Some(said("bye")))), ["say a", "ask b", "over bye"]);
        // Keys and then a barge-in: every step is kept, and the keys' reply is talked over.
        assert_eq!(kinds(cli_steps(vec![said("a")], Some("12".into()), Some(said("bye")))), ["say a", "press 12", "over bye"]);
        assert_eq!(kinds(cli_steps(vec![], None, Some(said("hi")))), ["over hi"]);
    }

    #[test]
    fn each_provider_needs_the_credentials_it_signs_with() {
        let some = |v: &str| Some(v.to_string());
        let vonage = Credentials { api_key: some("a1b2c3d4"), signature_secret: some("s3cret"), ..Default::default() };
        assert_eq!(provider("vonage", vonage.clone()).unwrap_err(), "--provider vonage needs --application-id (or VONAGE_APPLICATION_ID)");
        let full = Credentials { application_id: some("aaaaaaaa-bbbb-cccc-dddd-0123456789ab"), ..vonage };
        assert!(matches!(provider("vonage", full), Ok(Provider::Vonage { .. })));
        // Plivo's token comes from --auth-token or PLIVO_AUTH_TOKEN (plivo_token), never blank.
        let plivo = Credentials { auth_id: some("MA0123456789ABCDEFGH"), plivo_token: some("  "), ..Default::default() };
        assert_eq!(provider("plivo", plivo).unwrap_err(), "--provider plivo needs --auth-token (or PLIVO_AUTH_TOKEN)");
        assert_eq!(
            provider("twilio", Credentials::default()).unwrap_err(),
            "--provider twilio needs --account-sid (or TWILIO_ACCOUNT_SID)"
        );
        assert!(matches!(provider("exotel", Credentials::default()), Ok(Provider::Exotel)));
    }
}
