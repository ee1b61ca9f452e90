//! Group commit for any write, on SQLite. Callers hand over a unit of work;
//! one writer task runs everything waiting at that moment in a single
//! transaction, each unit inside its own SAVEPOINT, and commits once. A
//! unit that fails is rolled back to its savepoint alone; nobody is answered
//! before the commit. SQLite has one writer and every commit is an fsync, so
//! this turns N commits into one. PostgreSQL runs writers side by side and
//! groups concurrent commits itself, so there each unit simply gets its own
//! transaction.

use futures_core::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool, Executor};
use tokio::sync::oneshot;

use crate::backend::{Backend, begin_write_on};
use crate::error::StoreError;
use crate::writer::WriterQueue;

const MAX_BATCH: usize = 128;
/// Units waiting beyond this are refused (the node retries).
const CAPACITY: usize = 2048;

/// What the writer does with a unit once the batch has committed (or not).
type Delivery = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A unit of work: runs on the batch's connection, says whether it
/// succeeded, and how to deliver its result.
type Unit =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, (bool, Delivery)> + Send>;

/// Where units go: the SQLite writer task, or straight to a PostgreSQL pool.
#[derive(Clone)]
pub(crate) enum BatchQueue {
    Grouped(WriterQueue<Unit>),
    Direct(AnyPool),
}

impl BatchQueue {
    /// The writer's health, where there is a writer.
    pub(crate) fn health(&self) -> Option<&std::sync::Arc<crate::writer::WriterHealth>> {
        match self {
            BatchQueue::Grouped(queue) => Some(queue.health()),
            BatchQueue::Direct(_) => None,
        }
    }
}

pub(crate) fn start(pool: AnyPool, backend: Backend) -> BatchQueue {
    if backend == Backend::Postgres {
        return BatchQueue::Direct(pool);
    }
    BatchQueue::Grouped(WriterQueue::start(
        "payments",
        CAPACITY,
        MAX_BATCH,
        move |units| {
            let pool = pool.clone();
            async move { run_batch(&pool, backend, units).await }
        },
    ))
}

async fn run_batch(pool: &AnyPool, backend: Backend, units: Vec<Unit>) {
    // If anything below fails, the units still waiting are dropped and
    // their callers get an error; none of their work was committed.
    let Ok(mut tx) = begin_write_on(pool, backend).await else {
        return;
    };
    let mut deliveries = Vec::with_capacity(units.len());
    for unit in units {
        if tx.execute("SAVEPOINT unit").await.is_err() {
            return;
        }
        let (ok, delivery) = unit(&mut tx).await;
        let end = if ok {
            "RELEASE SAVEPOINT unit"
        } else {
            "ROLLBACK TO SAVEPOINT unit"
        };
        if tx.execute(end).await.is_err() {
            return;
        }
        if !ok && tx.execute("RELEASE SAVEPOINT unit").await.is_err() {
            return;
        }
        deliveries.push(delivery);
    }
    let committed = tx.commit().await.map_err(|e| e.to_string());
    for deliver in deliveries {
        deliver(committed.clone());
    }
}

/// Runs `work` in the next batch and returns its result once committed.
pub(crate) async fn submit<T, F>(queue: &BatchQueue, work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
        + Send
        + 'static,
{
    let queue = match queue {
        BatchQueue::Grouped(queue) => queue,
        BatchQueue::Direct(pool) => {
            let mut tx = begin_write_on(pool, Backend::Postgres).await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            return Ok(value);
        }
    };
    let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
    let unit: Unit = Box::new(move |conn| {
        Box::pin(async move {
            let result = work(conn).await;
            let ok = result.is_ok();
            let delivery: Delivery = Box::new(move |committed| {
                let _ = reply.send(match committed {
                    Ok(()) => result,
                    Err(e) if ok => Err(StoreError::Unavailable(format!(
                        "the transaction did not commit: {e}"
                    ))),
                    Err(_) => result,
                });
            });
            (ok, delivery)
        })
    });
    queue.send(unit)?;
    answer.await.map_err(|_| {
        StoreError::Unavailable("the write was abandoned and not committed; retry".into())
    })?
}

#[cfg(test)]
mod tests {
    use sqlx::any::{AnyPoolOptions, install_default_drivers};

    use super::*;

    /// 50 units at once, 10 of which break a UNIQUE constraint: those fail
    /// alone, the other 40 are committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_unit_fails_alone() {
        install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        pool.execute("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)")
            .await
            .unwrap();
        let queue = start(pool.clone(), Backend::Sqlite);
        let mut tasks = Vec::new();
        for n in 0..50i64 {
            let queue = queue.clone();
            tasks.push(tokio::spawn(async move {
                submit(&queue, move |conn| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO t (x) VALUES ($1)")
                            .bind(n % 40)
                            .execute(&mut *conn)
                            .await?;
                        Ok(n)
                    })
                })
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 40);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 40);
    }
}
