//! Outbound networking: requests to hosts a tenant chooses go through [`guard`].

pub mod guard;

pub use guard::{GuardPolicy, GuardedClient, Refused};
