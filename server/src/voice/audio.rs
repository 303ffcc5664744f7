//! PCM helpers: 16-bit little-endian bytes <-> samples, resampling between call, model and
//! voice rates (rubato), and WAV files (hound).

use std::path::Path;

use rubato::{FftFixedIn, FftFixedInOut, Resampler};

use super::VoiceError;

/// Rate the speech models (Whisper, Silero, webrtc-vad) listen at.
pub const MODEL_RATE: u32 = 16_000;

/// 16-bit little-endian bytes to samples (a trailing odd byte is dropped).
pub fn bytes_to_i16(bytes: &[u8]) -> Vec<i16> {
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// Samples to 16-bit little-endian bytes.
pub fn i16_to_bytes(samples: &[i16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * 2);
    extend_le_bytes(&mut out, samples);
    out
}

/// Appends `samples` to `out` as 16-bit little-endian PCM.
pub fn extend_le_bytes(out: &mut Vec<u8>, samples: &[i16]) {
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
}

pub fn i16_to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| s as f32 / 32768.0).collect()
}

pub fn f32_to_i16(samples: &[f32]) -> Vec<i16> {
    samples.iter().map(|&s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// Resamples a whole buffer (an utterance or a synthesized sentence) from `from` Hz to `to` Hz,
/// compensating the resampler's delay so the output lines up with the input.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, VoiceError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut r = StreamResampler::new(from, to)?;
    let mut out = r.push(samples)?;
    out.extend(r.finish()?);
    Ok(out)
}

/// Resampling of audio that arrives in pieces of any size (speech streamed by a provider): one
/// resampler keeps its state across the pieces, so their joins make no click, and the whole
/// output is the same as [`resample`] of the joined input. Holds less than one block of input.
pub struct StreamResampler {
    inner: Option<FftFixedIn<f32>>,
    /// Input not yet a whole block.
    pending: Vec<f32>,
    /// Output still to drop: the resampler's delay.
    skip: usize,
    fed: u64,
    emitted: u64,
    from: u32,
    to: u32,
}

impl StreamResampler {
    /// From `from` Hz to `to` Hz (a pass-through when they are the same).
    pub fn new(from: u32, to: u32) -> Result<Self, VoiceError> {
        let inner = if from == to {
            None
        } else {
            Some(FftFixedIn::<f32>::new(from as usize, to as usize, 1024, 2, 1).map_err(VoiceError::resample)?)
        };
        let skip = inner.as_ref().map(|r| r.output_delay()).unwrap_or(0);
        Ok(Self { inner, pending: Vec::new(), skip, fed: 0, emitted: 0, from, to })
    }

    /// The output `samples` complete (some of it may come with the next piece or at the end).
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, VoiceError> {
        let Some(r) = &mut self.inner else { return Ok(samples.to_vec()) };
        self.fed += samples.len() as u64;
        self.pending.extend_from_slice(samples);
        let mut out = Vec::new();
        let mut pos = 0;
        while self.pending.len() - pos >= r.input_frames_next() {
            let n = r.input_frames_next();
            let block = r.process(&[&self.pending[pos..pos + n]], None).map_err(VoiceError::resample)?;
            Self::keep(&mut self.skip, &mut self.emitted, &block[0], &mut out);
            pos += n;
        }
        self.pending.drain(..pos);
        Ok(out)
    }

    /// The rest of the output, once the input has ended.
    pub fn finish(&mut self) -> Result<Vec<f32>, VoiceError> {
        let Some(r) = &mut self.inner else { return Ok(Vec::new()) };
        let expected = self.fed * u64::from(self.to) / u64::from(self.from);
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let block = r.process_partial(Some(&[&self.pending[..]]), None).map_err(VoiceError::resample)?;
            Self::keep(&mut self.skip, &mut self.emitted, &block[0], &mut out);
            self.pending.clear();
        }
        // Silence in until the delayed output has come out.
        while self.emitted < expected {
            let block = r.process_partial::<&[f32]>(None, None).map_err(VoiceError::resample)?;
            if block[0].is_empty() {
                break;
            }
            Self::keep(&mut self.skip, &mut self.emitted, &block[0], &mut out);
        }
        let over = self.emitted.saturating_sub(expected) as usize;
        out.truncate(out.len().saturating_sub(over));
        self.emitted -= over as u64;
        Ok(out)
    }

    fn keep(skip: &mut usize, emitted: &mut u64, block: &[f32], out: &mut Vec<f32>) {
        let dropped = (*skip).min(block.len());
        *skip -= dropped;
        out.extend_from_slice(&block[dropped..]);
        *emitted += (block.len() - dropped) as u64;
    }
}

/// Streaming conversion of a call's 20 ms frames to the rate its detectors hear (nothing to do
/// when the two are the same).
pub struct FrameResampler {
    inner: Option<FftFixedInOut<f32>>,
    frame_in: usize,
}

impl FrameResampler {
    /// For frames of `from` Hz, 20 ms each, to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Self, VoiceError> {
        let frame_in = from as usize / 50;
        let inner = if from == to {
            None
        } else {
            Some(FftFixedInOut::<f32>::new(from as usize, to as usize, frame_in, 1).map_err(VoiceError::resample)?)
        };
        Ok(Self { inner, frame_in })
    }

    /// Input samples per frame.
    pub fn frame_in(&self) -> usize {
        self.inner.as_ref().map(|r| r.input_frames_next()).unwrap_or(self.frame_in)
    }

    /// One frame of exactly [`Self::frame_in`] samples at the output rate (the frame itself
    /// when the rates are the same).
    pub fn process<'a>(&mut self, frame: &'a [i16]) -> Result<std::borrow::Cow<'a, [i16]>, VoiceError> {
        match &mut self.inner {
            None => Ok(std::borrow::Cow::Borrowed(frame)),
            Some(r) => {
                let out = r.process(&[i16_to_f32(frame)], None).map_err(VoiceError::resample)?;
                Ok(std::borrow::Cow::Owned(f32_to_i16(&out[0])))
            }
        }
    }
}

/// Reads a mono or stereo 16-bit WAV file; returns the first channel and the rate.
pub fn read_wav(path: &Path) -> Result<(Vec<i16>, u32), VoiceError> {
    let reader = hound::WavReader::open(path).map_err(|e| VoiceError::Audio(format!("{}: {e}", path.display())))?;
    wav_samples(reader)
}

/// Reads WAV bytes (as eSpeak NG writes them).
pub fn read_wav_bytes(bytes: &[u8]) -> Result<(Vec<i16>, u32), VoiceError> {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| VoiceError::Audio(e.to_string()))?;
    wav_samples(reader)
}

fn wav_samples<R: std::io::Read>(mut reader: hound::WavReader<R>) -> Result<(Vec<i16>, u32), VoiceError> {
    let spec = reader.spec();
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(VoiceError::Audio(format!("WAV must be 16-bit PCM, not {}-bit {:?}", spec.bits_per_sample, spec.sample_format)));
    }
    let channels = spec.channels.max(1) as usize;
    let mut out = Vec::new();
    for (i, s) in reader.samples::<i16>().enumerate() {
        let s = s.map_err(|e| VoiceError::Audio(e.to_string()))?;
        if i % channels == 0 {
            out.push(s);
        }
    }
    Ok((out, spec.sample_rate))
}

/// Writes mono 16-bit samples as a WAV file.
pub fn write_wav(path: &Path, samples: &[i16], rate: u32) -> Result<(), VoiceError> {
    std::fs::write(path, wav_bytes(samples, rate)?).map_err(|e| VoiceError::Audio(format!("{}: {e}", path.display())))
}

/// Mono 16-bit samples as WAV bytes.
pub fn wav_bytes(samples: &[i16], rate: u32) -> Result<Vec<u8>, VoiceError> {
    let spec = hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut w = hound::WavWriter::new(&mut out, spec).map_err(|e| VoiceError::Audio(e.to_string()))?;
    for s in samples {
        w.write_sample(*s).map_err(|e| VoiceError::Audio(e.to_string()))?;
    }
    w.finalize().map_err(|e| VoiceError::Audio(e.to_string()))?;
    Ok(out.into_inner())
}

/// Root-mean-square level of samples, 0..1.
pub fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| (s as f64 / 32768.0).powi(2)).sum();
    (sum / samples.len() as f64).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, rate: u32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize).map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin()).collect()
    }

    /// Estimated frequency of a tone from its zero crossings.
    fn frequency(samples: &[f32], rate: u32) -> f32 {
        let crossings = samples.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        crossings as f32 * rate as f32 / samples.len() as f32
    }

    #[test]
    fn resampling_keeps_length_pitch_and_alignment() {
        for (from, to) in [(8000, 16000), (24000, 16000), (22050, 8000), (16000, 24000), (22050, 16000)] {
            // A length that is a whole number of the resampler's chunks, and one that is not.
            for input in [tone(440.0, from, 1.0), tone(440.0, from, 1.0)[..1024 * (from as usize / 1024)].to_vec()] {
                let out = resample(&input, from, to).unwrap();
                assert_eq!(out.len(), input.len() * to as usize / from as usize, "{from}->{to}");
                let f = frequency(&out, to);
                assert!((f - 440.0).abs() < 5.0, "{from}->{to}: {f} Hz");
                // Aligned: the first 10 ms of output follow the input's start, not silence.
                assert!(rms(&f32_to_i16(&out[..to as usize / 100])) > 0.1, "{from}->{to} starts late");
            }
        }
    }

    #[test]
    fn streamed_pieces_resample_exactly_like_the_whole() {
        let input = tone(440.0, 24_000, 1.3);
        for to in [8000, 16_000, 24_000] {
            let whole = resample(&input, 24_000, to).unwrap();
            // Pieces of awkward sizes, as a provider's HTTP chunks come.
            let mut r = StreamResampler::new(24_000, to).unwrap();
            let mut out = Vec::new();
            for piece in input.chunks(777) {
                out.extend(r.push(piece).unwrap());
            }
            out.extend(r.finish().unwrap());
            assert_eq!(out.len(), whole.len(), "{to}");
            let worst = out.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "24000->{to}: pieces differ from the whole by {worst}");
        }
    }

    #[test]
    fn frame_resampler_turns_20ms_frames_into_20ms_frames() {
        for (from, to) in [(8000, 16000), (16000, 16000), (24000, 16000), (8000, 8000)] {
            let mut r = FrameResampler::new(from, to).unwrap();
            assert_eq!(r.frame_in(), from as usize / 50);
            let frame = vec![1000i16; r.frame_in()];
            let out = r.process(&frame).unwrap();
            assert_eq!(out.len(), to as usize / 50, "{from} -> {to}");
            assert_eq!(matches!(out, std::borrow::Cow::Borrowed(_)), from == to, "{from} -> {to}: copied only when resampled");
        }
    }

    #[test]
    fn pcm_bytes_round_trip() {
        let s = vec![0i16, 1, -1, i16::MAX, i16::MIN, 12345];
        assert_eq!(bytes_to_i16(&i16_to_bytes(&s)), s);
        assert_eq!(i16_to_bytes(&[0x0102]), vec![0x02, 0x01]);
    }

    #[test]
    fn wav_round_trip() {
        let dir = std::env::temp_dir().join(format!("voxgate-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.wav");
        let s: Vec<i16> = (0..800).map(|i| (i * 40) as i16).collect();
        write_wav(&path, &s, 8000).unwrap();
        assert_eq!(read_wav(&path).unwrap(), (s, 8000));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
