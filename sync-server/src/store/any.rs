//! The engine chosen at start (`database` in the configuration): SQLite or PostgreSQL behind
//! one type, so that `crate::db::Db` and the handlers need not know which. [`AnyConn`] (a
//! connection), [`AnyTx`] (a transaction on one) and [`AnyRef`] (what a read or a grouped
//! write works on) implement every storage trait by handing each call to the engine's own
//! implementation; [`AnyConn`] opens transactions like either engine.

use super::accounts::TokenOwner;
use super::audit::{Entry, NewEntry};
use super::blobs::Upload;
use super::casefiles::{DeviceKeyRow, Job, JobOutcome};
use super::cases::{CasePullFilter, CaseRow, CaseWrite};
use super::console_query::{Cursor, HazardFilter, HazardRow, RecordFilter, RecordRow};
use super::devices::{DeviceListing, DeviceRow};
use super::penalty_rules::UnitPenaltyRules;
use super::pg::{PgClient, PgTx};
use super::plans::DrawRecord;
use super::records::{AccessRows, ChangePage, DocWrite, PullFilter, Snapshot};
use super::reference::{StoredReference, UnitTemplate};
use super::{Commit, StoreResult, Transactions};
use app_core::docnumber::{Block, Series};
use app_core::enterprise::Enterprise;
use app_core::figures::{RecordFacts, TalliedFacts};
use app_core::geo::Day;
use app_core::ids::UserId;
use app_core::inspection::Inspection;
use app_core::plan::Plan;
use app_core::unit::Unit;
use app_core::user::User;
use casefile::keys::{KeyEntry, KeyHistory};
use std::collections::HashSet;

/// A connection to the chosen engine.
#[derive(Debug)]
pub enum AnyConn {
    Sqlite(rusqlite::Connection),
    Pg(PgConn),
}

/// A PostgreSQL connection that may be dropped anywhere. The synchronous client closes its
/// connection by blocking on a runtime of its own, which tokio forbids on a thread that drives
/// tasks (the last handle on the database may well be dropped by a task): there the client is
/// handed to a thread of its own to close.
#[derive(Debug)]
pub struct PgConn(Option<Box<PgClient>>);

impl PgConn {
    pub fn new(client: PgClient) -> Self {
        Self(Some(Box::new(client)))
    }
}

impl std::ops::Deref for PgConn {
    type Target = PgClient;
    fn deref(&self) -> &PgClient {
        self.0.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgClient {
        self.0.as_mut().expect("held until dropped")
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        if let Some(client) = self.0.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let closing = std::thread::Builder::new()
                .name("postgres-close".into())
                .spawn(move || drop(client));
            if let Err(e) = closing {
                tracing::warn!(error = %e, "cannot close a PostgreSQL connection cleanly");
            }
        }
    }
}

/// A transaction on an [`AnyConn`] (dropping it rolls back).
#[derive(Debug)]
pub enum AnyTx<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Pg(PgTx<'a>),
}

/// What a read ([`crate::db::Db::read`]) or a grouped write works on: a SQLite connection
/// inside a transaction or savepoint, or a PostgreSQL transaction.
#[derive(Debug, Clone, Copy)]
pub enum AnyRef<'a, 'b> {
    Sqlite(&'a rusqlite::Connection),
    Pg(&'a PgTx<'b>),
}

impl AnyConn {
    /// The engine's name, for logs.
    pub fn engine(&self) -> &'static str {
        match self {
            AnyConn::Sqlite(_) => "sqlite",
            AnyConn::Pg(_) => "postgres",
        }
    }
}

impl AnyConn {
    /// The SQLite connection, for tests and tools that work on SQLite only; panics on
    /// PostgreSQL.
    pub fn expect_sqlite(&self) -> &rusqlite::Connection {
        match self {
            AnyConn::Sqlite(c) => c,
            AnyConn::Pg(_) => panic!("a SQLite-only use of a PostgreSQL database"),
        }
    }
}

impl<'a> AnyRef<'a, '_> {
    /// The SQLite connection, for tests that work on SQLite only; panics on PostgreSQL.
    pub fn expect_sqlite(&self) -> &'a rusqlite::Connection {
        match self {
            AnyRef::Sqlite(c) => c,
            AnyRef::Pg(_) => panic!("a SQLite-only use of a PostgreSQL database"),
        }
    }
}

impl Transactions for AnyConn {
    type Tx<'a> = AnyTx<'a>;
    fn begin(&mut self) -> StoreResult<AnyTx<'_>> {
        Ok(match self {
            AnyConn::Sqlite(c) => AnyTx::Sqlite(c.begin()?),
            AnyConn::Pg(c) => AnyTx::Pg(c.begin()?),
        })
    }
    fn begin_immediate(&mut self) -> StoreResult<AnyTx<'_>> {
        Ok(match self {
            AnyConn::Sqlite(c) => AnyTx::Sqlite(c.begin_immediate()?),
            AnyConn::Pg(c) => AnyTx::Pg(c.begin_immediate()?),
        })
    }
}

impl AnyTx<'_> {
    /// Commits (the same as [`Commit::commit`], without importing the trait).
    pub fn commit(self) -> StoreResult<()> {
        match self {
            AnyTx::Sqlite(tx) => Commit::commit(tx),
            AnyTx::Pg(tx) => Commit::commit(tx),
        }
    }
}

impl Commit for AnyTx<'_> {
    fn commit(self) -> StoreResult<()> {
        AnyTx::commit(self)
    }
}

/// `c => expr` for the engine's handle inside `self`.
macro_rules! on {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Self::Sqlite($c) => $e,
            Self::Pg($c) => $e,
        }
    };
}

/// Every storage trait for `$ty`, each call handed to the engine's implementation.
macro_rules! every_store {
    ($ty:ty) => {
        impl super::RecordStore for $ty {
            fn access_rows(&self, id: &str) -> StoreResult<Option<AccessRows>> { on!(self, c => c.access_rows(id)) }
            fn access_rows_many(&self, ids: &[&str]) -> StoreResult<Vec<Option<AccessRows>>> { on!(self, c => c.access_rows_many(ids)) }
            fn records_naming_photo(&self, sha256: &str) -> StoreResult<Vec<String>> { on!(self, c => c.records_naming_photo(sha256)) }
            fn snapshot(&self, id: &str) -> StoreResult<Option<Snapshot>> { on!(self, c => c.snapshot(id)) }
            fn heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> { on!(self, c => c.heads(id)) }
            fn write(&self, w: &DocWrite<'_>) -> StoreResult<()> { on!(self, c => c.write(w)) }
            fn write_many(&self, writes: &[DocWrite<'_>]) -> StoreResult<()> { on!(self, c => c.write_many(writes)) }
            fn snapshots(&self, ids: &[&str]) -> StoreResult<Vec<Option<Snapshot>>> { on!(self, c => c.snapshots(ids)) }
            fn heads_many(&self, ids: &[&str]) -> StoreResult<Vec<Option<Vec<String>>>> { on!(self, c => c.heads_many(ids)) }
            fn lock_records(&self, ids: &[&str]) -> StoreResult<()> { on!(self, c => c.lock_records(ids)) }
            fn changes_after(&self, filter: &PullFilter<'_>) -> StoreResult<ChangePage> { on!(self, c => c.changes_after(filter)) }
            fn latest_seq(&self) -> StoreResult<i64> { on!(self, c => c.latest_seq()) }
            fn lock_record(&self, id: &str) -> StoreResult<()> { on!(self, c => c.lock_record(id)) }
            fn follow(&self, user: &str, id: &str, at: i64) -> StoreResult<()> { on!(self, c => c.follow(user, id, at)) }
            fn records_of_enterprise(&self, enterprise: &str, limit: usize) -> StoreResult<Vec<String>> { on!(self, c => c.records_of_enterprise(enterprise, limit)) }
        }
        impl super::ConsoleIndex for $ty {
            fn index_record(&self, record: &Inspection, existed: bool) -> StoreResult<()> { on!(self, c => c.index_record(record, existed)) }
            fn list_records(&self, filter: &RecordFilter, after: Option<&Cursor>, limit: usize) -> StoreResult<(Vec<RecordRow>, Option<Cursor>)> { on!(self, c => c.list_records(filter, after, limit)) }
            fn count_records(&self, filter: &RecordFilter) -> StoreResult<i64> { on!(self, c => c.count_records(filter)) }
            fn list_hazards(&self, filter: &HazardFilter, today: Day) -> StoreResult<Vec<HazardRow>> { on!(self, c => c.list_hazards(filter, today)) }
            fn record_facts(&self, units: &[String], from: Day, to: Day, today: Day) -> StoreResult<Vec<RecordFacts>> { on!(self, c => c.record_facts(units, from, to, today)) }
            fn figure_tallies(&self, units: &[String], from: Day, to: Day, today: Day) -> StoreResult<Vec<TalliedFacts>> { on!(self, c => c.figure_tallies(units, from, to, today)) }
            fn backfill_pending(&self) -> StoreResult<bool> { on!(self, c => c.backfill_pending()) }
            fn unindexed_records(&self) -> StoreResult<Vec<String>> { on!(self, c => c.unindexed_records()) }
            fn backfill_done(&self) -> StoreResult<()> { on!(self, c => c.backfill_done()) }
        }
        impl super::PlanStore for $ty {
            fn sealed_plan(&self, id: &str) -> StoreResult<Option<Plan>> { on!(self, c => c.sealed_plan(id)) }
            fn sealed_plans_assigned_to(&self, user: &UserId) -> StoreResult<Vec<Plan>> { on!(self, c => c.sealed_plans_assigned_to(user)) }
            fn sealed_plans(&self) -> StoreResult<Vec<Plan>> { on!(self, c => c.sealed_plans()) }
            fn draw(&self, id: &str) -> StoreResult<Option<DrawRecord>> { on!(self, c => c.draw(id)) }
            fn draw_by_digest(&self, digest: &str) -> StoreResult<Option<DrawRecord>> { on!(self, c => c.draw_by_digest(digest)) }
            fn draws_of(&self, units: &[String]) -> StoreResult<Vec<DrawRecord>> { on!(self, c => c.draws_of(units)) }
            fn plans_of_draw(&self, id: &str) -> StoreResult<Vec<Plan>> { on!(self, c => c.plans_of_draw(id)) }
            fn insert_draw(&self, record: &DrawRecord, plans: &[Plan]) -> StoreResult<()> { on!(self, c => c.insert_draw(record, plans)) }
        }
        impl super::AccountStore for $ty {
            fn password_hash(&self, user: &str) -> StoreResult<Option<String>> { on!(self, c => c.password_hash(user)) }
            fn create_account(&self, user: &str, password_hash: &str) -> StoreResult<()> { on!(self, c => c.create_account(user, password_hash)) }
            fn has_account(&self, user: &str) -> StoreResult<bool> { on!(self, c => c.has_account(user)) }
            fn insert_token(&self, token_hash: &[u8], user: &str, expires_at: i64) -> StoreResult<()> { on!(self, c => c.insert_token(token_hash, user, expires_at)) }
            fn token_owner(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<TokenOwner>> { on!(self, c => c.token_owner(token_hash, now)) }
            fn bind_token(&self, token_hash: &[u8], device: &str) -> StoreResult<()> { on!(self, c => c.bind_token(token_hash, device)) }
            fn revoke_token(&self, token_hash: &[u8]) -> StoreResult<()> { on!(self, c => c.revoke_token(token_hash)) }
            fn set_password_hash(&self, user: &str, password_hash: &str) -> StoreResult<()> { on!(self, c => c.set_password_hash(user, password_hash)) }
        }
        impl super::BlobStore for $ty {
            fn held_size(&self, sha: &str) -> StoreResult<Option<u64>> { on!(self, c => c.held_size(sha)) }
            fn is_uploader(&self, sha: &str, device: &str) -> StoreResult<bool> { on!(self, c => c.is_uploader(sha, device)) }
            fn uploaded_by(&self, device: &str, digests: &[&str]) -> StoreResult<HashSet<String>> { on!(self, c => c.uploaded_by(device, digests)) }
            fn record_upload(&self, upload: &Upload<'_>) -> StoreResult<()> { on!(self, c => c.record_upload(upload)) }
        }
        impl super::CaseStore for $ty {
            fn case_snapshot(&self, id: &str) -> StoreResult<Option<(Vec<u8>, Vec<String>)>> { on!(self, c => c.case_snapshot(id)) }
            fn case_heads(&self, id: &str) -> StoreResult<Option<Vec<String>>> { on!(self, c => c.case_heads(id)) }
            fn case_row(&self, id: &str) -> StoreResult<Option<CaseRow>> { on!(self, c => c.case_row(id)) }
            fn write_case(&self, w: &CaseWrite<'_>) -> StoreResult<()> { on!(self, c => c.write_case(w)) }
            fn case_changes_after(&self, filter: &CasePullFilter<'_>) -> StoreResult<ChangePage> { on!(self, c => c.case_changes_after(filter)) }
            fn case_changes_wait(&self, filter: &CasePullFilter<'_>) -> StoreResult<bool> { on!(self, c => c.case_changes_wait(filter)) }
            fn cases_of_units(&self, units: &[String], limit: usize) -> StoreResult<Vec<CaseRow>> { on!(self, c => c.cases_of_units(units, limit)) }
        }
        impl super::PenaltyRulesStore for $ty {
            fn penalty_rules(&self, unit: &str) -> StoreResult<Option<UnitPenaltyRules>> { on!(self, c => c.penalty_rules(unit)) }
            fn put_penalty_rules(&self, unit: &str, rules: &UnitPenaltyRules) -> StoreResult<()> { on!(self, c => c.put_penalty_rules(unit, rules)) }
        }
        impl super::CaseFileStore for $ty {
            fn server_secret(&self) -> StoreResult<Option<Vec<u8>>> { on!(self, c => c.server_secret()) }
            fn insert_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()> { on!(self, c => c.insert_server_secret(secret, now)) }
            fn replace_server_secret(&self, secret: &[u8], now: i64) -> StoreResult<()> { on!(self, c => c.replace_server_secret(secret, now)) }
            fn device_keys(&self) -> StoreResult<Vec<DeviceKeyRow>> { on!(self, c => c.device_keys()) }
            fn insert_job(&self, id: &str, record: &str, user: &str, now: i64) -> StoreResult<()> { on!(self, c => c.insert_job(id, record, user, now)) }
            fn job(&self, id: &str, now: i64) -> StoreResult<Option<Job>> { on!(self, c => c.job(id, now)) }
            fn recent_jobs(&self, record: &str, now: i64) -> StoreResult<Vec<Job>> { on!(self, c => c.recent_jobs(record, now)) }
            fn job_progress(&self, id: &str, bytes_done: u64, bytes_total: u64, current: &str, now: i64) -> StoreResult<()> { on!(self, c => c.job_progress(id, bytes_done, bytes_total, current, now)) }
            fn finish_job(&self, id: &str, outcome: JobOutcome<'_>, now: i64) -> StoreResult<()> { on!(self, c => c.finish_job(id, outcome, now)) }
        }
        impl super::DeviceStore for $ty {
            fn registered_at(&self, device: &str) -> StoreResult<Option<i64>> { on!(self, c => c.registered_at(device)) }
            fn device(&self, id: &str) -> StoreResult<Option<DeviceRow>> { on!(self, c => c.device(id)) }
            fn insert_device(&self, device: &DeviceRow, now: i64) -> StoreResult<()> { on!(self, c => c.insert_device(device, now)) }
            fn revoked_at(&self, device: &str) -> StoreResult<Option<i64>> { on!(self, c => c.revoked_at(device)) }
            fn revoke_device(&self, device: &str, now: i64) -> StoreResult<bool> { on!(self, c => c.revoke_device(device, now)) }
            fn touch_device(&self, device: &str, now: i64) -> StoreResult<()> { on!(self, c => c.touch_device(device, now)) }
            fn list_devices(&self) -> StoreResult<Vec<DeviceListing>> { on!(self, c => c.list_devices()) }
        }
        impl super::ThrottleStore for $ty {
            fn locked_until(&self, key: &str, now: i64) -> StoreResult<Option<i64>> { on!(self, c => c.locked_until(key, now)) }
            fn count_failure(&self, key: &str, now: i64, window_secs: i64, lock_secs: i64, limit: i64) -> StoreResult<bool> { on!(self, c => c.count_failure(key, now, window_secs, lock_secs, limit)) }
            fn forget_expired(&self, window_before: i64, now: i64) -> StoreResult<()> { on!(self, c => c.forget_expired(window_before, now)) }
            fn clear(&self, key: &str) -> StoreResult<bool> { on!(self, c => c.clear(key)) }
            fn counter(&self, key: &str, now: i64, window_secs: i64) -> StoreResult<Option<(i64, i64)>> { on!(self, c => c.counter(key, now, window_secs)) }
            fn record_unlock(&self, user: &str, by: &str, now: i64) -> StoreResult<()> { on!(self, c => c.record_unlock(user, by, now)) }
        }
        impl super::NumberStore for $ty {
            fn blocks_of(&self, series: &Series) -> StoreResult<Vec<Block>> { on!(self, c => c.blocks_of(series)) }
            fn insert_block(&self, block: &Block, user: &str, now_secs: i64) -> StoreResult<()> { on!(self, c => c.insert_block(block, user, now_secs)) }
            fn highest_before(&self, series: &Series, secs: i64) -> StoreResult<u32> { on!(self, c => c.highest_before(series, secs)) }
        }
        impl super::ReferenceStore for $ty {
            fn reference_version(&self) -> StoreResult<Option<i64>> { on!(self, c => c.reference_version()) }
            fn bump_reference_version(&self) -> StoreResult<i64> { on!(self, c => c.bump_reference_version()) }
            fn stored_reference(&self) -> StoreResult<StoredReference> { on!(self, c => c.stored_reference()) }
            fn insert_unit(&self, unit: &Unit) -> StoreResult<()> { on!(self, c => c.insert_unit(unit)) }
            fn set_unit_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> { on!(self, c => c.set_unit_enabled(id, enabled)) }
            fn insert_user(&self, user: &User) -> StoreResult<()> { on!(self, c => c.insert_user(user)) }
            fn set_user_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> { on!(self, c => c.set_user_enabled(id, enabled)) }
            fn insert_enterprise(&self, enterprise: &Enterprise) -> StoreResult<()> { on!(self, c => c.insert_enterprise(enterprise)) }
            fn insert_template(&self, t: &UnitTemplate) -> StoreResult<()> { on!(self, c => c.insert_template(t)) }
        }
        impl super::KeyHistoryStore for $ty {
            fn key_history(&self) -> StoreResult<KeyHistory> { on!(self, c => c.key_history()) }
            fn start_key_history(&self, public_key: &str, valid_from: i64) -> StoreResult<()> { on!(self, c => c.start_key_history(public_key, valid_from)) }
            fn add_rotation(&self, next: &KeyEntry) -> StoreResult<()> { on!(self, c => c.add_rotation(next)) }
        }
        impl super::MetaStore for $ty {
            fn meta(&self, key: &str) -> StoreResult<Option<String>> { on!(self, c => c.meta(key)) }
            fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> { on!(self, c => c.set_meta(key, value)) }
        }
        impl super::AuditStore for $ty {
            fn append_audit(&self, e: &NewEntry) -> StoreResult<Entry> { on!(self, c => c.append_audit(e)) }
            fn audit_entries(&self, units: Option<&[String]>, limit: u32) -> StoreResult<Vec<Entry>> { on!(self, c => c.audit_entries(units, limit)) }
            fn all_audit(&self) -> StoreResult<Vec<Entry>> { on!(self, c => c.all_audit()) }
        }
    };
}

every_store!(AnyConn);
every_store!(AnyTx<'_>);
every_store!(AnyRef<'_, '_>);
