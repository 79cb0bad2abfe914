//! The ingest pipeline: read and hash once, check the header against the limits, read the
//! EXIF, decode reduced, derive the copies — all in memory — then commit the blobs.

use super::derive::copies;
use super::exif::{PhotoExif, read as read_exif};
use super::header::{HeaderError, dimensions};
use super::{PhotoError, PhotoFormat, decode, format};
use crate::blobs::{BlobStore, HashingReader};
use app_core::evidence::Sha256Hex;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// What a photo may be. Both are checked before any pixel is decoded: `max_bytes` against
/// the file's length, `max_pixels` against the size its header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestLimits {
    pub max_pixels: u64,
    pub max_bytes: u64,
}

impl Default for IngestLimits {
    /// 64 megapixels and 64 MiB: every phone and camera photo except the 108/200 MP
    /// phone modes (raise the limits for those). A JPEG's memory stays small at any size
    /// (it is decoded reduced); a PNG or WebP is decoded in full, 4 bytes a pixel.
    fn default() -> Self {
        Self {
            max_pixels: 64_000_000,
            max_bytes: 64 << 20,
        }
    }
}

/// A header that declares more pixels than the limit, in less than one byte of file per
/// this many pixels, is reported as a decompression bomb rather than as merely too large.
/// No real photo compresses that far: deflate (PNG) stays under ~1032:1 on the pixel
/// bytes, i.e. under ~350 RGB pixels a byte, and a baseline JPEG needs about a byte per
/// 16×16 block.
const BOMB_PIXELS_PER_BYTE: u64 = 1024;

/// The result of ingesting a photo: what the record links to, and what the screens show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestedPhoto {
    /// SHA-256 of the original file's bytes, exactly as received: the evidence's name.
    pub sha256: Sha256Hex,
    pub format: PhotoFormat,
    pub byte_len: u64,
    /// Pixel size as stored in the file (before the EXIF orientation is applied; see
    /// [`IngestedPhoto::upright_size`]).
    pub width: u32,
    pub height: u32,
    pub exif: PhotoExif,
    /// The upright display copy (JPEG, long side at most `DISPLAY_MAX_SIDE`).
    pub display_sha256: Sha256Hex,
    /// The upright thumbnail (JPEG, long side at most `THUMB_MAX_SIDE`).
    pub thumb_sha256: Sha256Hex,
    /// Set when the photo cannot be displayed (its header says JPEG, PNG or WebP, but its
    /// data is truncated or corrupt): the original is still kept as evidence under its
    /// SHA-256, and the display copy and thumbnail are the placeholder
    /// ([`super::placeholder_sha256`]). Width and height are then 0 if the header could not
    /// be read either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undisplayable: Option<Undisplayable>,
}

/// Why a kept photo cannot be displayed, for the warning the inspector sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undisplayable {
    pub zh: String,
    pub en: String,
}

impl IngestedPhoto {
    /// Width and height as the photo is meant to be seen (orientations 5–8 swap them).
    pub fn upright_size(&self) -> (u32, u32) {
        match self.exif.orientation {
            Some(5..=8) => (self.height, self.width),
            _ => (self.width, self.height),
        }
    }
}

/// A photo read, checked and decoded, with its derived copies encoded, but nothing stored.
#[derive(Debug)]
pub struct PreparedPhoto {
    info: IngestedPhoto,
    original: Vec<u8>,
    display: Vec<u8>,
    thumb: Vec<u8>,
}

impl PreparedPhoto {
    /// What [`commit`](Self::commit) will return.
    pub fn info(&self) -> &IngestedPhoto {
        &self.info
    }

    /// Stores the display copy, the thumbnail and the original (in that order, so a
    /// stored original always has its copies), all or nothing.
    pub fn commit(self, store: &BlobStore) -> Result<IngestedPhoto, PhotoError> {
        store.put_all_hashed(&[
            (&self.info.display_sha256, &self.display),
            (&self.info.thumb_sha256, &self.thumb),
            (&self.info.sha256, &self.original),
        ])?;
        Ok(self.info)
    }
}

/// Ingests the photo file at `path` into `store`.
pub fn ingest_file(
    store: &BlobStore,
    path: &Path,
    limits: &IngestLimits,
) -> Result<IngestedPhoto, PhotoError> {
    prepare_file(path, limits)?.commit(store)
}

/// Ingests a photo streamed from `reader` (a camera stream, an upload) into `store`.
pub fn ingest_reader(
    store: &BlobStore,
    reader: impl Read,
    limits: &IngestLimits,
) -> Result<IngestedPhoto, PhotoError> {
    prepare(reader, limits)?.commit(store)
}

/// [`prepare`] for a file; its length is checked against `max_bytes` before reading.
pub fn prepare_file(path: &Path, limits: &IngestLimits) -> Result<PreparedPhoto, PhotoError> {
    let read_err = |source| PhotoError::Read {
        input: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let len = file.metadata().map_err(read_err)?.len();
    if len > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let (bytes, sha256) = read_hashed(file, len, limits, &path.display().to_string())?;
    prepare_bytes(bytes, sha256, limits)
}

/// Reads the photo once (hashing as it goes), checks it, reads its EXIF and makes the
/// derived copies. Nothing is stored.
pub fn prepare(reader: impl Read, limits: &IngestLimits) -> Result<PreparedPhoto, PhotoError> {
    let (bytes, sha256) = read_hashed(reader, 0, limits, "input")?;
    prepare_bytes(bytes, sha256, limits)
}

/// All of `reader`, and its SHA-256 computed from the same pass.
fn read_hashed(
    reader: impl Read,
    size_hint: u64,
    limits: &IngestLimits,
    input: &str,
) -> Result<(Vec<u8>, Sha256Hex), PhotoError> {
    let mut hashing = HashingReader::new(reader.take(limits.max_bytes.saturating_add(1)));
    // One byte more than the hint lets the final read see the end without growing.
    let capacity = size_hint.min(limits.max_bytes).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    hashing
        .read_to_end(&mut bytes)
        .map_err(|source| PhotoError::Read {
            input: input.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    Ok((bytes, hashing.finish()))
}

fn prepare_bytes(
    original: Vec<u8>,
    sha256: Sha256Hex,
    limits: &IngestLimits,
) -> Result<PreparedPhoto, PhotoError> {
    if original.is_empty() {
        return Err(PhotoError::Empty);
    }
    let format =
        format::sniff(&original).map_err(|format| PhotoError::UnsupportedFormat { format })?;
    // EXIF is the camera's claim and never decides whether a photo is kept: a parser
    // failure, even a panic, only means "missing".
    let exif = catch_unwind(AssertUnwindSafe(|| read_exif(&original))).unwrap_or_default();
    let header = dimensions(format, &original).map_err(|e| match e {
        HeaderError::Truncated => PhotoError::Truncated { format },
        HeaderError::Corrupt(reason) => PhotoError::Corrupt { format, reason },
    });
    let (width, height) = match header {
        Ok(size) => size,
        Err(e) if e.is_undecodable() => {
            return Ok(undisplayable(original, sha256, format, (0, 0), exif, &e));
        }
        Err(e) => return Err(e),
    };
    check_size(width, height, original.len() as u64, limits)?;
    let decoded = match decode::for_display(format, &original, width, height) {
        Ok(decoded) => decoded,
        // A photo by its header whose data the decoder cannot read to the end (a truncated
        // transfer, a camera's unusual encoding): still evidence, kept with a placeholder.
        Err(e) if e.is_undecodable() => {
            return Ok(undisplayable(
                original,
                sha256,
                format,
                (width, height),
                exif,
                &e,
            ));
        }
        Err(e) => return Err(e),
    };
    let derived = copies(decoded, exif.orientation)?;
    Ok(PreparedPhoto {
        info: IngestedPhoto {
            sha256,
            format,
            byte_len: original.len() as u64,
            width,
            height,
            exif,
            display_sha256: Sha256Hex::of(&derived.display),
            thumb_sha256: Sha256Hex::of(&derived.thumb),
            undisplayable: None,
        },
        original,
        display: derived.display,
        thumb: derived.thumb,
    })
}

/// A photo kept as evidence although it cannot be decoded: the original as received, the
/// placeholder as its display copy and thumbnail, and the reason.
fn undisplayable(
    original: Vec<u8>,
    sha256: Sha256Hex,
    format: PhotoFormat,
    (width, height): (u32, u32),
    exif: PhotoExif,
    why: &PhotoError,
) -> PreparedPhoto {
    let placeholder = super::derive::placeholder();
    let placeholder_sha = super::placeholder_sha256();
    PreparedPhoto {
        info: IngestedPhoto {
            sha256,
            format,
            byte_len: original.len() as u64,
            width,
            height,
            exif,
            display_sha256: placeholder_sha.clone(),
            thumb_sha256: placeholder_sha,
            undisplayable: Some(Undisplayable {
                zh: format!("{}{}", app_core::messages::photo::UNDISPLAYABLE.0, why.zh()),
                en: format!("{}{why}", app_core::messages::photo::UNDISPLAYABLE.1),
            }),
        },
        original,
        display: placeholder.to_vec(),
        thumb: placeholder.to_vec(),
    }
}

fn check_size(
    width: u32,
    height: u32,
    byte_len: u64,
    limits: &IngestLimits,
) -> Result<(), PhotoError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= limits.max_pixels {
        return Ok(());
    }
    if pixels / BOMB_PIXELS_PER_BYTE > byte_len {
        Err(PhotoError::DecompressionBomb {
            width,
            height,
            byte_len,
        })
    } else {
        Err(PhotoError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        })
    }
}
