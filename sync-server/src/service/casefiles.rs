//! Case-file exports from the console: the server's signing key (made on first use from the
//! operating system's randomness, stored so that every instance signs alike), starting an
//! export of a readable, signed record, running it ([`run_export`], on a blocking thread:
//! `casefile::export` renders the PDFs and writes the ZIP; its progress and outcome are stored
//! through [`CaseFileStore`]), and finding a job its viewer may see.

use crate::reference::ReferenceData;
use crate::service::access;
use crate::service::cases::case_scope;
use crate::store::casefiles::{CaseFileStore, DeviceKeyRow, Job, JobOutcome};
use crate::store::cases::{CaseStore, load_case};
use crate::store::records::{self, SERVER_DEVICE};
use crate::store::{KeyHistoryStore, Lend, PlanStore, RecordStore, StoreError};
use app_core::access::can_read_record;
use app_core::geo::Timestamp;
use app_core::ids::DeviceId;
use app_core::user::User;
use casefile::{
    CaseExportInput, CasePdfForms, ExportError, ExportInput, FileError, PdfForms, Progress,
    SignerIdentity,
};
use ed25519_dalek::SigningKey;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a running export writes its progress (and at every new file).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A new job id: 32 random hex digits.
pub fn new_job_id() -> Result<String, CaseFileError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| CaseFileError::NoRandomness(e.to_string()))?;
    Ok(app_core::evidence::hex(&b))
}

/// Whether `id` is a job id (32 hex digits); anything else is not a job and never reaches a
/// path.
pub fn job_id_ok(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The finished case file of job `id` under the exports folder.
pub fn job_file(exports: &Path, id: &str) -> PathBuf {
    exports.join(format!("{id}.zip"))
}

/// How a job of a penalty case names it where a job names its subject
/// (`casefile_exports.record_id`): `case:<case id>`. A record's job names the record.
const CASE_SUBJECT: &str = "case:";

/// What an export job exports: a record's latest signed version, or a penalty case as it
/// reads now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Record(&'a str),
    Case(&'a str),
}

impl<'a> Subject<'a> {
    /// The subject a job stored as `stored` names.
    pub fn of_job(stored: &'a str) -> Self {
        match stored.strip_prefix(CASE_SUBJECT) {
            Some(case) => Subject::Case(case),
            None => Subject::Record(stored),
        }
    }

    /// How a job names this subject.
    pub fn stored(self) -> String {
        match self {
            Subject::Record(id) => id.to_owned(),
            Subject::Case(id) => format!("{CASE_SUBJECT}{id}"),
        }
    }
}

/// Why an export was not started or a job not shown.
#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    /// Not stored, or its record is not readable by the viewer (not told apart).
    #[error("not found")]
    NotFound,
    /// The record has no signed version yet.
    #[error("the record has no signed version")]
    NotSigned,
    #[error("no randomness for the server key: {0}")]
    NoRandomness(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key_from(secret: Option<Vec<u8>>) -> Option<SigningKey> {
    secret
        .and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok())
        .map(|s| SigningKey::from_bytes(&s))
}

/// The server's case-file signing key: read from the store, or made and stored on first use.
/// Two instances racing to make it end up with the same one (the first insert wins; both read
/// it back).
pub fn server_key<S: CaseFileStore + KeyHistoryStore + ?Sized>(
    store: &S,
    now: i64,
) -> Result<SigningKey, CaseFileError> {
    if let Some(k) = key_from(store.server_secret()?) {
        // A key made before the history existed (or by an older instance) starts it.
        store.start_key_history(&app_core::evidence::hex(k.verifying_key().as_bytes()), now)?;
        return Ok(k);
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| CaseFileError::NoRandomness(e.to_string()))?;
    store.insert_server_secret(&secret, now)?;
    let key = key_from(store.server_secret()?)
        .ok_or_else(|| StoreError::Corrupt("the server key was not stored".into()))?;
    store.start_key_history(
        &app_core::evidence::hex(key.verifying_key().as_bytes()),
        now,
    )?;
    Ok(key)
}

/// `admin rotate-key`: a new signing key for the case files exported from now on. The
/// outgoing key and the new one both sign the change (`casefile::keys`), the outgoing key's
/// validity ends now, and the history keeps its public key, so case files it signed still
/// verify. In one transaction (`store` is one); returns the new key.
pub fn rotate_key<S: CaseFileStore + KeyHistoryStore + ?Sized>(
    store: &S,
    now: i64,
) -> Result<SigningKey, CaseFileError> {
    let old = server_key(store, now)?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| CaseFileError::NoRandomness(e.to_string()))?;
    let new = SigningKey::from_bytes(&secret);
    let (by_old, by_new) = casefile::keys::sign_rotation(&old, &new, now);
    store.add_rotation(&casefile::keys::KeyEntry {
        public_key: app_core::evidence::hex(new.verifying_key().as_bytes()),
        valid_from: now,
        valid_until: None,
        endorsed_by_previous: Some(by_old),
        endorses_previous: Some(by_new),
    })?;
    store.replace_server_secret(&secret, now)?;
    Ok(new)
}

/// The published key history (every key with its period and rotation signatures).
pub fn key_history<S: CaseFileStore + KeyHistoryStore + ?Sized>(
    store: &S,
    now: i64,
) -> Result<casefile::KeyHistory, CaseFileError> {
    server_key(store, now)?;
    Ok(store.key_history()?)
}

/// The keys a case file sent in is checked against: the server's and every registered
/// device's.
pub fn trusted_keys<S: CaseFileStore + KeyHistoryStore + ?Sized>(
    store: &S,
    now: i64,
) -> Result<(ed25519_dalek::VerifyingKey, Vec<DeviceKeyRow>), CaseFileError> {
    let server = server_key(store, now)?.verifying_key();
    Ok((server, store.device_keys()?))
}

/// Refuses (as not found) a user who may not read stored record or case `subject`.
pub fn check_readable<S: RecordStore + PlanStore + CaseStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    subject: Subject<'_>,
) -> Result<(), CaseFileError> {
    let scope = match subject {
        Subject::Record(record) => access::scope(store, reference, record)?,
        Subject::Case(case) => load_case(store, case, &DeviceId::from(SERVER_DEVICE))?
            .map(|(doc, _)| case_scope(doc.case())),
    }
    .ok_or(CaseFileError::NotFound)?;
    if can_read_record(user, &scope, &reference.units) {
        Ok(())
    } else {
        Err(CaseFileError::NotFound)
    }
}

/// Starts export `job` of `record`'s latest signed version for `user` at `now`: the record
/// must be readable and signed. The caller runs the export afterwards.
pub fn start_export<S: RecordStore + PlanStore + CaseStore + CaseFileStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    record: &str,
    job: &str,
    now: i64,
) -> Result<(), CaseFileError> {
    check_readable(store, reference, user, Subject::Record(record))?;
    let stored = records::load(store, record)?.ok_or(CaseFileError::NotFound)?;
    if stored.doc.record().signed_versions.is_empty() {
        return Err(CaseFileError::NotSigned);
    }
    store.insert_job(job, record, user.id.as_str(), now)?;
    Ok(())
}

/// Starts export `job` of penalty case `case` as it reads now, for `user` at `now`: the case
/// must be readable (at any stage: the file names the stage). The caller runs the export.
pub fn start_case_export<S: RecordStore + PlanStore + CaseStore + CaseFileStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    case: &str,
    job: &str,
    now: i64,
) -> Result<(), CaseFileError> {
    let subject = Subject::Case(case);
    check_readable(store, reference, user, subject)?;
    store.insert_job(job, &subject.stored(), user.id.as_str(), now)?;
    Ok(())
}

/// Job `id` as of `now`, if it exists and `user` may read its record or case.
pub fn readable_job<S: RecordStore + PlanStore + CaseStore + CaseFileStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    id: &str,
    now: i64,
) -> Result<Job, CaseFileError> {
    let job = store.job(id, now)?.ok_or(CaseFileError::NotFound)?;
    check_readable(store, reference, user, Subject::of_job(&job.record_id))?;
    Ok(job)
}

/// The export's failure in Chinese and English.
fn export_failure(e: &ExportError) -> (String, String) {
    let zh = match e {
        ExportError::NotSigned => {
            "该记录尚无签署版本，不能导出电子案卷。请先在平板上完成签名并生成签署版本。".to_owned()
        }
        ExportError::PhotoUnreadable { sha, .. } => format!(
            "原件 {sha}（照片、录音录像或签名图像）在服务器上缺失或无法读取（可能尚未从平板上传）。导出已中止，未生成电子案卷。"
        ),
        ExportError::PhotoCorrupt { expected, found } => format!(
            "原件 {expected}（照片、录音录像或签名图像）已损坏：服务器上存储的内容的 SHA-256 为 {found}，与原件不符。导出已中止，未生成电子案卷。"
        ),
        ExportError::PhotoSizeChanged { sha, .. } => {
            format!(
                "原件 {sha}（照片、录音录像或签名图像）在导出过程中大小发生变化。导出已中止，未生成电子案卷。"
            )
        }
        ExportError::Render(why) => {
            format!("执法文书（PDF）无法生成：{why}。导出已中止，未生成电子案卷。")
        }
        _ => "电子案卷导出失败，未生成文件。".to_owned(),
    };
    (zh, e.to_string())
}

#[derive(Debug)]
enum JobError {
    Export(Box<ExportError>),
    Other(crate::error::Internal),
}

impl From<crate::error::Internal> for JobError {
    fn from(e: crate::error::Internal) -> Self {
        JobError::Other(e)
    }
}

impl From<ExportError> for JobError {
    fn from(e: ExportError) -> Self {
        JobError::Export(Box::new(e))
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Other(e.into())
    }
}

impl From<CaseFileError> for JobError {
    fn from(e: CaseFileError) -> Self {
        JobError::Other(e.into())
    }
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        JobError::Other(e.into())
    }
}

/// One export to run: job `id` of `record` (as the job names its subject, [`Subject`]) for
/// `user`, photos read from `blobs`, the
/// file written under `exports` (see [`job_file`]).
#[derive(Debug, Clone, Copy)]
pub struct ExportJob<'a> {
    pub id: &'a str,
    pub record: &'a str,
    pub user: &'a User,
    pub reference: &'a ReferenceData,
    pub blobs: &'a crate::blobstore::Blobs,
    pub exports: &'a Path,
}

/// Runs export `job` to the end and records its outcome (the file, or why it failed in
/// Chinese and English) through [`CaseFileStore`]; `clock` gives the time in seconds. The
/// store is borrowed from `db` only for short moments (reading the record and the key, each
/// progress update, the outcome), never while the file is written. The file is written to
/// `<job>.zip.partial` by `casefile::export_file` (the tablet's way too), fsync'd and
/// renamed, so nothing half-written is ever offered.
pub fn run_export<L>(db: &L, job: &ExportJob<'_>, clock: &dyn Fn() -> i64)
where
    L: Lend,
    L::Store: RecordStore + CaseStore + CaseFileStore + KeyHistoryStore,
{
    let final_path = job_file(job.exports, job.id);
    let outcome = write_case_file(db, job, clock, &final_path);
    let now = clock();
    let id = job.id;
    let stored = db.lend(|store| match &outcome {
        Ok(summary) => store.finish_job(
            id,
            JobOutcome::Done {
                signed_version: &summary.signed_version,
                size: summary.bytes,
                manifest_sha256: summary.manifest_sha256.as_str(),
            },
            now,
        ),
        Err(e) => {
            let (zh, en) = match e {
                JobError::Export(e) => export_failure(e),
                JobError::Other(e) => (
                    "电子案卷导出失败（服务器内部错误），未生成文件。".to_owned(),
                    format!("{e:#}"),
                ),
            };
            store.finish_job(
                id,
                JobOutcome::Failed {
                    error_zh: &zh,
                    error_en: &en,
                },
                now,
            )
        }
    });
    let (record, user) = (job.record, &job.user.id);
    match (&outcome, stored) {
        (_, Err(e)) => {
            tracing::error!(job = id, error = %e, "could not record the export's outcome")
        }
        (Ok(s), Ok(_)) => {
            for warning in &s.warnings {
                tracing::warn!(job = id, record, %warning, "case file document rendered with a warning");
            }
            tracing::info!(job = id, record, user = %user, bytes = s.bytes, "case file exported")
        }
        (Err(e), Ok(_)) => {
            tracing::warn!(job = id, record, error = ?e, "case file export failed")
        }
    }
}

fn write_case_file<L>(
    db: &L,
    job: &ExportJob<'_>,
    clock: &dyn Fn() -> i64,
    final_path: &Path,
) -> Result<casefile::ExportSummary, JobError>
where
    L: Lend,
    L::Store: RecordStore + CaseStore + CaseFileStore + KeyHistoryStore,
{
    let now = clock();
    let mut progress = progress_to(db, job, clock);
    let written = match Subject::of_job(job.record) {
        Subject::Record(record) => {
            write_record_file(db, job, record, now, final_path, &mut progress)
        }
        Subject::Case(case) => {
            write_penalty_case_file(db, job, case, now, final_path, &mut progress)
        }
    }?;
    // Where every node finds it (with S3: the bucket), before the job says done.
    if let Err(e) = job.blobs.keep_case_file_blocking(job.id, final_path) {
        let _ = fs::remove_file(final_path);
        return Err(crate::internal!("keeping the case file: {e}").into());
    }
    Ok(written.summary)
}

/// Stores an export's progress: at every new file and at most every [`PROGRESS_EVERY`].
fn progress_to<'a, L>(
    db: &'a L,
    job: &'a ExportJob<'_>,
    clock: &'a dyn Fn() -> i64,
) -> impl FnMut(Progress) + 'a
where
    L: Lend,
    L::Store: CaseFileStore,
{
    let mut last = Instant::now();
    let mut last_file = String::new();
    move |p: Progress| {
        if p.current == last_file && last.elapsed() < PROGRESS_EVERY {
            return;
        }
        last = Instant::now();
        last_file.clone_from(&p.current);
        let updated = db.lend(|store| {
            store.job_progress(job.id, p.bytes_done, p.bytes_total, &p.current, clock())
        });
        if let Err(e) = updated {
            tracing::warn!(job = job.id, error = %e, "could not store export progress");
        }
    }
}

/// The exporting supervisor as a case file's signer, with the server's key.
fn signer_of(job: &ExportJob<'_>, key: &SigningKey) -> SignerIdentity {
    SignerIdentity::new(
        job.user,
        &job.reference.unit_name(job.user.unit.as_str()),
        &DeviceId::from(SERVER_DEVICE),
        &key.verifying_key(),
    )
}

fn file_outcome(
    written: Result<casefile::WrittenFile, FileError>,
) -> Result<casefile::WrittenFile, JobError> {
    match written {
        Ok(w) => Ok(w),
        Err(FileError::Export(e)) => Err(JobError::Export(e)),
        Err(FileError::Io { path, source }) => {
            Err(crate::internal!("{}: {source}", path.display()).into())
        }
    }
}

/// A penalty case's file: the case as stored now, its documents rendered by pdf-forms, every
/// original (photos, signature images, recordings) streamed from the blob store.
fn write_penalty_case_file<L>(
    db: &L,
    job: &ExportJob<'_>,
    case_id: &str,
    now: i64,
    final_path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<casefile::WrittenFile, JobError>
where
    L: Lend,
    L::Store: CaseStore + CaseFileStore + KeyHistoryStore,
{
    let (document, unit, key) = db.lend(|store| -> Result<_, JobError> {
        let (mut doc, _) = load_case(store, case_id, &DeviceId::from(SERVER_DEVICE))
            .map_err(|e| crate::internal!("loading case {case_id}: {e}"))?
            .ok_or_else(|| crate::internal!("case {case_id} is gone"))?;
        let unit = doc.case().unit.clone();
        Ok((doc.save(), unit, server_key(store, now)?))
    })?;
    let unit_name = job.reference.unit_name(unit.as_str());
    let documents = CasePdfForms {
        unit_name: &unit_name,
        images: job.blobs,
    };
    let input = CaseExportInput {
        document: &document,
        originals: job.blobs,
        documents: &documents,
        signer: signer_of(job, &key),
        key: &key,
        exported_at: Timestamp(now.saturating_mul(1000)),
    };
    fs::create_dir_all(job.exports)?;
    file_outcome(casefile::export_case_file(&input, final_path, progress))
}

/// A record's file: its latest signed version.
fn write_record_file<L>(
    db: &L,
    job: &ExportJob<'_>,
    record_id: &str,
    now: i64,
    final_path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<casefile::WrittenFile, JobError>
where
    L: Lend,
    L::Store: RecordStore + CaseFileStore + KeyHistoryStore,
{
    let (document, record, key) = db.lend(|store| -> Result<_, JobError> {
        let mut stored = records::load(store, record_id)
            .map_err(|e| crate::internal!("loading {record_id}: {e}"))?
            .ok_or_else(|| crate::internal!("record {record_id} is gone"))?;
        let record = stored.doc.record().clone();
        Ok((stored.doc.save(), record, server_key(store, now)?))
    })?;
    let photos = job.blobs;
    let record_unit = job.reference.unit_name(record.unit.as_str());
    let documents = PdfForms {
        template: job.reference.templates.get(&record.template),
        unit_name: &record_unit,
        images: photos,
    };
    let signer = signer_of(job, &key);
    let input = ExportInput {
        document: &document,
        signed_version: None,
        photos,
        media: &[],
        documents: &documents,
        signer,
        key: &key,
        exported_at: Timestamp(now.saturating_mul(1000)),
    };
    fs::create_dir_all(job.exports)?;
    file_outcome(casefile::export_file(&input, final_path, progress))
}
