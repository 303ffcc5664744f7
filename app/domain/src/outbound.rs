//! Outbound calls: what a user asks for when an agent calls someone (`POST /api/calls`, the
//! number card's "Call", `voxgate dial`, a campaign's contact), the rules it must meet, and how
//! an outbound call ended as the provider told it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::phone_number::normalize_e164;

/// Most variables one call carries.
pub const MAX_VARIABLES: usize = 32;
/// Longest variable name.
pub const MAX_VARIABLE_NAME: usize = 32;
/// Longest variable value, in characters.
pub const MAX_VARIABLE_VALUE: usize = 500;

choice_enum! {
    /// How a call ended: an outbound call's as the provider reported it (serde: snake_case); an
    /// inbound call has none, unless the agent transferred it.
    pub enum CallOutcome {
        /// A person (or no detection) took the call.
        Answered = ("answered", "Answered"),
        /// An answering machine or voicemail took the call.
        Machine = ("machine", "Machine"),
        Busy = ("busy", "Busy"),
        NoAnswer = ("no_answer", "No answer"),
        /// The provider could not place the call, or refused it.
        Failed = ("failed", "Failed"),
        /// Cancelled before it was answered.
        Canceled = ("canceled", "Canceled"),
        /// The agent handed the call to a person.
        Transferred = ("transferred", "Transferred"),
    }
}

impl CallOutcome {
    /// Whether a campaign may dial the contact again after this outcome.
    pub fn retryable(self) -> bool {
        matches!(self, Self::Busy | Self::NoAnswer | Self::Failed)
    }
}

/// An outbound call as a user asks for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct PlaceCall {
    /// The number that calls (its provider places the call).
    pub phone_id: String,
    /// Whom to call, in international format.
    pub to: String,
    /// The agent that talks (the number's linked agent when empty).
    pub agent_id: Option<String>,
    /// Values the agent's greeting and replies may use as `{{name}}`.
    pub variables: BTreeMap<String, String>,
}

/// A [`PlaceCall`] that met the rules: `to` in E.164, ids trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPlaceCall {
    pub phone_id: String,
    pub to: String,
    pub agent_id: Option<String>,
    pub variables: BTreeMap<String, String>,
}

/// Whether `name` can be a variable: a letter or `_`, then letters, digits or `_`.
pub fn variable_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_VARIABLE_NAME
}

/// Checks a call's variables; errors name `variables.<name>` (or `variables`).
pub fn check_variables(variables: &BTreeMap<String, String>, errors: &mut Vec<FieldError>) {
    if variables.len() > MAX_VARIABLES {
        errors.push(FieldError::new("variables", format!("Use at most {MAX_VARIABLES} variables.")));
        return;
    }
    for (name, value) in variables {
        let field = format!("variables.{}", name.chars().take(MAX_VARIABLE_NAME).collect::<String>());
        if !variable_name_ok(name) {
            errors.push(FieldError::new(
                &field,
                format!("Name variables with letters, digits and _ (at most {MAX_VARIABLE_NAME}), starting with a letter."),
            ));
        } else if value.chars().count() > MAX_VARIABLE_VALUE {
            errors.push(FieldError::new(&field, format!("Use at most {MAX_VARIABLE_VALUE} characters.")));
        } else if value.chars().any(|c| c.is_control() && c != '\n') {
            errors.push(FieldError::new(&field, "Remove control characters."));
        }
    }
}

impl PlaceCall {
    /// The call if it meets the rules, else every problem by field.
    pub fn validate(&self) -> Result<ValidPlaceCall, Vec<FieldError>> {
        let mut errors = Vec::new();
        let phone_id = self.phone_id.trim().to_string();
        if phone_id.is_empty() {
            errors.push(FieldError::new("phoneId", "Choose the number that calls."));
        }
        let to = normalize_e164(&self.to).unwrap_or_else(|m| {
            errors.push(FieldError::new("to", m));
            String::new()
        });
        check_variables(&self.variables, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let agent_id = self.agent_id.as_ref().map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
        Ok(ValidPlaceCall { phone_id, to, agent_id, variables: self.variables.clone() })
    }
}

/// `text` with each `{{name}}` replaced by its variable (spaces inside the braces allowed);
/// an unknown name is left as written, so a missing variable shows in the transcript.
pub fn fill(text: &str, variables: &BTreeMap<String, String>) -> String {
    if variables.is_empty() || !text.contains("{{") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => match variables.get(after[..close].trim()) {
                Some(value) => {
                    out.push_str(value);
                    rest = &after[close + 2..];
                }
                None => {
                    out.push_str("{{");
                    rest = after;
                }
            },
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_call_needs_a_number_and_a_callee_in_international_format() {
        let ok = PlaceCall { phone_id: " p1 ".into(), to: "+1 (415) 555-2671".into(), agent_id: Some(" ".into()), ..Default::default() }
            .validate()
            .unwrap();
        assert_eq!((ok.phone_id.as_str(), ok.to.as_str(), ok.agent_id), ("p1", "+14155552671", None));
        let errors = PlaceCall { to: "98765 43210".into(), ..Default::default() }.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["phoneId", "to"]);
    }

    #[test]
    fn variables_are_named_plainly_and_bounded() {
        let mut errors = Vec::new();
        check_variables(&vars(&[("name", "Asha"), ("due_date", "5 December"), ("_x1", "")]), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        check_variables(&vars(&[("1st", "a"), ("na-me", "b"), ("ok", &"x".repeat(501)), ("bell", "a\u{7}")]), &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["variables.1st", "variables.bell", "variables.na-me", "variables.ok"]);
        let many: BTreeMap<String, String> = (0..33).map(|i| (format!("v{i}"), String::new())).collect();
        let mut errors = Vec::new();
        check_variables(&many, &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "variables");
    }

    #[test]
    fn fill_replaces_known_names_and_keeps_the_rest() {
        let v = vars(&[("name", "Asha"), ("due", "Friday")]);
        assert_eq!(fill("Hi {{name}}, your payment is due {{ due }}.", &v), "Hi Asha, your payment is due Friday.");
        assert_eq!(fill("Hi {{nobody}} and {{name}}", &v), "Hi {{nobody}} and Asha");
        assert_eq!(fill("open {{name", &v), "open {{name");
        assert_eq!(fill("{{name}}{{name}}", &v), "AshaAsha");
        assert_eq!(fill("no braces", &BTreeMap::new()), "no braces");
        assert_eq!(fill("{{}} {{ }}", &v), "{{}} {{ }}");
    }

    #[test]
    fn outcomes_keep_their_strings_and_say_when_to_retry() {
        let wire: Vec<&str> = CallOutcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(wire, ["answered", "machine", "busy", "no_answer", "failed", "canceled", "transferred"]);
        let retry: Vec<CallOutcome> = CallOutcome::ALL.iter().copied().filter(|o| o.retryable()).collect();
        assert_eq!(retry, [CallOutcome::Busy, CallOutcome::NoAnswer, CallOutcome::Failed]);
    }
}
