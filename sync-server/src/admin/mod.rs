//! `sync-server admin …`: what a bureau's IT person runs on the server machine. Each command
//! opens the data folder itself (the server may be running: SQLite in WAL mode lets both
//! work), prints what it did in English for the log and exits non-zero with a message that
//! names the problem.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;

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
}

pub mod devices;
pub mod enterprises;
pub mod reference;

/// Runs one administrative command.
pub fn run(args: AdminArgs) -> Result<()> {
    let data = crate::config::admin_data(
        args.config.as_deref(),
        args.data,
        &crate::config::ProcessEnv,
    )?;
    match args.command {
        AdminCommand::Units(c) => reference::units(&data, c),
        AdminCommand::Users(c) => reference::users(&data, c),
        AdminCommand::Enterprises(c) => enterprises::run(&data, c),
        AdminCommand::Devices(c) => devices::run(&data, c),
    }
}

/// Opens the server's database in `data` for an administrative command: the same migrations
/// as the server, and a wait of up to 30 s for the running server's write lock (SQLite in WAL
/// mode: the server keeps serving while the command runs).
pub fn open_database(data: &std::path::Path) -> Result<rusqlite::Connection> {
    use crate::store::engine::Engine;
    let path = data.join("server.db");
    anyhow::ensure!(
        path.exists(),
        "no database at {} (start the server once with this data folder, or pass --data)",
        path.display()
    );
    let conn = rusqlite::Connection::open_writer(&path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}
