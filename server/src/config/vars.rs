//! The environment variables Voxgate reads (for the docs and `--help`).

/// The environment variables Voxgate reads, with what each one sets (for docs and `--help`).
pub const ENV_VARS: &[(&str, &str)] = &[
    ("VOXGATE_LISTEN_ADDR", "address the server listens on (default: Leptos.toml site-addr, 127.0.0.1:3000)"),
    ("VOXGATE_PUBLIC_URL", "public base URL used in webhook URLs (default http://127.0.0.1:3000)"),
    ("VOXGATE_DATABASE_URL", "surrealkv://<path> | mem:// | ws://host:port (default surrealkv://data/db)"),
    ("VOXGATE_DATABASE_NAMESPACE", "SurrealDB namespace (default voxgate)"),
    ("VOXGATE_DATABASE_NAME", "SurrealDB database (default main)"),
    ("VOXGATE_DATABASE_USER", "SurrealDB server user (ws:// only)"),
    ("VOXGATE_DATABASE_PASSWORD", "SurrealDB server password (ws:// only)"),
    (
        "VOXGATE_DATABASE_AUTH",
        "level of VOXGATE_DATABASE_USER: root (default) | namespace | database (DEFINE USER ... ON DATABASE ... ROLES EDITOR)",
    ),
    ("VOXGATE_DATA_DIR", "directory for the embedded database and secret.key (default data)"),
    ("VOXGATE_SECRET_KEY", "64 hex characters sealing stored credentials (default: generated into data/secret.key)"),
    ("VOXGATE_MODELS_DIR", "offline voice models fetched by the set-up command (default <data dir>/models)"),
    ("VOXGATE_STT_MODEL", "offline Whisper model: tiny.en (default, fast) | base (more accurate, ~2x slower)"),
    ("VOXGATE_VOICE_THREADS", "CPU threads for one speech-to-text or text-to-speech run (default 2)"),
    (
        "VOXGATE_PROVIDER_TIMEOUT_MS",
        "limit for a provider's transcript, first reply token or speech before the fallback line (default 8000)",
    ),
    (
        "VOXGATE_OUTBOUND_ALLOW",
        "comma-separated address ranges agents' provider URLs may reach although private or loopback, e.g. 10.0.0.0/8,::1 (default none)",
    ),
    ("VOXGATE_MAX_CALLS", "calls streaming at once on this node; more are turned away as busy (default 100)"),
    ("VOXGATE_MAX_CALLS_PER_USER", "calls streaming at once for one user (default 20)"),
    ("VOXGATE_NODE_ID", "this node's name on its calls, letters, digits, - and _ (default: generated into <data dir>/node.id)"),
    (
        "VOXGATE_TRUSTED_PROXIES",
        "address ranges of your reverse proxies, whose X-Forwarded-For names the client for rate limits (default none: the header is ignored)",
    ),
    ("VOXGATE_SHUTDOWN_SECONDS", "on SIGTERM, time for calls to say goodbye and record their end before the exit (default 10)"),
    ("VOXGATE_SIGNUP", "who may create an account: open (default) | invite (a code from voxgate invite create) | closed"),
    ("VOXGATE_LOG", "tracing filter (default info,surrealdb=warn)"),
    ("VOXGATE_LOG_FORMAT", "text (default) | json: one JSON object per event, with call, number and user ids"),
    ("VOXGATE_MODE", "development (default) | production: refuses an http, loopback or private VOXGATE_PUBLIC_URL"),
    ("VOXGATE_ALLOW_INSECURE_URL", "true: run in production with such a public URL anyway (default false)"),
    ("VOXGATE_METRICS_TOKEN", "bearer token that scrapes of /metrics must send, 16+ characters (default none: /metrics is open)"),
    ("VOXGATE_SMTP_HOST", "SMTP server for e-mail alerts (default none: e-mail alerts off)"),
    ("VOXGATE_SMTP_PORT", "SMTP port (default 587 with starttls, 465 with tls, 25 with none)"),
    ("VOXGATE_SMTP_TLS", "starttls (default) | tls | none (a relay on the same host only)"),
    ("VOXGATE_SMTP_USER", "SMTP user name (with VOXGATE_SMTP_PASSWORD)"),
    ("VOXGATE_SMTP_PASSWORD", "SMTP password (never printed)"),
    ("VOXGATE_SMTP_FROM", "From address of e-mail alerts (required with VOXGATE_SMTP_HOST)"),
    (
        "VOXGATE_NOTIFY_RETRY_SECONDS",
        "waits between tries of a webhook or e-mail delivery (default 10,60,300,1800,7200,21600,43200: 8 tries)",
    ),
    ("VOXGATE_NOTIFY_RETENTION_DAYS", "days the delivery log keeps finished deliveries (default 30)"),
];
