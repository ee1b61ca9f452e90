//! A single writer task fed by a bounded queue, the pattern both group
//! commits use (`batch` for payments, `positions::group_commit` for new
//! positions). The task takes everything waiting, runs it as one batch,
//! and goes on:
//!
//! - a panic inside a batch rolls that batch back (its transaction is
//!   dropped) and fails only its callers, with a retriable error (their
//!   reply channels close); the next batch runs as usual;
//! - the queue is bounded: when it is full the caller is refused at once
//!   (the node gets PAA_SYSTEM_ERROR and retries, the API 503) rather than
//!   memory growing without end;
//! - its health says whether it is running and how long the current batch
//!   has taken, for `/healthz`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use tokio::sync::mpsc;

use crate::error::StoreError;

/// A batch running longer than this means the writer is stuck (the
/// database stopped answering), not busy.
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How a writer is doing, shared between it and `/healthz`.
#[derive(Debug)]
pub struct WriterHealth {
    pub name: &'static str,
    /// When the current batch started (ms since the epoch); 0 when idle.
    busy_since: AtomicI64,
    stopped: AtomicBool,
}

/// What `/healthz` reports of one writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriterState {
    Running,
    /// One batch has been running for this long.
    Stuck(Duration),
    Stopped,
}

impl WriterHealth {
    fn new(name: &'static str) -> Arc<WriterHealth> {
        Arc::new(WriterHealth {
            name,
            busy_since: AtomicI64::new(0),
            stopped: AtomicBool::new(false),
        })
    }

    pub fn state(&self) -> WriterState {
        if self.stopped.load(Ordering::Acquire) {
            return WriterState::Stopped;
        }
        match self.busy_since.load(Ordering::Acquire) {
            0 => WriterState::Running,
            since => {
                let busy = Duration::from_millis(now_ms().saturating_sub(since).max(0) as u64);
                if busy > STUCK_AFTER {
                    WriterState::Stuck(busy)
                } else {
                    WriterState::Running
                }
            }
        }
    }
}

/// Where units go to the writer.
pub(crate) struct WriterQueue<T> {
    sender: mpsc::Sender<T>,
    health: Arc<WriterHealth>,
}

impl<T> Clone for WriterQueue<T> {
    fn clone(&self) -> Self {
        WriterQueue {
            sender: self.sender.clone(),
            health: self.health.clone(),
        }
    }
}

impl<T: Send + 'static> WriterQueue<T> {
    /// Starts a writer named `name` that takes up to `max_batch` waiting
    /// units at a time and hands them to `run`; at most `capacity` units
    /// wait.
    pub(crate) fn start<F, Fut>(
        name: &'static str,
        capacity: usize,
        max_batch: usize,
        mut run: F,
    ) -> WriterQueue<T>
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (sender, mut receiver) = mpsc::channel::<T>(capacity);
        let health = WriterHealth::new(name);
        let watched = health.clone();
        tokio::spawn(async move {
            let mut units = Vec::with_capacity(max_batch);
            while receiver.recv_many(&mut units, max_batch).await > 0 {
                watched.busy_since.store(now_ms(), Ordering::Release);
                let batch = std::mem::take(&mut units);
                if AssertUnwindSafe(run(batch)).catch_unwind().await.is_err() {
                    metrics::counter!("cassa_writer_panics_total", "writer" => name).increment(1);
                    tracing::error!(
                        writer = name,
                        "a write panicked: its batch was rolled back and its callers told to retry"
                    );
                }
                watched.busy_since.store(0, Ordering::Release);
            }
            watched.stopped.store(true, Ordering::Release);
        });
        WriterQueue { sender, health }
    }

    /// Queues `unit`, or refuses it at once when the queue is full or the
    /// writer has stopped.
    pub(crate) fn send(&self, unit: T) -> Result<(), StoreError> {
        self.sender.try_send(unit).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                metrics::counter!("cassa_writer_refused_total", "writer" => self.health.name)
                    .increment(1);
                StoreError::Unavailable(format!(
                    "the {} writer is full; retry shortly",
                    self.health.name
                ))
            }
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unavailable(format!("the {} writer has stopped", self.health.name))
            }
        })
    }

    pub(crate) fn health(&self) -> &Arc<WriterHealth> {
        &self.health
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;

    type Unit = (u32, oneshot::Sender<u32>);

    /// A batch that panics fails its callers only; the writer goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_fails_its_batch_and_the_writer_goes_on() {
        let queue: WriterQueue<Unit> =
            WriterQueue::start("test", 8, 1, |units: Vec<Unit>| async move {
                for (n, reply) in units {
                    assert_ne!(n, 13, "an unlucky unit");
                    let _ = reply.send(n * 2);
                }
            });
        let call = |n: u32| {
            let queue = queue.clone();
            async move {
                let (reply, answer) = oneshot::channel();
                queue.send((n, reply)).unwrap();
                answer.await
            }
        };
        assert_eq!(call(1).await.unwrap(), 2);
        assert!(call(13).await.is_err(), "its caller learns it failed");
        assert_eq!(call(2).await.unwrap(), 4, "the next one runs");
        assert_eq!(queue.health().state(), WriterState::Running);
    }

    /// A full queue refuses at once instead of growing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses() {
        let (release, released) = oneshot::channel::<()>();
        let released = std::sync::Mutex::new(Some(released));
        let queue: WriterQueue<u32> = WriterQueue::start("test", 2, 1, move |_units: Vec<u32>| {
            let wait = released.lock().unwrap().take();
            async move {
                if let Some(wait) = wait {
                    let _ = wait.await;
                }
            }
        });
        queue.send(1).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The writer holds unit 1; two more fill the queue.
        queue.send(2).unwrap();
        queue.send(3).unwrap();
        assert!(matches!(queue.send(4), Err(StoreError::Unavailable(_))));
        let _ = release.send(());
    }
}
