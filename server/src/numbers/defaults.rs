//! The operator's default provider credentials (EXOTEL_API_KEY and friends): on a single-tenant
//! install (sign-up closed) a number imported without credentials takes them. Never with sign-up
//! open or by invite, so they are never offered to anyone the operator did not add; never shown.

use domain::phone_number::{ExotelConfigInput, PhoneNumberInput, PlivoConfigInput, Provider, TwilioConfigInput, VonageConfigInput};

use crate::config::Settings;
use crate::users::signup::SignupMode;

fn blank(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// The account field is empty or names the operator's account.
fn same(given: &str, default: &str) -> bool {
    given.trim().is_empty() || given.trim() == default
}

/// `input` with the operator's credentials filled in where it gives none, and whether it took
/// them. Unchanged unless sign-up is closed and the operator set that provider's variables.
pub fn fill(settings: &Settings, input: &PhoneNumberInput) -> (PhoneNumberInput, bool) {
    let mut out = input.clone();
    if settings.signup != SignupMode::Closed {
        return (out, false);
    }
    let d = &settings.operator_defaults;
    let filled = match input.provider.trim().parse::<Provider>() {
        Ok(Provider::Exotel) => d.exotel.as_ref().is_some_and(|e| {
            let c = out.exotel_config.get_or_insert_with(|| ExotelConfigInput { region: "in".into(), ..Default::default() });
            let take = same(&c.sid, &e.sid) && blank(&c.api_key) && blank(&c.api_token);
            if take {
                c.sid = e.sid.clone();
                c.api_key = Some(e.api_key.0.clone());
                c.api_token = Some(e.api_token.0.clone());
            }
            take
        }),
        Ok(Provider::Twilio) => d.twilio.as_ref().is_some_and(|t| {
            let c = out.twilio_config.get_or_insert_with(TwilioConfigInput::default);
            let take = same(&c.account_sid, &t.account_sid) && blank(&c.auth_token);
            if take {
                c.account_sid = t.account_sid.clone();
                c.auth_token = Some(t.auth_token.0.clone());
            }
            take
        }),
        Ok(Provider::Vonage) => d.vonage.as_ref().is_some_and(|v| {
            let c = out.vonage_config.get_or_insert_with(VonageConfigInput::default);
            let take = same(&c.api_key, &v.api_key) && blank(&c.api_secret) && blank(&c.private_key) && blank(&c.signature_secret);
            if take {
                c.api_key = v.api_key.clone();
                if c.application_id.trim().is_empty() {
                    c.application_id = v.application_id.clone();
                }
                c.api_secret = Some(v.api_secret.0.clone());
                c.private_key = Some(v.private_key.0.clone());
                c.signature_secret = Some(v.signature_secret.0.clone());
            }
            take
        }),
        Ok(Provider::Plivo) => d.plivo.as_ref().is_some_and(|p| {
            let c = out.plivo_config.get_or_insert_with(PlivoConfigInput::default);
            let take = same(&c.auth_id, &p.auth_id) && blank(&c.auth_token);
            if take {
                c.auth_id = p.auth_id.clone();
                c.auth_token = Some(p.auth_token.0.clone());
            }
            take
        }),
        _ => false,
    };
    if !filled {
        return (input.clone(), false);
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Password;
    use crate::config::providers::{OperatorDefaults, TwilioDefaults};

    fn settings(signup: SignupMode) -> Settings {
        let mut s = Settings::for_tests();
        s.signup = signup;
        s.operator_defaults = OperatorDefaults {
            twilio: Some(TwilioDefaults { account_sid: format!("AC{}", "a".repeat(32)), auth_token: Password("b".repeat(32)) }),
            ..Default::default()
        };
        s
    }

    fn twilio(sid: &str, token: Option<&str>) -> PhoneNumberInput {
        PhoneNumberInput {
            phone_number: "+14155550100".into(),
            provider: "twilio".into(),
            twilio_config: Some(TwilioConfigInput { account_sid: sid.into(), auth_token: token.map(str::to_string) }),
            ..Default::default()
        }
    }

    #[test]
    fn a_number_without_credentials_takes_the_operators_only_with_signup_closed() {
        let (filled, took) = fill(&settings(SignupMode::Closed), &twilio("", None));
        assert!(took);
        let c = filled.twilio_config.unwrap();
        assert_eq!((c.account_sid.len(), c.auth_token.as_deref().map(str::len)), (34, Some(32)));
        for open in [SignupMode::Open, SignupMode::Invite] {
            let (same, took) = fill(&settings(open), &twilio("", None));
            assert!(!took);
            assert_eq!(same.twilio_config.unwrap().auth_token, None);
        }
    }

    #[test]
    fn own_credentials_or_another_account_are_left_alone() {
        let (kept, took) = fill(&settings(SignupMode::Closed), &twilio("", Some("mine")));
        assert!(!took);
        assert_eq!(kept.twilio_config.unwrap().auth_token.as_deref(), Some("mine"));
        let other = format!("AC{}", "c".repeat(32));
        let (kept, took) = fill(&settings(SignupMode::Closed), &twilio(&other, None));
        assert!(!took);
        assert_eq!(kept.twilio_config.unwrap().account_sid, other);
        let mut exotel = twilio("", None);
        exotel.provider = "exotel".into();
        assert!(!fill(&settings(SignupMode::Closed), &exotel).1, "no Exotel defaults were set");
    }
}
