//! Server storage behind traits. The use cases (`crate::service`) and the handlers reach the
//! database only through these traits, which say what is stored and return [`StoreError`],
//! never an HTTP error: how a failure is answered is the handler's business.
//!
//! - [`RecordStore`] (`records.rs`): record documents, the global change log and the rows
//!   derived from a record (inspectors, photo references, the console's index).
//! - [`PlanStore`] (`plans.rs`): the plans sealed from 双随机 draws and the draws' records.
//! - [`AccountStore`] (`accounts.rs`): password hashes and bearer tokens.
//! - [`BlobStore`] (`blobs.rs`): which photo blobs are held and who uploaded them.
//! - [`ConsoleIndex`] (`console_index.rs`, queries in `console_query.rs`): the console's
//!   index of records and hazards, written with every record version, and its lists and
//!   figures.
//! - [`CaseStore`] (`cases.rs`): penalty cases, their index rows and their change log (in the
//!   records' global change sequence).
//! - [`PenaltyRulesStore`] (`penalty_rules.rs`): each unit's penalty settings, working-day
//!   calendar and discretion table.
//! - [`CaseFileStore`] (`casefiles.rs`): the server's signing key and case-file export jobs.
//! - [`DeviceStore`] (`devices.rs`): registered tablets.
//! - [`ThrottleStore`] (`throttle.rs`): failed sign-ins and locks.
//! - [`NumberStore`] (`numbers.rs`): document-number blocks handed out to devices.
//! - [`ReferenceStore`] (`reference.rs`): units, users and enterprises (seeded from the
//!   fixtures) and the version counter the running server watches.
//!
//! The SQLite implementation of each trait is written once, for every [`Sqlite`] handle: a
//! `rusqlite::Connection` or a transaction on one. [`Transactions`] opens and commits a
//! transaction for a use case that must write atomically. A second engine (PostgreSQL)
//! implements the same traits.

pub mod accounts;
pub mod any;
pub mod audit;
pub mod blobs;
pub mod casefiles;
pub mod cases;
pub mod console_index;
pub mod console_query;
pub mod devices;
pub mod engine;
pub mod numbers;
pub mod penalty_rules;
pub mod pg;
pub mod plans;
pub mod records;
pub mod reference;
pub mod server_keys;
pub mod server_meta;
pub mod throttle;

pub use accounts::AccountStore;
pub use audit::AuditStore;
pub use blobs::BlobStore;
pub use casefiles::CaseFileStore;
pub use cases::CaseStore;
pub use console_index::ConsoleIndex;
pub use devices::DeviceStore;
pub use numbers::NumberStore;
pub use penalty_rules::PenaltyRulesStore;
pub use plans::PlanStore;
pub use records::RecordStore;
pub use reference::ReferenceStore;
pub use server_keys::KeyHistoryStore;
pub use server_meta::MetaStore;
pub use throttle::ThrottleStore;

/// A storage failure. Callers map it to their own answer (an internal error, usually); the
/// detail goes to the log only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database engine failed (I/O, constraint, lock, …).
    #[error("database: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    /// A stored value does not read back (bad JSON, bad heads, a document that does not load).
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What the SQLite implementations of the storage traits are written against: a connection or
/// a transaction on one (both reach the same `rusqlite::Connection`). Implementing a trait for
/// every `Sqlite` rather than for the connection and again for the transaction keeps one copy
/// of each query.
pub trait Sqlite {
    fn sqlite(&self) -> &rusqlite::Connection;
}

impl Sqlite for rusqlite::Connection {
    fn sqlite(&self) -> &rusqlite::Connection {
        self
    }
}

impl Sqlite for rusqlite::Transaction<'_> {
    fn sqlite(&self) -> &rusqlite::Connection {
        self
    }
}

/// A shared store lent for a moment at a time: a long task (a case-file export) borrows it for
/// each read or write and never holds it while it works.
pub trait Lend {
    type Store;
    fn lend<T>(&self, f: impl FnOnce(&Self::Store) -> T) -> T;
}

/// Opens transactions: a use case that must write several things atomically begins one, works
/// through the storage traits on it, and commits it (dropping it rolls back).
pub trait Transactions {
    type Tx<'a>: Commit
    where
        Self: 'a;
    /// Begins a transaction (SQLite: deferred, the write lock is taken at the first write).
    fn begin(&mut self) -> StoreResult<Self::Tx<'_>>;
    /// Begins a transaction that holds the write lock from the start (SQLite `BEGIN
    /// IMMEDIATE`), for a read-then-write that must not interleave with another writer.
    fn begin_immediate(&mut self) -> StoreResult<Self::Tx<'_>>;
}

/// A transaction in progress.
pub trait Commit {
    fn commit(self) -> StoreResult<()>;
}

impl Transactions for rusqlite::Connection {
    type Tx<'a> = rusqlite::Transaction<'a>;
    fn begin(&mut self) -> StoreResult<Self::Tx<'_>> {
        Ok(self.transaction()?)
    }
    fn begin_immediate(&mut self) -> StoreResult<Self::Tx<'_>> {
        Ok(self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }
}

impl Commit for rusqlite::Transaction<'_> {
    fn commit(self) -> StoreResult<()> {
        Ok(rusqlite::Transaction::commit(self)?)
    }
}
