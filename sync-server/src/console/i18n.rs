//! The console's two languages: Simplified Chinese first, English on request. Every text is
//! written in both at the place it is used (`lang.t("检查记录", "Inspections")`), so a page
//! cannot miss a translation.

use app_core::hazard::{HazardLevel, HazardStage};
use app_core::inspection::{Answer, InspectionStatus};
use app_core::kind::InspectionKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh" | "zh-CN" | "zh-Hans" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn kind(self, k: InspectionKind) -> &'static str {
        match self {
            Lang::Zh => k.label_zh(),
            Lang::En => match k {
                InspectionKind::Unannounced => "Unannounced (四不两直)",
                InspectionKind::RandomDraw => "Random draw (双随机)",
                InspectionKind::Routine => "Routine",
                InspectionKind::Campaign => "Campaign",
                InspectionKind::Complaint => "Complaint follow-up",
                InspectionKind::Reinspection => "Re-inspection",
            },
        }
    }

    pub fn status(self, s: InspectionStatus) -> &'static str {
        match self {
            Lang::Zh => s.label_zh(),
            Lang::En => match s {
                InspectionStatus::Draft => "Draft",
                InspectionStatus::OnSite => "On site",
                InspectionStatus::Completed => "Completed",
                InspectionStatus::Submitted => "Submitted",
                InspectionStatus::Approved => "Approved",
                InspectionStatus::Returned => "Returned",
            },
        }
    }

    pub fn stage(self, s: HazardStage) -> &'static str {
        match self {
            Lang::Zh => s.label_zh(),
            Lang::En => match s {
                HazardStage::Registered => "Registered",
                HazardStage::Ordered => "Rectification ordered",
                HazardStage::Rectified => "Rectified",
                HazardStage::Reinspected => "Re-inspected",
                HazardStage::Closed => "Closed",
            },
        }
    }

    pub fn level(self, l: HazardLevel) -> &'static str {
        match (self, l) {
            (Lang::Zh, HazardLevel::General) => "一般隐患",
            (Lang::Zh, HazardLevel::Major) => "重大隐患",
            (Lang::En, HazardLevel::General) => "General",
            (Lang::En, HazardLevel::Major) => "Major",
        }
    }

    pub fn answer(self, a: Option<Answer>) -> &'static str {
        match (self, a) {
            (Lang::Zh, Some(a)) => a.label_zh(),
            (Lang::Zh, None) => "未作答",
            (Lang::En, Some(Answer::Complies)) => "Complies",
            (Lang::En, Some(Answer::Fails)) => "Fails",
            (Lang::En, Some(Answer::NotApplicable)) => "Not applicable",
            (Lang::En, None) => "Not answered",
        }
    }

    pub fn yes_no(self, b: bool) -> &'static str {
        match (self, b) {
            (Lang::Zh, true) => "是",
            (Lang::Zh, false) => "否",
            (Lang::En, true) => "yes",
            (Lang::En, false) => "no",
        }
    }
}

/// A kind by its stored name (`unannounced`, …).
pub fn kind_from_str(s: &str) -> Option<InspectionKind> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

pub fn kind_str(k: InspectionKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
