//! Receiving a debt file (from the API or the back office): streamed to
//! the file store as it arrives, its SHA-256 computed on the way, never
//! held in memory, refused past [`MAX_UPLOAD_BYTES`].

use std::io::Write;

use axum::body::Bytes;
use cassa_jobs::files::plain_name;
use sha2::{Digest, Sha256};

use crate::AppState;

/// The largest file accepted: a few million rows of CSV.
pub const MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

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
    #[error("the upload broke off: {0}")]
    Broken(String),
    #[error("the file could not be stored: {0}")]
    Io(#[from] std::io::Error),
}

pub fn acceptable_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    plain_name(name) && (lower.ends_with(".csv") || lower.ends_with(".zip"))
}

/// Stores the chunks of `body` as `file_name`.
pub async fn receive<E: std::fmt::Display>(
    state: &AppState,
    file_name: &str,
    mut body: impl futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
) -> Result<Upload, UploadError> {
    use futures_util::StreamExt;
    if !acceptable_name(file_name) {
        return Err(UploadError::BadName);
    }
    let (token, mut part) = state.files.create_upload(file_name)?;
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                part.discard();
                return Err(UploadError::Broken(e.to_string()));
            }
        };
        bytes += chunk.len() as u64;
        if bytes > MAX_UPLOAD_BYTES {
            part.discard();
            return Err(UploadError::TooLarge);
        }
        hash.update(&chunk);
        part.write_all(&chunk)?;
    }
    if bytes == 0 {
        part.discard();
        return Err(UploadError::Empty);
    }
    part.commit()?;
    Ok(Upload {
        token,
        sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        bytes,
    })
}
