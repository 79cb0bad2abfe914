//! Who may see and change what, as pure functions of the user's role and unit.
//!
//! - An inspector reads and writes the records of their own unit and the records they are
//!   on or assigned to; never a supervisor's decision.
//! - A supervisor reads the records of their unit's subtree and reviews (approves or returns)
//!   them; a supervisor does not edit what inspectors recorded.
//! - An admin maintains reference data (units, users, enterprises, templates) of their
//!   subtree and does not read enforcement records.
//! - Nobody sees sideways: a sibling unit's data is outside every rule above.
//! - A sealed plan (四不两直, or a drawn target before the visit) is visible only to its
//!   assigned inspectors and the supervisors above the plan's unit.
//!
//! The server enforces these on every endpoint; the tablet and console use them to decide
//! what to show.

use crate::enterprise::Enterprise;
use crate::ids::{UnitId, UserId};
use crate::inspection::Inspection;
use crate::plan::Plan;
use crate::unit::UnitTree;
use crate::user::{Role, User};
use serde::{Deserialize, Serialize};

/// What the access rules need to know about a record (the server keeps this in its index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordScope {
    pub unit: UnitId,
    /// Inspectors on the record.
    pub inspectors: Vec<UserId>,
    /// Inspectors assigned through the record's plan.
    pub assigned: Vec<UserId>,
}

impl RecordScope {
    pub fn of(record: &Inspection, plan: Option<&Plan>) -> Self {
        Self {
            unit: record.unit.clone(),
            inspectors: record.inspectors.keys().cloned().collect(),
            assigned: plan.map(|p| p.assigned.clone()).unwrap_or_default(),
        }
    }

    fn involves(&self, user: &UserId) -> bool {
        self.inspectors.contains(user) || self.assigned.contains(user)
    }
}

/// Whether `user`'s unit is `unit` or above it.
fn oversees(user: &User, unit: &UnitId, units: &UnitTree) -> bool {
    units.is_in_subtree(unit, &user.unit)
}

pub fn can_read_record(user: &User, record: &RecordScope, units: &UnitTree) -> bool {
    match user.role {
        Role::Inspector { .. } => record.unit == user.unit || record.involves(&user.id),
        Role::Supervisor => oversees(user, &record.unit, units),
        Role::Admin => false,
    }
}

/// Whether `user` may edit the record's content (answers, photos, hazards, signatures).
pub fn can_write_record(user: &User, record: &RecordScope, _units: &UnitTree) -> bool {
    match user.role {
        Role::Inspector { .. } => record.unit == user.unit || record.involves(&user.id),
        Role::Supervisor | Role::Admin => false,
    }
}

/// Whether `user` may create a new record in `unit`: an inspector of that unit, or one
/// assigned by a plan of that unit. Being listed on a record grants access to it, so the
/// listing cannot be what allows creating it: otherwise anyone could open a record in any
/// unit by naming themselves on it.
pub fn can_create_record(user: &User, unit: &UnitId, plan: Option<&Plan>) -> bool {
    user.is_inspector()
        && (&user.unit == unit
            || plan.is_some_and(|p| &p.unit == unit && p.assigned.contains(&user.id)))
}

/// Whether `user` may approve or return the record.
pub fn can_review_record(user: &User, record: &RecordScope, units: &UnitTree) -> bool {
    matches!(user.role, Role::Supervisor) && oversees(user, &record.unit, units)
}

pub fn can_read_plan(user: &User, plan: &Plan, units: &UnitTree) -> bool {
    match user.role {
        Role::Inspector { .. } if plan.sealed => plan.assigned.contains(&user.id),
        Role::Inspector { .. } => plan.unit == user.unit || plan.assigned.contains(&user.id),
        Role::Supervisor => oversees(user, &plan.unit, units),
        Role::Admin => false,
    }
}

/// Supervisors make plans (including draws) for their subtree.
pub fn can_write_plan(user: &User, plan: &Plan, units: &UnitTree) -> bool {
    matches!(user.role, Role::Supervisor) && oversees(user, &plan.unit, units)
}

/// Inspectors see the enterprises of their unit's subtree (their territory) and those they
/// are assigned to through a plan they can read; supervisors and admins their subtree.
pub fn can_read_enterprise(
    user: &User,
    enterprise: &Enterprise,
    units: &UnitTree,
    plans: &[Plan],
) -> bool {
    oversees(user, &enterprise.unit, units)
        || (user.is_inspector()
            && plans
                .iter()
                .any(|p| p.enterprise == enterprise.id && p.assigned.contains(&user.id)))
}

/// A new version of a checklist template for `unit` (and the units under it) is uploaded by
/// a supervisor (审核人) of that unit or above: they answer for what their inspectors check.
pub fn can_publish_checklist(user: &User, unit: &UnitId, units: &UnitTree) -> bool {
    matches!(user.role, Role::Supervisor) && oversees(user, unit, units)
}

/// Reference data (units, users, enterprises, templates) of `unit` is maintained by admins
/// of that unit or above.
pub fn can_manage_reference(user: &User, unit: &UnitId, units: &UnitTree) -> bool {
    matches!(user.role, Role::Admin) && oversees(user, unit, units)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enterprise::{Industry, RiskColour, SupervisionGrade};
    use crate::kind::InspectionKind;
    use crate::unit::tests::nanjing;
    use crate::uscc::Uscc;
    use crate::user::CertificateNo;

    fn user(id: &str, unit: &str, role: Role) -> User {
        User {
            id: UserId::from(id),
            name: id.into(),
            unit: UnitId::from(unit),
            role,
        }
    }

    fn inspector(id: &str, unit: &str) -> User {
        user(
            id,
            unit,
            Role::Inspector {
                certificate: CertificateNo::parse("32010220180012").unwrap(),
            },
        )
    }

    fn record(unit: &str, inspectors: &[&str]) -> RecordScope {
        RecordScope {
            unit: UnitId::from(unit),
            inspectors: inspectors.iter().map(|i| UserId::from(*i)).collect(),
            assigned: vec![],
        }
    }

    fn plan(unit: &str, assigned: &[&str], sealed: bool) -> Plan {
        Plan {
            id: "p1".into(),
            unit: UnitId::from(unit),
            kind: InspectionKind::Unannounced,
            enterprise: "e1".into(),
            assigned: assigned.iter().map(|i| UserId::from(*i)).collect(),
            sealed,
            draw: None,
            due: None,
        }
    }

    /// The full matrix of roles × units for records of 玄武区 (xw): the city (nj) is above it,
    /// 秦淮区 (qh) is its sibling, the street (xw-xjq) is below it.
    #[test]
    fn record_access_matrix() {
        let units = nanjing();
        let rec = record("xw", &["a", "b"]);
        // (user, read, write, review)
        let cases = [
            (inspector("a", "xw"), true, true, false),
            (inspector("c", "xw"), true, true, false),
            (inspector("d", "qh"), false, false, false),
            (inspector("e", "nj"), false, false, false),
            (inspector("f", "xw-xjq"), false, false, false),
            (user("s1", "xw", Role::Supervisor), true, false, true),
            (user("s2", "nj", Role::Supervisor), true, false, true),
            (user("s3", "qh", Role::Supervisor), false, false, false),
            (user("s4", "xw-xjq", Role::Supervisor), false, false, false),
            (user("ad", "nj", Role::Admin), false, false, false),
        ];
        for (u, read, write, review) in cases {
            assert_eq!(can_read_record(&u, &rec, &units), read, "read {}", u.id);
            assert_eq!(can_write_record(&u, &rec, &units), write, "write {}", u.id);
            assert_eq!(
                can_review_record(&u, &rec, &units),
                review,
                "review {}",
                u.id
            );
        }
    }

    #[test]
    fn records_are_created_only_in_ones_own_unit_or_through_an_assigned_plan() {
        let xw = UnitId::from("xw");
        assert!(can_create_record(&inspector("a", "xw"), &xw, None));
        assert!(
            !can_create_record(&inspector("d", "qh"), &xw, None),
            "sideways"
        );
        assert!(
            !can_create_record(&inspector("e", "nj"), &xw, None),
            "not even from above"
        );
        let p = plan("xw", &["d"], true);
        assert!(can_create_record(&inspector("d", "qh"), &xw, Some(&p)));
        assert!(!can_create_record(&inspector("x", "qh"), &xw, Some(&p)));
        assert!(!can_create_record(
            &user("s1", "xw", Role::Supervisor),
            &xw,
            None
        ));
    }

    #[test]
    fn an_inspector_from_elsewhere_on_the_record_may_read_and_write_it() {
        let units = nanjing();
        let mut rec = record("xw", &["a", "visitor"]);
        let visitor = inspector("visitor", "qh");
        assert!(can_read_record(&visitor, &rec, &units));
        assert!(can_write_record(&visitor, &rec, &units));
        rec.inspectors.retain(|u| u.as_str() != "visitor");
        assert!(!can_read_record(&visitor, &rec, &units));
        rec.assigned.push(UserId::from("visitor"));
        assert!(can_read_record(&visitor, &rec, &units));
    }

    #[test]
    fn sealed_plans_are_seen_only_by_assigned_inspectors_and_supervisors_above() {
        let units = nanjing();
        let sealed = plan("xw", &["a", "b"], true);
        assert!(can_read_plan(&inspector("a", "xw"), &sealed, &units));
        assert!(
            !can_read_plan(&inspector("c", "xw"), &sealed, &units),
            "a colleague of the same unit who is not assigned must not see a sealed plan"
        );
        assert!(can_read_plan(
            &user("s1", "xw", Role::Supervisor),
            &sealed,
            &units
        ));
        assert!(can_read_plan(
            &user("s2", "nj", Role::Supervisor),
            &sealed,
            &units
        ));
        assert!(!can_read_plan(
            &user("s3", "qh", Role::Supervisor),
            &sealed,
            &units
        ));
        assert!(!can_read_plan(
            &user("ad", "nj", Role::Admin),
            &sealed,
            &units
        ));
        let open = plan("xw", &["a", "b"], false);
        assert!(can_read_plan(&inspector("c", "xw"), &open, &units));
        assert!(!can_read_plan(&inspector("d", "qh"), &open, &units));
        assert!(can_write_plan(
            &user("s1", "xw", Role::Supervisor),
            &open,
            &units
        ));
        assert!(!can_write_plan(&inspector("a", "xw"), &open, &units));
    }

    #[test]
    fn enterprises_and_reference_data_follow_the_subtree() {
        let units = nanjing();
        let e = Enterprise {
            id: "e1".into(),
            name: "示例".into(),
            uscc: Uscc::parse("914403001922038216").unwrap(),
            address: String::new(),
            legal_representative: String::new(),
            phone: String::new(),
            industry: Industry::Machinery,
            risk: RiskColour::Blue,
            grade: SupervisionGrade::C,
            unit: UnitId::from("xw-xjq"),
            grid_cell: String::new(),
            responsible_inspector: None,
            position: None,
            blacklisted: false,
        };
        assert!(can_read_enterprise(&inspector("a", "xw"), &e, &units, &[]));
        assert!(!can_read_enterprise(&inspector("d", "qh"), &e, &units, &[]));
        let assigned = plan("qh", &["d"], true);
        assert!(can_read_enterprise(
            &inspector("d", "qh"),
            &e,
            &units,
            &[assigned]
        ));
        assert!(can_manage_reference(
            &user("ad", "nj", Role::Admin),
            &UnitId::from("xw"),
            &units
        ));
        assert!(!can_manage_reference(
            &user("ad", "qh", Role::Admin),
            &UnitId::from("xw"),
            &units
        ));
        assert!(!can_manage_reference(
            &user("s", "nj", Role::Supervisor),
            &UnitId::from("xw"),
            &units
        ));
    }
}
