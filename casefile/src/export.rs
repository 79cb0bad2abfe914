//! Export: one inspection, at one signed version, as a signed case file.
//!
//! The caller supplies the record's Automerge document (saved bytes), where the original
//! photos are ([`PhotoSource`]), how the PDFs are made ([`DocumentRenderer`]), the signer and
//! the device key. The archive is written in one pass; each original is checked against its
//! SHA-256 while it is copied in, so a damaged original is reported, never bundled.

use crate::archive::{ArchiveError, ZipWriter};
use crate::index::{self, IndexFile};
use crate::manifest::{
    self, AMENDMENTS, DOCUMENTS_DIR, FileEntry, INDEX, MANIFEST, MEDIA_DIR, Manifest, PHOTOS_DIR,
    RECORD_AUTOMERGE, RECORD_JSON, SIGNATURE, SignerIdentity, TRAIL,
};
use crate::media::{MediaKind, SNIFF_LEN};
use crate::trail;
use app_core::document::{DocError, InspectionDoc};
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::inspection::Inspection;
use app_core::signing::SignError;
use automerge::ChangeHash;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// Where the original photos are read from.
pub trait PhotoSource {
    /// The original's size in bytes.
    fn size(&self, sha: &Sha256Hex) -> io::Result<u64>;
    /// A reader over the original's bytes.
    fn open(&self, sha: &Sha256Hex) -> io::Result<Box<dyn Read + '_>>;
}

/// A content-addressed blob folder, `<root>/<first 2 hex>/<64 hex>`: the layout of both the
/// tablet's blob store and the server's blob folder.
#[derive(Debug, Clone)]
pub struct BlobDir(pub PathBuf);

impl BlobDir {
    fn path(&self, sha: &Sha256Hex) -> PathBuf {
        app_core::evidence::blob_layout::path(&self.0, sha)
    }
}

impl PhotoSource for BlobDir {
    fn size(&self, sha: &Sha256Hex) -> io::Result<u64> {
        Ok(std::fs::metadata(self.path(sha))?.len())
    }

    fn open(&self, sha: &Sha256Hex) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(File::open(self.path(sha))?))
    }
}

/// Photos held in memory, keyed by digest (for tests and small tools).
impl PhotoSource for std::collections::BTreeMap<Sha256Hex, Vec<u8>> {
    fn size(&self, sha: &Sha256Hex) -> io::Result<u64> {
        self.get(sha)
            .map(|b| b.len() as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such photo"))
    }

    fn open(&self, sha: &Sha256Hex) -> io::Result<Box<dyn Read + '_>> {
        self.get(sha)
            .map(|b| Box::new(&b[..]) as Box<dyn Read + '_>)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such photo"))
    }
}

/// A rendered enforcement document (a PDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDocument {
    /// File name inside `documents/`, e.g. `inspection-record.pdf`.
    pub file_name: String,
    /// The document's Chinese title, for the index (e.g. 现场检查记录).
    pub title_zh: String,
    pub bytes: Vec<u8>,
    /// What the document prints differently from the record (e.g. `[U+2EBF0]` for a
    /// character no font has); empty for a document that prints the record exactly.
    pub warnings: Vec<pdf_forms::FormWarning>,
}

/// A warning of one document of a case file: the export succeeded, the document prints
/// something differently from the record (which the case file keeps exactly, in
/// `record.json`). Its `Display` is English, for logs; [`DocumentWarning::text`] is what a
/// person reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file_name}: {warning}")]
pub struct DocumentWarning {
    /// The document's file name inside `documents/`.
    pub file_name: String,
    /// The document's Chinese title (e.g. 现场检查记录).
    pub title_zh: String,
    pub warning: pdf_forms::FormWarning,
}

impl DocumentWarning {
    /// The warning in `lang` (`app_core::messages`).
    pub fn text(&self, lang: app_core::messages::Lang) -> String {
        self.warning.text(lang, &self.title_zh)
    }
}

pub type RenderError = Box<dyn std::error::Error + Send + Sync>;

/// Makes the documents of a signed record. Any closure
/// `Fn(&Inspection) -> Result<Vec<RenderedDocument>, RenderError>` is one.
pub trait DocumentRenderer {
    fn render(&self, signed: &Inspection) -> Result<Vec<RenderedDocument>, RenderError>;
}

impl<F> DocumentRenderer for F
where
    F: Fn(&Inspection) -> Result<Vec<RenderedDocument>, RenderError>,
{
    fn render(&self, signed: &Inspection) -> Result<Vec<RenderedDocument>, RenderError> {
        self(signed)
    }
}

/// An audio or video recording to bundle (read from the same [`PhotoSource`] as the photos:
/// the blob store). It goes to `media/<sha256>.<ext>`, streamed: read once to compute its
/// CRC-32 and check its SHA-256, then copied into the archive through a fixed buffer and
/// hashed again on the way, so a recording of several GB is never held in memory and one that
/// changed between the two reads fails the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub sha256: Sha256Hex,
    /// What the recording is, for the index (e.g. 执法记录仪视频：询问过程).
    pub describe_zh: String,
    pub describe_en: String,
}

/// Everything an export needs.
pub struct ExportInput<'a> {
    /// The record's Automerge document, as saved (any later state: the signed version is
    /// re-materialised from it).
    pub document: &'a [u8],
    /// Which signed version (`signed_versions` key); `None` takes the latest.
    pub signed_version: Option<&'a str>,
    pub photos: &'a dyn PhotoSource,
    /// Audio and video recordings to bundle (read from `photos`, the blob store), in this
    /// order after the photos.
    pub media: &'a [MediaFile],
    pub documents: &'a dyn DocumentRenderer,
    pub signer: SignerIdentity,
    /// The exporting device's key; its public half must be `signer.public_key`.
    pub key: &'a SigningKey,
    pub exported_at: Timestamp,
}

impl std::fmt::Debug for ExportInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportInput")
            .field("document_len", &self.document.len())
            .field("signed_version", &self.signed_version)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

/// Progress of an export, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// The file being written.
    pub current: String,
}

/// What an export produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Size of the case file.
    pub bytes: u64,
    /// Files in the case file, manifest and signature included.
    pub files: usize,
    pub photos: usize,
    /// Audio and video recordings.
    pub media: usize,
    pub signed_version: String,
    pub amended: bool,
    /// SHA-256 of `manifest.json`.
    pub manifest_sha256: Sha256Hex,
    pub public_key: String,
    pub fingerprint: String,
    pub trail_head: String,
    /// What the documents print differently from the record (each also noted beside its
    /// document in the case file's index); empty when every document is exact.
    pub warnings: Vec<DocumentWarning>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the record's document does not load: {0}")]
    Document(#[from] DocError),
    #[error("the record has no signed version: sign it before exporting a case file")]
    NotSigned,
    #[error(transparent)]
    Signed(#[from] SignError),
    #[error("the signer's public key {named} is not the key given to sign with ({actual})")]
    KeyMismatch { named: String, actual: String },
    #[error("original photo {sha} could not be read: {source}")]
    PhotoUnreadable {
        sha: Sha256Hex,
        #[source]
        source: io::Error,
    },
    #[error("original photo {expected} is damaged: its bytes hash to {found}; it was not bundled")]
    PhotoCorrupt {
        expected: Sha256Hex,
        found: Sha256Hex,
    },
    #[error("original photo {sha} changed size while it was copied ({expected} → {found} bytes)")]
    PhotoSizeChanged {
        sha: Sha256Hex,
        expected: u64,
        found: u64,
    },
    #[error("recording {sha} could not be read: {source}")]
    MediaUnreadable {
        sha: Sha256Hex,
        #[source]
        source: io::Error,
    },
    #[error("recording {expected} is damaged: its bytes hash to {found}; it was not bundled")]
    MediaCorrupt {
        expected: Sha256Hex,
        found: Sha256Hex,
    },
    #[error("recording {sha} is listed twice")]
    MediaTwice { sha: Sha256Hex },
    #[error("the documents could not be rendered: {0}")]
    Render(RenderError),
    #[error("document file name {0:?} is not a plain file name")]
    BadDocumentName(String),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("could not write the case file: {0}")]
    Write(#[from] io::Error),
}

/// The file extension of an original, from its first bytes.
pub fn photo_extension(head: &[u8]) -> &'static str {
    if head.starts_with(&[0xff, 0xd8, 0xff]) {
        "jpg"
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        "webp"
    } else {
        "bin"
    }
}

/// One file of a case file to write, in archive order.
pub(crate) struct Planned {
    pub(crate) path: String,
    pub(crate) content: Content,
    pub(crate) size: u64,
    pub(crate) sha256: Sha256Hex,
    pub(crate) describe_zh: String,
    pub(crate) describe_en: String,
}

/// Where a planned file's bytes come from.
pub(crate) enum Content {
    /// Made in memory (JSON, PDF, the index).
    Made(Vec<u8>),
    /// An original photo, read whole from the source while hashed.
    Photo(Sha256Hex),
    /// An original streamed from the source, with the CRC-32 a first read computed (and
    /// checked against its name); `photo` says which errors name it.
    Streamed {
        sha: Sha256Hex,
        crc: u32,
        photo: bool,
    },
}

impl Planned {
    pub(crate) fn made(path: String, bytes: Vec<u8>, zh: &str, en: &str) -> Self {
        Self {
            size: bytes.len() as u64,
            sha256: Sha256Hex::of(&bytes),
            path,
            content: Content::Made(bytes),
            describe_zh: zh.to_owned(),
            describe_en: en.to_owned(),
        }
    }

    /// An original to stream, read once now ([`scan_original`]) for its size and CRC-32 and
    /// checked against its name; its path is `dir`, its digest and the extension `ext` gives
    /// from its first bytes.
    pub(crate) fn streamed(
        source: &dyn PhotoSource,
        sha: &Sha256Hex,
        photo: bool,
        dir: &str,
        ext: impl FnOnce(&[u8]) -> &'static str,
        zh: String,
        en: String,
    ) -> Result<Self, ExportError> {
        let scan = scan_original(source, sha, photo)?;
        Ok(Self {
            path: format!("{dir}{sha}.{}", ext(&scan.head)),
            content: Content::Streamed {
                sha: sha.clone(),
                crc: scan.crc,
                photo,
            },
            size: scan.size,
            sha256: sha.clone(),
            describe_zh: zh,
            describe_en: en,
        })
    }

    pub(crate) fn is_photo(&self) -> bool {
        matches!(
            self.content,
            Content::Photo(_) | Content::Streamed { photo: true, .. }
        )
    }

    pub(crate) fn is_media(&self) -> bool {
        matches!(self.content, Content::Streamed { photo: false, .. })
    }
}

/// The public key (hex) of `key`, which must be the one `signer` names.
pub(crate) fn check_key(key: &SigningKey, signer: &SignerIdentity) -> Result<String, ExportError> {
    let public_key = app_core::evidence::hex(key.verifying_key().as_bytes());
    if public_key != signer.public_key {
        return Err(ExportError::KeyMismatch {
            named: signer.public_key.clone(),
            actual: public_key,
        });
    }
    Ok(public_key)
}

/// Plans the rendered documents under `documents/`, in their order, each described with its
/// title and what it prints differently from the record (collected in `warnings`).
pub(crate) fn plan_documents(
    rendered: Vec<RenderedDocument>,
    plan: &mut Vec<Planned>,
    warnings: &mut Vec<DocumentWarning>,
) -> Result<(), ExportError> {
    for d in rendered {
        if d.file_name.contains('/') {
            return Err(ExportError::BadDocumentName(d.file_name));
        }
        let mut zh = format!("执法文书：{}", d.title_zh);
        let mut en = format!("enforcement document: {}", d.title_zh);
        for warning in d.warnings {
            let w = DocumentWarning {
                file_name: d.file_name.clone(),
                title_zh: d.title_zh.clone(),
                warning,
            };
            zh.push('。');
            zh.push_str(&w.text(app_core::messages::Lang::Zh));
            en.push(' ');
            en.push_str(&w.text(app_core::messages::Lang::En));
            warnings.push(w);
        }
        plan.push(Planned::made(
            format!("{DOCUMENTS_DIR}{}", d.file_name),
            d.bytes,
            &zh,
            &en,
        ));
    }
    Ok(())
}

/// What [`write_signed`] wrote.
pub(crate) struct Written {
    /// Size of the case file.
    pub(crate) bytes: u64,
    pub(crate) manifest_bytes: Vec<u8>,
}

/// Writes the planned files into `zip` in their order (originals re-hashed on the way), then
/// the manifest `manifest` makes of their entries and its signature by `key`, and finishes
/// the archive: the one way every case file is written.
pub(crate) fn write_signed<W: Write>(
    mut zip: ZipWriter<W>,
    plan: &[Planned],
    source: &dyn PhotoSource,
    key: &SigningKey,
    manifest: impl FnOnce(Vec<FileEntry>) -> Manifest,
    progress: &mut dyn FnMut(Progress),
) -> Result<Written, ExportError> {
    let total: u64 = plan.iter().map(|p| p.size).sum();
    let mut done = 0u64;
    let mut files = Vec::with_capacity(plan.len());
    for p in plan {
        progress(Progress {
            bytes_done: done,
            bytes_total: total,
            current: p.path.clone(),
        });
        let mut report = |n: u64| {
            done += n;
            progress(Progress {
                bytes_done: done,
                bytes_total: total,
                current: p.path.clone(),
            });
        };
        match &p.content {
            Content::Made(bytes) => {
                zip.add(&p.path, bytes, None, &mut report)?;
            }
            Content::Photo(sha) => {
                let (bytes, crc) = read_photo(source, sha, p.size)?;
                zip.add(&p.path, &bytes, Some(crc), &mut report)?;
            }
            Content::Streamed { sha, crc, photo } => {
                let mut reader = source.open(sha).map_err(|e| unreadable(sha, *photo, e))?;
                let found = zip.add_reader(&p.path, p.size, *crc, &mut *reader, &mut report)?;
                if &found != sha {
                    return Err(corrupt(sha, found, *photo));
                }
            }
        }
        files.push(FileEntry {
            path: p.path.clone(),
            size: p.size,
            sha256: p.sha256.clone(),
        });
    }
    let manifest_bytes = manifest(files).to_bytes();
    let signature = key.sign(&manifest_bytes);
    zip.add(MANIFEST, &manifest_bytes, None, &mut |_| {})?;
    zip.add(SIGNATURE, &signature.to_bytes(), None, &mut |_| {})?;
    let (_, bytes) = zip.finish()?;
    progress(Progress {
        bytes_done: total,
        bytes_total: total,
        current: String::new(),
    });
    Ok(Written {
        bytes,
        manifest_bytes,
    })
}

fn unreadable(sha: &Sha256Hex, photo: bool, source: io::Error) -> ExportError {
    let sha = sha.clone();
    if photo {
        ExportError::PhotoUnreadable { sha, source }
    } else {
        ExportError::MediaUnreadable { sha, source }
    }
}

fn corrupt(expected: &Sha256Hex, found: Sha256Hex, photo: bool) -> ExportError {
    let expected = expected.clone();
    if photo {
        ExportError::PhotoCorrupt { expected, found }
    } else {
        ExportError::MediaCorrupt { expected, found }
    }
}

/// Writes the case file of one inspection to `out`. `progress` is called as files are
/// written (at least once per file and per MiB).
pub fn export(
    input: &ExportInput<'_>,
    out: impl Write,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    let public_key = check_key(input.key, &input.signer)?;
    let mut doc = InspectionDoc::load(input.document, &input.signer.device)?;
    let version_id = match input.signed_version {
        Some(id) => id.to_owned(),
        None => doc
            .record()
            .latest_signed_version()
            .ok_or(ExportError::NotSigned)?,
    };
    let signed = doc.signed_record(&version_id)?;
    let version = doc.record().signed_versions[&version_id].clone();
    let heads: Vec<ChangeHash> = version
        .heads
        .iter()
        .map(|h| h.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| SignError::BadHeads(version_id.clone()))?;
    let amendments = doc.amendments(&version_id)?;
    let amended = !amendments.is_empty();
    let at_signing = doc
        .automerge_mut()
        .fork_at(&heads)
        .map_err(DocError::from)?
        .save();
    let after: HashSet<String> = doc
        .changes_since(&heads)
        .into_iter()
        .map(|c| c.hash)
        .collect();
    let trail = trail::build(&doc.history(), &|h| after.contains(h));
    let trail_head = trail::head(&trail).to_owned();
    let current = doc.record().clone();

    let rendered = input
        .documents
        .render(&signed)
        .map_err(ExportError::Render)?;

    let mut plan = vec![
        Planned::made(
            RECORD_JSON.into(),
            pretty(&signed),
            "检查记录（已签署版本，JSON）",
            "the record as signed (JSON)",
        ),
        Planned::made(
            RECORD_AUTOMERGE.into(),
            at_signing,
            "检查记录的 Automerge 文档（签署时的版本）",
            "the record's Automerge document at the signed heads",
        ),
        Planned::made(
            TRAIL.into(),
            pretty(&trail),
            "审计轨迹（哈希链）",
            "the audit trail (hash-chained)",
        ),
    ];
    if amended {
        plan.push(Planned::made(
            AMENDMENTS.into(),
            pretty(&amendments),
            "签署后的修改",
            "changes made after signing",
        ));
    }
    let mut warnings = Vec::new();
    plan_documents(rendered, &mut plan, &mut warnings)?;
    let mut digests: BTreeSet<Sha256Hex> = signed.photo_digests();
    digests.extend(current.photo_digests());
    for sha in digests {
        let unreadable = |source| ExportError::PhotoUnreadable {
            sha: sha.clone(),
            source,
        };
        let size = input.photos.size(&sha).map_err(unreadable)?;
        let mut head = [0u8; 12];
        let n = read_up_to(
            &mut *input.photos.open(&sha).map_err(unreadable)?,
            &mut head,
        )
        .map_err(unreadable)?;
        let in_signed = signed.photo_digests().contains(&sha);
        plan.push(Planned {
            path: format!("{PHOTOS_DIR}{sha}.{}", photo_extension(&head[..n])),
            content: Content::Photo(sha.clone()),
            size,
            sha256: sha,
            describe_zh: if in_signed {
                "原始照片（原样）".into()
            } else {
                "原始照片（签署后添加）".into()
            },
            describe_en: if in_signed {
                "original photo, byte for byte".into()
            } else {
                "original photo, added after signing".into()
            },
        });
    }

    let mut seen = HashSet::new();
    for m in input.media {
        if !seen.insert(&m.sha256) {
            return Err(ExportError::MediaTwice {
                sha: m.sha256.clone(),
            });
        }
        plan.push(Planned::streamed(
            input.photos,
            &m.sha256,
            false,
            MEDIA_DIR,
            media_extension,
            m.describe_zh.clone(),
            m.describe_en.clone(),
        )?);
    }

    let index_files: Vec<IndexFile<'_>> = plan
        .iter()
        .map(|p| IndexFile {
            path: &p.path,
            size: p.size,
            sha256: &p.sha256,
            zh: &p.describe_zh,
            en: &p.describe_en,
        })
        .collect();
    let index_html = index::render(&index::IndexInput {
        record: &signed,
        version_id: &version_id,
        version: &version,
        amendments: &amendments,
        signer: &input.signer,
        fingerprint: &manifest::fingerprint(&input.key.verifying_key()),
        exported_at: input.exported_at,
        files: &index_files,
        trail: &trail,
    });
    plan.insert(
        0,
        Planned::made(
            INDEX.into(),
            index_html.into_bytes(),
            "目录（本文件）",
            "this index",
        ),
    );

    let manifest = |files| Manifest {
        format: manifest::FORMAT.into(),
        inspection: signed.id.clone(),
        case: None,
        signed_version: version_id.clone(),
        heads: version.heads.clone(),
        content_hash: version.content_hash.clone(),
        amended,
        exported_at: input.exported_at,
        signer: input.signer.clone(),
        trail_head: trail_head.clone(),
        files,
    };
    let written = write_signed(
        ZipWriter::new(out),
        &plan,
        input.photos,
        input.key,
        manifest,
        progress,
    )?;
    Ok(ExportSummary {
        bytes: written.bytes,
        files: plan.len() + 2,
        media: plan.iter().filter(|p| p.is_media()).count(),
        photos: plan.iter().filter(|p| p.is_photo()).count(),
        signed_version: version_id,
        amended,
        manifest_sha256: Sha256Hex::of(&written.manifest_bytes),
        public_key,
        fingerprint: manifest::fingerprint(&input.key.verifying_key()),
        trail_head,
        warnings,
    })
}

pub(crate) fn pretty<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("values serialise");
    bytes.push(b'\n');
    bytes
}

fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The file extension of a recording, from its first bytes (`bin` for an unknown kind).
pub(crate) fn media_extension(head: &[u8]) -> &'static str {
    MediaKind::sniff(head).map_or("bin", MediaKind::extension)
}

/// What the first read of a streamed original found.
struct Scan {
    size: u64,
    crc: u32,
    /// Its first bytes (up to [`SNIFF_LEN`]), to tell its kind.
    head: Vec<u8>,
}

/// The first read of an original to stream (a recording, or a penalty case's photo): its
/// size, its CRC-32 (which the ZIP header needs before the data) and its first bytes,
/// checking that it hashes to its name. Streamed through a fixed buffer.
fn scan_original(
    source: &dyn PhotoSource,
    sha: &Sha256Hex,
    photo: bool,
) -> Result<Scan, ExportError> {
    let unreadable = |e| unreadable(sha, photo, e);
    let mut reader = source.open(sha).map_err(unreadable)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut hasher = Sha256::new();
    let mut crc = crc32fast::Hasher::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    loop {
        let n = read_up_to(&mut *reader, &mut buf).map_err(unreadable)?;
        if size == 0 {
            head = buf[..n.min(SNIFF_LEN)].to_vec();
        }
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        crc.update(&buf[..n]);
        size += n as u64;
    }
    let found = Sha256Hex::from_digest(&hasher.finalize());
    if &found != sha {
        return Err(corrupt(sha, found, photo));
    }
    Ok(Scan {
        size,
        crc: crc.finalize(),
        head,
    })
}

/// Reads an original whole, hashing (SHA-256 and CRC-32) each chunk as it arrives, and
/// checks it against its name.
fn read_photo(
    source: &dyn PhotoSource,
    sha: &Sha256Hex,
    size: u64,
) -> Result<(Vec<u8>, u32), ExportError> {
    let unreadable = |source| ExportError::PhotoUnreadable {
        sha: sha.clone(),
        source,
    };
    let mut reader = source.open(sha).map_err(unreadable)?;
    let mut bytes = vec![0u8; size as usize];
    let mut hasher = Sha256::new();
    let mut crc = crc32fast::Hasher::new();
    let mut filled = 0usize;
    const CHUNK: usize = 1 << 20;
    while filled < bytes.len() {
        let end = (filled + CHUNK).min(bytes.len());
        let n = read_up_to(&mut *reader, &mut bytes[filled..end]).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.update(&bytes[filled..filled + n]);
        crc.update(&bytes[filled..filled + n]);
        filled += n;
    }
    let mut probe = [0u8; 1];
    let longer = read_up_to(&mut *reader, &mut probe).map_err(unreadable)? > 0;
    if filled as u64 != size || longer {
        return Err(ExportError::PhotoSizeChanged {
            sha: sha.clone(),
            expected: size,
            found: filled as u64 + u64::from(longer),
        });
    }
    let found = Sha256Hex::from_digest(&hasher.finalize());
    if &found != sha {
        return Err(ExportError::PhotoCorrupt {
            expected: sha.clone(),
            found,
        });
    }
    Ok((bytes, crc.finalize()))
}
