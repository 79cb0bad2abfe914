//! The kinds of inspection.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// 四不两直: unannounced; the plan is sealed and the record carries arrival proof.
    Unannounced,
    /// 双随机: enterprise and inspectors drawn at random, results published (一公开).
    RandomDraw,
    /// 日常检查.
    Routine,
    /// 专项检查 (campaign).
    Campaign,
    /// 举报核查 (complaint follow-up).
    Complaint,
    /// 复查 (re-inspection of a rectification).
    Reinspection,
}

impl InspectionKind {
    pub const ALL: [InspectionKind; 6] = [
        InspectionKind::Unannounced,
        InspectionKind::RandomDraw,
        InspectionKind::Routine,
        InspectionKind::Campaign,
        InspectionKind::Complaint,
        InspectionKind::Reinspection,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            InspectionKind::Unannounced => "四不两直",
            InspectionKind::RandomDraw => "双随机",
            InspectionKind::Routine => "日常检查",
            InspectionKind::Campaign => "专项检查",
            InspectionKind::Complaint => "举报核查",
            InspectionKind::Reinspection => "复查",
        }
    }

    /// Planned enforcement checks (例行检查): the denominator of the 1/5 and 1/3 figures.
    /// Complaint follow-ups and re-inspections react to events and are not counted.
    pub fn is_routine_check(self) -> bool {
        !matches!(
            self,
            InspectionKind::Complaint | InspectionKind::Reinspection
        )
    }
}
