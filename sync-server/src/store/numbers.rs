//! Document-number blocks handed out to devices (`number_blocks`): one row per block, so the
//! next block of a series is always computed from every block ever reserved.

use super::{Sqlite, StoreResult};
use app_core::docnumber::{Block, DocumentKind, Series};
use app_core::ids::DeviceId;
use rusqlite::params;

/// Migration 4: document-number blocks (文号) handed out to tablets (`numbers.rs`): every block ever
/// reserved, so the allocator is rebuilt from them and never hands out an overlapping one
/// (after a restart, or from another instance on this database). The key refuses two
/// blocks of a series starting at the same number.
pub(crate) const MIGRATION_4: &str = "
    CREATE TABLE number_blocks (
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        year INTEGER NOT NULL,
        first INTEGER NOT NULL,
        last INTEGER NOT NULL,
        device_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        reserved_at INTEGER NOT NULL,
        PRIMARY KEY (unit, kind, year, first),
        CHECK (first >= 1 AND last >= first)
    ) WITHOUT ROWID;
    CREATE INDEX number_blocks_by_device ON number_blocks (device_id, unit, kind, year);
";

/// Storage of reserved number blocks.
pub trait NumberStore {
    /// Every block of `series` handed out so far.
    fn blocks_of(&self, series: &Series) -> StoreResult<Vec<Block>>;
    /// Records `block` as reserved by `user` at `now_secs`.
    fn insert_block(&self, block: &Block, user: &str, now_secs: i64) -> StoreResult<()>;
    /// The highest number of `series` in a block reserved before `secs` (0: none).
    fn highest_before(&self, series: &Series, secs: i64) -> StoreResult<u32>;
}

/// A kind as stored (its serde name).
pub fn kind_str(kind: DocumentKind) -> String {
    match serde_json::to_value(kind).expect("kinds serialise") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

impl<C: Sqlite> NumberStore for C {
    fn blocks_of(&self, series: &Series) -> StoreResult<Vec<Block>> {
        let mut stmt = self.sqlite().prepare_cached(
            "SELECT device_id, first, last FROM number_blocks
             WHERE unit = ?1 AND kind = ?2 AND year = ?3",
        )?;
        let rows = stmt.query_map(
            params![series.unit.as_str(), kind_str(series.kind), series.year],
            |r| {
                Ok(Block {
                    series: series.clone(),
                    device: DeviceId::new(r.get::<_, String>(0)?),
                    first: r.get(1)?,
                    last: r.get(2)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn highest_before(&self, series: &Series, secs: i64) -> StoreResult<u32> {
        Ok(self
            .sqlite()
            .prepare_cached(
                "SELECT COALESCE(MAX(last), 0) FROM number_blocks
             WHERE unit = ?1 AND kind = ?2 AND year = ?3 AND reserved_at < ?4",
            )?
            .query_row(
                params![
                    series.unit.as_str(),
                    kind_str(series.kind),
                    series.year,
                    secs
                ],
                |r| r.get(0),
            )?)
    }

    fn insert_block(&self, block: &Block, user: &str, now_secs: i64) -> StoreResult<()> {
        let s = &block.series;
        self.sqlite().execute(
            "INSERT INTO number_blocks (unit, kind, year, first, last, device_id, user_id, reserved_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.unit.as_str(),
                kind_str(s.kind),
                s.year,
                block.first,
                block.last,
                block.device.as_str(),
                user,
                now_secs
            ],
        )?;
        Ok(())
    }
}
