//! Receiving a debt file (from the API or the back office): refused before
//! a byte is stored when the ente already has its imports queued or the
//! disk is short; then streamed to the file store by a blocking writer
//! thread (the async workers never wait on the disk), its SHA-256
//! computed on the way, never held in memory, refused past
//! [`MAX_UPLOAD_BYTES`].

use std::io::Write;

use axum::body::Bytes;
use cassa_jobs::files::plain_name;
use cassa_jobs::import_dovuti::unpack;
use sha2::{Digest, Sha256};

use cassa_jobs::FileStore;
use cassa_store::Store;

/// The largest file accepted: a few million rows of CSV.
pub const MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

/// The request body limit of an upload route: the file and its form.
pub const MAX_UPLOAD_BODY: usize = MAX_UPLOAD_BYTES as usize + 1024 * 1024;

pub struct Upload {
    pub token: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "the file name must end in .csv or .zip and use only letters, digits, '.', '-' and '_'"
    )]
    BadName,
    #[error("the file is larger than {} MB", MAX_UPLOAD_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the file is empty")]
    Empty,
    #[error(
        "{} imports of this ente are already waiting or running: send this file when one has ended",
        cassa_store::MAX_UNFINISHED_IMPORTS
    )]
    TooManyImports,
    #[error("there is not enough free disk space to receive the file now: try again later")]
    NoRoom,
    #[error("the upload broke off: {0}")]
    Broken(String),
    #[error("the file could not be stored: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file could not be stored: {0}")]
    Store(#[from] cassa_store::StoreError),
}

pub fn acceptable_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    plain_name(name) && (lower.ends_with(".csv") || lower.ends_with(".zip"))
}

/// Stores the chunks of `body` as `file_name`, an import of `ente_id`
/// to be. `declared` is the body's announced length, when known.
pub async fn receive<E: std::fmt::Display>(
    store: &Store,
    files: &FileStore,
    ente_id: i64,
    file_name: &str,
    declared: Option<u64>,
    mut body: impl futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
) -> Result<Upload, UploadError> {
    use futures_util::StreamExt;
    if !acceptable_name(file_name) {
        return Err(UploadError::BadName);
    }
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES) {
        return Err(UploadError::TooLarge);
    }
    if !store
        .may_queue_import(ente_id, cassa_jobs::import_dovuti::KIND)
        .await?
    {
        return Err(UploadError::TooManyImports);
    }
    let disk = files.clone();
    let free = tokio::task::spawn_blocking(move || disk.free_bytes())
        .await
        .unwrap_or(0);
    let needed = declared.unwrap_or(MAX_UPLOAD_BYTES);
    if free < needed.saturating_add(unpack::LIMITS.reserve) {
        return Err(UploadError::NoRoom);
    }

    let (token, part) = files.create_upload(file_name)?;
    // A few chunks in flight: a slow disk slows the sender, not memory.
    let (chunks, mut received) = tokio::sync::mpsc::channel::<Bytes>(8);
    let writer = tokio::task::spawn_blocking(move || {
        let mut part = part;
        let mut hash = Sha256::new();
        while let Some(chunk) = received.blocking_recv() {
            hash.update(&chunk);
            if let Err(e) = part.write_all(&chunk) {
                part.discard();
                return Err(e);
            }
        }
        Ok((part, hash))
    });
    let mut bytes = 0u64;
    let mut failure = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                failure = Some(UploadError::Broken(e.to_string()));
                break;
            }
        };
        bytes += chunk.len() as u64;
        if bytes > MAX_UPLOAD_BYTES {
            failure = Some(UploadError::TooLarge);
            break;
        }
        // Waits only while the writer is 8 chunks behind.
        if chunks.send(chunk).await.is_err() {
            break; // the writer stopped: its error is below
        }
    }
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| UploadError::Io(std::io::Error::other(e.to_string())))?;
    let (part, hash) = written?;
    if let Some(failure) = failure {
        part.discard();
        return Err(failure);
    }
    if bytes == 0 {
        part.discard();
        return Err(UploadError::Empty);
    }
    tokio::task::spawn_blocking(move || part.commit())
        .await
        .map_err(|e| UploadError::Io(std::io::Error::other(e.to_string())))??;
    Ok(Upload {
        token,
        sha256: hex::encode(hash.finalize()),
        bytes,
    })
}

/// Queues the import of `upload` (from the API or the back office).
pub async fn queue_import(
    store: &Store,
    ente_id: i64,
    actor: &str,
    file_name: &str,
    upload: &Upload,
    notices: bool,
) -> Result<cassa_store::QueuedImport, cassa_store::StoreError> {
    let request = cassa_jobs::import_dovuti::ImportRequest {
        file_name: file_name.to_owned(),
        upload: upload.token.clone(),
        notices,
    };
    request.queue(store, ente_id, actor, &upload.sha256).await
}

/// Deletes an upload its import will not use (a duplicate, over quota).
pub async fn forget(files: &FileStore, upload: &Upload) {
    let (files, token) = (files.clone(), upload.token.clone());
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || files.remove_upload(&token)).await {
        tracing::warn!(error = %e, "an unused upload could not be deleted; the sweep will");
    }
}

/// A short text field of a multipart form (a token, a checkbox), read up
/// to `max` bytes: a longer one is refused, not buffered.
pub async fn short_text(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> Option<String> {
    let mut text = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        if text.len() + chunk.len() > max {
            return None;
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text).ok()
}
