//! The server's settings: one TOML file, every key overridable by an environment variable and
//! the older ones by a command-line flag. Precedence: flag > environment > file > default.
//!
//! - The file is `--config FILE`, else `$SYNC_SERVER_CONFIG`; without either, no file is read
//!   (the defaults suit a developer's checkout). `admin` commands also look at
//!   [`PACKAGED_CONFIG`] when neither is given, so that on an installed server they find the
//!   data folder the service uses.
//! - Each key's environment variable is `SYNC_SERVER_` and its path in capitals joined by `_`:
//!   `limits.max_body_bytes` is `SYNC_SERVER_LIMITS_MAX_BODY_BYTES` (see [`KEYS`]). Lists
//!   (`proxy.trusted`) are comma-separated there; booleans are `true/false`, `on/off`,
//!   `yes/no` or `1/0`.
//! - A key the file does not know is an error that names it (serde's `deny_unknown_fields`),
//!   as is a value of the wrong type.
//! - [`Config::validate`] checks every value before the server starts and names the setting
//!   that is wrong, its environment variable and where the value came from, e.g. `setting
//!   tls.cert (SYNC_SERVER_TLS_CERT, from the environment): /x.pem: No such file or
//!   directory (os error 2)`.
//! - Relative paths in the file are relative to the file's folder; in the environment and on
//!   the command line, to the working directory.
//!
//! The packaged, commented example is `sync-server/packaging/sync-server.toml`; a test checks
//! that it names every key with its default and environment variable.

use crate::cli::ServeArgs;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the Debian and RPM packages install the configuration.
pub const PACKAGED_CONFIG: &str = "/etc/inspection-sync/sync-server.toml";

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "SYNC_SERVER_CONFIG";

/// The password of the demo accounts unless `demo.password` says otherwise.
pub const DEMO_PASSWORD: &str = "demo-2026";

/// Every setting, as its path in the TOML file. The environment variable is derived from it
/// ([`env_name`]).
pub const KEYS: &[&str] = &[
    "listen",
    "data",
    "database",
    "fixtures",
    "demo.enabled",
    "demo.password",
    "tls.cert",
    "tls.key",
    "proxy.trusted",
    "limits.max_connections",
    "limits.header_timeout_secs",
    "limits.idle_timeout_secs",
    "limits.drain_timeout_secs",
    "limits.max_body_bytes",
    "signin.threads",
    "signin.queue",
    "signin.throttle",
    "signin.account_failures",
    "signin.address_failures",
    "signin.window_secs",
    "signin.lock_secs",
    "signin.token_ttl_days",
    "blobs.store",
    "blobs.endpoint",
    "blobs.region",
    "blobs.access_key_id",
    "blobs.secret_access_key",
];

/// `SYNC_SERVER_` and the key's path in capitals joined by `_`.
pub fn env_name(key: &str) -> String {
    format!("SYNC_SERVER_{}", key.replace('.', "_").to_uppercase())
}

/// The server's settings after the file, the environment and the flags.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `host:port` to listen on (port 0: any free port).
    pub listen: String,
    /// The data folder: database, photo blobs, keys.
    pub data: PathBuf,
    /// The database: empty for SQLite in the data folder (`server.db`, one server), or a
    /// PostgreSQL address `postgres://user[:password]@host[:port]/database` (several nodes).
    pub database: String,
    /// The reference-data folder: `checklists/*.toml` (and `demo/*.json` when demo is on).
    pub fixtures: PathBuf,
    pub demo: Demo,
    pub tls: Tls,
    pub proxy: Proxy,
    pub limits: Limits,
    pub signin: Signin,
    pub blobs: BlobSettings,
    /// Where each key's value came from (keys absent here have their default).
    #[serde(skip)]
    sources: BTreeMap<&'static str, Source>,
}

/// Demonstration data: off unless asked for. On, the server loads `fixtures/demo/*.json`
/// (units, users, enterprises, plans) and creates an account for every demo user, all with
/// one known password: never on a bureau's server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Demo {
    pub enabled: bool,
    pub password: String,
}

/// The certificate chain and private key the server serves HTTPS with (PEM files; both or
/// neither: without them the server speaks plain HTTP, e.g. behind a reverse proxy).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Where the photo originals are kept (`crate::blobstore`): `store` empty (the default) is the
/// folder `<data>/blobs`; a path is another folder; `s3://bucket[/prefix]` is S3-compatible
/// object storage at `endpoint` (empty: AWS), with `region` and the credentials (empty: the
/// standard `AWS_*` environment variables).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlobSettings {
    pub store: String,
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Never prints the secret.
impl fmt::Debug for BlobSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobSettings")
            .field("store", &self.store)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &if self.secret_access_key.is_empty() {
                    ""
                } else {
                    "(set)"
                },
            )
            .finish()
    }
}

/// Reverse proxies whose `X-Forwarded-For` is believed for the client address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Proxy {
    /// IP addresses or networks (CIDR), e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`.
    pub trusted: Vec<String>,
}

/// Connection and request limits (see `net.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Connections open at once (lowered to what the open-file limit allows).
    pub max_connections: usize,
    /// Seconds for a request's line and headers to arrive (and between keep-alive requests).
    pub header_timeout_secs: u64,
    /// A connection with no byte moving for this many seconds is closed.
    pub idle_timeout_secs: u64,
    /// On shutdown, seconds open connections may take to finish.
    pub drain_timeout_secs: u64,
    /// The largest request body accepted (a sync batch); larger ones get 413.
    pub max_body_bytes: usize,
}

/// Sign-in: Argon2 verifying threads, the throttle, token lifetime (see `signin.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Signin {
    /// Threads verifying passwords; 0: one per core, at most 8.
    pub threads: usize,
    /// Verifications waiting beyond those being verified (more are refused with 503).
    pub queue: usize,
    /// Count failed sign-ins and lock (off only for load tests).
    pub throttle: bool,
    /// Failures per account name in one window before the account is locked.
    pub account_failures: i64,
    /// Failures per client address in one window before the address is locked.
    pub address_failures: i64,
    pub window_secs: i64,
    pub lock_secs: i64,
    /// How long a tablet's token stays valid.
    pub token_ttl_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data: "data".into(),
            database: String::new(),
            fixtures: "fixtures".into(),
            demo: Demo::default(),
            tls: Tls::default(),
            proxy: Proxy::default(),
            limits: Limits::default(),
            signin: Signin::default(),
            blobs: BlobSettings::default(),
            sources: BTreeMap::new(),
        }
    }
}

impl Default for Demo {
    fn default() -> Self {
        Self {
            enabled: false,
            password: DEMO_PASSWORD.into(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: crate::net::MAX_CONNECTIONS,
            header_timeout_secs: 15,
            idle_timeout_secs: 60,
            drain_timeout_secs: 8,
            max_body_bytes: crate::MAX_BODY_BYTES,
        }
    }
}

impl Default for Signin {
    fn default() -> Self {
        let limits = crate::signin::Limits::default();
        Self {
            threads: 0,
            queue: 32,
            throttle: true,
            account_failures: limits.account_failures,
            address_failures: limits.address_failures,
            window_secs: limits.window_secs,
            lock_secs: limits.lock_secs,
            token_ttl_days: 30,
        }
    }
}

/// Where the server's database is (`database`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// SQLite, this file (one server).
    Sqlite(PathBuf),
    /// PostgreSQL at this address (one or several server nodes).
    Postgres(String),
}

impl DatabaseLocation {
    /// For logs: the file, or the address without its password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(p) => format!("sqlite {}", p.display()),
            DatabaseLocation::Postgres(url) => match url.rsplit_once('@') {
                Some((creds, host)) => match creds.split_once("://") {
                    Some((scheme, who)) => {
                        let user = who.split(':').next().unwrap_or_default();
                        format!("{scheme}://{user}@{host}")
                    }
                    None => format!("postgres {host}"),
                },
                None => url.clone(),
            },
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Env,
    Flag(&'static str),
}

/// A setting that is wrong: which, where it came from, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key's path (`tls.cert`), or the file for an error in the file as a whole.
    pub key: String,
    pub source: Option<Source>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            return f.write_str(&self.message);
        }
        write!(f, "setting {} ({}", self.key, env_name(&self.key))?;
        match &self.source {
            Some(Source::File(path)) => write!(f, ", from {}", path.display())?,
            Some(Source::Env) => f.write_str(", from the environment")?,
            Some(Source::Flag(flag)) => write!(f, ", from {flag}")?,
            None => {}
        }
        write!(f, "): {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Where to read settings from: the process's environment, or a given one (tests).
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable's name (to warn about unknown `SYNC_SERVER_*` ones).
    fn names(&self) -> Vec<String>;
}

/// The process's environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn names(&self) -> Vec<String> {
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl Config {
    /// The settings for `serve`: the file (`--config`, else `$SYNC_SERVER_CONFIG`), then the
    /// environment, then the flags in `args`. Not yet validated (see [`Config::validate`]).
    pub fn load(args: &ServeArgs, env: &impl Environment) -> Result<Self, ConfigError> {
        let file = args.config.clone().or_else(|| {
            env.var(CONFIG_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let mut config = match &file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        config.apply_flags(args);
        Ok(config)
    }

    /// The file alone over the defaults (relative paths resolved against its folder).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let whole = |message: String| ConfigError {
            key: String::new(),
            source: None,
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            whole(format!(
                "configuration file {} ({CONFIG_ENV}): {e}",
                path.display()
            ))
        })?;
        if let Ok(table) = toml::from_str::<toml::Table>(&text)
            && let Some(key) = unknown_key(&table, "")
        {
            return Err(whole(format!(
                "{}: unknown key {key} (the keys: {})",
                path.display(),
                KEYS.join(", ")
            )));
        }
        Self::from_toml(&text, path).map_err(|e| whole(format!("{}: {e}", path.display())))
    }

    /// Parses the text of the file at `path`.
    fn from_toml(text: &str, path: &Path) -> Result<Self, toml::de::Error> {
        let mut config: Config = toml::from_str(text)?;
        let table: toml::Table = toml::from_str(text)?;
        for key in KEYS {
            let mut value = Some(&table);
            let mut parts = key.split('.').peekable();
            let mut present = false;
            while let Some(part) = parts.next() {
                let Some(item) = value.and_then(|t| t.get(part)) else {
                    break;
                };
                if parts.peek().is_none() {
                    present = true;
                } else {
                    value = item.as_table();
                }
            }
            if present {
                config.sources.insert(key, Source::File(path.to_owned()));
            }
        }
        let folder = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = folder.join(&*p);
            }
        };
        if config.sources.contains_key("data") {
            resolve(&mut config.data);
        }
        if config.sources.contains_key("fixtures") {
            resolve(&mut config.fixtures);
        }
        // A blob folder given in the file is relative to the file too (not an s3:// address).
        if !config.blobs.store.is_empty() && !config.blobs.store.contains("://") {
            let mut p = PathBuf::from(&config.blobs.store);
            resolve(&mut p);
            config.blobs.store = p.to_string_lossy().into_owned();
        }
        for file in [&mut config.tls.cert, &mut config.tls.key]
            .into_iter()
            .flatten()
        {
            resolve(file);
        }
        Ok(config)
    }

    /// Applies every `SYNC_SERVER_<KEY>` that is set.
    pub fn apply_env(&mut self, env: &impl Environment) -> Result<(), ConfigError> {
        for key in KEYS {
            if let Some(value) = env.var(&env_name(key)) {
                self.set(key, &value).map_err(|message| ConfigError {
                    key: (*key).into(),
                    source: Some(Source::Env),
                    message,
                })?;
                self.sources.insert(key, Source::Env);
            }
        }
        Ok(())
    }

    /// `SYNC_SERVER_*` variables that name no setting (a typo would otherwise go unnoticed).
    pub fn unknown_env(env: &impl Environment) -> Vec<String> {
        let known: Vec<String> = KEYS.iter().map(|k| env_name(k)).collect();
        let mut unknown: Vec<String> = env
            .names()
            .into_iter()
            .filter(|n| n.starts_with("SYNC_SERVER_") && n != CONFIG_ENV && !known.contains(n))
            .collect();
        unknown.sort();
        unknown
    }

    /// The flags of `serve` (each overrides the file and the environment).
    fn apply_flags(&mut self, args: &ServeArgs) {
        if let Some(v) = &args.listen {
            self.listen = v.clone();
            self.sources.insert("listen", Source::Flag("--listen"));
        }
        if let Some(v) = &args.data {
            self.data = v.clone();
            self.sources.insert("data", Source::Flag("--data"));
        }
        if let Some(v) = &args.fixtures {
            self.fixtures = v.clone();
            self.sources.insert("fixtures", Source::Flag("--fixtures"));
        }
        if args.demo {
            self.demo.enabled = true;
            self.sources.insert("demo.enabled", Source::Flag("--demo"));
        }
        // Naming the demo password asks for the demo accounts.
        if let Some(v) = &args.demo_password {
            self.demo.password = v.clone();
            self.demo.enabled = true;
            self.sources
                .insert("demo.password", Source::Flag("--demo-password"));
            self.sources
                .insert("demo.enabled", Source::Flag("--demo-password"));
        }
        if let Some(v) = &args.tls_cert {
            self.tls.cert = Some(v.clone());
            self.sources.insert("tls.cert", Source::Flag("--tls-cert"));
        }
        if let Some(v) = &args.tls_key {
            self.tls.key = Some(v.clone());
            self.sources.insert("tls.key", Source::Flag("--tls-key"));
        }
        if !args.trusted_proxy.is_empty() {
            self.proxy.trusted = args.trusted_proxy.iter().map(|n| n.to_string()).collect();
            self.sources
                .insert("proxy.trusted", Source::Flag("--trusted-proxy"));
        }
    }

    /// Sets `key` from its text form (the environment's).
    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        let path = |v: &str| -> Result<PathBuf, String> {
            if v.is_empty() {
                Err("empty: give a path".into())
            } else {
                Ok(PathBuf::from(v))
            }
        };
        match key {
            "listen" => self.listen = v.trim().to_owned(),
            "data" => self.data = path(v)?,
            "database" => self.database = v.trim().to_owned(),
            "fixtures" => self.fixtures = path(v)?,
            "demo.enabled" => self.demo.enabled = boolean(v)?,
            "demo.password" => self.demo.password = v.to_owned(),
            // Empty: none (so a file's value can be unset from the environment).
            "tls.cert" => self.tls.cert = (!v.is_empty()).then(|| PathBuf::from(v)),
            "tls.key" => self.tls.key = (!v.is_empty()).then(|| PathBuf::from(v)),
            "proxy.trusted" => {
                self.proxy.trusted = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            "limits.max_connections" => self.limits.max_connections = number(v)?,
            "limits.header_timeout_secs" => self.limits.header_timeout_secs = number(v)?,
            "limits.idle_timeout_secs" => self.limits.idle_timeout_secs = number(v)?,
            "limits.drain_timeout_secs" => self.limits.drain_timeout_secs = number(v)?,
            "limits.max_body_bytes" => self.limits.max_body_bytes = number(v)?,
            "signin.threads" => self.signin.threads = number(v)?,
            "signin.queue" => self.signin.queue = number(v)?,
            "signin.throttle" => self.signin.throttle = boolean(v)?,
            "signin.account_failures" => self.signin.account_failures = number(v)?,
            "signin.address_failures" => self.signin.address_failures = number(v)?,
            "signin.window_secs" => self.signin.window_secs = number(v)?,
            "signin.lock_secs" => self.signin.lock_secs = number(v)?,
            "signin.token_ttl_days" => self.signin.token_ttl_days = number(v)?,
            "blobs.store" => self.blobs.store = v.trim().to_owned(),
            "blobs.endpoint" => self.blobs.endpoint = v.trim().to_owned(),
            "blobs.region" => self.blobs.region = v.trim().to_owned(),
            "blobs.access_key_id" => self.blobs.access_key_id = v.trim().to_owned(),
            "blobs.secret_access_key" => self.blobs.secret_access_key = v.to_owned(),
            other => return Err(format!("{other} is not a setting")),
        }
        Ok(())
    }

    /// The settings without the record of where they came from (to compare values).
    pub fn without_sources(&self) -> Self {
        Self {
            sources: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// Where `key`'s value came from (`None`: the default).
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.sources.get(key)
    }

    /// An error about `key` (for problems found after validation, e.g. creating the data
    /// folder), naming where its value came from.
    pub fn error(&self, key: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError {
            key: key.into(),
            source: self.sources.get(key).cloned(),
            message: message.to_string(),
        }
    }

    /// Checks every setting; the first that is wrong is named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, message: String| Err(self.error(key, message));
        // listen: host:port.
        match self.listen.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => {
                return fail(
                    "listen",
                    format!(
                        "{:?} is not host:port (e.g. 127.0.0.1:8080 or [::]:8443)",
                        self.listen
                    ),
                );
            }
        }
        if self.data.exists() && !self.data.is_dir() {
            return fail("data", format!("{} is not a folder", self.data.display()));
        }
        if let Err(message) = self.database_location() {
            return fail("database", message);
        }
        let checklists = self.fixtures.join("checklists");
        if let Err(e) = std::fs::read_dir(&checklists) {
            return fail("fixtures", format!("{}: {e}", checklists.display()));
        }
        if self.demo.enabled {
            let users = self.fixtures.join("demo/users.json");
            if let Err(e) = std::fs::metadata(&users) {
                return fail(
                    "demo.enabled",
                    format!("the demo data {}: {e}", users.display()),
                );
            }
            if self.demo.password.is_empty() {
                return fail("demo.password", "empty".into());
            }
        }
        self.validate_tls()?;
        self.blob_location()?;
        for entry in &self.proxy.trusted {
            if parse_network(entry).is_none() {
                return fail(
                    "proxy.trusted",
                    format!(
                        "{entry:?} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
                    ),
                );
            }
        }
        let l = &self.limits;
        let ranges: [(&str, u64, u64, u64); 5] = [
            (
                "limits.max_connections",
                l.max_connections as u64,
                1,
                1 << 20,
            ),
            ("limits.header_timeout_secs", l.header_timeout_secs, 1, 3600),
            (
                "limits.idle_timeout_secs",
                l.idle_timeout_secs,
                1,
                24 * 3600,
            ),
            ("limits.drain_timeout_secs", l.drain_timeout_secs, 0, 3600),
            // Below 1 MiB a tablet's sync batch would be refused.
            (
                "limits.max_body_bytes",
                l.max_body_bytes as u64,
                1 << 20,
                1 << 32,
            ),
        ];
        let s = &self.signin;
        let signed: [(&str, i64, i64, i64); 5] = [
            ("signin.account_failures", s.account_failures, 1, 1000),
            ("signin.address_failures", s.address_failures, 1, 1_000_000),
            ("signin.window_secs", s.window_secs, 1, 7 * 24 * 3600),
            ("signin.lock_secs", s.lock_secs, 1, 7 * 24 * 3600),
            ("signin.token_ttl_days", s.token_ttl_days, 1, 3650),
        ];
        let more: [(&str, u64, u64, u64); 2] = [
            ("signin.threads", s.threads as u64, 0, 64),
            ("signin.queue", s.queue as u64, 0, 100_000),
        ];
        for (key, value, min, max) in ranges.into_iter().chain(more) {
            if !(min..=max).contains(&value) {
                return fail(key, format!("{value} is outside {min}..={max}"));
            }
        }
        for (key, value, min, max) in signed {
            if !(min..=max).contains(&value) {
                return fail(key, format!("{value} is outside {min}..={max}"));
            }
        }
        Ok(())
    }

    /// Both files or neither; each readable PEM with a certificate chain / a private key.
    fn validate_tls(&self) -> Result<(), ConfigError> {
        match (&self.tls.cert, &self.tls.key) {
            (None, None) => Ok(()),
            (Some(_), None) => Err(self.error(
                "tls.key",
                "missing: tls.cert is set, so the server needs its private key too (both or neither)",
            )),
            (None, Some(_)) => Err(self.error(
                "tls.cert",
                "missing: tls.key is set, so the server needs its certificate too (both or neither)",
            )),
            (Some(cert), Some(key)) => {
                let readable = |name: &str, path: &Path| {
                    std::fs::File::open(path)
                        .map(drop)
                        .map_err(|e| self.error(name, format!("{}: {e}", path.display())))
                };
                readable("tls.cert", cert)?;
                readable("tls.key", key)?;
                // The same loader the server uses: both files parsed and the key checked
                // against the certificate.
                crate::net::tls_config(cert, key).map_err(|e| self.error(e.setting(), e))?;
                Ok(())
            }
        }
    }

    /// Where the photo blobs are kept (`blobs.*`), checked: the first wrong setting is named.
    /// Where the database is: SQLite's file in the data folder, or a PostgreSQL address.
    pub fn database_location(&self) -> Result<DatabaseLocation, String> {
        let d = self.database.trim();
        if d.is_empty() {
            Ok(DatabaseLocation::Sqlite(self.data.join("server.db")))
        } else if d.starts_with("postgres://") || d.starts_with("postgresql://") {
            Ok(DatabaseLocation::Postgres(d.to_owned()))
        } else {
            Err(format!(
                "{:?} is not a postgres://user@host/database address (empty: SQLite in the data folder)",
                self.database
            ))
        }
    }

    pub fn blob_location(&self) -> Result<crate::blobstore::BlobLocation, ConfigError> {
        use crate::blobstore::{BlobLocation, S3Settings};
        let b = &self.blobs;
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        if !b.store.starts_with("s3://") {
            if b.store.contains("://") {
                return Err(self.error(
                    "blobs.store",
                    format!(
                        "{:?} is neither a folder nor an s3://bucket[/prefix] address (the blob stores: a local folder, S3-compatible object storage)",
                        b.store
                    ),
                ));
            }
            for (key, value) in [
                ("blobs.endpoint", &b.endpoint),
                ("blobs.region", &b.region),
                ("blobs.access_key_id", &b.access_key_id),
                ("blobs.secret_access_key", &b.secret_access_key),
            ] {
                if !value.is_empty() {
                    return Err(self.error(
                        key,
                        "set, but blobs.store is a folder: it applies only to an s3://bucket store",
                    ));
                }
            }
            let root = if b.store.is_empty() {
                self.data.join("blobs")
            } else {
                PathBuf::from(&b.store)
            };
            if root.exists() && !root.is_dir() {
                return Err(
                    self.error("blobs.store", format!("{} is not a folder", root.display()))
                );
            }
            return Ok(BlobLocation::Folder(root));
        }
        let (bucket, prefix) =
            S3Settings::parse_url(&b.store).map_err(|e| self.error("blobs.store", e))?;
        if let Some(endpoint) = some(&b.endpoint) {
            let host = endpoint
                .strip_prefix("http://")
                .or_else(|| endpoint.strip_prefix("https://"))
                .map(|rest| rest.split('/').next().unwrap_or(""))
                .unwrap_or("");
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(self.error(
                    "blobs.endpoint",
                    format!(
                        "{endpoint:?} is not an http:// or https:// address (e.g. https://minio.bureau.example:9000)"
                    ),
                ));
            }
        }
        match (b.access_key_id.is_empty(), b.secret_access_key.is_empty()) {
            (false, true) => {
                return Err(self.error(
                    "blobs.secret_access_key",
                    "missing: blobs.access_key_id is set, so the secret is needed too (both or neither)",
                ));
            }
            (true, false) => {
                return Err(self.error(
                    "blobs.access_key_id",
                    "missing: blobs.secret_access_key is set, so the key id is needed too (both or neither)",
                ));
            }
            _ => {}
        }
        Ok(BlobLocation::S3(S3Settings {
            bucket,
            prefix,
            endpoint: some(&b.endpoint),
            region: some(&b.region),
            access_key_id: some(&b.access_key_id),
            secret_access_key: some(&b.secret_access_key),
        }))
    }

    /// `proxy.trusted` as networks (a bare address is a network of one).
    pub fn trusted_proxies(&self) -> Vec<ipnet::IpNet> {
        self.proxy
            .trusted
            .iter()
            .filter_map(|s| parse_network(s))
            .collect()
    }

    /// The limits `net::serve_with` applies. `max_connections` is lowered to what the
    /// open-file limit allows (with a warning).
    pub fn serve_config(&self) -> crate::net::ServeConfig {
        let allowed = crate::net::ServeConfig::default_max_connections(usize::MAX);
        let mut max = self.limits.max_connections;
        if max > allowed {
            tracing::warn!(
                configured = max,
                allowed,
                "limits.max_connections is more than the open-file limit allows; lowered (raise LimitNOFILE)"
            );
            max = allowed;
        }
        crate::net::ServeConfig {
            max_connections: max,
            header_read_timeout: Duration::from_secs(self.limits.header_timeout_secs),
            idle_timeout: Duration::from_secs(self.limits.idle_timeout_secs),
            drain_timeout: Duration::from_secs(self.limits.drain_timeout_secs),
            // Loaded by `serving` (it reads files and may fail).
            tls: None,
            trusted_proxies: self.trusted_proxies(),
        }
    }

    /// The sign-in settings `signin::configure` takes.
    pub fn signin_settings(&self) -> crate::signin::Settings {
        let s = &self.signin;
        crate::signin::Settings {
            threads: if s.threads == 0 {
                std::thread::available_parallelism().map_or(2, |n| n.get().min(8))
            } else {
                s.threads
            },
            queue: s.queue,
            limits: crate::signin::Limits {
                account_failures: s.account_failures,
                address_failures: s.address_failures,
                window_secs: s.window_secs,
                lock_secs: s.lock_secs,
                enabled: s.throttle,
            },
        }
    }

    /// Seconds a tablet's token stays valid.
    pub fn token_ttl_secs(&self) -> i64 {
        self.signin.token_ttl_days * 24 * 3600
    }
}

/// The data folder of an `admin` command: `--data`, else `$SYNC_SERVER_DATA`, else the
/// configuration's (`--config`, `$SYNC_SERVER_CONFIG`, or [`PACKAGED_CONFIG`] when it exists),
/// else `data`.
pub fn admin_target(
    config: Option<&Path>,
    data: Option<PathBuf>,
    env: &impl Environment,
) -> Result<crate::admin::Target, ConfigError> {
    if let Some(data) = data {
        return Ok(crate::admin::Target::sqlite(data));
    }
    let file = config
        .map(Path::to_path_buf)
        .or_else(|| {
            env.var(CONFIG_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| Some(PathBuf::from(PACKAGED_CONFIG)).filter(|p| p.exists()));
    let mut config = match file {
        Some(path) => Config::from_file(&path)?,
        None => Config::default(),
    };
    config.apply_env(env)?;
    if config.data.exists() && !config.data.is_dir() {
        return Err(config.error("data", format!("{} is not a folder", config.data.display())));
    }
    // The database the server itself uses: SQLite in the data folder, or PostgreSQL (then
    // the commands work on it, never on an empty server.db beside it).
    let database = config
        .database_location()
        .map_err(|e| config.error("database", e))?;
    Ok(crate::admin::Target {
        data: config.data,
        database,
    })
}

/// The first key of `table` (below `prefix`) that is not a setting nor a table of settings.
fn unknown_key(table: &toml::Table, prefix: &str) -> Option<String> {
    for (name, value) in table {
        let path = format!("{prefix}{name}");
        if KEYS.contains(&path.as_str()) {
            continue;
        }
        let section = format!("{path}.");
        match value.as_table() {
            Some(inner) if KEYS.iter().any(|k| k.starts_with(&section)) => {
                if let Some(key) = unknown_key(inner, &section) {
                    return Some(key);
                }
            }
            _ => return Some(path),
        }
    }
    None
}

fn boolean(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(format!("{v:?} is not true or false")),
    }
}

fn number<T: std::str::FromStr>(v: &str) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    v.trim()
        .replace('_', "")
        .parse()
        .map_err(|e| format!("{v:?} is not a whole number ({e})"))
}

fn parse_network(s: &str) -> Option<ipnet::IpNet> {
    crate::net::parse_proxy(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../packaging/sync-server.toml");

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A folder with `checklists/` (what `fixtures` must hold).
    fn fixtures(dir: &Path) -> PathBuf {
        let f = dir.join("fixtures");
        std::fs::create_dir_all(f.join("checklists")).unwrap();
        f
    }

    #[test]
    fn the_packaged_example_names_every_key_with_its_variable_and_its_true_default() {
        for key in KEYS {
            let leaf = key.rsplit('.').next().unwrap();
            let section = key.rsplit_once('.').map(|(s, _)| format!("[{s}]"));
            if let Some(section) = section {
                assert!(EXAMPLE.contains(&section), "{section} missing");
            }
            assert!(
                EXAMPLE.lines().any(|l| {
                    let l = l.trim_start_matches('#');
                    l.starts_with(&format!("{leaf} = "))
                }),
                "{key} missing from the example"
            );
            assert!(
                EXAMPLE.contains(&env_name(key)),
                "{} missing",
                env_name(key)
            );
        }
        // As shipped: the packaged paths, demo off, everything else the built-in default.
        let shipped = Config::from_toml(EXAMPLE, Path::new("/etc/x/sync-server.toml")).unwrap();
        let expected = Config {
            data: "/var/lib/inspection-sync".into(),
            fixtures: "/usr/share/inspection-sync/fixtures".into(),
            ..Config::default()
        };
        assert_eq!(shipped.without_sources(), expected);
        assert!(!shipped.demo.enabled);
        // Each commented value is the default: uncommented, the file still means the same
        // (except the TLS example paths, which have no default).
        let uncommented: String = EXAMPLE
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest)
                    if rest.contains(" = ")
                        && rest.starts_with(|c: char| c.is_ascii_lowercase())
                        && !rest.starts_with("cert")
                        && !rest.starts_with("key") =>
                {
                    rest
                }
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let all = Config::from_toml(&uncommented, Path::new("/etc/x/sync-server.toml")).unwrap();
        assert_eq!(all.without_sources(), expected);
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "c.toml",
            "listen = \"127.0.0.1:1\"\ndata = \"d\"\n[limits]\nidle_timeout_secs = 7\nmax_connections = 9\n[signin]\nthrottle = false\n",
        );
        let args = ServeArgs {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:3".into()),
            ..Default::default()
        };
        let e = env(&[
            ("SYNC_SERVER_LISTEN", "127.0.0.1:2"),
            ("SYNC_SERVER_LIMITS_MAX_CONNECTIONS", "10"),
            ("SYNC_SERVER_PROXY_TRUSTED", " 10.0.0.0/8, ::1 ,"),
        ]);
        let c = Config::load(&args, &e).unwrap();
        assert_eq!(c.listen, "127.0.0.1:3");
        assert_eq!(c.source("listen"), Some(&Source::Flag("--listen")));
        assert_eq!(c.limits.max_connections, 10);
        assert_eq!(
            c.source("limits.max_connections"),
            Some(&Source::Env),
            "the environment beats the file"
        );
        assert_eq!(c.limits.idle_timeout_secs, 7);
        assert_eq!(c.limits.header_timeout_secs, 15, "the default");
        assert_eq!(c.source("limits.header_timeout_secs"), None);
        assert!(!c.signin.throttle);
        assert!(!c.signin_settings().limits.enabled);
        // A relative path in the file is relative to the file's folder.
        assert_eq!(c.data, dir.path().join("d"));
        assert_eq!(c.proxy.trusted, ["10.0.0.0/8", "::1"]);
        assert_eq!(c.trusted_proxies().len(), 2);
        // The file may also come from SYNC_SERVER_CONFIG.
        let by_env = Config::load(
            &ServeArgs::default(),
            &env(&[(CONFIG_ENV, file.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(by_env.listen, "127.0.0.1:1");
        // --demo-password asks for the demo.
        let demo = Config::load(
            &ServeArgs {
                demo_password: Some("pw".into()),
                ..Default::default()
            },
            &env(&[]),
        )
        .unwrap();
        assert!(demo.demo.enabled);
        assert_eq!(demo.demo.password, "pw");
        assert!(!Config::default().demo.enabled, "demo is off by default");
    }

    #[test]
    fn an_unknown_key_or_a_wrong_type_in_the_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "c.toml", "[limits]\nmax_conections = 3\n");
        let err = Config::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("unknown key limits.max_conections"), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
        let file = write(dir.path(), "c.toml", "lisen = \"x\"\n");
        let err = Config::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("unknown key lisen"), "{err}");
        let file = write(dir.path(), "c.toml", "[tls.cert]\npath = \"x\"\n");
        let err = Config::from_file(&file).unwrap_err().to_string();
        assert!(
            err.contains("[tls.cert]") && err.contains("invalid type"),
            "{err}"
        );
        let file = write(
            dir.path(),
            "c.toml",
            "[limits]\nmax_connections = \"many\"\n",
        );
        let err = Config::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("max_connections"), "{err}");
        let err = Config::from_file(&dir.path().join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.toml (SYNC_SERVER_CONFIG)"), "{err}");
    }

    #[test]
    fn a_wrong_value_is_named_with_its_variable_and_where_it_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let f = fixtures(dir.path());
        let base = [("SYNC_SERVER_FIXTURES", f.to_str().unwrap())];
        let check = |pairs: &[(&str, &str)]| -> Result<Config, String> {
            let mut all = env(&base);
            all.extend(env(pairs));
            let c = Config::load(&ServeArgs::default(), &all).map_err(|e| e.to_string())?;
            c.validate().map_err(|e| e.to_string())?;
            Ok(c)
        };
        check(&[]).unwrap();
        let err = check(&[
            ("SYNC_SERVER_TLS_CERT", "/nonexistent/x.pem"),
            ("SYNC_SERVER_TLS_KEY", "/nonexistent/k.pem"),
        ])
        .unwrap_err();
        assert!(
            err.starts_with("setting tls.cert (SYNC_SERVER_TLS_CERT, from the environment): /nonexistent/x.pem: "),
            "{err}"
        );
        let err = check(&[("SYNC_SERVER_TLS_CERT", "/nonexistent/x.pem")]).unwrap_err();
        assert!(
            err.starts_with("setting tls.key (SYNC_SERVER_TLS_KEY): missing"),
            "{err}"
        );
        let err = check(&[("SYNC_SERVER_LIMITS_MAX_BODY_BYTES", "12")]).unwrap_err();
        assert!(err.starts_with("setting limits.max_body_bytes (SYNC_SERVER_LIMITS_MAX_BODY_BYTES, from the environment): 12 is outside"), "{err}");
        let err = check(&[("SYNC_SERVER_SIGNIN_THROTTLE", "maybe")]).unwrap_err();
        assert!(
            err.starts_with("setting signin.throttle (SYNC_SERVER_SIGNIN_THROTTLE"),
            "{err}"
        );
        let err = check(&[("SYNC_SERVER_LISTEN", "8080")]).unwrap_err();
        assert!(
            err.starts_with("setting listen (SYNC_SERVER_LISTEN"),
            "{err}"
        );
        let err = check(&[("SYNC_SERVER_PROXY_TRUSTED", "10.0.0.0/33")]).unwrap_err();
        assert!(
            err.starts_with("setting proxy.trusted (SYNC_SERVER_PROXY_TRUSTED"),
            "{err}"
        );
        let err = check(&[("SYNC_SERVER_FIXTURES", "/nonexistent")]).unwrap_err();
        assert!(err.starts_with("setting fixtures (SYNC_SERVER_FIXTURES, from the environment): /nonexistent/checklists: "), "{err}");
        let err = check(&[("SYNC_SERVER_DEMO_ENABLED", "on")]).unwrap_err();
        assert!(
            err.starts_with("setting demo.enabled (SYNC_SERVER_DEMO_ENABLED"),
            "{err}"
        );
        // A value from the file is named with the file.
        let file = write(dir.path(), "c.toml", "[signin]\nlock_secs = 0\n");
        let err = check(&[(CONFIG_ENV, file.to_str().unwrap())]).unwrap_err();
        assert_eq!(
            err,
            format!(
                "setting signin.lock_secs (SYNC_SERVER_SIGNIN_LOCK_SECS, from {}): 0 is outside 1..=604800",
                file.display()
            )
        );
        // An unknown SYNC_SERVER_ variable is reported (the server warns).
        assert_eq!(
            Config::unknown_env(&env(&[
                ("SYNC_SERVER_LISTN", "x"),
                (CONFIG_ENV, "y"),
                ("SYNC_SERVER_LISTEN", "z")
            ])),
            ["SYNC_SERVER_LISTN"]
        );
    }

    #[test]
    fn tls_files_must_hold_a_pem_certificate_and_a_pem_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = fixtures(dir.path());
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = write(dir.path(), "cert.pem", &made.cert.pem());
        let key = write(dir.path(), "key.pem", &made.signing_key.serialize_pem());
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let other_key = write(dir.path(), "other.pem", &other.signing_key.serialize_pem());
        let not_pem = write(dir.path(), "note.txt", "hello\n");
        let with = |cert: &Path, key: &Path| {
            let text = format!(
                "fixtures = {:?}\n[tls]\ncert = {:?}\nkey = {:?}\n",
                f.display().to_string(),
                cert.display().to_string(),
                key.display().to_string()
            );
            let file = write(dir.path(), "c.toml", &text);
            Config::from_file(&file)
                .unwrap()
                .validate()
                .map_err(|e| e.to_string())
        };
        with(&cert, &key).unwrap();
        let err = with(&not_pem, &key).unwrap_err();
        assert!(
            err.contains("setting tls.cert") && err.contains("no PEM CERTIFICATE"),
            "{err}"
        );
        let err = with(&cert, &not_pem).unwrap_err();
        assert!(
            err.contains("setting tls.key") && err.contains("no PEM private key"),
            "{err}"
        );
        let err = with(&cert, &cert).unwrap_err();
        assert!(err.contains("setting tls.key"), "{err}");
        // A key that is not the certificate's.
        let err = with(&cert, &other_key).unwrap_err();
        assert!(err.contains("setting tls.key"), "{err}");
    }

    #[test]
    fn the_blob_store_is_the_data_folder_another_folder_or_an_s3_bucket() {
        use crate::blobstore::{BlobLocation, S3Settings};
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&ServeArgs::default(), &env(&[])).unwrap();
        assert_eq!(
            c.blob_location().unwrap(),
            BlobLocation::Folder(PathBuf::from("data/blobs"))
        );
        // A folder in the file is relative to the file.
        let file = write(dir.path(), "c.toml", "[blobs]\nstore = \"photos\"\n");
        let args = ServeArgs {
            config: Some(file),
            ..Default::default()
        };
        let c = Config::load(&args, &env(&[])).unwrap();
        assert_eq!(
            c.blob_location().unwrap(),
            BlobLocation::Folder(dir.path().join("photos"))
        );
        let file = write(
            dir.path(),
            "s3.toml",
            "[blobs]\nstore = \"s3://city-photos/county-7\"\nendpoint = \"https://minio.example:9000\"\naccess_key_id = \"AK\"\n",
        );
        let args = ServeArgs {
            config: Some(file),
            ..Default::default()
        };
        let c = Config::load(
            &args,
            &env(&[("SYNC_SERVER_BLOBS_SECRET_ACCESS_KEY", "from-env")]),
        )
        .unwrap();
        assert_eq!(
            c.blob_location().unwrap(),
            BlobLocation::S3(S3Settings {
                bucket: "city-photos".into(),
                prefix: "county-7".into(),
                endpoint: Some("https://minio.example:9000".into()),
                region: None,
                access_key_id: Some("AK".into()),
                secret_access_key: Some("from-env".into()),
            })
        );
        assert!(
            !format!("{c:?}").contains("from-env"),
            "the secret is not printed"
        );
        // Wrong settings are named.
        for (vars, key) in [
            (vec![("SYNC_SERVER_BLOBS_STORE", "gs://x")], "blobs.store"),
            (vec![("SYNC_SERVER_BLOBS_STORE", "s3://X")], "blobs.store"),
            (
                vec![("SYNC_SERVER_BLOBS_ENDPOINT", "http://m:9000")],
                "blobs.endpoint",
            ),
            (
                vec![
                    ("SYNC_SERVER_BLOBS_STORE", "s3://photos"),
                    ("SYNC_SERVER_BLOBS_ENDPOINT", "m:9000"),
                ],
                "blobs.endpoint",
            ),
            (
                vec![
                    ("SYNC_SERVER_BLOBS_STORE", "s3://photos"),
                    ("SYNC_SERVER_BLOBS_SECRET_ACCESS_KEY", "s"),
                ],
                "blobs.access_key_id",
            ),
        ] {
            let c = Config::load(&ServeArgs::default(), &env(&vars)).unwrap();
            let e = c.blob_location().unwrap_err();
            assert_eq!(e.key, key, "{vars:?}: {e}");
        }
    }

    #[test]
    fn admin_commands_find_the_data_folder_in_the_configuration() {
        use crate::admin::Target;
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "c.toml", "data = \"/srv/inspection\"\n");
        let none = env(&[]);
        assert_eq!(
            admin_target(Some(&file), None, &none).unwrap(),
            Target::sqlite("/srv/inspection")
        );
        assert_eq!(
            admin_target(Some(&file), Some("/d".into()), &none).unwrap(),
            Target::sqlite("/d"),
            "--data wins"
        );
        assert_eq!(
            admin_target(Some(&file), None, &env(&[("SYNC_SERVER_DATA", "/e")])).unwrap(),
            Target::sqlite("/e")
        );
        assert_eq!(
            admin_target(None, None, &env(&[(CONFIG_ENV, file.to_str().unwrap())])).unwrap(),
            Target::sqlite("/srv/inspection")
        );
        // A server on PostgreSQL: the commands work on its database, never on an empty
        // server.db in the data folder.
        let pg = env(&[("SYNC_SERVER_DATABASE", "postgres://u@db/inspection")]);
        assert_eq!(
            admin_target(Some(&file), None, &pg).unwrap(),
            Target {
                data: "/srv/inspection".into(),
                database: DatabaseLocation::Postgres("postgres://u@db/inspection".into()),
            }
        );
        let bad = env(&[("SYNC_SERVER_DATABASE", "mysql://db/x")]);
        let e = admin_target(Some(&file), None, &bad).unwrap_err();
        assert_eq!(e.key, "database", "{e}");
    }

    #[test]
    fn the_database_is_sqlite_in_the_data_folder_or_a_postgres_address() {
        use super::DatabaseLocation;
        let mut c = Config {
            data: "/srv/x".into(),
            ..Config::default()
        };
        assert_eq!(
            c.database_location(),
            Ok(DatabaseLocation::Sqlite("/srv/x/server.db".into()))
        );
        c.database = "postgres://sync:secret@db:5432/inspection".into();
        let at = c.database_location().unwrap();
        assert_eq!(
            at,
            DatabaseLocation::Postgres("postgres://sync:secret@db:5432/inspection".into())
        );
        assert_eq!(
            at.describe(),
            "postgres://sync@db:5432/inspection",
            "no password"
        );
        c.database = "mysql://db/x".into();
        assert!(c.database_location().is_err());
    }
}
