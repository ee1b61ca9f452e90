//! Group commit for new positions. Creating a position is the hot write
//! path (bulk loads through the API, imports). One writer task takes every
//! create waiting at that moment and stores them in one transaction: one
//! commit, one fsync, a few multi-row statements, however many callers.
//! Nothing is acknowledged before its transaction has committed.
//!
//! If the batch fails (a duplicate IUPD or IUV, say), it is rolled back and
//! each create is retried in a transaction of its own, so one caller's bad
//! row never fails another's.

use sqlx::AnyPool;
use tokio::sync::oneshot;

use super::StoredPosition;
use super::rows::insert_positions;
use crate::audit::{self, NewAuditEvent};
use crate::backend::{Backend, begin_write_on};

/// At most this many creates share a transaction.
const MAX_BATCH: usize = 256;
/// Creates waiting beyond this are refused (503: retry).
const CAPACITY: usize = 8192;

pub(crate) struct CreateJob {
    pub position: StoredPosition,
    pub actor: String,
    pub request_id: Option<String>,
    pub reply: oneshot::Sender<Result<StoredPosition, sqlx::Error>>,
}

pub(crate) type CreateQueue = crate::writer::WriterQueue<CreateJob>;

/// Starts the writer; it stops when every sender is gone.
pub(crate) fn start(pool: AnyPool, backend: Backend) -> CreateQueue {
    CreateQueue::start("creates", CAPACITY, MAX_BATCH, move |batch| {
        let pool = pool.clone();
        async move { commit_batch(&pool, backend, batch).await }
    })
}

async fn commit_batch(pool: &AnyPool, backend: Backend, batch: Vec<CreateJob>) {
    let mut positions: Vec<StoredPosition> = batch.iter().map(|j| j.position.clone()).collect();
    match store_all(pool, backend, &mut positions, &batch).await {
        Ok(()) => {
            for (job, position) in batch.into_iter().zip(positions) {
                // A caller that went away (client disconnected) still had
                // its position stored; nothing to undo.
                let _ = job.reply.send(Ok(position));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(job) = batch.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, size = batch.len(), "batch of creates failed; storing one by one");
            for job in batch {
                let mut one = [job.position.clone()];
                let result = store_all(pool, backend, &mut one, std::slice::from_ref(&job))
                    .await
                    .map(|()| one.into_iter().next().expect("one position"));
                let _ = job.reply.send(result);
            }
        }
    }
}

async fn store_all(
    pool: &AnyPool,
    backend: Backend,
    positions: &mut [StoredPosition],
    jobs: &[CreateJob],
) -> Result<(), sqlx::Error> {
    let mut tx = begin_write_on(pool, backend).await?;
    insert_positions(&mut tx, positions).await?;
    let afters: Vec<Option<serde_json::Value>> = positions
        .iter()
        .map(|p| serde_json::to_value(p).ok())
        .collect();
    let events: Vec<NewAuditEvent<'_>> = positions
        .iter()
        .zip(jobs)
        .zip(afters)
        .map(|((p, job), after)| NewAuditEvent {
            at: p.inserted_at,
            actor: &job.actor,
            ente_id: Some(p.ente_id),
            action: "create",
            entity: "debt_position",
            entity_key: &p.iupd,
            before: None,
            after,
            request_id: job.request_id.as_deref(),
        })
        .collect();
    audit::record_many(&mut tx, events).await?;
    tx.commit().await
}
