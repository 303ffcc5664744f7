//! Whether a caller's words so far sound finished: read from the transcript of a pause, to
//! end the turn sooner than the full end-of-speech silence when the caller has clearly
//! finished ("What are your opening hours?"), and to keep waiting when the words trail off
//! ("I'd like to book a table for…"). Pure: text in, a verdict out.

use super::agent::normalize;

/// What the words say about the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// A complete question or sentence, or a request naming one of the agent's key words:
    /// the turn ends now.
    Complete,
    /// Nothing tells: wait for the end-of-speech silence.
    Unsure,
    /// The words trail off (a comma, an ellipsis, "and", "for", "um", a number being read
    /// out): wait for the end-of-speech silence.
    Trailing,
}

/// Words a finished sentence rarely ends on: conjunctions, prepositions, articles,
/// possessives, auxiliaries, fillers.
const TRAILING: &[&str] = &[
    "a", "about", "after", "am", "an", "and", "are", "as", "at", "be", "because", "before", "but", "by", "can", "could", "did", "do",
    "does", "er", "erm", "for", "from", "had", "has", "have", "her", "his", "hmm", "i", "id", "if", "ill", "im", "in", "into", "is", "its",
    "like", "may", "might", "mm", "must", "my", "of", "on", "or", "our", "shall", "should", "so", "than", "that", "the", "their", "then",
    "these", "this", "those", "to", "uh", "um", "umm", "was", "we", "were", "when", "where", "which", "who", "will", "with", "would",
    "your",
];

/// Digits as said (`normalize` spells 0-10 out).
const DIGITS: &[&str] = &["zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/// Reads `text` (a transcript with Whisper's punctuation); `key_words` are the agent's
/// (normalised) words that name a request.
pub fn finish(text: &str, key_words: &[String]) -> Finish {
    let t = text.trim();
    let words = normalize(t);
    let Some(last) = words.last() else { return Finish::Unsure };
    if t.ends_with([',', '-', '–', '—', ':', ';', '…']) || t.ends_with("..") || TRAILING.contains(&last.as_str()) {
        return Finish::Trailing;
    }
    // Whisper finishes a fragment with "you" ("I need to talk to" is heard as "I need to talk to
    // you."); "thank you" is the one common sentence that ends on it. A trailing "my" is heard
    // as "mine" ("I want to cancel my…" as "I want to cancel mine.").
    if (last == "you" && words.len() >= 2 && words[words.len() - 2] != "thank") || last == "mine" {
        return Finish::Trailing;
    }
    // Digits are read out in groups with pauses between ("five five five… one two three").
    if last.chars().all(|c| c.is_ascii_digit()) || DIGITS.contains(&last.as_str()) {
        return Finish::Trailing;
    }
    // A caller who opens with a greeting goes on ("Hello, what are your opening hours?"), and
    // Whisper hears the pause after it as a question ("Hello?"): wait for the silence.
    if words.iter().all(|w| OPENERS.contains(&w.as_str())) {
        return Finish::Trailing;
    }
    // Whisper ends a fragment with a full stop as readily as a sentence ("I need to talk too."),
    // so a statement ends the turn only when it asks for something the agent knows (one of its
    // key words) or is a short answer ("Yes.", "No, thanks."); a question ends it on its own.
    let named = words.iter().any(|w| key_words.iter().any(|k| k == w));
    let short_answer = words.len() <= 3 && words.iter().all(|w| CLOSED.contains(&w.as_str()));
    if t.ends_with('?') || ((named || short_answer) && t.ends_with(['.', '!', '।'])) {
        return Finish::Complete;
    }
    if named && !t.ends_with(['.', '!', '।']) { Finish::Complete } else { Finish::Unsure }
}

/// Greetings a caller opens with before saying what they want.
const OPENERS: &[&str] = &["hello", "hi", "hey", "hiya", "there", "good", "morning", "afternoon", "evening", "oh", "namaste", "नमस्ते"];

/// Short answers that are whole turns on their own.
const CLOSED: &[&str] =
    &["yes", "yeah", "yep", "no", "nope", "okay", "ok", "sure", "right", "correct", "thanks", "thank", "you", "bye", "goodbye", "please"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_questions_and_sentences_end_the_turn() {
        let keys = ["operator".to_string(), "समय".into(), "appointment".into()];
        for t in [
            "What are your opening hours?",
            "Yes.",
            "No.",
            "No, thanks.",
            "Operator, please.",
            "Thank you, goodbye!",
            "Thank you.",
            "I would like an appointment for tomorrow.",
            "मुझे समय बताइए।",
        ] {
            assert_eq!(finish(t, &keys), Finish::Complete, "{t}");
        }
        // A statement naming nothing the agent knows may be a fragment Whisper punctuated.
        assert_eq!(finish("I need to talk too.", &keys), Finish::Unsure);
        assert_eq!(finish("Operator, please.", &[]), Finish::Unsure);
        // Without punctuation, an agent's key word tells.
        assert_eq!(finish("cancel my booking", &["booking".into()]), Finish::Complete);
        assert_eq!(finish("cancel my booking", &[]), Finish::Unsure);
        assert_eq!(finish("", &[]), Finish::Unsure);
    }

    #[test]
    fn words_that_trail_off_keep_the_turn_open() {
        for t in [
            "I'd like to book a table for...",
            "I'd like to book a table for.",
            "I need to talk to you.",
            "I want to cancel mine.",
            "Could you tell me that?",
            "My name is",
            "Can we do it on…",
            "I want to cancel my",
            "My number is 555,",
            "My number is five five five.",
            "My number is 555.",
            "Um.",
            "Hello?",
            "Hi there.",
            "Oh, hello?",
            "Good morning!",
            "नमस्ते।",
            "So I was wondering if -",
            "and",
        ] {
            assert_eq!(finish(t, &["book".into(), "cancel".into()]), Finish::Trailing, "{t}");
        }
    }
}
