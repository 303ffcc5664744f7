//! The voice pipeline's own vocabulary with whatever carries a call (a provider's stream, a
//! test's channel): what the caller side sends, what the agent sends back, and the rules its
//! audio chunks must keep. The transport translates; the pipeline never learns who it talks to.

/// What the caller's side sent.
#[derive(Debug, Clone, PartialEq)]
pub enum CallerEvent {
    /// 16-bit samples at the call's rate.
    Audio(Vec<i16>),
    /// A keypad digit.
    Dtmf(String),
    /// The caller has heard our audio up to this mark.
    Played(String),
    /// The transport is going away (the server is stopping): say a short closing line, then
    /// end the call. Nothing the caller says after it starts a reply.
    Closing,
}

/// A caller event on its way to the conversation, holding its bytes of the stream's queue
/// budget until the conversation takes it: the transport bounds the queue in bytes.
#[derive(Debug)]
pub struct Queued {
    pub event: CallerEvent,
    pub budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// What the agent sends to the caller's side.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentFrame {
    /// 16-bit samples at the call's rate, one chunk that keeps the [`ChunkRules`].
    Audio(Vec<i16>),
    /// Tell us (with [`CallerEvent::Played`]) when the audio sent so far has been heard.
    Mark(String),
    /// Drop all audio sent but not yet played (barge-in).
    Clear,
}

/// Sizes an outbound audio chunk must keep, in samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRules {
    /// A chunk is a whole multiple of this many samples.
    pub multiple: usize,
    /// Smallest chunk (the end of an utterance is padded with silence up to it).
    pub min: usize,
    /// Largest chunk.
    pub max: usize,
}

impl ChunkRules {
    /// Any size goes (a transport without rules).
    pub const ANY: ChunkRules = ChunkRules { multiple: 1, min: 1, max: usize::MAX };

    /// Whether a chunk of `samples` keeps the rules.
    pub fn allows(&self, samples: usize) -> bool {
        samples.is_multiple_of(self.multiple) && (self.min..=self.max).contains(&samples)
    }

    /// The chunk closest to `wanted` samples that keeps the rules.
    pub fn fit(&self, wanted: usize) -> usize {
        (wanted / self.multiple * self.multiple).clamp(self.min, self.max)
    }

    /// `samples` rounded up to a size the rules allow (padding).
    pub fn pad(&self, samples: usize) -> usize {
        (samples.div_ceil(self.multiple) * self.multiple).max(self.min)
    }
}

/// What the transport tells the pipeline about one call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallAudio {
    /// Samples per second, both ways.
    pub rate: u32,
    pub chunks: ChunkRules,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_are_fitted_and_padded_to_the_rules() {
        let rules = ChunkRules { multiple: 160, min: 1600, max: 51200 };
        assert_eq!(rules.fit(800), 1600, "never under the minimum");
        assert_eq!(rules.fit(2450), 2400, "whole multiples");
        assert_eq!(rules.fit(1_000_000), 51200, "never over the maximum");
        assert_eq!(rules.pad(1), 1600);
        assert_eq!(rules.pad(1601), 1760);
        assert!(rules.allows(1760) && !rules.allows(1761) && !rules.allows(160) && !rules.allows(51360));
        assert_eq!(ChunkRules::ANY.fit(7), 7);
        assert_eq!(ChunkRules::ANY.pad(7), 7);
    }
}
