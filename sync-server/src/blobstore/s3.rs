//! Blobs in S3-compatible object storage (MinIO, Ceph's RGW, the clouds' object stores),
//! through Apache Arrow's `object_store` crate.
//!
//! Layout under the configured prefix: `<2 hex>/<64 hex>` for a blob (the folder's layout),
//! `partial/<device key>/<sha256>/<offset>` for one acknowledged chunk of an upload in
//! progress (`offset` in 20 decimal digits, so names sort by offset), `casefiles/<job>.zip`
//! for a case file the console exported (so that every node serves it, see
//! `service::casefiles`).
//!
//! - **How much arrived** is read from the bucket, not from a process: a listing of the
//!   upload's staging prefix, walking the chunks from offset 0, each starting where the one
//!   before ended. So an upload begun through one node finishes through another, and survives
//!   any node's restart. (A chunk is one `PUT`: S3 stores it whole or not at all.) A chunk
//!   left over by a race between two nodes (the same device retrying through both) is not on
//!   the walk and is ignored, then deleted with the rest.
//! - **Completing**: the chunks on the walk are read in order and hashed; only if the bytes
//!   are the named SHA-256 is the blob `PUT` under its name (one atomic `PUT`: S3 never shows
//!   a partial object). A blob already there is not written again. Then the staging objects
//!   are deleted. On a mismatch they are deleted and nothing is written.
//! - **Large blobs** (recordings, over [`SINGLE_PUT_MAX`]) are not gathered in memory for one
//!   `PUT`: the staged chunks are read one at a time, hashed, and passed on to a multipart
//!   upload under the blob's name in parts of [`PART`] (at most two in flight), so memory stays
//!   at a few parts whatever the size. A multipart upload is invisible until it is completed,
//!   and it is completed only if the bytes hashed to the name; otherwise it is aborted.
//!
//! Multipart uploads do not fit the tablet's chunks themselves (parts must be at least
//! 5 MiB, the tablet sends 256 KiB to 8 MiB, and a chunk must be acknowledged durably on its
//! own); they are used only to assemble a verified blob.

use super::{Appended, BlobBytes, BlobStoreError, BlobStoreResult, UploadKey, digest_of};
use app_core::evidence::Sha256Hex;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Sub-prefix of uploads in progress.
const PARTIAL: &str = "partial";

/// Sub-prefix of the console's finished case files, by export job (`casefiles/<job>.zip`).
const CASEFILES: &str = "casefiles";

/// Blobs up to this size are put in place with one `PUT` of the gathered chunks; larger ones
/// with a multipart upload (see the module docs).
pub const SINGLE_PUT_MAX: u64 = 16 << 20;

/// Part size of the multipart upload of a large blob (S3's minimum is 5 MiB).
pub const PART: usize = 8 << 20;

/// Where and how to reach the bucket (`blobs.*` in the configuration; credentials not given
/// there come from the standard `AWS_*` environment variables).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket ("" for none), without leading or trailing `/`.
    pub prefix: String,
    /// `http(s)://host:port` of an S3-compatible server; `None`: AWS for the region.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// Never prints the secret.
impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "(set)"),
            )
            .finish()
    }
}

impl std::fmt::Display for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        match &self.endpoint {
            Some(e) => write!(f, " at {e}"),
            None => write!(f, " (AWS)"),
        }
    }
}

impl S3Settings {
    /// Parses `s3://bucket[/prefix]`; the error says what is wrong in English.
    pub fn parse_url(url: &str) -> Result<(String, String), String> {
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(format!("{url:?} is not an s3://bucket[/prefix] address"));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
            && bucket
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && bucket
                .bytes()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid_bucket {
            return Err(format!(
                "{url:?}: {bucket:?} is not a bucket name (3 to 63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..")
            || prefix.contains("//")
            || prefix.chars().any(|c| c.is_control() || c == '\\')
        {
            return Err(format!(
                "{url:?}: the prefix {prefix:?} is not a plain key prefix"
            ));
        }
        Ok((bucket.to_owned(), prefix.to_owned()))
    }
}

/// The S3-compatible blob store.
#[derive(Debug)]
pub struct S3 {
    store: AmazonS3,
    settings: S3Settings,
    /// The runtime the store was opened in, for reads from blocking threads.
    handle: tokio::runtime::Handle,
}

/// One staged chunk.
#[derive(Debug, Clone)]
struct Chunk {
    offset: u64,
    size: u64,
    key: Key,
}

fn s3_error(what: &str, key: &Key, e: object_store::Error) -> BlobStoreError {
    BlobStoreError::Io(format!("could not {what} object {key}: {e}"))
}

impl S3 {
    /// A client for `settings` (no request is made; see [`S3::check`]). Must be called
    /// inside a Tokio runtime.
    pub fn new(settings: &S3Settings) -> Result<Self, String> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| "the S3 blob store must be opened inside the server's runtime")?;
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            // Path-style requests (`endpoint/bucket/key`): what MinIO and Ceph expect.
            .with_virtual_hosted_style_request(false)
            // Fail in seconds, not minutes, when the store is unreachable (a start with a
            // wrong endpoint, a node cut off): a tablet retries its chunk anyway.
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
                ..RetryConfig::default()
            });
        let mut options = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(60));
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
            if endpoint.starts_with("http://") {
                options = options.with_allow_http(true);
            }
        }
        builder = builder.with_client_options(options);
        if let Some(region) = &settings.region {
            builder = builder.with_region(region);
        } else if builder
            .get_config_value(&object_store::aws::AmazonS3ConfigKey::Region)
            .is_none()
        {
            builder = builder.with_region("us-east-1");
        }
        if let Some(id) = &settings.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| format!("the blob store {settings}: {e}"))?;
        Ok(Self {
            store,
            settings: settings.clone(),
            handle,
        })
    }

    pub fn describe(&self) -> String {
        self.settings.to_string()
    }

    /// Runs `f` to completion from a blocking thread.
    pub(super) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    fn root(&self) -> Key {
        Key::from(self.settings.prefix.as_str())
    }

    fn blob_key(&self, sha: &Sha256Hex) -> Key {
        self.root()
            .clone()
            .join(&sha.as_str()[..2])
            .join(sha.as_str())
    }

    fn staging(&self, upload: &UploadKey) -> Key {
        self.root()
            .join(PARTIAL)
            .join(upload.device_key())
            .join(upload.sha().as_str())
    }

    fn case_file_key(&self, job: &str) -> Key {
        self.root().join(CASEFILES).join(format!("{job}.zip"))
    }

    /// Copies the finished case file of export job `job` (at `path`) into the bucket: one
    /// `PUT`, or for a large one a multipart upload fed from the file a piece at a time (never
    /// whole in memory), invisible until completed.
    pub(super) async fn put_case_file(
        &self,
        job: &str,
        path: &std::path::Path,
    ) -> BlobStoreResult<()> {
        use tokio::io::AsyncReadExt;
        let key = self.case_file_key(job);
        let io = |e: std::io::Error| {
            BlobStoreError::Io(format!("could not read {}: {e}", path.display()))
        };
        let mut file = tokio::fs::File::open(path).await.map_err(io)?;
        let size = file.metadata().await.map_err(io)?.len();
        if size <= SINGLE_PUT_MAX {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).await.map_err(io)?;
            self.store
                .put(&key, PutPayload::from_bytes(Bytes::from(bytes)))
                .await
                .map_err(|e| s3_error("write", &key, e))?;
            return Ok(());
        }
        let multipart = self
            .store
            .put_multipart(&key)
            .await
            .map_err(|e| s3_error("start writing", &key, e))?;
        let mut target = WriteMultipart::new_with_chunk_size(multipart, PART);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = target.abort().await;
                    return Err(io(e));
                }
            };
            if let Err(e) = target.wait_for_capacity(2).await {
                let _ = target.abort().await;
                return Err(s3_error("write", &key, e));
            }
            target.write(&buf[..n]);
        }
        target
            .finish()
            .await
            .map_err(|e| s3_error("complete writing", &key, e))?;
        Ok(())
    }

    /// The case file of export job `job`: its size and its bytes, streamed; `None` if the
    /// bucket has none.
    pub(super) async fn case_file(
        &self,
        job: &str,
    ) -> BlobStoreResult<Option<(u64, axum::body::Body)>> {
        let key = self.case_file_key(job);
        match self.store.get(&key).await {
            Ok(got) => {
                let size = got.meta.size;
                Ok(Some((
                    size,
                    axum::body::Body::from_stream(got.into_stream()),
                )))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_error("read", &key, e)),
        }
    }

    /// Lists the bucket under the prefix and writes and deletes a probe object: the endpoint
    /// answers, the bucket exists, the credentials may read and write.
    pub(super) async fn check(&self) -> Result<(), String> {
        let root = self.root();
        let what = || format!("the blob store {}", self.settings);
        self.store
            .list_with_delimiter(Some(&root))
            .await
            .map_err(|e| format!("{}: could not list the bucket (is the endpoint reachable, the bucket created, the key allowed to list it?): {e}", what()))?;
        let probe = root.join(format!(
            ".probe-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        self.store
            .put(&probe, PutPayload::from_static(b"sync-server start check"))
            .await
            .map_err(|e| {
                format!(
                    "{}: could not write (may the key write to the bucket?): {e}",
                    what()
                )
            })?;
        self.store.delete(&probe).await.map_err(|e| {
            format!(
                "{}: could not delete (may the key delete in the bucket?): {e}",
                what()
            )
        })?;
        Ok(())
    }

    /// See [`super::Blobs::sweep_abandoned`]: every staged chunk of an upload whose newest
    /// chunk is older than `max_age` (by the store's clock).
    pub(super) async fn sweep_abandoned(&self, max_age: Duration) -> BlobStoreResult<super::Swept> {
        let staging = self.root().join(PARTIAL);
        let metas: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&staging))
            .map_err(|e| s3_error("list the staging area", &staging, e))
            .try_collect()
            .await?;
        // By upload: `partial/<device key>/<sha256>/<offset>`.
        let mut uploads: std::collections::BTreeMap<String, Vec<object_store::ObjectMeta>> =
            Default::default();
        for meta in metas {
            let mut parts: Vec<&str> = meta.location.as_ref().rsplitn(2, '/').collect();
            let upload = parts.pop().unwrap_or_default().to_owned();
            uploads.entry(upload).or_default().push(meta);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let cutoff = now.saturating_sub(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
        let mut swept = super::Swept::default();
        for chunks in uploads.values() {
            if chunks.iter().any(|c| c.last_modified.timestamp() > cutoff) {
                continue;
            }
            self.delete_keys(chunks.iter().map(|c| c.location.clone()).collect())
                .await?;
            swept.uploads += 1;
            swept.bytes += chunks.iter().map(|c| c.size).sum::<u64>();
        }
        Ok(swept)
    }

    /// The staged chunks of `upload`, by offset.
    async fn chunks(&self, upload: &UploadKey) -> BlobStoreResult<Vec<Chunk>> {
        let staging = self.staging(upload);
        let mut chunks: Vec<Chunk> = self
            .store
            .list(Some(&staging))
            .map_err(|e| s3_error("list the staging area", &staging, e))
            .try_filter_map(|meta| async move {
                let offset = meta.location.filename().and_then(|n| n.parse::<u64>().ok());
                Ok(offset.map(|offset| Chunk {
                    offset,
                    size: meta.size,
                    key: meta.location,
                }))
            })
            .try_collect()
            .await?;
        chunks.sort_by_key(|c| (c.offset, c.size));
        Ok(chunks)
    }

    /// The chunks that follow one another from offset 0, and the bytes they hold.
    fn walk(chunks: &[Chunk]) -> (Vec<&Chunk>, u64) {
        let mut at = 0u64;
        let mut path = Vec::new();
        loop {
            // The longest chunk starting here (a retry through another node may have
            // written a shorter one at the same offset).
            let Some(next) = chunks
                .iter()
                .filter(|c| c.offset == at && c.size > 0)
                .max_by_key(|c| c.size)
            else {
                return (path, at);
            };
            path.push(next);
            at += next.size;
        }
    }

    async fn delete_all(&self, chunks: &[Chunk]) -> BlobStoreResult<()> {
        self.delete_keys(chunks.iter().map(|c| c.key.clone()).collect())
            .await
    }

    async fn delete_keys(&self, keys: Vec<Key>) -> BlobStoreResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let keys: Vec<object_store::Result<Key>> = keys.into_iter().map(Ok).collect();
        self.store
            .delete_stream(futures_util::stream::iter(keys).boxed())
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| BlobStoreError::Io(format!("could not delete staged chunks: {e}")))?;
        Ok(())
    }

    /// Hashes the complete upload and puts it in place (see the module docs).
    /// The size of blob `sha`, `None` if the store does not have it.
    pub async fn size(&self, sha: &Sha256Hex) -> BlobStoreResult<Option<u64>> {
        let key = self.blob_key(sha);
        match self.store.head(&key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_error("look up", &key, e)),
        }
    }

    /// Bytes `start..end` of blob `sha`, streamed from a ranged `GET`.
    pub async fn body(
        &self,
        sha: &Sha256Hex,
        start: u64,
        end: u64,
    ) -> BlobStoreResult<Option<axum::body::Body>> {
        let key = self.blob_key(sha);
        if start >= end {
            return Ok(self.size(sha).await?.map(|_| axum::body::Body::empty()));
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(start..end)),
            ..GetOptions::default()
        };
        match self.store.get_opts(&key, options).await {
            Ok(got) => Ok(Some(axum::body::Body::from_stream(got.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_error("read", &key, e)),
        }
    }

    /// Bytes `start..end` of blob `sha` in one ranged `GET` (for [`RangeReader`]).
    pub(super) async fn range(
        &self,
        sha: &Sha256Hex,
        start: u64,
        end: u64,
    ) -> BlobStoreResult<Bytes> {
        let key = self.blob_key(sha);
        self.store
            .get_range(&key, start..end)
            .await
            .map_err(|e| s3_error("read", &key, e))
    }

    /// Whether the blob is already under its name with `total` bytes.
    async fn present(&self, sha: &Sha256Hex, total: u64) -> BlobStoreResult<bool> {
        let key = self.blob_key(sha);
        match self.store.head(&key).await {
            Ok(meta) => Ok(meta.size == total),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(s3_error("look up", &key, e)),
        }
    }

    /// [`install`](Self::install) for a large blob: the staged chunks streamed one at a time
    /// through the hash into a multipart upload, completed only if the hash is the name.
    async fn install_large(
        &self,
        upload: &UploadKey,
        chunks: &[Chunk],
        walk: &[&Chunk],
        held: bool,
        total: u64,
    ) -> BlobStoreResult<()> {
        let key = self.blob_key(upload.sha());
        let write = !held && !self.present(upload.sha(), total).await?;
        let mut target = if write {
            let multipart = self
                .store
                .put_multipart(&key)
                .await
                .map_err(|e| s3_error("start writing", &key, e))?;
            Some(WriteMultipart::new_with_chunk_size(multipart, PART))
        } else {
            None
        };
        let mut hasher = Sha256::new();
        for c in walk {
            let got = async {
                self.store
                    .get(&c.key)
                    .await
                    .map_err(|e| s3_error("read", &c.key, e))?
                    .bytes()
                    .await
                    .map_err(|e| s3_error("read", &c.key, e))
            }
            .await;
            let bytes = match got {
                Ok(b) => b,
                Err(e) => {
                    if let Some(t) = target.take() {
                        let _ = t.abort().await;
                    }
                    return Err(e);
                }
            };
            hasher.update(&bytes);
            if let Some(t) = target.as_mut() {
                if let Err(e) = t.wait_for_capacity(2).await {
                    if let Some(t) = target.take() {
                        let _ = t.abort().await;
                    }
                    return Err(s3_error("write", &key, e));
                }
                t.put(bytes);
            }
        }
        let found = Sha256Hex::from_digest(&hasher.finalize());
        if &found != upload.sha() {
            if let Some(t) = target.take() {
                let _ = t.abort().await;
            }
            self.delete_all(chunks).await?;
            return Err(BlobStoreError::HashMismatch {
                expected: upload.sha().to_string(),
                found: found.to_string(),
            });
        }
        if let Some(t) = target.take() {
            t.finish()
                .await
                .map_err(|e| s3_error("complete writing", &key, e))?;
        }
        self.delete_all(chunks).await
    }

    async fn install(&self, upload: &UploadKey, held: bool, total: u64) -> BlobStoreResult<()> {
        let chunks = self.chunks(upload).await?;
        let (walk, received) = Self::walk(&chunks);
        if received != total {
            return Err(BlobStoreError::Io(format!(
                "the staged upload of {} holds {received} bytes, not {total}",
                upload.sha()
            )));
        }
        if total > SINGLE_PUT_MAX {
            return self
                .install_large(upload, &chunks, &walk, held, total)
                .await;
        }
        let mut parts: Vec<Bytes> = Vec::with_capacity(walk.len());
        for c in walk {
            let bytes = self
                .store
                .get(&c.key)
                .await
                .map_err(|e| s3_error("read", &c.key, e))?
                .bytes()
                .await
                .map_err(|e| s3_error("read", &c.key, e))?;
            parts.push(bytes);
        }
        let found = digest_of(parts.iter().map(|b| b.as_ref()));
        if &found != upload.sha() {
            self.delete_all(&chunks).await?;
            return Err(BlobStoreError::HashMismatch {
                expected: upload.sha().to_string(),
                found: found.to_string(),
            });
        }
        if !held {
            let key = self.blob_key(upload.sha());
            let present = match self.store.head(&key).await {
                Ok(meta) => meta.size == total,
                Err(object_store::Error::NotFound { .. }) => false,
                Err(e) => return Err(s3_error("look up", &key, e)),
            };
            // A blob already under its name (another node completed it, or a crash came
            // between the put and the database row) has these very bytes: not rewritten.
            if !present {
                let payload: PutPayload = parts.into_iter().collect();
                self.store
                    .put(&key, payload)
                    .await
                    .map_err(|e| s3_error("write", &key, e))?;
            }
        }
        self.delete_all(&chunks).await
    }
}

impl BlobBytes for S3 {
    async fn received(&self, upload: &UploadKey) -> BlobStoreResult<u64> {
        let chunks = self.chunks(upload).await?;
        Ok(Self::walk(&chunks).1)
    }

    async fn append(
        &self,
        upload: &UploadKey,
        held: bool,
        offset: u64,
        total: u64,
        body: Bytes,
    ) -> BlobStoreResult<Appended> {
        let received = self.received(upload).await?;
        if received != offset {
            return Err(BlobStoreError::Offset { offset, received });
        }
        let len = body.len() as u64;
        if len > 0 {
            let key = self.staging(upload).join(format!("{offset:020}"));
            self.store
                .put(&key, PutPayload::from_bytes(body))
                .await
                .map_err(|e| s3_error("write", &key, e))?;
        }
        let received = offset + len;
        if received < total {
            return Ok(Appended::Partial(received));
        }
        self.install(upload, held, total).await?;
        Ok(Appended::Complete)
    }

    async fn read(&self, sha: &Sha256Hex) -> BlobStoreResult<Option<Bytes>> {
        let key = self.blob_key(sha);
        match self.store.get(&key).await {
            Ok(got) => Ok(Some(
                got.bytes().await.map_err(|e| s3_error("read", &key, e))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_error("read", &key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_addresses_are_checked() {
        assert_eq!(
            S3Settings::parse_url("s3://photos").unwrap(),
            ("photos".into(), "".into())
        );
        assert_eq!(
            S3Settings::parse_url("s3://photos.city-7/county/xw/").unwrap(),
            ("photos.city-7".into(), "county/xw".into())
        );
        for bad in [
            "photos",
            "s3://",
            "s3://Photos",
            "s3://ab",
            "s3://-photos",
            "s3://photos/../x",
            "s3://photo_s",
        ] {
            assert!(S3Settings::parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_walk_follows_chunks_from_zero_and_ignores_strays() {
        let c = |offset, size| Chunk {
            offset,
            size,
            key: Key::from(format!("p/{offset:020}-{size}")),
        };
        let chunks = vec![c(0, 4), c(0, 8), c(4, 4), c(8, 2), c(20, 5)];
        let (walk, at) = S3::walk(&chunks);
        assert_eq!(at, 10);
        assert_eq!(
            walk.iter().map(|c| (c.offset, c.size)).collect::<Vec<_>>(),
            [(0, 8), (8, 2)]
        );
        assert_eq!(S3::walk(&[]).1, 0);
        assert_eq!(S3::walk(&[c(3, 1)]).1, 0);
    }

    #[test]
    fn the_secret_is_never_printed() {
        let s = S3Settings {
            bucket: "b".into(),
            prefix: String::new(),
            endpoint: None,
            region: None,
            access_key_id: Some("AKID".into()),
            secret_access_key: Some("very-secret".into()),
        };
        assert!(!format!("{s:?} {s}").contains("very-secret"));
    }
}
