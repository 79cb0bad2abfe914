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
use std::path::Path;

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

#[cfg(test)]
mod tests {
    use super::*;

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
