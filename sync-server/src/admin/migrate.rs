//! `admin migrate --to postgres://… [--blobs-to s3://bucket/prefix]`: moves a county's server
//! from SQLite and a blob folder to PostgreSQL and object storage (issue 18), with nothing
//! left behind and nothing changed on the way.
//!
//! **What moves.** Every row of every table the PostgreSQL schema has (`store::pg::schema`:
//! records with their whole change log, the console index, accounts, tokens, devices, plans
//! and draws, number blocks, penalty cases with their change log and each unit's penalty
//! rules, case-file jobs, the server's keys and key history, the epoch,
//! the audit log), copied column by column in the order SQLite kept them (so identity
//! columns number the rows as SQLite's rowids did), in one PostgreSQL transaction: a failed
//! migration leaves the target as it was. The epoch moves too: the data is the same, so the
//! tablets need not push again. SQLite-only columns (a private index key) are not copied.
//! Every photo and media original the database lists is streamed from the folder into the
//! target store through the store's own upload path, which re-hashes it (SHA-256) before it
//! is accepted; a blob the target already holds is verified the same way and kept.
//!
//! **Verified afterwards.** For every table: the row count and a SHA-256 over every copied
//! value, rows in one order, read back from PostgreSQL and from SQLite; for every blob: that
//! the target holds it with its size. The report names each table with its count and digest;
//! any difference fails the command.
//!
//! **Refused** while a server runs on the data folder (its lock), and when the target
//! database already holds records, accounts or an audit log (a migration fills a new
//! database; it never merges into one in use).

use super::backup::{DATABASE, hold_lock};
use crate::blobstore::{BlobBytes, BlobLocation, Blobs, UploadKey};
use crate::store::engine::Engine;
use anyhow::{Context, Result, anyhow, bail};
use app_core::evidence::{Sha256Hex, blob_layout};
use app_core::ids::DeviceId;
use postgres::types::ToSql;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek};
use std::path::Path;

/// Tables that must be empty in the target (beyond them, a fresh schema's seed rows are
/// replaced).
const MUST_BE_EMPTY: [&str; 4] = ["docs", "accounts", "changes", "audit_log"];

/// The piece size of a blob's copy (the upload path's append).
const PIECE: usize = 8 << 20;

/// One table's figures after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    /// SHA-256 (hex) over the copied values, the same on both sides.
    pub digest: String,
}

/// What a migration did.
#[derive(Debug, Clone)]
pub struct Migrated {
    pub tables: Vec<TableReport>,
    /// SQLite columns that have no place in PostgreSQL (table.column), not copied.
    pub skipped_columns: Vec<String>,
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Where the blobs went (None: they stay where they are).
    pub blobs_to: Option<String>,
}

/// One PostgreSQL column.
struct Column {
    name: String,
    /// PostgreSQL's `data_type`: bigint, integer, boolean, bytea, text, double precision.
    pg_type: String,
}

/// `admin migrate`: see the module documentation. `blobs_to`: the store the blobs go to
/// (None: they are not moved).
pub fn migrate(data: &Path, to: &str, blobs_to: Option<&BlobLocation>) -> Result<Migrated> {
    let _lock = hold_lock(data)?;
    let path = data.join(DATABASE);
    if !path.exists() {
        bail!("no database at {}", path.display());
    }
    // Brought up to date first, so its tables are the ones the PostgreSQL schema mirrors.
    let source = rusqlite::Connection::open_writer(&path).map_err(|e| anyhow!("{e}"))?;
    let target = crate::store::pg::PgClient::connect(to).map_err(|e| anyhow!("{e}"))?;
    let mut pg = target.into_inner();
    let tables = pg_tables(&mut pg)?;
    for t in MUST_BE_EMPTY {
        let n: i64 = pg
            .query_one(&format!("SELECT count(*) FROM {t}"), &[])?
            .get(0);
        if n > 0 {
            bail!(
                "the target database already holds {n} row(s) in {t}: a migration fills a new, empty database"
            );
        }
    }
    let mut skipped_columns = Vec::new();
    let mut tx = pg.transaction()?;
    for (table, columns) in &tables {
        tx.batch_execute(&format!("DELETE FROM {table}"))?;
        let sqlite_columns = sqlite_columns(&source, table)?;
        for c in columns {
            if !sqlite_columns.contains(&c.name) {
                bail!(
                    "{table}.{} is in the PostgreSQL schema but not in the SQLite database: the two schemas differ (is the server older than this command?)",
                    c.name
                );
            }
        }
        for c in &sqlite_columns {
            if !columns.iter().any(|p| &p.name == c) && !is_identity(&mut tx, table, c)? {
                skipped_columns.push(format!("{table}.{c}"));
            }
        }
        copy_table(&source, &mut tx, table, columns)?;
    }
    tx.commit()?;
    // Verify: counts and digests, both sides.
    let mut reports = Vec::new();
    for (table, columns) in &tables {
        let (rows, digest) = sqlite_digest(&source, table, columns)?;
        let (pg_rows, pg_digest) = pg_digest(&mut pg, table, columns)?;
        if (rows, &digest) != (pg_rows, &pg_digest) {
            bail!(
                "{table} differs after the copy: {rows} rows in SQLite (digest {digest}), {pg_rows} in PostgreSQL (digest {pg_digest})"
            );
        }
        reports.push(TableReport {
            table: table.clone(),
            rows,
            digest,
        });
    }
    let (blobs, blob_bytes) = match blobs_to {
        Some(location) => copy_blobs(&source, &data.join("blobs"), location)?,
        None => (0, 0),
    };
    Ok(Migrated {
        tables: reports,
        skipped_columns,
        blobs,
        blob_bytes,
        blobs_to: blobs_to.map(ToString::to_string),
    })
}

/// The PostgreSQL schema's tables (except its own bookkeeping) with the columns a copy
/// writes (identity columns are numbered by PostgreSQL), in a fixed order: parents before
/// the tables that refer to them.
fn pg_tables(pg: &mut postgres::Client) -> Result<Vec<(String, Vec<Column>)>> {
    let rows = pg.query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
           AND c.table_name <> 'schema_version' AND c.is_identity = 'NO'
         ORDER BY c.table_name, c.ordinal_position",
        &[],
    )?;
    let mut tables: Vec<(String, Vec<Column>)> = Vec::new();
    for r in rows {
        let table: String = r.get(0);
        let column = Column {
            name: r.get(1),
            pg_type: r.get(2),
        };
        match tables.last_mut() {
            Some((t, cols)) if *t == table => cols.push(column),
            _ => tables.push((table, vec![column])),
        }
    }
    // Referenced tables first (docs before changes, plans before plan_assignees, cases before
    // case_changes, …).
    let first = ["docs", "plans", "draws", "cases"];
    tables.sort_by_key(|(t, _)| (!first.contains(&t.as_str()), t.clone()));
    Ok(tables)
}

fn is_identity(tx: &mut postgres::Transaction<'_>, table: &str, column: &str) -> Result<bool> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2
               AND is_identity = 'YES'",
            &[&table, &column],
        )?
        .is_some())
}

fn sqlite_columns(source: &rusqlite::Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = source.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if names.is_empty() {
        bail!("the SQLite database has no table {table}");
    }
    Ok(names)
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `table` in the order SQLite keeps them: by rowid where the table has one
/// (insertion order, which identity columns then repeat), else by primary key.
fn sqlite_rows<'c>(
    source: &'c rusqlite::Connection,
    table: &str,
    columns: &[Column],
    order: &str,
) -> Result<rusqlite::Statement<'c>> {
    let list = column_list(columns);
    let sql = format!("SELECT {list} FROM \"{table}\" {order}");
    Ok(source.prepare(&sql)?)
}

fn has_rowid(source: &rusqlite::Connection, table: &str) -> bool {
    source
        .prepare(&format!("SELECT rowid FROM \"{table}\" LIMIT 1"))
        .is_ok()
}

/// One SQLite value as a PostgreSQL parameter of `column`'s type.
fn to_pg(table: &str, column: &Column, value: Value) -> Result<Box<dyn ToSql + Sync>> {
    let bad = |v: &Value| {
        anyhow!(
            "{table}.{}: a {v:?} cannot go into a PostgreSQL {} column",
            column.name,
            column.pg_type
        )
    };
    Ok(match (column.pg_type.as_str(), value) {
        ("bigint" | "integer", Value::Null) => Box::new(None::<i64>),
        ("bigint", Value::Integer(i)) => Box::new(i),
        ("integer", Value::Integer(i)) => {
            Box::new(i32::try_from(i).map_err(|_| bad(&Value::Integer(i)))?)
        }
        ("boolean", Value::Null) => Box::new(None::<bool>),
        ("boolean", Value::Integer(i)) => Box::new(i != 0),
        ("bytea", Value::Null) => Box::new(None::<Vec<u8>>),
        ("bytea", Value::Blob(b)) => Box::new(b),
        ("bytea", Value::Text(s)) => Box::new(s.into_bytes()),
        ("text", Value::Null) => Box::new(None::<String>),
        ("text", Value::Text(s)) => Box::new(s),
        ("double precision", Value::Null) => Box::new(None::<f64>),
        ("double precision", Value::Real(f)) => Box::new(f),
        ("double precision", Value::Integer(i)) => Box::new(i as f64),
        (_, v) => return Err(bad(&v)),
    })
}

fn copy_table(
    source: &rusqlite::Connection,
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    columns: &[Column],
) -> Result<()> {
    let order = if has_rowid(source, table) {
        "ORDER BY rowid"
    } else {
        ""
    };
    let mut stmt = sqlite_rows(source, table, columns, order)?;
    let placeholders = (1..=columns.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = tx.prepare(&format!(
        "INSERT INTO {table} ({}) VALUES ({placeholders})",
        column_list(columns)
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            params.push(to_pg(table, c, row.get::<_, Value>(i)?)?);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        tx.execute(&insert, &refs)
            .with_context(|| format!("copying a row of {table}"))?;
    }
    Ok(())
}

/// A value in the digest's canonical form: a tag, the length, the bytes (so `NULL`, `0` and
/// `""` differ, and no two sequences of values give the same bytes).
fn feed(h: &mut Sha256, tag: u8, bytes: &[u8]) {
    h.update([tag]);
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Rows are digested in the order of all copied columns: byte order for text and bytes on
/// both sides (SQLite's BINARY, PostgreSQL's "C" collation), numeric order for numbers.
fn order_by_all(columns: &[Column]) -> String {
    format!(
        "ORDER BY {}",
        (1..=columns.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn sqlite_digest(
    source: &rusqlite::Connection,
    table: &str,
    columns: &[Column],
) -> Result<(u64, String)> {
    let mut stmt = sqlite_rows(source, table, columns, &order_by_all(columns))?;
    let mut rows = stmt.query([])?;
    let mut h = Sha256::new();
    let mut n = 0;
    while let Some(row) = rows.next()? {
        n += 1;
        for (i, c) in columns.iter().enumerate() {
            match (c.pg_type.as_str(), row.get::<_, Value>(i)?) {
                (_, Value::Null) => feed(&mut h, 0, &[]),
                ("boolean", Value::Integer(v)) => feed(&mut h, 1, &[(v != 0) as u8]),
                (_, Value::Integer(v)) => feed(&mut h, 2, &v.to_be_bytes()),
                (_, Value::Real(v)) => feed(&mut h, 3, &v.to_be_bytes()),
                (_, Value::Text(s)) => feed(&mut h, 4, s.as_bytes()),
                (_, Value::Blob(b)) => feed(&mut h, 4, &b),
            }
        }
    }
    Ok((n, app_core::evidence::hex(&h.finalize())))
}

fn pg_digest(pg: &mut postgres::Client, table: &str, columns: &[Column]) -> Result<(u64, String)> {
    let sql = format!(
        "SELECT {} FROM {table} {}",
        column_list(columns),
        order_by_all(columns)
    );
    let mut h = Sha256::new();
    let mut n = 0;
    for row in pg.query(&sql, &[])? {
        n += 1;
        for (i, c) in columns.iter().enumerate() {
            match c.pg_type.as_str() {
                "bigint" => match row.get::<_, Option<i64>>(i) {
                    None => feed(&mut h, 0, &[]),
                    Some(v) => feed(&mut h, 2, &v.to_be_bytes()),
                },
                "integer" => match row.get::<_, Option<i32>>(i) {
                    None => feed(&mut h, 0, &[]),
                    Some(v) => feed(&mut h, 2, &i64::from(v).to_be_bytes()),
                },
                "boolean" => match row.get::<_, Option<bool>>(i) {
                    None => feed(&mut h, 0, &[]),
                    Some(v) => feed(&mut h, 1, &[v as u8]),
                },
                "double precision" => match row.get::<_, Option<f64>>(i) {
                    None => feed(&mut h, 0, &[]),
                    Some(v) => feed(&mut h, 3, &v.to_be_bytes()),
                },
                "bytea" => match row.get::<_, Option<Vec<u8>>>(i) {
                    None => feed(&mut h, 0, &[]),
                    Some(v) => feed(&mut h, 4, &v),
                },
                _ => match row.get::<_, Option<String>>(i) {
                    None => feed(&mut h, 0, &[]),
                    Some(v) => feed(&mut h, 4, v.as_bytes()),
                },
            }
        }
    }
    Ok((n, app_core::evidence::hex(&h.finalize())))
}

/// Streams every blob the database lists from `root` into `location` through the store's
/// upload path (hashed before it is accepted); returns (blobs, bytes).
fn copy_blobs(
    source: &rusqlite::Connection,
    root: &Path,
    location: &BlobLocation,
) -> Result<(u64, u64)> {
    let listed: Vec<(String, i64)> = source
        .prepare("SELECT sha256, size FROM blobs ORDER BY sha256")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let target = runtime
        .block_on(Blobs::open(location))
        .map_err(|e| anyhow!("{e}"))?;
    let migrating = DeviceId::from("admin-migrate");
    let (mut count, mut bytes) = (0, 0);
    for (sha, size) in listed {
        let digest = Sha256Hex::parse(&sha).map_err(|e| anyhow!("blob {sha}: {e:?}"))?;
        let path = blob_layout::path(root, &digest);
        let mut file = std::fs::File::open(&path)
            .with_context(|| format!("blob {sha} is listed but {} is missing", path.display()))?;
        let total = file.metadata()?.len();
        if total != size as u64 {
            bail!(
                "blob {sha}: the database says {size} bytes, {} holds {total}",
                path.display()
            );
        }
        let held = runtime.block_on(target.size(&digest))?.is_some();
        let key = UploadKey::new(&migrating, &digest);
        // A copy cut short earlier goes on where it stopped (the upload path's staging).
        let mut offset = runtime.block_on(target.received(&key))?;
        if offset > total {
            bail!("blob {sha}: the target's unfinished copy is longer than the blob");
        }
        file.seek(std::io::SeekFrom::Start(offset))?;
        let mut piece = vec![0u8; PIECE];
        loop {
            let n = read_full(&mut file, &mut piece)?;
            let last = offset + n as u64 == total;
            let appended = runtime
                .block_on(target.append(
                    &key,
                    held,
                    offset,
                    total,
                    axum::body::Bytes::copy_from_slice(&piece[..n]),
                ))
                .with_context(|| format!("copying blob {sha}"))?;
            offset += n as u64;
            if last {
                if !matches!(appended, crate::blobstore::Appended::Complete) {
                    bail!("blob {sha}: the target did not accept the whole blob");
                }
                break;
            }
            if n == 0 {
                bail!("blob {sha}: the file ended early");
            }
        }
        let stored = runtime.block_on(target.size(&digest))?;
        if stored != Some(total) {
            bail!("blob {sha}: the target holds {stored:?} bytes, not {total}");
        }
        count += 1;
        bytes += total;
    }
    Ok((count, bytes))
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
