//! `voxgate bench …`: runs one of the server crate's benchmarks (`server::bench`) and prints
//! its figures.

use clap::Subcommand;
use server::Settings;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Import N numbers into an embedded file database and time paged listing and search.
    Numbers {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 50)]
        page_size: u32,
    },
    /// Write N calls of one user into an embedded file database and time Call Logs pages,
    /// filters and the Analytics page.
    CallLogs {
        #[arg(long, default_value_t = 100_000)]
        calls: usize,
    },
    /// Drive the answer webhook at a fixed rate over loopback and print latency percentiles.
    Webhook {
        #[arg(long, default_value_t = 2000)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// A SurrealDB server (`ws://host:port`; VOXGATE_DATABASE_USER and _PASSWORD from the
        /// environment) instead of the embedded file database.
        #[arg(long)]
        database: Option<String>,
        /// Calls written in one transaction at most (1: each call alone).
        #[arg(long, default_value_t = server::db::call_writer::GROUP)]
        group: usize,
    },
    /// The load of `bench webhook`, run by it as a separate process.
    #[command(hide = true)]
    WebhookLoad {
        #[arg(long)]
        url: String,
        #[arg(long)]
        rate: u32,
        #[arg(long)]
        seconds: u32,
    },
    /// N simulated Exotel callers at once against an echo agent with VAD on: send jitter,
    /// server-added latency per turn, memory per call. With --max-calls under N, the calls
    /// over the cap are turned away as busy (a load test past capacity); with --offline, the
    /// agent is the whole offline voice (Whisper, scripted agent, Piper).
    Calls {
        #[arg(long, default_value_t = 500)]
        calls: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u32,
        #[arg(long)]
        max_calls: Option<usize>,
        #[arg(long)]
        offline: bool,
        /// Whose protocol the callers speak: exotel; twilio (signed webhooks, μ-law at 8 kHz);
        /// vonage (JWT-signed webhooks, binary 16-bit audio at 16 kHz); plivo (V3-signed
        /// webhooks, μ-law at 8 kHz).
        #[arg(long, default_value = "exotel", value_parser = ["exotel", "twilio", "vonage", "plivo"])]
        provider: String,
    },
    /// The callers' side of `bench calls` (run by it in a child process).
    #[command(hide = true)]
    Callers {
        #[arg(long)]
        webhook: String,
        #[arg(long)]
        calls: usize,
        #[arg(long)]
        turns: usize,
        #[arg(long, default_value = "exotel")]
        provider: String,
    },
    /// The offline voice end to end on 20 phone utterances at 8 kHz: voice-to-voice latency
    /// with its breakdown per stage, and the word error rate; then 8 utterances with a pause
    /// where the words trail off: callers cut off.
    Voice {
        /// The caller's line: clean, or g711-noise (line noise, then μ-law).
        #[arg(long, default_value = "clean", value_parser = ["clean", "g711-noise"])]
        line: String,
        /// Turn-taking as before finished words ended turns: only the end-of-speech silence
        /// ends a turn, Whisper reads 30 s, the early reply waits 300 ms (before/after figures).
        #[arg(long)]
        before: bool,
    },
    /// Whisper alone on the 20 utterances, clean and through G.711 with line noise: word error
    /// rate, key words, run time and the encoder's share.
    Stt {
        /// tiny.en or base (base needs VOXGATE_STT_MODEL=base at set-up).
        #[arg(long, default_value = "tiny.en")]
        model: String,
        #[arg(long, default_value = "int8", value_parser = ["int8", "int8_float32", "int16", "float32"])]
        compute: String,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 1)]
        beam: usize,
        /// Always read Whisper's full 30 s window (the old behaviour).
        #[arg(long)]
        full_window: bool,
        /// Prompt Whisper with the utterances' key words.
        #[arg(long)]
        prompt: bool,
        #[arg(long, default_value_t = 0.8)]
        no_speech: f32,
    },
    /// A campaign of N contacts through the local provider cloud (which plays every callee and
    /// refuses dials past --provider-rate with 429): dial rate held, 429s, peak concurrency,
    /// double-dials and contacts lost.
    Campaign {
        #[arg(long, default_value_t = 1000)]
        contacts: usize,
        #[arg(long, default_value_t = 20)]
        concurrent: u32,
        #[arg(long, default_value_t = 10.0)]
        calls_per_second: f64,
        /// The provider's dials a second (429 past it); 0 for no limit.
        #[arg(long, default_value_t = 5)]
        provider_rate: u32,
    },
}

/// Runs the benchmark with its embedded database under `dir` and prints a title and its figures.
pub async fn run(dir: &std::path::Path, settings: &Settings, command: BenchCommand) -> anyhow::Result<()> {
    server::telemetry::init("error,surrealdb_core=off,surrealkv=off");
    let profile = if cfg!(debug_assertions) { "debug build" } else { "release build" };
    let (title, lines) = match command {
        BenchCommand::Numbers { count, page_size } => (
            format!("numbers ({profile}, embedded SurrealKV file, {count} numbers, one user)"),
            server::bench::numbers(dir, count, page_size).await,
        ),
        BenchCommand::CallLogs { calls } => {
            (format!("call logs ({profile}, embedded SurrealKV file, {calls} calls, one user)"), server::bench::call_logs(dir, calls).await)
        }
        BenchCommand::Webhook { rate, seconds, database, group } => {
            let store = database.as_deref().map_or("embedded SurrealKV file".to_string(), |d| format!("SurrealDB server {d}"));
            let figures = server::bench::webhook(dir, database.as_deref(), rate, seconds, group).await;
            (format!("webhook ({profile}, {store}, load from a separate process, loopback HTTP/1.1)"), figures)
        }
        BenchCommand::WebhookLoad { url, rate, seconds } => {
            let report = server::bench::webhook_load(&url, rate, seconds).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{report}");
            return Ok(());
        }
        BenchCommand::Calls { calls, seconds, max_calls, offline, provider } => (
            format!(
                "calls ({profile}, {calls} simulated {provider} callers on loopback, {}, webrtc-vad + Silero)",
                if offline { "offline voice: Whisper + scripted agent + Piper" } else { "echo agent" }
            ),
            server::bench::calls(dir, calls, seconds, max_calls, offline, provider_of(&provider)).await,
        ),
        BenchCommand::Callers { webhook, calls, turns, provider } => {
            let report =
                server::bench::callers(&webhook, calls, turns, provider_of(&provider)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{report}");
            return Ok(());
        }
        BenchCommand::Campaign { contacts, concurrent, calls_per_second, provider_rate } => (
            format!("campaign ({profile}, embedded SurrealKV file, local provider cloud as Twilio, loopback)"),
            server::bench::campaign::run(
                dir,
                server::bench::campaign::CampaignBench {
                    contacts,
                    concurrent,
                    calls_per_second,
                    provider_rate: (provider_rate > 0).then_some(provider_rate),
                },
            )
            .await,
        ),
        BenchCommand::Voice { line, before } => (
            format!("voice ({profile}, Silero + Whisper {} + scripted agent + Piper, calls over loopback)", settings.stt_model),
            server::bench::voice(
                dir,
                server::bench::VoiceBench {
                    line: server::bench::Line::parse(&line).unwrap_or(server::bench::Line::Clean),
                    tuning: if before {
                        server::voice::engine::Tuning::before_smart_turns()
                    } else {
                        server::voice::engine::Tuning::default()
                    },
                },
            )
            .await,
        ),
        BenchCommand::Stt { model, compute, threads, beam, full_window, prompt, no_speech } => (
            format!("stt ({profile}, Whisper alone on 20 utterances at 8 kHz)"),
            server::bench::stt(
                &settings.models_dir,
                server::bench::SttBench {
                    model,
                    compute,
                    threads,
                    decoding: server::voice::whisper::Decoding {
                        beam_size: beam,
                        short_window: !full_window,
                        no_speech,
                        ..Default::default()
                    },
                    prompt_key_words: prompt,
                },
            )
            .await,
        ),
    };
    let lines = lines.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("voxgate bench {title}");
    for line in lines {
        println!("  {line}");
    }
    Ok(())
}

/// The provider a benchmark's callers play (Exotel's protocol unless `twilio`).
fn provider_of(name: &str) -> domain::phone_number::Provider {
    name.parse().unwrap_or(domain::phone_number::Provider::Exotel)
}
