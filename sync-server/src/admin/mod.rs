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
pub enum AdminCommand {}

/// Runs one administrative command.
pub fn run(args: AdminArgs) -> Result<()> {
    let _data = crate::config::admin_data(
        args.config.as_deref(),
        args.data,
        &crate::config::ProcessEnv,
    )?;
    match args.command {}
}
