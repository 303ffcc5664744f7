//! tracing setup: one event per line on stderr, filtered by VOXGATE_LOG, as text or as JSON
//! (VOXGATE_LOG_FORMAT=json: one object per event, with the fields of the spans it happened in,
//! such as the call, number and user ids).

use tracing_subscriber::fmt::MakeWriter;

pub use crate::config::ops::LogFormat;

/// A subscriber writing `format` lines to `writer`, filtered by `filter` (`info` if it does not
/// parse). Tests capture the log with their own writer.
pub fn subscriber<W>(filter: &str, format: LogFormat, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Text => Box::new(fmt.finish()),
        LogFormat::Json => Box::new(fmt.json().flatten_event(true).with_current_span(false).with_span_list(true).finish()),
    }
}

/// Installs the global text subscriber on stderr (once; later calls are ignored).
pub fn init(filter: &str) {
    init_as(filter, LogFormat::Text);
}

/// Installs the global subscriber on stderr in `format` (once; later calls are ignored).
pub fn init_as(filter: &str, format: LogFormat) {
    let _ = tracing::subscriber::set_global_default(subscriber(filter, format, std::io::stderr));
}
