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
/// [`may_name`]), if any: uploads the server remembers ([`KnownUploads`]) need no lookup; one
/// query finds which of the rest the device uploaded (and they are remembered), and only the
/// others are looked up among the records the user can read.
pub fn first_unnamable<S: RecordStore + PlanStore + BlobStore + ?Sized>(
    store: &S,
    known: &KnownUploads,
    reference: &ReferenceData,
    user: &User,
    device: &DeviceId,
    digests: &[&Sha256Hex],
) -> StoreResult<Option<Sha256Hex>> {
    let unknown: Vec<&Sha256Hex> = digests
        .iter()
        .copied()
        .filter(|d| !known.knows(device, d.as_str()))
        .collect();
    if unknown.is_empty() {
        return Ok(None);
    }
    let list: Vec<&str> = unknown.iter().map(|d| d.as_str()).collect();
    let uploaded = store.uploaded_by(device.as_str(), &list)?;
    for d in &uploaded {
        known.remember(device, d);
    }
    for d in unknown {
        if !uploaded.contains(d.as_str())
            && !named_by_readable_record(store, reference, user, d.as_str())?
        {
            return Ok(Some(d.clone()));
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

/// Completed uploads the server has seen, remembered in memory so that a sync need not look
/// them up again: a tablet uploads its photos and then pushes the records naming them, and
/// the record's check asks, for each photo, whether this device uploaded it.
///
/// Only facts that never become false are kept: "device D completed an upload of photo S"
/// (uploader rows are never deleted). What is not remembered is looked up in the store, so
/// a server that restarted, or another server on the same database, answers the same. Each
/// fact is kept as the SHA-256 of the device id and the photo digest (32 bytes), in two
/// generations of at most `capacity` facts each: when the newer fills, the older is dropped
/// (at most about 2 × `capacity` × 48 bytes of memory).
#[derive(Debug)]
pub struct KnownUploads {
    generations: std::sync::Mutex<[std::collections::HashSet<[u8; 32]>; 2]>,
    capacity: usize,
}

impl Default for KnownUploads {
    /// Room for 262,144 facts a generation (about 25 MB at most).
    fn default() -> Self {
        Self::with_capacity(1 << 18)
    }
}

impl KnownUploads {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            generations: Default::default(),
            capacity: capacity.max(1),
        }
    }

    fn key(device: &DeviceId, digest: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(device.as_str().as_bytes());
        h.update([0]);
        h.update(digest.as_bytes());
        h.finalize().into()
    }

    /// Remembers that `device` completed an upload of `digest` (call only once that is
    /// committed).
    pub fn remember(&self, device: &DeviceId, digest: &str) {
        let key = Self::key(device, digest);
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        if g[0].len() >= self.capacity {
            g[1] = std::mem::take(&mut g[0]);
        }
        g[0].insert(key);
    }

    /// Whether the server has seen `device` complete an upload of `digest` (false: not known
    /// here; look it up).
    pub fn knows(&self, device: &DeviceId, digest: &str) -> bool {
        let key = Self::key(device, digest);
        let g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        g[0].contains(&key) || g[1].contains(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::KnownUploads;
    use app_core::ids::DeviceId;

    #[test]
    fn known_uploads_are_per_device_and_bounded() {
        let known = KnownUploads::with_capacity(2);
        let (a, b) = (DeviceId::new("tablet-a"), DeviceId::new("tablet-b"));
        known.remember(&a, "s1");
        assert!(known.knows(&a, "s1"));
        assert!(
            !known.knows(&b, "s1"),
            "a fact of one device is not another's"
        );
        assert!(!known.knows(&a, "s2"));
        // Two generations of two: the oldest fact is dropped once four newer ones arrived.
        for s in ["s2", "s3", "s4", "s5"] {
            known.remember(&a, s);
        }
        assert!(!known.knows(&a, "s1"));
        assert!(known.knows(&a, "s4") && known.knows(&a, "s5"));
    }
}
