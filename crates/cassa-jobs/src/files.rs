//! Where jobs leave what they produce: `<root>/jobs/<job id>/<file name>`;
//! and where uploads wait for the job that reads them:
//! `<root>/uploads/<random token>/<file name>`.
//! A file is written under a `.part` name, flushed to disk, then renamed:
//! a download never sees half a file, and a job taken over after a crash
//! starts its file again. With several cassa processes (one PostgreSQL,
//! many servers and workers) the root must be shared storage.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
}

/// A job's file being written; [`PartFile::commit`] makes it visible.
pub struct PartFile {
    file: File,
    part: PathBuf,
    done: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> FileStore {
        FileStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a finished file of `job_id`; `None` if the name could
    /// reach outside the job's directory.
    pub fn job_file(&self, job_id: i64, name: &str) -> Option<PathBuf> {
        plain_name(name).then(|| self.root.join("jobs").join(job_id.to_string()).join(name))
    }

    /// The path of an uploaded file; `None` for a token or name that could
    /// reach outside its directory.
    pub fn upload_file(&self, token: &str, name: &str) -> Option<PathBuf> {
        let token_ok = !token.is_empty() && token.bytes().all(|b| b.is_ascii_hexdigit());
        (token_ok && plain_name(name)).then(|| self.root.join("uploads").join(token).join(name))
    }

    /// Starts writing an upload called `name`; answers its token.
    pub fn create_upload(&self, name: &str) -> io::Result<(String, PartFile)> {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let token = hex::encode(bytes);
        let done = self.upload_file(&token, name).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("file name {name:?}"))
        })?;
        std::fs::create_dir_all(done.parent().expect("an upload has a directory"))?;
        let part = done.with_file_name(format!("{name}.part"));
        Ok((
            token,
            PartFile {
                file: File::create(&part)?,
                part,
                done,
            },
        ))
    }

    /// Starts writing `name` for `job_id` (truncating an earlier attempt).
    pub fn create(&self, job_id: i64, name: &str) -> io::Result<PartFile> {
        let done = self.job_file(job_id, name).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("file name {name:?}"))
        })?;
        let dir = done.parent().expect("a job file has a directory");
        std::fs::create_dir_all(dir)?;
        let part = done.with_file_name(format!("{name}.part"));
        Ok(PartFile {
            file: File::create(&part)?,
            part,
            done,
        })
    }
}

impl FileStore {
    /// Deletes an upload with what was extracted from it (nothing to
    /// delete is fine).
    pub fn remove_upload(&self, token: &str) -> io::Result<()> {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "upload token"));
        }
        match std::fs::remove_dir_all(self.root.join("uploads").join(token)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The uploads whose files were last touched before `before`, by token.
    pub fn uploads_untouched_since(
        &self,
        before: std::time::SystemTime,
    ) -> io::Result<Vec<String>> {
        let dir = match std::fs::read_dir(self.root.join("uploads")) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut stale = Vec::new();
        for entry in dir {
            let entry = entry?;
            // Only upload directories: a stray file is not ours to judge
            // and must not stop the sweep.
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let token = entry.file_name().to_string_lossy().into_owned();
            let mut newest = entry.metadata()?.modified()?;
            for file in std::fs::read_dir(entry.path())? {
                if let Ok(modified) = file?.metadata().and_then(|m| m.modified()) {
                    newest = newest.max(modified);
                }
            }
            if newest < before {
                stale.push(token);
            }
        }
        Ok(stale)
    }

    /// Bytes free on the file system under the root (0 when unknown).
    pub fn free_bytes(&self) -> u64 {
        let _ = std::fs::create_dir_all(&self.root);
        free_bytes_at(&self.root)
    }

    /// Deletes every file of `job_id` (nothing to delete is fine).
    pub fn remove_job_files(&self, job_id: i64) -> io::Result<()> {
        match std::fs::remove_dir_all(self.root.join("jobs").join(job_id.to_string())) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// A file name that stays in its directory: letters, digits, `.`, `_`, `-`.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl PartFile {
    /// Gives up the file: the part is removed, nothing becomes visible.
    pub fn discard(self) {
        drop(self.file);
        let _ = std::fs::remove_file(&self.part);
    }

    /// Flushes the file to disk and gives it its final name.
    pub fn commit(self) -> io::Result<PathBuf> {
        self.file.sync_all()?;
        drop(self.file);
        std::fs::rename(&self.part, &self.done)?;
        // The rename lives in the directory: without its fsync a power cut
        // can lose the file that a job already reported done.
        if let Some(dir) = self.done.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(self.done)
    }
}

impl Write for PartFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl io::Seek for PartFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// Bytes free for us on the file system holding `dir`; unknown counts as
/// none, so that nothing is written blind.
pub fn free_bytes_at(dir: &Path) -> u64 {
    match rustix::fs::statvfs(dir) {
        Ok(stats) => stats.f_bavail.saturating_mul(stats.f_frsize),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_job_directory() {
        let files = FileStore::new("/srv/cassa/files");
        assert_eq!(
            files.job_file(7, "avvisi-01199250158-7.zip"),
            Some(PathBuf::from(
                "/srv/cassa/files/jobs/7/avvisi-01199250158-7.zip"
            ))
        );
        for bad in ["", "../x", ".hidden", "a/b", "a\\b", "x y"] {
            assert_eq!(files.job_file(7, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::new(dir.path());
        let mut part = files.create(3, "out.zip").unwrap();
        part.write_all(b"hello").unwrap();
        let done = files.job_file(3, "out.zip").unwrap();
        assert!(!done.exists());
        assert_eq!(part.commit().unwrap(), done);
        assert_eq!(std::fs::read(&done).unwrap(), b"hello");
        // A second attempt starts from nothing.
        let part = files.create(3, "out.zip").unwrap();
        part.commit().unwrap();
        assert_eq!(std::fs::read(&done).unwrap(), b"");
    }
}
