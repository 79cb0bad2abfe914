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
use postgres::types::ToSql;
use postgres::{GenericClient, Row, Statement};
use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::ops::DerefMut;
use std::sync::{Arc, Mutex};

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
    statements: Statements,
}

/// The statements prepared on one connection, by their text, shared by the connection and
/// its transactions and savepoints. A statement is parsed and planned by PostgreSQL once per
/// connection instead of at every use, and each use is one round trip instead of two (the
/// client's `query(&str)` prepares an unnamed statement first). A prepared statement belongs
/// to the session, not to a transaction: one prepared inside a transaction that rolls back
/// stays valid. The console's lists build their text from the filter, so the cache is
/// bounded ([`Statements::MAX`]): past that it starts again.
#[derive(Clone, Default)]
pub struct Statements(Arc<Mutex<HashMap<String, Statement>>>);

impl std::fmt::Debug for Statements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_tuple("Statements").field(&n).finish()
    }
}

impl<D> std::fmt::Debug for Cx<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx").finish_non_exhaustive()
    }
}

impl Statements {
    const MAX: usize = 512;

    fn get(&self, sql: &str) -> Option<Statement> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sql)
            .cloned()
    }

    fn put(&self, sql: &str, statement: &Statement) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX {
            map.clear();
        }
        map.insert(sql.to_owned(), statement.clone());
    }
}

/// A connection or transaction with its connection's [`Statements`]: what every query of
/// this module runs on ([`Query`]).
pub struct Cx<'s, D> {
    c: D,
    statements: &'s Statements,
}

/// The four ways this module runs a statement, each through the connection's prepared
/// statement for `sql` (prepared at its first use).
pub trait Query {
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error>;
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error>;
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error>;
    fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error>;
}

impl<D: DerefMut<Target = C>, C: GenericClient> Cx<'_, D> {
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement);
        }
        let statement = self.c.prepare(sql)?;
        self.statements.put(sql, &statement);
        Ok(statement)
    }
}

impl<D: DerefMut<Target = C>, C: GenericClient> Query for Cx<'_, D> {
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.c.execute(&statement, params)
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.c.query(&statement, params)
    }
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.c.query_opt(&statement, params)
    }
    fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let statement = self.prepared(sql)?;
        self.c.query_one(&statement, params)
    }
}

/// A transaction (or savepoint) inside [`Pg::atomic`].
pub type AtomicTx<'s, 't, 'c> = Cx<'s, &'t mut postgres::Transaction<'c>>;

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
    /// A new connection's handle, with no statement prepared yet.
    pub fn new(conn: C) -> Self {
        Self::within(conn, Statements::default())
    }

    /// A transaction's or savepoint's handle, sharing its connection's `statements`.
    pub fn within(conn: C, statements: Statements) -> Self {
        Self {
            conn: RefCell::new(conn),
            statements,
        }
    }

    /// The statements prepared on this handle's connection (for a transaction begun on it).
    pub fn statements(&self) -> Statements {
        self.statements.clone()
    }

    /// The connection, for one statement. A trait method never holds it across a call to
    /// another trait method.
    fn c(&self) -> Cx<'_, RefMut<'_, C>> {
        Cx {
            c: self.conn.borrow_mut(),
            statements: &self.statements,
        }
    }

    /// Runs `f` all or nothing: in a transaction on a client, in a savepoint inside a
    /// transaction.
    fn atomic<T>(
        &self,
        f: impl FnOnce(&mut AtomicTx<'_, '_, '_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut c = self.conn.borrow_mut();
        let mut tx = c.transaction()?;
        let value = f(&mut Cx {
            c: &mut tx,
            statements: &self.statements,
        })?;
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
        let statements = self.statements();
        Ok(Pg::within(
            self.conn
                .get_mut()
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?,
            statements,
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
        let statements = self.statements();
        Ok(Pg::within(self.conn.get_mut().transaction()?, statements))
    }
    fn begin_immediate(&mut self) -> StoreResult<Self::Tx<'_>> {
        let statements = self.statements();
        let tx = Pg::within(self.conn.get_mut().transaction()?, statements);
        tx.c()
            .execute("SELECT pg_advisory_xact_lock($1)", &[&IMMEDIATE_LOCK])?;
        Ok(tx)
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
