//! Case-file exports from the console: the server's signing key (made on first use from the
//! operating system's randomness, stored so that every instance signs alike), starting an
//! export of a readable, signed record, and finding a job its viewer may see. Writing the
//! file itself (PDFs, photos, ZIP) is `casefile::export`, run by the console on a blocking
//! thread; its progress and outcome are stored through [`CaseFileStore`].

use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::casefiles::{CaseFileStore, DeviceKeyRow, Job};
use crate::store::records;
use crate::store::{PlanStore, RecordStore, StoreError};
use app_core::access::can_read_record;
use app_core::user::User;
use ed25519_dalek::SigningKey;

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
pub fn server_key<S: CaseFileStore + ?Sized>(
    store: &S,
    now: i64,
) -> Result<SigningKey, CaseFileError> {
    if let Some(k) = key_from(store.server_secret()?) {
        return Ok(k);
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| CaseFileError::NoRandomness(e.to_string()))?;
    store.insert_server_secret(&secret, now)?;
    key_from(store.server_secret()?)
        .ok_or_else(|| StoreError::Corrupt("the server key was not stored".into()).into())
}

/// The keys a case file sent in is checked against: the server's and every registered
/// device's.
pub fn trusted_keys<S: CaseFileStore + ?Sized>(
    store: &S,
    now: i64,
) -> Result<(ed25519_dalek::VerifyingKey, Vec<DeviceKeyRow>), CaseFileError> {
    let server = server_key(store, now)?.verifying_key();
    Ok((server, store.device_keys()?))
}

/// Refuses (as not found) a user who may not read stored record `record`.
pub fn check_readable<S: RecordStore + PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    record: &str,
) -> Result<(), CaseFileError> {
    let scope = access::scope(store, reference, record)?.ok_or(CaseFileError::NotFound)?;
    if can_read_record(user, &scope, &reference.units) {
        Ok(())
    } else {
        Err(CaseFileError::NotFound)
    }
}

/// Starts export `job` of `record`'s latest signed version for `user` at `now`: the record
/// must be readable and signed. The caller runs the export afterwards.
pub fn start_export<S: RecordStore + PlanStore + CaseFileStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    record: &str,
    job: &str,
    now: i64,
) -> Result<(), CaseFileError> {
    check_readable(store, reference, user, record)?;
    let stored = records::load(store, record)?.ok_or(CaseFileError::NotFound)?;
    if stored.doc.record().signed_versions.is_empty() {
        return Err(CaseFileError::NotSigned);
    }
    store.insert_job(job, record, user.id.as_str(), now)?;
    Ok(())
}

/// Job `id` as of `now`, if it exists and `user` may read its record.
pub fn readable_job<S: RecordStore + PlanStore + CaseFileStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    id: &str,
    now: i64,
) -> Result<Job, CaseFileError> {
    let job = store.job(id, now)?.ok_or(CaseFileError::NotFound)?;
    check_readable(store, reference, user, &job.record_id)?;
    Ok(job)
}
