//! The caller-audio queue's byte bound, directly: audio the conversation has not taken yet holds
//! its bytes of the budget, and over it a frame is refused (the session drops and counts it).

use super::*;

fn running(caller: mpsc::Sender<Queued>) -> Running {
    Running {
        call_key: "twilio_CA1".into(),
        started: Instant::now(),
        caller,
        budget: Arc::new(Semaphore::new(MAX_QUEUED_AUDIO_BYTES)),
        conversation: None,
        recording: None,
        handover: None,
        _slot: crate::slots::Slots::new(1, 1).take("u").expect("a free slot"),
        _live: crate::metrics::get().call_live(domain::phone_number::Provider::Twilio),
    }
}

#[tokio::test]
async fn caller_audio_waiting_for_the_conversation_is_bounded_in_bytes() {
    let (tx, mut rx) = mpsc::channel::<Queued>(256);
    let call = running(tx);
    // 64,000 bytes a frame (2 s at 16 kHz): four fit under 256 KiB, a fifth does not.
    let frame = || CallerEvent::Audio(vec![0; 32_000]);
    for i in 0..4 {
        assert_eq!(call.queue(frame()), Ok(()), "frame {i}");
    }
    assert_eq!(call.queue(frame()), Err(()), "over the byte bound");
    // Keypad digits and marks carry no audio: they still go through.
    assert_eq!(call.queue(CallerEvent::Dtmf("5".into())), Ok(()));
    // Once the conversation takes a frame (and drops it), its bytes are free again.
    let taken = rx.recv().await.expect("a queued frame");
    assert!(matches!(taken.event, CallerEvent::Audio(ref s) if s.len() == 32_000));
    drop(taken);
    assert_eq!(call.queue(frame()), Ok(()));
    assert_eq!(call.queue(frame()), Err(()));
}
