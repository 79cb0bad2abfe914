//! The PostgreSQL schema and its migrations. The SQLite schema grew over fourteen migrations;
//! PostgreSQL starts from where it stands (migration 1 is the whole of it) and appends from
//! there. [`MIGRATIONS`] is append-only: `schema_version` counts the migrations applied, and
//! a database from a newer server is refused untouched. Each migration runs in one
//! transaction holding [`super::MIGRATION_LOCK`], so two nodes starting at once migrate once.
//!
//! Types: text for ids and JSON bodies (read back byte for byte, never queried inside),
//! every text column with the "C" collation (byte order, as SQLite compares: lists sorted
//! and paged by id read the same on both engines, whatever the cluster's locale),
//! `bytea` for bytes, `bigint` for times and counters, `boolean` for flags. Where SQLite
//! listed rows by `rowid` (insertion order), a table has an identity column `n`.

use crate::store::{StoreError, StoreResult};

/// Migration 1: every table of the SQLite schema as it stands (its migrations 1 to 14).
const MIGRATION_1: &str = r#"
    -- accounts and bearer tokens (store::accounts)
    CREATE TABLE accounts (
        user_id text COLLATE "C" PRIMARY KEY,
        password_hash text COLLATE "C" NOT NULL
    );
    CREATE TABLE tokens (
        token_hash bytea PRIMARY KEY,
        user_id text COLLATE "C" NOT NULL,
        device_id text COLLATE "C",
        expires_at bigint NOT NULL,
        revoked boolean NOT NULL DEFAULT false
    );
    -- registered devices (store::devices)
    CREATE TABLE devices (
        id text COLLATE "C" PRIMARY KEY,
        user_id text COLLATE "C" NOT NULL,
        public_key bytea NOT NULL,
        registered_at bigint NOT NULL,
        revoked_at bigint,
        last_seen bigint
    );
    -- records, their inspectors, the global change log, photo references (store::records)
    CREATE TABLE docs (
        id text COLLATE "C" PRIMARY KEY,
        unit text COLLATE "C" NOT NULL,
        plan text COLLATE "C",
        status text COLLATE "C" NOT NULL,
        snapshot bytea NOT NULL,
        heads text COLLATE "C" NOT NULL
    );
    CREATE TABLE doc_inspectors (
        doc_id text COLLATE "C" NOT NULL REFERENCES docs(id),
        user_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (doc_id, user_id)
    );
    CREATE INDEX doc_inspectors_by_user ON doc_inspectors (user_id);
    -- seq is every device's cursor: the next number, taken under the change-log lock held
    -- to the commit (see store::pg), so numbers are gapless and visible in order.
    CREATE TABLE changes (
        seq bigint PRIMARY KEY,
        doc_id text COLLATE "C" NOT NULL REFERENCES docs(id),
        origin_device text COLLATE "C" NOT NULL,
        bytes bytea NOT NULL
    );
    CREATE INDEX changes_by_doc ON changes (doc_id, seq);
    CREATE TABLE photo_refs (
        sha256 text COLLATE "C" NOT NULL,
        doc_id text COLLATE "C" NOT NULL REFERENCES docs(id),
        PRIMARY KEY (sha256, doc_id)
    );
    -- photo blobs held and their uploaders (store::blobs)
    CREATE TABLE blobs (
        sha256 text COLLATE "C" PRIMARY KEY,
        size bigint NOT NULL,
        uploaded_by text COLLATE "C" NOT NULL
    );
    CREATE TABLE blob_uploaders (
        sha256 text COLLATE "C" NOT NULL,
        device_id text COLLATE "C" NOT NULL,
        user_id text COLLATE "C" NOT NULL,
        uploaded_at bigint NOT NULL,
        PRIMARY KEY (sha256, device_id)
    );
    -- the console's index (store::console_index)
    CREATE TABLE console_records (
        id text COLLATE "C" PRIMARY KEY,
        unit text COLLATE "C" NOT NULL,
        kind text COLLATE "C" NOT NULL,
        status text COLLATE "C" NOT NULL,
        enterprise_id text COLLATE "C" NOT NULL,
        enterprise_name text COLLATE "C" NOT NULL,
        plan text COLLATE "C",
        inspectors text COLLATE "C" NOT NULL,
        created_at bigint NOT NULL,
        started_at bigint,
        completed_at bigint,
        visit_at bigint NOT NULL,
        review_decision text COLLATE "C",
        review_by text COLLATE "C",
        review_at bigint,
        review_comment text COLLATE "C",
        hazards bigint NOT NULL,
        violations bigint NOT NULL DEFAULT 0
    );
    CREATE INDEX console_records_by_unit ON console_records (unit, visit_at, id);
    CREATE INDEX console_records_by_visit ON console_records (visit_at, id);
    CREATE INDEX console_records_by_status ON console_records (status, visit_at);
    CREATE INDEX console_records_by_kind ON console_records (kind, visit_at);
    CREATE INDEX console_records_by_enterprise ON console_records (enterprise_id, visit_at);
    CREATE TABLE console_hazards (
        record_id text COLLATE "C" NOT NULL,
        hazard_id text COLLATE "C" NOT NULL,
        unit text COLLATE "C" NOT NULL,
        enterprise_id text COLLATE "C" NOT NULL,
        enterprise_name text COLLATE "C" NOT NULL,
        level text COLLATE "C" NOT NULL,
        stage text COLLATE "C" NOT NULL,
        registered_on text COLLATE "C" NOT NULL,
        deadline text COLLATE "C",
        supervised boolean NOT NULL,
        closed_on text COLLATE "C",
        hazard text COLLATE "C" NOT NULL,
        PRIMARY KEY (record_id, hazard_id)
    );
    CREATE INDEX console_hazards_by_unit ON console_hazards (unit, registered_on);
    CREATE INDEX console_hazards_by_stage ON console_hazards (stage, deadline);
    CREATE TABLE console_backfill (pending bigint PRIMARY KEY);
    INSERT INTO console_backfill (pending) VALUES (1);
    -- draws and sealed plans (store::plans)
    CREATE TABLE draws (
        id text COLLATE "C" PRIMARY KEY,
        input_digest text COLLATE "C" NOT NULL UNIQUE,
        unit text COLLATE "C" NOT NULL,
        input text COLLATE "C" NOT NULL,
        result text COLLATE "C" NOT NULL,
        due text COLLATE "C",
        drawn_by text COLLATE "C" NOT NULL,
        drawn_at bigint NOT NULL
    );
    CREATE INDEX draws_by_unit ON draws (unit, drawn_at);
    CREATE TABLE plans (
        n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text COLLATE "C" PRIMARY KEY,
        unit text COLLATE "C" NOT NULL,
        plan text COLLATE "C" NOT NULL,
        draw_id text COLLATE "C" REFERENCES draws(id),
        created_at bigint NOT NULL
    );
    CREATE INDEX plans_by_draw ON plans (draw_id, n);
    CREATE TABLE plan_assignees (
        plan_id text COLLATE "C" NOT NULL REFERENCES plans(id),
        user_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (user_id, plan_id)
    );
    -- the case-file signing key and export jobs (store::casefiles)
    CREATE TABLE server_key (
        id integer PRIMARY KEY CHECK (id = 1),
        secret bytea NOT NULL,
        created_at bigint NOT NULL
    );
    CREATE TABLE casefile_exports (
        id text COLLATE "C" PRIMARY KEY,
        record_id text COLLATE "C" NOT NULL,
        requested_by text COLLATE "C" NOT NULL,
        requested_at bigint NOT NULL,
        state text COLLATE "C" NOT NULL,
        bytes_done bigint NOT NULL DEFAULT 0,
        bytes_total bigint NOT NULL DEFAULT 0,
        current text COLLATE "C" NOT NULL DEFAULT '',
        updated_at bigint NOT NULL,
        signed_version text COLLATE "C",
        size bigint,
        manifest_sha256 text COLLATE "C",
        error_zh text COLLATE "C",
        error_en text COLLATE "C"
    );
    CREATE INDEX casefile_exports_by_record ON casefile_exports (record_id, requested_at);
    -- document-number blocks (store::numbers)
    CREATE TABLE number_blocks (
        unit text COLLATE "C" NOT NULL,
        kind text COLLATE "C" NOT NULL,
        year integer NOT NULL,
        first bigint NOT NULL,
        last bigint NOT NULL,
        device_id text COLLATE "C" NOT NULL,
        user_id text COLLATE "C" NOT NULL,
        reserved_at bigint NOT NULL,
        PRIMARY KEY (unit, kind, year, first),
        CHECK (first >= 1 AND last >= first)
    );
    CREATE INDEX number_blocks_by_device ON number_blocks (device_id, unit, kind, year);
    -- the sign-in throttle (store::throttle)
    CREATE TABLE signin_throttle (
        key text COLLATE "C" PRIMARY KEY,
        failures bigint NOT NULL,
        window_start bigint NOT NULL,
        locked_until bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE signin_unlocks (
        user_id text COLLATE "C" NOT NULL,
        lifted_by text COLLATE "C" NOT NULL,
        lifted_at bigint NOT NULL
    );
    -- reference data (store::reference)
    CREATE TABLE ref_units (
        n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text COLLATE "C" PRIMARY KEY,
        body text COLLATE "C" NOT NULL,
        enabled boolean NOT NULL DEFAULT true
    );
    CREATE TABLE ref_users (
        n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text COLLATE "C" PRIMARY KEY,
        unit text COLLATE "C" NOT NULL,
        body text COLLATE "C" NOT NULL,
        enabled boolean NOT NULL DEFAULT true
    );
    CREATE TABLE ref_enterprises (
        n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text COLLATE "C" PRIMARY KEY,
        uscc text COLLATE "C" NOT NULL UNIQUE,
        unit text COLLATE "C" NOT NULL,
        body text COLLATE "C" NOT NULL
    );
    CREATE TABLE ref_version (
        one integer PRIMARY KEY CHECK (one = 1),
        version bigint NOT NULL
    );
    CREATE TABLE ref_templates (
        n bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        unit text COLLATE "C" NOT NULL,
        body text COLLATE "C" NOT NULL,
        uploaded_by text COLLATE "C" NOT NULL,
        uploaded_at bigint NOT NULL,
        PRIMARY KEY (id, version)
    );
    -- the server's own facts (store::server_meta); the epoch is written by the runner
    CREATE TABLE server_meta (
        key text COLLATE "C" PRIMARY KEY,
        value text COLLATE "C" NOT NULL
    );
    -- the history of the case-file signing keys (store::server_keys)
    CREATE TABLE server_keys (
        n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        public_key text COLLATE "C" NOT NULL UNIQUE,
        valid_from bigint NOT NULL,
        valid_until bigint,
        endorsed_by_previous text COLLATE "C",
        endorses_previous text COLLATE "C"
    );
    -- the hash-chained audit log, append-only (store::audit)
    CREATE TABLE audit_log (
        seq bigint PRIMARY KEY,
        at bigint NOT NULL,
        actor text COLLATE "C" NOT NULL,
        unit text COLLATE "C" NOT NULL,
        action text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        client text COLLATE "C" NOT NULL,
        prev_hash text COLLATE "C" NOT NULL,
        hash text COLLATE "C" NOT NULL
    );
    CREATE INDEX audit_log_by_unit ON audit_log (unit, seq);
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"#;

/// Migration 2 (issue 18, sync as deployed): whom a record is pulled to by default, and the
/// records an inspector fetched on demand (SQLite's `records::MIGRATION_PULL_SCOPE`).
const MIGRATION_PULL_SCOPE: &str = r#"
    CREATE TABLE doc_recipients (
        user_id text COLLATE "C" NOT NULL,
        doc_id text COLLATE "C" NOT NULL REFERENCES docs(id),
        PRIMARY KEY (user_id, doc_id)
    );
    INSERT INTO doc_recipients (user_id, doc_id) SELECT user_id, doc_id FROM doc_inspectors;
    CREATE INDEX doc_recipients_by_doc ON doc_recipients (doc_id);
    CREATE TABLE record_fetches (
        user_id text COLLATE "C" NOT NULL,
        doc_id text COLLATE "C" NOT NULL REFERENCES docs(id),
        at bigint NOT NULL,
        PRIMARY KEY (user_id, doc_id)
    );
"#;
/// Migration 3 (issue 18, the console at city scale): the record list's index by unit and
/// status, the open hazards' by unit, stage and deadline, and the figures' tallies per day and
/// per month (see SQLite's `console_index::MIGRATION_TALLY`), filled from
/// the index as it stands. Days in Asia/Shanghai (UTC+8, as `Timestamp::shanghai_date`).
const MIGRATION_3: &str = r#"
    CREATE INDEX console_records_by_unit_status ON console_records (unit, status, visit_at, id);
    CREATE INDEX console_hazards_by_unit_stage ON console_hazards (unit, stage, deadline)
        INCLUDE (level, supervised, record_id);
    CREATE TABLE console_tally (
        unit text COLLATE "C" NOT NULL,
        month bigint NOT NULL,
        kind text COLLATE "C" NOT NULL,
        status text COLLATE "C" NOT NULL,
        level text COLLATE "C" NOT NULL,
        stage text COLLATE "C" NOT NULL,
        supervised boolean NOT NULL,
        day bigint NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (unit, month, kind, status, level, stage, supervised, day)
    );
    CREATE TABLE console_tally_month (
        unit text COLLATE "C" NOT NULL,
        month bigint NOT NULL,
        kind text COLLATE "C" NOT NULL,
        status text COLLATE "C" NOT NULL,
        level text COLLATE "C" NOT NULL,
        stage text COLLATE "C" NOT NULL,
        supervised boolean NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (unit, month, kind, status, level, stage, supervised)
    );
"#;

/// The tallies counted from the index rows (with [`MIGRATION_3`]; into empty tables).
pub const TALLY_FILL: &str = r#"
    INSERT INTO console_tally (unit, month, kind, status, level, stage, supervised, day, n)
        SELECT unit,
            to_char(to_timestamp(visit_at / 1000 + 28800) AT TIME ZONE 'UTC', 'YYYYMM')::bigint,
            kind, status, '', '', false,
            to_char(to_timestamp(visit_at / 1000 + 28800) AT TIME ZONE 'UTC', 'YYYYMMDD')::bigint,
            count(*)
        FROM console_records WHERE violations = 0
        GROUP BY 1, 2, 3, 4, 8;
    INSERT INTO console_tally (unit, month, kind, status, level, stage, supervised, day, n)
        SELECT r.unit,
            to_char(to_timestamp(r.visit_at / 1000 + 28800) AT TIME ZONE 'UTC', 'YYYYMM')::bigint,
            r.kind, r.status, h.level, h.stage, h.supervised,
            to_char(to_timestamp(r.visit_at / 1000 + 28800) AT TIME ZONE 'UTC', 'YYYYMMDD')::bigint,
            count(*)
        FROM console_hazards h JOIN console_records r ON r.id = h.record_id
        WHERE r.violations = 0
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    INSERT INTO console_tally_month (unit, month, kind, status, level, stage, supervised, n)
        SELECT unit, month, kind, status, level, stage, supervised, sum(n) FROM console_tally
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
"#;

/// Migration 4 (issue 19): penalty cases, their inspectors and their change log, numbered in
/// the records' global sequence (see SQLite's `cases::MIGRATION_CASES`).
const MIGRATION_CASES: &str = r#"
    CREATE TABLE cases (
        id text COLLATE "C" PRIMARY KEY,
        unit text COLLATE "C" NOT NULL,
        enterprise_id text COLLATE "C" NOT NULL,
        stage text COLLATE "C" NOT NULL,
        opened_at bigint NOT NULL,
        inspection text COLLATE "C",
        snapshot bytea NOT NULL,
        heads text COLLATE "C" NOT NULL
    );
    CREATE INDEX cases_by_unit ON cases (unit, opened_at);
    CREATE INDEX cases_by_inspection ON cases (inspection);
    CREATE TABLE case_inspectors (
        user_id text COLLATE "C" NOT NULL,
        case_id text COLLATE "C" NOT NULL REFERENCES cases(id),
        PRIMARY KEY (user_id, case_id)
    );
    CREATE INDEX case_inspectors_by_case ON case_inspectors (case_id);
    CREATE TABLE case_changes (
        seq bigint PRIMARY KEY,
        case_id text COLLATE "C" NOT NULL REFERENCES cases(id),
        origin_device text COLLATE "C" NOT NULL,
        bytes bytea NOT NULL
    );
    CREATE INDEX case_changes_by_case ON case_changes (case_id, seq);
"#;

/// Migration 5 (issue 19): each unit's penalty settings, working-day calendar, discretion
/// table and blacklist rules (see SQLite's `penalty_rules::MIGRATION_PENALTY_RULES`).
const MIGRATION_PENALTY_RULES: &str = r#"
    CREATE TABLE unit_penalty_rules (
        unit text COLLATE "C" PRIMARY KEY,
        settings text,
        calendar text,
        discretion text,
        blacklist text,
        updated_at bigint NOT NULL,
        updated_by text COLLATE "C" NOT NULL
    );
"#;

/// Migration 6 (issue 18, the console's reads at city scale):
/// - `console_records_violating`: the records whose merged state breaks a rule, which the
///   record list's count adds to what the tally counts (see SQLite's
///   `console_index::MIGRATION_VIOLATING`);
/// - `console_hazards_open`: the open hazards by unit and deadline, for the overdue ledger and
///   the figures' overdue count (the index by unit, stage and deadline was read with the
///   stage as a filter over every hazard of the units: 290,000 entries for a city's 3,643
///   overdue hazards).
const MIGRATION_CITY_READS: &str = r#"
    CREATE INDEX console_records_violating ON console_records (unit, visit_at)
        WHERE violations <> 0;
    CREATE INDEX console_hazards_open ON console_hazards (unit, deadline)
        INCLUDE (level, stage, supervised, record_id)
        WHERE stage IN ('registered', 'ordered', 'rectified');
"#;

/// Every migration, in order (append-only): each runs its pieces in one transaction.
pub const MIGRATIONS: &[&[&str]] = &[
    &[MIGRATION_1],
    &[MIGRATION_PULL_SCOPE],
    &[MIGRATION_3, TALLY_FILL],
    &[MIGRATION_CASES],
    &[MIGRATION_PENALTY_RULES],
    &[MIGRATION_CITY_READS],
];

/// Runs the migrations the database has not had yet, each in one transaction with its
/// `schema_version`, under the migration lock.
pub(super) fn migrate(client: &mut postgres::Client) -> StoreResult<()> {
    loop {
        let mut tx = client.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&super::MIGRATION_LOCK],
        )?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")?;
        let found: i64 = tx
            .query_opt("SELECT version FROM schema_version", &[])?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if found > MIGRATIONS.len() as i64 {
            return Err(StoreError::Corrupt(format!(
                "database schema {found} is newer than this server ({})",
                MIGRATIONS.len()
            )));
        }
        let Some(pieces) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        for sql in *pieces {
            tx.batch_execute(sql)?;
        }
        if found == 0 {
            tx.execute(
                "INSERT INTO server_meta (key, value) VALUES ($1, $2)",
                &[
                    &crate::store::server_meta::EPOCH,
                    &crate::store::server_meta::new_epoch(),
                ],
            )?;
            tx.execute("INSERT INTO schema_version (version) VALUES (1)", &[])?;
        } else {
            tx.execute("UPDATE schema_version SET version = $1", &[&(found + 1)])?;
        }
        tx.commit()?;
    }
}
