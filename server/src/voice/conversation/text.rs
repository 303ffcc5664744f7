//! Reading the text that flows through a reply: where a sentence (or a reply's first clause)
//! ends, what is not speech.

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

/// Words a reply's first piece needs before it may end at a clause: a shorter opening ("Yes,")
/// sounds clipped when spoken alone.
const FIRST_CLAUSE_WORDS: usize = 4;

/// Byte index just past a reply's first piece: its first clause (at a comma, semicolon, colon or
/// dash) once that has a few words, so speech starts sooner; else its first sentence.
pub(super) fn first_piece_end(text: &str, done: bool) -> Option<usize> {
    let sentence = sentence_end(text, false);
    let limit = sentence.unwrap_or(text.len());
    let mut chars = text[..limit].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n).or_else(|| text[limit..].chars().next());
        let spaced = next.is_some_and(char::is_whitespace);
        let before = text[..i].chars().last().is_some_and(char::is_whitespace);
        // "9,30", "1:30" and "well-known" are not clause ends; a spaced hyphen or any long dash is.
        let clause = match c {
            ',' | ';' | ':' => spaced,
            '-' => spaced && before,
            '—' | '–' => next.is_some(),
            _ => false,
        };
        if clause && text[..i].split_whitespace().count() >= FIRST_CLAUSE_WORDS {
            return Some(i + c.len_utf8());
        }
    }
    sentence.or_else(|| sentence_end(text, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_starts_speaking_at_its_first_clause_with_a_few_words() {
        let text = "We are open today, from nine to five. See you, then.";
        assert_eq!(first_piece_end(text, false), Some("We are open today,".len()));
        // Too few words before the comma: the whole sentence.
        assert_eq!(first_piece_end("Yes, we are open today. Bye", false), Some("Yes, we are open today.".len()));
        // Semicolons, colons and dashes end a clause too.
        for (text, piece) in [
            ("Our hours are simple; nine to five", "Our hours are simple;"),
            ("Here is what we offer: cleaning", "Here is what we offer:"),
            ("We are open every day - even Sunday", "We are open every day -"),
            ("We are open every day—even Sunday", "We are open every day—"),
        ] {
            assert_eq!(first_piece_end(text, false), Some(piece.len()), "{text}");
        }
        // Numbers and hyphenated words are not clause ends.
        let plain = "We open at 9,30 or 10:30 on well-known days";
        assert_eq!(first_piece_end(plain, false), None);
        assert_eq!(first_piece_end(plain, true), Some(plain.len()));
        // A comma not yet followed by anything waits for the next token.
        assert_eq!(first_piece_end("We are open today,", false), None);
        // Hindi: the danda ends a sentence, a comma a clause.
        let hindi = "हम सुबह नौ बजे से, शाम पाँच बजे तक खुले हैं। धन्यवाद";
        assert_eq!(first_piece_end(hindi, false), Some("हम सुबह नौ बजे से,".len()));
        // A sentence that ends before any long-enough clause is the first piece.
        assert_eq!(first_piece_end("We are open. Later, we close", false), Some("We are open.".len()));
    }

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
