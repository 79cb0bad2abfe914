//! Reference data (units, users, enterprises, checklist templates, plans): loaded from the
//! fixtures folder and validated with app-core's rules at start-up, sent to each tablet
//! filtered by what its user may see.

use app_core::checklist::{ChecklistTemplate, TemplateLibrary};
use app_core::enterprise::Enterprise;
use app_core::plan::Plan;
use app_core::unit::{Unit, UnitTree};
use app_core::user::User;
use std::path::Path;

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

/// Units, users, enterprises and templates, validated together.
#[derive(Debug)]
pub struct ReferenceData {
    pub units: UnitTree,
    pub users: Vec<User>,
    pub enterprises: Vec<Enterprise>,
    pub templates: TemplateLibrary,
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
    /// `checklists/*.toml` below `fixtures`.
    pub fn load(fixtures: &Path) -> Result<Self, LoadError> {
        let units_path = fixtures.join("demo/units.json");
        let units: Vec<Unit> = json(&units_path)?;
        let units = UnitTree::new(units).map_err(|e| invalid(&units_path, e))?;
        let users_path = fixtures.join("demo/users.json");
        let users: Vec<User> = json(&users_path)?;
        if let Some(u) = users.iter().find(|u| units.get(&u.unit).is_none()) {
            return Err(invalid(
                &users_path,
                format!("user {} belongs to unknown unit {}", u.id, u.unit),
            ));
        }
        let enterprises_path = fixtures.join("demo/enterprises.json");
        let enterprises: Vec<Enterprise> = json(&enterprises_path)?;
        for e in &enterprises {
            if units.get(&e.unit).is_none() {
                return Err(invalid(
                    &enterprises_path,
                    format!("enterprise {} lies in unknown unit {}", e.id, e.unit),
                ));
            }
            if let Some(i) = &e.responsible_inspector
                && !users.iter().any(|u| &u.id == i && u.is_inspector())
            {
                return Err(invalid(
                    &enterprises_path,
                    format!("enterprise {}: {i} is not an inspector", e.id),
                ));
            }
        }
        let templates = Self::load_templates(fixtures)?;
        let plans_path = fixtures.join("demo/plans.json");
        let plans: Vec<Plan> = if plans_path.exists() {
            json(&plans_path)?
        } else {
            Vec::new()
        };
        for p in &plans {
            if units.get(&p.unit).is_none() || !enterprises.iter().any(|e| e.id == p.enterprise) {
                return Err(invalid(
                    &plans_path,
                    format!("plan {} names an unknown unit or enterprise", p.id),
                ));
            }
        }
        Ok(Self {
            units,
            users,
            enterprises,
            templates,
            plans,
        })
    }
}

impl ReferenceData {
    /// The checklist templates below `fixtures` and nothing else: no units, users,
    /// enterprises or plans (a server without the demo data, `demo.enabled = false`).
    pub fn load_checklists(fixtures: &Path) -> Result<Self, LoadError> {
        Ok(Self {
            units: UnitTree::new(Vec::new()).expect("an empty tree is valid"),
            users: Vec::new(),
            enterprises: Vec::new(),
            templates: Self::load_templates(fixtures)?,
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
pub use app_core::wire::http::ReferenceBundle;

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
            templates: self.templates.templates().to_vec(),
            plans,
        }
    }
}
