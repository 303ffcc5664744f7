//! `voxgate`: the command line. Each subcommand calls into the server crate.
// Printing results is this binary's job (the server library never prints).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod call;
mod dial;
mod numbers;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use server::Settings;

#[derive(Parser)]
#[command(name = "voxgate", version, about = "Self-hostable telephony layer for voice AI agents")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once per run: `call`'s many flags need no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the dashboard, REST API and telephony endpoints (the default).
    Serve,
    /// Print the effective settings (secrets redacted) and exit.
    Config,
    /// Manage accounts on the configured database (works while the server is stopped).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens for the REST API.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage sign-up invite codes (VOXGATE_SIGNUP=invite).
    Invite {
        #[command(subcommand)]
        command: InviteCommand,
    },
    /// Place a call as Exotel would (webhook, stream, caller audio in real time) and print
    /// the transcript with per-turn latencies.
    Call {
        /// The number's webhook URL (or Voicebot URL), as the dashboard shows it.
        url: String,
        /// Say this (synthesized with the offline Piper voice, or eSpeak NG with --language hi);
        /// repeat for more turns.
        #[arg(long)]
        say: Vec<String>,
        /// The caller's language: en, or hi (Hindi, spoken by eSpeak NG).
        #[arg(long, default_value = "en", value_parser = ["en", "hi"])]
        language: String,
        /// Send this 16-bit PCM WAV file as a turn; repeat for more turns.
        #[arg(long)]
        wav: Vec<std::path::PathBuf>,
        /// Press these keys after the spoken turns.
        #[arg(long)]
        dtmf: Option<String>,
        /// Say this over the agent's last reply (barge-in).
        #[arg(long)]
        barge_in: Option<String>,
        /// Save what the agent said to this WAV file.
        #[arg(long)]
        record: Option<std::path::PathBuf>,
        /// Stream at this rate (8000, 16000 or 24000) instead of the URL's.
        #[arg(long)]
        rate: Option<u32>,
        /// API token of the number's owner: print the stored transcript and timings.
        #[arg(long, env = "VOXGATE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Whose side to play: exotel; twilio (a signed webhook, TwiML, a μ-law stream);
        /// vonage (a JWT-signed webhook, an NCCO, binary 16-bit audio); plivo (a V3-signed
        /// webhook, Plivo XML, the Audio Stream).
        #[arg(long, default_value = "exotel", value_parser = ["exotel", "twilio", "vonage", "plivo"])]
        provider: String,
        /// Twilio: the number's account SID (AC…).
        #[arg(long, env = "TWILIO_ACCOUNT_SID")]
        account_sid: Option<String>,
        /// Twilio or Plivo: the number's auth token, to sign the webhook as the provider does
        /// (for Plivo also PLIVO_AUTH_TOKEN).
        #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
        auth_token: Option<String>,
        /// Plivo: the number's auth id (MA… or SA…).
        #[arg(long, env = "PLIVO_AUTH_ID")]
        auth_id: Option<String>,
        /// Vonage: the number's API key.
        #[arg(long, env = "VONAGE_API_KEY")]
        api_key: Option<String>,
        /// Vonage: the signature secret, to sign the webhook's JWT as Vonage does.
        #[arg(long, env = "VONAGE_SIGNATURE_SECRET", hide_env_values = true)]
        signature_secret: Option<String>,
        /// Vonage: the application id the number is linked to.
        #[arg(long, env = "VONAGE_APPLICATION_ID")]
        application_id: Option<String>,
        /// Open the call's stream on this origin (http://host:port of another node) instead of
        /// the one the answer names, as a load balancer may.
        #[arg(long)]
        stream_origin: Option<url::Url>,
    },
    /// Import phone numbers from a CSV file into a running Voxgate (columns named after the
    /// JSON fields: phoneNumber, provider, exotelConfig.sid, …; see docs/TELEPHONY_SETUP.md).
    Import {
        file: std::path::PathBuf,
        /// API token of the account to import into.
        #[arg(long, env = "VOXGATE_TOKEN", hide_env_values = true)]
        token: String,
        /// Voxgate's base URL (default: this configuration's listen address).
        #[arg(long)]
        url: Option<String>,
        /// A JSON file of settings every row takes unless it gives its own (credentials once).
        #[arg(long)]
        defaults: Option<std::path::PathBuf>,
        /// Check every row and print what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check that each number of an account would answer a call now (public URL, credentials,
    /// ownership, stream settings, agent, status), with the fix for each failure.
    Doctor {
        /// One number's id (default: every number).
        #[arg(long)]
        number: Option<String>,
        /// API token of the account.
        #[arg(long, env = "VOXGATE_TOKEN", hide_env_values = true)]
        token: String,
        /// Voxgate's base URL (default: this configuration's listen address).
        #[arg(long)]
        url: Option<String>,
    },
    /// Call someone from one of your numbers with an agent, through the number's provider, in a
    /// running Voxgate; prints the call and, with --wait, follows it to its end.
    Dial {
        /// The number that calls (its id).
        #[arg(long)]
        phone: String,
        /// Whom to call, in international format (+14155550100).
        #[arg(long)]
        to: String,
        /// The agent that talks (default: the number's).
        #[arg(long)]
        agent: Option<String>,
        /// A variable for the agent's greeting and replies, `name=value` (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<String>,
        /// Wait for the call to end and print its outcome and transcript.
        #[arg(long)]
        wait: bool,
        #[arg(long, env = "VOXGATE_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long)]
        url: Option<String>,
    },
    /// Run a local provider cloud (the numbers APIs of Exotel, Twilio, Vonage and Plivo, from
    /// shared/protocols/) with the accounts of a JSON file, for tests and demos.
    Cloud {
        /// A JSON array of accounts: [{"provider","id","key","secret","numbers":[{"number"}]}].
        #[arg(long)]
        accounts: std::path::PathBuf,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
    /// Speak `text` with the offline voice (Piper, or eSpeak NG for Hindi) into a 16-bit mono
    /// WAV file, with silence around it (a caller's line for tests, e.g. Chromium's fake microphone).
    Say {
        text: String,
        /// The language of `text`: en, or hi (Hindi, spoken by eSpeak NG).
        #[arg(long, default_value = "en", value_parser = ["en", "hi"])]
        language: String,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 16_000)]
        rate: u32,
        /// Silence before and after the speech, in milliseconds.
        #[arg(long, default_value_t = 0)]
        pad_ms: u32,
    },
    /// Run a benchmark and print its figures.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from the first line of stdin.
    Add { email: String },
}

#[derive(Subcommand)]
enum InviteCommand {
    /// Create a single-use invite code and print it once.
    Create {
        /// Days the code stays valid (1 to 365).
        #[arg(long, default_value_t = server::users::signup::INVITE_DAYS)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an account and print it once.
    Create {
        email: String,
        /// A name to recognise the token by in Settings.
        #[arg(long, default_value = "created with voxgate token create")]
        name: String,
    },
}

/// Two malloc arenas instead of glibc's default of eight per core: hundreds of calls churn
/// small buffers (frames, JSON, base64) across threads, and the extra arenas mostly held freed
/// memory (`voxgate bench calls`: about 330 KB resident per call with the default, 270 KB with two).
/// glibc's own MALLOC_ARENA_MAX, when set, wins.
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes allocator tuning; called before any other thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let mut settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("voxgate: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // SurrealDB's query planner recurses deeply; it recommends 10 MiB worker stacks.
        .thread_stack_size(10 << 20)
        // Busy workers check timers and sockets every 16 tasks instead of 61, so a call's next
        // audio chunk leaves on time while hundreds of calls keep the workers busy.
        .event_interval(16)
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("voxgate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(&mut settings)),
        Command::Config => {
            println!("{settings:#?}\n\nEnvironment variables:");
            for (name, meaning) in server::config::ENV_VARS.iter().chain(server::config::providers::PROVIDER_VARS) {
                println!("  {name:<28} {meaning}");
            }
            Ok(())
        }
        Command::User { command: UserCommand::Add { email } } => runtime.block_on(user_add(&settings, &email)),
        Command::Token { command: TokenCommand::Create { email, name } } => runtime.block_on(token_create(&settings, &email, &name)),
        Command::Invite { command: InviteCommand::Create { days } } => runtime.block_on(invite_create(&settings, days)),
        Command::Call {
            url,
            say,
            language,
            wav,
            dtmf,
            barge_in,
            record,
            rate,
            token,
            provider,
            account_sid,
            auth_token,
            auth_id,
            api_key,
            signature_secret,
            application_id,
            stream_origin,
        } => {
            let plivo_token = auth_token.clone().or_else(|| std::env::var("PLIVO_AUTH_TOKEN").ok());
            let credentials =
                call::Credentials { account_sid, auth_token, auth_id, plivo_token, api_key, signature_secret, application_id };
            let provider = call::provider(&provider, credentials).map_err(anyhow::Error::msg);
            let args = provider.map(|provider| call::CliCall {
                url,
                say,
                wav,
                dtmf,
                barge_in,
                record,
                rate,
                token,
                provider,
                language,
                stream_origin,
            });
            runtime.block_on(async { call::run(&settings, args?).await.map_err(anyhow::Error::msg) })
        }
        Command::Import { file, token, url, defaults, dry_run } => {
            let base = numbers::base_url(&settings, url);
            runtime.block_on(numbers::import(&base, &token, file, defaults, dry_run))
        }
        Command::Doctor { number, token, url } => {
            let base = numbers::base_url(&settings, url);
            runtime.block_on(numbers::doctor(&base, &token, number))
        }
        Command::Dial { phone, to, agent, variables, wait, token, url } => {
            let base = numbers::base_url(&settings, url);
            runtime.block_on(dial::dial(&base, &token, dial::Dial { phone, to, agent, variables, wait }))
        }
        Command::Cloud { accounts, listen } => runtime.block_on(numbers::cloud(listen, accounts)),
        Command::Say { text, language, out, rate, pad_ms } => {
            runtime.block_on(call::say(&settings, &text, &language, &out, rate, pad_ms)).map_err(anyhow::Error::msg)
        }
        Command::Bench { command } => {
            let dir = std::env::temp_dir().join(format!("voxgate-bench-{}", std::process::id()));
            let result = runtime.block_on(bench::run(&dir, &settings, command));
            // The embedded store flushes while the runtime shuts down; remove its files after.
            drop(runtime);
            let _ = std::fs::remove_dir_all(&dir);
            return exit(result);
        }
    };
    exit(result)
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voxgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &mut Settings) -> anyhow::Result<()> {
    server::telemetry::init_as(&settings.log, settings.ops.log_format);
    let listener = server::serve::bind(settings.listen_addr).await?;
    let addr = listener.local_addr()?;
    let options = app::ssr::leptos_options(&settings.site);
    let state = server::AppState::connect(settings.clone()).await?;
    // Calls this node left live when it last stopped are over: fail them before answering.
    server::calls::recover(&state).await?;
    // Load the offline models and render the agents' greetings while the server starts.
    let warm = state.clone();
    tokio::spawn(async move {
        let agents = server::agents::recent_for_warm_up(&warm).await;
        warm.voice.warm_up(&agents, true).await;
        tracing::info!(greetings = agents.len(), "voice ready");
    });
    // Request spans carry the path only: telephony URLs hold their number's secret in the query.
    let trace = tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(|req: &axum::extract::Request| tracing::debug_span!("request", method = %req.method(), path = %req.uri().path()));
    // This node's heartbeat; sweeps (stale calls, dead nodes' calls) run on one node at a time.
    server::node::sweeps::spawn(state.clone());
    // Numbers and agents changed by any node leave this node's webhook cache.
    tokio::spawn(server::numbers::cache::watch(state.clone()));
    // Campaigns dial from every node; a lease per campaign keeps one node on each.
    server::campaigns::dialer::spawn(state.clone());
    // Webhook and e-mail deliveries from the queue in the database; leases keep one node on each.
    server::notify::worker::spawn(state.clone());
    let router = app::ssr::router(state.clone(), options).layer(trace);
    tracing::info!(%addr, public_url = %settings.public_url, database = %settings.database_url, "voxgate listening");
    println!("voxgate listening on http://{addr}");
    stop(listener, router, &state).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Serves until SIGTERM or Ctrl-C, then stops within the configured deadline: the listener
/// closes, calls say their closing line and record their end, event streams close.
async fn stop(listener: tokio::net::TcpListener, router: axum::Router, state: &server::AppState) -> anyhow::Result<()> {
    let shutdown = state.shutdown.clone();
    let signal = async move {
        server::serve::shutdown_signal().await;
        shutdown.begin();
    };
    let serving = server::serve::run_with(listener, router, server::serve::Limits::for_this_process(), signal);
    let (begun, deadline) = (state.shutdown.clone(), state.settings.shutdown_timeout);
    let over = async move {
        begun.begun().await;
        tokio::time::sleep(deadline).await;
    };
    tokio::pin!(over);
    tokio::select! {
        served = serving => served?,
        () = &mut over => tracing::warn!("shutdown deadline reached with connections still open"),
    }
    let calls = state.calls.clone();
    let drained = async move {
        while calls.held() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        () = drained => {}
        () = &mut over => tracing::warn!(calls = state.calls.held(), "shutdown deadline reached; calls cut (failed at the next start)"),
    }
    Ok(())
}

/// Opens the database for an operator command, explaining a lock held by a running server.
async fn open_for_operator(settings: &Settings) -> anyhow::Result<server::AppState> {
    server::telemetry::init("warn");
    server::AppState::connect(settings.clone()).await.map_err(|e| match e {
        server::state::StartError::Db(server::db::DbError::Locked(db)) => anyhow::anyhow!(
            "the database {db} is held by a running voxgate server; stop it first, or point VOXGATE_DATABASE_URL at a SurrealDB server both can share"
        ),
        other => other.into(),
    })
}

async fn user_add(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let state = open_for_operator(settings).await?;
    let user = server::users::sign_up(&state, email, password).await?;
    println!("created account {}", user.email);
    Ok(())
}

async fn invite_create(settings: &Settings, days: i64) -> anyhow::Result<()> {
    let state = open_for_operator(settings).await?;
    let code = server::users::signup::create_invite(&state, days).await?;
    eprintln!("Invite code (single use, valid {} days; shown once):", days.clamp(1, 365));
    println!("{code}");
    Ok(())
}

async fn token_create(settings: &Settings, email: &str, name: &str) -> anyhow::Result<()> {
    let state = open_for_operator(settings).await?;
    let user = server::users::operator_lookup(&state, email).await?;
    let (_, token) = server::users::create_token(&state, &user.owner, name).await?;
    eprintln!("API token for {} (shown once; send it as Authorization: Bearer):", user.email);
    println!("{token}");
    Ok(())
}
