//! `admin backup DEST`, `admin verify-backup DIR`, `admin restore DIR`: backups that lose
//! nothing (issue 16).
//!
//! **Backup (online).** The database is copied with SQLite's `VACUUM INTO`: one read
//! transaction, so the copy is the state of one moment even while tablets sync (WAL: the
//! server's writers go on meanwhile). Photo blobs are content-addressed and immutable: the
//! copy takes every blob the *copied* database lists (a blob row is written only after its
//! file is durable, so each listed file exists), re-hashing each while copying. Finished
//! case-file exports (`exports/`, files written once by rename) are copied beside. Last comes
//! `backup.json` (when, the epoch, the database's SHA-256, counts): a folder without it is an
//! unfinished backup.
//!
//! **Verify.** `PRAGMA integrity_check`, the database's SHA-256 against the manifest, every
//! blob the database lists or a record names present with its SHA-256, the case-file signing
//! keys present (if any case file was ever exported). Every problem is named; the exit code
//! is non-zero if there is one.
//!
//! **Restore (server stopped).** Refused while a server holds the data folder's lock file
//! (`server.lock`, held shared by every running server, see [`DataLock`]) and refused for a
//! backup that does not verify. The current database is moved aside (`replaced-<time>/`, never deleted), the backup's copied
//! in, the backup's blobs added to the blob folder (blobs already there are kept: a blob
//! uploaded after the backup is evidence a tablet may not hold any more). The restored
//! database gets a **new epoch**, so every tablet notices at its next sync that the server
//! may lack what it acknowledged, and pushes its history, photos and number blocks again
//! (`app_core::wire::SyncResponse::epoch`); and the number allocator skips a gap after the
//! numbers it knows (`crate::service::numbers::RESTORE_GAP`).

use crate::store::engine::Engine;
use crate::store::server_meta::{EPOCH, MetaStore, NUMBER_RESTORE, new_epoch};
use anyhow::{Context, Result, anyhow, bail};
use app_core::evidence::{Sha256Hex, blob_layout};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The database file in a data folder and in a backup.
pub const DATABASE: &str = "server.db";
/// The lock file a running server holds in its data folder.
pub const LOCK: &str = "server.lock";
/// The manifest written last into a backup.
pub const MANIFEST: &str = "backup.json";

/// What a backup holds (`backup.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the backup was made (Unix seconds).
    pub created_at: i64,
    /// The epoch of the server it was taken from.
    pub epoch: String,
    pub database_sha256: String,
    pub blobs: u64,
    pub exports: u64,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A lock on `<data>/server.lock`, released by the kernel when the process ends, however it
/// ends. Every running server holds it shared (several instances may serve one data folder);
/// `admin restore` takes it exclusively and refuses while any server holds it.
#[derive(Debug)]
pub struct DataLock {
    _file: std::fs::File,
}

fn lock_file(data: &Path) -> Result<(std::fs::File, PathBuf)> {
    let path = data.join(LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    Ok((file, path))
}

/// The server's shared hold on its data folder (see [`DataLock`]).
pub fn hold_shared(data: &Path) -> Result<DataLock> {
    take_lock(data, true)
}

/// Takes the data folder's lock exclusively, or says that a server runs on it.
pub fn hold_lock(data: &Path) -> Result<DataLock> {
    take_lock(data, false)
}

fn take_lock(data: &Path, shared: bool) -> Result<DataLock> {
    let (file, path) = lock_file(data)?;
    let taken = if shared {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match taken {
        Ok(()) => Ok(DataLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) if shared => bail!(
            "{} is being restored ({} is held); start the server when the restore is done",
            data.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a server is running on {} (it holds {}); stop it first",
            data.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Copies `from` to `to` (which must not exist), hashing while copying, and syncs it; returns
/// the SHA-256.
fn copy_hashed(from: &Path, to: &Path) -> Result<Sha256Hex> {
    let mut src =
        std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut dst =
        std::fs::File::create_new(to).with_context(|| format!("creating {}", to.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
    }
    dst.sync_all()?;
    Ok(Sha256Hex::parse(&app_core::evidence::hex(&hasher.finalize())).expect("a digest"))
}

fn sha256_of(path: &Path) -> Result<Sha256Hex> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Sha256Hex::parse(&app_core::evidence::hex(&hasher.finalize())).expect("a digest"))
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The blobs a database lists (`blobs`) and the photos its records name (`photo_refs`).
fn referenced_blobs(conn: &Connection) -> Result<(Vec<String>, Vec<String>)> {
    let held = conn
        .prepare("SELECT sha256 FROM blobs ORDER BY sha256")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let named = conn
        .prepare("SELECT DISTINCT sha256 FROM photo_refs ORDER BY sha256")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok((held, named))
}

/// `admin backup DEST`: see the module documentation. `DEST` must not exist or be empty.
pub fn backup(data: &Path, dest: &Path) -> Result<Manifest> {
    let source = data.join(DATABASE);
    if !source.exists() {
        bail!("no database at {}", source.display());
    }
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!(
            "{} is not empty: a backup goes into a new folder",
            dest.display()
        );
    }
    std::fs::create_dir_all(dest.join("blobs"))
        .with_context(|| format!("creating {}", dest.display()))?;
    let copy = dest.join(DATABASE);
    {
        let conn = Connection::open_with_flags(
            &source,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("opening {}", source.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let target = copy
            .to_str()
            .ok_or_else(|| anyhow!("{} is not UTF-8", copy.display()))?;
        conn.execute("VACUUM INTO ?1", [target])
            .with_context(|| format!("copying the database into {}", copy.display()))?;
    }
    std::fs::File::open(&copy)?.sync_all()?;
    let conn = Connection::open_with_flags(&copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let epoch = conn.epoch().unwrap_or_default();
    let (held, _) = referenced_blobs(&conn)?;
    drop(conn);
    let from_root = data.join("blobs");
    let to_root = dest.join("blobs");
    for sha in &held {
        let sha = Sha256Hex::parse(sha).map_err(|e| anyhow!("blob row {sha}: {e}"))?;
        let got = copy_hashed(
            &blob_layout::path(&from_root, &sha),
            &blob_layout::path(&to_root, &sha),
        )?;
        if got != sha {
            bail!(
                "blob {sha} in {} has SHA-256 {got}: the data folder is damaged",
                from_root.display()
            );
        }
    }
    for dir in std::fs::read_dir(&to_root)? {
        sync_dir(&dir?.path())?;
    }
    let mut exports = 0;
    let exports_dir = data.join("exports");
    if exports_dir.is_dir() {
        for entry in std::fs::read_dir(&exports_dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if path.is_file() && !name.ends_with(".partial") {
                copy_hashed(&path, &dest.join("exports").join(&name))?;
                exports += 1;
            }
        }
    }
    let manifest = Manifest {
        format: 1,
        created_at: now_secs(),
        epoch,
        database_sha256: sha256_of(&copy)?.to_string(),
        blobs: held.len() as u64,
        exports,
    };
    let tmp = dest.join("backup.json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dest.join(MANIFEST))?;
    sync_dir(dest)?;
    Ok(manifest)
}

/// `admin verify-backup DIR`: every problem found (empty: the backup is whole).
pub fn verify(dir: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let manifest: Option<Manifest> = match std::fs::read(dir.join(MANIFEST)) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(m) => Some(m),
            Err(e) => {
                problems.push(format!("{MANIFEST} does not read: {e}"));
                None
            }
        },
        Err(e) => {
            problems.push(format!(
                "{MANIFEST} is missing ({e}): the backup did not finish"
            ));
            None
        }
    };
    let db = dir.join(DATABASE);
    if !db.is_file() {
        problems.push(format!("{DATABASE} is missing"));
        return Ok(problems);
    }
    if let Some(m) = &manifest {
        let got = sha256_of(&db)?;
        if got.as_str() != m.database_sha256 {
            problems.push(format!(
                "{DATABASE} has SHA-256 {got}, the manifest says {}",
                m.database_sha256
            ));
        }
    }
    let conn = match Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("{DATABASE} does not open: {e}"));
            return Ok(problems);
        }
    };
    let integrity: Vec<String> = match conn.prepare("PRAGMA integrity_check").and_then(|mut s| {
        s.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()
    }) {
        Ok(rows) => rows,
        Err(e) => vec![e.to_string()],
    };
    if integrity != ["ok"] {
        for line in integrity.iter().take(20) {
            problems.push(format!("{DATABASE} integrity: {line}"));
        }
        return Ok(problems);
    }
    let (held, named) = match referenced_blobs(&conn) {
        Ok(r) => r,
        Err(e) => {
            problems.push(format!("{DATABASE} is not a server database: {e}"));
            return Ok(problems);
        }
    };
    let root = dir.join("blobs");
    let mut checked = std::collections::BTreeSet::new();
    for sha in held.iter().chain(&named) {
        if !checked.insert(sha.clone()) {
            continue;
        }
        let Ok(digest) = Sha256Hex::parse(sha) else {
            problems.push(format!("blob {sha}: not a SHA-256"));
            continue;
        };
        let path = blob_layout::path(&root, &digest);
        match sha256_of(&path) {
            Ok(got) if got == digest => {}
            Ok(got) => problems.push(format!("blob {sha} is damaged (its SHA-256 is {got})")),
            Err(_) => problems.push(format!("blob {sha} is missing ({})", path.display())),
        }
    }
    let exported: i64 = conn
        .query_row(
            "SELECT count(*) FROM casefile_exports WHERE state = 'done'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    let keys = signing_keys(&conn);
    if exported > 0 && keys == 0 {
        problems.push(format!(
            "no case-file signing key, though {exported} case files were exported with one"
        ));
    }
    Ok(problems)
}

/// How many case-file signing keys a database holds (the current one and its history).
fn signing_keys(conn: &Connection) -> i64 {
    let current: i64 = conn
        .query_row("SELECT count(*) FROM server_key", [], |r| r.get(0))
        .unwrap_or(0);
    let history: i64 = conn
        .query_row("SELECT count(*) FROM server_keys", [], |r| r.get(0))
        .unwrap_or(0);
    current.max(history)
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub epoch: String,
    pub previous_epoch: String,
    /// Where the database it replaced was moved (None: there was none).
    pub replaced: Option<PathBuf>,
    pub blobs_added: u64,
    /// The signing keys of the replaced database, carried over if newer.
    pub keys: KeysCarried,
}

/// `admin restore DIR`: see the module documentation. `gap`: numbers skipped in every
/// document-number series.
pub fn restore(dir: &Path, data: &Path, gap: u32) -> Result<Restored> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let _lock = hold_lock(data)?;
    let problems = verify(dir)?;
    if !problems.is_empty() {
        bail!(
            "{} does not verify, nothing was restored:\n  {}",
            dir.display(),
            problems.join("\n  ")
        );
    }
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(dir.join(MANIFEST))?)?;
    let stamp = now_secs();
    let live = data.join(DATABASE);
    let mut replaced = None;
    if live.exists() {
        let aside = data.join(format!("replaced-{stamp}"));
        std::fs::create_dir_all(&aside)?;
        for suffix in ["", "-wal", "-shm"] {
            let from = data.join(format!("{DATABASE}{suffix}"));
            if from.exists() {
                std::fs::rename(&from, aside.join(format!("{DATABASE}{suffix}")))?;
            }
        }
        replaced = Some(aside);
    }
    let tmp = data.join(format!("{DATABASE}.restoring"));
    let _ = std::fs::remove_file(&tmp);
    copy_hashed(&dir.join(DATABASE), &tmp)?;
    std::fs::rename(&tmp, &live)?;
    sync_dir(data)?;
    // Blobs: the backup's, added to what is there (content-addressed: a name present is kept
    // if its content is right, replaced if damaged).
    let from_root = dir.join("blobs");
    let to_root = data.join("blobs");
    let mut blobs_added = 0;
    for shard in std::fs::read_dir(&from_root)? {
        for entry in std::fs::read_dir(shard?.path())? {
            let path = entry?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let Ok(sha) = Sha256Hex::parse(&name) else {
                continue;
            };
            let target = blob_layout::path(&to_root, &sha);
            if target.exists() {
                if sha256_of(&target)? == sha {
                    continue;
                }
                std::fs::remove_file(&target)?;
            }
            copy_hashed(&path, &target)?;
            blobs_added += 1;
        }
    }
    let exports = dir.join("exports");
    if exports.is_dir() {
        for entry in std::fs::read_dir(&exports)? {
            let path = entry?.path();
            let target = data
                .join("exports")
                .join(path.file_name().unwrap_or_default());
            if !target.exists() {
                copy_hashed(&path, &target)?;
            }
        }
    }
    // The new epoch and the number gap, in the restored database (migrated first, in case the
    // backup is from an older server).
    let conn = Connection::open_writer(&live).map_err(|e| anyhow!("{e}"))?;
    let epoch = new_epoch();
    let tx = conn.unchecked_transaction()?;
    tx.set_meta(EPOCH, &epoch).map_err(|e| anyhow!("{e}"))?;
    tx.set_meta(NUMBER_RESTORE, &format!("{stamp} {gap}"))
        .map_err(|e| anyhow!("{e}"))?;
    let keys = match &replaced {
        Some(aside) => carry_keys(&aside.join(DATABASE), &tx),
        None => KeysCarried::Nothing,
    };
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok(Restored {
        epoch,
        previous_epoch: manifest.epoch,
        replaced,
        blobs_added,
        keys,
    })
}

/// What a restore did with the signing keys of the database it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysCarried {
    /// The backup knows every key the replaced database knew (or there was none).
    Nothing,
    /// The replaced database had rotated to newer keys after the backup: the restored one
    /// now has them too, and signs with the newest (this many keys added to its history).
    Newer(usize),
    /// The replaced database's keys could not be carried over (named why); the restored
    /// server signs with the backup's key.
    NotCarried(String),
}

/// Keys are not data a backup may take back: a key rotated in after the backup signed case
/// files and sealed supervisors' decisions that tablets hold, and a key rotated *out* may
/// have been compromised. So the restored database takes over the replaced one's newer key
/// history and current secret, where the backup's history is the start of it.
fn carry_keys(replaced: &Path, restored: &rusqlite::Transaction<'_>) -> KeysCarried {
    use crate::store::casefiles::CaseFileStore;
    use crate::store::server_keys::KeyHistoryStore;
    let read = || -> Result<_> {
        let old = Connection::open(replaced)?;
        let history = old.key_history().map_err(|e| anyhow!("{e}"))?;
        let secret = old.server_secret().map_err(|e| anyhow!("{e}"))?;
        Ok((history, secret))
    };
    let (theirs, secret) = match read() {
        Ok(found) => found,
        Err(e) => {
            return KeysCarried::NotCarried(format!(
                "the replaced database's keys could not be read ({e})"
            ));
        }
    };
    let ours = match restored.key_history() {
        Ok(h) => h.keys,
        Err(e) => return KeysCarried::NotCarried(e.to_string()),
    };
    if theirs.keys.len() <= ours.len() {
        return KeysCarried::Nothing;
    }
    let same_start = ours
        .iter()
        .zip(&theirs.keys)
        .all(|(a, b)| a.public_key == b.public_key);
    let newest = theirs.keys.last().map(|k| k.public_key.clone());
    let secret_is_newest = secret
        .as_deref()
        .and_then(|s| <[u8; 32]>::try_from(s).ok())
        .map(|s| {
            let key = ed25519_dalek::SigningKey::from_bytes(&s);
            app_core::evidence::hex(key.verifying_key().as_bytes())
        })
        == newest;
    if !same_start || !secret_is_newest {
        return KeysCarried::NotCarried(
            "the replaced database's key history does not continue the backup's".into(),
        );
    }
    let now = now_secs();
    let carry = || -> crate::store::StoreResult<()> {
        let mut extra = theirs.keys[ours.len()..].iter();
        if ours.is_empty()
            && let Some(first) = extra.next()
        {
            restored.start_key_history(&first.public_key, first.valid_from)?;
        }
        for entry in extra {
            restored.add_rotation(entry)?;
        }
        restored.replace_server_secret(secret.as_deref().unwrap_or_default(), now)
    };
    match carry() {
        Ok(()) => KeysCarried::Newer(theirs.keys.len() - ours.len()),
        Err(e) => KeysCarried::NotCarried(e.to_string()),
    }
}
