//! Photo evidence ingest: a photo file in, the original kept byte for byte under its
//! SHA-256, its EXIF read, an upright display copy and a thumbnail made, and a summary out
//! ([`IngestedPhoto`]) that the record links as an `app_core::evidence::PhotoRef`.
//!
//! The original is evidence (执法全过程记录: the whole enforcement process is recorded): it
//! is never re-encoded, stripped or rotated; its hash is computed while it is read, in the
//! same single pass that keeps its bytes. Only the derived copies are turned upright.
//!
//! Ingest happens in two steps. [`prepare`] reads, hashes, checks and decodes everything in
//! memory and touches no store; only when all of that succeeded does
//! [`PreparedPhoto::commit`] write the blobs, all or nothing. So a truncated, corrupt,
//! unsupported, oversized or bomb-like file leaves nothing behind — no original either —
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
    IngestLimits, IngestedPhoto, PreparedPhoto, ingest_file, ingest_reader, prepare, prepare_file,
};

/// The display copy's long side is at most this many pixels.
pub const DISPLAY_MAX_SIDE: u32 = 1600;
/// A JPEG is decoded at the smallest DCT scale whose long side is at least this (or in
/// full, if smaller): so the display copy of a large photo has a long side between 1000
/// and 1600 px — 1000×750 for a 4000×3000 photo.
pub const DISPLAY_MIN_SIDE: u32 = 1000;
/// The thumbnail's long side is at most this many pixels.
pub const THUMB_MAX_SIDE: u32 = 320;
