//! G.711 μ-law (PCMU), the audio of Twilio's and Plivo's streams and of SIP: 8-bit codes to
//! and from 16-bit linear samples. The classic segment algorithm (ITU-T G.711, as in Sun's
//! reference `g711.c` and CPython's `audioop`): 14-bit magnitude, bias 0x84, clip 8159, codes
//! stored inverted. Pure; no tables to get wrong.

/// Bias added before the segment search (0x84 on the 16-bit scale, 33 on the 14-bit one).
const BIAS: i32 = 0x84 >> 2;
/// Largest 14-bit magnitude that encodes without clipping.
const CLIP: i32 = 8159;

/// One 16-bit sample as a μ-law code.
pub fn encode_sample(sample: i16) -> u8 {
    let pcm = i32::from(sample) >> 2;
    let (magnitude, mask) = if pcm < 0 { (-pcm, 0x7F) } else { (pcm, 0xFF) };
    let biased = magnitude.min(CLIP) + BIAS;
    // The segment is the position of the highest set bit above bit 5; past segment 7 the
    // code is the largest magnitude.
    let segment = (31 - biased.leading_zeros() as i32 - 5).max(0);
    let code = if segment > 7 { 0x7F } else { (segment << 4) | ((biased >> (segment + 1)) & 0x0F) };
    (code ^ mask) as u8
}

/// One μ-law code as a 16-bit sample.
pub fn decode_sample(code: u8) -> i16 {
    let u = !code;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// μ-law bytes from 16-bit samples.
pub fn encode(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| encode_sample(s)).collect()
}

/// 16-bit samples from μ-law bytes.
pub fn decode(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| decode_sample(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decoding_matches_the_reference_values() {
        // ITU-T G.711 μ-law, as CPython's audioop.ulaw2lin gives them.
        let reference: [(u8, i16); 13] = [
            (0x00, -32124),
            (0x01, -31100),
            (0x0F, -16764),
            (0x10, -15996),
            (0x40, -1884),
            (0x70, -120),
            (0x7E, -8),
            (0x7F, 0),
            (0x80, 32124),
            (0x8F, 16764),
            (0xC0, 1884),
            (0xFE, 8),
            (0xFF, 0),
        ];
        for (code, sample) in reference {
            assert_eq!(decode_sample(code), sample, "code {code:#04x}");
        }
    }

    #[test]
    fn encoding_matches_the_reference_values() {
        // audioop.lin2ulaw of the same samples.
        let reference: [(i16, u8); 16] = [
            (0, 0xFF),
            (1, 0xFF),
            (-1, 0x7E),
            (8, 0xFE),
            (-8, 0x7E),
            (100, 242),
            (-100, 114),
            (1000, 206),
            (-1000, 78),
            (5000, 171),
            (32767, 0x80),
            (-32768, 0x00),
            (32124, 0x80),
            (-32124, 0x00),
            (8158, 159),
            (8159, 159),
        ];
        for (sample, code) in reference {
            assert_eq!(encode_sample(sample), code, "sample {sample}");
        }
    }

    #[test]
    fn every_code_survives_a_round_trip() {
        for code in 0..=255u8 {
            let back = encode_sample(decode_sample(code));
            // 0x7F is "negative zero": it decodes to 0, which encodes as 0xFF.
            assert_eq!(back, if code == 0x7F { 0xFF } else { code }, "code {code:#04x}");
        }
        // The decoded values are monotonic within each sign.
        let positive: Vec<i16> = (0x80..=0xFFu8).rev().map(decode_sample).collect();
        assert!(positive.windows(2).all(|w| w[0] <= w[1]));
    }

    proptest! {
        #[test]
        fn a_sample_comes_back_within_its_step(sample in any::<i16>()) {
            let back = i32::from(decode_sample(encode_sample(sample)));
            let s = i32::from(sample).clamp(-32124, 32124);
            // The quantization step grows with the segment: at most 1/16 of the magnitude, plus a little.
            prop_assert!((back - s).abs() <= s.abs() / 16 + 16, "{sample} -> {back}");
        }
    }
}
