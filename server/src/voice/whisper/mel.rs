//! Whisper's features: the 80-bin log-mel spectrogram of 16 kHz audio, computed with realfft.

use realfft::RealFftPlanner;

use super::super::audio::MODEL_RATE;

pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
pub const N_MELS: usize = 80;
/// Whisper was trained on 30 s windows: 3,000 frames.
pub const N_FRAMES: usize = 30 * MODEL_RATE as usize / HOP;

/// The log-mel spectrogram of `audio` over a window of `frames` frames (at most
/// [`N_FRAMES`]), row-major [mel][frame]. Frames past the audio are zero padding, so their
/// value is the floor; only the audio's frames (plus one window) are transformed, and each
/// filter only reads its non-zero bins.
pub fn log_mel(audio: &[f32], filters: &[f32], frames: usize) -> Vec<f32> {
    let frames = frames.min(N_FRAMES);
    let samples = frames * HOP;
    let mut padded = vec![0.0f32; samples + N_FFT];
    let n = audio.len().min(samples);
    // Centre the frames: reflect N_FFT/2 samples at the start (the end is zero padding).
    let half = N_FFT / 2;
    padded[half..half + n].copy_from_slice(&audio[..n]);
    for i in 0..half.min(n.saturating_sub(1)) {
        padded[half - 1 - i] = audio[i + 1];
    }
    let window: Vec<f32> = (0..N_FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N_FFT as f32).cos()).collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let bins = N_FFT / 2 + 1;
    let ranges: Vec<(usize, usize)> = (0..N_MELS)
        .map(|m| {
            let row = &filters[m * bins..(m + 1) * bins];
            let first = row.iter().position(|w| *w > 0.0).unwrap_or(0);
            let last = row.iter().rposition(|w| *w > 0.0).map_or(0, |l| l + 1);
            (first, last.max(first))
        })
        .collect();
    let floor = 1e-10f32.log10();
    let mut mel = vec![floor; N_MELS * frames];
    let mut power = vec![0.0f32; bins];
    let audio_frames = (n / HOP + N_FFT / HOP + 1).min(frames);
    for frame in 0..audio_frames {
        let start = frame * HOP;
        for (i, x) in input.iter_mut().enumerate() {
            *x = padded[start + i] * window[i];
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            continue;
        }
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        for (m, &(a, b)) in ranges.iter().enumerate() {
            let row = &filters[m * bins + a..m * bins + b];
            let e: f32 = row.iter().zip(&power[a..b]).map(|(w, p)| w * p).sum();
            mel[m * frames + frame] = e.max(1e-10).log10();
        }
    }
    let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for v in &mut mel {
        *v = ((*v).max(max - 8.0) + 4.0) / 4.0;
    }
    mel
}

fn hz_to_mel(f: f64) -> f64 {
    let sp = 200.0 / 3.0;
    let log_step = 6.4f64.ln() / 27.0;
    if f >= 1000.0 { 15.0 + (f / 1000.0).ln() / log_step } else { f / sp }
}

fn mel_to_hz(m: f64) -> f64 {
    let sp = 200.0 / 3.0;
    let log_step = 6.4f64.ln() / 27.0;
    if m >= 15.0 { 1000.0 * (log_step * (m - 15.0)).exp() } else { sp * m }
}

/// Slaney-style triangular mel filters (librosa's defaults, as Whisper uses), [mel][bin].
pub fn mel_filters() -> Vec<f32> {
    let bins = N_FFT / 2 + 1;
    let sr = MODEL_RATE as f64;
    let top = hz_to_mel(sr / 2.0);
    let points: Vec<f64> = (0..N_MELS + 2).map(|i| mel_to_hz(top * i as f64 / (N_MELS + 1) as f64)).collect();
    let mut out = vec![0.0f32; N_MELS * bins];
    for m in 0..N_MELS {
        let (lo, mid, hi) = (points[m], points[m + 1], points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for k in 0..bins {
            let f = k as f64 * sr / N_FFT as f64;
            let w = ((f - lo) / (mid - lo)).min((hi - f) / (hi - mid)).max(0.0);
            out[m * bins + k] = (w * norm) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_filters_cover_the_band_like_librosa() {
        let f = mel_filters();
        let bins = N_FFT / 2 + 1;
        // Every filter has weight; the lowest starts at 0 Hz and the top one reaches near 8 kHz.
        for m in 0..N_MELS {
            assert!(f[m * bins..(m + 1) * bins].iter().any(|w| *w > 0.0), "filter {m} is empty");
        }
        assert!(f[(N_MELS - 1) * bins + bins - 2] > 0.0);
        // Slaney normalisation: each triangle has unit area over Hz (bins are 40 Hz apart);
        // the wide upper filters show it without the sampling error of narrow ones.
        for m in 40..N_MELS - 1 {
            let area: f32 = f[m * bins..(m + 1) * bins].iter().sum::<f32>() * 40.0;
            assert!((area - 1.0).abs() < 0.1, "filter {m} has area {area}");
        }
    }

    #[test]
    fn log_mel_is_normalised_like_whisper_in_any_window() {
        let tone: Vec<f32> = (0..16000).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin() * 0.3).collect();
        let full = log_mel(&tone, &mel_filters(), N_FRAMES);
        let max = full.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = full.iter().copied().fold(f32::INFINITY, f32::min);
        // (x + 4) / 4 with x clamped to 8 below the max: the range is exactly 2.
        assert!((max - min - 2.0).abs() < 1e-4, "{min}..{max}");
        // Frames after the audio are at the floor.
        assert_eq!(full[N_FRAMES - 1], min);
        // A shorter window holds the same frames as the start of the full one.
        let short = log_mel(&tone, &mel_filters(), 1000);
        assert_eq!(short.len(), N_MELS * 1000);
        for m in [0, 20, 79] {
            assert_eq!(&short[m * 1000..m * 1000 + 200], &full[m * N_FRAMES..m * N_FRAMES + 200], "mel {m}");
        }
        assert_eq!(log_mel(&tone, &mel_filters(), 99_999).len(), N_MELS * N_FRAMES, "never past 30 s");
    }
}
