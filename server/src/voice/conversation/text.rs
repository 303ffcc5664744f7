//! Reading the text that flows through a reply: where a sentence ends, what is not speech.

/// Whisper writes sound descriptions for non-speech ("[BLANK_AUDIO]", "(coughs)").
pub(super) fn is_noise_transcript(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')')) || t.chars().all(|c| !c.is_alphanumeric())
}

/// Byte index just past the first complete sentence of `text` (all of it when `done`).
pub(super) fn sentence_end(text: &str, done: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '?' | '!' | '।') {
            let next = i + c.len_utf8();
            // A decimal point ("9.30") is not a sentence end.
            if next < bytes.len() && bytes[next].is_ascii_whitespace() {
                return Some(next);
            }
        }
    }
    if done && !text.trim().is_empty() {
        return Some(text.len());
    }
    // A very long clause is spoken at its last comma (else its last space) rather than
    // waiting for the full stop.
    if text.len() > 240 {
        return text.rfind(", ").map(|i| i + 1).or_else(|| text.rfind(' ').filter(|&i| i > 0));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_their_end_not_at_decimals() {
        assert_eq!(sentence_end("We open at 9.30 today. Then", false), Some(22));
        assert_eq!(sentence_end("We open at 9.30", false), None);
        assert_eq!(sentence_end("We open at 9.30", true), Some(15));
        assert_eq!(sentence_end("", true), None);
        // A long run with no stop is cut at its last comma, or its last space.
        let clause = format!("{}, and then", "word ".repeat(50).trim_end());
        assert_eq!(sentence_end(&clause, false), Some(clause.find(", and").unwrap() + 1));
        let run = "word ".repeat(60);
        assert_eq!(sentence_end(&run, false), Some(run.trim_end().len()));
    }

    #[test]
    fn sound_descriptions_are_not_speech() {
        assert!(is_noise_transcript("[BLANK_AUDIO]"));
        assert!(is_noise_transcript(" (coughs) "));
        assert!(is_noise_transcript("..."));
        assert!(!is_noise_transcript("Opening hours?"));
    }
}
