//! Simplified Chinese first, English switchable. The language and the labels of the domain's
//! values are app-core's (`app_core::messages::Lang`), the same the console shows.

pub use app_core::messages::Lang;

pub fn kind_label(lang: Lang, k: app_core::kind::InspectionKind) -> &'static str {
    lang.kind(k)
}

pub fn status_label(lang: Lang, s: app_core::inspection::InspectionStatus) -> &'static str {
    lang.status(s)
}

/// The enforcement document a number (文号) belongs to.
pub fn document_label(lang: Lang, k: app_core::docnumber::DocumentKind) -> &'static str {
    lang.document(k)
}

/// A hazard stage by its stored name (shown as is when it is not one).
pub fn stage_label(lang: Lang, stage: &str) -> String {
    app_core::hazard::HazardStage::parse(stage)
        .map_or_else(|| stage.to_owned(), |s| lang.stage(s).to_owned())
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
        assert_eq!(stage_label(Lang::En, "ordered"), "Rectification ordered");
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
