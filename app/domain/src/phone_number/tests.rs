//! Phone number validation: E.164, Exotel's settings, providers and statuses.

use super::*;

fn exotel() -> PhoneNumberInput {
    PhoneNumberInput {
        phone_number: "+91 98765 43210".into(),
        display_name: " Support ".into(),
        provider: "exotel".into(),
        exotel_config: Some(ExotelConfigInput {
            api_key: Some("key123".into()),
            api_token: Some("token456".into()),
            sid: "acme1".into(),
            app_id: None,
            domain: String::new(),
            region: "in".into(),
        }),
        twilio_config: None,
        vonage_config: None,
        plivo_config: None,
        linked_agent_id: None,
        status: None,
    }
}

pub(super) fn fields(r: Result<ValidPhoneNumber, Vec<FieldError>>) -> Vec<String> {
    r.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
}

#[test]
fn normalizes_numbers_to_e164() {
    assert_eq!(normalize_e164("+91 98765-43210").unwrap(), "+919876543210");
    assert_eq!(normalize_e164("0044 20 7946 0958").unwrap(), "+442079460958");
    assert!(normalize_e164("98765 43210").is_err(), "needs a country code");
    assert!(normalize_e164("+1 555").is_err());
    assert!(normalize_e164("+abc").is_err());
}

#[test]
fn a_complete_exotel_number_is_valid_and_gets_its_region_domain() {
    let v = exotel().validate(false).unwrap();
    assert_eq!(v.phone_number, "+919876543210");
    assert_eq!(v.display_name, "Support");
    assert_eq!(v.provider, Provider::Exotel);
    assert_eq!(v.status, NumberStatus::Active);
    assert_eq!(v.exotel.unwrap().domain, "api.in.exotel.com");
}

#[test]
fn region_and_domain_must_agree() {
    let mut n = exotel();
    n.exotel_config.as_mut().unwrap().domain = "api.exotel.com".into();
    assert_eq!(fields(n.validate(false)), ["exotelConfig.domain"]);
    let mut sg = exotel();
    sg.exotel_config.as_mut().unwrap().region = "sg".into();
    assert_eq!(sg.validate(false).unwrap().exotel.unwrap().domain, "api.exotel.com");
}

#[test]
fn exotel_fields_are_required_unless_stored() {
    let mut n = exotel();
    let c = n.exotel_config.as_mut().unwrap();
    c.api_key = None;
    c.api_token = Some(" ".into());
    c.sid = String::new();
    assert_eq!(fields(n.clone().validate(false)), ["exotelConfig.apiKey", "exotelConfig.apiToken", "exotelConfig.sid"]);
    // Editing a number that has stored credentials may leave them empty.
    assert_eq!(fields(n.validate(true)), ["exotelConfig.sid"]);
    let mut missing = exotel();
    missing.exotel_config = None;
    assert_eq!(fields(missing.validate(false)), ["exotelConfig"]);
}

#[test]
fn other_providers_need_no_exotel_settings() {
    let n = PhoneNumberInput { phone_number: "+14155552671".into(), provider: " Other ".into(), ..Default::default() };
    let v = n.validate(false).unwrap();
    assert!(v.exotel.is_none() && v.twilio.is_none());
    assert_eq!((v.provider, v.status), (Provider::Other, NumberStatus::Active));
    let paused = PhoneNumberInput { status: Some("INACTIVE".into()), ..n };
    assert_eq!(paused.validate(false).unwrap().status, NumberStatus::Inactive);
    let bad = PhoneNumberInput {
        phone_number: "+14155552671".into(),
        provider: "signalwire".into(),
        status: Some("paused".into()),
        ..Default::default()
    };
    let errors = bad.validate(false).unwrap_err();
    let messages: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
    assert_eq!(messages, [("provider", "Choose exotel, twilio, vonage, plivo or other."), ("status", "Choose active, inactive or error.")]);
}

fn from_serde<'de, T: Deserialize<'de>>(s: &'de str) -> Result<T, serde::de::value::Error> {
    use serde::de::IntoDeserializer;
    let d: serde::de::value::StrDeserializer<'de, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(d)
}

#[test]
fn providers_and_statuses_keep_their_strings() {
    use crate::UnknownChoice;
    let providers: Vec<(&str, &str)> = Provider::ALL.iter().map(|p| (p.as_str(), p.label())).collect();
    assert_eq!(providers, [("exotel", "Exotel"), ("twilio", "Twilio"), ("vonage", "Vonage"), ("plivo", "Plivo"), ("other", "Other")]);
    let statuses: Vec<(&str, &str)> = NumberStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
    assert_eq!(statuses, [("active", "Active"), ("inactive", "Inactive"), ("error", "Error")]);
    assert_eq!(NumberStatus::default(), NumberStatus::Active);
    for &p in Provider::ALL {
        assert_eq!(from_serde::<Provider>(p.as_str()).unwrap(), p);
        assert_eq!(p.to_string().parse::<Provider>(), Ok(p));
    }
    for &s in NumberStatus::ALL {
        assert_eq!(from_serde::<NumberStatus>(s.as_str()).unwrap(), s);
        assert_eq!(format!(" {} ", s.label()).parse::<NumberStatus>(), Ok(s), "case-insensitive, trimmed");
    }
    assert_eq!("signalwire".parse::<Provider>(), Err(UnknownChoice));
    assert_eq!("".parse::<Provider>(), Err(UnknownChoice));
    assert_eq!("paused".parse::<NumberStatus>(), Err(UnknownChoice));
    assert!(from_serde::<Provider>("Exotel").is_err(), "serde takes only the exact string");
    assert!(from_serde::<NumberStatus>(" active").is_err());
}
