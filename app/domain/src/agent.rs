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
#[serde(rename_all = "camelCase")]
pub struct ScriptRule {
    pub keywords: Vec<String>,
    pub reply: String,
}

/// Provider choices and their settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Providers {
    pub stt: String,
    pub llm: String,
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
#[serde(rename_all = "camelCase", default)]
pub struct AgentInput {
    pub name: String,
    pub language: String,
    pub greeting: String,
    pub system_prompt: String,
    pub rules: Vec<ScriptRule>,
    pub default_reply: String,
    pub goodbye: String,
    pub voice: String,
    pub providers: Providers,
    pub end_of_speech_ms: u32,
    /// Outbound calls a machine answers: `hang_up` or `leave_message` ([`ON_MACHINE`]).
    pub on_machine: String,
    /// The message left after the beep (the greeting when empty); `{{name}}` variables work.
    pub voicemail_message: String,
    /// Both sides of every call of this agent kept in a stereo WAV (caller left, agent right).
    pub record_calls: bool,
    /// Said before the greeting on recorded calls; none when empty.
    pub recording_notice: String,
    /// Days a recording is kept before it is deleted; 0 keeps it until the call is deleted.
    pub recording_retention_days: u32,
}

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
        ] {
            *s = s.trim().to_string();
        }
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
                "endOfSpeechMs"
            ]
        );
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
