//! Simplified Chinese first, English switchable.

use crate::types::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The text in this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn err(self, e: &ApiError) -> String {
        match self {
            Lang::Zh => e.zh.clone(),
            Lang::En => e.en.clone(),
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

pub fn kind_label(lang: Lang, k: app_core::kind::InspectionKind) -> &'static str {
    use app_core::kind::InspectionKind::*;
    match lang {
        Lang::Zh => k.label_zh(),
        Lang::En => match k {
            Unannounced => "Unannounced (四不两直)",
            RandomDraw => "Random draw (双随机)",
            Routine => "Routine",
            Campaign => "Campaign",
            Complaint => "Complaint follow-up",
            Reinspection => "Re-inspection",
        },
    }
}

pub fn status_label(lang: Lang, s: app_core::inspection::InspectionStatus) -> &'static str {
    use app_core::inspection::InspectionStatus::*;
    match lang {
        Lang::Zh => s.label_zh(),
        Lang::En => match s {
            Draft => "Draft",
            OnSite => "On site",
            Completed => "Completed (signed)",
            Submitted => "Submitted",
            Approved => "Approved",
            Returned => "Returned",
        },
    }
}

/// The enforcement document a number (文号) belongs to.
pub fn document_label(lang: Lang, k: app_core::docnumber::DocumentKind) -> &'static str {
    use app_core::docnumber::DocumentKind::*;
    match lang {
        Lang::Zh => k.title_zh(),
        Lang::En => match k {
            InspectionRecord => "On-site inspection record",
            RectificationOrder => "Rectification order",
            ReinspectionOpinion => "Re-inspection opinion",
            OnSiteMeasures => "On-site measures decision",
        },
    }
}

pub fn stage_label(lang: Lang, stage: &str) -> String {
    match (lang, app_core::hazard::HazardStage::parse(stage)) {
        (Lang::Zh, Some(s)) => s.label_zh().to_owned(),
        _ => stage.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_switches() {
        let lang = Lang::default();
        assert_eq!(lang.t("首页", "Home"), "首页");
        assert_eq!(lang.other().t("首页", "Home"), "Home");
        let e = crate::types::input_error("请输入密码", "password is empty", "password");
        assert_eq!(lang.err(&e), "请输入密码");
        assert_eq!(
            kind_label(lang, app_core::kind::InspectionKind::Unannounced),
            "四不两直"
        );
        assert_eq!(stage_label(lang, "ordered"), "责令整改");
        use app_core::docnumber::DocumentKind;
        assert_eq!(
            document_label(lang, DocumentKind::InspectionRecord),
            "现场检查记录"
        );
        assert_eq!(
            document_label(Lang::En, DocumentKind::RectificationOrder),
            "Rectification order"
        );
    }
}
