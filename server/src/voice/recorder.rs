//! Both sides of a call on one timeline, as the caller heard it: caller audio on the left,
//! agent audio on the right, at the call's rate. Pure (no I/O): events go in with the instant
//! they happened, interleaved stereo samples that can no longer change come out.
//!
//! The caller's own stream is the clock: its samples are laid end to end, and when it goes
//! quiet (a provider that stops sending, a stalled socket) wall time fills the gap with
//! silence. Agent audio starts where it was sent (never before the end of the agent's previous
//! audio: the provider plays it in order), and a clear (barge-in) cuts whatever the caller had
//! not heard yet.

use std::time::Duration;

use tokio::time::Instant;

/// Arrival jitter absorbed before a gap in the caller's stream counts as silence.
const SLACK: Duration = Duration::from_millis(200);
/// Most agent audio held ahead of the caller's timeline (the speaker keeps one chunk ahead;
/// this bounds a transport that sends everything at once).
const MAX_AHEAD: Duration = Duration::from_secs(120);

/// The two channels of one call, from `start`.
#[derive(Debug)]
pub struct Timeline {
    rate: u32,
    start: Instant,
    /// Samples already handed out (both channels).
    base: u64,
    /// Caller samples from `base` on.
    caller: Vec<i16>,
    /// Agent samples from `base` on (may run past the caller's end).
    agent: Vec<i16>,
    /// Agent samples dropped past [`MAX_AHEAD`].
    pub dropped: u64,
}

impl Timeline {
    /// An empty timeline at `rate` whose time zero is `start`.
    pub fn new(rate: u32, start: Instant) -> Self {
        Self { rate: rate.max(1), start, base: 0, caller: Vec::new(), agent: Vec::new(), dropped: 0 }
    }

    fn samples(&self, d: Duration) -> u64 {
        (d.as_secs_f64() * f64::from(self.rate)) as u64
    }

    fn caller_end(&self) -> u64 {
        self.base + self.caller.len() as u64
    }

    fn agent_end(&self) -> u64 {
        self.base + self.agent.len() as u64
    }

    /// Pads the caller's side with silence up to wall time (less the slack) at `at`.
    fn advance(&mut self, at: Instant) {
        let wall = self.samples(at.saturating_duration_since(self.start).saturating_sub(SLACK));
        if wall > self.caller_end() {
            let n = (wall - self.caller_end()) as usize;
            self.caller.resize(self.caller.len() + n, 0);
        }
    }

    /// What the caller hears at `at`: the position on the timeline.
    fn now(&mut self, at: Instant) -> u64 {
        self.advance(at);
        self.caller_end()
    }

    /// The caller said `samples`, received at `at`.
    pub fn caller(&mut self, at: Instant, samples: &[i16]) {
        self.advance(at);
        self.caller.extend_from_slice(samples);
    }

    /// The agent's `samples` were sent at `at`.
    pub fn agent(&mut self, at: Instant, samples: &[i16]) {
        let now = self.now(at);
        if now > self.agent_end() {
            let n = (now - self.agent_end()) as usize;
            self.agent.resize(self.agent.len() + n, 0);
        }
        let room = (now + self.samples(MAX_AHEAD)).saturating_sub(self.agent_end()) as usize;
        let take = samples.len().min(room);
        self.agent.extend_from_slice(&samples[..take]);
        self.dropped += (samples.len() - take) as u64;
    }

    /// The agent's audio not yet heard at `at` was cleared (barge-in).
    pub fn clear(&mut self, at: Instant) {
        let now = self.now(at);
        if self.agent_end() > now {
            self.agent.truncate((now - self.base) as usize);
        }
    }

    /// Interleaved stereo samples (left caller, right agent) up to what the caller has heard
    /// at `at`: nothing later can change them.
    pub fn take_heard(&mut self, at: Instant) -> Vec<i16> {
        let upto = self.now(at);
        self.take_until(upto)
    }

    /// Everything left, the shorter side padded with silence (the call has ended).
    pub fn take_rest(&mut self) -> Vec<i16> {
        let upto = self.caller_end().max(self.agent_end());
        self.take_until(upto)
    }

    fn take_until(&mut self, upto: u64) -> Vec<i16> {
        let n = upto.saturating_sub(self.base) as usize;
        let mut out = Vec::with_capacity(n * 2);
        for i in 0..n {
            out.push(self.caller.get(i).copied().unwrap_or(0));
            out.push(self.agent.get(i).copied().unwrap_or(0));
        }
        self.caller.drain(..n.min(self.caller.len()));
        self.agent.drain(..n.min(self.agent.len()));
        self.base += n as u64;
        out
    }

    /// Samples per channel handed out so far.
    pub fn position(&self) -> u64 {
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 8000;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The left and right channels of interleaved samples.
    fn split(s: &[i16]) -> (Vec<i16>, Vec<i16>) {
        (s.iter().step_by(2).copied().collect(), s.iter().skip(1).step_by(2).copied().collect())
    }

    /// Where a channel's non-silent samples begin and end.
    fn span(c: &[i16]) -> Option<(usize, usize)> {
        Some((c.iter().position(|&s| s != 0)?, c.iter().rposition(|&s| s != 0)? + 1))
    }

    #[test]
    fn agent_audio_lands_where_the_caller_was_when_it_was_sent() {
        let t0 = Instant::now();
        let mut t = Timeline::new(RATE, t0);
        // One second of caller audio in 20 ms frames, on time; the agent answers at 500 ms.
        for i in 0..50u64 {
            t.caller(t0 + ms(20 * i), &[100; 160]);
        }
        t.agent(t0 + ms(1000), &[7; 1600]);
        let (left, right) = split(&t.take_rest());
        assert_eq!(left.iter().filter(|&&s| s == 100).count(), 8000);
        assert_eq!(span(&right), Some((8000, 9600)), "the agent starts where the caller's stream was");
    }

    #[test]
    fn a_quiet_caller_stream_is_filled_with_silence_by_wall_time() {
        let t0 = Instant::now();
        let mut t = Timeline::new(RATE, t0);
        t.caller(t0, &[5; 160]);
        // Nothing for three seconds, then more: the second frame sits at 3 s less the slack.
        t.caller(t0 + ms(3000), &[6; 160]);
        let (left, _) = split(&t.take_rest());
        let at = left.iter().position(|&s| s == 6).unwrap();
        assert_eq!(at, 8 * 2800);
        // Jitter inside the slack adds nothing: frames stay back to back.
        let mut t = Timeline::new(RATE, t0);
        t.caller(t0 + ms(150), &[5; 160]);
        t.caller(t0 + ms(160), &[6; 160]);
        assert_eq!(split(&t.take_rest()).0, [vec![5; 160], vec![6; 160]].concat());
    }

    #[test]
    fn agent_chunks_play_in_order_and_a_clear_cuts_what_was_not_heard() {
        let t0 = Instant::now();
        let mut t = Timeline::new(RATE, t0);
        t.caller(t0, &[1; 800]);
        // Two chunks sent at once play one after the other.
        t.agent(t0 + ms(50), &[7; 800]);
        t.agent(t0 + ms(50), &[8; 800]);
        t.caller(t0 + ms(100), &[1; 800]);
        t.caller(t0 + ms(150), &[1; 400]);
        // The caller barges in at 200 ms: the rest of the second chunk was never heard.
        t.clear(t0 + ms(200));
        let (_, right) = split(&t.take_rest());
        assert_eq!(right.iter().filter(|&&s| s == 7).count(), 800);
        assert_eq!(right.iter().filter(|&&s| s == 8).count(), 400, "cut at 2000 samples: where the caller's stream was");
        let mut t = Timeline::new(RATE, t0);
        t.caller(t0, &[1; 800]);
        t.agent(t0, &[7; 8000]);
        t.clear(t0 + ms(10));
        assert_eq!(split(&t.take_rest()).1.iter().filter(|&&s| s == 7).count(), 0, "sent after 800 samples, cut there");
    }

    #[test]
    fn heard_samples_come_out_once_and_audio_ahead_waits() {
        let t0 = Instant::now();
        let mut t = Timeline::new(RATE, t0);
        t.caller(t0, &[1; 1600]);
        t.agent(t0, &[7; 3200]);
        let first = t.take_heard(t0 + ms(100));
        assert_eq!(first.len(), 2 * 1600, "only up to the caller's end");
        assert_eq!(t.position(), 1600);
        t.caller(t0 + ms(200), &[1; 1600]);
        let second = t.take_heard(t0 + ms(300));
        let (left, right) = split(&[first, second].concat());
        assert_eq!((left.len(), right.iter().filter(|&&s| s == 7).count()), (3200, 1600));
        assert_eq!(split(&t.take_rest()).1, vec![7; 1600], "the rest comes out at the end");
    }

    #[test]
    fn agent_audio_far_ahead_is_bounded() {
        let t0 = Instant::now();
        let mut t = Timeline::new(RATE, t0);
        t.agent(t0, &vec![7; 8000 * 121]);
        assert_eq!(t.dropped, 8000);
    }
}
