//! The ownership check: the number's provider account is asked whether it owns the number
//! (each provider's client is in `telephony/<provider>/account.rs`). On import and on "Verify".

use domain::phone_number::{Provider, VerificationView, VerifyStatus};

use crate::db::number_checks::{self as checks, CheckRecord};
use crate::db::phone_numbers as repo;
use crate::errors::DomainError;
use crate::state::AppState;
use crate::telephony::accounts::{AccountError, OwnedNumber, same_number};
use crate::telephony::{exotel, plivo, twilio, vonage};
use crate::users::Owner;

/// Plain credentials to ask a provider's account with (opened from the input or the row).
#[derive(Clone)]
pub enum Ask {
    Exotel { domain: String, sid: String, api_key: String, api_token: String },
    Twilio { account_sid: String, auth_token: String },
    Vonage { api_key: String, api_secret: String, application_id: String },
    Plivo { auth_id: String, auth_token: String },
}

impl Ask {
    fn provider(&self) -> Provider {
        match self {
            Self::Exotel { .. } => Provider::Exotel,
            Self::Twilio { .. } => Provider::Twilio,
            Self::Vonage { .. } => Provider::Vonage,
            Self::Plivo { .. } => Provider::Plivo,
        }
    }

    /// The account as the user knows it (never a secret).
    fn account(&self) -> &str {
        match self {
            Self::Exotel { sid, .. } => sid,
            Self::Twilio { account_sid, .. } => account_sid,
            Self::Vonage { api_key, .. } => api_key,
            Self::Plivo { auth_id, .. } => auth_id,
        }
    }
}

/// The credentials a validated input gives, when complete (an edit that keeps stored secrets
/// gives none: its last check stands).
pub fn ask_of(v: &domain::phone_number::ValidPhoneNumber) -> Option<Ask> {
    if let Some(e) = &v.exotel {
        return Some(Ask::Exotel {
            domain: e.domain.clone(),
            sid: e.sid.clone(),
            api_key: e.api_key.clone()?,
            api_token: e.api_token.clone()?,
        });
    }
    if let Some(t) = &v.twilio {
        return Some(Ask::Twilio { account_sid: t.account_sid.clone(), auth_token: t.auth_token.clone()? });
    }
    if let Some(c) = &v.vonage {
        return Some(Ask::Vonage {
            api_key: c.api_key.clone(),
            api_secret: c.api_secret.clone()?,
            application_id: c.application_id.clone(),
        });
    }
    let p = v.plivo.as_ref()?;
    Some(Ask::Plivo { auth_id: p.auth_id.clone(), auth_token: p.auth_token.clone()? })
}

/// The input field a refused credential is shown next to.
pub fn credential_field(provider: Provider) -> &'static str {
    match provider {
        Provider::Exotel => "exotelConfig.apiToken",
        Provider::Twilio => "twilioConfig.authToken",
        Provider::Vonage => "vonageConfig.apiSecret",
        Provider::Plivo => "plivoConfig.authToken",
        Provider::Other => "provider",
    }
}

/// The field an outcome is about.
pub fn field_of(provider: Provider, status: VerifyStatus) -> Option<&'static str> {
    match status {
        VerifyStatus::NotOwned | VerifyStatus::NotVoice => Some("phoneNumber"),
        VerifyStatus::Credentials => Some(credential_field(provider)),
        _ => None,
    }
}

async fn owned(state: &AppState, ask: &Ask, number: Option<&str>) -> Result<Vec<OwnedNumber>, AccountError> {
    let apis = &state.settings.provider_apis;
    let client = &state.provider_api;
    match ask {
        Ask::Exotel { domain, sid, api_key, api_token } => {
            let base = apis.exotel.clone().unwrap_or_else(|| format!("https://{domain}"));
            let creds = exotel::account::Credentials { sid, api_key, api_token };
            exotel::account::owned_numbers(client, &base, &creds, number).await
        }
        Ask::Twilio { account_sid, auth_token } => {
            let creds = twilio::account::Credentials { account_sid, auth_token };
            twilio::account::owned_numbers(client, &apis.twilio, &creds, number).await
        }
        Ask::Vonage { api_key, api_secret, .. } => {
            let creds = vonage::account::Credentials { api_key, api_secret };
            vonage::account::owned_numbers(client, &apis.vonage, &creds, number).await
        }
        Ask::Plivo { auth_id, auth_token } => {
            let creds = plivo::account::Credentials { auth_id, auth_token };
            plivo::account::owned_numbers(client, &apis.plivo, &creds, number).await
        }
    }
}

/// Most a bulk import waits on one provider's 429 before it saves the rest unverified.
pub const BULK_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// Times a bulk import asks again after a 429.
pub const BULK_RETRIES: usize = 3;

/// Asks providers, one number at a time (an import, "Verify") or, for a bulk import, each
/// account once: its whole listing is read (waiting out a 429) and kept for the file's rows.
pub struct Checker {
    listings: Option<std::collections::HashMap<String, Result<Vec<OwnedNumber>, AccountError>>>,
}

impl Checker {
    pub fn single() -> Self {
        Self { listings: None }
    }

    pub fn bulk() -> Self {
        Self { listings: Some(std::collections::HashMap::new()) }
    }

    /// Asks `ask`'s account whether it owns `number` (E.164) and says what that means.
    pub async fn check(&mut self, state: &AppState, ask: &Ask, number: &str) -> CheckRecord {
        let Some(listings) = &mut self.listings else {
            let listing = owned(state, ask, Some(number)).await;
            return outcome(ask, number, listing.as_deref().map_err(Clone::clone));
        };
        // Held in memory for this import only; the secret keeps a wrong token from reusing a listing.
        let key = match ask {
            Ask::Exotel { domain, sid, api_key, api_token } => format!("exotel:{domain}:{sid}:{api_key}:{api_token}"),
            Ask::Twilio { account_sid, auth_token } => format!("twilio:{account_sid}:{auth_token}"),
            Ask::Vonage { api_key, api_secret, .. } => format!("vonage:{api_key}:{api_secret}"),
            Ask::Plivo { auth_id, auth_token } => format!("plivo:{auth_id}:{auth_token}"),
        };
        let listing = match listings.entry(key) {
            std::collections::hash_map::Entry::Occupied(kept) => kept.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let mut listing = owned(state, ask, None).await;
                for _ in 0..BULK_RETRIES {
                    let Err(AccountError::RateLimited { retry_after }) = &listing else { break };
                    tokio::time::sleep(retry_after.unwrap_or(std::time::Duration::from_secs(1)).min(BULK_MAX_WAIT)).await;
                    listing = owned(state, ask, None).await;
                }
                slot.insert(listing)
            }
        };
        outcome(ask, number, listing.as_deref().map_err(Clone::clone))
    }
}

/// Asks `ask`'s account whether it owns `number` (E.164) and says what that means.
pub async fn check(state: &AppState, ask: &Ask, number: &str) -> CheckRecord {
    Checker::single().check(state, ask, number).await
}

fn outcome(ask: &Ask, number: &str, listing: Result<&[OwnedNumber], AccountError>) -> CheckRecord {
    let name = ask.provider().label();
    let account = ask.account();
    let mut linked_elsewhere = false;
    let (status, message, retry_after) = match listing {
        Ok(list) => match list.iter().find(|n| same_number(&n.number, number)) {
            None => (
                VerifyStatus::NotOwned,
                format!("{name} account {account} does not have {number}. Check the number and the account."),
                None,
            ),
            Some(n) if !n.voice => {
                (VerifyStatus::NotVoice, format!("{number} is in {name} account {account} but cannot take voice calls."), None)
            }
            Some(n) => {
                linked_elsewhere = matches!(ask, Ask::Vonage { application_id, .. } if n.app.as_deref() != Some(application_id.as_str()));
                (VerifyStatus::Verified, verified_message(ask, n, name, account, linked_elsewhere), None)
            }
        },
        Err(AccountError::Credentials) => (
            VerifyStatus::Credentials,
            format!("{name} refused these credentials for account {account}. Copy them again from the {name} console."),
            None,
        ),
        Err(AccountError::RateLimited { retry_after }) => {
            let secs = retry_after.map(|d| d.as_secs());
            let wait = secs.map(|s| format!("in {s} s")).unwrap_or_else(|| "in a minute".into());
            (VerifyStatus::RateLimited, format!("{name} is rate limiting requests; verify again {wait}."), secs)
        }
        Err(AccountError::Unreachable(why)) => {
            (VerifyStatus::Unreachable, format!("Could not reach {name} ({why}); verify again later."), None)
        }
        Err(AccountError::Protocol(why)) => {
            (VerifyStatus::Unreachable, format!("{name} answered unexpectedly ({why}); verify again later."), None)
        }
    };
    CheckRecord { status, message, retry_after, linked_elsewhere }
}

fn verified_message(ask: &Ask, n: &OwnedNumber, name: &str, account: &str, linked_elsewhere: bool) -> String {
    match ask {
        Ask::Vonage { application_id, .. } if linked_elsewhere => format!(
            "In {name} account {account}, but linked to {} instead of application {application_id}: calls will not reach Voxgate until you link it.",
            n.app.as_deref().map(|a| format!("application {a}")).unwrap_or_else(|| "no application".into())
        ),
        _ => format!("{name} account {account} owns this number."),
    }
}

/// The error a refusing answer gives (not owned, no voice, credentials refused); `None` when the
/// number may be saved.
pub fn refusal(provider: Provider, c: &CheckRecord) -> Option<DomainError> {
    matches!(c.status, VerifyStatus::NotOwned | VerifyStatus::NotVoice | VerifyStatus::Credentials)
        .then(|| DomainError::field(field_of(provider, c.status).unwrap_or("phoneNumber"), c.message.clone()))
}

/// The conflict when another owner holds the number's verified claim.
pub fn held_elsewhere() -> DomainError {
    DomainError::Conflict(domain::FieldError::new(
        "phoneNumber",
        "Another Voxgate account has verified this number with its provider. Import it with the credentials of the provider account that owns it.",
    ))
}

/// The stored outcome as the card shows it.
pub fn view_of(r: &repo::NumberRow) -> Option<VerificationView> {
    let status = r.verify_status.as_deref()?.parse::<VerifyStatus>().ok()?;
    Some(VerificationView {
        status,
        message: r.verify_message.clone().unwrap_or_default(),
        field: field_of(r.provider, status).map(str::to_string),
        checked_at: r.verify_checked_at.clone().unwrap_or_default(),
        retry_after: r.verify_retry_after,
    })
}

/// The credentials stored for `owner`'s number, opened; `None` without complete ones.
pub(crate) async fn stored_ask(state: &AppState, owner: &Owner, r: &repo::NumberRow) -> Result<Option<Ask>, DomainError> {
    let Some(sealed) = checks::sealed_credentials(&state.db, owner, &r.id).await? else { return Ok(None) };
    let key = state.secret_key();
    let open = |context: &str, v: &Option<String>| v.as_deref().and_then(|s| key.open(context, s).ok());
    Ok(match r.provider {
        Provider::Exotel => (|| {
            Some(Ask::Exotel {
                domain: r.exotel_domain.clone()?,
                sid: r.exotel_sid.clone()?,
                api_key: open(super::API_KEY_CONTEXT, &sealed.exotel_api_key_sealed)?,
                api_token: open(super::API_TOKEN_CONTEXT, &sealed.exotel_api_token_sealed)?,
            })
        })(),
        Provider::Twilio => (|| {
            Some(Ask::Twilio {
                account_sid: r.twilio_account_sid.clone()?,
                auth_token: open(super::TWILIO_TOKEN_CONTEXT, &sealed.twilio_auth_token_sealed)?,
            })
        })(),
        Provider::Vonage => (|| {
            Some(Ask::Vonage {
                api_key: r.vonage_api_key.clone()?,
                api_secret: open(super::VONAGE_SECRET_CONTEXT, &sealed.vonage_api_secret_sealed)?,
                application_id: r.vonage_application_id.clone()?,
            })
        })(),
        Provider::Plivo => (|| {
            Some(Ask::Plivo {
                auth_id: r.plivo_auth_id.clone()?,
                auth_token: open(super::PLIVO_TOKEN_CONTEXT, &sealed.plivo_auth_token_sealed)?,
            })
        })(),
        Provider::Other => None,
    })
}

/// Asks `r`'s provider through `checker` and stores the outcome on the number (a confirmation
/// takes its claim). Another owner holding the number verified is [`held_elsewhere`].
pub(crate) async fn check_and_record(
    state: &AppState,
    owner: &Owner,
    r: &repo::NumberRow,
    ask: &Ask,
    checker: &mut Checker,
) -> Result<CheckRecord, DomainError> {
    let c = checker.check(state, ask, &r.phone_number).await;
    let claim = checks::verified_claim(r.provider, &r.phone_number);
    let recorded = checks::record(&state.db, owner, &r.id, &c, &claim, &state.clock.now_rfc3339()).await;
    state.numbers_cache.forget_number(&r.id);
    match recorded {
        Err(e) if e.is_unique_violation("phone_number_claim") => Err(held_elsewhere()),
        other => other.map(|_| c).map_err(DomainError::from),
    }
}

/// Asks the provider now (the "Verify" button) and stores the outcome. A refusing answer or an
/// unreachable provider is an error naming its field, after the outcome is stored.
pub async fn verify(state: &AppState, owner: &Owner, id: &str) -> Result<domain::phone_number::PhoneNumberView, DomainError> {
    let r = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("phone number"))?;
    if r.provider == Provider::Other {
        return Err(DomainError::field("provider", "Voxgate can check numbers of Exotel, Twilio, Vonage and Plivo only."));
    }
    let Some(ask) = stored_ask(state, owner, &r).await? else {
        return Err(DomainError::field(credential_field(r.provider), "Add this number's provider credentials first."));
    };
    let c = check_and_record(state, owner, &r, &ask, &mut Checker::single()).await?;
    tracing::info!(user_id = %owner.id(), phone_id = %id, outcome = c.status.as_str(), "number ownership checked");
    if let Some(e) = refusal(r.provider, &c) {
        return Err(e);
    }
    match c.status {
        VerifyStatus::RateLimited => Err(DomainError::ProviderBusy { message: c.message, retry_after: c.retry_after }),
        VerifyStatus::Unreachable => Err(DomainError::ProviderUnreachable(c.message)),
        _ => super::get(state, owner, id).await,
    }
}
