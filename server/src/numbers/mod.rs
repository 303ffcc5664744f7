//! Phone numbers service: import, edit, list, delete; credentials sealed; generated URLs.

use domain::FieldError;
use domain::phone_number::{
    ExotelConfigView, LastCall, NumberStatus, PhoneNumberInput, PhoneNumberPage, PhoneNumberQuery, PhoneNumberView, PlivoConfigView,
    Provider, TwilioConfigView, VerifyStatus, VonageConfigView,
};

pub mod cache;
pub mod csv_rows;
mod defaults;
pub mod doctor;
pub mod import;
pub mod import_jobs;
pub mod partial;
pub mod routing;
pub mod verify;

pub use partial::patch;

use crate::db::{self, agents as agent_repo, number_checks as checks, phone_numbers as repo};
use crate::errors::DomainError;
use crate::secrets::{last4, mask_last4};
use crate::state::AppState;
use crate::users::Owner;

/// Associated data binding each sealed credential to its field.
pub const API_KEY_CONTEXT: &str = "phone_number.exotel.api_key";
pub const API_TOKEN_CONTEXT: &str = "phone_number.exotel.api_token";
pub const TWILIO_TOKEN_CONTEXT: &str = "phone_number.twilio.auth_token";
pub const VONAGE_SECRET_CONTEXT: &str = "phone_number.vonage.api_secret";
pub const VONAGE_PRIVATE_KEY_CONTEXT: &str = "phone_number.vonage.private_key";
pub const VONAGE_SIGNATURE_CONTEXT: &str = "phone_number.vonage.signature_secret";
pub const PLIVO_TOKEN_CONTEXT: &str = "phone_number.plivo.auth_token";
/// Largest page a listing returns.
pub const MAX_PAGE_SIZE: u32 = 200;

/// A fresh per-number URL secret: 32 random characters.
pub fn new_url_secret() -> String {
    crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 32)
}

/// What a secret of the operator's defaults shows instead of its mask.
pub const OPERATOR_DEFAULT: &str = "operator default";

fn view(state: &AppState, r: repo::NumberRow) -> PhoneNumberView {
    let u = crate::telephony::urls(state, &r);
    let routing = routing::of(&r);
    let env = r.credentials_from_env;
    let mask_last4 = |v: &str| if env { OPERATOR_DEFAULT.to_string() } else { mask_last4(v) };
    let exotel_config = (r.provider == Provider::Exotel).then(|| ExotelConfigView {
        api_key: r.exotel_api_key_last4.as_deref().map(mask_last4).unwrap_or_default(),
        api_token: r.exotel_api_token_last4.as_deref().map(mask_last4).unwrap_or_default(),
        sid: r.exotel_sid.clone().unwrap_or_default(),
        app_id: r.exotel_app_id.clone(),
        domain: r.exotel_domain.clone().unwrap_or_default(),
        region: r.exotel_region.clone().unwrap_or_default(),
    });
    let twilio_config = (r.provider == Provider::Twilio).then(|| TwilioConfigView {
        account_sid: r.twilio_account_sid.clone().unwrap_or_default(),
        auth_token: r.twilio_auth_token_last4.as_deref().map(mask_last4).unwrap_or_default(),
    });
    let masked = |last4: &Option<String>| last4.as_deref().map(mask_last4).unwrap_or_default();
    let verification = verify::view_of(&r);
    let vonage_config = (r.provider == Provider::Vonage).then(|| VonageConfigView {
        api_key: r.vonage_api_key.clone().unwrap_or_default(),
        api_secret: masked(&r.vonage_api_secret_last4),
        application_id: r.vonage_application_id.clone().unwrap_or_default(),
        private_key: masked(&r.vonage_private_key_last4),
        signature_secret: masked(&r.vonage_signature_secret_last4),
        sample_rate: r.vonage_sample_rate.unwrap_or(domain::phone_number::VONAGE_SAMPLE_RATES[0]),
    });
    let plivo_config = (r.provider == Provider::Plivo).then(|| PlivoConfigView {
        auth_id: r.plivo_auth_id.clone().unwrap_or_default(),
        auth_token: masked(&r.plivo_auth_token_last4),
        content_type: r.plivo_content_type.clone().unwrap_or_else(|| domain::phone_number::PLIVO_CONTENT_TYPES[0].to_string()),
    });
    PhoneNumberView {
        linked_agent_id: r.linked_agent_id(),
        twilio_config,
        vonage_config,
        plivo_config,
        event_url: u.events,
        id: r.id,
        phone_number: r.phone_number,
        display_name: r.display_name,
        provider: r.provider,
        exotel_config,
        linked_agent_name: r.linked_agent_name,
        webhook_url: u.webhook,
        websocket_url: u.websocket,
        voicebot_url: u.voicebot,
        status: r.status,
        last_used: r.last_used,
        last_call: r.last_call.map(|c| LastCall { id: c.id, caller: c.caller, status: c.status, started_at: c.started_at }),
        verification,
        last_verified: r.verified_at,
        credentials_from_env: env,
        routing,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The row to write for `input` (operator defaults filled in where it may take them), and the
/// credentials to check ownership with when it gives complete ones.
async fn to_write(
    state: &AppState,
    owner: &Owner,
    input: &PhoneNumberInput,
    stored: bool,
) -> Result<(repo::NumberWrite, Option<verify::Ask>), DomainError> {
    let (input, from_env) = if stored { (input.clone(), false) } else { defaults::fill(&state.settings, input) };
    let v = input.validate(stored).map_err(DomainError::Invalid)?;
    let ask = verify::ask_of(&v);
    // The private key signs Vonage REST calls: it must be an RSA key, not just look like one.
    if let Some(pem) = v.vonage.as_ref().and_then(|c| c.private_key.as_deref()) {
        crate::telephony::vonage::signature::check_private_key(pem).map_err(|m| DomainError::field("vonageConfig.privateKey", m))?;
    }
    if let Some(agent) = &v.linked_agent_id
        && agent_repo::get(&state.db, owner, agent).await?.is_none()
    {
        return Err(DomainError::field("linkedAgentId", "Choose one of your agents."));
    }
    let key = state.secret_key();
    let seal = |context: &str, value: &Option<String>| value.as_ref().map(|v| (key.seal(context, v), last4(v)));
    let exotel = v.exotel.as_ref();
    let twilio = v.twilio.as_ref();
    let (vonage, plivo) = (v.vonage.as_ref(), v.plivo.as_ref());
    let account = exotel
        .map(|e| e.sid.as_str())
        .or(twilio.map(|t| t.account_sid.as_str()))
        .or(vonage.map(|c| c.api_key.as_str()))
        .or(plivo.map(|c| c.auth_id.as_str()))
        .unwrap_or("");
    let digits: String = v.phone_number.chars().filter(char::is_ascii_digit).collect();
    let write = repo::NumberWrite {
        from_env: (from_env || !stored).then_some(from_env),
        account_key: format!("{}:{account}", v.provider),
        search: format!("{} {} {}", v.phone_number, digits, v.display_name.to_lowercase()),
        api_key: exotel.and_then(|e| seal(API_KEY_CONTEXT, &e.api_key)),
        api_token: exotel.and_then(|e| seal(API_TOKEN_CONTEXT, &e.api_token)),
        exotel_sid: exotel.map(|e| e.sid.clone()),
        exotel_app_id: exotel.and_then(|e| e.app_id.clone()),
        exotel_domain: exotel.map(|e| e.domain.clone()),
        exotel_region: exotel.map(|e| e.region.clone()),
        twilio_account_sid: twilio.map(|t| t.account_sid.clone()),
        twilio_auth_token: twilio.and_then(|t| seal(TWILIO_TOKEN_CONTEXT, &t.auth_token)),
        vonage: vonage.map(|c| repo::VonageWrite {
            api_key: c.api_key.clone(),
            application_id: c.application_id.clone(),
            sample_rate: c.sample_rate,
            api_secret: seal(VONAGE_SECRET_CONTEXT, &c.api_secret),
            private_key: seal(VONAGE_PRIVATE_KEY_CONTEXT, &c.private_key),
            signature_secret: seal(VONAGE_SIGNATURE_CONTEXT, &c.signature_secret),
        }),
        plivo: plivo.map(|c| repo::PlivoWrite {
            auth_id: c.auth_id.clone(),
            content_type: c.content_type.clone(),
            auth_token: seal(PLIVO_TOKEN_CONTEXT, &c.auth_token),
        }),
        phone_number: v.phone_number,
        display_name: v.display_name,
        provider: v.provider,
        linked_agent: v.linked_agent_id,
        status: v.status,
    };
    Ok((write, ask))
}

fn duplicate(e: db::DbError) -> DomainError {
    if e.is_unique_violation("phone_number_owner_unique") {
        DomainError::Conflict(FieldError::new("phoneNumber", "You have already imported this number for this provider account."))
    } else if e.is_unique_violation("phone_number_claim") {
        verify::held_elsewhere()
    } else {
        e.into()
    }
}

/// Asks the provider (when `ask` is given): a refusing answer is an error; otherwise the outcome,
/// to store.
async fn first_check(
    state: &AppState,
    checker: &mut verify::Checker,
    provider: Provider,
    number: &str,
    ask: Option<&verify::Ask>,
) -> Result<Option<checks::CheckRecord>, DomainError> {
    let Some(ask) = ask else { return Ok(None) };
    let c = checker.check(state, ask, number).await;
    match verify::refusal(provider, &c) {
        Some(e) => Err(e),
        None => Ok(Some(c)),
    }
}

/// Imports a number for `owner`, after asking its provider whether the account owns it (a
/// refusal or wrong credentials stop the import; an unreachable provider leaves it unverified).
pub async fn create(state: &AppState, owner: &Owner, input: &PhoneNumberInput) -> Result<PhoneNumberView, DomainError> {
    let id = create_with(state, owner, input, &mut verify::Checker::single()).await?;
    get(state, owner, &id).await
}

/// [`create`], asking the provider through `checker` (a bulk import's asks each account once);
/// returns the new number's id.
pub async fn create_with(
    state: &AppState,
    owner: &Owner,
    input: &PhoneNumberInput,
    checker: &mut verify::Checker,
) -> Result<String, DomainError> {
    let (w, ask) = to_write(state, owner, input, false).await?;
    let check = first_check(state, checker, w.provider, &w.phone_number, ask.as_ref()).await?;
    let key = db::new_key();
    let verified = checks::verified_claim(w.provider, &w.phone_number);
    let claim = if check.as_ref().is_some_and(|c| c.status == VerifyStatus::Verified) {
        verified
    } else if checks::claimed_elsewhere(&state.db, owner, &verified).await? {
        return Err(verify::held_elsewhere());
    } else {
        checks::own_claim(&key)
    };
    let new = repo::NewNumber { url_secret: &new_url_secret(), claim: &claim, check: check.as_ref() };
    repo::insert(&state.db, owner, &key, &w, &new, &state.clock.now_rfc3339()).await.map_err(duplicate)?;
    state.number_counts.forget("phone_number", owner.id());
    tracing::info!(user_id = %owner.id(), phone_id = %key, provider = %w.provider, "phone number imported");
    Ok(key)
}

/// Edits `owner`'s number; the number itself cannot change, and empty credentials keep the stored ones.
pub async fn update(state: &AppState, owner: &Owner, id: &str, input: &PhoneNumberInput) -> Result<PhoneNumberView, DomainError> {
    update_with(state, owner, id, input, &mut verify::Checker::single()).await
}

/// [`update`], asking the provider through `checker`.
pub async fn update_with(
    state: &AppState,
    owner: &Owner,
    id: &str,
    input: &PhoneNumberInput,
    checker: &mut verify::Checker,
) -> Result<PhoneNumberView, DomainError> {
    let current = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("phone number"))?;
    // Stored credentials stay only on the same provider and, for Twilio, Vonage and Plivo, the
    // same account (a secret belongs to its account).
    let provider = input.provider.trim().parse::<Provider>().ok();
    let same_account = match provider {
        Some(Provider::Twilio) => input
            .twilio_config
            .as_ref()
            .is_none_or(|t| domain::phone_number::check_twilio_account_sid(&t.account_sid).ok() == current.twilio_account_sid),
        Some(Provider::Vonage) => input
            .vonage_config
            .as_ref()
            .is_none_or(|c| domain::phone_number::check_vonage_api_key(&c.api_key).ok() == current.vonage_api_key),
        Some(Provider::Plivo) => {
            input.plivo_config.as_ref().is_none_or(|c| domain::phone_number::check_plivo_auth_id(&c.auth_id).ok() == current.plivo_auth_id)
        }
        _ => true,
    };
    let stored = provider == Some(current.provider)
        && same_account
        && current.provider != Provider::Other
        && repo::has_credentials(&state.db, owner, id).await?;
    let (w, ask) = to_write(state, owner, input, stored).await?;
    if w.phone_number != current.phone_number {
        return Err(DomainError::field("phoneNumber", "The number cannot be changed; import it as a new number instead."));
    }
    // New credentials are checked as on import; kept ones keep the last check.
    let check = first_check(state, checker, w.provider, &w.phone_number, ask.as_ref()).await?;
    let claim = checks::verified_claim(w.provider, &w.phone_number);
    if check.as_ref().is_some_and(|c| c.status == VerifyStatus::Verified) && checks::claimed_elsewhere(&state.db, owner, &claim).await? {
        return Err(verify::held_elsewhere());
    }
    let now = state.clock.now_rfc3339();
    let updated = repo::update(&state.db, owner, id, &w, &now).await.map_err(duplicate);
    state.numbers_cache.forget_number(id);
    if !updated? {
        return Err(DomainError::NotFound("phone number"));
    }
    state.number_counts.forget("phone_number", owner.id());
    if let Some(c) = check {
        let recorded = checks::record(&state.db, owner, id, &c, &claim, &now).await.map_err(duplicate);
        state.numbers_cache.forget_number(id);
        recorded?;
    }
    get(state, owner, id).await
}

/// `owner`'s number `id`.
pub async fn get(state: &AppState, owner: &Owner, id: &str) -> Result<PhoneNumberView, DomainError> {
    let row = repo::get(&state.db, owner, id).await?.ok_or(DomainError::NotFound("phone number"))?;
    Ok(view(state, row))
}

/// One page of `owner`'s numbers matching `q`.
pub async fn list(state: &AppState, owner: &Owner, q: &PhoneNumberQuery) -> Result<PhoneNumberPage, DomainError> {
    let (page, page_size, start) = crate::errors::page_window(q.page, q.page_size, MAX_PAGE_SIZE)?;
    let clean = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let status = domain::parse_choice::<NumberStatus>("status", q.status.as_deref()).map_err(|e| DomainError::Invalid(vec![e]))?;
    let provider = domain::parse_choice::<Provider>("provider", q.provider.as_deref()).map_err(|e| DomainError::Invalid(vec![e]))?;
    let filter = repo::ListFilter {
        search: clean(&q.q).map(|s| s.replace(['-', '(', ')'], "")),
        status,
        agent: q.agent_id.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        provider,
        limit: page_size,
        start,
    };
    let key = format!("{:?}", (&filter.search, filter.status, &filter.agent, filter.provider));
    let kept = state.number_counts.get("phone_number", owner.id(), &key);
    let (rows, counted) = repo::list(&state.db, owner, &filter, kept.is_none()).await?;
    if let Some(t) = counted {
        state.number_counts.put("phone_number", owner.id(), &key, t);
    }
    let total = counted.or(kept).unwrap_or(0);
    Ok(PhoneNumberPage { phone_numbers: rows.into_iter().map(|r| view(state, r)).collect(), page, page_size, total })
}

/// Deletes `owner`'s number.
pub async fn delete(state: &AppState, owner: &Owner, id: &str) -> Result<(), DomainError> {
    let deleted = repo::delete(&state.db, owner, id).await?;
    state.numbers_cache.forget_number(id);
    if !deleted {
        return Err(DomainError::NotFound("phone number"));
    }
    state.number_counts.forget("phone_number", owner.id());
    state.call_counts.forget("call", owner.id());
    tracing::info!(user_id = %owner.id(), phone_id = %id, "phone number deleted");
    Ok(())
}

/// Replaces the number's URL secret; the old URLs stop working.
pub async fn rotate_secret(state: &AppState, owner: &Owner, id: &str) -> Result<PhoneNumberView, DomainError> {
    let rotated = repo::set_url_secret(&state.db, owner, id, &new_url_secret(), &state.clock.now_rfc3339()).await?;
    state.numbers_cache.forget_number(id);
    if !rotated {
        return Err(DomainError::NotFound("phone number"));
    }
    tracing::info!(user_id = %owner.id(), phone_id = %id, "URL secret rotated");
    get(state, owner, id).await
}
