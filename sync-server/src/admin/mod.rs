//! `sync-server admin …`: what a bureau's IT person runs on the server machine. Each command
//! opens the data folder itself (the server may be running: SQLite in WAL mode lets both
//! work), prints what it did in English for the log and exits non-zero with a message that
//! names the problem.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;

pub mod audit;
pub mod backup;
pub mod keys;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Data folder of the server (database, photo blobs, keys).
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Configuration file whose data folder to use (default: $SYNC_SERVER_CONFIG, else
    /// /etc/inspection-sync/sync-server.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Units (执法单位): create, disable, list.
    #[command(subcommand)]
    Units(reference::UnitsCommand),
    /// Users: create, disable, enable, reset a password, list.
    #[command(subcommand)]
    Users(reference::UsersCommand),
    /// Enterprises: import the bureau's spreadsheet (XLSX or CSV), list.
    #[command(subcommand)]
    Enterprises(enterprises::EnterprisesCommand),
    /// Registered tablets: list, revoke a lost one.
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// Copies the database and the photo blobs into DEST (a new folder) while the server
    /// runs: a consistent copy of one moment.
    Backup {
        /// A new (or empty) folder for the backup.
        dest: PathBuf,
    },
    /// Checks a backup: database integrity and checksum, every photo blob with its SHA-256,
    /// the case-file signing keys. Exits non-zero naming every problem.
    VerifyBackup {
        /// The backup's folder.
        dir: PathBuf,
    },
    /// Puts a backup in place of the data folder's database (the server must be stopped) and
    /// gives the restored server a new epoch, so tablets push again what it lacks.
    Restore {
        /// The backup's folder.
        dir: PathBuf,
        /// Numbers skipped in every document-number series after the restore: more than one
        /// series hands out between the backup and the restore.
        #[arg(long, default_value_t = crate::service::numbers::RESTORE_GAP)]
        number_gap: u32,
    },
    /// Makes a new case-file signing key (the old and the new key both sign the change);
    /// case files signed earlier still verify with the key history.
    RotateKey,
    /// Prints the history of the case-file signing keys (server-keys.json) for
    /// `casefile verify --key-history`.
    KeyHistory,
    /// Checks the audit log's hash chain; exits non-zero naming the first changed or
    /// removed entry.
    VerifyAudit,
    /// Moves this data folder's server (SQLite and its blob folder) to PostgreSQL and, with
    /// --blobs-to, the photo and media originals to another store (s3://bucket[/prefix],
    /// settings from SYNC_SERVER_BLOBS_*), then verifies counts and hashes. The server must
    /// be stopped; the target database must be new.
    Migrate {
        /// The source: `sqlite:DATA_FOLDER` (default: this data folder).
        #[arg(long)]
        from: Option<String>,
        /// The target database: postgres://user[:password]@host[:port]/database.
        #[arg(long)]
        to: String,
        /// Where the blobs go: s3://bucket[/prefix] or a folder (default: they stay).
        #[arg(long, value_name = "STORE")]
        blobs_to: Option<String>,
    },
}

pub mod devices;
pub mod enterprises;
pub mod migrate;
pub mod reference;

/// Runs one administrative command, and writes it (and whether it succeeded) into the audit
/// log of the data folder's database.
pub fn run(args: AdminArgs) -> Result<()> {
    let server = crate::config::admin_target(
        args.config.as_deref(),
        args.data.clone(),
        &crate::config::ProcessEnv,
    )?;
    let (action, target) = audit::describe(&args.command);
    let result = dispatch(args.command, &server);
    audit::log_command(&server, &action, &target, &result);
    result
}

/// The server an administrative command works on: its data folder and its database (SQLite
/// in the folder, or the PostgreSQL database its configuration names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub data: PathBuf,
    pub database: crate::config::DatabaseLocation,
}

impl Target {
    /// A data folder with its SQLite database (`server.db`).
    pub fn sqlite(data: impl Into<PathBuf>) -> Self {
        let data = data.into();
        Self {
            database: crate::config::DatabaseLocation::Sqlite(data.join(backup::DATABASE)),
            data,
        }
    }

    /// The data folder, for the commands that work on a SQLite data folder only (backup,
    /// restore, migrate): on PostgreSQL they refuse, naming what to use instead.
    fn sqlite_folder(&self, command: &str) -> Result<&std::path::Path> {
        match &self.database {
            crate::config::DatabaseLocation::Sqlite(_) => Ok(&self.data),
            crate::config::DatabaseLocation::Postgres(url) => anyhow::bail!(
                "`admin {command}` works on a SQLite data folder; this server's database is {} \
                 (PostgreSQL: back it up with pg_dump or the database's own replication, and the \
                 blobs with the object store's versioning or replication; pass --data to work on \
                 a data folder anyway)",
                crate::store::pg::redact(url)
            ),
        }
    }
}

fn dispatch(command: AdminCommand, server: &Target) -> Result<()> {
    match command {
        AdminCommand::Units(c) => reference::units(server, c),
        AdminCommand::Users(c) => reference::users(server, c),
        AdminCommand::Enterprises(c) => enterprises::run(server, c),
        AdminCommand::Devices(c) => devices::run(server, c),
        AdminCommand::Backup { dest } => {
            let data = server.sqlite_folder("backup")?;
            let m = backup::backup(data, &dest)?;
            println!(
                "backup of {} written to {}: database sha256 {}, {} blobs, {} case files, epoch {}",
                data.display(),
                dest.display(),
                m.database_sha256,
                m.blobs,
                m.exports,
                m.epoch
            );
            Ok(())
        }
        AdminCommand::VerifyBackup { dir } => {
            let problems = backup::verify(&dir)?;
            if problems.is_empty() {
                println!("{}: the backup is whole", dir.display());
                Ok(())
            } else {
                anyhow::bail!(
                    "{} has {} problem(s):\n  {}",
                    dir.display(),
                    problems.len(),
                    problems.join("\n  ")
                )
            }
        }
        AdminCommand::Restore { dir, number_gap } => {
            let data = server.sqlite_folder("restore")?;
            let r = backup::restore(&dir, data, number_gap)?;
            println!(
                "restored {} into {}: new epoch {} (the backup's was {}); {} blobs added; {}",
                dir.display(),
                data.display(),
                r.epoch,
                r.previous_epoch,
                r.blobs_added,
                match &r.replaced {
                    Some(p) => format!("the database it replaced is kept in {}", p.display()),
                    None => "there was no database before".to_owned(),
                }
            );
            match &r.keys {
                backup::KeysCarried::Nothing => {}
                backup::KeysCarried::Newer(n) => println!(
                    "the replaced database had rotated its signing key after the backup: {n} newer key(s) carried over; the server signs with the newest"
                ),
                backup::KeysCarried::NotCarried(why) => eprintln!(
                    "warning: {why}; the server signs with the backup's key. Case files and decisions signed with a later key verify only against that key's history (`admin key-history` of the replaced database)"
                ),
            }
            Ok(())
        }
        AdminCommand::RotateKey => {
            let (old, new) = keys::rotate(server)?;
            println!(
                "case-file signing key rotated: new key {new} (fingerprint {}); the old key {old} signed it and is kept in the key history. Take a backup now: a restore from an older one carries the new key over only from the database it replaces",
                fingerprint(&new)
            );
            Ok(())
        }
        AdminCommand::KeyHistory => {
            print!("{}", keys::history(server)?);
            Ok(())
        }
        AdminCommand::Migrate { from, to, blobs_to } => {
            let source = match from.as_deref() {
                None => server.sqlite_folder("migrate")?.to_path_buf(),
                Some(f) => PathBuf::from(f.strip_prefix("sqlite:").unwrap_or(f)),
            };
            let blobs_to = match blobs_to {
                None => None,
                Some(store) => {
                    let mut target = crate::config::Config::default();
                    target.data = source.clone();
                    target.apply_env(&crate::config::ProcessEnv)?;
                    target.blobs.store = store;
                    Some(target.blob_location()?)
                }
            };
            let m = migrate::migrate(&source, &to, blobs_to.as_ref())?;
            for t in &m.tables {
                println!("{:<18} {:>9} rows  sha256 {}", t.table, t.rows, t.digest);
            }
            if !m.skipped_columns.is_empty() {
                println!("not copied (SQLite-only): {}", m.skipped_columns.join(", "));
            }
            match &m.blobs_to {
                Some(to) => println!(
                    "{} blobs ({} bytes) copied to {to}, each re-hashed",
                    m.blobs, m.blob_bytes
                ),
                None => println!("blobs not moved (no --blobs-to)"),
            }
            println!(
                "migrated {} into {}: {} tables verified (counts and SHA-256 of every value)",
                source.display(),
                crate::store::pg::redact(&to),
                m.tables.len()
            );
            Ok(())
        }
        AdminCommand::VerifyAudit => {
            let (n, head) = audit::verify(server)?;
            println!("the audit log's hash chain holds: {n} entries, head {head}");
            Ok(())
        }
    }
}

fn fingerprint(hex: &str) -> String {
    casefile::manifest::parse_public_key(hex)
        .map(|k| casefile::manifest::fingerprint(&k))
        .unwrap_or_default()
}

/// Opens the server's database for an administrative command: the same migrations as the
/// server. SQLite: a wait of up to 30 s for the running server's write lock (WAL mode: the
/// server keeps serving while the command runs). PostgreSQL: a connection of its own beside
/// the nodes'.
pub fn open_database(server: &Target) -> Result<crate::store::any::AnyConn> {
    use crate::store::any::{AnyConn, PgConn};
    use crate::store::engine::Engine;
    match &server.database {
        crate::config::DatabaseLocation::Sqlite(path) => {
            anyhow::ensure!(
                path.exists(),
                "no database at {} (start the server once with this data folder, or pass --data)",
                path.display()
            );
            let conn = rusqlite::Connection::open_writer(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            Ok(AnyConn::Sqlite(conn))
        }
        crate::config::DatabaseLocation::Postgres(url) => {
            let client = crate::store::pg::PgClient::connect(url).map_err(|e| {
                anyhow::anyhow!("connecting to {}: {e}", crate::store::pg::redact(url))
            })?;
            Ok(AnyConn::Pg(PgConn::new(client)))
        }
    }
}
