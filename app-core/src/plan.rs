//! Inspection plans (检查计划): who is to inspect which enterprise. A sealed plan (a 四不两直
//! visit, or a drawn 双随机 target before the visit) may be seen only by its assigned
//! inspectors and their supervisors; see [`crate::access::can_view_plan`].

use crate::ids::{EnterpriseId, PlanId, UnitId, UserId};
use crate::kind::InspectionKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub unit: UnitId,
    pub kind: InspectionKind,
    pub enterprise: EnterpriseId,
    pub assigned: Vec<UserId>,
    pub sealed: bool,
    /// The 双随机 draw this plan came from (its id is the draw's seed record), if any.
    pub draw: Option<String>,
    /// Visit no later than this date (ISO `YYYY-MM-DD`), if set.
    pub due: Option<String>,
}
