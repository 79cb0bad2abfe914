//! The console's two languages: Simplified Chinese first, English on request. Every text is
//! written in both at the place it is used (`lang.t("检查记录", "Inspections")`), so a page
//! cannot miss a translation; the labels of the domain's values (kinds, statuses, stages,
//! levels, answers) are app-core's table (`app_core::messages::Lang`), shared with the app.

use app_core::kind::InspectionKind;

/// The console's language and the labels it shows: app-core's, the same as the tablet app's.
pub use app_core::messages::Lang;

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
