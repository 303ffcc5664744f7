//! The server's stop, as every part of it hears it. When SIGTERM (or Ctrl-C) arrives, the
//! listener stops taking connections and [`Shutdown::begin`] tells the rest: calls say a short
//! goodbye and record their end, new streams are turned away, live event streams close. The
//! process then waits for calls to end, up to the configured deadline (crate::serve).

use std::sync::Arc;

use tokio::sync::watch;

/// Cheap to clone; all clones hear the same stop.
#[derive(Debug, Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    /// Starts the stop (again: no effect).
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    pub fn has_begun(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop has begun.
    pub async fn begun(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in self: wait_for cannot fail while we hold it.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_hears_the_stop() {
        let a = Shutdown::default();
        let b = a.clone();
        assert!(!b.has_begun());
        let waiting = tokio::spawn(async move { b.begun().await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        a.begin();
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting).await.unwrap().unwrap();
        assert!(a.has_begun());
        a.begun().await;
    }
}
