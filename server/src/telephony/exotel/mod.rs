//! Exotel: what its applets send (parsed leniently) and what we answer (built, never concatenated).

pub mod answer;
pub mod params;
pub mod stream;
