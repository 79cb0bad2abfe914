//! The right to a photo (see `crate::blobs` for the rule and the endpoints): a device has the
//! right to blob `sha` if it uploaded it, or if its user may read a stored record that names
//! it. Records may name only photos their pusher has the right to; the blob endpoints answer
//! by the same rule.

use crate::reference::ReferenceData;
use crate::service::access;
use crate::store::{BlobStore, PlanStore, RecordStore, StoreResult};
use app_core::access::can_read_record;
use app_core::evidence::Sha256Hex;
use app_core::ids::DeviceId;
use app_core::user::User;

/// The stored records naming photo `sha` that `user` may read, by id.
pub fn readable_records<S: RecordStore + PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    sha: &str,
) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for id in store.records_naming_photo(sha)? {
        if let Some(scope) = access::scope(store, reference, &id)?
            && can_read_record(user, &scope, &reference.units)
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// Whether `user` may read at least one stored record that names photo `sha`.
pub fn named_by_readable_record<S: RecordStore + PlanStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    sha: &str,
) -> StoreResult<bool> {
    for doc in store.records_naming_photo(sha)? {
        if let Some(scope) = access::scope(store, reference, &doc)?
            && can_read_record(user, &scope, &reference.units)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a record pushed by `user` from `device` may name photo `digest`: `device` is a
/// recorded uploader of it (it sent the bytes, hash-checked), or `user` may read a stored
/// record that names it. The blob need not be held (a colleague's record may name a photo
/// its author has not uploaded yet). Indexed lookups only: one primary-key probe, then, only
/// if that misses, the photo's references by their indexed key.
pub fn may_name<S: RecordStore + PlanStore + BlobStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    device: &DeviceId,
    digest: &Sha256Hex,
) -> StoreResult<bool> {
    if store.is_uploader(digest.as_str(), device.as_str())? {
        return Ok(true);
    }
    named_by_readable_record(store, reference, user, digest.as_str())
}

/// The first of `digests` a record pushed by `user` from `device` may not name (the rule of
/// [`may_name`]), if any: one query finds which of them the device uploaded, and only the
/// others are looked up among the records the user can read.
pub fn first_unnamable<S: RecordStore + PlanStore + BlobStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    device: &DeviceId,
    digests: &[&Sha256Hex],
) -> StoreResult<Option<Sha256Hex>> {
    if digests.is_empty() {
        return Ok(None);
    }
    let list: Vec<&str> = digests.iter().map(|d| d.as_str()).collect();
    let uploaded = store.uploaded_by(device.as_str(), &list)?;
    for d in digests {
        if !uploaded.contains(d.as_str())
            && !named_by_readable_record(store, reference, user, d.as_str())?
        {
            return Ok(Some((*d).clone()));
        }
    }
    Ok(None)
}

/// What the server knows of `sha` for `user` on `device`: the blob's size if it is held and
/// the device has the right to it, and whether that device already uploaded it. Without a
/// device (a token not bound to one) only a readable record gives the right.
pub fn held_for<S: RecordStore + PlanStore + BlobStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    user: &User,
    device: Option<&DeviceId>,
    sha: &str,
) -> StoreResult<(Option<u64>, bool)> {
    let Some(size) = store.held_size(sha)? else {
        return Ok((None, false));
    };
    if let Some(d) = device
        && store.is_uploader(sha, d.as_str())?
    {
        return Ok((Some(size), true));
    }
    let readable = named_by_readable_record(store, reference, user, sha)?;
    Ok((readable.then_some(size), false))
}

/// A photo as the console's photo page shows it: the records naming it that the viewer may
/// read, the one chosen (the one asked for if it is among them, else the first), and the
/// original's size if the server holds it.
#[derive(Debug)]
pub struct PhotoPage {
    pub records: Vec<String>,
    pub record: app_core::inspection::Inspection,
    pub size: Option<u64>,
}

/// The photo page of `sha` for `viewer`; `None` when no record the viewer may read names it.
pub fn photo_page<S: RecordStore + PlanStore + BlobStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    sha: &str,
    wanted: Option<&str>,
) -> StoreResult<Option<PhotoPage>> {
    let records = readable_records(store, reference, viewer, sha)?;
    let Some(first) = records.first() else {
        return Ok(None);
    };
    let chosen = wanted
        .filter(|w| records.iter().any(|r| r == w))
        .map(str::to_owned)
        .unwrap_or_else(|| first.clone());
    let Some(stored) = crate::store::records::load(store, &chosen)? else {
        return Ok(None);
    };
    let record = stored.doc.record().clone();
    // The size is shown only; a failed lookup shows the photo as not uploaded.
    let size = store.held_size(sha).ok().flatten();
    Ok(Some(PhotoPage {
        records,
        record,
        size,
    }))
}

/// Whether `viewer` may download the original of `sha` in the console: a record they may read
/// names it, and the server holds it.
pub fn may_see_original<S: RecordStore + PlanStore + BlobStore + ?Sized>(
    store: &S,
    reference: &ReferenceData,
    viewer: &User,
    sha: &str,
) -> StoreResult<bool> {
    if readable_records(store, reference, viewer, sha)?.is_empty() {
        return Ok(false);
    }
    Ok(store.held_size(sha)?.is_some())
}
