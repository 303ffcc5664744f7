//! Outbound audio of a call: utterances cut into chunks that keep the transport's size rules
//! ([`ChunkRules`]: a multiple, a minimum and a maximum), sent in real time (one chunk ahead of
//! the caller's ear, so no burst and no gap), with a mark after each utterance.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::frames::{AgentFrame, ChunkRules};

/// How late chunks left, in 1 ms buckets (the last bucket holds everything later).
#[derive(Debug, Clone)]
pub struct Lateness {
    pub buckets: [u32; 64],
    pub chunks: u64,
    /// The latest chunk's lateness (ms).
    pub max_ms: u32,
}

impl Default for Lateness {
    fn default() -> Self {
        Self { buckets: [0; 64], chunks: 0, max_ms: 0 }
    }
}

impl Lateness {
    fn record(&mut self, late: Duration) {
        let ms = late.as_millis().min(u128::from(u32::MAX)) as u32;
        self.buckets[(ms as usize).min(self.buckets.len() - 1)] += 1;
        self.chunks += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn merge(&mut self, other: &Lateness) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.chunks += other.chunks;
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    /// Upper bound (ms) under which fraction `q` of the chunks left.
    pub fn quantile_ms(&self, q: f64) -> u32 {
        let target = (self.chunks as f64 * q).ceil() as u64;
        let mut seen = 0u64;
        for (ms, n) in self.buckets.iter().enumerate() {
            seen += *n as u64;
            if seen >= target.max(1) {
                return ms as u32 + 1;
            }
        }
        self.buckets.len() as u32
    }
}

/// One utterance: its parts (sentences) as shared 16-bit samples, sent from `offset` on. Parts
/// are shared, never copied: a cached greeting or the echo of a caller's turn is one buffer for
/// every call that plays it; each chunk is encoded as it leaves.
struct Queued {
    id: u64,
    parts: VecDeque<Arc<Vec<i16>>>,
    /// Samples of the front part already sent.
    offset: usize,
    /// Samples not yet sent, over all parts.
    left: usize,
    started: bool,
}

impl Queued {
    /// Up to `samples` samples, taken from the front (room is kept for the padding).
    fn take(&mut self, samples: usize, capacity: usize) -> Vec<i16> {
        let mut out = Vec::with_capacity(capacity.max(samples));
        let mut want = samples.min(self.left);
        self.left -= want;
        while want > 0 {
            let Some(part) = self.parts.front() else { break };
            let n = want.min(part.len() - self.offset);
            out.extend_from_slice(&part[self.offset..self.offset + n]);
            want -= n;
            self.offset += n;
            if self.offset == part.len() {
                self.parts.pop_front();
                self.offset = 0;
            }
        }
        out
    }
}

/// One call's outbound audio queue and clock.
pub struct Speaker {
    rules: ChunkRules,
    /// Samples per chunk.
    chunk: usize,
    chunk_time: Duration,
    queue: VecDeque<Queued>,
    /// When the next chunk is due (None when idle).
    next_due: Option<Instant>,
    /// When the caller will have heard everything sent.
    playing_until: Instant,
    pub lateness: Lateness,
}

/// Something the speaker did, for the conversation to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// The first chunk of utterance `id` left now.
    First(u64),
    /// The whole utterance `id` is out (its mark follows).
    Done(u64),
}

impl Speaker {
    /// A speaker for audio at `rate` in chunks that keep `rules`.
    pub fn new(rate: u32, rules: ChunkRules) -> Self {
        // 100 ms of audio, but never under the transport's minimum (Exotel at 8 kHz: 200 ms).
        let chunk = rules.fit(rate as usize / 10);
        let chunk_time = Duration::from_secs_f64(chunk as f64 / f64::from(rate.max(1)));
        Self {
            rules,
            chunk,
            chunk_time,
            queue: VecDeque::new(),
            next_due: None,
            playing_until: Instant::now(),
            lateness: Lateness::default(),
        }
    }

    /// Samples in a full chunk.
    pub fn chunk_samples(&self) -> usize {
        self.chunk
    }

    /// Queues 16-bit samples of utterance `id` (an utterance may arrive in parts).
    pub fn enqueue(&mut self, id: u64, pcm: Arc<Vec<i16>>, now: Instant) {
        let n = pcm.len();
        match self.queue.back_mut() {
            Some(q) if q.id == id => {
                q.parts.push_back(pcm);
                q.left += n;
            }
            _ => self.queue.push_back(Queued { id, parts: VecDeque::from([pcm]), offset: 0, left: n, started: false }),
        }
        if self.next_due.is_none() {
            self.next_due = Some(now);
        }
    }

    /// When [`Self::poll`] has something to send.
    pub fn next_due(&self) -> Option<Instant> {
        self.next_due
    }

    /// Whether the caller is (or will be) hearing agent audio.
    pub fn is_speaking(&self, now: Instant) -> bool {
        !self.queue.is_empty() || now < self.playing_until
    }

    /// When the caller will have heard everything sent so far.
    pub fn heard_by(&self) -> Instant {
        self.playing_until
    }

    /// Drops everything not yet heard; the caller is talking.
    pub fn clear(&mut self, now: Instant) -> Vec<AgentFrame> {
        let had = self.is_speaking(now);
        self.queue.clear();
        self.next_due = None;
        self.playing_until = now;
        if had { vec![AgentFrame::Clear] } else { Vec::new() }
    }

    /// Frames due at `now`, and what they mean for the conversation. `more_coming` says whether
    /// more audio of the last utterance may still come (then a short tail waits for it).
    pub fn poll(&mut self, now: Instant, more_coming: bool) -> (Vec<AgentFrame>, Vec<Sent>) {
        let mut frames = Vec::new();
        let mut events = Vec::new();
        while let Some(due) = self.next_due {
            if due > now {
                break;
            }
            let last_part = self.queue.len() == 1 && more_coming;
            let Some(front) = self.queue.front_mut() else {
                self.next_due = None;
                break;
            };
            let left = front.left;
            if left < self.chunk && last_part {
                // Wait for the rest of the sentence rather than pad mid-utterance; the chunk
                // ahead covers the wait.
                self.next_due = Some(now + Duration::from_millis(5));
                break;
            }
            if left == 0 {
                // Everything of this utterance is out: its mark, no padding of silence.
                let id = front.id;
                self.queue.pop_front();
                frames.push(AgentFrame::Mark(mark_name(id)));
                events.push(Sent::Done(id));
                continue;
            }
            let mut payload = front.take(self.chunk, self.rules.pad(self.chunk.min(left)));
            // Whole frames, at least the minimum: pad the utterance's end with silence.
            let padded = self.rules.pad(payload.len());
            payload.resize(padded, 0);
            if !front.started {
                front.started = true;
                events.push(Sent::First(front.id));
            }
            let played = Duration::from_secs_f64(padded as f64 / self.chunk as f64 * self.chunk_time.as_secs_f64());
            self.lateness.record(now.saturating_duration_since(due));
            self.playing_until = self.playing_until.max(now) + played;
            frames.push(AgentFrame::Audio(payload));
            if front.left == 0 && !last_part {
                let id = front.id;
                self.queue.pop_front();
                frames.push(AgentFrame::Mark(mark_name(id)));
                events.push(Sent::Done(id));
            }
            // The next chunk is due one chunk before the caller runs out of audio.
            let next = self.playing_until.checked_sub(self.chunk_time).unwrap_or(now);
            self.next_due = if self.queue.is_empty() { None } else { Some(next.max(due)) };
        }
        (frames, events)
    }
}

/// The mark that follows utterance `id`.
pub fn mark_name(id: u64) -> String {
    format!("utterance-{id}")
}

/// The utterance a mark names (see [`mark_name`]).
pub fn marked_utterance(name: &str) -> Option<u64> {
    name.strip_prefix("utterance-")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exotel's rules (multiples of 320 bytes, 3,200 to 100 KB), in samples.
    const RULES: ChunkRules = ChunkRules { multiple: 160, min: 1600, max: 51200 };

    fn audio_sizes(frames: &[AgentFrame]) -> Vec<usize> {
        frames.iter().filter_map(|f| if let AgentFrame::Audio(pcm) = f { Some(pcm.len()) } else { None }).collect()
    }

    #[test]
    fn chunks_follow_the_transports_size_rules_at_every_rate() {
        for rate in [8000, 16000, 24000] {
            let s = Speaker::new(rate, RULES);
            assert!(RULES.allows(s.chunk_samples()), "{rate}: {}", s.chunk_samples());
        }
        let mut s = Speaker::new(8000, RULES);
        let t0 = Instant::now();
        s.enqueue(1, Arc::new(vec![1; 1600 * 2 + 50]), t0);
        let mut all = Vec::new();
        for i in 0..20 {
            let (f, _) = s.poll(t0 + Duration::from_millis(100 * i), false);
            all.extend(f);
        }
        let sizes = audio_sizes(&all);
        assert_eq!(sizes, vec![1600, 1600, 1600], "the 50-sample tail is padded to the minimum");
        assert_eq!(all.last(), Some(&AgentFrame::Mark("utterance-1".into())));
    }

    #[test]
    fn audio_is_paced_in_real_time_one_chunk_ahead() {
        // 2 s of audio at 8 kHz = 10 chunks of 200 ms.
        let mut s = Speaker::new(8000, RULES);
        let t0 = Instant::now();
        s.enqueue(7, Arc::new(vec![0; 16000]), t0);
        let mut sent_at = Vec::new();
        for ms in (0..3000).step_by(5) {
            let (frames, _) = s.poll(t0 + Duration::from_millis(ms), false);
            for f in frames {
                if matches!(f, AgentFrame::Audio(_)) {
                    sent_at.push(ms);
                }
            }
        }
        // Two chunks at once (the one playing and the one ahead), then one per 200 ms.
        assert_eq!(sent_at, vec![0, 0, 200, 400, 600, 800, 1000, 1200, 1400, 1600]);
        assert!(s.lateness.quantile_ms(0.99) <= 1);
    }

    #[test]
    fn clear_drops_unsent_audio_and_says_so_once() {
        let mut s = Speaker::new(8000, RULES);
        let t0 = Instant::now();
        s.enqueue(1, Arc::new(vec![0; 16000]), t0);
        let (_, ev) = s.poll(t0, false);
        assert_eq!(ev, vec![Sent::First(1)]);
        assert!(s.is_speaking(t0));
        assert_eq!(s.clear(t0), vec![AgentFrame::Clear]);
        assert!(!s.is_speaking(t0));
        assert!(s.clear(t0).is_empty());
        assert_eq!(s.poll(t0 + Duration::from_secs(1), false).0, vec![]);
    }

    #[test]
    fn a_chunk_spans_the_sentences_of_an_utterance_in_order() {
        let mut s = Speaker::new(8000, RULES);
        let t0 = Instant::now();
        s.enqueue(1, Arc::new(vec![1; 1000]), t0);
        s.enqueue(1, Arc::new(vec![-2; 1100]), t0);
        let (frames, _) = s.poll(t0, false);
        let Some(AgentFrame::Audio(samples)) = frames.first() else { panic!("{frames:?}") };
        assert_eq!(samples.len(), 1600);
        assert!(samples[..1000].iter().all(|&v| v == 1) && samples[1000..].iter().all(|&v| v == -2));
        // The last 500 samples follow, padded to the minimum, then the mark.
        assert_eq!(&frames[1..], &[AgentFrame::Audio([vec![-2; 500], vec![0; 1100]].concat()), AgentFrame::Mark("utterance-1".into())]);
    }

    #[test]
    fn a_partial_sentence_waits_for_the_rest_instead_of_padding() {
        let mut s = Speaker::new(8000, RULES);
        let t0 = Instant::now();
        s.enqueue(1, Arc::new(vec![0; 500]), t0);
        assert!(s.poll(t0, true).0.is_empty());
        s.enqueue(1, Arc::new(vec![0; 1100]), t0);
        assert_eq!(audio_sizes(&s.poll(t0 + Duration::from_millis(5), true).0), vec![1600]);
    }
}
