//! The server crate's integration tests, linked into one binary (each test binary links
//! SurrealDB, CTranslate2 and onnxruntime: on 2 cores one link instead of fourteen saves minutes).

mod common;

mod answers;
mod auth_http;
mod browser_call;
mod call;
mod calls;
mod campaigns;
mod db;
mod doctor;
mod fuzz_exotel;
mod guard;
mod hindi;
mod hostile;
mod http;
mod isolation;
mod load;
mod nodes;
mod notifications;
mod notify_calls;
mod notify_email;
mod number_import;
mod numbers;
mod openai;
mod openapi;
mod ops;
mod outbound;
mod ownership;
mod plivo;
mod privacy;
mod recordings;
mod routing;
mod scale;
mod serve;
mod session;
mod stream;
mod surreal;
mod telephony;
mod testcall;
mod transfer;
mod turns;
mod twilio;
mod users;
mod voice;
mod vonage;
