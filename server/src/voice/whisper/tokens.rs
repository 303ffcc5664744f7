//! Whisper's byte-level BPE (GPT-2's scheme): token strings to text, and text to token
//! strings for a prompt. Read from the model's own `tokenizer.json` (its merges), so no
//! tokenizer crate (and its C dependencies) is needed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

/// Decodes byte-level BPE token strings (GPT-2's byte-to-unicode mapping) into text,
/// skipping special tokens such as `<|endoftext|>`.
pub fn decode_tokens(tokens: &[String]) -> String {
    let table = unicode_to_byte();
    let mut bytes = Vec::new();
    for t in tokens.iter().filter(|t| !(t.starts_with("<|") && t.ends_with("|>"))) {
        for c in t.chars() {
            match table.get(&c) {
                Some(b) => bytes.push(*b),
                None => bytes.extend_from_slice(c.to_string().as_bytes()),
            }
        }
    }
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// GPT-2's byte -> printable character table: printable bytes stand for themselves, the
/// others are moved to 256 and up.
fn byte_to_unicode() -> &'static [char; 256] {
    static TABLE: OnceLock<[char; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        let mut extra = 0;
        let mut table = ['?'; 256];
        for (b, slot) in table.iter_mut().enumerate() {
            let b = b as u32;
            *slot = if printable(b) {
                char::from_u32(b).unwrap_or('?')
            } else {
                extra += 1;
                char::from_u32(255 + extra).unwrap_or('?')
            };
        }
        table
    })
}

fn unicode_to_byte() -> &'static HashMap<char, u8> {
    static TABLE: OnceLock<HashMap<char, u8>> = OnceLock::new();
    TABLE.get_or_init(|| byte_to_unicode().iter().enumerate().map(|(b, c)| (*c, b as u8)).collect())
}

/// The merges of a model's tokenizer, by rank: encodes text into the model's token strings.
pub struct Encoder {
    ranks: HashMap<(String, String), usize>,
}

/// Longest prompt text encoded (Whisper reads at most 224 prompt tokens; a vocabulary is short).
const MAX_PROMPT_CHARS: usize = 600;

impl Encoder {
    /// Reads `tokenizer.json` (Hugging Face format, a BPE model with "a b" merges).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let merges = json["model"]["merges"].as_array().ok_or_else(|| format!("{}: no BPE merges", path.display()))?;
        let ranks = merges
            .iter()
            .enumerate()
            .filter_map(|(rank, m)| {
                let (a, b) = match m {
                    serde_json::Value::String(s) => s.split_once(' ')?,
                    serde_json::Value::Array(pair) => (pair.first()?.as_str()?, pair.get(1)?.as_str()?),
                    _ => return None,
                };
                Some(((a.to_string(), b.to_string()), rank))
            })
            .collect();
        Ok(Self { ranks })
    }

    /// The token strings of `text` (cut at [`MAX_PROMPT_CHARS`]).
    pub fn encode(&self, text: &str) -> Vec<String> {
        let text: String = text.chars().take(MAX_PROMPT_CHARS).collect();
        words(&text).into_iter().flat_map(|w| self.bpe(w)).collect()
    }

    /// Merges one pre-token's byte symbols, lowest rank first, until no pair merges.
    fn bpe(&self, word: &str) -> Vec<String> {
        let table = byte_to_unicode();
        let mut parts: Vec<String> = word.bytes().map(|b| table[b as usize].to_string()).collect();
        loop {
            let best =
                parts.windows(2).enumerate().filter_map(|(i, w)| self.ranks.get(&(w[0].clone(), w[1].clone())).map(|r| (*r, i))).min();
            let Some((_, i)) = best else { break };
            let merged = format!("{}{}", parts[i], parts[i + 1]);
            parts.splice(i..i + 2, [merged]);
        }
        parts
    }
}

/// GPT-2's pre-tokenisation, simplified: a word keeps the one space before it; letters,
/// digits and other symbols form separate runs.
fn words(text: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Letter,
        Digit,
        Other,
    }
    let kind = |c: char| {
        if c.is_alphabetic() || c == '\'' {
            Kind::Letter
        } else if c.is_numeric() {
            Kind::Digit
        } else {
            Kind::Other
        }
    };
    let mut out = Vec::new();
    let mut start: Option<(usize, Kind)> = None;
    let mut space_at: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some((s, _)) = start.take() {
                out.push(&text[s..i]);
            }
            space_at = Some(i);
            continue;
        }
        let k = kind(c);
        match start {
            Some((_, sk)) if sk == k => {}
            _ => {
                if let Some((s, _)) = start.take() {
                    out.push(&text[s..i]);
                }
                // The run takes the single space right before it.
                let from = match space_at.take() {
                    Some(sp) if sp + 1 == i => sp,
                    _ => i,
                };
                start = Some((from, k));
            }
        }
    }
    if let Some((s, _)) = start {
        out.push(&text[s..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_text() {
        let tokens: Vec<String> =
            ["<|startoftranscript|>", "ĠOur", "Ġopening", "Ġhours", "?", "<|endoftext|>"].iter().map(|s| s.to_string()).collect();
        assert_eq!(decode_tokens(&tokens), "Our opening hours?");
        // Multi-byte UTF-8 split over tokens: "é" is bytes C3 A9 -> "Ã" "©".
        let tokens: Vec<String> = ["ĠcafÃ", "©"].iter().map(|s| s.to_string()).collect();
        assert_eq!(decode_tokens(&tokens), "café");
    }

    #[test]
    fn pre_tokens_keep_their_leading_space() {
        assert_eq!(words(" Opening hours, 9-5."), vec![" Opening", " hours", ",", " 9", "-", "5", "."]);
        assert_eq!(words("Dr. O'Neil"), vec!["Dr", ".", " O'Neil"]);
    }

    #[test]
    fn text_encodes_by_merge_rank_and_decodes_back() {
        // A tiny merge table: "h"+"o" first, then "ho"+"u", then "Ġ"+"hou".
        let mut ranks = HashMap::new();
        for (i, (a, b)) in [("h", "o"), ("ho", "u"), ("Ġ", "hou"), ("r", "s")].iter().enumerate() {
            ranks.insert((a.to_string(), b.to_string()), i);
        }
        let enc = Encoder { ranks };
        let tokens = enc.encode(" hours é");
        assert_eq!(tokens[..3], ["Ġhou".to_string(), "rs".into(), "Ġ".into()]);
        assert_eq!(decode_tokens(&tokens), "hours é");
        assert!(enc.encode(&"word ".repeat(1000)).len() <= MAX_PROMPT_CHARS, "a prompt is bounded");
    }
}
