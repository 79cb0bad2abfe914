//! Photos as content-addressed blobs: real server process, real tablets, loopback only —
//! upload and download, access, deduplication, hash mismatch, protocol errors, and an upload
//! cut mid-way by a proxy and resumed without re-sending what the server had.

mod common;

use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::inspection::Command;
use common::proxy::CutProxy;
use common::s3::Moto;
use common::{Tablet, TestServer, rid};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tablet::blobs::BlobStore;
use tablet::upload::{BlobClient, TransferError, UploadProgress};

fn photo_bytes(name: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos/");
    std::fs::read(Path::new(dir).join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn token(t: &Tablet) -> String {
    t.client.session().unwrap().token.clone()
}

fn client(server: &TestServer, t: &Tablet) -> BlobClient {
    BlobClient::new(server.url(), token(t)).with_retries(
        5,
        Duration::from_millis(50),
        Duration::from_millis(500),
    )
}

/// A tablet's own blob folder (the tablet keeps originals there).
fn blob_store(dir: &tempfile::TempDir, name: &str) -> BlobStore {
    BlobStore::open(dir.path().join(name)).unwrap()
}

/// Creates record `id` on `t` (with `colleague`) whose first item has photo `sha`, on the
/// tablet only: the photo is uploaded before the record is pushed (see [`push`]).
fn record_with_photo(t: &Tablet, id: &str, colleague: &Tablet, sha: &Sha256Hex) {
    t.new_record(id, &colleague.user);
    let item = t.template().items().next().unwrap().code.clone();
    t.apply(
        id,
        Command::AddItemPhoto {
            item,
            photo: PhotoRef {
                sha256: sha.clone(),
                added_at: t.at(2),
                added_by: t.user.id.clone(),
            },
        },
        2,
    );
}

/// Pushes `t`'s one pending record (after its photo was uploaded).
fn push(t: &Tablet) {
    let report = t.sync();
    assert_eq!(report.accepted, 1, "{report:?}");
}

fn uploaders(server: &TestServer, sha: &Sha256Hex) -> i64 {
    let conn = rusqlite::Connection::open(server.data.join("server.db")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM blob_uploaders WHERE sha256 = ?1",
        [sha.as_str()],
        |r| r.get(0),
    )
    .unwrap()
}

/// The server under test and where it keeps its blobs: its data folder's `blobs/`, or a
/// bucket on a moto server of its own.
struct Setup {
    server: TestServer,
    moto: Option<Moto>,
}

const BUCKET: &str = "photos";
/// Blobs under a key prefix, as a bureau sharing a bucket would keep them.
const PREFIX: &str = "city/county";

impl Setup {
    /// `None` when S3 is asked for and moto is not installed (and not required).
    fn start(dir: &tempfile::TempDir, s3: bool) -> Option<Self> {
        let data = dir.path().join("server");
        if !s3 {
            return Some(Self {
                server: TestServer::start(&data),
                moto: None,
            });
        }
        let moto = Moto::start()?;
        moto.bucket(BUCKET);
        let server = TestServer::start_env(&data, &[], None, &moto.server_env(BUCKET, PREFIX));
        Some(Self {
            server,
            moto: Some(moto),
        })
    }

    /// The stored bytes of blob `sha`, if there.
    fn blob(&self, sha: &Sha256Hex) -> Option<Vec<u8>> {
        match &self.moto {
            None => std::fs::read(
                self.server
                    .data
                    .join("blobs")
                    .join(&sha.as_str()[..2])
                    .join(sha.as_str()),
            )
            .ok(),
            Some(m) => {
                let got = m.object(BUCKET, &format!("{PREFIX}/{}/{sha}", &sha.as_str()[..2]));
                if got.is_none() {
                    eprintln!("not in the bucket: {sha}; keys: {:?}", m.keys(BUCKET));
                }
                got
            }
        }
    }

    /// Every stored file or object (blobs and uploads in progress).
    fn stored(&self) -> Vec<String> {
        match &self.moto {
            None => files_under(&self.server.data.join("blobs"))
                .into_iter()
                .map(|p| p.display().to_string())
                .collect(),
            Some(m) => m.keys(BUCKET),
        }
    }

    /// How many uploads are in progress (a partial file, or a staging prefix with chunks).
    fn partials(&self) -> usize {
        match &self.moto {
            None => files_under(&self.server.data.join("blobs/partial")).len(),
            Some(m) => {
                let staging = format!("{PREFIX}/partial/");
                let uploads: std::collections::BTreeSet<String> = m
                    .keys(BUCKET)
                    .into_iter()
                    .filter_map(|k| {
                        let rest = k.strip_prefix(&staging)?;
                        let (upload, _chunk) = rest.rsplit_once('/')?;
                        Some(upload.to_owned())
                    })
                    .collect();
                uploads.len()
            }
        }
    }

    /// What changes when a blob is written again: the file's inode and modification time, or
    /// the object's Last-Modified (whole seconds: waits a second so a rewrite would show).
    fn stamp(&self, sha: &Sha256Hex) -> String {
        match &self.moto {
            None => {
                use std::os::unix::fs::MetadataExt;
                let path = self
                    .server
                    .data
                    .join("blobs")
                    .join(&sha.as_str()[..2])
                    .join(sha.as_str());
                let m = std::fs::metadata(path).unwrap();
                format!("{} {}", m.ino(), m.mtime_nsec())
            }
            Some(m) => {
                let stamp = m.stamp(BUCKET, &format!("{PREFIX}/{}/{sha}", &sha.as_str()[..2]));
                std::thread::sleep(Duration::from_millis(1100));
                stamp
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn blob_rows(server: &TestServer, sha: &Sha256Hex) -> i64 {
    let conn = rusqlite::Connection::open(server.data.join("server.db")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM blobs WHERE sha256 = ?1",
        [sha.as_str()],
        |r| r.get(0),
    )
    .unwrap()
}

/// Plain HTTP against the blob endpoints, for the answers a well-behaved client never gets.
struct Raw {
    base: String,
    http: reqwest::blocking::Client,
}

impl Raw {
    fn new(server: &TestServer) -> Self {
        Self {
            base: server.url(),
            http: reqwest::blocking::Client::new(),
        }
    }

    fn put(
        &self,
        token: Option<&str>,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .put(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or_default())
    }

    fn get(&self, token: Option<&str>, path: &str) -> (u16, Vec<u8>) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().unwrap();
        (resp.status().as_u16(), resp.bytes().unwrap().to_vec())
    }
}

fn code(v: &serde_json::Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn a_photo_travels_to_colleagues_and_not_to_other_counties(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = Setup::start(&dir, s3) else {
        return;
    };
    let server = &s.server;
    let wang = Tablet::new(server, "u-wang");
    let li = Tablet::new(server, "u-li");
    let chen = Tablet::new(server, "u-chen");
    let original = photo_bytes("gps-DSCN0010.jpg");
    let wang_blobs = blob_store(&dir, "wang-blobs");
    let sha = wang_blobs.put(&original).unwrap().sha256;
    assert_eq!(sha, Sha256Hex::of(&original));
    record_with_photo(&wang, &rid("rec-photo"), &li, &sha);

    let mut seen: Vec<UploadProgress> = Vec::new();
    let report = client(server, &wang)
        .upload_pending(&wang.store, &wang_blobs, |p| seen.push(p))
        .unwrap();
    assert_eq!((report.uploaded, report.already_held), (1, 0), "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.bytes_sent, original.len() as u64);
    let last = seen.last().unwrap();
    assert_eq!(
        (last.photos_done, last.photos_pending, last.bytes_done),
        (1, 0, original.len() as u64),
        "{last:?}"
    );
    assert_eq!(last.bytes_total, original.len() as u64);
    assert_eq!(
        s.blob(&sha).unwrap(),
        original,
        "the server keeps the original byte for byte"
    );
    assert_eq!(blob_rows(server, &sha), 1);
    assert!(wang.store.lock().unwrap().is_uploaded(&sha).unwrap());
    assert!(s.partials() == 0, "no partial upload left");
    // The local original is untouched.
    assert_eq!(wang_blobs.get(&sha).unwrap(), original);
    push(&wang);

    // A colleague of the same unit receives the record, then the photo.
    assert_eq!(li.sync().pulled, 1);
    let li_blobs = blob_store(&dir, "li-blobs");
    let fetched = client(server, &li)
        .download_missing(&li.store, &li_blobs)
        .unwrap();
    assert_eq!(
        (fetched.downloaded, fetched.bytes_received),
        (1, original.len() as u64),
        "{fetched:?}"
    );
    assert_eq!(li_blobs.get(&sha).unwrap(), original, "byte-identical");
    assert!(
        !client(server, &li).download(&sha, &li_blobs).unwrap(),
        "already there: nothing fetched"
    );
    // Received photos are never offered for upload.
    let again = client(server, &li)
        .upload_pending(&li.store, &li_blobs, |_| {})
        .unwrap();
    assert_eq!((again.uploaded, again.bytes_sent), (0, 0), "{again:?}");

    // The unit's supervisor may see it too.
    let zhao = Tablet::new(server, "u-zhao");
    let zhao_blobs = blob_store(&dir, "zhao-blobs");
    assert!(client(server, &zhao).download(&sha, &zhao_blobs).unwrap());

    // A sibling county's inspector gets 404, exactly like for a blob that does not exist.
    let chen_blobs = blob_store(&dir, "chen-blobs");
    let err = client(server, &chen)
        .download(&sha, &chen_blobs)
        .unwrap_err();
    assert!(matches!(err, TransferError::NotFound(_)), "{err}");
    assert!(!chen_blobs.contains(&sha));
    let raw = Raw::new(server);
    let (status, denied) = raw.get(Some(&token(&chen)), &format!("/api/v1/blobs/{sha}"));
    let nowhere = Sha256Hex::of(b"never uploaded");
    let (status2, missing) = raw.get(Some(&token(&chen)), &format!("/api/v1/blobs/{nowhere}"));
    assert_eq!((status, status2), (404, 404));
    assert_eq!(denied, missing, "a refusal reads exactly like absence");
    // ... and so does a sibling county's supervisor.
    let sun = Tablet::new(server, "u-sun");
    let (status, _) = raw.get(Some(&token(&sun)), &format!("/api/v1/blobs/{sha}"));
    assert_eq!(status, 404);
}

fn a_photo_the_server_holds_is_not_sent_again(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = Setup::start(&dir, s3) else {
        return;
    };
    let server = &s.server;
    let wang = Tablet::new(server, "u-wang");
    let li = Tablet::new(server, "u-li");
    let original = photo_bytes("Canon_40D.jpg");
    let wang_blobs = blob_store(&dir, "wang-blobs");
    let sha = wang_blobs.put(&original).unwrap().sha256;
    record_with_photo(&wang, &rid("rec-a"), &li, &sha);
    let first = client(server, &wang)
        .upload_pending(&wang.store, &wang_blobs, |_| {})
        .unwrap();
    assert_eq!(
        (first.uploaded, first.bytes_sent),
        (1, original.len() as u64)
    );
    push(&wang);

    // The same tablet again: nothing pending, nothing sent, not even a status request.
    let second = client(server, &wang)
        .upload_pending(&wang.store, &wang_blobs, |_| {})
        .unwrap();
    assert_eq!(
        (
            second.uploaded,
            second.already_held,
            second.bytes_sent,
            second.requests
        ),
        (0, 0, 0, 0),
        "{second:?}"
    );

    // A colleague's tablet took the same photo (the same bytes) into its own record: he may
    // read a record naming it, so the server says it holds it, and not a byte is sent.
    let li_blobs = blob_store(&dir, "li-blobs");
    li_blobs.put(&original).unwrap();
    record_with_photo(&li, &rid("rec-b"), &wang, &sha);
    let mut seen = Vec::new();
    let third = client(server, &li)
        .upload_pending(&li.store, &li_blobs, |p| seen.push(p))
        .unwrap();
    assert_eq!(
        (third.uploaded, third.already_held, third.bytes_sent),
        (0, 1, 0),
        "{third:?}"
    );
    assert_eq!(seen.last().unwrap().bytes_sent, 0);
    assert!(li.store.lock().unwrap().is_uploaded(&sha).unwrap());
    push(&li);
    assert_eq!(blob_rows(server, &sha), 1);
    // A raw PUT of a held blob is answered at once only to the device that uploaded it...
    let raw = Raw::new(server);
    let path = format!("/api/v1/blobs/{sha}?offset=0&total={}", original.len());
    let (status, body) = raw.put(
        Some(&token(&wang)),
        &path,
        "application/octet-stream",
        b"ignored".to_vec(),
    );
    assert_eq!(
        (status, &body["held"]),
        (200, &serde_json::json!(true)),
        "{body}"
    );
    // ... any other device must send the bytes (here, the start of something else).
    let (status, body) = raw.put(
        Some(&token(&li)),
        &path,
        "application/octet-stream",
        b"ignored".to_vec(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["held"], body["received"].as_u64()),
        (&serde_json::json!(false), Some(7))
    );
    assert_eq!(uploaders(server, &sha), 1);
}

fn bytes_that_do_not_match_their_digest_are_refused_and_nothing_is_stored(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = Setup::start(&dir, s3) else {
        return;
    };
    let server = &s.server;
    let wang = Tablet::new(server, "u-wang");
    let raw = Raw::new(server);
    let claimed = Sha256Hex::of(&photo_bytes("Nikon_D70.jpg"));
    let other = photo_bytes("Canon_40D.jpg");
    let (half, rest) = other.split_at(other.len() / 2);
    let total = other.len();
    // Two chunks: the first is accepted (nothing can be checked yet), the last completes the
    // upload and fails the check.
    let (status, body) = raw.put(
        Some(&token(&wang)),
        &format!("/api/v1/blobs/{claimed}?offset=0&total={total}"),
        "application/octet-stream",
        half.to_vec(),
    );
    assert_eq!(
        (status, body["received"].as_u64()),
        (200, Some(half.len() as u64))
    );
    let (status, body) = raw.put(
        Some(&token(&wang)),
        &format!(
            "/api/v1/blobs/{claimed}?offset={}&total={total}",
            half.len()
        ),
        "application/octet-stream",
        rest.to_vec(),
    );
    assert_eq!((status, code(&body)), (422, "hash_mismatch"), "{body}");
    assert!(
        s.stored().is_empty(),
        "nothing under blobs/: {:?}",
        s.stored()
    );
    assert_eq!(blob_rows(server, &claimed), 0);
    let status = client(server, &wang).status(&claimed).unwrap();
    assert_eq!((status.held, status.received), (false, 0));
    // A single-chunk mismatch too.
    let (status, body) = raw.put(
        Some(&token(&wang)),
        &format!("/api/v1/blobs/{claimed}?offset=0&total=5"),
        "application/octet-stream",
        b"fake!".to_vec(),
    );
    assert_eq!((status, code(&body)), (422, "hash_mismatch"), "{body}");
    assert!(s.stored().is_empty());
    assert_eq!(blob_rows(server, &claimed), 0);
}

fn wrong_offsets_types_digests_sizes_and_missing_tokens_are_refused(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = Setup::start(&dir, s3) else {
        return;
    };
    let server = &s.server;
    let wang = Tablet::new(server, "u-wang");
    let raw = Raw::new(server);
    let t = token(&wang);
    let data = photo_bytes("Nikon_D70.jpg");
    let sha = Sha256Hex::of(&data);
    let total = data.len();
    let put = |offset: usize, body: &[u8]| {
        raw.put(
            Some(&t),
            &format!("/api/v1/blobs/{sha}?offset={offset}&total={total}"),
            "application/octet-stream",
            body.to_vec(),
        )
    };
    let (status, body) = put(0, &data[..1000]);
    assert_eq!(
        (status, body["received"].as_u64()),
        (200, Some(1000)),
        "{body}"
    );
    // 409: the chunk again (a replay), or a gap; the answer says where to resume.
    for offset in [0, 500, 2000] {
        let (status, body) = put(offset, &data[offset..offset + 100]);
        assert_eq!((status, code(&body)), (409, "offset_mismatch"), "{body}");
        assert_eq!(body["received"].as_u64(), Some(1000));
    }
    let status = client(server, &wang).status(&sha).unwrap();
    assert_eq!(
        (status.held, status.received),
        (false, 1000),
        "409s store nothing"
    );
    // 415: not application/octet-stream.
    let (status, body) = raw.put(
        Some(&t),
        &format!("/api/v1/blobs/{sha}?offset=1000&total={total}"),
        "image/jpeg",
        data[1000..].to_vec(),
    );
    assert_eq!(
        (status, code(&body)),
        (415, "unsupported_media_type"),
        "{body}"
    );
    // 400: digests that are not 64 lower-case hex characters.
    for bad in [
        sha.as_str().to_uppercase(),
        sha.as_str()[..63].to_owned(),
        format!("{}g", &sha.as_str()[..63]),
        "..%2F..%2Fserver.db".to_owned(),
    ] {
        let (status, body) = raw.put(
            Some(&t),
            &format!("/api/v1/blobs/{bad}?offset=0&total=10"),
            "application/octet-stream",
            vec![0; 10],
        );
        assert_eq!((status, code(&body)), (400, "bad_digest"), "{bad}: {body}");
        assert_eq!(
            raw.get(Some(&t), &format!("/api/v1/blobs/{bad}/status")).0,
            400
        );
        assert_eq!(raw.get(Some(&t), &format!("/api/v1/blobs/{bad}")).0, 400);
    }
    // 400: offset or total missing, or past the total.
    for query in ["", "?offset=1000", "?total=10", "?offset=x&total=10"] {
        let (status, body) = raw.put(
            Some(&t),
            &format!("/api/v1/blobs/{sha}{query}"),
            "application/octet-stream",
            vec![0; 10],
        );
        assert_eq!((status, code(&body)), (400, "bad_range"), "{query}: {body}");
    }
    let (status, body) = put(1000, &data[1000..]);
    assert_eq!(status, 201, "the rest completes the upload: {body}");
    let other = Sha256Hex::of(b"x");
    let (status, body) = raw.put(
        Some(&t),
        &format!("/api/v1/blobs/{other}?offset=0&total=4"),
        "application/octet-stream",
        b"12345".to_vec(),
    );
    assert_eq!((status, code(&body)), (400, "bad_range"), "{body}");
    // 413: more than the server accepts.
    let (status, body) = raw.put(
        Some(&t),
        &format!(
            "/api/v1/blobs/{other}?offset=0&total={}",
            sync_server::blobs::MAX_BLOB_BYTES + 1
        ),
        "application/octet-stream",
        vec![0; 10],
    );
    assert_eq!((status, code(&body)), (413, "too_large"), "{body}");
    // 413: one request announcing more than a chunk may carry is refused from its headers,
    // before any of the body is read.
    let big = 8 * 1024 * 1024 + 1;
    let mut conn = TcpStream::connect(&server.addr).unwrap();
    write!(
        conn,
        "PUT /api/v1/blobs/{other}?offset=0&total={big} HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {t}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {big}\r\nConnection: close\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 413") && answer.contains("too_large"),
        "{answer}"
    );
    // 401: no token, or a wrong one, on every endpoint.
    for tok in [None, Some("0000")] {
        let (status, body) = raw.put(
            tok,
            &format!("/api/v1/blobs/{other}?offset=0&total=1"),
            "application/octet-stream",
            b"x".to_vec(),
        );
        assert_eq!((status, code(&body)), (401, "unauthorized"), "{body}");
        assert_eq!(raw.get(tok, &format!("/api/v1/blobs/{sha}/status")).0, 401);
        assert_eq!(raw.get(tok, &format!("/api/v1/blobs/{sha}")).0, 401);
    }
    // The uploader may read what it uploaded even before any record refers to it.
    let (status, bytes) = raw.get(Some(&t), &format!("/api/v1/blobs/{sha}"));
    assert_eq!((status, bytes), (200, data));
    assert!(s.partials() == 0);
}

fn an_upload_cut_mid_chunk_resumes_without_resending_confirmed_bytes(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = Setup::start(&dir, s3) else {
        return;
    };
    let server = &s.server;
    let wang = Tablet::new(server, "u-wang");
    let li = Tablet::new(server, "u-li");
    let original = photo_bytes("gps-DSCN0010.jpg");
    let size = original.len() as u64;
    const CHUNK: u64 = 32 * 1024;
    assert!(size > 4 * CHUNK, "the photo spans at least five chunks");
    let wang_blobs = blob_store(&dir, "wang-blobs");
    let sha = wang_blobs.put(&original).unwrap().sha256;
    record_with_photo(&wang, &rid("rec-cut"), &li, &sha);

    // The first connection carries the status request and the first chunks (HTTP headers
    // are a few hundred bytes each): cutting at 2.5 chunks + 1 KiB lands inside chunk 3.
    let cut_after = 2 * CHUNK + CHUNK / 2 + 1024;
    let proxy = CutProxy::start(server.addr.clone(), cut_after);
    let uploader = BlobClient::new(proxy.url(), token(&wang))
        .with_chunk_size(CHUNK as usize)
        .with_retries(5, Duration::from_millis(50), Duration::from_millis(500));
    let mut seen: Vec<UploadProgress> = Vec::new();
    let report = uploader
        .upload_pending(&wang.store, &wang_blobs, |p| seen.push(p))
        .unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(report.retries >= 1, "the cut forced a retry: {report:?}");
    // After the cut the server had exactly the two acknowledged chunks, and the client went
    // on from there.
    assert_eq!(report.bytes_resumed, 2 * CHUNK, "{report:?}");
    assert!(
        report.bytes_sent > size && report.bytes_sent <= size + CHUNK,
        "only the interrupted chunk is sent twice: {report:?}"
    );

    let up = proxy.up_bytes();
    println!("cut upload: {report:?}; client→server bytes per connection: {up:?}");
    assert!(up.len() >= 2, "the client reconnected: {up:?}");
    assert_eq!(up[0], cut_after, "the first connection was cut: {up:?}");
    // Everything after the cut: the three remaining chunks and a few requests' headers —
    // not the two chunks the server had confirmed.
    let after: u64 = up[1..].iter().sum();
    let remaining = size - 2 * CHUNK;
    assert!(
        after >= remaining && after < remaining + 4096,
        "bytes sent after the cut: {after}, remaining body {remaining}: {up:?}"
    );
    // In all, the server received the file plus at most the interrupted chunk (plus headers).
    let total: u64 = up.iter().sum();
    assert!(total < size + CHUNK + 8192, "{total} for {size}: {up:?}");

    assert_eq!(
        s.blob(&sha).unwrap(),
        original,
        "the stored blob is the original"
    );
    assert_eq!(blob_rows(server, &sha), 1);
    assert!(s.partials() == 0);
    assert!(wang.store.lock().unwrap().is_uploaded(&sha).unwrap());
    let last = seen.last().unwrap();
    assert_eq!(
        (last.photos_pending, last.bytes_done),
        (0, size),
        "{last:?}"
    );
    // Progress only moved forward in confirmed bytes, except to drop the cut chunk.
    assert!(seen.iter().all(|p| p.bytes_done <= size));

    // And a colleague receives it intact.
    push(&wang);
    li.sync();
    let li_blobs = blob_store(&dir, "li-blobs");
    assert!(client(server, &li).download(&sha, &li_blobs).unwrap());
    assert_eq!(li_blobs.get(&sha).unwrap(), original);
}

fn acknowledged_chunks_survive_a_server_kill_9_and_the_upload_resumes(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut s) = Setup::start(&dir, s3) else {
        return;
    };
    let wang = Tablet::new(&s.server, "u-wang");
    let li = Tablet::new(&s.server, "u-li");
    let original = photo_bytes("orientation-portrait_1.jpg");
    let wang_blobs = blob_store(&dir, "wang-blobs");
    let sha = wang_blobs.put(&original).unwrap().sha256;
    record_with_photo(&wang, &rid("rec-kill"), &li, &sha);
    let first = 50_000;
    let (status, body) = Raw::new(&s.server).put(
        Some(&token(&wang)),
        &format!("/api/v1/blobs/{sha}?offset=0&total={}", original.len()),
        "application/octet-stream",
        original[..first].to_vec(),
    );
    assert_eq!(status, 200, "{body}");
    s.server.restart();
    let status = client(&s.server, &wang).status(&sha).unwrap();
    assert_eq!(
        (status.held, status.received),
        (false, first as u64),
        "an acknowledged chunk survives SIGKILL"
    );
    let report = client(&s.server, &wang)
        .upload_pending(&wang.store, &wang_blobs, |_| {})
        .unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
    push(&wang);
    assert_eq!(report.bytes_resumed, first as u64);
    assert_eq!(report.bytes_sent, (original.len() - first) as u64);
    assert_eq!(s.blob(&sha).unwrap(), original);
    s.server.restart();
    let status = client(&s.server, &wang).status(&sha).unwrap();
    assert_eq!(
        (status.held, status.received),
        (true, original.len() as u64)
    );
}

/// `GET .../status` as JSON (status code, held, received).
fn raw_status(raw: &Raw, t: &Tablet, sha: &Sha256Hex) -> (u16, bool, u64) {
    let (code, body) = raw.get(Some(&token(t)), &format!("/api/v1/blobs/{sha}/status"));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    (
        code,
        v["held"].as_bool().unwrap_or(false),
        v["received"].as_u64().unwrap_or(u64::MAX),
    )
}

fn a_photo_is_reached_by_right_not_by_digest(s3: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = Setup::start(&dir, s3) else {
        return;
    };
    let server = &s.server;
    let raw = Raw::new(server);
    let wang = Tablet::new(server, "u-wang");
    let li = Tablet::new(server, "u-li");
    // 王强 on a second tablet of his own, and 陈静, an inspector of 秦淮.
    let wang2 = Tablet::new(server, "u-wang");
    let chen = Tablet::new(server, "u-chen");
    let original = photo_bytes("Canon_40D.jpg");
    let wang_blobs = blob_store(&dir, "wang-blobs");
    let sha = wang_blobs.put(&original).unwrap().sha256;
    record_with_photo(&wang, &rid("rec-xw"), &li, &sha);
    let size = original.len() as u64;
    let nowhere = Sha256Hex::of(b"never uploaded");

    // Uploaded, not yet named by any stored record: only the uploading device sees it.
    let report = client(server, &wang)
        .upload_pending(&wang.store, &wang_blobs, |_| {})
        .unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(raw_status(&raw, &wang, &sha), (200, true, size));
    for t in [&wang2, &li, &chen] {
        assert_eq!(
            raw_status(&raw, t, &sha),
            (200, false, 0),
            "{}: a device that did not upload it",
            t.user.id
        );
        assert_eq!(
            raw.get(Some(&token(t)), &format!("/api/v1/blobs/{sha}")).0,
            404
        );
    }
    assert_eq!(
        raw.get(Some(&token(&wang)), &format!("/api/v1/blobs/{sha}"))
            .1,
        original
    );

    // Once a 玄武 record names it, 玄武's users see it; 秦淮's still get exactly the answers
    // for a photo that does not exist.
    push(&wang);
    for t in [&wang2, &li] {
        assert_eq!(
            raw_status(&raw, t, &sha),
            (200, true, size),
            "{}",
            t.user.id
        );
    }
    let sun = Tablet::new(server, "u-sun");
    for t in [&chen, &sun] {
        let (status, body) = raw.get(Some(&token(t)), &format!("/api/v1/blobs/{sha}/status"));
        let (_, unknown) = raw.get(Some(&token(t)), &format!("/api/v1/blobs/{nowhere}/status"));
        assert_eq!(status, 200);
        assert_eq!(body, unknown, "{}: held looks like absent", t.user.id);
        let (status, body) = raw.get(Some(&token(t)), &format!("/api/v1/blobs/{sha}"));
        let (status2, missing) = raw.get(Some(&token(t)), &format!("/api/v1/blobs/{nowhere}"));
        assert_eq!((status, status2), (404, 404));
        assert_eq!(body, missing);
    }

    // Another device's upload in progress is not reported to anyone else.
    let other = photo_bytes("Nikon_D70.jpg");
    let other_sha = Sha256Hex::of(&other);
    let put = |t: &Tablet, sha: &Sha256Hex, offset: usize, bytes: &[u8], total: usize| {
        raw.put(
            Some(&token(t)),
            &format!("/api/v1/blobs/{sha}?offset={offset}&total={total}"),
            "application/octet-stream",
            bytes.to_vec(),
        )
    };
    let (status, _) = put(&wang, &other_sha, 0, &other[..1000], other.len());
    assert_eq!(status, 200);
    assert_eq!(raw_status(&raw, &wang, &other_sha), (200, false, 1000));
    for t in [&wang2, &li, &chen] {
        assert_eq!(
            raw_status(&raw, t, &other_sha),
            (200, false, 0),
            "{}",
            t.user.id
        );
    }
    // Each device resumes its own upload: another one starts from 0.
    let (status, body) = put(&chen, &other_sha, 1000, &other[1000..2000], other.len());
    assert_eq!((status, code(&body)), (409, "offset_mismatch"), "{body}");
    assert_eq!(body["received"].as_u64(), Some(0));

    // 秦淮's inspector cannot claim the 玄武 photo with a few bytes: a PUT of a held blob is
    // an upload like any other, and wrong bytes are refused.
    let (status, body) = put(&chen, &sha, 0, b"fake!", 5);
    assert_eq!((status, code(&body)), (422, "hash_mismatch"), "{body}");
    assert_eq!(raw_status(&raw, &chen, &sha), (200, false, 0));
    assert_eq!(uploaders(server, &sha), 1);

    // A device that has the bytes and sends them all becomes an uploader; the stored file is
    // not written again.
    let before = s.stamp(&sha);
    let (half, rest) = original.split_at(original.len() / 2);
    let (status, body) = put(&chen, &sha, 0, half, original.len());
    assert_eq!(
        (status, body["held"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    let (status, body) = put(&chen, &sha, half.len(), rest, original.len());
    assert_eq!(
        (status, body["held"].as_bool()),
        (201, Some(true)),
        "{body}"
    );
    assert_eq!(raw_status(&raw, &chen, &sha), (200, true, size));
    assert_eq!(
        raw.get(Some(&token(&chen)), &format!("/api/v1/blobs/{sha}"))
            .1,
        original
    );
    assert_eq!(uploaders(server, &sha), 2);
    assert_eq!(blob_rows(server, &sha), 1);
    assert_eq!(s.stamp(&sha), before, "the stored blob is untouched");
    assert_eq!(s.blob(&sha).unwrap(), original);
    // ... and now a PUT from it is answered at once.
    let (status, body) = put(&chen, &sha, 0, b"x", original.len());
    assert_eq!(
        (status, body["held"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    // Only chen's device: his supervisor still cannot reach the photo.
    assert_eq!(raw_status(&raw, &sun, &sha), (200, false, 0));
    // Nothing is left of chen's upload but wang's unfinished one of the other photo.
    assert_eq!(s.partials(), 1);
}

/// Each test against the local folder and against S3 (moto; skipped if moto is missing and
/// not required).
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[test]
            fn folder() {
                super::$name(false)
            }
            #[test]
            fn s3() {
                super::$name(true)
            }
        })*
    };
}

both!(
    a_photo_travels_to_colleagues_and_not_to_other_counties,
    a_photo_the_server_holds_is_not_sent_again,
    bytes_that_do_not_match_their_digest_are_refused_and_nothing_is_stored,
    wrong_offsets_types_digests_sizes_and_missing_tokens_are_refused,
    an_upload_cut_mid_chunk_resumes_without_resending_confirmed_bytes,
    acknowledged_chunks_survive_a_server_kill_9_and_the_upload_resumes,
    a_photo_is_reached_by_right_not_by_digest,
);
