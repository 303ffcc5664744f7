//! Accounts, sessions and API tokens through the service, on a real database.

use crate::common;

use std::sync::Arc;

use server::users::{self, AuthError, limiter::LoginLimiter};

async fn user_count(state: &server::AppState) -> i64 {
    server::db::row(&state.db, "RETURN count(SELECT id FROM user)", serde_json::json!({})).await.unwrap().unwrap()
}

fn field_of(e: AuthError) -> &'static str {
    match e {
        AuthError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn sign_up_normalizes_and_refuses_bad_input_without_writing() {
    let state = common::state().await;
    let u = users::sign_up(&state, "  Ana@Example.COM ", "correct horse battery").await.unwrap();
    assert_eq!(u.email, "ana@example.com");
    for (email, password, field) in [
        ("not-an-email", "correct horse battery", "email"),
        ("", "correct horse battery", "email"),
        ("bob@example.com", "short", "password"),
        ("ANA@example.com", "correct horse battery", "email"),
        ("\"quoted\"@example.com", "correct horse battery", "email"),
        ("ünï@example.com", "correct horse battery", "email"),
    ] {
        let err = users::sign_up(&state, email, password).await.unwrap_err();
        assert_eq!(field_of(err), field, "{email} / {password}");
    }
    assert_eq!(user_count(&state).await, 1);
}

#[tokio::test]
async fn login_checks_the_password_and_does_not_reveal_accounts() {
    let state = common::state().await;
    common::user(&state, "ana@example.com").await;
    let (u, token) = users::log_in(&state, "ANA@example.com", "correct horse battery", None).await.unwrap();
    assert_eq!(u.email, "ana@example.com");
    assert_eq!(users::session_user(&state, &token).await.unwrap().unwrap().owner, u.owner);

    let wrong = users::log_in(&state, "ana@example.com", "wrong password!", None).await.unwrap_err();
    let unknown = users::log_in(&state, "nobody@example.com", "wrong password!", None).await.unwrap_err();
    assert!(matches!(wrong, AuthError::BadCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn login_attempts_are_limited_per_account_and_per_ip() {
    let mut state = common::state().await;
    state.login_limiter = Arc::new(LoginLimiter::new(3, 5));
    common::user(&state, "ana@example.com").await;
    for _ in 0..3 {
        assert!(matches!(users::log_in(&state, "ana@example.com", "wrong password!", None).await, Err(AuthError::BadCredentials)));
    }
    // Even the right password is refused once the account is locked, with a message that
    // is the same for accounts that do not exist.
    let locked = users::log_in(&state, "ana@example.com", "correct horse battery", None).await.unwrap_err();
    assert!(matches!(locked, AuthError::TooManyAttempts(_)));
    for _ in 0..3 {
        let _ = users::log_in(&state, "ghost@example.com", "wrong password!", None).await;
    }
    let ghost = users::log_in(&state, "ghost@example.com", "wrong password!", None).await.unwrap_err();
    assert!(matches!(ghost, AuthError::TooManyAttempts(_)));
    assert!(locked.to_string().starts_with("Too many sign-in attempts."));

    // Per IP: one address trying many accounts is stopped too.
    let ip = Some("203.0.113.7".parse().unwrap());
    let mut refused = 0;
    for i in 0..8 {
        if let Err(AuthError::TooManyAttempts(_)) = users::log_in(&state, &format!("u{i}@example.com"), "wrong password!", ip).await {
            refused += 1;
        }
    }
    assert_eq!(refused, 3, "5 attempts from one IP pass, the rest are refused");
}

#[tokio::test]
async fn sessions_expire_and_end_on_logout() {
    let state = common::state().await;
    let u = common::user(&state, "ana@example.com").await;
    let token = users::open_session(&state, &u.owner).await.unwrap();
    assert!(users::session_user(&state, &token).await.unwrap().is_some());
    assert!(users::session_user(&state, "forged-token").await.unwrap().is_none());

    state.clock.advance(chrono::Duration::days(users::SESSION_DAYS) + chrono::Duration::minutes(1));
    assert!(users::session_user(&state, &token).await.unwrap().is_none(), "expired");

    let fresh = users::open_session(&state, &u.owner).await.unwrap();
    users::log_out(&state, &fresh).await.unwrap();
    assert!(users::session_user(&state, &fresh).await.unwrap().is_none(), "logged out");
}

#[tokio::test]
async fn api_tokens_are_hashed_listed_and_revoked() {
    let state = common::state().await;
    let u = common::user(&state, "ana@example.com").await;
    let (listed, token) = users::create_token(&state, &u.owner, "CRM sync").await.unwrap();
    assert!(token.starts_with("vg_") && token.len() > 40);
    assert!(token.starts_with(&listed.prefix));
    let stored: Vec<String> = server::db::rows(&state.db, "SELECT VALUE token_hash FROM api_token", serde_json::json!({})).await.unwrap();
    assert_eq!(stored, vec![users::token_hash(&token)], "only the hash is stored");

    assert_eq!(users::token_user(&state, &token).await.unwrap().unwrap().owner, u.owner);
    let listed_again = users::list_tokens(&state, &u.owner).await.unwrap();
    assert_eq!(listed_again.len(), 1);
    assert!(listed_again[0].last_used_at.is_some(), "use is recorded");

    assert!(matches!(users::create_token(&state, &u.owner, "  ").await, Err(AuthError::Invalid { field: "name", .. })));
    users::revoke_token(&state, &u.owner, &listed.id).await.unwrap();
    assert!(users::token_user(&state, &token).await.unwrap().is_none());
    assert!(matches!(users::revoke_token(&state, &u.owner, &listed.id).await, Err(AuthError::NotFound)));
}

async fn state_with(mode: users::signup::SignupMode) -> server::AppState {
    let mut settings = server::Settings::for_tests();
    settings.signup = mode;
    server::AppState::connect(settings).await.unwrap()
}

#[tokio::test]
async fn closed_sign_up_refuses_everyone_and_writes_nothing() {
    let state = state_with(users::signup::SignupMode::Closed).await;
    let err = users::sign_up_from(&state, "a@example.com", "correct horse battery", None, Some("inv_whatever")).await.unwrap_err();
    assert!(matches!(err, AuthError::SignupClosed), "{err}");
    assert_eq!(user_count(&state).await, 0);
    // The operator's own command still works.
    users::sign_up(&state, "ops@example.com", "correct horse battery").await.unwrap();
}

#[tokio::test]
async fn invite_only_sign_up_takes_each_code_once() {
    use users::signup::{INVITE_PREFIX, create_invite};
    let state = state_with(users::signup::SignupMode::Invite).await;
    let good = "correct horse battery";
    let no_code = users::sign_up_from(&state, "a@example.com", good, None, None).await.unwrap_err();
    assert_eq!(field_of(no_code), "invite");
    let wrong = users::sign_up_from(&state, "a@example.com", good, None, Some("inv_nottheone")).await.unwrap_err();
    assert_eq!(field_of(wrong), "invite");
    assert_eq!(user_count(&state).await, 0);

    let code = create_invite(&state, 7).await.unwrap();
    assert!(code.starts_with(INVITE_PREFIX) && code.len() > 20, "{code}");
    // A bad password does not use the code up; nor does a taken e-mail.
    let short = users::sign_up_from(&state, "a@example.com", "short", None, Some(&code)).await.unwrap_err();
    assert_eq!(field_of(short), "password");
    users::sign_up(&state, "taken@example.com", good).await.unwrap();
    let taken = users::sign_up_from(&state, "taken@example.com", good, None, Some(&code)).await.unwrap_err();
    assert_eq!(field_of(taken), "email");
    users::sign_up_from(&state, "a@example.com", good, None, Some(&code)).await.unwrap();
    let again = users::sign_up_from(&state, "b@example.com", good, None, Some(&code)).await.unwrap_err();
    assert_eq!(field_of(again), "invite", "a code is single-use");
    assert_eq!(user_count(&state).await, 2);
    // Only the hash is stored.
    let stored: Vec<String> = server::db::rows(&state.db, "SELECT VALUE code_hash FROM invite", serde_json::json!({})).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&code[INVITE_PREFIX.len()..]));

    // Two sign-ups racing for one code: exactly one gets it.
    let code = create_invite(&state, 7).await.unwrap();
    let state = Arc::new(state);
    let tries = (0..4).map(|i| {
        let (state, code) = (state.clone(), code.clone());
        tokio::spawn(async move { users::sign_up_from(&state, &format!("race{i}@example.com"), good, None, Some(&code)).await.is_ok() })
    });
    let won: Vec<bool> = futures_util::future::join_all(tries).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}
