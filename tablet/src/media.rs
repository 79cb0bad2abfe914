//! Audio and video evidence: a recording made on the tablet or copied from a body camera
//! (执法记录仪) is kept byte for byte in the blob store under its SHA-256.
//!
//! Import is one streaming pass over the original: its first bytes say whether it is a
//! recording at all ([`MediaKind::sniff`]; anything else is refused before a byte is stored),
//! then it is read through a fixed buffer, hashed and written to a temporary file in the
//! store, fsync'd and linked under its digest ([`BlobStore::put_reader`]). Memory stays at the
//! buffer whatever the size (recordings of 1–4 GB and more). The original is opened
//! read-only and never changed; a crash or an error mid-import leaves no blob (the temporary
//! file is removed, or swept at the next start), only the original where it was.
//!
//! Upload is the photos' resumable protocol with larger chunks
//! ([`crate::upload::BlobClient::upload_blob`]).

use crate::blobs::{BlobError, BlobStore};
use app_core::evidence::Sha256Hex;
pub use casefile::media::{MediaKind, SNIFF_LEN};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Why a recording was not imported. Nothing was stored, except after
/// [`MediaError::Changed`]: what was read is kept under its own digest (evidence is never
/// deleted), but it is not the file as it is now, so the import is reported as failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("could not read the recording ({input}): {source}")]
    Read {
        /// The file's path, or "input" for a stream.
        input: String,
        #[source]
        source: io::Error,
    },
    #[error("the recording is empty (0 bytes)")]
    Empty,
    #[error(
        "not an audio or video recording (accepted: MP4, MOV, 3GP, M4A, AVI, MPEG-TS, MKV, WebM, WAV, MP3, AAC, AMR, Ogg, FLAC)"
    )]
    NotMedia,
    #[error("the recording changed size while it was imported ({expected} → {found} bytes)")]
    Changed { expected: u64, found: u64 },
    #[error(transparent)]
    Store(#[from] BlobError),
}

impl MediaError {
    /// What the inspector reads: the same reason in Chinese (the English text is `Display`).
    pub fn zh(&self) -> String {
        use app_core::messages::Bilingual;
        self.refusal().zh()
    }

    /// The reason as the one table of texts has it (`app_core::messages`).
    pub fn refusal(&self) -> app_core::messages::EvidenceRefusal {
        use app_core::messages::EvidenceRefusal as R;
        match self {
            MediaError::Read { input, .. } => R::MediaRead {
                input: input.clone(),
            },
            MediaError::Empty => R::MediaEmpty,
            MediaError::NotMedia => R::MediaNotMedia,
            MediaError::Changed { expected, found } => R::MediaChanged {
                expected: *expected,
                found: *found,
            },
            MediaError::Store(_) => R::MediaStore,
        }
    }
}

/// A recording now in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedMedia {
    pub sha256: Sha256Hex,
    pub size: u64,
    pub kind: MediaKind,
    /// `false` when the store already held this recording (nothing was written).
    pub created: bool,
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

/// Imports the recording at `path` (opened read-only, never changed) into `blobs`.
pub fn import_file(blobs: &BlobStore, path: &Path) -> Result<ImportedMedia, MediaError> {
    let read_err = |source| MediaError::Read {
        input: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let expected = file.metadata().map_err(read_err)?.len();
    let imported = import(blobs, file, &path.display().to_string())?;
    if imported.size != expected {
        // The file grew or shrank under us (a camera still writing it): what was stored is
        // what was read, a consistent prefix or state, but not the file as it is now.
        return Err(MediaError::Changed {
            expected,
            found: imported.size,
        });
    }
    Ok(imported)
}

/// Imports a recording from a stream (a file picker's handle, a camera's USB transfer).
pub fn import_reader(blobs: &BlobStore, reader: impl Read) -> Result<ImportedMedia, MediaError> {
    import(blobs, reader, "input")
}

fn import(
    blobs: &BlobStore,
    mut reader: impl Read,
    input: &str,
) -> Result<ImportedMedia, MediaError> {
    let mut head = vec![0u8; SNIFF_LEN];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(MediaError::Read {
                    input: input.to_owned(),
                    source,
                });
            }
        }
    }
    head.truncate(filled);
    if head.is_empty() {
        return Err(MediaError::Empty);
    }
    let kind = MediaKind::sniff(&head).ok_or(MediaError::NotMedia)?;
    let mut counting = Counting {
        inner: io::Cursor::new(head).chain(reader),
        n: 0,
    };
    let stored = blobs.put_reader(&mut counting).map_err(|e| match e {
        BlobError::Input(source) => MediaError::Read {
            input: input.to_owned(),
            source,
        },
        other => MediaError::Store(other),
    })?;
    Ok(ImportedMedia {
        sha256: stored.sha256,
        size: counting.n,
        kind,
        created: stored.created,
    })
}

/// A recording found where recordings are brought in: a body camera's card, the tablet's own
/// recordings folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRecording {
    pub path: PathBuf,
    pub size: u64,
    /// The file's time (a camera writes it as it records).
    pub modified: Option<SystemTime>,
    pub kind: MediaKind,
}

/// How deep [`find_recordings`] looks below each root (a camera's `DCIM/100MEDIA/…`).
const FIND_DEPTH: usize = 4;

/// The recordings under `roots` (folders that do not exist are skipped), newest first, at
/// most `limit`: every regular file whose first bytes are a recording's ([`MediaKind::sniff`];
/// its name does not matter), at most [`FIND_DEPTH`] folders down. Hidden entries and symbolic
/// links are not followed; an unreadable folder or file is passed over. Only the first
/// [`SNIFF_LEN`] bytes of each file are read.
pub fn find_recordings(roots: &[PathBuf], limit: usize) -> Vec<FoundRecording> {
    let mut found = Vec::new();
    let mut stack: Vec<(PathBuf, usize)> = roots.iter().map(|r| (r.clone(), 0)).collect();
    // A bound on the files opened, so a huge folder cannot hold the screen.
    let mut budget = 20 * limit.max(1);
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                if depth < FIND_DEPTH {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            if !kind.is_file() || budget == 0 {
                continue;
            }
            budget -= 1;
            let Ok(mut file) = File::open(&path) else {
                continue;
            };
            let mut head = vec![0u8; SNIFF_LEN];
            let n = file.read(&mut head).unwrap_or(0);
            let Some(kind) = MediaKind::sniff(&head[..n]) else {
                continue;
            };
            let meta = file.metadata().ok();
            found.push(FoundRecording {
                path,
                size: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
                kind,
            });
        }
    }
    found.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| a.path.cmp(&b.path))
    });
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_found_by_their_bytes_newest_first_and_the_rest_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("card/DCIM/100MEDIA");
        std::fs::create_dir_all(&card).unwrap();
        std::fs::write(card.join("0001.MP4"), mp4(100)).unwrap();
        // A recording whatever its name; not a recording whatever its name.
        std::fs::write(card.join("0002.DAT"), mp4(50)).unwrap();
        std::fs::write(card.join("0003.MP4"), b"not a video").unwrap();
        std::fs::write(card.join(".hidden.mp4"), mp4(10)).unwrap();
        std::fs::create_dir_all(dir.path().join("card/a/b/c/d/e")).unwrap();
        std::fs::write(dir.path().join("card/a/b/c/d/e/deep.mp4"), mp4(10)).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(card.join("0001.MP4"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let roots = [dir.path().join("card"), dir.path().join("missing")];
        let found = find_recordings(&roots, 10);
        let names: Vec<_> = found
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["0002.DAT", "0001.MP4"]);
        assert_eq!(found[1].size, mp4(100).len() as u64);
        assert_eq!(found[1].kind, MediaKind::Mp4);
        assert_eq!(find_recordings(&roots, 1).len(), 1);
    }

    fn mp4(len: usize) -> Vec<u8> {
        let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
        v.extend((0..len).map(|i| (i * 31 % 251) as u8));
        v
    }

    #[test]
    fn a_recording_is_stored_byte_for_byte_and_the_original_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
        let original = dir.path().join("DCIM_0001.MP4");
        let bytes = mp4(3_000_000);
        std::fs::write(&original, &bytes).unwrap();
        let before = std::fs::metadata(&original).unwrap().modified().unwrap();
        let got = import_file(&blobs, &original).unwrap();
        assert_eq!(got.kind, MediaKind::Mp4);
        assert_eq!(got.size, bytes.len() as u64);
        assert!(got.created);
        assert_eq!(got.sha256, Sha256Hex::of(&bytes));
        assert_eq!(blobs.get(&got.sha256).unwrap(), bytes);
        assert_eq!(std::fs::read(&original).unwrap(), bytes);
        assert_eq!(
            std::fs::metadata(&original).unwrap().modified().unwrap(),
            before
        );
        let again = import_file(&blobs, &original).unwrap();
        assert!(!again.created);
    }

    #[test]
    fn what_is_not_a_recording_is_refused_and_nothing_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
        for (bytes, want) in [
            (&b""[..], "empty"),
            (b"\xff\xd8\xff\xe0 a JPEG", "not an audio"),
            (b"%PDF-1.7", "not an audio"),
        ] {
            let err = import_reader(&blobs, bytes).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
            assert!(!err.zh().is_empty());
        }
        assert!(blobs.list().unwrap().is_empty());
        assert_eq!(std::fs::read_dir(blobs.root()).unwrap().count(), 0);
    }
}
