//! The command line's side of the audit log (`store::audit`): every `admin` command is
//! written into it (actor: the operating-system user, from: `cli`), and `admin verify-audit`
//! checks the hash chain.

use super::AdminCommand;
use super::Target;
use crate::config::DatabaseLocation;
use crate::store::AuditStore;
use crate::store::audit::{self, NewEntry};
use anyhow::{Result, anyhow, bail};

/// The action code and target of a command.
pub fn describe(command: &AdminCommand) -> (String, String) {
    use super::devices::DevicesCommand as D;
    use super::enterprises::EnterprisesCommand as E;
    use super::reference::{UnitsCommand as Un, UsersCommand as Us};
    let plain = |action: &str, target: &str| (action.to_owned(), target.to_owned());
    match command {
        AdminCommand::Units(Un::Create { id, .. }) => plain("admin_unit_create", id),
        AdminCommand::Units(Un::Disable { id }) => plain("admin_unit_disable", id),
        AdminCommand::Units(Un::List) => plain("admin_unit_list", ""),
        AdminCommand::Users(Us::Create { id, .. }) => plain("admin_user_create", id),
        AdminCommand::Users(Us::Disable { id }) => plain("admin_user_disable", id),
        AdminCommand::Users(Us::Enable { id }) => plain("admin_user_enable", id),
        AdminCommand::Users(Us::ResetPassword { id, .. }) => plain("admin_password_reset", id),
        AdminCommand::Users(Us::List) => plain("admin_user_list", ""),
        AdminCommand::Enterprises(E::Import { file, dry_run }) => (
            if *dry_run {
                "admin_enterprise_import_check"
            } else {
                "admin_enterprise_import"
            }
            .into(),
            file.display().to_string(),
        ),
        AdminCommand::Enterprises(E::List) => plain("admin_enterprise_list", ""),
        AdminCommand::Devices(D::List) => plain("admin_device_list", ""),
        AdminCommand::Devices(D::Revoke { device }) => plain("admin_device_revoke", device),
        AdminCommand::Backup { dest } => ("admin_backup".into(), dest.display().to_string()),
        AdminCommand::VerifyBackup { dir } => {
            ("admin_verify_backup".into(), dir.display().to_string())
        }
        AdminCommand::Restore { dir, number_gap } => (
            "admin_restore".into(),
            format!("{} (number gap {number_gap})", dir.display()),
        ),
        AdminCommand::RotateKey => ("admin_rotate_key".into(), String::new()),
        AdminCommand::KeyHistory => ("admin_key_history".into(), String::new()),
        AdminCommand::VerifyAudit => ("admin_verify_audit".into(), String::new()),
        AdminCommand::Migrate { to, blobs_to, .. } => (
            "admin_migrate".into(),
            format!(
                "{}{}",
                crate::store::pg::redact(to),
                blobs_to
                    .as_deref()
                    .map(|b| format!(", blobs to {b}"))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// Who runs the command line (the login name, or `admin`).
fn operator() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|u| format!("os:{u}"))
        .unwrap_or_else(|| "os:admin".into())
}

/// Writes the command into the audit log (nothing if the data folder has no database yet; a
/// failure to write is printed, the command's own outcome stands).
pub fn log_command(server: &Target, action: &str, target: &str, result: &Result<()>) {
    if let DatabaseLocation::Sqlite(path) = &server.database
        && !path.exists()
    {
        return;
    }
    let outcome = match result {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("failed: {}", e.to_string().lines().next().unwrap_or("")),
    };
    let entry = NewEntry {
        at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        actor: operator(),
        unit: String::new(),
        action: action.to_owned(),
        target: if target.is_empty() {
            outcome
        } else {
            format!("{target}: {outcome}")
        },
        client: "cli".into(),
    };
    let written = (|| -> Result<()> {
        let mut conn = super::open_database(server)?;
        audit::append_locked(&mut conn, &entry).map_err(|e| anyhow!("{e}"))?;
        Ok(())
    })();
    if let Err(e) = written {
        eprintln!("warning: the audit log could not be written: {e}");
    }
}

/// `admin verify-audit`: the number of entries and the head hash, or the first break.
pub fn verify(server: &Target) -> Result<(usize, String)> {
    if let DatabaseLocation::Sqlite(path) = &server.database
        && !path.exists()
    {
        bail!("no database at {}", path.display());
    }
    let conn = super::open_database(server)?;
    let entries = conn.all_audit().map_err(|e| anyhow!("{e}"))?;
    audit::verify_chain(&entries).map_err(|e| anyhow!("the audit log's hash chain is broken: {e}"))
}
