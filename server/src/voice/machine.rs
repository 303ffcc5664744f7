//! Telling an answering machine from a person in the first seconds of an answered outbound
//! call, for transports whose provider has no detection of its own: a person says something
//! short ("hello?") and waits; a machine plays a long greeting, then usually a beep. Pure: 16-bit
//! samples in, a verdict out, frame by frame (20 ms), on the energy of each frame and, for the
//! beep, on how much of it one frequency holds (Goertzel).

/// What the detector makes of the audio so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not sure yet.
    Listening,
    /// A short utterance, then a pause: a person waiting for an answer.
    Human,
    /// Nothing said for [`SILENT_MS`]: treated as a person who has not spoken yet.
    Silent,
    /// A long greeting: a machine. Keep feeding it to hear the beep.
    Machine,
    /// The machine's greeting is over (its beep, or a long pause after it): leave the message now.
    Beep,
}

/// A frame is speech above this RMS (about -40 dBFS).
const SPEECH_RMS: f64 = 330.0;
/// Gaps shorter than this stay inside one utterance (between words).
const WORD_GAP_MS: u32 = 500;
/// A person's greeting is at most this long…
const HUMAN_MAX_MS: u32 = 1800;
/// …and followed by a pause at least this long.
const HUMAN_PAUSE_MS: u32 = 800;
/// More speech than this in one utterance is a machine's greeting.
const MACHINE_MIN_MS: u32 = 2400;
/// No speech at all for this long from the start.
pub const SILENT_MS: u32 = 4000;
/// A tone held this long is the beep.
const BEEP_MS: u32 = 160;
/// After a machine's greeting, this much silence ends it even without a beep.
const AFTER_GREETING_MS: u32 = 1500;
/// Frequencies (Hz) a beep is looked for at.
const BEEP_HZ: [f64; 9] = [400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1200.0, 1400.0];
/// Share of a frame's energy one frequency must hold to be a tone.
const TONE_SHARE: f64 = 0.6;

/// Listens to the callee's first seconds.
#[derive(Debug)]
pub struct MachineDetector {
    frame: usize,
    rate: u32,
    pending: Vec<i16>,
    elapsed_ms: u32,
    /// Length of the current (or last) utterance, and the silence since it.
    run_ms: u32,
    silence_ms: u32,
    spoke: bool,
    machine: bool,
    /// The frequency the last frames held, and for how long.
    tone: Option<usize>,
    tone_ms: u32,
    verdict: Verdict,
}

impl MachineDetector {
    /// A detector for audio at `rate` samples a second.
    pub fn new(rate: u32) -> Self {
        Self {
            frame: (rate as usize / 50).max(1),
            rate,
            pending: Vec::new(),
            elapsed_ms: 0,
            run_ms: 0,
            silence_ms: 0,
            spoke: false,
            machine: false,
            tone: None,
            tone_ms: 0,
            verdict: Verdict::Listening,
        }
    }

    /// Feeds samples; returns the verdict so far (final ones stay: `Human`, `Silent`, `Beep`).
    pub fn push(&mut self, samples: &[i16]) -> Verdict {
        self.pending.extend_from_slice(samples);
        let mut at = 0;
        while self.pending.len() - at >= self.frame && matches!(self.verdict, Verdict::Listening | Verdict::Machine) {
            let frame: Vec<i16> = self.pending[at..at + self.frame].to_vec();
            self.step(&frame);
            at += self.frame;
        }
        self.pending.drain(..at);
        self.verdict
    }

    /// How much audio has been judged, in milliseconds.
    pub fn elapsed_ms(&self) -> u32 {
        self.elapsed_ms
    }

    fn step(&mut self, frame: &[i16]) {
        const MS: u32 = 20;
        self.elapsed_ms += MS;
        let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let rms = (energy / frame.len() as f64).sqrt();
        let loud = rms > SPEECH_RMS;
        if self.machine && loud && self.is_tone(frame, energy) {
            return;
        }
        if loud {
            self.spoke = true;
            // A gap between words belongs to the utterance; a longer pause started a new one.
            self.run_ms = if self.silence_ms < WORD_GAP_MS { self.run_ms + self.silence_ms + MS } else { MS };
            self.silence_ms = 0;
        } else {
            self.silence_ms += MS;
        }
        if self.machine {
            if self.silence_ms >= AFTER_GREETING_MS {
                self.verdict = Verdict::Beep;
            }
            return;
        }
        if self.run_ms > MACHINE_MIN_MS {
            self.machine = true;
            self.verdict = Verdict::Machine;
        } else if self.spoke && self.silence_ms >= HUMAN_PAUSE_MS && self.run_ms <= HUMAN_MAX_MS {
            self.verdict = Verdict::Human;
        } else if !self.spoke && self.elapsed_ms >= SILENT_MS {
            self.verdict = Verdict::Silent;
        }
    }

    /// Whether `frame` is a tone (one frequency holds most of its energy); a tone held for
    /// [`BEEP_MS`] is the beep.
    fn is_tone(&mut self, frame: &[i16], energy: f64) -> bool {
        let n = frame.len() as f64;
        let (best, power) = BEEP_HZ
            .iter()
            .enumerate()
            .map(|(i, hz)| (i, goertzel(frame, *hz, self.rate)))
            .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
        // A pure tone's Goertzel power is about N/2 times its energy.
        let share = power / (energy * n / 2.0).max(1.0);
        if share < TONE_SHARE {
            self.tone = None;
            self.tone_ms = 0;
            return false;
        }
        self.tone_ms = if self.tone.is_some_and(|t| t.abs_diff(best) <= 1) { self.tone_ms + 20 } else { 20 };
        self.tone = Some(best);
        if self.tone_ms >= BEEP_MS {
            self.verdict = Verdict::Beep;
        }
        true
    }
}

/// The power of `frame` at `hz` (Goertzel).
fn goertzel(frame: &[i16], hz: f64, rate: u32) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in frame {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Test audio: "speech" (noise shaped into syllables), silence and tones.
#[cfg(test)]
pub(crate) mod sounds {
    /// `ms` of speech-like noise: 120 ms syllables with 40 ms dips, at speaking loudness.
    pub fn speech(ms: u32, rate: u32) -> Vec<i16> {
        let n = (rate * ms / 1000) as usize;
        let mut seed: u32 = 0x1234_5678;
        (0..n)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let t_ms = i as u32 * 1000 / rate;
                let level = if t_ms % 160 < 120 { 4000.0 } else { 300.0 };
                ((seed as f64 / u32::MAX as f64 - 0.5) * 2.0 * level) as i16
            })
            .collect()
    }

    pub fn silence(ms: u32, rate: u32) -> Vec<i16> {
        vec![0; (rate * ms / 1000) as usize]
    }

    pub fn tone(hz: f64, ms: u32, rate: u32) -> Vec<i16> {
        (0..(rate * ms / 1000) as usize)
            .map(|i| (8000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin()) as i16)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::sounds::{silence, speech, tone};
    use super::*;

    fn run(rate: u32, parts: &[Vec<i16>]) -> (Verdict, u32) {
        let mut d = MachineDetector::new(rate);
        let mut v = Verdict::Listening;
        for p in parts {
            for chunk in p.chunks(rate as usize / 10) {
                v = d.push(chunk);
            }
        }
        (v, d.elapsed_ms())
    }

    #[test]
    fn a_short_hello_then_a_pause_is_a_person() {
        for rate in [8000, 16000] {
            let (v, at) = run(rate, &[silence(400, rate), speech(600, rate), silence(2000, rate)]);
            assert_eq!(v, Verdict::Human, "{rate}");
            assert!(at <= 400 + 600 + HUMAN_PAUSE_MS + 40, "decided {at} ms in");
        }
    }

    #[test]
    fn a_long_greeting_is_a_machine_and_its_beep_ends_it() {
        let rate = 8000;
        let (v, at) = run(rate, &[speech(5000, rate)]);
        assert_eq!(v, Verdict::Machine);
        assert!(at <= 5000);
        let (v, _) = run(rate, &[speech(5000, rate), silence(300, rate), tone(1000.0, 400, rate), silence(200, rate)]);
        assert_eq!(v, Verdict::Beep);
        // Without a beep, a long pause after the greeting ends it too.
        let (v, _) = run(rate, &[speech(4000, rate), silence(1600, rate)]);
        assert_eq!(v, Verdict::Beep);
        // A greeting's short pauses between sentences do not end it.
        let (v, _) = run(rate, &[speech(3000, rate), silence(400, rate), speech(1000, rate), silence(400, rate)]);
        assert_eq!(v, Verdict::Machine);
    }

    #[test]
    fn silence_is_a_person_who_has_not_spoken_and_speech_tones_are_not_beeps() {
        assert_eq!(run(8000, &[silence(4200, 8000)]).0, Verdict::Silent);
        assert_eq!(run(8000, &[silence(3000, 8000)]).0, Verdict::Listening);
        // A tone before any greeting is not a machine's beep (a person does not beep, but it is no greeting either).
        assert_eq!(run(16000, &[tone(1000.0, 400, 16000), silence(1000, 16000)]).0, Verdict::Human);
        let mut d = MachineDetector::new(8000);
        assert_eq!(d.push(&[]), Verdict::Listening);
        assert_eq!(d.push(&[1, 2, 3]), Verdict::Listening, "part of a frame waits for the rest");
    }
}
