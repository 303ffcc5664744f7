//! The endpointer's state machine on synthetic audio (stage 1 alone).

use super::*;

/// Samples per 20 ms frame at 16 kHz.
const FRAME: usize = 320;

#[test]
fn talking_again_after_a_pause_resumes_the_turn() {
    let mut ep = Endpointer::new(VadSettings::default(), None, MODEL_RATE);
    feed(&mut ep, &voiced(600));
    let events = feed(&mut ep, &vec![0; FRAME * 25]);
    assert!(matches!(events[..], [VadEvent::Pause { .. }]), "{} events", events.len());
    let events = feed(&mut ep, &voiced(400));
    assert_eq!(events, vec![VadEvent::Resume]);
    let events = feed(&mut ep, &vec![0; FRAME * 60]);
    assert!(matches!(events[..], [VadEvent::Pause { .. }, VadEvent::SpeechEnd { .. }]), "{} events", events.len());
}

/// A voiced-like signal: a 150 Hz pulse train through harmonics, which webrtc-vad takes as speech.
fn voiced(ms: u32) -> Vec<i16> {
    voiced_at(MODEL_RATE, ms)
}

fn voiced_at(rate: u32, ms: u32) -> Vec<i16> {
    let n = (rate / 1000 * ms) as usize;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let v: f32 = (1..12).map(|h| (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin() / h as f32).sum();
            (v * 6000.0) as i16
        })
        .collect()
}

fn feed(ep: &mut Endpointer, audio: &[i16]) -> Vec<VadEvent> {
    audio.chunks_exact(FRAME).filter_map(|f| ep.push(f, f).unwrap()).collect()
}

#[test]
fn a_turn_starts_on_speech_and_ends_after_the_silence() {
    let mut ep = Endpointer::new(VadSettings { end_of_speech_ms: 500, ..Default::default() }, None, MODEL_RATE);
    assert!(feed(&mut ep, &vec![0; FRAME * 50]).is_empty(), "silence is not speech");
    let events = feed(&mut ep, &voiced(1000));
    assert_eq!(events, vec![VadEvent::SpeechStart]);
    // 400 ms of silence (webrtc-vad holds "speech" ~120 ms after it ends) is a pause, not the end.
    let mut events = feed(&mut ep, &vec![0; FRAME * 20]);
    assert!(ep.is_in_turn());
    assert!(!events.iter().any(|e| matches!(e, VadEvent::SpeechEnd { .. })));
    // 500 ms of silence end the turn; the reply may have started early at the pause.
    events.extend(feed(&mut ep, &vec![0; FRAME * 15]));
    assert!(matches!(events.first(), Some(VadEvent::Pause { .. })), "a pause came first");
    match &events[1..] {
        [VadEvent::SpeechEnd { audio, speech_ms }] => {
            assert!(*speech_ms >= 900, "{speech_ms}");
            // The turn keeps the pre-roll and the speech, not all the trailing silence.
            assert!(audio.len() >= voiced(1000).len() && audio.len() < voiced(1000).len() + FRAME * 60, "{}", audio.len());
        }
        other => panic!("expected the end of the turn, got {other:?}"),
    }
}

#[test]
fn a_turn_ended_at_its_pause_gives_no_second_end_and_new_speech_starts_a_new_turn() {
    let mut ep = Endpointer::new(VadSettings::default(), None, MODEL_RATE);
    feed(&mut ep, &voiced(600));
    let events = feed(&mut ep, &vec![0; FRAME * 20]);
    assert!(matches!(events[..], [VadEvent::Pause { .. }]), "{events:?}");
    let waited = ep.end_turn().expect("a turn was open");
    assert!((160..700).contains(&waited), "{waited}");
    assert!(!ep.is_in_turn());
    assert_eq!(ep.end_turn(), None);
    assert!(feed(&mut ep, &vec![0; FRAME * 60]).is_empty(), "the silence after it ends nothing");
    assert_eq!(feed(&mut ep, &voiced(400)), vec![VadEvent::SpeechStart]);
}

#[test]
fn clicks_shorter_than_the_minimum_are_not_turns() {
    let mut ep = Endpointer::new(VadSettings::default(), None, MODEL_RATE);
    let mut audio = voiced(100);
    audio.extend(vec![0; FRAME * 60]);
    let events = feed(&mut ep, &audio);
    assert!(!events.iter().any(|e| matches!(e, VadEvent::SpeechEnd { .. })), "{events:?}");
}

#[test]
fn long_speech_is_cut_at_the_turn_limit() {
    let mut ep = Endpointer::new(VadSettings { max_turn_ms: 2000, ..Default::default() }, None, MODEL_RATE);
    let events = feed(&mut ep, &voiced(3000));
    assert!(events.iter().any(|e| matches!(e, VadEvent::SpeechEnd { .. })), "{events:?}");
}

#[test]
fn an_8_khz_call_is_heard_at_8_khz_in_160_sample_frames() {
    assert_eq!(detector_rate(8000), 8000);
    assert_eq!(detector_rate(16000), 16000);
    assert_eq!(detector_rate(24000), 16000, "other rates are resampled to 16 kHz");
    let mut ep = Endpointer::new(VadSettings { end_of_speech_ms: 500, ..Default::default() }, None, 8000);
    assert_eq!(ep.frame_len(), 160);
    let mut feed8 = |audio: &[i16]| -> Vec<VadEvent> { audio.chunks_exact(160).filter_map(|f| ep.push(f, f).unwrap()).collect() };
    assert!(feed8(&vec![0; 160 * 50]).is_empty(), "silence is not speech");
    assert_eq!(feed8(&voiced_at(8000, 1000)), vec![VadEvent::SpeechStart]);
    let events = feed8(&vec![0; 160 * 40]);
    match &events[..] {
        [VadEvent::Pause { .. }, VadEvent::SpeechEnd { audio, speech_ms }] => {
            assert!(*speech_ms >= 900, "{speech_ms}");
            // Kept at 8 kHz: the second of speech, its lead-in and at most 200 ms after it.
            assert!((8000..8000 + 160 * 60).contains(&audio.len()), "{}", audio.len());
        }
        other => panic!("expected a pause and the end of the turn, got {other:?}"),
    }
}
