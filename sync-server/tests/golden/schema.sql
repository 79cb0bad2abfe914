-- user_version 20
-- index audit_log_by_unit on audit_log
CREATE INDEX audit_log_by_unit ON audit_log (unit, seq);
-- index case_changes_by_case on case_changes
CREATE INDEX case_changes_by_case ON case_changes (case_id, seq);
-- index case_inspectors_by_case on case_inspectors
CREATE INDEX case_inspectors_by_case ON case_inspectors (case_id);
-- index casefile_exports_by_record on casefile_exports
CREATE INDEX casefile_exports_by_record ON casefile_exports (record_id, requested_at);
-- index cases_by_inspection on cases
CREATE INDEX cases_by_inspection ON cases (inspection);
-- index cases_by_unit on cases
CREATE INDEX cases_by_unit ON cases (unit, opened_at);
-- index changes_by_doc on changes
CREATE INDEX changes_by_doc ON changes (doc_id, seq);
-- index console_hazards_by_stage on console_hazards
CREATE INDEX console_hazards_by_stage ON console_hazards (stage, deadline);
-- index console_hazards_by_unit on console_hazards
CREATE INDEX console_hazards_by_unit ON console_hazards (unit, registered_on);
-- index console_hazards_by_unit_stage on console_hazards
CREATE INDEX console_hazards_by_unit_stage
        ON console_hazards (unit, stage, deadline, level, supervised, record_id);
-- index console_records_by_enterprise on console_records
CREATE INDEX console_records_by_enterprise ON console_records (enterprise_id, visit_at);
-- index console_records_by_kind on console_records
CREATE INDEX console_records_by_kind ON console_records (kind, visit_at);
-- index console_records_by_status on console_records
CREATE INDEX console_records_by_status ON console_records (status, visit_at);
-- index console_records_by_unit on console_records
CREATE INDEX console_records_by_unit ON console_records (unit, visit_at, id);
-- index console_records_by_unit_status on console_records
CREATE INDEX console_records_by_unit_status ON console_records (unit, status, visit_at, id);
-- index console_records_by_visit on console_records
CREATE INDEX console_records_by_visit ON console_records (visit_at, id);
-- index console_records_violating on console_records
CREATE INDEX console_records_violating ON console_records (unit, visit_at)
        WHERE violations <> 0;
-- index doc_inspectors_by_user on doc_inspectors
CREATE INDEX doc_inspectors_by_user ON doc_inspectors (user_id);
-- index doc_recipients_by_doc on doc_recipients
CREATE INDEX doc_recipients_by_doc ON doc_recipients (doc_id);
-- index draws_by_unit on draws
CREATE INDEX draws_by_unit ON draws (unit, drawn_at);
-- index number_blocks_by_device on number_blocks
CREATE INDEX number_blocks_by_device ON number_blocks (device_id, unit, kind, year);
-- index photo_refs_by_key on photo_refs
CREATE INDEX photo_refs_by_key ON photo_refs (sha_key);
-- index sqlite_autoindex_accounts_1 on accounts
;
-- index sqlite_autoindex_casefile_exports_1 on casefile_exports
;
-- index sqlite_autoindex_cases_1 on cases
;
-- index sqlite_autoindex_console_hazards_1 on console_hazards
;
-- index sqlite_autoindex_devices_1 on devices
;
-- index sqlite_autoindex_docs_1 on docs
;
-- index sqlite_autoindex_draws_1 on draws
;
-- index sqlite_autoindex_draws_2 on draws
;
-- index sqlite_autoindex_plans_1 on plans
;
-- index sqlite_autoindex_ref_enterprises_1 on ref_enterprises
;
-- index sqlite_autoindex_ref_enterprises_2 on ref_enterprises
;
-- index sqlite_autoindex_ref_templates_1 on ref_templates
;
-- index sqlite_autoindex_ref_units_1 on ref_units
;
-- index sqlite_autoindex_ref_users_1 on ref_users
;
-- index sqlite_autoindex_server_keys_1 on server_keys
;
-- index sqlite_autoindex_tokens_1 on tokens
;
-- table accounts on accounts
CREATE TABLE accounts (
        user_id TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL
    );
-- table audit_log on audit_log
CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        unit TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        client TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
-- table blob_uploaders on blob_uploaders
CREATE TABLE blob_uploaders (
        sha256 TEXT NOT NULL,
        device_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL,
        PRIMARY KEY (sha256, device_id)
    ) WITHOUT ROWID;
-- table blobs on blobs
CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        uploaded_by TEXT NOT NULL
    ) WITHOUT ROWID;
-- table case_changes on case_changes
CREATE TABLE case_changes (
        seq INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases(id),
        origin_device TEXT NOT NULL,
        bytes BLOB NOT NULL
    );
-- table case_inspectors on case_inspectors
CREATE TABLE case_inspectors (
        user_id TEXT NOT NULL,
        case_id TEXT NOT NULL REFERENCES cases(id),
        PRIMARY KEY (user_id, case_id)
    ) WITHOUT ROWID;
-- table casefile_exports on casefile_exports
CREATE TABLE casefile_exports (
        id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        -- running, done or failed
        state TEXT NOT NULL,
        bytes_done INTEGER NOT NULL DEFAULT 0,
        bytes_total INTEGER NOT NULL DEFAULT 0,
        current TEXT NOT NULL DEFAULT '',
        -- the worker's heartbeat: a running job not updated for long died with its instance
        updated_at INTEGER NOT NULL,
        signed_version TEXT,
        size INTEGER,
        manifest_sha256 TEXT,
        error_zh TEXT,
        error_en TEXT
    );
-- table cases on cases
CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        inspection TEXT,
        snapshot BLOB NOT NULL,
        heads TEXT NOT NULL
    );
-- table changes on changes
CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        origin_device TEXT NOT NULL,
        bytes BLOB NOT NULL
    );
-- table console_backfill on console_backfill
CREATE TABLE console_backfill (pending INTEGER PRIMARY KEY);
-- table console_hazards on console_hazards
CREATE TABLE "console_hazards" (
        record_id TEXT NOT NULL,
        hazard_id TEXT NOT NULL,
        unit TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        enterprise_name TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        registered_on TEXT NOT NULL,
        deadline TEXT,
        supervised INTEGER NOT NULL,
        closed_on TEXT,
        hazard TEXT NOT NULL,
        PRIMARY KEY (record_id, hazard_id)
    );
-- table console_records on console_records
CREATE TABLE console_records (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        enterprise_id TEXT NOT NULL,
        enterprise_name TEXT NOT NULL,
        plan TEXT,
        inspectors TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        -- started_at, or created_at for a visit that never started: what lists sort by and
        -- periods filter on (the figures' visit day).
        visit_at INTEGER NOT NULL,
        review_decision TEXT,
        review_by TEXT,
        review_at INTEGER,
        review_comment TEXT,
        hazards INTEGER NOT NULL
    , violations INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
-- table console_tally on console_tally
CREATE TABLE console_tally (
        unit TEXT NOT NULL,
        month INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        supervised INTEGER NOT NULL,
        day INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (unit, month, kind, status, level, stage, supervised, day)
    ) WITHOUT ROWID;
-- table console_tally_month on console_tally_month
CREATE TABLE console_tally_month (
        unit TEXT NOT NULL,
        month INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        level TEXT NOT NULL,
        stage TEXT NOT NULL,
        supervised INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (unit, month, kind, status, level, stage, supervised)
    ) WITHOUT ROWID;
-- table devices on devices
CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        public_key BLOB NOT NULL,
        registered_at INTEGER NOT NULL
    , revoked_at INTEGER, last_seen INTEGER);
-- table doc_inspectors on doc_inspectors
CREATE TABLE doc_inspectors (
        doc_id TEXT NOT NULL REFERENCES docs(id),
        user_id TEXT NOT NULL,
        PRIMARY KEY (doc_id, user_id)
    ) WITHOUT ROWID;
-- table doc_recipients on doc_recipients
CREATE TABLE doc_recipients (
        user_id TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        PRIMARY KEY (user_id, doc_id)
    ) WITHOUT ROWID;
-- table docs on docs
CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        plan TEXT,
        status TEXT NOT NULL,
        snapshot BLOB NOT NULL,
        heads TEXT NOT NULL
    );
-- table draws on draws
CREATE TABLE draws (
        id TEXT PRIMARY KEY,
        input_digest TEXT NOT NULL UNIQUE,
        unit TEXT NOT NULL,
        -- The canonical JSON of the draw input (app_core::draw::DrawInput::canonical_json).
        input TEXT NOT NULL,
        -- The DrawResult as JSON.
        result TEXT NOT NULL,
        due TEXT,
        drawn_by TEXT NOT NULL,
        drawn_at INTEGER NOT NULL
    );
-- table number_blocks on number_blocks
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
-- table photo_refs on photo_refs
CREATE TABLE "photo_refs" (
        sha_key INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id)
    );
-- table plan_assignees on plan_assignees
CREATE TABLE plan_assignees (
        plan_id TEXT NOT NULL REFERENCES plans(id),
        user_id TEXT NOT NULL,
        PRIMARY KEY (user_id, plan_id)
    ) WITHOUT ROWID;
-- table plans on plans
CREATE TABLE plans (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        -- The plan as JSON (app_core::plan::Plan).
        plan TEXT NOT NULL,
        draw_id TEXT REFERENCES draws(id),
        created_at INTEGER NOT NULL
    );
-- table record_fetches on record_fetches
CREATE TABLE record_fetches (
        user_id TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(id),
        at INTEGER NOT NULL,
        PRIMARY KEY (user_id, doc_id)
    ) WITHOUT ROWID;
-- table ref_enterprises on ref_enterprises
CREATE TABLE ref_enterprises (
        id TEXT PRIMARY KEY,
        uscc TEXT NOT NULL UNIQUE,
        unit TEXT NOT NULL,
        body TEXT NOT NULL
    );
-- table ref_templates on ref_templates
CREATE TABLE ref_templates (
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        unit TEXT NOT NULL,
        body TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL,
        PRIMARY KEY (id, version)
    );
-- table ref_units on ref_units
CREATE TABLE ref_units (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1
    );
-- table ref_users on ref_users
CREATE TABLE ref_users (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        body TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1
    );
-- table ref_version on ref_version
CREATE TABLE ref_version (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        version INTEGER NOT NULL
    );
-- table server_key on server_key
CREATE TABLE server_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
-- table server_keys on server_keys
CREATE TABLE server_keys (
        n INTEGER PRIMARY KEY,
        public_key TEXT NOT NULL UNIQUE,
        valid_from INTEGER NOT NULL,
        valid_until INTEGER,
        endorsed_by_previous TEXT,
        endorses_previous TEXT
    );
-- table server_meta on server_meta
CREATE TABLE server_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
-- table signin_throttle on signin_throttle
CREATE TABLE signin_throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        locked_until INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
-- table signin_unlocks on signin_unlocks
CREATE TABLE signin_unlocks (
        user_id TEXT NOT NULL,
        lifted_by TEXT NOT NULL,
        lifted_at INTEGER NOT NULL
    );
-- table sqlite_sequence on sqlite_sequence
CREATE TABLE sqlite_sequence(name,seq);
-- table tokens on tokens
CREATE TABLE tokens (
        token_hash BLOB PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT,
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
-- table unit_penalty_rules on unit_penalty_rules
CREATE TABLE unit_penalty_rules (
        unit TEXT PRIMARY KEY,
        settings TEXT,
        calendar TEXT,
        discretion TEXT,
        blacklist TEXT,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    ) WITHOUT ROWID;
-- trigger audit_log_no_delete on audit_log
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- trigger audit_log_no_update on audit_log
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
