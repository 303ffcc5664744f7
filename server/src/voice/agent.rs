//! Agents: the scripted agent (key words, matched tolerantly), the echo agent (answers with the
//! caller's own audio; for load tests), and the LLM agent (OpenAI-compatible chat).

use async_trait::async_trait;
use domain::agent::ScriptRule;
use tokio::sync::mpsc;

use super::openai::{self, OpenAi};
use super::{AfterReply, Agent, AgentInput, ChatTurn, TransferRule, VoiceError};

/// Words that end the call when no rule of the agent claims them.
const GOODBYE_WORDS: &[&str] = &["bye", "goodbye", "good bye", "hang up", "that is all", "that's all"];

/// Replies by key words: the rule with the most key words heard wins; none heard gives the
/// default reply; a goodbye ends the call after the agent's goodbye line.
pub struct ScriptedAgent {
    pub rules: Vec<ScriptRule>,
    pub default_reply: String,
    pub goodbye: String,
    pub transfer: Option<TransferRule>,
}

impl TransferRule {
    /// Whether `input` asks for a person.
    pub fn asked(&self, input: &AgentInput) -> bool {
        match input {
            AgentInput::Dtmf(d) => !self.digit.is_empty() && d == &self.digit,
            AgentInput::Speech(t) => {
                let words = normalize(t);
                self.keywords.iter().any(|k| phrase_heard(&words, &normalize(k)))
            }
        }
    }
}

impl ScriptedAgent {
    /// The reply to `text` and whether to hang up afterwards.
    pub fn answer(&self, input: &AgentInput) -> (String, AfterReply) {
        let words = match input {
            AgentInput::Speech(t) => normalize(t),
            AgentInput::Dtmf(d) => normalize(&d.chars().map(|c| format!("{c} ")).collect::<String>()),
        };
        // Asking for a person wins over every rule.
        if let Some(t) = self.transfer.as_ref().filter(|t| t.asked(input)) {
            return (t.line.clone(), AfterReply::Transfer);
        }
        let mut best: Option<(usize, &ScriptRule)> = None;
        for rule in &self.rules {
            let hits = rule.keywords.iter().filter(|k| phrase_heard(&words, &normalize(k))).count();
            if hits > 0 && best.is_none_or(|(b, _)| hits > b) {
                best = Some((hits, rule));
            }
        }
        if let Some((_, rule)) = best {
            return (rule.reply.clone(), AfterReply::Listen);
        }
        if GOODBYE_WORDS.iter().any(|g| phrase_heard(&words, &normalize(g))) {
            return (self.goodbye.clone(), AfterReply::HangUp);
        }
        (self.default_reply.clone(), AfterReply::Listen)
    }
}

#[async_trait]
impl Agent for ScriptedAgent {
    async fn reply(&self, _history: &[ChatTurn], input: &AgentInput, out: mpsc::Sender<String>) -> Result<AfterReply, VoiceError> {
        let (text, after) = self.answer(input);
        let _ = out.send(text).await;
        Ok(after)
    }
}

/// Answers every turn with the caller's own audio: no STT, no TTS; measures the transport.
pub struct EchoAgent;

#[async_trait]
impl Agent for EchoAgent {
    async fn reply(&self, _history: &[ChatTurn], _input: &AgentInput, _out: mpsc::Sender<String>) -> Result<AfterReply, VoiceError> {
        Ok(AfterReply::Listen)
    }
    fn echoes_audio(&self) -> bool {
        true
    }
}

/// An OpenAI-compatible chat model with the agent's system prompt; replies stream token by token.
pub struct LlmAgent {
    pub api: OpenAi,
    pub system_prompt: String,
    pub goodbye: String,
    /// Offered to the model as its `transfer_call` tool; its key words and key work as well.
    pub transfer: Option<TransferRule>,
}

#[async_trait]
impl Agent for LlmAgent {
    async fn reply(&self, history: &[ChatTurn], input: &AgentInput, out: mpsc::Sender<String>) -> Result<AfterReply, VoiceError> {
        if let AgentInput::Speech(t) = input
            && normalize(t).len() <= 4
            && GOODBYE_WORDS.iter().any(|g| phrase_heard(&normalize(t), &normalize(g)))
        {
            let _ = out.send(self.goodbye.clone()).await;
            return Ok(AfterReply::HangUp);
        }
        if let Some(t) = self.transfer.as_ref().filter(|t| t.asked(input)) {
            let _ = out.send(t.line.clone()).await;
            return Ok(AfterReply::Transfer);
        }
        let tools = self.transfer.as_ref().map(|_| openai::transfer_tool());
        let called = openai::chat_stream(&self.api, &self.system_prompt, history, &input.text(), out.clone(), tools.as_ref()).await?;
        match (called.as_deref(), &self.transfer) {
            (Some(openai::TRANSFER_TOOL), Some(t)) => {
                let _ = out.send(format!(" {}", t.line)).await;
                Ok(AfterReply::Transfer)
            }
            _ => Ok(AfterReply::Listen),
        }
    }
}

/// Lower-case words without punctuation; digits 0-10 spelled out ("3" and "three" match). Words
/// of any script: in NFC form, with their combining marks (a Devanagari vowel sign or virama is
/// part of its word, not a break), and without zero-width joiners (which only shape the glyphs).
pub fn normalize(text: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    const NUMBERS: [&str; 11] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    let text: String = text.nfc().filter(|c| !matches!(c, '\'' | '\u{200C}' | '\u{200D}')).collect::<String>().to_lowercase();
    text.split(|c: char| !(c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark))
        .filter(|w| !w.is_empty())
        .map(|w| match w.parse::<usize>() {
            Ok(n) if n <= 10 => NUMBERS[n].to_string(),
            _ => w.to_string(),
        })
        .collect()
}

/// Whether the words of `phrase` occur in order, next to each other, each one close enough.
fn phrase_heard(words: &[String], phrase: &[String]) -> bool {
    if phrase.is_empty() || phrase.len() > words.len() {
        return false;
    }
    words.windows(phrase.len()).any(|w| w.iter().zip(phrase).all(|(a, b)| word_close(a, b)))
}

/// Same word, same stem ("hours" / "hour", "booking" / "book"), or a small misspelling for long
/// words (Whisper writes "appointement", callers say "reschedule" as "re-schedule").
fn word_close(heard: &str, key: &str) -> bool {
    if heard == key || stem(heard) == stem(key) {
        return true;
    }
    let n = key.chars().count();
    let allowed = match n {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && strsim::levenshtein(heard, key) <= allowed
}

fn stem(w: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.len() >= 3
        {
            return s;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> ScriptedAgent {
        ScriptedAgent {
            rules: vec![
                ScriptRule { keywords: vec!["opening hours".into(), "open".into()], reply: "We are open nine to five.".into() },
                ScriptRule { keywords: vec!["appointment".into(), "book".into()], reply: "Which day suits you?".into() },
                ScriptRule { keywords: vec!["1".into()], reply: "Sales, one moment.".into() },
            ],
            default_reply: "Sorry?".into(),
            goodbye: "Goodbye!".into(),
            transfer: Some(TransferRule {
                keywords: vec!["a person".into(), "operator".into()],
                digit: "0".into(),
                line: "Connecting you.".into(),
            }),
        }
    }

    #[test]
    fn asking_for_a_person_or_its_key_transfers_before_any_rule() {
        let transfer = ("Connecting you.".to_string(), AfterReply::Transfer);
        assert_eq!(agent().answer(&AgentInput::Speech("Can I talk to a person about opening hours?".into())), transfer);
        assert_eq!(agent().answer(&AgentInput::Dtmf("0".into())), transfer);
        assert_eq!(agent().answer(&AgentInput::Speech("Operator!".into())), transfer);
        // Words that only contain a phrase's words do not.
        assert_eq!(agent().answer(&AgentInput::Speech("A personal question about opening hours".into())).1, AfterReply::Listen);
        assert_eq!(agent().answer(&AgentInput::Dtmf("1".into())).1, AfterReply::Listen);
        let no_transfer = ScriptedAgent { transfer: None, ..agent() };
        assert_eq!(no_transfer.answer(&AgentInput::Dtmf("0".into())).1, AfterReply::Listen);
    }

    fn say(t: &str) -> String {
        agent().answer(&AgentInput::Speech(t.into())).0
    }

    #[test]
    fn key_words_match_tolerantly() {
        assert_eq!(say("What are your opening hours?"), "We are open nine to five.");
        assert_eq!(say("When are you opened"), "We are open nine to five.");
        assert_eq!(say("I'd like an appointement for tomorrow."), "Which day suits you?");
        assert_eq!(say("Can I booking something"), "Which day suits you?");
        assert_eq!(say("What's the weather like?"), "Sorry?");
        // Short words must match exactly: "pen" is not "open".
        assert_eq!(say("I lost my pen"), "Sorry?");
    }

    #[test]
    fn digits_and_number_words_are_the_same_key() {
        assert_eq!(say("option one please"), "Sales, one moment.");
        assert_eq!(agent().answer(&AgentInput::Dtmf("1".into())).0, "Sales, one moment.");
        assert_eq!(agent().answer(&AgentInput::Dtmf("2".into())).0, "Sorry?");
    }

    #[test]
    fn devanagari_words_keep_their_marks_and_match() {
        // Vowel signs (ा, ी), the virama (्) and the nukta (़) stay inside their word; the danda
        // and punctuation split.
        assert_eq!(normalize("आपका समय क्या है? ठीक।"), ["आपका", "समय", "क्या", "है", "ठीक"]);
        // A nukta letter written precomposed or as letter + nukta is one word; joiners vanish.
        assert_eq!(normalize("\u{095B}रूरत"), normalize("\u{091C}\u{093C}रूरत"));
        assert_eq!(normalize("क्\u{200D}ष"), ["क्ष"]);
        let hindi = ScriptedAgent {
            rules: vec![
                ScriptRule {
                    keywords: vec!["समय".into(), "खुले".into()], reply: "हम सुबह नौ बजे से शाम पाँच बजे तक खुले हैं।".into()
                },
                ScriptRule {
                    keywords: vec!["अपॉइंटमेंट".into()], reply: "कौन सा दिन ठीक रहेगा?".into()
                },
            ],
            default_reply: "माफ़ कीजिए?".into(),
            goodbye: "नमस्ते!".into(),
            transfer: None,
        };
        let say = |t: &str| hindi.answer(&AgentInput::Speech(t.into())).0;
        assert_eq!(say("आपके खुलने का समय क्या है?"), "हम सुबह नौ बजे से शाम पाँच बजे तक खुले हैं।");
        // A long word heard with one letter off still matches; a word that only shares letters does not.
        assert_eq!(say("मुझे अपॉइंटमेन्ट चाहिए"), "कौन सा दिन ठीक रहेगा?");
        assert_eq!(say("समयसारणी भेजिए"), "माफ़ कीजिए?");
        // Cut at its marks, "क्या" would be two words; kept whole it is not "क".
        assert_eq!(normalize("क्या"), ["क्या"]);
    }

    #[test]
    fn goodbye_ends_the_call_unless_a_rule_claims_it() {
        assert_eq!(agent().answer(&AgentInput::Speech("Okay, bye!".into())), ("Goodbye!".into(), AfterReply::HangUp));
        assert_eq!(agent().answer(&AgentInput::Speech("Bye, book me in".into())).1, AfterReply::Listen);
    }
}
