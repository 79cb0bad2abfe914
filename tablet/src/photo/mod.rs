//! Photo evidence ingest: a photo file in, the original kept byte for byte under its
//! SHA-256, its EXIF read, an upright display copy and a thumbnail made, and a summary out
//! ([`IngestedPhoto`]) that the record links as an `app_core::evidence::PhotoRef`.
//!
//! The original is evidence (执法全过程记录: the whole enforcement process is recorded): it
//! is never re-encoded, stripped or rotated; its hash is computed while it is read, in the
//! same single pass that keeps its bytes. Only the derived copies are turned upright.
//!
//! A file that is a photo by its header but whose data cannot be decoded (truncated or
//! corrupt) is still evidence: its original is kept under its SHA-256 with the placeholder
//! ([`placeholder_sha256`]) as display copy and thumbnail, and the ingest result says why it
//! cannot be displayed ([`IngestedPhoto::undisplayable`]). Only what is not a photo at all, or
//! is over the limits, is refused.
//!
//! Ingest happens in two steps. [`prepare`] reads, hashes, checks and decodes everything in
//! memory and touches no store; only when all of that succeeded does
//! [`PreparedPhoto::commit`] write the blobs, all or nothing. So an unsupported,
//! oversized or bomb-like file leaves nothing behind — no original either —
//! and a blob that existed before is never removed.

mod decode;
mod derive;
mod error;
mod exif;
mod format;
mod header;
mod ingest;
mod orient;

pub use error::PhotoError;
pub use exif::{CaptureTime, GpsPosition, PhotoExif};
pub use format::PhotoFormat;
pub use ingest::{
    IngestLimits, IngestedPhoto, PreparedPhoto, Undisplayable, ingest_file, ingest_reader, prepare,
    prepare_file,
};

/// The SHA-256 of the placeholder picture that stands in for the display copy and thumbnail
/// of a photo that cannot be decoded (a screen can tell such a photo by it).
pub fn placeholder_sha256() -> app_core::evidence::Sha256Hex {
    app_core::evidence::Sha256Hex::of(derive::placeholder())
}

/// The display copy's long side is at most this many pixels.
pub const DISPLAY_MAX_SIDE: u32 = 1600;
/// A JPEG is decoded at the smallest DCT scale whose long side is at least this (or in
/// full, if smaller): so the display copy of a large photo has a long side between 1000
/// and 1600 px — 1000×750 for a 4000×3000 photo.
pub const DISPLAY_MIN_SIDE: u32 = 1000;
/// The thumbnail's long side is at most this many pixels.
pub const THUMB_MAX_SIDE: u32 = 320;
