//! Test calls, run from the dashboard: a number's "Test" (the provider simulator placing a call
//! through the number's real answer URL and stream, [`number`]) and the browser test call
//! (crate::telephony::browser). Both hold a slot of [`crate::state::AppState::test_calls`]
//! while they run, so one user cannot fill the voice pipeline with them.

pub mod number;

use crate::errors::DomainError;
use crate::slots::{Full, Slot};
use crate::state::AppState;
use crate::users::Owner;

/// Test calls running at once on this node, in all.
pub const MAX_TEST_CALLS: usize = 8;
/// Test calls one user may run at once.
pub const MAX_TEST_CALLS_PER_USER: usize = 2;

/// A test call's slot for `owner`, or why there is none.
pub fn take_slot(state: &AppState, owner: &Owner) -> Result<Slot, DomainError> {
    state.test_calls.take(owner.id()).map_err(|full| {
        DomainError::Busy(match full {
            Full::PerKey(n) => format!("You already have {n} test calls running; try again when one ends."),
            Full::Total(_) => "The server is running as many test calls as it takes; try again in a minute.".into(),
        })
    })
}
