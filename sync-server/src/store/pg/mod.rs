//! The PostgreSQL implementation of every storage trait, for a city or province where several
//! server nodes share one database (issue 18). The same traits as the SQLite implementation,
//! the same meaning; its own schema and migrations (`schema.rs`).
//!
//! **Handles.** [`Pg`] wraps a `postgres::Client` ([`PgClient`]) or a transaction on one
//! ([`PgTx`]), behind a `RefCell` because the client's methods take `&mut self` and the
//! storage traits take `&self`. Each trait is implemented once, for every `Pg<C>` whose `C`
//! is a `postgres::GenericClient`, so each query exists once. [`Transactions`] on a
//! [`PgClient`] begins a [`PgTx`].
//!
//! **Atomic methods.** A trait method that runs several statements runs them in a
//! subtransaction ([`Pg::atomic`]): a transaction of its own on a client, a savepoint inside
//! a transaction, so it is all or nothing either way.
//!
//! **What SQLite's single writer gave for free**, made explicit with transaction-scoped
//! advisory locks (released at commit or rollback):
//! - the global change log's order: a change's `seq` (the highest so far plus one) is taken
//!   under [`CHANGE_LOG_LOCK`], held to the commit, so changes become visible in `seq` order,
//!   without gaps, and a device's cursor never passes a change that commits later with a
//!   smaller number;
//! - `begin_immediate` (SQLite's `BEGIN IMMEDIATE`, a read-then-write that must not
//!   interleave with another): takes [`IMMEDIATE_LOCK`] first (the number allocator);
//! - the audit chain: an append takes [`AUDIT_LOCK`], so two never chain from one entry;
//! - a record's read-check-write (the sync's pushes): `RecordStore::lock_record` takes a lock
//!   on the record's id (space [`RECORD_LOCKS`]) before its heads are read again.

mod accounts;
mod cases;
mod console;
mod misc;
mod penalty_rules;
mod plans;
mod records;
mod schema;

use super::{Commit, StoreError, StoreResult, Transactions};
use postgres::GenericClient;
use std::cell::{RefCell, RefMut};

pub use schema::{MIGRATIONS, TALLY_FILL};

/// Advisory lock keys (one 64-bit space per database; these are ours).
pub const CHANGE_LOG_LOCK: i64 = 0x1b5_0001;
pub const IMMEDIATE_LOCK: i64 = 0x1b5_0002;
pub const AUDIT_LOCK: i64 = 0x1b5_0003;
pub const MIGRATION_LOCK: i64 = 0x1b5_0004;
/// The space of the per-record locks (`RecordStore::lock_record`), keyed (this, hash of id).
pub const RECORD_LOCKS: i32 = 0x1b5_0005;

/// A PostgreSQL connection or transaction, as the storage traits use it.
pub struct Pg<C> {
    conn: RefCell<C>,
}

/// A connection.
pub type PgClient = Pg<postgres::Client>;
/// A transaction on one.
pub type PgTx<'a> = Pg<postgres::Transaction<'a>>;

impl<C> std::fmt::Debug for Pg<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg").finish_non_exhaustive()
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The client's own text is only "db error" for everything the server refuses; the
        // server's message and SQLSTATE are what an operator needs to read in the log.
        match e.as_db_error() {
            Some(db) => StoreError::Database(
                format!("{e}: {} (SQLSTATE {})", db.message(), db.code().code()).into(),
            ),
            None => StoreError::Database(Box::new(e)),
        }
    }
}

impl<C: GenericClient> Pg<C> {
    pub fn new(conn: C) -> Self {
        Self {
            conn: RefCell::new(conn),
        }
    }

    /// The connection, for one statement. A trait method never holds it across a call to
    /// another trait method.
    fn c(&self) -> RefMut<'_, C> {
        self.conn.borrow_mut()
    }

    /// Runs `f` all or nothing: in a transaction on a client, in a savepoint inside a
    /// transaction.
    fn atomic<T>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut c = self.c();
        let mut tx = c.transaction()?;
        let value = f(&mut tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub fn into_inner(self) -> C {
        self.conn.into_inner()
    }
}

impl PgClient {
    /// Connects to `url` (`postgres://user@host:port/db` or key=value settings, without TLS:
    /// the database is reached on a private network or a Unix socket) and brings the schema
    /// up to date.
    pub fn connect(url: &str) -> StoreResult<Self> {
        let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
            StoreError::Database(format!("connecting to {}: {e}", redact(url)).into())
        })?;
        schema::migrate(&mut client)?;
        Ok(Self::new(client))
    }

    /// Connects without migrating (a second connection to a database already migrated).
    pub fn connect_only(url: &str) -> StoreResult<Self> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
            StoreError::Database(format!("connecting to {}: {e}", redact(url)).into())
        })?;
        Ok(Self::new(client))
    }

    /// A read-only transaction whose statements all see one snapshot (repeatable read), for
    /// a read that must not see a commit land between two of its statements.
    pub fn begin_snapshot(&mut self) -> StoreResult<PgTx<'_>> {
        Ok(Pg::new(
            self.conn
                .get_mut()
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?,
        ))
    }

    /// The client itself, for a test or an administrative command.
    pub fn client(&mut self) -> &mut postgres::Client {
        self.conn.get_mut()
    }
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Transactions for PgClient {
    type Tx<'a> = PgTx<'a>;
    fn begin(&mut self) -> StoreResult<Self::Tx<'_>> {
        Ok(Pg::new(self.conn.get_mut().transaction()?))
    }
    fn begin_immediate(&mut self) -> StoreResult<Self::Tx<'_>> {
        let mut tx = self.conn.get_mut().transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMMEDIATE_LOCK])?;
        Ok(Pg::new(tx))
    }
}

impl Commit for PgTx<'_> {
    fn commit(self) -> StoreResult<()> {
        Ok(self.into_inner().commit()?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            super::redact("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(super::redact("postgres://u@db/x"), "postgres://u@db/x");
    }
}
