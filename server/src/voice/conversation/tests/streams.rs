//! A streaming voice: heard as it streams, stopped by barge-in, bounded by its limit.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_sentence_is_heard_as_its_speech_streams_and_barge_in_stops_the_stream() {
    let stopped = Arc::new(AtomicBool::new(false));
    let tts = Arc::new(StallingTts { stopped: stopped.clone() });
    let mut c = call_with(stt("When do you open", 10), agent("We open at nine", false, 10), tts, Duration::from_secs(5));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 1000 })).await;
    // The sentence's first 600 ms play (three 200 ms chunks) though its speech never ends.
    for _ in 0..3 {
        assert!(matches!(c.next(Duration::from_secs(2)).await, Some(AgentFrame::Audio(_))));
    }
    assert!(!stopped.load(Ordering::SeqCst), "the stream is still open");
    c.send(Input::Vad(VadEvent::SpeechStart)).await;
    assert_eq!(c.next(Duration::from_secs(1)).await, Some(AgentFrame::Clear));
    assert_eq!(c.next(Duration::from_millis(300)).await, None);
    assert!(stopped.load(Ordering::SeqCst), "the cancelled reply stopped its speech stream");
    let (_, written) = c.end().await;
    // The words of the sentence went with its first audio: the cut-off reply keeps them.
    assert_eq!(written.last().unwrap(), &(Role::Agent, TurnKind::Speech, "We open at nine".into(), true));
}

#[tokio::test(start_paused = true)]
async fn a_speech_stream_that_stalls_past_the_limit_ends_in_the_fallback_line() {
    let stopped = Arc::new(AtomicBool::new(false));
    let tts = Arc::new(StallingTts { stopped: stopped.clone() });
    let mut c = call_with(stt("When do you open", 10), agent("We open at nine", false, 10), tts, Duration::from_secs(1));
    c.greeted_then_caller_talks().await;
    c.send(Input::Vad(VadEvent::SpeechEnd { audio: speech().into(), speech_ms: 1000 })).await;
    // What had streamed (600 ms), then the fallback line (300 ms: two chunks, the second
    // padded), then the mark.
    let (samples, mark) = c.until_mark().await;
    assert_eq!(samples, 4800 + 3200, "{samples}");
    assert!(stopped.load(Ordering::SeqCst), "the stalled stream was dropped at the limit");
    c.send(Input::Caller(CallerEvent::Played(mark))).await;
    let (_, written) = c.end().await;
    assert_eq!(written.last().unwrap(), &(Role::Agent, TurnKind::Fallback, "Sorry say again".into(), false));
}
