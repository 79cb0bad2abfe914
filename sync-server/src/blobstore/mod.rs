//! The bytes of photo originals: one interface, [`BlobBytes`], over two stores.
//!
//! - [`Folder`] (the default): `<data>/blobs/<2 hex>/<64 hex>`, the layout of
//!   `app_core::evidence::blob_layout` that the tablet and the case-file export share; uploads
//!   in progress are files under `<data>/blobs/partial/<device key>/<sha256>`, appended to,
//!   fsync'd, and renamed into place after the hash check.
//! - [`S3`]: S3-compatible object storage (`blobs.store = "s3://bucket/prefix"`), for several
//!   server nodes sharing one store. The same layout under the prefix; an upload in progress
//!   is a staging area in the bucket, one object per acknowledged chunk
//!   (`<prefix>/partial/<device key>/<sha256>/<offset, 20 digits>`), so any node can answer
//!   how much arrived and take the next chunk: no upload progress lives in a process.
//!
//! Both keep the rules of `crate::blobs`: a chunk is acknowledged only once stored whole
//! (a cut connection loses at most that chunk); when the last byte arrives the whole upload is
//! hashed and only bytes that hash to their name ever appear under the blob's name (an
//! interrupted or wrong upload never leaves a visible blob); a blob's stored bytes are never
//! replaced by different ones.
//!
//! Which blobs the server *holds* (and who uploaded them) stays in the database
//! (`store::blobs`): its row is written after the bytes are in place, so a row always has its
//! bytes.

mod folder;
mod s3;

pub use folder::Folder;
pub use s3::{S3, S3Settings};

use app_core::evidence::Sha256Hex;
use app_core::ids::DeviceId;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Errors of the blob stores.
#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// The chunk's offset is not the number of bytes received from this device.
    #[error("offset {offset} does not match the {received} bytes received")]
    Offset { offset: u64, received: u64 },
    /// The complete upload does not hash to its name; it was discarded.
    #[error("the uploaded bytes hash to {found}, not {expected}; nothing was stored")]
    HashMismatch { expected: String, found: String },
    /// The store could not be read or written (the message names the file or object).
    #[error("{0}")]
    Io(String),
}

pub type BlobStoreResult<T> = Result<T, BlobStoreError>;

/// One device's upload of one blob: the staging area's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadKey {
    /// The device's key: the first 32 hex digits of the SHA-256 of its id (device ids are
    /// free text; this is always a safe, fixed-length name).
    device: String,
    sha: Sha256Hex,
}

impl UploadKey {
    pub fn new(device: &DeviceId, sha: &Sha256Hex) -> Self {
        let key = Sha256Hex::from_digest(&Sha256::digest(device.as_str().as_bytes()));
        Self {
            device: key.as_str()[..32].to_owned(),
            sha: sha.clone(),
        }
    }

    pub fn sha(&self) -> &Sha256Hex {
        &self.sha
    }

    pub fn device_key(&self) -> &str {
        &self.device
    }
}

/// What appending one chunk led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// More bytes are expected; this many are received.
    Partial(u64),
    /// The blob is complete, verified and in place.
    Complete,
}

/// The bytes of content-addressed blobs and the staging of resumable uploads.
pub trait BlobBytes {
    /// How many bytes of `upload` this device's unfinished upload holds (0: none).
    fn received(&self, upload: &UploadKey) -> impl Future<Output = BlobStoreResult<u64>> + Send;

    /// Appends `body` at `offset` to `upload` (which must hold exactly `offset` bytes, else
    /// [`BlobStoreError::Offset`]); if that makes `total` bytes, hashes the whole upload and,
    /// if it is the named blob, puts it in place (`held`: the server holds it already; then
    /// the upload is only verified and discarded). On a mismatch the upload is discarded and
    /// the answer is [`BlobStoreError::HashMismatch`].
    fn append(
        &self,
        upload: &UploadKey,
        held: bool,
        offset: u64,
        total: u64,
        body: Bytes,
    ) -> impl Future<Output = BlobStoreResult<Appended>> + Send;

    /// The bytes of blob `sha`, `None` if the store does not have it.
    fn read(&self, sha: &Sha256Hex) -> impl Future<Output = BlobStoreResult<Option<Bytes>>> + Send;
}

/// What [`Blobs::sweep_abandoned`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Abandoned uploads (one device's upload of one blob).
    pub uploads: u64,
    /// The bytes they held.
    pub bytes: u64,
}

/// How long an upload in progress may rest before [`Blobs::sweep_abandoned`] deletes it:
/// longer than a tablet stays offline on any trip.
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Sweeps abandoned uploads ([`Blobs::sweep_abandoned`]) at start and then every `every`,
/// until the runtime stops; what it deleted goes to the log.
pub fn sweep_periodically(
    blobs: Blobs,
    max_age: std::time::Duration,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    crate::periodically(every, move || {
        let blobs = blobs.clone();
        async move {
            match blobs.sweep_abandoned(max_age).await {
                Ok(s) if s.uploads > 0 => tracing::info!(
                    uploads = s.uploads,
                    bytes = s.bytes,
                    idle_days = max_age.as_secs() / 86_400,
                    "deleted abandoned uploads in progress"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeping abandoned uploads failed"),
            }
        }
    })
}

/// The blob store the server was configured with (cheap to clone).
#[derive(Debug, Clone)]
pub enum Blobs {
    Folder(Arc<Folder>),
    S3(Arc<S3>),
}

/// Where the blobs are kept, from the configuration (`blobs.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    Folder(PathBuf),
    S3(S3Settings),
}

impl std::fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobLocation::Folder(p) => write!(f, "the folder {}", p.display()),
            BlobLocation::S3(s) => write!(f, "{s}"),
        }
    }
}

impl Blobs {
    /// The local-folder store at `root` (created at [`Blobs::open`]).
    pub fn folder(root: impl Into<PathBuf>) -> Self {
        Blobs::Folder(Arc::new(Folder::new(root.into())))
    }

    /// Opens the store at `location` and checks that it can be listed and written (an S3
    /// store: the endpoint answers, the bucket exists, the credentials may write). Must be
    /// called inside a Tokio runtime (an S3 store keeps its handle for [`Blobs::read_blocking`]).
    /// The error is one English sentence naming the store and what failed.
    pub async fn open(location: &BlobLocation) -> Result<Self, String> {
        match location {
            BlobLocation::Folder(root) => {
                let folder = Folder::new(root.clone());
                folder.check().await?;
                Ok(Blobs::Folder(Arc::new(folder)))
            }
            BlobLocation::S3(settings) => {
                let s3 = S3::new(settings)?;
                s3.check().await?;
                Ok(Blobs::S3(Arc::new(s3)))
            }
        }
    }

    /// For logs: the folder, or the bucket and endpoint.
    pub fn describe(&self) -> String {
        match self {
            Blobs::Folder(f) => format!("folder {}", f.root().display()),
            Blobs::S3(s) => s.describe(),
        }
    }

    /// The folder, for the local store (admin backup and restore work on it).
    pub fn local_root(&self) -> Option<&Path> {
        match self {
            Blobs::Folder(f) => Some(f.root()),
            Blobs::S3(_) => None,
        }
    }

    /// Deletes the uploads in progress that nothing has been added to for `max_age` (a tablet
    /// lost or wiped mid-upload leaves its chunks behind; a tablet that comes back later
    /// starts that upload again from its original, which it keeps until the server holds it).
    /// Finished blobs are never touched. Safe on several nodes at once: each deletion is of
    /// objects no one wrote to for `max_age`.
    pub async fn sweep_abandoned(&self, max_age: std::time::Duration) -> BlobStoreResult<Swept> {
        match self {
            Blobs::Folder(f) => f.sweep_abandoned(max_age).await,
            Blobs::S3(s) => s.sweep_abandoned(max_age).await,
        }
    }

    /// The size of blob `sha`, `None` if the store does not have it.
    pub async fn size(&self, sha: &Sha256Hex) -> BlobStoreResult<Option<u64>> {
        match self {
            Blobs::Folder(f) => f.size(sha).await,
            Blobs::S3(s) => s.size(sha).await,
        }
    }

    /// Bytes `start..end` of blob `sha` as a response body, streamed from the file or object
    /// in small pieces (a video of several GB is never held in memory); `None` if the store
    /// does not have it. The caller checks `start <= end <= size`.
    pub async fn body(
        &self,
        sha: &Sha256Hex,
        start: u64,
        end: u64,
    ) -> BlobStoreResult<Option<axum::body::Body>> {
        match self {
            Blobs::Folder(f) => f.body(sha, start, end).await,
            Blobs::S3(s) => s.body(sha, start, end).await,
        }
    }

    /// The first bytes of blob `sha` (at most `n`; fewer if it is shorter), to tell its
    /// content type; empty if the store does not have it.
    pub async fn head(&self, sha: &Sha256Hex, n: u64) -> BlobStoreResult<Vec<u8>> {
        let Some(size) = self.size(sha).await? else {
            return Ok(Vec::new());
        };
        let Some(body) = self.body(sha, 0, n.min(size)).await? else {
            return Ok(Vec::new());
        };
        axum::body::to_bytes(body, n as usize)
            .await
            .map(|b| b.to_vec())
            .map_err(|e| BlobStoreError::Io(format!("could not read the start of {sha}: {e}")))
    }

    /// A reader over blob `sha` for code on a blocking thread (never call it from async
    /// code): the file, or for S3 ranged `GET`s of [`READ_PIECE`] one after another, so a
    /// recording of several GB is read with a few MiB of memory. `None` if the store does not
    /// have it.
    pub fn reader_blocking(&self, sha: &Sha256Hex) -> io::Result<Option<Box<dyn io::Read + '_>>> {
        match self {
            Blobs::Folder(f) => {
                match std::fs::File::open(app_core::evidence::blob_layout::path(f.root(), sha)) {
                    Ok(file) => Ok(Some(Box::new(file))),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Blobs::S3(s) => {
                let Some(size) = s.block_on(s.size(sha)).map_err(io::Error::other)? else {
                    return Ok(None);
                };
                Ok(Some(Box::new(RangeReader {
                    s3: s,
                    sha: sha.clone(),
                    size,
                    at: 0,
                    piece: Bytes::new(),
                })))
            }
        }
    }

    /// Keeps the finished case file of console export job `job`, written at `path` in the
    /// data folder of the node that ran it, where every node finds it: in the bucket for S3
    /// (several nodes; the local file is then removed). A folder store serves one node, and
    /// the file stays where it is. For the export's blocking thread.
    pub fn keep_case_file_blocking(&self, job: &str, path: &Path) -> io::Result<()> {
        match self {
            Blobs::Folder(_) => Ok(()),
            Blobs::S3(s) => {
                s.block_on(s.put_case_file(job, path))
                    .map_err(io::Error::other)?;
                if let Err(e) = std::fs::remove_file(path) {
                    tracing::warn!(job, path = %path.display(), error = %e, "could not remove the local copy of a case file kept in the bucket");
                }
                Ok(())
            }
        }
    }

    /// The case file of export job `job` as [`Blobs::keep_case_file_blocking`] kept it: its
    /// size and its bytes, streamed. `None`: not in this store (a folder store: the file is in
    /// the data folder).
    pub async fn case_file(&self, job: &str) -> BlobStoreResult<Option<(u64, axum::body::Body)>> {
        match self {
            Blobs::Folder(_) => Ok(None),
            Blobs::S3(s) => s.case_file(job).await,
        }
    }

    /// [`BlobBytes::read`] for code on a blocking thread (the database's, a case-file
    /// export's): never call it from async code.
    pub fn read_blocking(&self, sha: &Sha256Hex) -> io::Result<Option<Vec<u8>>> {
        match self {
            Blobs::Folder(f) => f.read_now(sha),
            Blobs::S3(s) => s
                .block_on(s.read(sha))
                .map(|b| b.map(|b| b.to_vec()))
                .map_err(io::Error::other),
        }
    }
}

impl BlobBytes for Blobs {
    async fn received(&self, upload: &UploadKey) -> BlobStoreResult<u64> {
        match self {
            Blobs::Folder(f) => f.received(upload).await,
            Blobs::S3(s) => s.received(upload).await,
        }
    }

    async fn append(
        &self,
        upload: &UploadKey,
        held: bool,
        offset: u64,
        total: u64,
        body: Bytes,
    ) -> BlobStoreResult<Appended> {
        match self {
            Blobs::Folder(f) => f.append(upload, held, offset, total, body).await,
            Blobs::S3(s) => s.append(upload, held, offset, total, body).await,
        }
    }

    async fn read(&self, sha: &Sha256Hex) -> BlobStoreResult<Option<Bytes>> {
        match self {
            Blobs::Folder(f) => f.read(sha).await,
            Blobs::S3(s) => s.read(sha).await,
        }
    }
}

/// Size of the ranged reads of [`Blobs::reader_blocking`] from S3.
pub const READ_PIECE: u64 = 8 << 20;

/// Reads an S3 blob in ranged `GET`s of [`READ_PIECE`], on a blocking thread.
struct RangeReader<'a> {
    s3: &'a S3,
    sha: Sha256Hex,
    size: u64,
    /// Offset of the end of `piece` in the blob.
    at: u64,
    piece: Bytes,
}

impl io::Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.piece.is_empty() {
            if self.at >= self.size {
                return Ok(0);
            }
            let end = (self.at + READ_PIECE).min(self.size);
            self.piece = self
                .s3
                .block_on(self.s3.range(&self.sha, self.at, end))
                .map_err(io::Error::other)?;
            if self.piece.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "blob {} ended at {} of {} bytes",
                        self.sha, self.at, self.size
                    ),
                ));
            }
            self.at += self.piece.len() as u64;
        }
        let n = buf.len().min(self.piece.len());
        buf[..n].copy_from_slice(&self.piece.split_to(n));
        Ok(n)
    }
}

/// The case-file export reads photo originals and recordings through the same store (on its
/// blocking thread), streamed: from the folder as before (`casefile::BlobDir`), from S3 by
/// ranges.
impl casefile::PhotoSource for Blobs {
    fn size(&self, sha: &Sha256Hex) -> io::Result<u64> {
        match self {
            Blobs::Folder(f) => casefile::BlobDir(f.root().to_owned()).size(sha),
            Blobs::S3(s) => s
                .block_on(s.size(sha))
                .map_err(io::Error::other)?
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("blob {sha} is not in {}", self.describe()),
                    )
                }),
        }
    }

    fn open(&self, sha: &Sha256Hex) -> io::Result<Box<dyn io::Read + '_>> {
        // Streamed: from the file, as `casefile::BlobDir` does, or by ranges from S3.
        self.reader_blocking(sha)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("blob {sha} is not in the {}", self.describe()),
            )
        })
    }
}

/// The SHA-256 of chunks hashed in order.
fn digest_of<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Sha256Hex {
    let mut hasher = Sha256::new();
    for c in chunks {
        hasher.update(c);
    }
    Sha256Hex::from_digest(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_are_safe_fixed_length_names_per_device() {
        let sha = Sha256Hex::of(b"x");
        let a = UploadKey::new(&DeviceId::new("../../etc"), &sha);
        let b = UploadKey::new(&DeviceId::new("tablet-2"), &sha);
        assert_ne!(a.device_key(), b.device_key());
        for k in [&a, &b] {
            assert_eq!(k.device_key().len(), 32);
            assert!(k.device_key().bytes().all(|c| c.is_ascii_hexdigit()));
        }
    }
}
