//! What the enforcement documents say, worked out from a record: the 检查情况 drafted from
//! the answers for the inspector to edit.

use crate::checklist::ChecklistTemplate;
use crate::hazard::HazardLevel;
use crate::ids::{HazardId, ItemCode};
use crate::inspection::{Answer, Inspection};
use crate::legal::LegalBasis;
use serde::{Deserialize, Serialize};

/// The facts a 检查情况 draft is written from: the counts of the answers given to the items
/// that apply to the enterprise, the hazards, and the titles of the failed items in template
/// order. [`crate::messages`] writes them as text ([`SummaryFacts::zh`], [`SummaryFacts::en`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryFacts {
    pub checked: usize,
    pub complies: usize,
    pub fails: usize,
    pub not_applicable: usize,
    pub hazards: usize,
    pub major_hazards: usize,
    /// What each failed item checks (its text in the template), in template order.
    pub failed: Vec<String>,
}

/// The facts of `record`'s answers against `template` (the template it was made with).
/// Items outside the enterprise's categories are not counted; a failed item the template
/// does not know (it cannot happen through the rules) is listed by its code.
pub fn summary_facts(record: &Inspection, template: &ChecklistTemplate) -> SummaryFacts {
    let mut f = SummaryFacts::default();
    for item in template.items_for(record.enterprise.industry) {
        let Some(answer) = record.results.get(&item.code).and_then(|r| r.answer) else {
            continue;
        };
        f.checked += 1;
        match answer {
            Answer::Complies => f.complies += 1,
            Answer::Fails => {
                f.fails += 1;
                f.failed.push(item.text.trim().to_owned());
            }
            Answer::NotApplicable => f.not_applicable += 1,
        }
    }
    f.hazards = record.hazards.len();
    f.major_hazards = record
        .hazards
        .values()
        .filter(|h| h.level == HazardLevel::Major)
        .count();
    f
}

/// A failed checklist item (a finding) with the provisions it rests on, as the screens, the
/// console and the later penalty case read it: what was checked, the inspector's note, the
/// provisions violated (违法依据), the provisions that punish it (处罚依据), the clause that
/// makes it a major accident hazard (判定依据) if it is one, and the hazards registered on it.
/// Everything comes from the record and the template version it was made with (the record
/// keeps its [`crate::checklist::TemplateRef`], so a later version never changes it); a
/// registered hazard's own copy of the 处罚依据 comes first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub item: ItemCode,
    /// 检查内容: the item's text in the record's template version.
    pub text: String,
    pub note: String,
    /// 违法依据.
    pub basis: Vec<LegalBasis>,
    /// 处罚依据 (empty where the template version gives none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub penalty: Vec<LegalBasis>,
    /// 判定依据: present when failing the item is a 重大事故隐患.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_hazard: Option<LegalBasis>,
    /// The hazards registered on the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<HazardId>,
}

impl Finding {
    /// Whether the finding is a 重大事故隐患 (its item has a 判定依据).
    pub fn is_major_hazard(&self) -> bool {
        self.major_hazard.is_some()
    }
}

/// The findings of `record` (its items answered 不符合) against `template` (the version it
/// was made with), in template order.
pub fn findings(record: &Inspection, template: &ChecklistTemplate) -> Vec<Finding> {
    template
        .items_for(record.enterprise.industry)
        .filter_map(|item| {
            let result = record.results.get(&item.code)?;
            if result.answer != Some(Answer::Fails) {
                return None;
            }
            let hazards: Vec<&crate::hazard::Hazard> = record
                .hazards
                .values()
                .filter(|h| h.item.as_ref() == Some(&item.code))
                .collect();
            let penalty = hazards
                .iter()
                .find(|h| !h.penalty.is_empty())
                .map(|h| h.penalty.clone())
                .unwrap_or_else(|| item.penalty.clone());
            Some(Finding {
                item: item.code.clone(),
                text: item.text.clone(),
                note: result.note.clone(),
                basis: item.basis.clone(),
                penalty,
                major_hazard: item.major_hazard.clone(),
                hazards: hazards.iter().map(|h| h.id.clone()).collect(),
            })
        })
        .collect()
}

/// The 检查情况 drafted from the answers, in Chinese (the document's language), e.g.
/// `检查5项：符合3项，不符合1项，不涉及1项；发现隐患1项（重大隐患0项）：1. 安全出口畅通。`.
/// The inspector edits it before it is saved (`Command::SetSummary`).
pub fn draft_summary(record: &Inspection, template: &ChecklistTemplate) -> String {
    summary_facts(record, template).zh()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazard::HazardLevel;
    use crate::inspection::Answer;
    use crate::kind::InspectionKind;
    use crate::test_support::*;

    #[test]
    fn the_draft_counts_the_answers_and_names_the_failed_items() {
        let t = template();
        let mut r = new_record(InspectionKind::Unannounced);
        for (code, answer) in [
            ("T-01", Answer::Complies),
            ("T-02", Answer::NotApplicable),
            ("T-03", Answer::Fails),
        ] {
            r.results.entry(code.into()).or_default().answer = Some(answer);
        }
        let h = hazard("hz-1", "T-03", HazardLevel::Major);
        r.hazards.insert(h.id.clone(), h);
        let f = summary_facts(&r, &t);
        assert_eq!(
            (f.checked, f.complies, f.fails, f.not_applicable),
            (3, 1, 1, 1)
        );
        assert_eq!((f.hazards, f.major_hazards), (1, 1));
        assert_eq!(
            draft_summary(&r, &t),
            "检查3项：符合1项，不符合1项，不涉及1项；发现隐患1项（重大隐患1项）。不符合项：1. 粉尘爆炸危险场所是否设置泄爆装置。"
        );
        assert_eq!(
            f.en(),
            "Checked 3 items: 1 comply, 1 fail, 1 not applicable; 1 hazard(s) found (1 major). Failed: 1. 粉尘爆炸危险场所是否设置泄爆装置."
        );
    }

    #[test]
    fn a_visit_with_nothing_failed_says_so() {
        let t = template();
        let mut r = new_record(InspectionKind::Routine);
        r.results.entry("T-01".into()).or_default().answer = Some(Answer::Complies);
        // A note without an answer is not a checked item.
        r.results.entry("T-02".into()).or_default().note = "x".into();
        assert_eq!(
            draft_summary(&r, &t),
            "检查1项：符合1项，不符合0项，不涉及0项；发现隐患0项（重大隐患0项）。未发现不符合项。"
        );
    }
}
