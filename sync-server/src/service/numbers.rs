//! Reserving document-number blocks for a device (see `crate::numbers` for the endpoint and
//! the rules): which series a request may have, and one block of each, all or nothing, in one
//! transaction that takes the write lock before it reads.

use crate::store::numbers::{NumberStore, kind_str};
use crate::store::{Commit, StoreError, Transactions};
use app_core::docnumber::{Allocator, Block, Series};
use app_core::geo::Timestamp;
use app_core::ids::DeviceId;
use app_core::user::User;
use app_core::wire::http::ReserveRequest;

/// Numbers per block: enough for a few days of visits offline, small enough that an unused
/// block leaves a short gap.
pub const BLOCK_SIZE: u32 = 20;

/// Series one request may ask for (a tablet needs three kinds, for one or two years).
pub const MAX_SERIES: usize = 8;

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
    if !user.is_inspector() {
        return Err(ReserveError::Forbidden(
            "only inspectors issue enforcement documents and reserve their numbers".into(),
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
    for<'a> C::Tx<'a>: NumberStore,
{
    let tx = conn.begin_immediate()?;
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let mut allocator = Allocator::from_blocks(&tx.blocks_of(s)?);
        let block = allocator
            .reserve(s.clone(), device.clone(), BLOCK_SIZE)
            .map_err(|e| ReserveError::Exhausted(format!("{} {}: {e}", s.unit, s.year)))?;
        tx.insert_block(&block, user, now_secs)?;
        out.push(block);
    }
    tx.commit()?;
    Ok(out)
}
