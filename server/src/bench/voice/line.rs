//! What a phone line does to a caller's voice, for the benchmarks: line noise (hiss and mains
//! hum), then G.711 μ-law, as a Twilio or Plivo stream carries it. Deterministic.

use crate::telephony::g711;

/// How the caller's audio reaches us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Clean,
    /// Hiss at about -50 dBFS and 50 Hz hum, through μ-law.
    G711Noise,
}

impl Line {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "clean" => Some(Line::Clean),
            "g711-noise" | "g711" => Some(Line::G711Noise),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Line::Clean => "clean",
            Line::G711Noise => "G.711 + line noise",
        }
    }

    /// `audio` (at `rate`) as heard at the far end of this line.
    pub fn carry(self, audio: &[i16], rate: u32) -> Vec<i16> {
        match self {
            Line::Clean => audio.to_vec(),
            Line::G711Noise => {
                let mut seed: u32 = 0x9E37_79B9;
                let noisy: Vec<i16> = audio
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        let hiss = (seed as f64 / u32::MAX as f64 - 0.5) * 2.0 * 180.0;
                        let hum = 60.0 * (2.0 * std::f64::consts::PI * 50.0 * i as f64 / f64::from(rate)).sin();
                        (f64::from(s) + hiss + hum).clamp(-32768.0, 32767.0) as i16
                    })
                    .collect();
                noisy.iter().map(|&s| g711::decode_sample(g711::encode_sample(s))).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_noisy_line_adds_noise_and_quantises() {
        let silence = vec![0i16; 8000];
        let heard = Line::G711Noise.carry(&silence, 8000);
        let rms = (heard.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / heard.len() as f64).sqrt();
        assert!((60.0..300.0).contains(&rms), "line noise rms {rms}");
        assert_eq!(Line::Clean.carry(&silence, 8000), silence);
        // Every sample is one μ-law can decode to.
        assert!(heard.iter().all(|&s| g711::decode_sample(g711::encode_sample(s)) == s));
    }
}
