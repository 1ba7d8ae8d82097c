//! Where the CPU work of SAML messages runs: parsing, canonicalization,
//! signatures and decryption of anything a browser or an IdP posts. It runs
//! on the blocking thread pool, at most one message per core at a time, so
//! hostile messages arriving together can neither starve the async workers
//! (health checks, forward auth and the admin API keep answering) nor queue
//! without end: beyond a bounded number of waiting messages, new ones are
//! refused at once as busy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("too many SAML messages are being processed; try again shortly")]
    Busy,
    #[error("the SAML processing task failed: {0}")]
    Task(String),
}

pub struct Workers {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl Workers {
    /// `concurrency` messages at once; `max_waiting` more may wait.
    pub fn new(concurrency: usize, max_waiting: usize) -> Workers {
        Workers {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// One message at a time per core, and as many waiting as cores × 16.
    pub fn per_core() -> Workers {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Workers::new(cores, cores * 16)
    }

    /// Runs `f` on the blocking pool once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkError> {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    metrics::counter!("ssoplane_saml_busy_total").increment(1);
                    return Err(WorkError::Busy);
                }
                let acquired = Arc::clone(&self.permits).acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                acquired.map_err(|e| WorkError::Task(e.to_string()))?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| WorkError::Task(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bounds_concurrency_and_refuses_beyond_the_queue() {
        let workers = Arc::new(Workers::new(1, 1));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let first = {
            let (w, hold) = (Arc::clone(&workers), Arc::clone(&hold));
            tokio::spawn(async move {
                w.run(move || {
                    let _ = hold.lock().map(|h| h.recv());
                    1
                })
                .await
            })
        };
        // Let the first take the only slot, then queue a second.
        while workers.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let second = {
            let w = Arc::clone(&workers);
            tokio::spawn(async move { w.run(|| 2).await })
        };
        while workers.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // The queue (one) is full: a third is refused at once.
        assert!(matches!(workers.run(|| 3).await, Err(WorkError::Busy)));
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert_eq!(workers.run(|| 4).await.unwrap(), 4);
    }
}
