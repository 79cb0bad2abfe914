//! The server's database handle: the writing connection behind a mutex, a second, query-only
//! connection for the sync's reads, the group commit, and (SQLite) a thread that checkpoints
//! the write-ahead log; everything used from blocking tasks. How the connections are opened and
//! set up, the migrations and the checkpoint itself are the engine's (`store::engine` for
//! SQLite, `store::pg` for PostgreSQL); which engine is the configuration's (`database`), and
//! the handle lends it as a [`AnyConn`] (or, to reads and grouped writes, an [`AnyRef`]) that
//! implements every storage trait.

use crate::store::any::{AnyConn, AnyRef, PgConn};
use crate::store::pg::{Pg, PgClient};
use crate::store::{StoreError, Transactions, engine::Engine};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How often the checkpoint thread copies the write-ahead log into the database file. A
/// checkpoint copies the last version of each page the log holds, so pages that every commit
/// changes (the indexes' upper pages; under load, most of the photo references' index) are
/// copied once per interval rather than once per commit: at 200 ms, about one commit apart
/// under load, checkpoints cost 7.5 % of the server's CPU in the sync benchmark. A second
/// leaves at most a second of writes in the log (the automatic checkpoint inside a commit
/// remains the backstop, see `store::engine`).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// How long a group commit waits for writes announced by syncs still checking their pushes
/// ([`Db::expect_write`]) before committing without them.
pub const GATHER_WAIT: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<AnyConn>>,
    /// A second connection for the sync's reads (see [`Db::read`]); the same as `conn` for an
    /// in-memory database.
    reader: Arc<Mutex<AnyConn>>,
    /// Writes waiting for the next group commit (see [`Db::write_grouped`]).
    queue: Arc<Queue>,
}

/// The group commit's queue, and the signal that a write was queued or an announced one was
/// withdrawn.
#[derive(Default)]
struct Queue {
    state: Mutex<WriteQueue>,
    changed: Condvar,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, WriteQueue> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A write announced to the group commit (see [`Db::expect_write`]): while it is held, a
/// group about to commit waits (at most [`GATHER_WAIT`]) for it. Dropping it withdraws the
/// announcement; [`Db::write_grouped_announced`] turns it into the queued write.
#[must_use = "dropping the announcement withdraws it at once"]
pub struct ExpectedWrite {
    /// None once the write was queued.
    queue: Option<Arc<Queue>>,
}

impl std::fmt::Debug for ExpectedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpectedWrite")
            .field("queued", &self.queue.is_none())
            .finish()
    }
}

impl Drop for ExpectedWrite {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take() {
            let mut state = queue.lock();
            state.expected = state.expected.saturating_sub(1);
            drop(state);
            queue.changed.notify_all();
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// One request's write waiting for a group commit (see [`Db::write_grouped`]).
trait GroupedWrite: Send {
    /// Runs the write in the group's transaction; says whether it succeeded. May be called a
    /// second time, after a rollback, when another write of the group failed.
    fn run(&mut self, conn: &AnyRef<'_, '_>) -> bool;
    /// Drops the result of an earlier run (that run was rolled back).
    fn forget(&mut self);
    /// Answers the caller once the group's fate is known (`commit_error`: the commit failed).
    fn finish(self: Box<Self>, commit_error: Option<&crate::error::Internal>);
}

struct PendingWrite<F, T, E> {
    write: F,
    result: Option<Result<T, E>>,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> GroupedWrite for PendingWrite<F, T, E>
where
    F: FnMut(&AnyRef<'_, '_>) -> Result<T, E> + Send,
    T: Send,
    E: Send + From<crate::error::Internal>,
{
    fn run(&mut self, conn: &AnyRef<'_, '_>) -> bool {
        // No result until this run returns (a panic leaves none: the caller gets an error).
        self.result = None;
        let result = (self.write)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn forget(&mut self) {
        self.result = None;
    }

    fn finish(self: Box<Self>, commit_error: Option<&crate::error::Internal>) {
        let outcome = match (self.result, commit_error) {
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(E::from(crate::internal!("commit failed: {e:#}"))),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(E::from(crate::internal!(
                "the write failed without an answer (see the log)"
            ))),
        };
        let _ = self.reply.send(outcome);
    }
}

type WriteJob = Box<dyn GroupedWrite>;

#[derive(Default)]
struct WriteQueue {
    jobs: Vec<WriteJob>,
    /// A blocking task is committing groups; new jobs only need to be queued.
    leader: bool,
    /// Writes announced and not yet queued ([`ExpectedWrite`]).
    expected: usize,
    /// Groups committed so far (for tests and logs).
    commits: u64,
}

impl Db {
    pub fn open(path: &Path) -> crate::error::InternalResult<Self> {
        let mut db = Self::with_writer(AnyConn::Sqlite(Connection::open_writer(path)?));
        db.reader = Arc::new(Mutex::new(AnyConn::Sqlite(Connection::open_reader(path)?)));
        db.start_checkpointer(path);
        Ok(db)
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`), brings its schema up to
    /// date, and opens a second connection for reads. No checkpoint thread: the server's
    /// own background writer and checkpointer do that.
    pub fn open_postgres(url: &str) -> crate::error::InternalResult<Self> {
        let mut db = Self::with_writer(AnyConn::Pg(PgConn::new(PgClient::connect(url)?)));
        db.reader = Arc::new(Mutex::new(AnyConn::Pg(PgConn::new(
            PgClient::connect_only(url)?,
        ))));
        Ok(db)
    }

    /// The engine's name (`sqlite` or `postgres`).
    pub fn engine(&self) -> &'static str {
        self.with_conn(|c| c.engine())
    }

    /// Copies the write-ahead log into the database file on a thread of its own, with its own
    /// connection, so that a sync's commit does not do it while holding the database lock
    /// (SQLite's automatic checkpoint runs inside the commit that crosses the threshold). A
    /// passive checkpoint never blocks readers or writers. The thread ends with the last
    /// handle on the database. If it cannot run, the automatic checkpoint (at a high
    /// threshold, see `store::engine`) still keeps the log bounded.
    fn start_checkpointer(&self, path: &Path) {
        let alive = Arc::downgrade(&self.conn);
        let path = path.to_owned();
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let conn = match Connection::open_checkpointer(&path) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "checkpoint thread: cannot open the database");
                        return;
                    }
                };
                while alive.strong_count() > 0 {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = conn.checkpoint() {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the checkpoint thread");
        }
    }

    pub fn open_in_memory() -> crate::error::InternalResult<Self> {
        Ok(Self::with_writer(AnyConn::Sqlite(
            Connection::open_memory()?
        )))
    }

    /// The handle over `conn` (set up and migrated), which also serves reads until a reading
    /// connection is opened (an in-memory database has only the one).
    fn with_writer(conn: AnyConn) -> Self {
        let conn = Arc::new(Mutex::new(conn));
        Self {
            reader: conn.clone(),
            conn,
            queue: Arc::default(),
        }
    }

    /// Runs read-only `f` on the reading connection, on a blocking thread. With WAL it reads
    /// the last committed state while a group commit (and its fsync) holds the writing
    /// connection, so a sync's first look at the stored records and its pull do not wait for
    /// other tablets' commits.
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&AnyRef<'_, '_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<crate::error::Internal>,
    {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = reader.lock().unwrap_or_else(|p| p.into_inner());
            // One read transaction: every statement of `f` sees the same committed state.
            // Without it a group commit could land between two statements (e.g. between the
            // pull's page of changes and the cursor it answers with), and the tablet would
            // skip changes it never received. (PostgreSQL: a read-only repeatable-read
            // transaction, its snapshot taken at the first statement.)
            let starting =
                |e: &dyn std::fmt::Display| E::from(crate::internal!("starting a read: {e}"));
            match &mut *guard {
                AnyConn::Sqlite(c) => {
                    let snapshot = c.unchecked_transaction().map_err(|e| starting(&e))?;
                    f(&AnyRef::Sqlite(&snapshot))
                }
                AnyConn::Pg(c) => {
                    let snapshot = c.begin_snapshot().map_err(|e| starting(&e))?;
                    f(&AnyRef::Pg(&snapshot))
                }
            }
        })
        .await
        .map_err(|e| E::from(crate::internal!("database read task failed: {e}")))?
    }

    /// [`Db::read`] on the current thread (for code already on a blocking thread).
    pub fn with_reader<T>(&self, f: impl FnOnce(&AnyConn) -> T) -> T {
        let guard = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// Runs `f` in a transaction shared with the writes of other requests that arrive while
    /// the previous group commits (group commit): one commit, and one fsync, for all of them
    /// instead of one each. A write that fails (returns an error or panics) is rolled back
    /// alone and gets its error; the others are kept. `f` may therefore run twice: when
    /// another write of its group fails, the group is rolled back and run again with a
    /// savepoint per write (see `commit_groups`), so `f` must leave nothing behind but what
    /// it writes through the connection. Returns only after the group's commit is durable
    /// (or with the commit's error), so an answer built on `Ok` may be acknowledged to the
    /// client.
    pub async fn write_grouped<T, E>(
        &self,
        f: impl FnMut(&AnyRef<'_, '_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<crate::error::Internal>,
    {
        self.enqueue(None, f).await
    }

    /// Announces a write that will follow shortly (a sync starting to check its pushes): a
    /// group about to commit meanwhile waits for it, at most [`GATHER_WAIT`], so that the
    /// writes of syncs checked at about the same time share one commit. Each commit writes
    /// the pages it changed to the log again, and the indexes' hot pages (and, for photo
    /// references, pages all over their index) change in every group, so one commit of
    /// several syncs costs much less than one each. (PostgreSQL's `commit_delay` with
    /// `commit_siblings` is the same idea.) Without announcements nothing waits.
    pub fn expect_write(&self) -> ExpectedWrite {
        self.queue.lock().expected += 1;
        ExpectedWrite {
            queue: Some(self.queue.clone()),
        }
    }

    /// [`Db::write_grouped`] for the write `announced` earlier: queued and un-announced in one
    /// step, so a waiting group sees it arrive rather than withdrawn.
    pub async fn write_grouped_announced<T, E>(
        &self,
        announced: ExpectedWrite,
        f: impl FnMut(&AnyRef<'_, '_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<crate::error::Internal>,
    {
        self.enqueue(Some(announced), f).await
    }

    /// Groups committed since the database was opened.
    pub fn commits(&self) -> u64 {
        self.queue.lock().commits
    }

    async fn enqueue<T, E>(
        &self,
        announced: Option<ExpectedWrite>,
        f: impl FnMut(&AnyRef<'_, '_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<crate::error::Internal>,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(PendingWrite {
            write: f,
            result: None,
            reply,
        });
        let lead = {
            let mut queue = self.queue.lock();
            queue.jobs.push(job);
            if let Some(mut announced) = announced
                && announced.queue.take().is_some()
            {
                // Withdrawn under the same lock as the job is queued.
                queue.expected = queue.expected.saturating_sub(1);
            }
            !std::mem::replace(&mut queue.leader, true)
        };
        self.queue.changed.notify_all();
        if lead {
            let (conn, queue) = (self.conn.clone(), self.queue.clone());
            tokio::task::spawn_blocking(move || commit_groups(&conn, &queue));
        }
        answer.await.map_err(|_| {
            E::from(crate::internal!(
                "the write was dropped before its commit (see the log)"
            ))
        })?
    }

    /// Runs `f` with the connection on the current thread (for code already on a blocking
    /// thread; hold it briefly).
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut AnyConn) -> T) -> T {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<crate::error::Internal>,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| E::from(crate::internal!("database task failed: {e}")))?
    }
}

/// The writing connection, lent to a long task one short use at a time ([`Db::with_conn`]).
impl crate::store::Lend for Db {
    type Store = AnyConn;
    fn lend<T>(&self, f: impl FnOnce(&AnyConn) -> T) -> T {
        self.with_conn(|conn| f(conn))
    }
}

/// The group-commit loop: takes every queued write, runs them in one transaction, commits,
/// answers them, and repeats until the queue is empty.
///
/// The writes first run one after the other with no savepoints: a savepoint journals every
/// page its write touches, and the writes of one group touch the same pages of the same
/// indexes (about 5 % of the server's CPU in the sync benchmark). Should one of them fail (an
/// error or a panic), the transaction is rolled back and the group runs again, each write in
/// its own savepoint, so that the failing one is rolled back alone and the others are kept.
///
/// Before taking a group it waits, at most [`GATHER_WAIT`], while writes announced by
/// [`Db::expect_write`] are still to come.
fn commit_groups(conn: &Mutex<AnyConn>, queue: &Queue) {
    loop {
        let mut jobs = {
            let mut state = queue.lock();
            if state.jobs.is_empty() {
                state.leader = false;
                return;
            }
            let deadline = Instant::now() + GATHER_WAIT;
            while state.expected > 0 {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                state = queue
                    .changed
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            state.commits += 1;
            std::mem::take(&mut state.jobs)
        };
        let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        let committed = match commit_together(&mut guard, &mut jobs) {
            Ok(Together::Committed) => Ok(()),
            Ok(Together::Failed { panicked }) => commit_one_by_one(&mut guard, &mut jobs, panicked),
            Err(e) => Err(e),
        };
        drop(guard);
        if let Err(e) = &committed {
            tracing::error!(error = %e, writes = jobs.len(), "group commit failed");
        }
        for job in jobs {
            job.finish(committed.as_ref().err());
        }
    }
}

enum Together {
    Committed,
    /// A write failed and the transaction was rolled back; `panicked`: the one that panicked.
    Failed {
        panicked: Option<usize>,
    },
}

/// Runs the group's writes on `conn`, one after the other, until one fails.
fn run_all(conn: &AnyRef<'_, '_>, jobs: &mut [WriteJob]) -> Option<Together> {
    for (i, job) in jobs.iter_mut().enumerate() {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn))) {
            Ok(true) => {}
            Ok(false) => return Some(Together::Failed { panicked: None }),
            Err(_) => return Some(Together::Failed { panicked: Some(i) }),
        }
    }
    None
}

/// Every write of the group in one transaction, without savepoints.
fn commit_together(
    conn: &mut AnyConn,
    jobs: &mut [WriteJob],
) -> crate::error::InternalResult<Together> {
    // A failed write returns early: dropping the transaction rolls it back.
    match conn {
        AnyConn::Sqlite(c) => {
            let tx = c.begin()?;
            if let Some(failed) = run_all(&AnyRef::Sqlite(&tx), jobs) {
                return Ok(failed);
            }
            tx.commit()?;
        }
        AnyConn::Pg(c) => {
            let tx = c.begin()?;
            if let Some(failed) = run_all(&AnyRef::Pg(&tx), jobs) {
                return Ok(failed);
            }
            crate::store::Commit::commit(tx)?;
        }
    }
    Ok(Together::Committed)
}

/// Every write of the group in one transaction, each in its own savepoint: a failing one is
/// rolled back alone. `skip`: a write that panicked before, not run again (it answers with an
/// error).
fn commit_one_by_one(
    conn: &mut AnyConn,
    jobs: &mut [WriteJob],
    skip: Option<usize>,
) -> crate::error::InternalResult<()> {
    let pg = |e: postgres::Error| StoreError::from(e);
    let (mut sqlite_tx, mut pg_tx) = (None, None);
    let mut statements = None;
    match conn {
        AnyConn::Sqlite(c) => sqlite_tx = Some(c.begin()?),
        AnyConn::Pg(c) => {
            statements = Some(c.statements());
            pg_tx = Some(c.client().transaction().map_err(pg)?);
        }
    }
    for (i, job) in jobs.iter_mut().enumerate() {
        if Some(i) == skip {
            tracing::error!("a grouped write panicked; it was rolled back");
            job.forget();
            continue;
        }
        let run = |job: &mut WriteJob, view: &AnyRef<'_, '_>| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(view)))
        };
        // Dropping a savepoint rolls it back; the job answers with its own error.
        let outcome = if let Some(tx) = sqlite_tx.as_mut() {
            let savepoint = tx.savepoint()?;
            let outcome = run(job, &AnyRef::Sqlite(&savepoint));
            if matches!(outcome, Ok(true)) {
                savepoint.commit()?;
            }
            outcome
        } else if let Some(tx) = pg_tx.as_mut() {
            let statements = statements.clone().unwrap_or_default();
            let savepoint = Pg::within(tx.transaction().map_err(pg)?, statements);
            let outcome = run(job, &AnyRef::Pg(&savepoint));
            if matches!(outcome, Ok(true)) {
                savepoint.into_inner().commit().map_err(pg)?;
            }
            outcome
        } else {
            unreachable!("one of the two is open")
        };
        if outcome.is_err() {
            tracing::error!("a grouped write panicked; it was rolled back");
        }
    }
    if let Some(tx) = sqlite_tx {
        tx.commit()?;
    }
    if let Some(tx) = pg_tx {
        tx.commit().map_err(pg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many concurrent writers: every kept write is there after its answer, and a failing
    /// write is rolled back alone (its savepoint) with its own error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn grouped_writes_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.with_conn(|c| {
            c.expect_sqlite()
                .execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        })
        .unwrap();
        let writes = (0..200).map(|k| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_grouped(move |c| -> Result<i64, crate::error::Internal> {
                    c.expect_sqlite()
                        .execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])?;
                    if k % 50 == 7 {
                        return Err(crate::internal!("write {k} refused"));
                    }
                    Ok(k)
                })
                .await
            })
        });
        let results: Vec<_> = futures_join(writes).await;
        let failed: Vec<i64> = (0..200).filter(|k| k % 50 == 7).collect();
        for (k, r) in results.iter().enumerate() {
            match r {
                Ok(v) => assert_eq!(*v, k as i64),
                Err(e) => {
                    assert!(failed.contains(&(k as i64)), "{k}: {e}");
                    assert_eq!(e.to_string(), format!("write {k} refused"));
                }
            }
        }
        let (rows, keys): (i64, Vec<i64>) = db.with_conn(|c| {
            let c = c.expect_sqlite();
            let n = c
                .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                .unwrap();
            let keys = c
                .prepare("SELECT k FROM t WHERE k % 50 = 7")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            (n, keys)
        });
        assert_eq!(rows, 200 - failed.len() as i64);
        assert!(keys.is_empty(), "failed writes rolled back: {keys:?}");
    }

    /// A write that panics is rolled back alone, its caller gets an error, and the writes of
    /// its group that ran before it (rolled back with the first attempt) are kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_panicking_grouped_write_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.with_conn(|c| {
            c.expect_sqlite()
                .execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        })
        .unwrap();
        // Hold the writing connection so that every write below lands in one group.
        let gate = db.conn.clone();
        let held = std::thread::spawn(move || {
            let _guard = gate.lock().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        let writes = (0..20).map(|k| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_grouped(move |c| -> Result<i64, crate::error::Internal> {
                    c.expect_sqlite()
                        .execute("INSERT INTO t (k) VALUES (?1)", [k])?;
                    if k == 13 {
                        panic!("write {k} panics after inserting");
                    }
                    Ok(k)
                })
                .await
            })
        });
        let results = futures_join(writes).await;
        held.join().unwrap();
        for (k, r) in results.iter().enumerate() {
            if k == 13 {
                assert!(r.is_err(), "the panicking write answers with an error");
            } else {
                assert_eq!(*r.as_ref().unwrap(), k as i64);
            }
        }
        let keys: Vec<i64> = db.with_conn(|c| {
            c.expect_sqlite()
                .prepare("SELECT k FROM t ORDER BY k")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        });
        let expected: Vec<i64> = (0..20).filter(|k| *k != 13).collect();
        assert_eq!(keys, expected);
    }

    /// A write announced while a group is about to commit joins that group (one commit for
    /// both); a withdrawn announcement lets the group commit at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_waits_for_announced_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.with_conn(|c| {
            c.expect_sqlite()
                .execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        })
        .unwrap();
        let insert = |k: i64| {
            move |c: &AnyRef<'_, '_>| -> Result<(), crate::error::Internal> {
                c.expect_sqlite()
                    .execute("INSERT INTO t (k) VALUES (?1)", [k])?;
                Ok(())
            }
        };
        let before = db.commits();
        let announced = db.expect_write();
        let first = {
            let db = db.clone();
            tokio::spawn(async move { db.write_grouped(insert(1)).await })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(
            !first.is_finished(),
            "the group waits for the announced write"
        );
        db.write_grouped_announced(announced, insert(2))
            .await
            .unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(db.commits() - before, 1, "both writes in one commit");

        let announced = db.expect_write();
        let started = Instant::now();
        let third = {
            let db = db.clone();
            tokio::spawn(async move { db.write_grouped(insert(3)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(announced);
        third.await.unwrap().unwrap();
        assert!(
            started.elapsed() < GATHER_WAIT,
            "a withdrawn announcement does not hold the group until the deadline"
        );
        let n: i64 = db
            .with_conn(|c| {
                c.expect_sqlite()
                    .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            })
            .unwrap();
        assert_eq!(n, 3);
    }

    async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::new();
        for h in handles.collect::<Vec<_>>() {
            out.push(h.await.unwrap());
        }
        out
    }
}
