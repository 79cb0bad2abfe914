//! Reserving document-number blocks for a device (see `crate::numbers` for the endpoint and
//! the rules): which series a request may have, and one block of each, all or nothing, in one
//! transaction that takes the write lock before it reads.

use crate::store::numbers::{NumberStore, kind_str};
use crate::store::server_meta::{MetaStore, NUMBER_RESTORE};
use crate::store::{Commit, StoreError, StoreResult, Transactions};
use app_core::docnumber::{Allocator, Block, DocumentKind, Series, issues};
use app_core::geo::Timestamp;
use app_core::ids::DeviceId;
use app_core::user::User;
use app_core::wire::http::ReserveRequest;

/// Numbers per block: enough for a few days of visits offline, small enough that an unused
/// block leaves a short gap.
pub const BLOCK_SIZE: u32 = 20;

/// Series one request may ask for: every kind (the three inspection documents and the case
/// documents), for one or two years.
pub const MAX_SERIES: usize = 2 * DocumentKind::ALL.len();

/// Why nothing was reserved.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// Not an inspector, no registered device, or another unit.
    #[error("{0}")]
    Forbidden(String),
    /// A malformed request: `code` is `bad_series` or `bad_year`.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// A series has no numbers left.
    #[error("{0}")]
    Exhausted(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(code: &'static str, message: String) -> ReserveError {
    ReserveError::BadRequest { code, message }
}

/// Checks a request by `user` (on `device`, if the token is bound to one) at `now_secs` and
/// says which series to reserve.
pub fn validate(
    user: &User,
    device: Option<&DeviceId>,
    req: &ReserveRequest,
    now_secs: i64,
) -> Result<Vec<Series>, ReserveError> {
    if !DocumentKind::ALL.into_iter().any(|k| issues(user, k)) {
        return Err(ReserveError::Forbidden(
            "only inspectors and supervisors issue enforcement documents and reserve their numbers"
                .into(),
        ));
    }
    if device.is_none() {
        return Err(ReserveError::Forbidden(
            "register this device before reserving document numbers".into(),
        ));
    }
    if req.series.is_empty() {
        return Err(bad(
            "bad_series",
            "series must name at least one series (unit, kind, year)".into(),
        ));
    }
    if req.series.len() > MAX_SERIES {
        return Err(bad(
            "bad_series",
            format!(
                "at most {MAX_SERIES} series per request, {} asked",
                req.series.len()
            ),
        ));
    }
    let this_year = Timestamp(now_secs.saturating_mul(1000))
        .shanghai_date()
        .year();
    let mut out: Vec<Series> = Vec::with_capacity(req.series.len());
    for (i, s) in req.series.iter().enumerate() {
        if s.unit != user.unit {
            return Err(ReserveError::Forbidden(format!(
                "series[{i}]: unit {} is not your unit ({}); numbers are reserved only for your own unit",
                s.unit, user.unit
            )));
        }
        if !issues(user, s.kind) {
            return Err(ReserveError::Forbidden(format!(
                "series[{i}]: a supervisor issues only the case documents he signs (filing and closing approvals, legal reviews, decisions), not {}",
                kind_str(s.kind)
            )));
        }
        let year = s.year.unwrap_or(this_year);
        if !(this_year - 1..=this_year + 1).contains(&year) {
            return Err(bad(
                "bad_year",
                format!(
                    "series[{i}]: year {year} is out of range; numbers are reserved for {}, {this_year} or {} (Asia/Shanghai)",
                    this_year - 1,
                    this_year + 1
                ),
            ));
        }
        let series = Series {
            unit: s.unit.clone(),
            kind: s.kind,
            year,
        };
        if out.contains(&series) {
            return Err(bad(
                "bad_series",
                format!(
                    "series[{i}]: {} {} {year} is asked twice",
                    series.unit,
                    kind_str(series.kind)
                ),
            ));
        }
        out.push(series);
    }
    Ok(out)
}

/// Reserves one block of each series for `device`, all or nothing, in one transaction that
/// holds the write lock from the start (SQLite `BEGIN IMMEDIATE`): the series' blocks are
/// read, app-core's [`Allocator`] rebuilt from them, the next block reserved and stored.
pub fn reserve<C>(
    conn: &mut C,
    series: &[Series],
    device: &DeviceId,
    user: &str,
    now_secs: i64,
) -> Result<Vec<Block>, ReserveError>
where
    C: Transactions,
    for<'a> C::Tx<'a>: NumberStore + MetaStore,
{
    let tx = conn.begin_immediate()?;
    let restore = restore_gap(&tx)?;
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let blocks = taken_blocks(&tx, s, restore)?;
        let mut allocator = Allocator::from_blocks(&blocks);
        let block = allocator
            .reserve(s.clone(), device.clone(), BLOCK_SIZE)
            .map_err(|e| ReserveError::Exhausted(format!("{} {}: {e}", s.unit, s.year)))?;
        tx.insert_block(&block, user, now_secs)?;
        out.push(block);
    }
    tx.commit()?;
    Ok(out)
}

/// Every number of `series` that is taken: its blocks, and after a restore (`restore`, from
/// [`restore_gap`]) the numbers skipped past the highest known before it (see
/// [`RESTORE_GAP`]) as one more block. A number in none of them was never handed out.
pub fn taken_blocks<S: NumberStore + ?Sized>(
    tx: &S,
    series: &Series,
    restore: Option<(i64, u32)>,
) -> StoreResult<Vec<Block>> {
    let mut blocks = tx.blocks_of(series)?;
    if let Some((restored_at, gap)) = restore {
        let floor = tx.highest_before(series, restored_at)?.saturating_add(gap);
        if floor >= 1 {
            blocks.push(Block {
                series: series.clone(),
                device: DeviceId::new("restore-gap"),
                first: 1,
                last: floor,
            });
        }
    }
    Ok(blocks)
}

/// Numbers of every series skipped after a restore (the default of `admin restore
/// --number-gap`). The restored database lacks the blocks reserved after its backup, and a
/// tablet that holds one may not sync again for days; so the first block the restored server
/// hands out in any series starts this many numbers past the highest it knows of from before
/// the restore. Tablets announce the blocks they hold as soon as they see the new epoch
/// ([`claim`]); those land in the gap. The gap must exceed the numbers of one series reserved
/// between the backup and the restore (20 per block: 200 is ten blocks per series).
pub const RESTORE_GAP: u32 = 200;

/// The last restore's time (seconds) and gap, if the database was ever restored.
pub fn restore_gap<S: MetaStore + ?Sized>(store: &S) -> Result<Option<(i64, u32)>, StoreError> {
    let Some(raw) = store.meta(NUMBER_RESTORE)? else {
        return Ok(None);
    };
    let mut parts = raw.split_whitespace();
    match (
        parts.next().and_then(|t| t.parse().ok()),
        parts.next().and_then(|g| g.parse().ok()),
    ) {
        (Some(at), Some(gap)) => Ok(Some((at, gap))),
        _ => Err(StoreError::Corrupt(format!("{NUMBER_RESTORE}: {raw:?}"))),
    }
}

/// What a claim did (the wire answer).
pub use app_core::wire::http::ClaimResponse;

/// Records again the blocks a device announces after a restore (`POST /api/v1/numbers/
/// claim`): each must be this device's and of the user's unit; a block the server holds
/// already is skipped, one overlapping another device's block is a conflict (logged, and
/// answered so the tablet stops issuing from it), any other is stored as reserved now.
/// One transaction holding the write lock.
pub fn claim<C>(
    conn: &mut C,
    user: &User,
    device: &DeviceId,
    blocks: &[Block],
    now_secs: i64,
) -> Result<ClaimResponse, ReserveError>
where
    C: Transactions,
    for<'a> C::Tx<'a>: NumberStore,
{
    if !DocumentKind::ALL.into_iter().any(|k| issues(user, k)) {
        return Err(ReserveError::Forbidden(
            "only inspectors and supervisors hold document-number blocks".into(),
        ));
    }
    for (i, b) in blocks.iter().enumerate() {
        if !issues(user, b.series.kind) {
            return Err(ReserveError::Forbidden(format!(
                "blocks[{i}]: {} is not a kind this user issues",
                kind_str(b.series.kind)
            )));
        }
        if b.device != *device {
            return Err(ReserveError::Forbidden(format!(
                "blocks[{i}] belongs to device {}, not to this one",
                b.device
            )));
        }
        if b.series.unit != user.unit {
            return Err(ReserveError::Forbidden(format!(
                "blocks[{i}]: unit {} is not your unit ({})",
                b.series.unit, user.unit
            )));
        }
        if b.first == 0 || b.first > b.last {
            return Err(bad(
                "bad_block",
                format!("blocks[{i}]: {}..{} is empty", b.first, b.last),
            ));
        }
    }
    let tx = conn.begin_immediate()?;
    let mut restored = 0;
    let mut conflicts = Vec::new();
    for b in blocks {
        let held = tx.blocks_of(&b.series)?;
        if held.contains(b) {
            continue;
        }
        if held.iter().any(|h| h.first <= b.last && b.first <= h.last) {
            tracing::error!(
                device = %device, unit = %b.series.unit, kind = ?b.series.kind,
                year = b.series.year, first = b.first, last = b.last,
                "a claimed number block overlaps a block held by another device"
            );
            conflicts.push(b.clone());
            continue;
        }
        tx.insert_block(b, user.id.as_str(), now_secs)?;
        restored += 1;
    }
    tx.commit()?;
    Ok(ClaimResponse {
        restored,
        conflicts,
    })
}
