//! The content-addressed blob store: evidence originals and their derived copies, each kept
//! once under its SHA-256 at `<root>/<first 2 hex>/<all 64 hex>`.
//!
//! A blob is written to a temporary file inside the store (in its final folder, or for a
//! stream in the root), fsync'd, then linked under its final name and that folder fsync'd,
//! so a crash (or a flat battery) never leaves a partial blob under a final name: a name
//! that exists always holds the whole content. Temporary
//! files left by a crash are removed when the store is opened. The final name is created
//! with a hard link, which fails if the name already exists; the store therefore knows
//! exactly which blobs a call created, and a caller that rolls back (photo ingest) never
//! removes a blob that was there before it.

use app_core::evidence::{Sha256Hex, blob_layout};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Temporary files start with this and end with [`TEMP_SUFFIX`]; nothing else in the store
/// does, so cleaning up after a crash cannot touch a blob.
const TEMP_PREFIX: &str = ".incoming-";
const TEMP_SUFFIX: &str = ".tmp";

/// Read size for streaming hashes and copies: large enough that the hash, not the system
/// calls, sets the speed.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store: could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("blob store: could not read the input: {0}")]
    Input(#[source] io::Error),
    #[error("blob store: no blob {0}")]
    NotFound(Sha256Hex),
    #[error("blob store: blob {expected} is damaged: its content now hashes to {found}")]
    Mismatch {
        expected: Sha256Hex,
        found: Sha256Hex,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BlobError {
    move |source| BlobError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What [`BlobStore::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: Sha256Hex,
    /// `false` when the store already held this content (nothing was written).
    pub created: bool,
}

/// A `Read` adapter that hashes everything read through it: one pass over the input gives
/// both the bytes and their SHA-256.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything read so far.
    pub fn finish(self) -> Sha256Hex {
        Sha256Hex::from_digest(&self.hasher.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// The SHA-256 of everything `reader` yields, and its length, read in large chunks.
pub fn sha256_reader(reader: impl Read) -> io::Result<(Sha256Hex, u64)> {
    let mut hashing = HashingReader::new(reader);
    let mut buf = vec![0u8; CHUNK];
    loop {
        match hashing.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = hashing.len();
    Ok((hashing.finish(), len))
}

/// The SHA-256 of a file, streamed (the file is never held in memory).
pub fn sha256_file(path: &Path) -> io::Result<(Sha256Hex, u64)> {
    sha256_reader(File::open(path)?)
}

/// The store. Cheap to share by reference between threads.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    /// Held while a name is checked and created, and across a whole
    /// [`put_all_hashed`](Self::put_all_hashed) including its roll-back, so no caller in this
    /// process is told "already stored" about a blob that is about to be removed again.
    commit: Mutex<()>,
}

impl BlobStore {
    /// Opens (creating if needed) the store at `root` and removes temporary files left by a
    /// crash. Open a store once per process, before anything writes to it: a write in
    /// flight in another process during `open` would lose its temporary file and fail.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io_err("create the folder", &root))?;
        let store = Self {
            root,
            commit: Mutex::new(()),
        };
        store.remove_leftover_temp_files()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes every blob (a revoked tablet wiping its local copy once the server holds
    /// everything, see `crate::sync::settle_revocation`); the empty folder stays.
    pub fn wipe(&self) -> Result<(), BlobError> {
        let _guard = self.commit.lock().unwrap_or_else(|p| p.into_inner());
        let entries = fs::read_dir(&self.root).map_err(io_err("read", &self.root))?;
        for entry in entries {
            let entry = entry.map_err(io_err("read", &self.root))?;
            let path = entry.path();
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(io_err("remove", &path))?;
        }
        Ok(())
    }

    /// Where the blob `sha` lives (whether or not it is there).
    pub fn path(&self, sha: &Sha256Hex) -> PathBuf {
        blob_layout::path(&self.root, sha)
    }

    pub fn contains(&self, sha: &Sha256Hex) -> bool {
        self.path(sha).is_file()
    }

    /// The whole content of blob `sha`.
    pub fn get(&self, sha: &Sha256Hex) -> Result<Vec<u8>, BlobError> {
        let path = self.path(sha);
        fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => BlobError::NotFound(sha.clone()),
            _ => BlobError::Io {
                action: "read",
                path,
                source: e,
            },
        })
    }

    /// Re-hashes blob `sha` and fails with [`BlobError::Mismatch`] if its content changed.
    pub fn verify(&self, sha: &Sha256Hex) -> Result<(), BlobError> {
        let path = self.path(sha);
        let file = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => BlobError::NotFound(sha.clone()),
            _ => BlobError::Io {
                action: "open",
                path: path.clone(),
                source: e,
            },
        })?;
        let (found, _) = sha256_reader(file).map_err(io_err("read", &path))?;
        if &found == sha {
            Ok(())
        } else {
            Err(BlobError::Mismatch {
                expected: sha.clone(),
                found,
            })
        }
    }

    /// Every blob in the store, in no particular order.
    pub fn list(&self) -> Result<Vec<Sha256Hex>, BlobError> {
        let mut out = Vec::new();
        for shard in self.shards()? {
            for entry in fs::read_dir(&shard).map_err(io_err("list", &shard))? {
                let entry = entry.map_err(io_err("list", &shard))?;
                if let Some(sha) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| Sha256Hex::parse(n).ok())
                {
                    out.push(sha);
                }
            }
        }
        Ok(out)
    }

    /// Stores `bytes` under their SHA-256 (computed here).
    pub fn put(&self, bytes: &[u8]) -> Result<Stored, BlobError> {
        let sha = Sha256Hex::of(bytes);
        let _guard = self.lock_commits();
        self.put_unlocked(&sha, bytes)
    }

    /// Stores several blobs, all or nothing: if one fails, the ones this call created are
    /// removed again (never one that was there before), and the error is returned. Each item
    /// is a digest the caller has just computed from those same bytes (photo ingest hashes
    /// the original while reading it; hashing again would only cost time).
    pub(crate) fn put_all_hashed(
        &self,
        items: &[(&Sha256Hex, &[u8])],
    ) -> Result<Vec<Stored>, BlobError> {
        let _guard = self.lock_commits();
        let mut done: Vec<Stored> = Vec::with_capacity(items.len());
        for (sha, bytes) in items {
            match self.put_unlocked(sha, bytes) {
                Ok(stored) => done.push(stored),
                Err(e) => {
                    for stored in done.iter().filter(|s| s.created) {
                        // Best effort: the first error is the one worth reporting.
                        let _ = self.remove_unlocked(&stored.sha256);
                    }
                    return Err(e);
                }
            }
        }
        Ok(done)
    }

    fn put_unlocked(&self, sha: &Sha256Hex, bytes: &[u8]) -> Result<Stored, BlobError> {
        debug_assert_eq!(&Sha256Hex::of(bytes), sha, "caller passed a wrong digest");
        if self.contains(sha) {
            return Ok(Stored {
                sha256: sha.clone(),
                created: false,
            });
        }
        let shard = self.shard_dir(sha)?;
        let (mut file, temp) = self.create_temp(&shard, sha.as_str())?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(io_err("write", &temp));
        drop(file);
        self.finish_temp(written, &temp, sha, &shard)
    }

    /// Streams `reader` into the store, hashing while copying: for inputs too large to hold
    /// in memory. The content is never under its final name until it is complete.
    pub fn put_reader(&self, reader: impl Read) -> Result<Stored, BlobError> {
        self.put_stream(reader, None)
    }

    /// [`put_reader`](Self::put_reader) for bytes that must be `expected` (a download): if
    /// they hash to anything else nothing is stored and the answer is
    /// [`BlobError::Mismatch`].
    pub fn put_reader_expecting(
        &self,
        reader: impl Read,
        expected: &Sha256Hex,
    ) -> Result<Stored, BlobError> {
        self.put_stream(reader, Some(expected))
    }

    /// One pass: read through a fixed buffer, hash, write to a temporary file in the store,
    /// fsync, then link under the digest (see the module docs). Memory stays at the buffer
    /// whatever the size (audio and video of several GB).
    fn put_stream(
        &self,
        reader: impl Read,
        expected: Option<&Sha256Hex>,
    ) -> Result<Stored, BlobError> {
        let staging = self.root.join(format!(
            "{TEMP_PREFIX}{}{TEMP_SUFFIX}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut file = File::create(&staging).map_err(io_err("create", &staging))?;
        let mut hashing = HashingReader::new(reader);
        let mut buf = vec![0u8; CHUNK];
        let copied = (|| loop {
            let n = match hashing.read(&mut buf) {
                Ok(0) => return file.sync_all().map_err(io_err("write", &staging)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::Input(e)),
            };
            file.write_all(&buf[..n])
                .map_err(io_err("write", &staging))?;
        })();
        drop(file);
        if let Err(e) = copied {
            let _ = fs::remove_file(&staging);
            return Err(e);
        }
        let sha = hashing.finish();
        if let Some(expected) = expected.filter(|e| **e != sha) {
            let _ = fs::remove_file(&staging);
            return Err(BlobError::Mismatch {
                expected: expected.clone(),
                found: sha,
            });
        }
        let _guard = self.lock_commits();
        if self.contains(&sha) {
            let _ = fs::remove_file(&staging);
            return Ok(Stored {
                sha256: sha,
                created: false,
            });
        }
        // Link the finished file under its final name (a hard link is atomic across folders
        // of one file system) and drop the staging name.
        let shard = match self.shard_dir(&sha) {
            Ok(shard) => shard,
            Err(e) => {
                let _ = fs::remove_file(&staging);
                return Err(e);
            }
        };
        self.finish_temp(Ok(()), &staging, &sha, &shard)
    }

    /// Removes a blob that this process created moments ago, as part of a failed
    /// [`put_all_hashed`](Self::put_all_hashed). The commit lock must be held.
    fn remove_unlocked(&self, sha: &Sha256Hex) -> Result<(), BlobError> {
        let path = self.path(sha);
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(path.parent().unwrap_or(&self.root)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::Io {
                action: "remove",
                path,
                source: e,
            }),
        }
    }

    fn lock_commits(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves nothing to repair: it guards no data.
        self.commit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shard folder of `sha`, created (and made durable in the root) if new.
    fn shard_dir(&self, sha: &Sha256Hex) -> Result<PathBuf, BlobError> {
        let shard = blob_layout::shard(&self.root, sha);
        if !shard.is_dir() {
            match fs::create_dir(&shard) {
                Ok(()) => sync_dir(&self.root)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("create the folder", &shard)(e)),
            }
        }
        Ok(shard)
    }

    fn create_temp(&self, shard: &Path, hex: &str) -> Result<(File, PathBuf), BlobError> {
        let temp = shard.join(temp_name(hex));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io_err("create", &temp))?;
        Ok((file, temp))
    }

    /// Links a complete, fsync'd temporary file under the blob's final name, removes the
    /// temporary name and makes the folder durable. `written` is the outcome of writing it.
    fn finish_temp(
        &self,
        written: Result<(), BlobError>,
        temp: &Path,
        sha: &Sha256Hex,
        shard: &Path,
    ) -> Result<Stored, BlobError> {
        let outcome = written.and_then(|()| {
            let path = self.path(sha);
            match fs::hard_link(temp, &path) {
                Ok(()) => Ok(true),
                // Another writer stored the same content meanwhile: it is the same bytes.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                // A file system without hard links: rename is atomic too, but cannot tell
                // whether the name existed, so only call it created if it did not.
                Err(_) => {
                    let existed = path.exists();
                    fs::rename(temp, &path)
                        .map(|()| !existed)
                        .map_err(io_err("rename", temp))
                }
            }
        });
        let _ = fs::remove_file(temp);
        let created = outcome?;
        sync_dir(shard)?;
        Ok(Stored {
            sha256: sha.clone(),
            created,
        })
    }

    fn shards(&self) -> Result<Vec<PathBuf>, BlobError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(io_err("list", &self.root))? {
            let entry = entry.map_err(io_err("list", &self.root))?;
            let name = entry.file_name();
            let is_shard = name.to_str().is_some_and(|n| {
                n.len() == 2 && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
            if is_shard && entry.path().is_dir() {
                out.push(entry.path());
            }
        }
        Ok(out)
    }

    fn remove_leftover_temp_files(&self) -> Result<(), BlobError> {
        let mut folders = self.shards()?;
        folders.push(self.root.clone());
        for folder in folders {
            for entry in fs::read_dir(&folder).map_err(io_err("list", &folder))? {
                let entry = entry.map_err(io_err("list", &folder))?;
                if entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(TEMP_PREFIX) && n.ends_with(TEMP_SUFFIX))
                {
                    let path = entry.path();
                    fs::remove_file(&path).map_err(io_err("remove the leftover", &path))?;
                }
            }
        }
        Ok(())
    }
}

fn temp_name(hex: &str) -> String {
    format!(
        "{TEMP_PREFIX}{hex}-{}{TEMP_SUFFIX}",
        uuid::Uuid::new_v4().simple()
    )
}

/// Makes a folder's entries (a new or removed name) durable. Only Unix can open a folder
/// for this; elsewhere the rename is still atomic, just not yet durable.
fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync the folder", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("blobs")).unwrap();
        (dir, store)
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn put_stores_under_the_sha256_and_twice_is_once() {
        let (_d, store) = store();
        let first = store.put(b"abc").unwrap();
        assert!(first.created);
        assert_eq!(
            first.sha256.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(
            store
                .path(&first.sha256)
                .ends_with("ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let again = store.put(b"abc").unwrap();
        assert!(!again.created);
        assert_eq!(store.get(&first.sha256).unwrap(), b"abc");
        assert_eq!(files_under(store.root()).len(), 1);
        assert_eq!(store.list().unwrap(), vec![first.sha256]);
    }

    #[test]
    fn put_reader_streams_and_matches_put() {
        let (_d, store) = store();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let streamed = store.put_reader(&data[..]).unwrap();
        assert!(streamed.created);
        assert_eq!(streamed.sha256, Sha256Hex::of(&data));
        assert!(!store.put(&data).unwrap().created);
        assert!(!store.put_reader(&data[..]).unwrap().created);
        assert_eq!(files_under(store.root()).len(), 1);
    }

    #[test]
    fn a_failing_reader_leaves_nothing_behind() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("camera disconnected"));
                }
                self.0 -= 1;
                buf[0] = 7;
                Ok(1)
            }
        }
        let (_d, store) = store();
        let err = store.put_reader(Broken(1000)).unwrap_err();
        assert!(matches!(err, BlobError::Input(_)), "{err}");
        assert!(err.to_string().contains("camera disconnected"), "{err}");
        assert!(files_under(store.root()).is_empty());
    }

    #[test]
    fn verify_detects_a_changed_blob() {
        let (_d, store) = store();
        let sha = store.put(b"evidence").unwrap().sha256;
        store.verify(&sha).unwrap();
        fs::write(store.path(&sha), b"evidencE").unwrap();
        match store.verify(&sha) {
            Err(BlobError::Mismatch { expected, found }) => {
                assert_eq!(expected, sha);
                assert_eq!(found, Sha256Hex::of(b"evidencE"));
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
        let missing = Sha256Hex::of(b"never stored");
        assert!(matches!(
            store.verify(&missing),
            Err(BlobError::NotFound(_))
        ));
        assert!(matches!(store.get(&missing), Err(BlobError::NotFound(_))));
    }

    #[test]
    fn open_removes_temp_files_left_by_a_crash_and_keeps_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        let sha = {
            let store = BlobStore::open(&root).unwrap();
            store.put(b"kept").unwrap().sha256
        };
        let shard = root.join(&sha.as_str()[..2]);
        fs::write(shard.join(temp_name(sha.as_str())), b"partial").unwrap();
        fs::write(
            root.join(format!("{TEMP_PREFIX}x{TEMP_SUFFIX}")),
            b"partial",
        )
        .unwrap();
        assert_eq!(files_under(&root).len(), 3);
        let store = BlobStore::open(&root).unwrap();
        assert_eq!(files_under(&root), vec![store.path(&sha)]);
        assert_eq!(store.get(&sha).unwrap(), b"kept");
    }

    #[test]
    fn put_all_rolls_back_what_it_created_and_keeps_what_was_there() {
        let (_d, store) = store();
        let old = store.put(b"there before").unwrap().sha256;
        let new = Sha256Hex::of(b"new");
        // The third item cannot be written: its shard name is taken by a plain file.
        let blocked = Sha256Hex::of(b"blocked");
        fs::write(store.root().join(&blocked.as_str()[..2]), b"not a folder").unwrap();
        let err = store
            .put_all_hashed(&[
                (&old, &b"there before"[..]),
                (&new, &b"new"[..]),
                (&blocked, &b"blocked"[..]),
            ])
            .unwrap_err();
        assert!(matches!(err, BlobError::Io { .. }), "{err}");
        assert!(
            store.contains(&old),
            "a blob that existed before must survive"
        );
        assert!(
            !store.contains(&new),
            "a blob created by the failed call must go"
        );
        let all = store
            .put_all_hashed(&[(&old, &b"there before"[..]), (&new, &b"new"[..])])
            .unwrap();
        assert_eq!(
            all.iter().map(|s| s.created).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn sha256_reader_matches_one_shot_digest_across_chunks() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 17)).map(|i| (i * 7 % 256) as u8).collect();
        let (sha, len) = sha256_reader(&data[..]).unwrap();
        assert_eq!(sha, Sha256Hex::of(&data));
        assert_eq!(len, data.len() as u64);
    }
}
