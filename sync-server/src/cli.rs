//! The command line of the one server binary: `sync-server [serve] [OPTIONS]` runs the server
//! (the default, so the flags of earlier versions keep working), `sync-server admin …` runs an
//! administrative command against the same data folder (see `admin/`).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sync-server",
    version,
    about = "Sync server and supervisors' console of the work-safety inspection system",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve tablets and the console (the default).
    Serve(ServeArgs),
    /// Administrative commands (units, users, enterprises, devices, keys, backups, audit).
    Admin(crate::admin::AdminArgs),
}

/// Options of `serve`. Each one overrides the configuration file and its environment
/// variable (see `config.rs`).
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML; default: none, or $SYNC_SERVER_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Reference-data folder (demo units, users, enterprises; checklists).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Data folder (database, photo blobs, keys).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port).
    #[arg(long)]
    pub listen: Option<String>,
    /// Load the demo data (fixtures/demo) and create its accounts (demo.enabled).
    #[arg(long)]
    pub demo: bool,
    /// Password of every demo account created from the fixtures' users; implies --demo.
    #[arg(long)]
    pub demo_password: Option<String>,
    /// Writes the bound address to this file once listening (tests bind port 0).
    #[arg(long)]
    pub port_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM: the server's certificate first, then any
    /// intermediates). Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A reverse proxy (address or CIDR network, repeatable) whose X-Forwarded-For is taken as
    /// the client's address (sign-in throttling, audit) and whose X-Forwarded-Proto: https
    /// counts as HTTPS (Secure cookies, HSTS). From anyone else these headers are ignored.
    #[arg(long = "trusted-proxy", value_name = "ADDR/CIDR", value_parser = crate::net::parse_proxy)]
    pub trusted_proxy: Vec<ipnet::IpNet>,
}

impl Cli {
    /// Parses `std::env::args`; `--help` and errors print and exit as clap does.
    pub fn from_env() -> Self {
        Self::parse()
    }
}
