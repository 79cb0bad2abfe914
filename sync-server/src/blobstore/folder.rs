//! Blobs in a local folder (the default): `<root>/<2 hex>/<64 hex>`, uploads in progress in
//! `<root>/partial/<device key>/<sha256>`.
//!
//! A chunk is appended whole or not at all and fsync'd before it is acknowledged. When the
//! upload is complete the whole file is hashed again: if it is the named SHA-256 it is
//! fsync'd, renamed atomically into place (or, if the server already holds the blob, deleted:
//! the stored file is never rewritten) and both folders are fsync'd. Otherwise the partial
//! file is deleted. Concurrent requests for one digest are serialised by a lock taken only
//! around the file operations (on a blocking thread), never while a body is read from the
//! network; each write re-checks the received length under it.

use super::{Appended, BlobBytes, BlobStoreError, BlobStoreResult, UploadKey};
use app_core::evidence::Sha256Hex;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Folder (under the blob root) of uploads in progress, one sub-folder per device.
const PARTIAL: &str = "partial";

/// Read size when hashing a completed upload.
const HASH_CHUNK: usize = 256 * 1024;

/// The local-folder blob store.
#[derive(Debug)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn final_path(&self, sha: &Sha256Hex) -> PathBuf {
        app_core::evidence::blob_layout::path(&self.root, sha)
    }

    /// This device's partial upload.
    pub fn partial_path(&self, upload: &UploadKey) -> PathBuf {
        self.root
            .join(PARTIAL)
            .join(upload.device_key())
            .join(upload.sha().as_str())
    }

    /// See [`super::Blobs::sweep_abandoned`]: partial files not written for `max_age`.
    pub(super) async fn sweep_abandoned(
        &self,
        max_age: std::time::Duration,
    ) -> BlobStoreResult<super::Swept> {
        let partial = self.root.join(PARTIAL);
        blocking(move || {
            let mut swept = super::Swept::default();
            let devices = match fs::read_dir(&partial) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(swept),
                Err(e) => return Err(io_error("list", &partial, e)),
            };
            for device in devices {
                let device = device.map_err(|e| io_error("list", &partial, e))?.path();
                let Ok(uploads) = fs::read_dir(&device) else {
                    continue;
                };
                for upload in uploads.flatten() {
                    let path = upload.path();
                    let Some(sha) = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| Sha256Hex::parse(n).ok())
                    else {
                        continue;
                    };
                    // Under the digest's lock: an append in progress is never cut off.
                    let _lock = lock_for(&sha);
                    let Ok(meta) = fs::metadata(&path) else {
                        continue;
                    };
                    let idle = meta
                        .modified()
                        .ok()
                        .and_then(|m| m.elapsed().ok())
                        .unwrap_or_default();
                    if meta.is_file() && idle >= max_age {
                        fs::remove_file(&path).map_err(|e| io_error("delete", &path, e))?;
                        swept.uploads += 1;
                        swept.bytes += meta.len();
                    }
                }
            }
            Ok(swept)
        })
        .await
    }

    /// Creates the folder if missing and checks that it is one.
    pub(super) async fn check(&self) -> Result<(), String> {
        let root = self.root.clone();
        blocking(move || {
            fs::create_dir_all(&root).map_err(|e| {
                BlobStoreError::Io(format!(
                    "the blob folder {} cannot be created: {e}",
                    root.display()
                ))
            })
        })
        .await
        .map_err(|e| e.to_string())
    }

    pub(super) fn read_now(&self, sha: &Sha256Hex) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.final_path(sha)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Folder {
    pub(super) async fn size(&self, sha: &Sha256Hex) -> BlobStoreResult<Option<u64>> {
        let path = self.final_path(sha);
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read the size of", &path, e)),
        }
    }

    /// Bytes `start..end` of the blob, read from the file in 64 KiB pieces as the client
    /// takes them.
    pub(super) async fn body(
        &self,
        sha: &Sha256Hex,
        start: u64,
        end: u64,
    ) -> BlobStoreResult<Option<axum::body::Body>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let path = self.final_path(sha);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("open", &path, e)),
        };
        if start > 0 {
            file.seek(io::SeekFrom::Start(start))
                .await
                .map_err(|e| io_error("seek in", &path, e))?;
        }
        let part = file.take(end.saturating_sub(start));
        let stream = tokio_util::io::ReaderStream::with_capacity(part, BODY_PIECE);
        Ok(Some(axum::body::Body::from_stream(stream)))
    }
}

/// Size of the pieces a blob is streamed in.
const BODY_PIECE: usize = 64 * 1024;

impl BlobBytes for Folder {
    async fn received(&self, upload: &UploadKey) -> BlobStoreResult<u64> {
        let path = self.partial_path(upload);
        blocking(move || partial_len(&path)).await
    }

    async fn append(
        &self,
        upload: &UploadKey,
        held: bool,
        offset: u64,
        total: u64,
        body: Bytes,
    ) -> BlobStoreResult<Appended> {
        let (root, partial, sha) = (
            self.root.clone(),
            self.partial_path(upload),
            upload.sha().clone(),
        );
        blocking(move || append_chunk(&root, &sha, &partial, held, offset, total, &body)).await
    }

    async fn read(&self, sha: &Sha256Hex) -> BlobStoreResult<Option<Bytes>> {
        let path = self.final_path(sha);
        blocking(move || match fs::read(&path) {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path, e)),
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> BlobStoreResult<T> + Send + 'static,
) -> BlobStoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BlobStoreError::Io(format!("blob task failed: {e}")))?
}

fn io_error(action: &str, path: &Path, e: io::Error) -> BlobStoreError {
    BlobStoreError::Io(format!("could not {action} {}: {e}", path.display()))
}

/// Striped locks for the file operations of one digest. They are taken only on blocking
/// threads and never across network I/O.
static STRIPES: [Mutex<()>; 64] = [const { Mutex::new(()) }; 64];

fn lock_for(sha: &Sha256Hex) -> MutexGuard<'static, ()> {
    let n = usize::from_str_radix(&sha.as_str()[..2], 16).unwrap_or(0);
    // The lock guards no data: a panic while holding it leaves nothing to repair.
    STRIPES[n % STRIPES.len()]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Makes a folder's entries durable (Unix); elsewhere the rename is still atomic.
fn sync_dir(dir: &Path) -> BlobStoreResult<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync the folder", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates `dir` (and makes its name durable in its parent) if missing.
fn ensure_dir(dir: &Path) -> BlobStoreResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    match fs::create_dir_all(dir) {
        Ok(()) => sync_dir(dir.parent().unwrap_or(dir)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error("create the folder", dir, e)),
    }
}

fn partial_len(path: &Path) -> BlobStoreResult<u64> {
    match fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_error("read the size of", path, e)),
    }
}

/// Appends `body` at `offset` to `partial` and, if that completes the blob, verifies and
/// installs it. Runs on a blocking thread under the digest's lock.
fn append_chunk(
    root: &Path,
    sha: &Sha256Hex,
    partial: &Path,
    held: bool,
    offset: u64,
    total: u64,
    body: &[u8],
) -> BlobStoreResult<Appended> {
    let _guard = lock_for(sha);
    let partial_dir = partial.parent().unwrap_or(root);
    ensure_dir(partial_dir.parent().unwrap_or(root))?;
    ensure_dir(partial_dir)?;
    let received = partial_len(partial)?;
    if received != offset {
        return Err(BlobStoreError::Offset { offset, received });
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)
        .map_err(|e| io_error("open", partial, e))?;
    if !body.is_empty() {
        let written = file.write_all(body).and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Leave exactly the bytes acknowledged before: a torn append must not count.
            let _ = file.set_len(offset);
            return Err(io_error("append to", partial, e));
        }
    }
    let received = offset + body.len() as u64;
    if received < total {
        return Ok(Appended::Partial(received));
    }
    drop(file);
    install(root, sha, partial, held)?;
    Ok(Appended::Complete)
}

/// Verifies a complete partial file and renames it into place, durably; if the server
/// already holds the blob (`held`) the verified partial file is removed instead and the
/// stored file is left as it is. On a mismatch the partial file is deleted.
fn install(root: &Path, sha: &Sha256Hex, partial: &Path, held: bool) -> BlobStoreResult<()> {
    let mut file = File::open(partial).map_err(|e| io_error("open", partial, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error("read", partial, e)),
        }
    }
    let found = Sha256Hex::from_digest(&hasher.finalize());
    let partial_dir = partial.parent().unwrap_or(root);
    if &found != sha {
        fs::remove_file(partial).map_err(|e| io_error("remove", partial, e))?;
        sync_dir(partial_dir)?;
        return Err(BlobStoreError::HashMismatch {
            expected: sha.to_string(),
            found: found.to_string(),
        });
    }
    if held {
        drop(file);
        fs::remove_file(partial).map_err(|e| io_error("remove", partial, e))?;
        sync_dir(partial_dir)?;
        return Ok(());
    }
    file.sync_all().map_err(|e| io_error("sync", partial, e))?;
    drop(file);
    let target = app_core::evidence::blob_layout::path(root, sha);
    let shard = target.parent().unwrap_or(root);
    ensure_dir(shard)?;
    fs::rename(partial, &target).map_err(|e| io_error("rename", partial, e))?;
    sync_dir(shard)?;
    sync_dir(partial_dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::ids::DeviceId;

    #[test]
    fn partial_uploads_are_kept_per_device_under_safe_names() {
        let folder = Folder::new("/blobs".into());
        let sha = Sha256Hex::of(b"x");
        let a = folder.partial_path(&UploadKey::new(&DeviceId::new("../../etc"), &sha));
        let b = folder.partial_path(&UploadKey::new(&DeviceId::new("tablet-2"), &sha));
        assert_ne!(a, b);
        for p in [&a, &b] {
            assert!(p.starts_with("/blobs/partial"), "{}", p.display());
            assert_eq!(p.components().count(), 5, "{}", p.display());
            assert!(p.ends_with(sha.as_str()));
        }
    }
}
