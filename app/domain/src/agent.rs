//! Agents: what answers a call, and the rules for their settings.

use serde::{Deserialize, Serialize};

use crate::{FieldError, check_len};

/// Languages an agent can speak.
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("hi", "Hindi")];
/// Speech-to-text providers.
pub const STT_PROVIDERS: &[(&str, &str)] = &[("whisper-local", "Whisper (offline)"), ("openai", "OpenAI-compatible")];
/// Reply providers.
pub const LLM_PROVIDERS: &[(&str, &str)] =
    &[("scripted", "Scripted replies (offline)"), ("openai", "OpenAI-compatible chat"), ("echo", "Echo the caller (load tests)")];
/// Text-to-speech providers.
pub const TTS_PROVIDERS: &[(&str, &str)] =
    &[("piper-local", "Piper (offline)"), ("espeak", "eSpeak NG (offline)"), ("openai", "OpenAI-compatible")];

/// What an outbound call does when an answering machine takes it.
pub const ON_MACHINE: &[(&str, &str)] = &[("hang_up", "Hang up"), ("leave_message", "Leave a message after the beep")];

/// A keyword rule of the scripted agent: any keyword heard -> reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScriptRule {
    pub keywords: Vec<String>,
    pub reply: String,
}

/// Provider choices and their settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Providers {
    #[cfg_attr(feature = "openapi", schema(pattern = "^(whisper-local|openai)$"))]
    pub stt: String,
    #[cfg_attr(feature = "openapi", schema(pattern = "^(scripted|openai|echo)$"))]
    pub llm: String,
    #[cfg_attr(feature = "openapi", schema(pattern = "^(piper-local|espeak|openai)$"))]
    pub tts: String,
    /// Base URL of an OpenAI-compatible API (when a provider is `openai`).
    pub base_url: String,
    pub model: String,
    /// The API's key: write-only. Empty on edit keeps the stored key; reads return it empty.
    pub api_key: String,
    /// `••••last4` of the stored key (read-only; ignored on input).
    pub api_key_hint: Option<String>,
    /// Remove the stored key (edit only).
    pub clear_api_key: bool,
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            stt: "whisper-local".into(),
            llm: "scripted".into(),
            tts: "piper-local".into(),
            base_url: String::new(),
            model: String::new(),
            api_key: String::new(),
            api_key_hint: None,
            clear_api_key: false,
        }
    }
}

/// What a user submits to create or edit an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct AgentInput {
    // The `schema` bounds restate validate()'s simple rules in the OpenAPI document; validate() decides.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(pattern = "^(en|hi)$"))]
    pub language: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub greeting: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 8000))]
    pub system_prompt: String,
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub rules: Vec<ScriptRule>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub default_reply: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub goodbye: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
    pub voice: String,
    pub providers: Providers,
    #[cfg_attr(feature = "openapi", schema(minimum = 100, maximum = 5000))]
    pub end_of_speech_ms: u32,
    /// Outbound calls a machine answers: `hang_up` or `leave_message` ([`ON_MACHINE`]).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(hang_up|leave_message)$"))]
    pub on_machine: String,
    /// The message left after the beep (the greeting when empty); `{{name}}` variables work.
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub voicemail_message: String,
    /// Both sides of every call of this agent kept in a stereo WAV (caller left, agent right).
    pub record_calls: bool,
    /// Said before the greeting on recorded calls; none when empty.
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub recording_notice: String,
    /// Days a recording is kept before it is deleted; 0 keeps it until the call is deleted.
    #[cfg_attr(feature = "openapi", schema(maximum = 3650))]
    pub recording_retention_days: u32,
    /// Where a transfer to a person goes (international format); none when empty.
    pub transfer_to: String,
    /// Words or phrases of the caller that ask for a person.
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub transfer_keywords: Vec<String>,
    /// The keypad key that asks for a person ("0", "*", ...); none when empty.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9*#]?$"))]
    pub transfer_digit: String,
    /// What the agent says before it hands the caller over.
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub transfer_line: String,
    /// The person first hears a one-line summary of the call (where the provider can).
    pub warm_transfer: bool,
    /// Names and words callers will say (the business, its people, products, places): offline
    /// Whisper is prompted with them, so it spells them as the business does.
    #[cfg_attr(feature = "openapi", schema(max_length = 400))]
    pub vocabulary: String,
}

/// Longest vocabulary, in characters (Whisper reads at most 224 prompt tokens).
pub const MAX_VOCABULARY: usize = 400;

/// Longest recording retention, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

impl Default for AgentInput {
    fn default() -> Self {
        Self {
            name: String::new(),
            language: "en".into(),
            greeting: "Hello! How can I help you today?".into(),
            system_prompt: String::new(),
            rules: Vec::new(),
            default_reply: "Sorry, I did not catch that. Could you say it again?".into(),
            goodbye: "Thank you for calling. Goodbye!".into(),
            voice: "en_US-joe-medium".into(),
            providers: Providers::default(),
            end_of_speech_ms: 700,
            on_machine: "hang_up".into(),
            voicemail_message: String::new(),
            record_calls: false,
            recording_notice: "This call is recorded.".into(),
            recording_retention_days: 30,
            transfer_to: String::new(),
            transfer_keywords: ["a person", "human", "representative", "operator"].map(String::from).to_vec(),
            transfer_digit: String::new(),
            transfer_line: "Connecting you to a person now. Please hold.".into(),
            warm_transfer: false,
            vocabulary: String::new(),
        }
    }
}

fn one_of(errors: &mut Vec<FieldError>, field: &str, value: &str, allowed: &[(&str, &str)]) {
    if !allowed.iter().any(|(k, _)| *k == value) {
        let names: Vec<&str> = allowed.iter().map(|(k, _)| *k).collect();
        errors.push(FieldError::new(field, format!("Choose one of: {}.", names.join(", "))));
    }
}

impl AgentInput {
    /// Trims text fields and drops empty rules/keywords.
    pub fn normalized(mut self) -> Self {
        for s in [
            &mut self.name,
            &mut self.greeting,
            &mut self.system_prompt,
            &mut self.default_reply,
            &mut self.goodbye,
            &mut self.voice,
            &mut self.on_machine,
            &mut self.voicemail_message,
            &mut self.recording_notice,
            &mut self.transfer_to,
            &mut self.transfer_digit,
            &mut self.transfer_line,
            &mut self.vocabulary,
        ] {
            *s = s.trim().to_string();
        }
        if let Ok(e164) = crate::phone_number::normalize_e164(&self.transfer_to) {
            self.transfer_to = e164;
        }
        self.transfer_keywords = self.transfer_keywords.iter().map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()).collect();
        self.language = self.language.trim().to_lowercase();
        self.providers.base_url = self.providers.base_url.trim().trim_end_matches('/').to_string();
        self.rules = self
            .rules
            .into_iter()
            .map(|r| ScriptRule {
                keywords: r.keywords.into_iter().map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()).collect(),
                reply: r.reply.trim().to_string(),
            })
            .filter(|r| !r.keywords.is_empty() || !r.reply.is_empty())
            .collect();
        self
    }

    /// What the agent says first: the recording notice on recorded calls, then the greeting.
    pub fn opening(&self) -> String {
        if self.record_calls && !self.recording_notice.is_empty() {
            format!("{} {}", self.recording_notice, self.greeting)
        } else {
            self.greeting.clone()
        }
    }

    fn validate_transfer(&self, e: &mut Vec<FieldError>) {
        if !self.transfer_to.is_empty() && crate::phone_number::normalize_e164(&self.transfer_to).is_err() {
            e.push(FieldError::new("transferTo", "Enter the number in international format, e.g. +14155550100."));
        }
        if self.transfer_keywords.len() > 20 || self.transfer_keywords.iter().any(|k| k.chars().count() > 40) {
            e.push(FieldError::new("transferKeywords", "Use at most 20 phrases of at most 40 characters."));
        }
        if !matches!(self.transfer_digit.as_str(), "" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#") {
            e.push(FieldError::new("transferDigit", "Use one key: 0-9, * or #."));
        }
        let needs_line = !self.transfer_to.is_empty();
        check_len(e, "transferLine", &self.transfer_line, usize::from(needs_line), 300, "the line said before the transfer");
        check_len(e, "vocabulary", &self.vocabulary, 0, MAX_VOCABULARY, "the words callers will say");
    }

    /// Every problem with this input; empty when it may be saved.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_len(&mut e, "name", &self.name, 1, 80, "a name");
        one_of(&mut e, "language", &self.language, LANGUAGES);
        check_len(&mut e, "greeting", &self.greeting, 1, 500, "a greeting");
        check_len(&mut e, "systemPrompt", &self.system_prompt, 0, 8000, "");
        check_len(&mut e, "defaultReply", &self.default_reply, 1, 500, "a default reply");
        check_len(&mut e, "goodbye", &self.goodbye, 1, 500, "a goodbye");
        check_len(&mut e, "voice", &self.voice, 1, 80, "a voice");
        one_of(&mut e, "providers.stt", &self.providers.stt, STT_PROVIDERS);
        if self.language != "en" && self.providers.stt == "whisper-local" && LANGUAGES.iter().any(|(c, _)| *c == self.language) {
            e.push(FieldError::new(
                "providers.stt",
                "Offline Whisper understands English only: choose the OpenAI-compatible provider for this language.",
            ));
        }
        one_of(&mut e, "providers.llm", &self.providers.llm, LLM_PROVIDERS);
        one_of(&mut e, "providers.tts", &self.providers.tts, TTS_PROVIDERS);
        let cloud = [&self.providers.stt, &self.providers.llm, &self.providers.tts].iter().any(|p| p.as_str() == "openai");
        if cloud && !(self.providers.base_url.starts_with("https://") || self.providers.base_url.starts_with("http://")) {
            e.push(FieldError::new("providers.baseUrl", "Enter the API's base URL, e.g. https://api.openai.com/v1."));
        }
        if self.providers.llm == "openai" && self.providers.model.trim().is_empty() {
            e.push(FieldError::new("providers.model", "Enter the chat model, e.g. gpt-4o-mini."));
        }
        if self.providers.api_key.len() > 500 {
            e.push(FieldError::new("providers.apiKey", "Use at most 500 characters."));
        }
        if self.rules.len() > 50 {
            e.push(FieldError::new("rules", "Use at most 50 rules."));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.keywords.is_empty() {
                e.push(FieldError::new(&format!("rules.{i}.keywords"), "Enter at least one keyword."));
            }
            if r.reply.is_empty() {
                e.push(FieldError::new(&format!("rules.{i}.reply"), "Enter the reply for these keywords."));
            }
        }
        one_of(&mut e, "onMachine", &self.on_machine, ON_MACHINE);
        check_len(&mut e, "voicemailMessage", &self.voicemail_message, 0, 500, "");
        check_len(&mut e, "recordingNotice", &self.recording_notice, 0, 300, "");
        if self.recording_retention_days > MAX_RETENTION_DAYS {
            e.push(FieldError::new(
                "recordingRetentionDays",
                format!("Use at most {MAX_RETENTION_DAYS} days (0 keeps recordings until deleted)."),
            ));
        }
        self.validate_transfer(&mut e);
        if !(100..=5000).contains(&self.end_of_speech_ms) {
            e.push(FieldError::new("endOfSpeechMs", "Use a silence between 100 and 5000 ms."));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> AgentInput {
        AgentInput { name: "Front desk".into(), ..AgentInput::default() }
    }

    #[test]
    fn defaults_with_a_name_are_valid() {
        assert!(good().validate().is_empty());
        assert_eq!(good().on_machine, "hang_up");
        // Agents saved before the machine setting read back with its default.
        let old: AgentInput = serde_json::from_str(r#"{"name":"Old"}"#).unwrap();
        assert_eq!((old.on_machine.as_str(), old.voicemail_message.as_str()), ("hang_up", ""));
        // ... and records nothing until asked.
        assert!(!old.record_calls);
        assert_eq!(old.recording_retention_days, 30);
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut a = good();
        a.name = " ".into();
        a.language = "fr".into();
        a.end_of_speech_ms = 50;
        a.providers.llm = "openai".into();
        a.rules = vec![ScriptRule { keywords: vec![], reply: "x".into() }];
        a.on_machine = "shout".into();
        a.recording_notice = "x".repeat(301);
        a.recording_retention_days = MAX_RETENTION_DAYS + 1;
        a.transfer_to = "12".into();
        a.transfer_digit = "10".into();
        a.transfer_line = String::new();
        a.vocabulary = "Okonkwo ".repeat(60);
        let fields: Vec<String> = a.normalized().validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "language",
                "providers.baseUrl",
                "providers.model",
                "rules.0.keywords",
                "onMachine",
                "recordingNotice",
                "recordingRetentionDays",
                "transferTo",
                "transferDigit",
                "transferLine",
                "vocabulary",
                "endOfSpeechMs"
            ]
        );
    }

    #[test]
    fn a_hindi_agent_needs_a_provider_that_understands_hindi() {
        let hindi = AgentInput { language: "hi".into(), ..good() };
        let fields: Vec<String> = hindi.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["providers.stt"]);
        let mut cloud = hindi.clone();
        cloud.providers.stt = "openai".into();
        cloud.providers.base_url = "https://api.openai.com/v1".into();
        // Spoken offline by eSpeak NG (the agent's offline voice for Hindi), heard in the cloud.
        assert!(cloud.validate().is_empty(), "{:?}", cloud.validate());
        // An unknown language is named once, on its own field.
        let unknown: Vec<String> = AgentInput { language: "fr".into(), ..good() }.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(unknown, ["language"]);
    }

    #[test]
    fn a_transfer_number_is_normalized_and_its_line_required() {
        let mut a = good();
        a.transfer_to = " +1 415 555 0100 ".into();
        a.transfer_keywords = vec![" A Person ".into(), " ".into()];
        let n = a.normalized();
        assert_eq!((n.transfer_to.as_str(), n.transfer_keywords.clone()), ("+14155550100", vec!["a person".to_string()]));
        assert!(n.validate().is_empty());
        // Without a destination, no line is needed.
        assert!(AgentInput { transfer_line: String::new(), ..good() }.validate().is_empty());
    }

    #[test]
    fn normalizing_trims_and_lowercases_keywords() {
        let mut a = good();
        a.rules = vec![ScriptRule { keywords: vec![" Hours ".into(), "".into()], reply: " We open at 9. ".into() }, ScriptRule::default()];
        let n = a.normalized();
        assert_eq!(n.rules, vec![ScriptRule { keywords: vec!["hours".into()], reply: "We open at 9.".into() }]);
    }
}

/// An agent as every read shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    pub id: String,
    #[serde(flatten)]
    pub settings: AgentInput,
    /// How many phone numbers are linked to this agent.
    pub linked_numbers: i64,
    pub created_at: String,
    pub updated_at: String,
}
