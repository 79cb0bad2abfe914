//! `sync-server admin units …` and `admin users …`: units and users in the database (see
//! `crate::store::reference`). Every change is validated with app-core's rules (the unit
//! tree, certificate numbers, roles) against everything already stored, written in one
//! transaction with the reference version raised, and so seen by the running server within
//! about a second.

use super::open_database;
use crate::reference::ReferenceData;
use crate::store::reference::{ReferenceStore, StoredReference};
use crate::store::{AccountStore, Transactions};
use anyhow::{Context, Result, bail};
use app_core::ids::{UnitId, UserId};
use app_core::unit::{DivisionCode, Unit, UnitLevel};
use app_core::user::{CertificateNo, Role, User};
use clap::{Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// Creates a unit under its parent (a city has none).
    Create {
        /// Identifier, e.g. `xw-hpm` (letters, digits, dashes).
        #[arg(long)]
        id: String,
        /// Full name, e.g. 南京市玄武区应急管理局.
        #[arg(long)]
        name: String,
        /// Short name used in document numbers, e.g. 玄武.
        #[arg(long)]
        short_name: String,
        #[arg(long, value_enum)]
        level: Level,
        /// GB/T 2260 division code (6 digits; 9 for a township, 12 for a village).
        #[arg(long)]
        code: String,
        /// Parent unit's id (none for a city).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Disables a unit: nothing new is placed in it. Its users and sub-units must be
    /// disabled first. Its records and document numbers stay as they are.
    Disable { id: String },
    /// Lists the units, their parents and whether they are enabled.
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Level {
    City,
    County,
    Township,
    Village,
}

impl From<Level> for UnitLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::City => UnitLevel::City,
            Level::County => UnitLevel::County,
            Level::Township => UnitLevel::Township,
            Level::Village => UnitLevel::Village,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// 执法人员 (needs --certificate).
    Inspector,
    /// 审核人.
    Supervisor,
    /// Maintains reference data.
    Admin,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Creates a user with an account. Without --password-stdin a password is generated and
    /// printed once.
    Create {
        /// Sign-in name, e.g. `u-wang`.
        #[arg(long)]
        id: String,
        /// Name as printed on documents, e.g. 王强.
        #[arg(long)]
        name: String,
        /// The user's unit (its id).
        #[arg(long)]
        unit: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Enforcement certificate number (执法证号), for inspectors.
        #[arg(long)]
        certificate: Option<String>,
        /// Reads the password from the first line of standard input instead of generating
        /// one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disables a user: they can no longer sign in and their sessions stop working at once.
    /// What they recorded keeps their name.
    Disable { id: String },
    /// Enables a disabled user again.
    Enable { id: String },
    /// Sets a new password. Without --password-stdin one is generated and printed once.
    ResetPassword {
        id: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists the users: id, name, unit, role, enabled.
    List,
}

/// The stored units, users and enterprises, validated together (templates and plans are the
/// server's business and not needed here).
fn validated(stored: StoredReference) -> Result<ReferenceData> {
    ReferenceData::from_stored(stored, Default::default(), Vec::new()).map_err(anyhow::Error::msg)
}

fn valid_id(id: &str, what: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !ok {
        bail!("{what} id {id:?} must be 1–64 ASCII letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

/// Runs `admin units …`.
pub fn units(server: &super::Target, command: UnitsCommand) -> Result<()> {
    let mut conn = open_database(server)?;
    let tx = conn.begin_immediate()?;
    ensure_seeded(&tx)?;
    let stored = tx.stored_reference()?;
    match command {
        UnitsCommand::List => {
            for u in &stored.units {
                println!(
                    "{}\t{}\t{}\t{:?}\t{}\tparent={}\t{}",
                    u.value.id,
                    u.value.name,
                    u.value.short_name,
                    u.value.level,
                    u.value.code,
                    u.value.parent.as_ref().map_or("-", |p| p.as_str()),
                    if u.enabled { "enabled" } else { "disabled" }
                );
            }
            return Ok(());
        }
        UnitsCommand::Create {
            id,
            name,
            short_name,
            level,
            code,
            parent,
        } => {
            valid_id(&id, "unit")?;
            if name.trim().is_empty() || short_name.trim().is_empty() {
                bail!("--name and --short-name must not be empty");
            }
            if stored.units.iter().any(|u| u.value.id.as_str() == id) {
                bail!("unit {id} exists already");
            }
            if let Some(p) = &parent
                && stored
                    .units
                    .iter()
                    .any(|u| u.value.id.as_str() == p && !u.enabled)
            {
                bail!("parent unit {p} is disabled");
            }
            let unit = Unit {
                id: UnitId::new(id.clone()),
                name: name.trim().to_owned(),
                short_name: short_name.trim().to_owned(),
                level: level.into(),
                code: DivisionCode::parse(&code).map_err(|e| anyhow::anyhow!("--code: {e}"))?,
                parent: parent.map(UnitId::new),
            };
            let mut candidate = stored.clone();
            candidate.units.push(crate::store::reference::Flagged {
                value: unit.clone(),
                enabled: true,
            });
            validated(candidate)?;
            tx.insert_unit(&unit)?;
            let version = tx.bump_reference_version()?;
            tx.commit()?;
            println!("unit {id} created ({name}); reference version {version}");
        }
        UnitsCommand::Disable { id } => {
            let Some(unit) = stored.units.iter().find(|u| u.value.id.as_str() == id) else {
                bail!("no unit {id}");
            };
            if !unit.enabled {
                println!("unit {id} is already disabled");
                return Ok(());
            }
            let users: Vec<&str> = stored
                .users
                .iter()
                .filter(|u| u.enabled && u.value.unit.as_str() == id)
                .map(|u| u.value.id.as_str())
                .collect();
            if !users.is_empty() {
                bail!(
                    "unit {id} still has enabled users ({}); disable them first",
                    users.join(", ")
                );
            }
            let children: Vec<&str> = stored
                .units
                .iter()
                .filter(|u| u.enabled && u.value.parent.as_ref().is_some_and(|p| p.as_str() == id))
                .map(|u| u.value.id.as_str())
                .collect();
            if !children.is_empty() {
                bail!(
                    "unit {id} still has enabled sub-units ({}); disable them first",
                    children.join(", ")
                );
            }
            tx.set_unit_enabled(&id, false)?;
            let version = tx.bump_reference_version()?;
            tx.commit()?;
            println!("unit {id} disabled; reference version {version}");
        }
    }
    Ok(())
}

/// Reference data can be changed only once the server has seeded the database (its first
/// start), so that the fixtures' demo data never lands on top of an administrator's work.
fn ensure_seeded<S: ReferenceStore>(store: &S) -> Result<()> {
    if store.reference_version()?.is_none() {
        bail!(
            "the reference data of this database was never initialised: start the server once \
             with this data folder (it seeds units, users and enterprises from its fixtures, \
             none when the fixtures have no demo data)"
        );
    }
    Ok(())
}

/// A password of 16 characters from an alphabet without look-alikes (about 90 bits).
fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(16);
    while out.len() < 16 {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // Rejection sampling keeps every character equally likely.
        if (byte[0] as usize) < 256 - 256 % ALPHABET.len() {
            out.push(ALPHABET[byte[0] as usize % ALPHABET.len()] as char);
        }
    }
    Ok(out)
}

/// The password from standard input's first line, or a generated one (then `true`: print it).
fn password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        if pw.chars().count() < 8 {
            bail!("the password must have at least 8 characters");
        }
        if pw.len() > crate::signin::MAX_PASSWORD_BYTES {
            bail!(
                "the password must have at most {} bytes",
                crate::signin::MAX_PASSWORD_BYTES
            );
        }
        Ok((pw, false))
    } else {
        Ok((generate_password()?, true))
    }
}

fn hash(password: &str) -> Result<String> {
    crate::auth::hash_password(password).map_err(|e| anyhow::anyhow!("hashing: {e}"))
}

/// Runs `admin users …`.
pub fn users(server: &super::Target, command: UsersCommand) -> Result<()> {
    let mut conn = open_database(server)?;
    // The password is read and hashed before the write lock is taken (Argon2 takes a while).
    let prepared = match &command {
        UsersCommand::Create { password_stdin, .. }
        | UsersCommand::ResetPassword { password_stdin, .. } => {
            let (pw, generated) = password(*password_stdin)?;
            Some((hash(&pw)?, generated.then_some(pw)))
        }
        _ => None,
    };
    let tx = conn.begin_immediate()?;
    ensure_seeded(&tx)?;
    let stored = tx.stored_reference()?;
    let find = |id: &str| stored.users.iter().find(|u| u.value.id.as_str() == id);
    match command {
        UsersCommand::List => {
            for u in &stored.users {
                let role = match &u.value.role {
                    Role::Inspector { certificate } => {
                        format!("inspector {}", certificate.as_str())
                    }
                    Role::Supervisor => "supervisor".into(),
                    Role::Admin => "admin".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.value.id,
                    u.value.name,
                    u.value.unit,
                    role,
                    if u.enabled { "enabled" } else { "disabled" }
                );
            }
        }
        UsersCommand::Create {
            id,
            name,
            unit,
            role,
            certificate,
            ..
        } => {
            valid_id(&id, "user")?;
            if name.trim().is_empty() {
                bail!("--name must not be empty");
            }
            if find(&id).is_some() || tx.has_account(&id)? {
                bail!("user {id} exists already");
            }
            match stored.units.iter().find(|u| u.value.id.as_str() == unit) {
                None => bail!("no unit {unit}"),
                Some(u) if !u.enabled => bail!("unit {unit} is disabled"),
                Some(_) => {}
            }
            let role = match (role, certificate) {
                (RoleArg::Inspector, Some(c)) => Role::Inspector {
                    certificate: CertificateNo::parse(&c)
                        .map_err(|e| anyhow::anyhow!("--certificate: {e}"))?,
                },
                (RoleArg::Inspector, None) => {
                    bail!("an inspector needs --certificate (执法证号)")
                }
                (_, Some(_)) => bail!("--certificate is for inspectors only"),
                (RoleArg::Supervisor, None) => Role::Supervisor,
                (RoleArg::Admin, None) => Role::Admin,
            };
            let user = User {
                id: UserId::new(id.clone()),
                name: name.trim().to_owned(),
                unit: UnitId::new(unit),
                role,
            };
            let mut candidate = stored.clone();
            candidate.users.push(crate::store::reference::Flagged {
                value: user.clone(),
                enabled: true,
            });
            validated(candidate)?;
            let (hash, generated) = prepared.expect("prepared for create");
            tx.insert_user(&user)?;
            tx.create_account(&id, &hash)?;
            let version = tx.bump_reference_version()?;
            tx.commit()?;
            println!(
                "user {id} created ({}); reference version {version}",
                user.name
            );
            if let Some(pw) = generated {
                println!("password (shown once): {pw}");
            }
        }
        UsersCommand::Disable { id } | UsersCommand::Enable { id } if find(&id).is_none() => {
            bail!("no user {id}")
        }
        UsersCommand::Disable { id } => {
            if !find(&id).is_some_and(|u| u.enabled) {
                println!("user {id} is already disabled");
                return Ok(());
            }
            tx.set_user_enabled(&id, false)?;
            let version = tx.bump_reference_version()?;
            tx.commit()?;
            println!("user {id} disabled; reference version {version}");
        }
        UsersCommand::Enable { id } => {
            let user = find(&id).expect("checked above");
            if user.enabled {
                println!("user {id} is already enabled");
                return Ok(());
            }
            if stored
                .units
                .iter()
                .any(|u| u.value.id == user.value.unit && !u.enabled)
            {
                bail!("user {id}'s unit {} is disabled", user.value.unit);
            }
            tx.set_user_enabled(&id, true)?;
            let version = tx.bump_reference_version()?;
            tx.commit()?;
            println!("user {id} enabled; reference version {version}");
        }
        UsersCommand::ResetPassword { id, .. } => {
            if find(&id).is_none() {
                bail!("no user {id}");
            }
            let (hash, generated) = prepared.expect("prepared for reset");
            tx.set_password_hash(&id, &hash)?;
            tx.commit()?;
            println!("password of {id} reset");
            if let Some(pw) = generated {
                println!("password (shown once): {pw}");
            }
        }
    }
    Ok(())
}
