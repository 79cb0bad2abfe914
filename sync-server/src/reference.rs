//! Reference data (units, users, enterprises, checklist templates, plans): loaded from the
//! fixtures folder and validated with app-core's rules at start-up, sent to each tablet
//! filtered by what its user may see, with each unit's penalty rules ([`penalty_rules_for`]).

use crate::store::StoreResult;
use crate::store::penalty_rules::{PenaltyRulesStore, UnitPenaltyRules};
use crate::store::reference::ReferenceStore;
use app_core::checklist::{ChecklistTemplate, TemplateLibrary, TemplateRef};
use app_core::enterprise::Enterprise;
use app_core::plan::Plan;
use app_core::unit::{Unit, UnitTree};
use app_core::user::User;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

/// Why the reference data could not be loaded. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Units, users, enterprises and templates, validated together. Units, users and
/// enterprises come from the database (seeded from the fixtures, see `crate::store::reference`);
/// templates and plans from the fixtures.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    /// Every unit, disabled ones included (records and document numbers still name them).
    pub units: UnitTree,
    /// The enabled users: who may sign in, and whom tablets and the console offer.
    pub users: Vec<User>,
    /// Disabled users: they can no longer sign in and their tokens stop working; kept so
    /// that what they recorded still names them.
    pub disabled_users: Vec<User>,
    /// Units disabled by `sync-server admin units disable`: nothing new is placed in them.
    pub disabled_units: std::collections::BTreeSet<app_core::ids::UnitId>,
    pub enterprises: Vec<Enterprise>,
    /// Every template version: the shipped ones (global) and those uploaded per unit.
    pub templates: TemplateLibrary,
    /// The shipped templates alone (the fixtures), under the uploaded ones on a reload.
    pub shipped_templates: TemplateLibrary,
    /// The unit each uploaded version belongs to (absent: a shipped, global version).
    pub template_units: std::collections::BTreeMap<TemplateRef, app_core::ids::UnitId>,
    pub plans: Vec<Plan>,
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, message: impl ToString) -> LoadError {
    LoadError::Invalid {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    serde_json::from_str(&read(path)?).map_err(|e| invalid(path, e))
}

impl ReferenceData {
    /// Loads `demo/units.json`, `demo/users.json`, `demo/enterprises.json` and every
    /// `checklists/*.toml` below `fixtures`. The `demo/*.json` files may be absent (a bureau's
    /// installation starts without demo data and creates its units with `sync-server admin`);
    /// the checklists are required.
    pub fn load(fixtures: &Path) -> Result<Self, LoadError> {
        let optional = |path: &Path| -> Result<Option<String>, LoadError> {
            if path.exists() {
                read(path).map(Some)
            } else {
                Ok(None)
            }
        };
        fn parse<T: serde::de::DeserializeOwned>(
            path: &Path,
            text: Option<String>,
        ) -> Result<Vec<T>, LoadError> {
            match text {
                Some(t) => serde_json::from_str(&t).map_err(|e| invalid(path, e)),
                None => Ok(Vec::new()),
            }
        }
        let units_path = fixtures.join("demo/units.json");
        let units: Vec<Unit> = parse(&units_path, optional(&units_path)?)?;
        let units = UnitTree::new(units).map_err(|e| invalid(&units_path, e))?;
        let users_path = fixtures.join("demo/users.json");
        let users: Vec<User> = parse(&users_path, optional(&users_path)?)?;
        check_users(&units, &users).map_err(|e| invalid(&users_path, e))?;
        let enterprises_path = fixtures.join("demo/enterprises.json");
        let enterprises: Vec<Enterprise> = parse(&enterprises_path, optional(&enterprises_path)?)?;
        check_enterprises(&units, &users, &enterprises)
            .map_err(|e| invalid(&enterprises_path, e))?;
        let templates = Self::load_templates(fixtures)?;
        let plans_path = fixtures.join("demo/plans.json");
        let plans: Vec<Plan> = if plans_path.exists() {
            json(&plans_path)?
        } else {
            Vec::new()
        };
        check_plans(&units, &enterprises, &plans).map_err(|e| invalid(&plans_path, e))?;
        Ok(Self {
            units,
            users,
            disabled_users: Vec::new(),
            disabled_units: Default::default(),
            enterprises,
            shipped_templates: templates.clone(),
            templates,
            template_units: Default::default(),
            plans,
        })
    }

    /// Units, users and enterprises as the database holds them (see
    /// `crate::store::reference`), with the fixtures' templates and plans, validated together
    /// with the same checks as [`ReferenceData::load`].
    pub fn from_stored(
        stored: crate::store::reference::StoredReference,
        templates: TemplateLibrary,
        plans: Vec<Plan>,
    ) -> Result<Self, String> {
        let disabled_units = stored
            .units
            .iter()
            .filter(|u| !u.enabled)
            .map(|u| u.value.id.clone())
            .collect();
        let units = UnitTree::new(stored.units.into_iter().map(|u| u.value))
            .map_err(|e| format!("units: {e}"))?;
        let (users, disabled_users): (Vec<_>, Vec<_>) =
            stored.users.into_iter().partition(|u| u.enabled);
        let users: Vec<User> = users.into_iter().map(|u| u.value).collect();
        let disabled_users: Vec<User> = disabled_users.into_iter().map(|u| u.value).collect();
        let everyone: Vec<User> = users.iter().chain(&disabled_users).cloned().collect();
        check_users(&units, &everyone).map_err(|e| format!("users: {e}"))?;
        check_enterprises(&units, &everyone, &stored.enterprises)
            .map_err(|e| format!("enterprises: {e}"))?;
        check_plans(&units, &stored.enterprises, &plans).map_err(|e| format!("plans: {e}"))?;
        let mut template_units = std::collections::BTreeMap::new();
        let mut all = templates.templates().to_vec();
        for stored in stored.templates {
            stored
                .template
                .validate()
                .map_err(|e| format!("templates: {e}"))?;
            template_units.insert(stored.template.reference(), stored.unit);
            all.push(stored.template);
        }
        let all = TemplateLibrary::new(all).map_err(|e| format!("templates: {e}"))?;
        Ok(Self {
            units,
            users,
            disabled_users,
            disabled_units,
            enterprises: stored.enterprises,
            shipped_templates: templates,
            templates: all,
            template_units,
            plans,
        })
    }
}

/// Every user belongs to a known unit.
pub fn check_users(units: &UnitTree, users: &[User]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for u in users {
        if units.get(&u.unit).is_none() {
            return Err(format!("user {} belongs to unknown unit {}", u.id, u.unit));
        }
        if !seen.insert(u.id.as_str()) {
            return Err(format!("user {} appears twice", u.id));
        }
    }
    Ok(())
}

/// Every enterprise lies in a known unit, its responsible inspector (if any) is an
/// inspector, and no id or USCC appears twice.
pub fn check_enterprises(
    units: &UnitTree,
    users: &[User],
    enterprises: &[Enterprise],
) -> Result<(), String> {
    let mut ids = std::collections::HashSet::new();
    let mut usccs = std::collections::HashSet::new();
    for e in enterprises {
        if units.get(&e.unit).is_none() {
            return Err(format!(
                "enterprise {} lies in unknown unit {}",
                e.id, e.unit
            ));
        }
        if let Some(i) = &e.responsible_inspector
            && !users.iter().any(|u| &u.id == i && u.is_inspector())
        {
            return Err(format!("enterprise {}: {i} is not an inspector", e.id));
        }
        if !ids.insert(e.id.as_str()) || !usccs.insert(e.uscc.as_str()) {
            return Err(format!(
                "enterprise {} ({}) appears twice",
                e.id,
                e.uscc.as_str()
            ));
        }
    }
    Ok(())
}

fn check_plans(units: &UnitTree, enterprises: &[Enterprise], plans: &[Plan]) -> Result<(), String> {
    for p in plans {
        if units.get(&p.unit).is_none() || !enterprises.iter().any(|e| e.id == p.enterprise) {
            return Err(format!("plan {} names an unknown unit or enterprise", p.id));
        }
    }
    Ok(())
}

impl ReferenceData {
    /// The checklist templates below `fixtures` and nothing else: no units, users,
    /// enterprises or plans (a server without the demo data, `demo.enabled = false`).
    pub fn load_checklists(fixtures: &Path) -> Result<Self, LoadError> {
        Ok(Self {
            units: UnitTree::new(Vec::new()).expect("an empty tree is valid"),
            users: Vec::new(),
            disabled_users: Vec::new(),
            disabled_units: Default::default(),
            enterprises: Vec::new(),
            templates: Self::load_templates(fixtures)?,
            shipped_templates: Self::load_templates(fixtures)?,
            template_units: Default::default(),
            plans: Vec::new(),
        })
    }

    /// Every `checklists/*.toml` below `fixtures`, validated together.
    fn load_templates(fixtures: &Path) -> Result<TemplateLibrary, LoadError> {
        let dir = fixtures.join("checklists");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|source| LoadError::Read {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let templates = paths
            .iter()
            .map(|p| ChecklistTemplate::parse_toml(&read(p)?).map_err(|e| invalid(p, e)))
            .collect::<Result<Vec<_>, _>>()?;
        TemplateLibrary::new(templates).map_err(|e| invalid(&dir, e))
    }
}

/// What one user's tablet receives (declared with the other HTTP messages in app-core).
pub use app_core::wire::http::{ReferenceBundle, UnitCaseRules};

impl ReferenceData {
    /// The user `id`, if the reference data knows them.
    pub fn user(&self, id: &str) -> Option<User> {
        self.users.iter().find(|u| u.id.as_str() == id).cloned()
    }

    /// Unit `id`'s name (or the id if unknown).
    pub fn unit_name(&self, id: &str) -> String {
        self.units
            .get(&app_core::ids::UnitId::new(id))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    pub fn bundle_for(&self, user: &User) -> ReferenceBundle {
        use app_core::access::{can_read_enterprise, can_read_plan};
        let plans: Vec<Plan> = self
            .plans
            .iter()
            .filter(|p| can_read_plan(user, p, &self.units))
            .cloned()
            .collect();
        let enterprises = self
            .enterprises
            .iter()
            .filter(|e| can_read_enterprise(user, e, &self.units, &plans))
            .cloned()
            .collect();
        // Colleagues: the people of the units the user oversees, and their own unit.
        let users = self
            .users
            .iter()
            .filter(|u| u.unit == user.unit || self.units.is_in_subtree(&u.unit, &user.unit))
            .cloned()
            .collect();
        ReferenceBundle {
            units: self.units.units().cloned().collect(),
            users,
            enterprises,
            templates: self.templates_for(user).cloned().collect(),
            plans,
            // From the database: see [`penalty_rules_for`].
            penalty_rules: Vec::new(),
        }
    }

    /// The template versions `user` works with: the shipped ones and those uploaded for
    /// their unit or a unit above it (every version, so that records made with an older one
    /// still find it; a new record takes the newest, see `TemplateLibrary::for_industry`).
    pub fn templates_for<'a>(
        &'a self,
        user: &'a User,
    ) -> impl Iterator<Item = &'a ChecklistTemplate> {
        self.templates.templates().iter().filter(move |t| {
            match self.template_units.get(&t.reference()) {
                None => true,
                Some(owner) => self.units.is_in_subtree(&user.unit, owner),
            }
        })
    }

    /// The number the next uploaded version of template `id` gets: one above every
    /// version of it, shipped or uploaded by any unit (so that `id` + version names one
    /// template everywhere).
    pub fn next_template_version(&self, id: &str) -> u32 {
        self.templates
            .templates()
            .iter()
            .filter(|t| t.id == id)
            .map(|t| t.version)
            .max()
            .unwrap_or(0)
            + 1
    }
}

/// The penalty rules of each of `of` (the units of a tablet's bundle), as the server judges
/// that unit's cases: resolved with inheritance by `crate::service::case_rules::rules_for`,
/// each unit's own row read once. A unit without a usable table gets none (its proposals are
/// refused on the tablet as on the server).
pub fn penalty_rules_for<S: PenaltyRulesStore + ?Sized>(
    store: &S,
    units: &UnitTree,
    of: &[Unit],
) -> StoreResult<Vec<UnitCaseRules>> {
    let once = OnceEach {
        store,
        rows: Default::default(),
    };
    of.iter()
        .map(|unit| {
            let rules = crate::service::case_rules::rules_for(&once, units, &unit.id)?;
            Ok(UnitCaseRules {
                unit: unit.id.clone(),
                settings: rules.settings,
                calendar: rules.calendar,
                discretion: rules.discretion,
            })
        })
        .collect()
}

/// A unit's own row read from the store once, however many units inherit from it.
struct OnceEach<'a, S: ?Sized> {
    store: &'a S,
    rows: std::cell::RefCell<std::collections::HashMap<String, Option<UnitPenaltyRules>>>,
}

impl<S: PenaltyRulesStore + ?Sized> PenaltyRulesStore for OnceEach<'_, S> {
    fn penalty_rules(&self, unit: &str) -> StoreResult<Option<UnitPenaltyRules>> {
        if let Some(row) = self.rows.borrow().get(unit) {
            return Ok(row.clone());
        }
        let row = self.store.penalty_rules(unit)?;
        self.rows.borrow_mut().insert(unit.to_owned(), row.clone());
        Ok(row)
    }

    fn put_penalty_rules(&self, unit: &str, rules: &UnitPenaltyRules) -> StoreResult<()> {
        self.rows.borrow_mut().remove(unit);
        self.store.put_penalty_rules(unit, rules)
    }
}

/// The reference data a running server serves: a snapshot shared by every request, swapped
/// whole when the database's version counter moves (see `crate::store::reference`).
///
/// Cloning takes the latest snapshot: axum clones the state for each request, so a request
/// reads one consistent snapshot from start to end, and a change made by `sync-server admin`
/// is seen by the requests that start after the next [`LiveReference::refresh`] (at most about
/// a second later, see [`watch`]). It dereferences to [`ReferenceData`].
pub struct LiveReference {
    current: Arc<ReferenceData>,
    shared: Arc<Shared>,
}

struct Shared {
    cell: RwLock<Arc<ReferenceData>>,
    /// The database version the cell was loaded at (`None`: not from a database).
    version: Mutex<Option<i64>>,
}

impl LiveReference {
    /// Fixed data (tests that need no database), or the data just loaded at `version`.
    pub fn new(data: ReferenceData, version: Option<i64>) -> Self {
        let current = Arc::new(data);
        Self {
            shared: Arc::new(Shared {
                cell: RwLock::new(current.clone()),
                version: Mutex::new(version),
            }),
            current,
        }
    }

    /// The latest snapshot.
    pub fn latest(&self) -> Arc<ReferenceData> {
        self.shared
            .cell
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reloads from the database if its version counter moved since the last load; says
    /// whether it did. One small query when nothing changed. Data the rules refuse (it cannot
    /// be written so by `admin`, which validates first) is logged and the old snapshot kept.
    pub fn refresh<S: ReferenceStore + ?Sized>(&self, store: &S) -> StoreResult<bool> {
        let found = store.reference_version()?;
        let mut known = self
            .shared
            .version
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if found.is_none() || found == *known {
            return Ok(false);
        }
        let old = self.latest();
        match ReferenceData::from_stored(
            store.stored_reference()?,
            old.shipped_templates.clone(),
            old.plans.clone(),
        ) {
            Ok(data) => {
                *self.shared.cell.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(data);
                *known = found;
                tracing::info!(version = found, "reference data reloaded");
                Ok(true)
            }
            Err(e) => {
                *known = found;
                tracing::error!(version = found, error = %e, "reference data in the database is invalid; keeping the previous");
                Ok(false)
            }
        }
    }
}

impl Clone for LiveReference {
    fn clone(&self) -> Self {
        Self {
            current: self.latest(),
            shared: self.shared.clone(),
        }
    }
}

impl std::ops::Deref for LiveReference {
    type Target = ReferenceData;
    fn deref(&self) -> &ReferenceData {
        &self.current
    }
}

impl std::fmt::Debug for LiveReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveReference").finish_non_exhaustive()
    }
}

impl From<Arc<ReferenceData>> for LiveReference {
    fn from(data: Arc<ReferenceData>) -> Self {
        let data = Arc::try_unwrap(data).unwrap_or_else(|a| (*a).clone());
        Self::new(data, None)
    }
}

/// Opens the reference data of a server: on a database never seeded, the fixtures' units,
/// users and enterprises are written to it first (one transaction); then units, users and
/// enterprises are read from the database and validated with the fixtures' templates and
/// plans. Returns the data and the version it was read at.
pub fn open_from_database<C>(
    conn: &mut C,
    fixtures: ReferenceData,
) -> Result<(ReferenceData, i64), String>
where
    C: crate::store::Transactions,
    for<'a> C::Tx<'a>: ReferenceStore,
{
    use crate::store::Commit;
    let db = |e: crate::store::StoreError| e.to_string();
    let tx = conn.begin_immediate().map_err(db)?;
    let version = match tx.reference_version().map_err(db)? {
        Some(v) => v,
        None => {
            for unit in fixtures.units.units() {
                tx.insert_unit(unit).map_err(db)?;
            }
            for user in &fixtures.users {
                tx.insert_user(user).map_err(db)?;
            }
            for e in &fixtures.enterprises {
                tx.insert_enterprise(e).map_err(db)?;
            }
            tx.bump_reference_version().map_err(db)?
        }
    };
    let stored = tx.stored_reference().map_err(db)?;
    tx.commit().map_err(db)?;
    let data = ReferenceData::from_stored(stored, fixtures.templates, fixtures.plans)?;
    Ok((data, version))
}

/// Checks the database's reference version about once a second (`every`) and reloads when it
/// moved (see [`LiveReference::refresh`]), until the runtime stops.
pub fn watch(
    db: crate::db::Db,
    live: LiveReference,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    crate::periodically(every, move || {
        let (db, live) = (db.clone(), live.clone());
        async move {
            let result = db
                .read(move |conn| -> crate::error::ApiResult<bool> { Ok(live.refresh(conn)?) })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "checking the reference version failed");
            }
        }
    })
}
