//! The record a screen shows (the record and hazard screens), kept current by what each
//! edit answers: a whole view when the record is opened or signed, otherwise only what the
//! edit changed, applied to the view held.

use super::*;

/// What reaches a record screen: a whole view, or what one edit changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RecordUpdate {
    View(Box<RecordView>),
    Change(Box<RecordChange>),
}

impl From<RecordView> for RecordUpdate {
    fn from(v: RecordView) -> Self {
        RecordUpdate::View(Box::new(v))
    }
}

impl From<RecordChange> for RecordUpdate {
    fn from(c: RecordChange) -> Self {
        RecordUpdate::Change(Box::new(c))
    }
}

/// The view a record screen holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RecordState {
    pub(crate) view: Option<RecordView>,
    /// Counts the changes that found the view at another revision than theirs (a sync
    /// merged changes meanwhile, or answers overtook each other): the screen reloads the
    /// record whenever this moves.
    pub(crate) reloads: u32,
}

impl Reducible for RecordState {
    type Action = RecordUpdate;

    fn reduce(self: Rc<Self>, action: RecordUpdate) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            RecordUpdate::View(v) => next.view = Some(*v),
            RecordUpdate::Change(c) => {
                let applied = next.view.as_mut().is_some_and(|v| v.apply(*c));
                if !applied {
                    next.reloads += 1;
                }
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::inspection::{Inspection, ItemResult};

    fn view() -> RecordView {
        let record: Inspection = serde_json::from_value(serde_json::json!({
            "id": "r1", "kind": "routine", "unit": "xw",
            "enterprise": {"id": "e-001", "name": "企业", "uscc": "913201023AGYGLUY37",
                "address": "地址", "legal_representative": "张三", "phone": "1",
                "industry": "machinery"},
            "template": {"id": "t", "version": 1}, "plan": null, "created_at": 0,
            "created_by": "u-wang", "inspectors": {}, "arrival": null,
            "attestations": {"no_notice_given": false, "no_escort_accepted": false},
            "places": "", "summary": "", "results": {}, "hazards": {}, "onsite_person": null,
            "signatures": {}, "status": "on_site", "started_at": null, "completed_at": null,
            "review": null, "signed_versions": {}, "documents": {}
        }))
        .unwrap();
        let template = app_core::checklist::ChecklistTemplate::parse_toml(
            r#"
id = "t"
version = 1
name = "测试"
industries = ["machinery"]
published = "2026-11-01"
[[category]]
name = "基础管理"
[[category.item]]
code = "T-01"
text = "是否建立全员安全生产责任制"
basis = [{ source = "安全生产法", article = "第二十二条" }]
"#,
        )
        .unwrap();
        RecordView {
            record,
            template,
            signed: Vec::new(),
            revision: "r0".into(),
            to_number: Vec::new(),
            numbers: Vec::new(),
        }
    }

    fn answered(base: &str, revision: &str, answer: Answer) -> RecordChange {
        RecordChange {
            id: InspectionId::new("r1"),
            base: base.into(),
            revision: revision.into(),
            status: InspectionStatus::OnSite,
            changes: vec![api::FieldChange::Result(
                ItemCode::new("T-01"),
                Some(ItemResult {
                    answer: Some(answer),
                    ..ItemResult::default()
                }),
            )],
            signed: None,
            to_number: Vec::new(),
            numbers: Vec::new(),
        }
    }

    #[test]
    fn changes_apply_in_turn_to_the_view_held() {
        let s = Rc::new(RecordState::default()).reduce(view().into());
        let s = s.reduce(answered("r0", "r1", Answer::Fails).into());
        let s = s.reduce(answered("r1", "r2", Answer::Complies).into());
        let v = s.view.as_ref().unwrap();
        assert_eq!(v.revision, "r2");
        assert_eq!(
            v.record.results[&ItemCode::new("T-01")].answer,
            Some(Answer::Complies)
        );
        assert_eq!(s.reloads, 0);
    }

    #[test]
    fn a_change_made_on_another_revision_reloads_the_record_instead() {
        let s = Rc::new(RecordState::default()).reduce(view().into());
        let s = s.reduce(answered("r5", "r6", Answer::Fails).into());
        assert_eq!(s.reloads, 1);
        assert_eq!(
            s.view.as_ref().unwrap(),
            &view(),
            "the view is left as it was"
        );
        // Nothing loaded yet: the same.
        let empty =
            Rc::new(RecordState::default()).reduce(answered("r0", "r1", Answer::Fails).into());
        assert_eq!((empty.view.is_none(), empty.reloads), (true, 1));
        // The reload's view replaces it.
        let mut fresh = view();
        fresh.revision = "r6".into();
        let s = s.reduce(fresh.clone().into());
        assert_eq!(s.view.as_ref().unwrap(), &fresh);
    }
}
