//! tracing setup: one line per event on stderr, filtered by VOXGATE_LOG.

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
