//! Exporting a case file (电子案卷) from the tablet: the record's document from the store,
//! the original photos and signature images from the blob store, the enforcement documents
//! rendered by `pdf-forms`, signed with this device's key (the one registered with the
//! server). The file appears under its final name only when complete.
//!
//! An export runs in two steps so that the store is not held while it works: [`ExportSource::
//! gather`] reads what the export needs (the record's saved document, its template, the
//! device key) under the store's lock; [`write_to`] / [`write_file`] then render the PDFs,
//! copy and re-hash the originals and write the archive with the store free for the screens
//! and the background sync.

use crate::blobs::BlobStore;
use crate::store::{Store, StoreError};
use app_core::checklist::ChecklistTemplate;
use app_core::geo::Timestamp;
use app_core::ids::{DeviceId, InspectionId};
use app_core::inspection::Inspection;
use app_core::user::User;
pub use casefile::WrittenFile;
use casefile::{
    BlobDir, ExportError, ExportInput, ExportSummary, FileError, PdfForms, Progress, SignerIdentity,
};
use ed25519_dalek::SigningKey;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the record's checklist template {0} is not in this tablet's reference data")]
    NoTemplate(String),
    #[error(transparent)]
    Export(Box<ExportError>),
    #[error("could not write the case file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ExportError> for CaseFileError {
    fn from(e: ExportError) -> Self {
        CaseFileError::Export(Box::new(e))
    }
}

/// What to export, and who exports it.
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest<'a> {
    pub id: &'a InspectionId,
    /// The signed version (`signed_versions` key); `None` takes the latest.
    pub version: Option<&'a str>,
    /// The signed-in user, named in the manifest as the signer.
    pub user: &'a User,
    /// The user's unit's full name (printed on the documents and named in the manifest).
    pub unit_name: &'a str,
    pub now: Timestamp,
}

/// Everything an export reads from the store, copied out under the store's lock: the
/// record's Automerge document as saved, the record as it reads now, its checklist template
/// and this device's identity and signing key. The export itself needs only this and the
/// blob folder.
#[derive(Clone)]
pub struct ExportSource {
    pub document: Vec<u8>,
    pub record: Inspection,
    pub template: ChecklistTemplate,
    pub device: DeviceId,
    pub key: SigningKey,
}

impl std::fmt::Debug for ExportSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSource")
            .field("record", &self.record.id)
            .field("document_len", &self.document.len())
            .field("template", &self.template.reference())
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl ExportSource {
    /// Reads what exporting record `id` needs. Cheap next to the export (no rendering, no
    /// photo is read): call it under the store's lock and release the lock before writing.
    pub fn gather(store: &mut Store, id: &InspectionId) -> Result<Self, CaseFileError> {
        let key = crate::sync::device_key(store)?;
        let record = store.inspection(id)?;
        let template = store
            .template(&record.template)?
            .ok_or_else(|| CaseFileError::NoTemplate(record.template.to_string()))?;
        let document = store.document(id)?.save();
        Ok(Self {
            document,
            record,
            template,
            device: store.device().clone(),
            key,
        })
    }

    /// The signed version an export with `version` would take: that one if the record has
    /// it, else (for `None`) the latest by time, then id — `casefile::export`'s choice.
    pub fn signed_version(&self, version: Option<&str>) -> Option<String> {
        let versions = &self.record.signed_versions;
        match version {
            Some(v) => versions.contains_key(v).then(|| v.to_owned()),
            None => versions
                .iter()
                .max_by(|a, b| a.1.at.cmp(&b.1.at).then(a.0.cmp(b.0)))
                .map(|(id, _)| id.clone()),
        }
    }
}

/// Writes the case file of the requested record and version to `out`, reporting progress.
/// Reads the store only to [`ExportSource::gather`]; the export runs while `store` is
/// borrowed (callers sharing the store should gather under their lock and call
/// [`write_to`]).
pub fn export_to(
    store: &mut Store,
    blobs: &BlobStore,
    request: &ExportRequest<'_>,
    out: impl Write,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, CaseFileError> {
    let source = ExportSource::gather(store, request.id)?;
    write_to(&source, blobs.root(), request, out, progress)
}

/// Writes the case file of `source` to `out`: the store is not needed, the originals and
/// signature images are read from the blob folder at `blobs`.
pub fn write_to(
    source: &ExportSource,
    blobs: &Path,
    request: &ExportRequest<'_>,
    out: impl Write,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, CaseFileError> {
    with_input(source, blobs, request, |input| {
        Ok(casefile::export(input, out, progress)?)
    })
}

/// Runs `f` on the export input of `source` (its PDFs rendered from the blob folder at
/// `blobs`, signed with the device's key).
fn with_input<T>(
    source: &ExportSource,
    blobs: &Path,
    request: &ExportRequest<'_>,
    f: impl FnOnce(&ExportInput<'_>) -> T,
) -> T {
    let photos = BlobDir(blobs.to_path_buf());
    let documents = PdfForms {
        template: Some(&source.template),
        unit_name: request.unit_name,
        images: &photos,
    };
    let input = ExportInput {
        document: &source.document,
        signed_version: request.version,
        photos: &photos,
        media: &[],
        documents: &documents,
        signer: SignerIdentity::new(
            request.user,
            request.unit_name,
            &source.device,
            &source.key.verifying_key(),
        ),
        key: &source.key,
        exported_at: request.now,
    };
    f(&input)
}

/// [`export_to`] a file at `path`: written beside it under a temporary name, synced, then
/// renamed, so `path` never holds a partial case file (a failed export leaves nothing).
pub fn export_file(
    store: &mut Store,
    blobs: &BlobStore,
    request: &ExportRequest<'_>,
    path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, CaseFileError> {
    let source = ExportSource::gather(store, request.id)?;
    write_file(&source, blobs.root(), request, path, progress).map(|w| w.summary)
}

/// [`write_to`] a file at `path` through [`casefile::export_file`] (`<path>.partial` first;
/// synced, renamed, the folder synced), so `path` never holds a partial case file and a
/// failed export leaves no file behind.
pub fn write_file(
    source: &ExportSource,
    blobs: &Path,
    request: &ExportRequest<'_>,
    path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<WrittenFile, CaseFileError> {
    with_input(source, blobs, request, |input| {
        casefile::export_file(input, path, progress).map_err(|e| match e {
            FileError::Export(e) => CaseFileError::Export(e),
            FileError::Io { path, source } => CaseFileError::Io { path, source },
        })
    })
}

#[cfg(test)]
mod tests {
    //! A record made through the real store API on a real SQLite file, with real camera
    //! photos ingested into the blob store, exported and verified.

    use super::*;
    use crate::photo::{self, IngestLimits};
    use crate::store::PhotoTarget;
    use app_core::checklist::ChecklistTemplate;
    use app_core::docnumber::{DocumentKind, IssuedDocument};
    use app_core::enterprise::Enterprise;
    use app_core::evidence::Sha256Hex;
    use app_core::ids::ItemCode;
    use app_core::inspection::{
        Answer, Command, Context, Inspection, InspectionStatus, InspectorRef, OnsitePerson,
        SignOutcome, Signature, Signer,
    };
    use app_core::kind::InspectionKind;
    use casefile::{TrustedKey, VerifyOptions};
    use std::fs::{self, File};

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    const PHOTOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/photos");
    const T0: i64 = 1_795_420_800_000;

    fn read_json<T: serde::de::DeserializeOwned>(path: &str) -> T {
        serde_json::from_str(&fs::read_to_string(Path::new(ROOT).join(path)).unwrap()).unwrap()
    }

    fn user(id: &str) -> User {
        read_json::<Vec<User>>("fixtures/demo/users.json")
            .into_iter()
            .find(|u| u.id.as_str() == id)
            .unwrap()
    }

    fn cx<'a>(u: &'a User, t: &'a ChecklistTemplate, minute: i64) -> Context<'a> {
        Context {
            actor: u,
            now: Timestamp(T0 + minute * 60_000),
            template: t,
        }
    }

    fn inspector_ref(u: &User) -> InspectorRef {
        InspectorRef {
            user: u.id.clone(),
            name: u.name.clone(),
            certificate: u.certificate().unwrap().clone(),
        }
    }

    struct Tablet {
        _dir: tempfile::TempDir,
        root: PathBuf,
        store: Store,
        blobs: BlobStore,
        id: InspectionId,
        originals: Vec<PathBuf>,
    }

    /// On site with two inspectors: two items failed with a camera photo each, the
    /// inspectors' handwritten signatures (JPEG blobs), the enterprise's refusal with a
    /// witness, the inspection record's number issued, signed as `v1`.
    fn tablet() -> Tablet {
        tablet_for(None)
    }

    /// [`tablet`] with the enterprise's name replaced by `name`.
    fn tablet_for(name: Option<&str>) -> Tablet {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let mut store = Store::open(&root.join("tablet.db")).unwrap();
        let blobs = BlobStore::open(root.join("blobs")).unwrap();
        let text =
            fs::read_to_string(Path::new(ROOT).join("fixtures/checklists/gongmao.toml")).unwrap();
        let t = ChecklistTemplate::parse_toml(&text).unwrap();
        store.replace_reference(std::slice::from_ref(&t)).unwrap();
        let e = &read_json::<Vec<Enterprise>>("fixtures/demo/enterprises.json")[0];
        let (w, l) = (user("u-wang"), user("u-li"));
        let mut snapshot: app_core::inspection::EnterpriseSnapshot = e.into();
        if let Some(name) = name {
            snapshot.name = name.into();
        }
        let record = Inspection::new_draft(
            "insp-tablet-1".into(),
            InspectionKind::Routine,
            e.unit.clone(),
            snapshot,
            t.reference(),
            w.id.clone(),
            Timestamp(T0),
        );
        let id = record.id.clone();
        store.create_inspection(&record, &t, Timestamp(T0)).unwrap();
        let mut minute = 1;
        let mut apply = |store: &mut Store, who: &User, c: Command| {
            store.apply(&id, &c, &cx(who, &t, minute)).unwrap();
            minute += 1;
        };
        apply(&mut store, &w, Command::AddInspector(inspector_ref(&w)));
        apply(&mut store, &w, Command::AddInspector(inspector_ref(&l)));
        apply(
            &mut store,
            &w,
            Command::Transition {
                to: InspectionStatus::OnSite,
                comment: String::new(),
            },
        );
        let items: Vec<ItemCode> = t.items().take(2).map(|i| i.code.clone()).collect();
        let mut originals = Vec::new();
        for (item, name) in items
            .iter()
            .zip(["gps-DSCN0010.jpg", "orientation-landscape_6.jpg"])
        {
            apply(
                &mut store,
                &l,
                Command::Answer {
                    item: item.clone(),
                    answer: Some(Answer::Fails),
                },
            );
            let path = Path::new(PHOTOS).join(name);
            let ingested = photo::ingest_file(&blobs, &path, &IngestLimits::default()).unwrap();
            store
                .attach_photo(
                    &id,
                    &PhotoTarget::Item(item.clone()),
                    &ingested,
                    &cx(&w, &t, 30),
                )
                .unwrap();
            originals.push(path);
        }
        apply(
            &mut store,
            &l,
            Command::SetOnsitePerson(OnsitePerson {
                name: "陈经理".into(),
                position: "安全主管".into(),
                phone: "13800000000".into(),
            }),
        );
        for (u, name) in [(&w, "Canon_40D.jpg"), (&l, "Nikon_D70.jpg")] {
            let path = Path::new(PHOTOS).join(name);
            let image = photo::ingest_file(&blobs, &path, &IngestLimits::default()).unwrap();
            originals.push(path);
            apply(
                &mut store,
                u,
                Command::Sign(Signature {
                    signer: Signer::Inspector(u.id.clone()),
                    name: u.name.clone(),
                    outcome: SignOutcome::Signed {
                        image: image.sha256,
                    },
                    at: Timestamp(T0 + 3_600_000),
                    read: Vec::new(),
                }),
            );
        }
        apply(
            &mut store,
            &w,
            Command::Sign(Signature {
                signer: Signer::Enterprise,
                name: "陈经理".into(),
                outcome: SignOutcome::Refused {
                    witness: "社区网格员 刘洋".into(),
                    note: "拒绝签字".into(),
                },
                at: Timestamp(T0 + 3_600_000),
                read: Vec::new(),
            }),
        );
        let device = store.device().clone();
        apply(
            &mut store,
            &w,
            Command::IssueDocument(IssuedDocument {
                kind: DocumentKind::InspectionRecord,
                number: "（玄武）应急检记〔2026〕1号".into(),
                seq: 1,
                year: 2026,
                at: Timestamp(T0 + 3_700_000),
                by: w.id.clone(),
                device,
            }),
        );
        store.sign(&id, "v1", &cx(&w, &t, 90)).unwrap();
        Tablet {
            _dir: dir,
            root,
            store,
            blobs,
            id,
            originals,
        }
    }

    #[test]
    fn a_record_from_the_store_exports_as_a_verifiable_case_file_with_its_pdfs_and_originals() {
        let mut tab = tablet();
        let w = user("u-wang");
        let path = tab.root.join("export").join("case.zip");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut seen: Vec<Progress> = Vec::new();
        let summary = export_file(
            &mut tab.store,
            &tab.blobs,
            &ExportRequest {
                id: &tab.id,
                version: None,
                user: &w,
                unit_name: "南京市玄武区应急管理局",
                now: Timestamp(T0 + 86_400_000),
            },
            &path,
            &mut |p| seen.push(p),
        )
        .unwrap();
        assert_eq!(summary.signed_version, "v1");
        assert_eq!(summary.photos, 4);
        assert_eq!(fs::metadata(&path).unwrap().len(), summary.bytes);
        let total = seen[0].bytes_total;
        assert_eq!(seen.last().unwrap().bytes_done, total);
        assert!(
            seen.iter()
                .any(|p| p.current == "documents/现场检查记录.pdf")
        );

        // Verified against the key this device registers with the server.
        let key = crate::sync::device_key(&tab.store).unwrap().verifying_key();
        let options = VerifyOptions {
            trusted_keys: vec![TrustedKey {
                key,
                label: tab.store.device().to_string(),
            }],
        };
        let report = casefile::verify(File::open(&path).unwrap(), &options);
        assert!(report.holds(), "{}", report.render_zh_en());
        let manifest = report.manifest.unwrap();
        assert_eq!(manifest.signer.device, *tab.store.device());
        assert_eq!(manifest.signer.unit_name, "南京市玄武区应急管理局");

        let files = casefile::archive::read_all(File::open(&path).unwrap()).unwrap();
        let pdf = &files
            .iter()
            .find(|(n, _)| n == "documents/现场检查记录.pdf")
            .unwrap()
            .1;
        assert!(pdf.starts_with(b"%PDF-"));
        for original in &tab.originals {
            let bytes = fs::read(original).unwrap();
            let name = format!("photos/{}.jpg", Sha256Hex::of(&bytes));
            let (_, inside) = files.iter().find(|(n, _)| *n == name).unwrap();
            assert_eq!(inside, &bytes, "{} not byte for byte", original.display());
        }
        // No temporary file is left beside it.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_name_with_a_character_no_font_has_exports_with_a_placeholder_and_a_warning() {
        // 𰻞 (Extension G) is in the fonts; U+2EBF0 (Extension I) is in none of them.
        let name = "西安𰻞𰻞面馆\u{2EBF0}记有限公司";
        let mut tab = tablet_for(Some(name));
        let w = user("u-wang");
        let path = tab.root.join("case.zip");
        let summary = export_file(
            &mut tab.store,
            &tab.blobs,
            &ExportRequest {
                id: &tab.id,
                version: None,
                user: &w,
                unit_name: "南京市玄武区应急管理局",
                now: Timestamp(T0 + 86_400_000),
            },
            &path,
            &mut |_| {},
        )
        .unwrap();
        let [warning] = &summary.warnings[..] else {
            panic!("{:?}", summary.warnings);
        };
        assert_eq!(warning.file_name, "现场检查记录.pdf");
        assert!(matches!(
            warning.warning,
            pdf_forms::FormWarning::UncoveredCharacter {
                ch: '\u{2EBF0}',
                ..
            }
        ));
        assert!(warning.to_string().contains("U+2EBF0"), "{warning}");
        let report = casefile::verify(File::open(&path).unwrap(), &VerifyOptions::default());
        assert!(report.manifest.is_some(), "{}", report.render_zh_en());
        let files = casefile::archive::read_all(File::open(&path).unwrap()).unwrap();
        let file = |name: &str| {
            String::from_utf8_lossy(&files.iter().find(|(n, _)| n == name).unwrap().1).into_owned()
        };
        // The record keeps the exact name; the index notes the placeholder beside the document.
        assert!(file(casefile::manifest::RECORD_JSON).contains(name));
        let index = file(casefile::manifest::INDEX);
        assert!(
            index.contains("字库未收录，文书中以 [U+2EBF0] 代替"),
            "{index}"
        );
        // The PDF prints 𰻞 and the placeholder (its text, as pdftotext reads it).
        let pdf = &files
            .iter()
            .find(|(n, _)| n == "documents/现场检查记录.pdf")
            .unwrap()
            .1;
        let pdf_path = tab.root.join("record.pdf");
        fs::write(&pdf_path, pdf).unwrap();
        let out = std::process::Command::new("pdftotext")
            .args([pdf_path.to_str().unwrap(), "-"])
            .output()
            .expect("pdftotext (poppler-utils) is installed by cargo xtask test");
        let text: String = String::from_utf8_lossy(&out.stdout)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.contains("西安𰻞𰻞面馆[U+2EBF0]记有限公司"), "{text}");
    }

    #[test]
    fn a_damaged_original_in_the_blob_store_fails_the_export_and_leaves_no_file() {
        let mut tab = tablet();
        let w = user("u-wang");
        let damaged = Sha256Hex::of(&fs::read(&tab.originals[0]).unwrap());
        let blob = tab.blobs.path(&damaged);
        let mut bytes = fs::read(&blob).unwrap();
        bytes[5000] ^= 0x20;
        fs::write(&blob, bytes).unwrap();
        let path = tab.root.join("case.zip");
        let err = export_file(
            &mut tab.store,
            &tab.blobs,
            &ExportRequest {
                id: &tab.id,
                version: None,
                user: &w,
                unit_name: "南京市玄武区应急管理局",
                now: Timestamp(T0),
            },
            &path,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(&err, CaseFileError::Export(e) if matches!(&**e, ExportError::PhotoCorrupt { expected, .. } if *expected == damaged)),
            "{err}"
        );
        assert!(!path.exists());
        assert!(!tab.root.join("case.zip.partial").exists());
    }
}
