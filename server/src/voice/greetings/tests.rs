use std::sync::atomic::AtomicUsize;

use super::*;

/// A rendering that takes `ms` and counts itself.
async fn slow(runs: &AtomicUsize, ms: u64, samples: usize) -> Result<Vec<i16>, VoiceError> {
    runs.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(vec![7; samples])
}

#[tokio::test]
async fn concurrent_requests_share_one_rendering() {
    let cache = Arc::new(Greetings::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (cache, runs) = (cache.clone(), runs.clone());
        tasks.push(tokio::spawn(async move { cache.get_or_render(1, Some("u1"), true, || slow(&runs, 50, 100)).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().len(), 100);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one rendering for 50 requests");
    assert_eq!(cache.rendered(), 1);
    // Cached now: no rendering at all.
    cache.get_or_render(1, Some("u1"), true, || slow(&runs, 0, 1)).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn waiters_share_a_failure_instead_of_retrying_one_by_one() {
    let cache = Arc::new(Greetings::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (cache, runs) = (cache.clone(), runs.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_render(2, None, true, || async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Err::<Vec<i16>, _>(VoiceError::Tts("provider down".into()))
                })
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap_err().to_string(), "text-to-speech failed: provider down");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_cache_stays_within_its_byte_budget() {
    // 10 entries of 20,000 bytes in a 100,000-byte cache.
    let cache = Greetings::new(100_000, 100);
    let runs = AtomicUsize::new(0);
    for k in 0..10 {
        cache.get_or_render(k, None, true, || slow(&runs, 0, 10_000)).await.unwrap();
        // The first entry is the one in use: every call asks for it.
        cache.get_or_render(0, None, true, || slow(&runs, 0, 10_000)).await.unwrap();
        assert!(cache.bytes() <= 100_000, "{} bytes after {k}", cache.bytes());
    }
    assert!(cache.len() < 10, "older entries went");
    assert!(cache.get(0).is_some(), "the entry in use stayed");
    // A rendering larger than the budget is served, not kept.
    let big = cache.get_or_render(99, None, true, || slow(&runs, 0, 60_000)).await.unwrap();
    assert_eq!(big.len(), 60_000);
    assert!(cache.get(99).is_none() && cache.bytes() <= 100_000);
}

#[tokio::test]
async fn renderings_are_limited_per_tenant() {
    let cache = Greetings::new(DEFAULT_BUDGET_BYTES, 3);
    let runs = AtomicUsize::new(0);
    for k in 0..3 {
        cache.get_or_render(k, Some("greedy"), true, || slow(&runs, 0, 10)).await.unwrap();
    }
    let err = cache.get_or_render(3, Some("greedy"), true, || slow(&runs, 0, 10)).await.unwrap_err();
    assert!(matches!(err, VoiceError::Busy(_)), "{err}");
    assert_eq!(runs.load(Ordering::SeqCst), 3, "the fourth was not rendered");
    // Cached entries still play, another tenant still renders, and uncounted work (resampling) goes on.
    cache.get_or_render(0, Some("greedy"), true, || slow(&runs, 0, 10)).await.unwrap();
    cache.get_or_render(3, Some("modest"), true, || slow(&runs, 0, 10)).await.unwrap();
    cache.get_or_render(4, Some("greedy"), false, || slow(&runs, 0, 10)).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_cancelled_rendering_hands_over_to_the_next_request() {
    let cache = Arc::new(Greetings::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let first = {
        let (cache, runs) = (cache.clone(), runs.clone());
        tokio::spawn(async move { cache.get_or_render(5, None, true, || slow(&runs, 10_000, 10)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.abort();
    let audio = tokio::time::timeout(Duration::from_secs(2), cache.get_or_render(5, None, true, || slow(&runs, 0, 10))).await;
    assert_eq!(audio.expect("not stuck behind the cancelled rendering").unwrap().len(), 10);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn keys_differ_by_voice_text_and_rate() {
    let k = key("piper|en", "Hello", 8000);
    assert_eq!(k, key("piper|en", "Hello", 8000));
    assert_ne!(k, key("piper|en", "Hello", 16000));
    assert_ne!(k, key("espeak|en", "Hello", 8000));
    assert_ne!(k, key("piper|en", "Hello!", 8000));
}
