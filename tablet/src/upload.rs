//! Photo originals between the tablet and the server, as content-addressed blobs.
//!
//! **Upload.** The photos to send are the originals the records refer to
//! ([`Store::pending_uploads`]) that are on this tablet and that the server is not yet known
//! to hold. For each one the client first asks `GET /api/v1/blobs/{sha}/status`: if the
//! server holds it, it is marked uploaded and nothing is sent; otherwise the client sends
//! the bytes from the server's `received` on, in chunks (`PUT ...?offset=&total=`, 256 KiB by
//! default), each acknowledged durably by the server before the next. A connection that
//! breaks therefore costs at most the chunk in flight: after an error the client waits (with
//! back-off), asks the status again and resumes where the server is — bytes the server
//! confirmed are never sent again. A 409 answer carries the server's offset and is followed
//! at once. Before sending, the local original is hashed again; a damaged original is
//! reported, never sent, and never altered or deleted.
//!
//! **Download.** Photos of records made on other tablets are fetched with
//! `GET /api/v1/blobs/{sha}`; the bytes are hashed before they are stored, and a mismatch
//! stores nothing.
//!
//! The store lock is taken only to read the pending list and to mark a blob uploaded, never
//! during network I/O, so capture goes on while photos travel.

use crate::blobs::{BlobError, BlobStore, sha256_file};
use crate::store::{Store, StoreError};
use app_core::evidence::Sha256Hex;
use app_core::wire::http::ErrorBody;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Bytes per `PUT`: an interruption loses at most this much.
pub const DEFAULT_CHUNK_BYTES: usize = 256 * 1024;

/// Bytes per `PUT` for a blob of more than [`LARGE_BLOB_BYTES`] (audio and video): a 1 GB
/// recording in 256 requests rather than 4,096 (each is fsync'd by the server), an
/// interruption still costs at most 4 MiB, and the client holds two such buffers at most.
pub const LARGE_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// How long one download may take (a photo takes seconds; a recording of GB minutes).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

/// Blobs larger than this are sent in [`LARGE_CHUNK_BYTES`].
pub const LARGE_BLOB_BYTES: u64 = 16 * 1024 * 1024;

const OCTET_STREAM: &str = "application/octet-stream";

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("network: {0}")]
    Network(reqwest::Error),
    /// The tablet would not talk to the server (see [`crate::tls`]): nothing was sent.
    #[error(transparent)]
    Refused(#[from] app_core::messages::ConnectionRefusal),
    #[error("server answered {status} ({code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("bad answer from the server: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("could not read the original {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the server has no photo {0} that this user may read")]
    NotFound(Sha256Hex),
    #[error("the download broke off: {0}")]
    Interrupted(io::Error),
    #[error("photo {expected}: the bytes received hash to {found}; nothing was stored")]
    Mismatch {
        expected: Sha256Hex,
        found: Sha256Hex,
    },
}

/// A certificate refused during the handshake becomes [`TransferError::Refused`].
impl From<reqwest::Error> for TransferError {
    fn from(e: reqwest::Error) -> Self {
        match crate::tls::refusal_of(&e) {
            Some(r) => TransferError::Refused(r),
            None => TransferError::Network(e),
        }
    }
}

impl TransferError {
    /// Worth trying again (network down, server restarting, bytes damaged on the way), as
    /// opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            TransferError::Network(_)
            | TransferError::Mismatch { .. }
            | TransferError::Interrupted(_) => true,
            TransferError::Server { status, .. } => {
                *status >= 500 || matches!(*status, 408 | 409 | 422 | 429)
            }
            _ => false,
        }
    }

    /// The sign-in is no longer valid: nothing else will work until the user signs in.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, TransferError::Server { status: 401, .. })
    }
}

/// What the server says about one blob (declared with the other HTTP messages in app-core).
pub use app_core::wire::http::BlobStatus;

/// The upload's progress and report, as the screens read them (declared once, in tablet-api).
pub use tablet_api::{UploadFailure, UploadProgress, UploadReport};

/// What one download run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadReport {
    pub downloaded: u32,
    pub bytes_received: u64,
    /// Referred to by a record, but the server has no copy (yet) this user may read.
    pub not_available: u32,
    pub failed: Vec<UploadFailure>,
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

/// A failed answer: the error, and the server's offset if it gave one (409).
fn server_error(resp: reqwest::blocking::Response) -> (TransferError, Option<u64>) {
    let status = resp.status().as_u16();
    match resp.json::<ErrorBody>() {
        Ok(b) => (
            TransferError::Server {
                status,
                code: b.error.code,
                message: b.error.message,
            },
            b.received,
        ),
        Err(_) => (
            TransferError::Server {
                status,
                code: "unknown".into(),
                message: format!("HTTP {status}"),
            },
            None,
        ),
    }
}

/// How one photo's upload ended.
enum Outcome {
    Sent,
    AlreadyHeld,
}

/// Running totals of one upload run.
struct Run<'a, F: FnMut(UploadProgress)> {
    report: UploadReport,
    progress: UploadProgress,
    notify: &'a mut F,
}

impl<F: FnMut(UploadProgress)> Run<'_, F> {
    fn sent(&mut self, n: u64) {
        self.report.bytes_sent += n;
        self.progress.bytes_sent += n;
    }

    fn notify(&mut self) {
        (self.notify)(self.progress.clone());
    }
}

/// The blob client: the server's address, the session token, and the transfer settings.
#[derive(Debug, Clone)]
pub struct BlobClient {
    base: String,
    token: String,
    http: Result<reqwest::blocking::Client, app_core::messages::ConnectionRefusal>,
    chunk: usize,
    large_chunk: usize,
    attempts: u32,
    backoff: Duration,
    max_backoff: Duration,
}

impl BlobClient {
    pub fn new(server: impl Into<crate::tls::Server>, token: impl Into<String>) -> Self {
        let server: crate::tls::Server = server.into();
        Self {
            base: server.url.clone(),
            token: token.into(),
            http: crate::tls::client(
                &server,
                Duration::from_secs(5),
                Some(Duration::from_secs(60)),
            ),
            chunk: DEFAULT_CHUNK_BYTES,
            large_chunk: LARGE_CHUNK_BYTES,
            attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }

    /// Bytes per `PUT` (at least 1), for photos and recordings alike.
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self.large_chunk = self.chunk;
        self
    }

    /// Bytes per `PUT` for blobs over [`LARGE_BLOB_BYTES`] only (at least 1).
    pub fn with_large_chunk_size(mut self, bytes: usize) -> Self {
        self.large_chunk = bytes.max(1);
        self
    }

    fn chunk_for(&self, size: u64) -> usize {
        if size > LARGE_BLOB_BYTES {
            self.large_chunk
        } else {
            self.chunk
        }
    }

    /// How many attempts one photo gets per run, and the first wait between them (doubled
    /// after each failure, up to `max_backoff`).
    pub fn with_retries(mut self, attempts: u32, backoff: Duration, max_backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self.max_backoff = max_backoff.max(backoff);
        self
    }

    fn http(&self) -> Result<&reqwest::blocking::Client, TransferError> {
        self.http
            .as_ref()
            .map_err(|e| TransferError::Refused(e.clone()))
    }

    fn url(&self, sha: &Sha256Hex) -> String {
        format!("{}/api/v1/blobs/{sha}", self.base)
    }

    /// Whether the server holds `sha`, and how many bytes of an unfinished upload it has.
    pub fn status(&self, sha: &Sha256Hex) -> Result<BlobStatus, TransferError> {
        let resp = self
            .http()?
            .get(format!("{}/status", self.url(sha)))
            .bearer_auth(&self.token)
            .send()?;
        if !resp.status().is_success() {
            return Err(server_error(resp).0);
        }
        resp.json::<BlobStatus>()
            .map_err(|e| TransferError::Protocol(format!("blob status: {e}")))
    }

    /// Uploads every pending original on this tablet that the server lacks. A photo that
    /// fails after all its attempts is reported in [`UploadReport::failed`] and stays
    /// pending; an invalid sign-in stops the run with an error.
    pub fn upload_pending(
        &self,
        store: &Mutex<Store>,
        blobs: &BlobStore,
        mut progress: impl FnMut(UploadProgress),
    ) -> Result<UploadReport, TransferError> {
        let pending = store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pending_uploads()?;
        let mut report = UploadReport::default();
        let mut todo = Vec::new();
        for sha in pending {
            let path = blobs.path(&sha);
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => todo.push((sha, path, m.len())),
                _ => report.not_on_tablet += 1,
            }
        }
        let mut run = Run {
            progress: UploadProgress {
                photos_total: todo.len() as u32,
                photos_pending: todo.len() as u32,
                bytes_total: todo.iter().map(|(_, _, n)| n).sum(),
                ..UploadProgress::default()
            },
            report,
            notify: &mut progress,
        };
        run.notify();
        for (sha, path, size) in todo {
            run.progress.current = Some(sha.clone());
            let done_before = run.progress.bytes_done;
            let outcome = self.upload_with_retries(&sha, &path, size, done_before, &mut run)?;
            match outcome {
                Ok(o) => {
                    match o {
                        Outcome::Sent => run.report.uploaded += 1,
                        Outcome::AlreadyHeld => run.report.already_held += 1,
                    }
                    store
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .mark_uploaded(&sha)?;
                    run.progress.bytes_done = done_before + size;
                }
                Err(e) => {
                    run.progress.bytes_done = done_before;
                    run.report.failed.push(UploadFailure {
                        sha256: sha.clone(),
                        error: e.to_string(),
                    });
                }
            }
            run.progress.photos_done += 1;
            run.progress.photos_pending -= 1;
            run.progress.current = None;
            run.notify();
        }
        Ok(run.report)
    }

    /// Uploads one blob of this tablet (a recording: [`crate::media`]) that the server may
    /// lack, resuming from what the server has, with the same retries as
    /// [`upload_pending`](Self::upload_pending). The file is read a chunk at a time (it is
    /// hashed once more before it is sent, and never held whole in memory). The caller marks
    /// it uploaded in its store when the report says so.
    pub fn upload_blob(
        &self,
        sha: &Sha256Hex,
        blobs: &BlobStore,
        mut progress: impl FnMut(UploadProgress),
    ) -> Result<UploadReport, TransferError> {
        let path = blobs.path(sha);
        let size = std::fs::metadata(&path)
            .map_err(|source| TransferError::Read {
                path: path.clone(),
                source,
            })?
            .len();
        let mut run = Run {
            progress: UploadProgress {
                photos_total: 1,
                photos_pending: 1,
                bytes_total: size,
                current: Some(sha.clone()),
                ..UploadProgress::default()
            },
            report: UploadReport::default(),
            notify: &mut progress,
        };
        run.notify();
        match self.upload_with_retries(sha, &path, size, 0, &mut run)? {
            Ok(Outcome::Sent) => run.report.uploaded += 1,
            Ok(Outcome::AlreadyHeld) => run.report.already_held += 1,
            Err(e) => run.report.failed.push(UploadFailure {
                sha256: sha.clone(),
                error: e.to_string(),
            }),
        }
        run.progress.photos_done = 1;
        run.progress.photos_pending = 0;
        run.progress.current = None;
        run.notify();
        Ok(run.report)
    }

    /// One blob with its attempts: the outer error stops the whole run (sign-in no longer
    /// valid), the inner one is this blob's failure after its last attempt.
    fn upload_with_retries<F: FnMut(UploadProgress)>(
        &self,
        sha: &Sha256Hex,
        path: &std::path::Path,
        size: u64,
        done_before: u64,
        run: &mut Run<'_, F>,
    ) -> Result<Result<Outcome, TransferError>, TransferError> {
        let mut wait = self.backoff;
        let mut attempt = 1;
        let mut verified = false;
        loop {
            match self.upload_one(sha, path, size, done_before, &mut verified, run) {
                Ok(o) => return Ok(Ok(o)),
                Err(e) if e.is_unauthorized() => return Err(e),
                Err(e) if e.is_transient() && attempt < self.attempts => {
                    run.report.retries += 1;
                    attempt += 1;
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(self.max_backoff);
                }
                Err(e) => return Ok(Err(e)),
            }
        }
    }

    /// One attempt at one photo: ask where the server is, then send the rest.
    fn upload_one<F: FnMut(UploadProgress)>(
        &self,
        sha: &Sha256Hex,
        path: &std::path::Path,
        size: u64,
        base_done: u64,
        verified: &mut bool,
        run: &mut Run<'_, F>,
    ) -> Result<Outcome, TransferError> {
        run.report.requests += 1;
        let status = self.status(sha)?;
        if status.held {
            return Ok(Outcome::AlreadyHeld);
        }
        if status.received > size {
            return Err(TransferError::Protocol(format!(
                "the server has {} bytes of {sha}, which has {size}",
                status.received
            )));
        }
        // The original must still be what its name says before it is sent as evidence.
        let read_err = |source| TransferError::Read {
            path: path.to_owned(),
            source,
        };
        // Once per run: a recording of several GB is not re-read at every retry.
        if !*verified {
            let (found, len) = sha256_file(path).map_err(read_err)?;
            if &found != sha || len != size {
                return Err(TransferError::Blob(BlobError::Mismatch {
                    expected: sha.clone(),
                    found,
                }));
            }
            *verified = true;
        }
        let mut file = File::open(path).map_err(read_err)?;
        let mut confirmed = status.received;
        run.report.bytes_resumed += confirmed;
        run.progress.bytes_done = base_done + confirmed;
        run.notify();
        let mut stalls = 0;
        let chunk = self.chunk_for(size);
        let mut buf = vec![0u8; chunk.min(size.max(1) as usize)];
        loop {
            let len = (size - confirmed).min(buf.len() as u64) as usize;
            file.seek(SeekFrom::Start(confirmed)).map_err(read_err)?;
            file.read_exact(&mut buf[..len]).map_err(read_err)?;
            run.report.requests += 1;
            run.sent(len as u64);
            let resp = self
                .http()?
                .put(format!("{}?offset={confirmed}&total={size}", self.url(sha)))
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, OCTET_STREAM)
                .body(buf[..len].to_vec())
                .send();
            let resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    // Whatever part of this chunk arrived was discarded by the server.
                    run.progress.bytes_done = base_done + confirmed;
                    return Err(e.into());
                }
            };
            if resp.status().is_success() {
                let status: BlobStatus = resp
                    .json()
                    .map_err(|e| TransferError::Protocol(format!("blob chunk answer: {e}")))?;
                if status.held {
                    run.progress.bytes_done = base_done + size;
                    run.notify();
                    return Ok(Outcome::Sent);
                }
                if (status.received <= confirmed && len > 0) || status.received > size {
                    return Err(TransferError::Protocol(format!(
                        "the server confirmed {} bytes of {sha} after {confirmed} + {len}",
                        status.received
                    )));
                }
                confirmed = status.received;
                stalls = 0;
            } else {
                let (err, received) = server_error(resp);
                match (err, received) {
                    // Someone (an earlier, cut request) moved the offset: follow the server.
                    (TransferError::Server { status: 409, .. }, Some(received))
                        if received <= size && stalls < 3 =>
                    {
                        confirmed = received;
                        stalls += 1;
                    }
                    (err, _) => return Err(err),
                }
            }
            run.progress.bytes_done = base_done + confirmed;
            run.notify();
        }
    }

    /// Fetches photo `sha` into `blobs`, checking its hash first. Returns whether it was
    /// stored now (`false`: the tablet already had it, nothing was fetched).
    pub fn download(&self, sha: &Sha256Hex, blobs: &BlobStore) -> Result<bool, TransferError> {
        Ok(self.fetch(sha, blobs)?.is_some())
    }

    /// The bytes fetched, or `None` if the tablet already had the photo.
    fn fetch(&self, sha: &Sha256Hex, blobs: &BlobStore) -> Result<Option<u64>, TransferError> {
        if blobs.contains(sha) {
            return Ok(None);
        }
        // The client's 60 s limit covers a whole request; a recording of several GB takes
        // longer to arrive, so a download gets an hour.
        let resp = self
            .http()?
            .get(self.url(sha))
            .bearer_auth(&self.token)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(TransferError::NotFound(sha.clone()));
        }
        if !resp.status().is_success() {
            return Err(server_error(resp).0);
        }
        // Streamed into the store through a fixed buffer and hashed on the way (a recording
        // is never held whole in memory); bytes that do not hash to the name are not kept.
        let mut counting = CountingReader { inner: resp, n: 0 };
        match blobs.put_reader_expecting(&mut counting, sha) {
            Ok(_) => Ok(Some(counting.n)),
            Err(BlobError::Mismatch { expected, found }) => {
                Err(TransferError::Mismatch { expected, found })
            }
            // The connection broke mid-body: worth another try.
            Err(BlobError::Input(e)) => Err(TransferError::Interrupted(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// Fetches every photo the records refer to that is not on this tablet (photos of
    /// records made on other tablets). Photos the server does not have (yet) are counted in
    /// [`DownloadReport::not_available`].
    pub fn download_missing(
        &self,
        store: &Mutex<Store>,
        blobs: &BlobStore,
    ) -> Result<DownloadReport, TransferError> {
        let wanted: Vec<Sha256Hex> = store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .referenced_photos()?
            .into_iter()
            .filter(|sha| !blobs.contains(sha))
            .collect();
        let mut report = DownloadReport::default();
        for sha in wanted {
            let mut wait = self.backoff;
            let mut attempt = 1;
            let result = loop {
                match self.fetch(&sha, blobs) {
                    Err(e) if e.is_unauthorized() => return Err(e),
                    Err(e) if e.is_transient() && attempt < self.attempts => {
                        attempt += 1;
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(self.max_backoff);
                    }
                    other => break other,
                }
            };
            match result {
                Ok(n) => {
                    report.downloaded += u32::from(n.is_some());
                    report.bytes_received += n.unwrap_or(0);
                    // The server holds it: never offer it for upload.
                    store
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .mark_uploaded(&sha)?;
                }
                Err(TransferError::NotFound(_)) => report.not_available += 1,
                Err(e) => report.failed.push(UploadFailure {
                    sha256: sha,
                    error: e.to_string(),
                }),
            }
        }
        Ok(report)
    }
}

/// Uploads every pending photo original (see [`BlobClient::upload_pending`]) with the
/// default settings: 256 KiB chunks, 5 attempts per photo.
pub fn upload_pending(
    base: &str,
    token: &str,
    store: &Mutex<Store>,
    blobs: &BlobStore,
    progress: impl FnMut(UploadProgress),
) -> Result<UploadReport, TransferError> {
    BlobClient::new(base, token).upload_pending(store, blobs, progress)
}

/// Fetches photo `sha` into `blobs` after checking its hash (see [`BlobClient::download`]).
pub fn download(
    base: &str,
    token: &str,
    sha: &Sha256Hex,
    blobs: &BlobStore,
) -> Result<bool, TransferError> {
    BlobClient::new(base, token).download(sha, blobs)
}
