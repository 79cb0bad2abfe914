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
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
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
}

/// Runs one administrative command, and writes it (and whether it succeeded) into the audit
/// log of the data folder's database.
pub fn run(args: AdminArgs) -> Result<()> {
    let data = args.data.clone().unwrap_or_else(|| PathBuf::from("data"));
    let (action, target) = audit::describe(&args.command);
    let result = dispatch(args.command, &data);
    audit::log_command(&data, &action, &target, &result);
    result
}

fn dispatch(command: AdminCommand, data: &std::path::Path) -> Result<()> {
    let data = data.to_path_buf();
    match command {
        AdminCommand::Backup { dest } => {
            let m = backup::backup(&data, &dest)?;
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
            let r = backup::restore(&dir, &data, number_gap)?;
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
            Ok(())
        }
        AdminCommand::RotateKey => {
            let (old, new) = keys::rotate(&data)?;
            println!(
                "case-file signing key rotated: new key {new} (fingerprint {}); the old key {old} signed it and is kept in the key history",
                fingerprint(&new)
            );
            Ok(())
        }
        AdminCommand::KeyHistory => {
            print!("{}", keys::history(&data)?);
            Ok(())
        }
        AdminCommand::VerifyAudit => {
            let (n, head) = audit::verify(&data)?;
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
