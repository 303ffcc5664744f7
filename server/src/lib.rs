//! Voxgate's server side: settings, database, services, REST, telephony and voice.

pub mod agents;
pub mod bench;
pub mod calls;
pub mod campaigns;
pub mod clock;
pub mod config;
pub mod db;
pub mod docs;
pub mod errors;
pub mod http;
pub mod metrics;
pub mod net;
pub mod node;
pub mod notify;
pub mod numbers;
pub mod queue;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod shutdown;
pub mod simulator;
pub mod slots;
pub mod state;
pub mod system;
pub mod telemetry;
pub mod telephony;
pub mod test_calls;
pub mod users;
pub mod voice;

pub use config::Settings;
pub use state::AppState;
