//! Signed electronic case files (电子案卷).
//!
//! A case file is one ZIP holding everything about one inspection at one signed version:
//!
//! | file | content |
//! | --- | --- |
//! | `index.html` | the human-readable index: the inspection, the signer, every file with its SHA-256, the audit trail |
//! | `record.json` | the record as signed, readable JSON |
//! | `record.automerge` | the record's Automerge document at the signed heads |
//! | `audit-trail.json` | every change (who, when, on which device, which command), hash-chained |
//! | `amendments.json` | only if the record changed after signing: what changed |
//! | `documents/*.pdf` | the enforcement documents |
//! | `photos/<sha256>.<ext>` | the original photos, byte for byte, named by their SHA-256 |
//! | `media/<sha256>.<ext>` | audio and video recordings, byte for byte, named by their SHA-256 (streamed in; ZIP64 past 4 GiB) |
//! | `manifest.json` | every file's size and SHA-256, the signer's identity and key, the trail's head |
//! | `manifest.sig` | the Ed25519 signature (64 bytes) over `manifest.json`'s exact bytes |
//!
//! The archive has one canonical form ([`archive`]): the verifier re-derives every header
//! byte, so no byte of the file can change unnoticed.
//!
//! A penalty case's file ([`case`], [`export_case`]) holds the 卷内目录 and the signed case
//! documents first, then `case.json`, `case.automerge`, the trail and the originals; its
//! manifest names the case (`Manifest::case`).
//!
//! The calls a UI needs: [`export()`] (with progress; [`export_file`] to a file, never left
//! half-written) and [`verify()`] (a [`Report`] with
//! per-check results and [`Report::render_zh_en`]).

pub mod archive;
pub mod case;
pub mod export;
pub mod file;
pub mod index;
pub mod keys;
pub mod manifest;
pub mod media;
pub mod pdf;
pub mod trail;
pub mod verify;

pub use case::{CaseExportInput, CaseRenderer, export_case};
pub use export::{
    BlobDir, DocumentRenderer, DocumentWarning, ExportError, ExportInput, ExportSummary, MediaFile,
    PhotoSource, Progress, RenderedDocument, export,
};
pub use file::{FileError, WrittenFile, export_case_file, export_file};
pub use keys::{KeyHistory, verify_with_history};
pub use manifest::{Manifest, SignerIdentity};
pub use pdf::{CasePdfForms, PdfForms};
pub use verify::{CheckKind, Report, Status, TrustedKey, VerifyOptions, verify};
