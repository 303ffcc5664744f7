//! Who may create an account: anyone (`open`), holders of an operator's invite code
//! (`invite`), or no one (`closed`: the operator adds accounts with `voxgate user add`).
//! `VOXGATE_SIGNUP` chooses. Invite codes are single-use, expire, and are stored as SHA-256
//! hashes only; `voxgate invite create` prints a new one once.

use super::{AuthError, token_hash};
use crate::db::invites as repo;
use crate::state::AppState;

/// The sign-up policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignupMode {
    #[default]
    Open,
    Invite,
    Closed,
}

impl SignupMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            other => Err(format!("{other:?} is not a sign-up mode; use open, invite or closed")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

/// Every invite code starts with this.
pub const INVITE_PREFIX: &str = "inv_";
/// Days an invite code stays valid by default.
pub const INVITE_DAYS: i64 = 7;

/// What the database stores for `code` (as for tokens: its SHA-256).
fn hash(code: &str) -> String {
    token_hash(code.trim())
}

/// Creates an invite code valid for `days`; returns it (shown once, stored hashed).
pub async fn create_invite(state: &AppState, days: i64) -> Result<String, AuthError> {
    let code = format!("{INVITE_PREFIX}{}", crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 24));
    let now = state.clock.now();
    let expires = now + chrono::Duration::days(days.clamp(1, 365));
    repo::insert(&state.db, &hash(&code), &crate::clock::rfc3339(now), &crate::clock::rfc3339(expires)).await?;
    Ok(code)
}

/// Whether sign-up is allowed under the server's mode (before any costly work).
pub fn check_open(state: &AppState, invite: Option<&str>) -> Result<(), AuthError> {
    match state.settings.signup {
        SignupMode::Open => Ok(()),
        SignupMode::Closed => Err(AuthError::SignupClosed),
        SignupMode::Invite if invite.is_none_or(|c| c.trim().is_empty()) => {
            Err(AuthError::Invalid { field: "invite", message: "Enter your invite code.".into() })
        }
        SignupMode::Invite => Ok(()),
    }
}

/// Uses up `code` for the account `email`; a code that is unknown, used or expired is refused.
pub async fn redeem(state: &AppState, code: &str, email: &str) -> Result<(), AuthError> {
    if repo::redeem(&state.db, &hash(code), email, &state.clock.now_rfc3339()).await? {
        Ok(())
    } else {
        Err(AuthError::Invalid { field: "invite", message: "This invite code is not valid: it is unknown, used or expired.".into() })
    }
}

/// Gives `code` back (the account it was used for could not be created).
pub async fn release(state: &AppState, code: &str) {
    if let Err(e) = repo::release(&state.db, &hash(code)).await {
        tracing::warn!(error = %e, "cannot release an invite code");
    }
}
