//! `sync-server admin devices list | revoke DEVICE`: registered tablets, and retiring a lost
//! one.
//!
//! A revoked device keeps only what it needs to hand over what it holds: its token still
//! pushes records (judged and stored as usual: evidence is never thrown away) and uploads
//! photo originals; everything else is refused with `device_revoked` (see
//! `crate::auth::upload_allowed_when_revoked`), no new session can be bound to it, and each
//! sync answer tells it `revoked` without pulling anything. The tablet wipes its local copy
//! (store, photos, keys) once it holds nothing the server lacks.

use super::open_database;
use crate::store::{DeviceStore, Transactions};
use anyhow::{Result, bail};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Lists registered tablets: user, device, registered, last seen, status.
    List,
    /// Revokes a tablet (lost or stolen): it may still upload what it holds, nothing else;
    /// then it wipes itself.
    Revoke {
        /// The device id, as `devices list` shows it.
        device: String,
    },
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Seconds since the epoch as `2026-12-06 17:05` in Asia/Shanghai (app-core's one format).
pub fn shanghai(secs: i64) -> String {
    app_core::geo::Timestamp(secs.saturating_mul(1000)).display_shanghai()
}

/// Runs `admin devices …`.
pub fn run(server: &super::Target, command: DevicesCommand) -> Result<()> {
    let mut conn = open_database(server)?;
    match command {
        DevicesCommand::List => {
            println!("user\tdevice\tregistered\tlast seen\tstatus (times Asia/Shanghai)");
            for d in conn.list_devices()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    d.user,
                    d.id,
                    shanghai(d.registered_at),
                    d.last_seen.map_or_else(|| "-".to_owned(), shanghai),
                    match d.revoked_at {
                        Some(at) => format!("revoked {}", shanghai(at)),
                        None => "active".to_owned(),
                    }
                );
            }
        }
        DevicesCommand::Revoke { device } => {
            let tx = conn.begin_immediate()?;
            if let Some(at) = tx.revoked_at(&device)? {
                println!("device {device} was already revoked at {}", shanghai(at));
                return Ok(());
            }
            if !tx.revoke_device(&device, now())? {
                bail!("no registered device {device} (see `admin devices list`)");
            }
            tx.commit()?;
            println!(
                "device {device} revoked: it may only upload what it still holds, then it wipes itself"
            );
        }
    }
    Ok(())
}
