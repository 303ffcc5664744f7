//! What the caller's side of a stream may send, whatever the provider: audio no faster than
//! real time (with slack for a jitter buffer's bursts), keypad digits short, well formed and
//! not in floods. The session task checks every event its codec reads; a breach closes the
//! stream with the [`Breach`]'s code, and the call fails with its reason (which never holds a
//! digit: callers type PINs and card numbers).

use std::time::Duration;

use tokio::time::Instant;

use crate::voice::frames::CallerEvent;

/// Caller audio may run this far ahead of the wall clock (a provider's burst after a network
/// stall).
pub const AUDIO_SLACK: Duration = Duration::from_secs(2);
/// Most characters in one keypad event.
pub const MAX_DIGITS: usize = 32;
/// Keypad events allowed in one [`DTMF_WINDOW`] (people press a few keys a second).
pub const MAX_DTMF_PER_WINDOW: u32 = 20;
pub const DTMF_WINDOW: Duration = Duration::from_secs(2);
/// Bytes of caller audio waiting for the conversation, at most (more is dropped and counted).
pub const MAX_QUEUED_AUDIO_BYTES: usize = 256 * 1024;

/// Close code for a breach of policy (RFC 6455).
pub const POLICY: u16 = 1008;
/// Close code for malformed data (RFC 6455).
pub const MALFORMED: u16 = 1007;

/// How a peer broke the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Breach {
    #[error("caller audio faster than real time")]
    TooFast,
    #[error("keypad event longer than {MAX_DIGITS} characters")]
    DigitsTooLong,
    #[error("keypad event with characters other than 0-9 * # A-D")]
    DigitsMalformed,
    #[error("more than {MAX_DTMF_PER_WINDOW} keypad events in 2 s")]
    DtmfFlood,
}

impl Breach {
    /// The WebSocket close code.
    pub fn code(self) -> u16 {
        match self {
            Breach::DigitsMalformed | Breach::DigitsTooLong => MALFORMED,
            Breach::TooFast | Breach::DtmfFlood => POLICY,
        }
    }
}

/// One stream's running account of what its peer sent.
#[derive(Debug)]
pub struct PeerRules {
    rate: u32,
    first_audio: Option<Instant>,
    samples: u64,
    window_start: Option<Instant>,
    in_window: u32,
}

impl PeerRules {
    /// Rules for a stream at `rate` samples per second.
    pub fn new(rate: u32) -> Self {
        Self { rate: rate.max(1), first_audio: None, samples: 0, window_start: None, in_window: 0 }
    }

    /// Checks `event`, arriving at `now`, against what came before.
    pub fn check(&mut self, event: &CallerEvent, now: Instant) -> Result<(), Breach> {
        match event {
            CallerEvent::Audio(samples) => {
                let first = *self.first_audio.get_or_insert(now);
                self.samples += samples.len() as u64;
                let allowed = (now.duration_since(first) + AUDIO_SLACK).as_secs_f64() * f64::from(self.rate);
                if self.samples as f64 > allowed {
                    return Err(Breach::TooFast);
                }
            }
            CallerEvent::Dtmf(digits) => {
                if digits.chars().count() > MAX_DIGITS {
                    return Err(Breach::DigitsTooLong);
                }
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'a'..='d')) {
                    return Err(Breach::DigitsMalformed);
                }
                let start = *self.window_start.get_or_insert(now);
                if now.duration_since(start) >= DTMF_WINDOW {
                    self.window_start = Some(now);
                    self.in_window = 0;
                }
                self.in_window += 1;
                if self.in_window > MAX_DTMF_PER_WINDOW {
                    return Err(Breach::DtmfFlood);
                }
            }
            CallerEvent::Played(_) | CallerEvent::Closing => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(ms: u64, rate: u32) -> CallerEvent {
        CallerEvent::Audio(vec![0; (u64::from(rate) * ms / 1000) as usize])
    }

    #[test]
    fn real_time_audio_passes_and_faster_is_a_breach() {
        let t0 = Instant::now();
        let mut rules = PeerRules::new(8000);
        // 10 s of 100 ms frames, on time.
        for i in 0..100 {
            assert_eq!(rules.check(&audio(100, 8000), t0 + Duration::from_millis(100 * i)), Ok(()));
        }
        // A burst of 1.5 s after a stall fits the slack...
        let later = t0 + Duration::from_millis(10_000);
        for _ in 0..15 {
            assert_eq!(rules.check(&audio(100, 8000), later), Ok(()));
        }
        // ...but audio that keeps coming faster than the clock does not.
        let mut result = Ok(());
        for _ in 0..10 {
            result = result.and(rules.check(&audio(100, 8000), later));
        }
        assert_eq!(result, Err(Breach::TooFast));
    }

    #[test]
    fn one_huge_frame_is_a_breach() {
        // 512 KiB of 16-bit samples at 8 kHz: 32 s of audio in one frame.
        let mut rules = PeerRules::new(8000);
        assert_eq!(rules.check(&CallerEvent::Audio(vec![0; 256 * 1024]), Instant::now()), Err(Breach::TooFast));
    }

    #[test]
    fn keypad_events_are_short_well_formed_and_not_a_flood() {
        let t0 = Instant::now();
        let mut rules = PeerRules::new(8000);
        for d in ["5", "*", "#", "123", "A", "d"] {
            assert_eq!(rules.check(&CallerEvent::Dtmf(d.into()), t0), Ok(()), "{d}");
        }
        assert_eq!(rules.check(&CallerEvent::Dtmf("1".repeat(33)), t0), Err(Breach::DigitsTooLong));
        for bad in ["", "1 2", "x", "١", "5\n"] {
            assert_eq!(rules.check(&CallerEvent::Dtmf(bad.into()), t0), Err(Breach::DigitsMalformed), "{bad:?}");
        }
        let mut rules = PeerRules::new(8000);
        for i in 0..MAX_DTMF_PER_WINDOW {
            assert_eq!(rules.check(&CallerEvent::Dtmf("1".into()), t0 + Duration::from_millis(u64::from(i))), Ok(()));
        }
        assert_eq!(rules.check(&CallerEvent::Dtmf("1".into()), t0 + Duration::from_millis(100)), Err(Breach::DtmfFlood));
        // A new window starts afresh.
        let mut rules = PeerRules::new(8000);
        for i in 0..60 {
            assert_eq!(rules.check(&CallerEvent::Dtmf("1".into()), t0 + Duration::from_millis(250 * i)), Ok(()), "4 a second is fine");
        }
    }

    #[test]
    fn breaches_close_with_policy_or_malformed_codes() {
        assert_eq!((Breach::TooFast.code(), Breach::DtmfFlood.code()), (1008, 1008));
        assert_eq!((Breach::DigitsMalformed.code(), Breach::DigitsTooLong.code()), (1007, 1007));
    }
}
