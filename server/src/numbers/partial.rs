//! Partial updates (the old product's `PUT /api/phone-numbers` with `{id, linkedAgentId}` or
//! `{id, status}`, and `PATCH`): the fields sent are laid over the number as stored and the whole
//! is validated as on create, so a field left out keeps its value and a field sent is checked.
//! Stored secrets are never part of the stored side: left out, they stay as they are.

use domain::phone_number::{ExotelConfigInput, PhoneNumberInput, PhoneNumberView, PlivoConfigInput, TwilioConfigInput, VonageConfigInput};
use serde_json::Value;

use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// The number as its edit form holds it: every setting, no secret (an empty secret keeps the
/// stored one).
pub fn input_of(n: &PhoneNumberView) -> PhoneNumberInput {
    PhoneNumberInput {
        phone_number: n.phone_number.clone(),
        display_name: n.display_name.clone(),
        provider: n.provider.as_str().to_string(),
        exotel_config: n.exotel_config.as_ref().map(|e| ExotelConfigInput {
            api_key: None,
            api_token: None,
            sid: e.sid.clone(),
            app_id: e.app_id.clone(),
            domain: e.domain.clone(),
            region: e.region.clone(),
        }),
        twilio_config: n.twilio_config.as_ref().map(|t| TwilioConfigInput { account_sid: t.account_sid.clone(), auth_token: None }),
        vonage_config: n.vonage_config.as_ref().map(|v| VonageConfigInput {
            api_key: v.api_key.clone(),
            api_secret: None,
            application_id: v.application_id.clone(),
            private_key: None,
            signature_secret: None,
            sample_rate: Some(v.sample_rate),
        }),
        plivo_config: n.plivo_config.as_ref().map(|p| PlivoConfigInput {
            auth_id: p.auth_id.clone(),
            auth_token: None,
            content_type: Some(p.content_type.clone()),
        }),
        linked_agent_id: n.linked_agent_id.clone(),
        status: Some(n.status.as_str().to_string()),
    }
}

/// Lays `sent` over `base`: objects merge key by key (a provider's settings too), anything else
/// replaces what was there.
pub(crate) fn overlay(base: &mut Value, sent: Value) {
    match (base, sent) {
        (Value::Object(b), Value::Object(s)) => {
            for (k, v) in s {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => overlay(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, s) => *b = s,
    }
}

/// `sent` (a JSON object of the fields to change) laid over `current`, read as an input; a field
/// of the wrong JSON type is an error naming it (`exotelConfig.region`, say).
pub fn merged(current: &PhoneNumberView, sent: Value) -> Result<PhoneNumberInput, DomainError> {
    if !sent.is_object() {
        return Err(DomainError::field("body", "Send a JSON object with the fields to change."));
    }
    let mut base = serde_json::to_value(input_of(current)).map_err(|e| DomainError::field("body", e.to_string()))?;
    overlay(&mut base, sent);
    serde_path_to_error::deserialize(base).map_err(|e| {
        let field = e.path().to_string();
        DomainError::field(if field == "." { "body" } else { &field }, e.inner().to_string())
    })
}

/// Changes the fields of `owner`'s number `id` that `sent` names; the rest keep their values.
/// `routing` (when sent) replaces the routing whole (`null` removes it); it is checked before
/// anything is written.
pub async fn patch(state: &AppState, owner: &Owner, id: &str, mut sent: Value) -> Result<PhoneNumberView, DomainError> {
    let current = super::get(state, owner, id).await?;
    let routing = sent.as_object_mut().and_then(|o| o.remove("routing"));
    let prepared = match routing.map(super::routing::parse).transpose()? {
        Some(Some(r)) => Some(Some(super::routing::prepare(state, owner, &r).await?)),
        Some(None) => Some(None),
        None => None,
    };
    let input = merged(&current, sent)?;
    let view = super::update(state, owner, id, &input).await?;
    match prepared {
        Some(p) => {
            super::routing::write(state, owner, id, p).await?;
            super::get(state, owner, id).await
        }
        None => Ok(view),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view() -> PhoneNumberView {
        serde_json::from_value(json!({
            "id": "n1", "phoneNumber": "+919876543210", "displayName": "Support", "provider": "exotel",
            "exotelConfig": { "apiKey": "••••y123", "apiToken": "••••n456", "sid": "acme1", "appId": null, "domain": "api.in.exotel.com", "region": "in" },
            "linkedAgentId": "a1", "linkedAgentName": "Desk", "webhookUrl": "", "websocketUrl": "", "voicebotUrl": "",
            "status": "active", "lastUsed": null, "createdAt": "", "updatedAt": ""
        }))
        .unwrap()
    }

    #[test]
    fn a_field_left_out_keeps_its_value_and_no_masked_secret_is_sent_back() {
        let input = merged(&view(), json!({ "status": "inactive" })).unwrap();
        assert_eq!(input.status.as_deref(), Some("inactive"));
        assert_eq!((input.display_name.as_str(), input.linked_agent_id.as_deref()), ("Support", Some("a1")));
        let exotel = input.exotel_config.unwrap();
        assert_eq!((exotel.sid.as_str(), exotel.region.as_str()), ("acme1", "in"));
        assert_eq!((exotel.api_key, exotel.api_token), (None, None), "the masks are never taken for secrets");
    }

    #[test]
    fn a_provider_setting_merges_into_the_stored_ones() {
        let input = merged(&view(), json!({ "exotelConfig": { "appId": "12345" }, "linkedAgentId": null })).unwrap();
        let exotel = input.exotel_config.unwrap();
        assert_eq!((exotel.app_id.as_deref(), exotel.sid.as_str()), (Some("12345"), "acme1"));
        assert_eq!(input.linked_agent_id, None, "null unlinks");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let field = |sent: Value| match merged(&view(), sent) {
            Err(DomainError::Invalid(e)) => e[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({ "status": 5 })), "status");
        assert_eq!(field(json!({ "exotelConfig": { "region": ["in"] } })), "exotelConfig.region");
        assert_eq!(field(json!(["status"])), "body");
    }
}
