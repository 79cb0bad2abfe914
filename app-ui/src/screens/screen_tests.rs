//! The screens' logic without a webview: each screen's state is a `Reducible` driven by
//! actions, and the calls it makes go through an in-memory [`Backend`](crate::backend) that
//! plays the tablet, so what a tap does is checked natively.

use super::hazard::{ReinspectAction, ReinspectDraft, ReinspectForm, new_reinspection};
use super::hazard_form::{
    HazardDraft, HazardField, HazardFormAction, HazardFormState, new_hazard, prefill, register,
};
use super::item::{ItemAction, ItemState, answer_item, tap_answer};
use super::signing::{
    PersonDraft, PersonField, SigningAction, SigningState, blocker_lines, person_command,
    refusal_command,
};
use super::*;
use crate::backend::{InMemory, install};
use app_core::checklist::ChecklistTemplate;
use app_core::ids::UnitId;
use app_core::inspection::{EnterpriseSnapshot, Inspection, Unmet};
use app_core::settings::UnitSettings;
use app_core::signing::SignOffer;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Runs a future that needs no waking (an in-memory answer) to its end.
fn ready<T>(f: impl Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory answer is ready at once"),
    }
}

fn reduce<R: Reducible + Clone>(state: R, actions: impl IntoIterator<Item = R::Action>) -> R {
    let mut s = Rc::new(state);
    for a in actions {
        s = s.reduce(a);
    }
    (*s).clone()
}

/// The demo 工贸 checklist (`fixtures/checklists/gongmao.toml`).
fn template() -> ChecklistTemplate {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/checklists/gongmao.toml"
    );
    ChecklistTemplate::parse_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An ordinary item and a major-hazard one (重大事故隐患判定项) of [`template`].
fn items() -> (ItemCode, ItemCode) {
    let t = template();
    let plain = t.items().find(|i| !i.is_major_hazard()).unwrap();
    let major = t.items().find(|i| i.is_major_hazard()).unwrap();
    (plain.code.clone(), major.code.clone())
}

/// Record `insp-1`, on site, with the tablet's decisions as `GetRecord` would carry them.
fn view() -> RecordView {
    let template = template();
    let (plain, major) = items();
    let enterprise: EnterpriseSnapshot = serde_json::from_value(serde_json::json!({
        "id": "e-001", "name": "南京玄武精密机械有限公司", "uscc": "913201023AGYGLUY37",
        "address": "南京市玄武区红山路88号", "legal_representative": "李明",
        "phone": "025-84746093", "industry": "machinery"
    }))
    .unwrap();
    let mut record = Inspection::new_draft(
        InspectionId::new("insp-1"),
        InspectionKind::Routine,
        UnitId::new("xw"),
        enterprise,
        template.reference(),
        UserId::new("u-wang"),
        Timestamp(1_795_420_800_000),
    );
    record.status = InspectionStatus::OnSite;
    RecordView {
        record,
        template,
        signed: Vec::new(),
        revision: "r0".into(),
        signing: SignOffer {
            can_sign: true,
            can_submit: false,
            blockers: vec![
                Unmet::UnansweredItems(vec![plain, major]),
                Unmet::NoOnsitePerson,
            ],
        },
        to_number: vec![DocumentKind::InspectionRecord],
        numbers: Vec::new(),
        numbers_missing: Vec::new(),
        deadlines: UnitSettings::default().suggested_deadlines(Day::ymd(2026, 11, 23)),
    }
}

/// What `edit` changes in the record of `v`, as the tablet answers an edit (the next
/// revision, the parts that differ).
fn changed(v: &mut RecordView, edit: impl FnOnce(&mut Inspection)) -> RecordChange {
    let before = v.record.clone();
    edit(&mut v.record);
    let base = v.revision.clone();
    v.revision = format!("{base}+");
    RecordChange {
        id: v.record.id.clone(),
        base,
        revision: v.revision.clone(),
        status: v.record.status,
        changes: api::diff(&before, &v.record),
        signed: None,
        signing: v.signing.clone(),
        to_number: v.to_number.clone(),
        numbers: v.numbers.clone(),
        numbers_missing: v.numbers_missing.clone(),
    }
}

/// An in-memory tablet holding [`view`]: answers are recorded on the record, every request
/// is logged, anything else is refused.
fn tablet() -> Rc<RefCell<Vec<Request>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let state = Rc::new(RefCell::new(view()));
    let (seen, state2) = (log.clone(), state.clone());
    install(Rc::new(InMemory(move |request: Request| {
        seen.borrow_mut().push(request.clone());
        let mut v = state2.borrow_mut();
        match request {
            Request::GetRecord(_) => Ok(api::Answer::GetRecord(v.clone())),
            Request::ApplyCommand(api::ApplyCommand {
                command: Command::Answer { item, answer },
                ..
            }) => {
                let change = changed(&mut v, |r| {
                    r.results.entry(item).or_default().answer = answer;
                });
                Ok(api::Answer::ApplyCommand(change))
            }
            Request::RegisterHazard(r) if r.hazard.measures.trim().is_empty() => Err(
                ApiError::new(ErrorCode::Refused, "请填写整改措施", "no measures").at("measures"),
            ),
            Request::RegisterHazard(r) => {
                // The tablet mints the id; the screen sent none.
                let t = v.template.clone();
                let hid = HazardId::new("hz-6f1c2a9e-0000-4000-8000-000000000001");
                let commands = r.hazard.commands(hid, &t, Day::ymd(2026, 11, 23)).unwrap();
                let change = changed(&mut v, |r| {
                    if let Command::RegisterHazard(h) = &commands[0] {
                        r.hazards.insert(h.id.clone(), h.clone());
                    }
                });
                Ok(api::Answer::RegisterHazard(change))
            }
            other => Err(ApiError::internal(&format!("not in this test: {other:?}"))),
        }
    })));
    log
}

#[test]
fn answering_an_item_sends_the_answer_and_the_page_shows_the_record_that_comes_back() {
    let log = tablet();
    let (code, _) = items();
    let page = reduce(
        RecordPage::default(),
        [PageAction::Answer(ready(call(api::GetRecord {
            id: InspectionId::new("insp-1"),
        })))],
    );
    let shown = |p: &RecordPage| {
        p.view
            .as_ref()
            .unwrap()
            .record
            .results
            .get(&code)
            .and_then(|r| r.answer)
    };
    assert_eq!(shown(&page), None);
    let answer = ready(answer_item("insp-1", &code, None, Answer::Fails));
    let page = reduce(page, [PageAction::Changed(answer)]);
    assert_eq!(shown(&page), Some(Answer::Fails));
    assert_eq!(page.error, None);
    // Tapping the chosen answer again clears it.
    assert_eq!(tap_answer(Some(Answer::Fails), Answer::Fails), None);
    let answer = ready(answer_item(
        "insp-1",
        &code,
        Some(Answer::Fails),
        Answer::Fails,
    ));
    let page = reduce(page, [PageAction::Changed(answer)]);
    assert_eq!(shown(&page), None);
    assert_eq!(
        page.reloads, 0,
        "each change applied to the view it was made on"
    );
    assert_eq!(log.borrow().len(), 3, "one load, two taps");
    // A refusal stays on screen with the record as it was.
    let refused = ApiError::new(ErrorCode::Refused, "记录处于“已提交”状态", "frozen");
    let page = reduce(page, [PageAction::Answer(Err(refused.clone()))]);
    assert_eq!(page.error, Some(refused));
    assert!(page.view.is_some());
    // A change made on another revision (a sync merged meanwhile) reads the record again.
    let mut elsewhere = view();
    elsewhere.revision = "r9".into();
    let stale = changed(&mut elsewhere, |r| r.summary = "x".into());
    let before = page.view.clone();
    let page = reduce(page, [PageAction::Changed(Ok(stale))]);
    assert_eq!((page.reloads, &page.view), (1, &before));
    // The row's own state: a refusal, then a success clears it; the hazard form toggles.
    let row = reduce(
        ItemState::default(),
        [
            ItemAction::Typed("消防通道畅通".into()),
            ItemAction::Outcome(Some(input_error("x", "x", "note"))),
            ItemAction::Outcome(None),
            ItemAction::ToggleHazard,
        ],
    );
    assert_eq!(
        row,
        ItemState {
            note: "消防通道畅通".into(),
            error: None,
            show_hazard: true
        }
    );
}

#[test]
fn a_hazard_form_starts_from_the_item_and_the_unit_settings_and_the_tablet_mints_its_id() {
    let log = tablet();
    let v = view();
    let (_, code) = items();
    // A major-hazard item: major, its text, the major deadline from the unit's settings.
    let form = reduce(
        HazardFormState::default(),
        [HazardFormAction::Loaded {
            saved: None,
            prefill: prefill(&v, &code),
        }],
    );
    assert!(form.loaded && form.draft.major);
    assert_eq!(form.draft.description, v.template.item(&code).unwrap().text);
    assert_eq!(
        form.draft.deadline, "2027-02-21",
        "90 days for a major hazard"
    );
    // Made general: the suggested deadline follows; a deadline typed by hand stays.
    let general = reduce(form.clone(), [HazardFormAction::Major(false, v.deadlines)]);
    assert_eq!(
        general.draft.deadline, "2026-12-23",
        "30 days for a general one"
    );
    let typed = reduce(
        form.clone(),
        [
            HazardFormAction::Edit(HazardField::Deadline, "2026-12-01".into()),
            HazardFormAction::Major(false, v.deadlines),
        ],
    );
    assert_eq!(typed.draft.deadline, "2026-12-01");
    // A saved draft wins over the prefill.
    let saved = HazardDraft {
        started: true,
        measures: "已写的措施".into(),
        ..HazardDraft::default()
    };
    let resumed = reduce(
        HazardFormState::default(),
        [HazardFormAction::Loaded {
            saved: Some(saved.clone()),
            prefill: prefill(&v, &code),
        }],
    );
    assert_eq!(resumed.draft, saved);

    // Sent without measures: the tablet's rules refuse, shown next to the field.
    let refused = ready(register("insp-1", &code, &general.draft)).unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("measures"));
    let with_error = reduce(general.clone(), [HazardFormAction::Refused(refused)]);
    assert!(with_error.error.is_some());
    let filled = reduce(
        general,
        [HazardFormAction::Edit(
            HazardField::Measures,
            "加装泄爆装置".into(),
        )],
    );
    let answer = ready(register("insp-1", &code, &filled.draft)).unwrap();
    let h = answer
        .changes
        .iter()
        .find_map(|c| match c {
            api::FieldChange::Hazard(_, Some(h)) => Some(h),
            _ => None,
        })
        .unwrap();
    assert!(
        h.id.as_str().starts_with("hz-"),
        "the tablet's id: {}",
        h.id
    );
    // The form said general, but the item is a major-hazard situation: its hazard is major
    // (the screen offers no choice; app-core's `NewHazard::commands` decides).
    assert_eq!(h.level, HazardLevel::Major);
    assert!(matches!(
        log.borrow().last(),
        Some(Request::RegisterHazard(r)) if r.hazard.level == HazardLevel::General
            && r.hazard.deadline == Day::ymd(2026, 12, 23)
    ));
    // A date that does not read is the screen's to say; nothing is sent.
    let sent = log.borrow().len();
    let bad = HazardDraft {
        deadline: "明天".into(),
        ..filled.draft
    };
    assert_eq!(
        new_hazard(&bad, &code).unwrap_err().field.as_deref(),
        Some("deadline")
    );
    assert!(ready(register("insp-1", &code, &bad)).is_err());
    assert_eq!(log.borrow().len(), sent);
}

#[test]
fn the_sign_blockers_the_tablet_found_are_shown_in_the_screens_language() {
    let _log = tablet();
    let v = ready(call(api::GetRecord {
        id: InspectionId::new("insp-1"),
    }))
    .unwrap();
    let (plain, major) = items();
    assert_eq!(
        blocker_lines(Lang::Zh, &v),
        vec![
            format!("还有 2 个检查项未作答：{plain}、{major}"),
            "尚未记录企业现场负责人".to_owned()
        ]
    );
    assert_eq!(
        blocker_lines(Lang::En, &v)[1],
        Unmet::NoOnsitePerson.to_string()
    );
    let none = RecordView {
        signing: SignOffer::default(),
        ..v
    };
    assert!(blocker_lines(Lang::Zh, &none).is_empty());
}

#[test]
fn the_signing_form_fills_from_the_record_once_and_checks_what_the_screen_reads() {
    let person = OnsitePerson {
        name: "赵建国".into(),
        position: "安全主管".into(),
        phone: "13905171234".into(),
    };
    // The record's person fills a form nobody started, once the saved draft is read.
    let early = reduce(
        SigningState::default(),
        [SigningAction::Person(Some(person.clone()))],
    );
    assert_eq!(early.draft, PersonDraft::default());
    let filled = reduce(
        SigningState::default(),
        [
            SigningAction::Loaded(None),
            SigningAction::Person(Some(person.clone())),
        ],
    );
    assert_eq!(filled.draft.name, "赵建国");
    // What the inspector typed is not overwritten.
    let typed = reduce(
        SigningState::default(),
        [
            SigningAction::Loaded(None),
            SigningAction::Edit(PersonField::Name, "钱明".into()),
            SigningAction::Person(Some(person)),
        ],
    );
    assert_eq!(typed.draft.name, "钱明");
    assert!(matches!(
        person_command(&typed.draft),
        Ok(Command::SetOnsitePerson(p)) if p.name == "钱明"
    ));
    assert_eq!(
        person_command(&PersonDraft::default())
            .unwrap_err()
            .field
            .as_deref(),
        Some("person")
    );
    let at = Timestamp(1_795_420_800_000);
    assert_eq!(
        refusal_command(&typed.draft, "钱明", at)
            .unwrap_err()
            .field
            .as_deref(),
        Some("witness")
    );
    let witnessed = reduce(
        typed,
        [SigningAction::Edit(PersonField::Witness, " 刘洋 ".into())],
    );
    assert!(matches!(
        refusal_command(&witnessed.draft, "钱明", at),
        Ok(Command::Sign(Signature { outcome: SignOutcome::Refused { witness, .. }, .. })) if witness == "刘洋"
    ));
}

#[test]
fn a_reinspection_needs_its_outcome_and_for_a_failure_a_new_deadline() {
    let sha = Sha256Hex::of(b"photo").to_string();
    let form = reduce(
        ReinspectForm::default(),
        [
            ReinspectAction::Loaded(None),
            ReinspectAction::Note("防护罩已加装".into()),
            ReinspectAction::Photo(sha.clone(), "data:image/jpeg;base64,".into()),
        ],
    );
    assert_eq!(
        new_reinspection(&form.draft).unwrap_err().field.as_deref(),
        Some("outcome")
    );
    let failed = reduce(form.clone(), [ReinspectAction::Passed(false)]);
    assert_eq!(
        new_reinspection(&failed.draft)
            .unwrap_err()
            .field
            .as_deref(),
        Some("deadline")
    );
    let failed = reduce(failed, [ReinspectAction::Deadline("2026-12-31".into())]);
    let r = new_reinspection(&failed.draft).unwrap();
    assert_eq!(r.new_deadline, Some(Day::ymd(2026, 12, 31)));
    assert_eq!(r.photos, vec![Sha256Hex::parse(&sha).unwrap()]);
    let passed = reduce(form, [ReinspectAction::Passed(true)]);
    assert_eq!(new_reinspection(&passed.draft).unwrap().new_deadline, None);
    let recorded = reduce(passed, [ReinspectAction::Recorded]);
    assert_eq!(recorded.draft, ReinspectDraft::default());
}

#[test]
fn the_checklist_shows_the_machinery_sections_progress_and_the_next_unanswered_item() {
    use super::checklist::{folded, next_unanswered, progress_text, sections};
    let mut v = view();
    let t = v.template.clone();
    let secs = sections(&v.record, &t);
    let names: Vec<&str> = secs.iter().map(|s| s.name.as_str()).collect();
    // A 机械 enterprise: its own article, never 冶金/有色/建材/烟草.
    assert!(names.iter().any(|n| n.contains("机械")), "{names:?}");
    for other in ["冶金", "有色", "建材", "烟草"] {
        assert!(!names.iter().any(|n| n.contains(other)), "{names:?}");
    }
    let total: usize = secs.iter().map(|s| s.total).sum();
    assert_eq!(v.record.progress(&t), (0, total));
    assert_eq!(progress_text(Lang::Zh, (12, 43)), "已答 12/43");
    // The 专项 sections start folded; an opened one does not.
    let situational = secs.iter().find(|s| s.situational).unwrap();
    assert!(folded(situational, &Default::default()));
    assert!(!folded(
        situational,
        &[situational.name.clone()].into_iter().collect()
    ));
    // Answer the first item: the count moves and "next" skips it.
    let first = secs[0].unanswered[0].clone();
    let second = secs[0].unanswered[1].clone();
    let _ = changed(&mut v, |r| {
        r.results.entry(first.clone()).or_default().answer = Some(Answer::Complies);
    });
    let secs = sections(&v.record, &t);
    assert_eq!(v.record.progress(&t).0, 1);
    assert_eq!(secs[0].answered, 1);
    // "Next" is the first unanswered item below the bar, wrapping to the first.
    let next = next_unanswered(&secs, |_| true).unwrap();
    assert_eq!(next.1, second);
    let next = next_unanswered(&secs, |c| *c != second).unwrap();
    assert_ne!(next.1, second);
    let next = next_unanswered(&secs, |_| false).unwrap();
    assert_eq!(next.1, second, "wraps to the first unanswered");
    // 本节不涉及 names exactly the section's unanswered items (app-core's rule).
    assert_eq!(
        v.record.unanswered_in_section(&t, &secs[0].name).unwrap(),
        secs[0].unanswered
    );
    assert!(!secs[0].unanswered.contains(&first));
}

// ---- Penalty cases (issue 19) ---------------------------------------------------------

mod cases {
    use super::super::case::{
        CaseAction, CaseDrafts, CaseForm, CasePage, DraftAction, form_command, forms_at,
        interview_command, open_case, page_signature, propose_command, to_serve,
    };
    use super::*;
    use app_core::inspection::InspectorRef;
    use app_core::legal::LegalBasis;
    use app_core::penalty::{
        CaseCommand, CaseContext, CaseId, CaseServiceMethod, CaseSource, CaseStage, OpenCase,
        PageSigner, PenaltyCase, PenaltySettings, WorkCalendar,
    };
    use app_core::user::{CertificateNo, Role};

    fn inspector(id: &str, name: &str) -> User {
        User {
            id: UserId::new(id),
            name: name.into(),
            unit: UnitId::new("xw"),
            role: Role::Inspector {
                certificate: CertificateNo::parse(&format!("3201{id}01")).unwrap(),
            },
        }
    }

    /// A case of 王强 and 李娜 from record `insp-1`, just opened.
    fn case() -> PenaltyCase {
        let (wang, li) = (inspector("wang", "王强"), inspector("li", "李娜"));
        let r = |u: &User| InspectorRef {
            user: u.id.clone(),
            name: u.name.clone(),
            certificate: u.certificate().unwrap().clone(),
        };
        let basis = LegalBasis::new("安全生产法", "第九十七条").pending();
        let open = OpenCase {
            id: CaseId::new("case-1"),
            unit: UnitId::new("xw"),
            enterprise: view().record.enterprise,
            source: CaseSource::Inspection {
                inspection: InspectionId::new("insp-1"),
                item: None,
                hazard: None,
            },
            facts: "3名新员工未经安全培训上岗".into(),
            violated: vec![basis.clone()],
            penalty_basis: vec![basis],
            inspectors: vec![r(&wang), r(&li)],
        };
        let (settings, calendar) = (PenaltySettings::default(), WorkCalendar::default());
        let cx = CaseContext {
            actor: &wang,
            now: Timestamp(1_795_420_800_000),
            settings: &settings,
            calendar: &calendar,
            discretion: None,
        };
        PenaltyCase::open(open, &cx).unwrap()
    }

    fn case_view(case: PenaltyCase) -> CaseView {
        CaseView::new(case, Vec::new(), Vec::new(), true)
    }

    /// An in-memory tablet holding [`case`]: opening answers it, a command without facts is
    /// refused with the rule's text, every request is logged.
    fn tablet() -> Rc<RefCell<Vec<Request>>> {
        let log = Rc::new(RefCell::new(Vec::new()));
        let seen = log.clone();
        install(Rc::new(InMemory(move |request: Request| {
            seen.borrow_mut().push(request.clone());
            match request {
                Request::OpenCase(_) => Ok(api::Answer::OpenCase(case_view(case()))),
                Request::GetCase(_) => Ok(api::Answer::GetCase(case_view(case()))),
                Request::ApplyCase(api::ApplyCase {
                    command: CaseCommand::SetFacts { facts },
                    ..
                }) if facts.is_empty() => Err(app_core::penalty::CaseError::NoFacts.into()),
                Request::ApplyCase(api::ApplyCase {
                    command: CaseCommand::SetFacts { facts },
                    ..
                }) => {
                    let mut c = case();
                    c.facts = facts;
                    Ok(api::Answer::ApplyCase(case_view(c)))
                }
                other => Err(ApiError::internal(&format!("not in this test: {other:?}"))),
            }
        })));
        log
    }

    #[test]
    fn a_case_is_opened_from_a_failed_item_and_a_refusal_shows_the_rules_text() {
        let log = tablet();
        let opened = ready(open_case("insp-1", "GM-GL-01", "  ")).unwrap();
        assert_eq!(opened.case.id, CaseId::new("case-1"));
        // Facts left blank: the tablet takes the item's own.
        match &log.borrow()[0] {
            Request::OpenCase(o) => {
                assert_eq!(
                    (o.record.as_str(), o.item.as_str(), &o.facts),
                    ("insp-1", "GM-GL-01", &None)
                );
            }
            other => panic!("{other:?}"),
        }
        let page = reduce(CasePage::default(), [CaseAction::Answer(Ok(opened))]);
        // Facts emptied: refused with the rule's own text; the case stays on screen.
        let d = reduce(
            CaseDrafts::default(),
            [DraftAction::Set("facts", String::new())],
        );
        let refused = ready(super::super::case::apply_case(
            &CaseId::new("case-1"),
            form_command(CaseForm::Facts, &d, Timestamp(0)).unwrap(),
        ));
        let page = reduce(page, [CaseAction::Answer(refused)]);
        let e = page.error.clone().unwrap();
        assert_eq!(e.code, ErrorCode::Refused);
        assert_eq!(
            e.zh,
            app_core::messages::Bilingual::zh(&app_core::penalty::CaseError::NoFacts)
        );
        assert!(page.view.is_some());
        // New facts: the case that comes back is shown, the refusal gone.
        let d = reduce(d, [DraftAction::Set("facts", " 未培训即上岗 ".into())]);
        let answer = ready(super::super::case::apply_case(
            &CaseId::new("case-1"),
            form_command(CaseForm::Facts, &d, Timestamp(0)).unwrap(),
        ));
        let page = reduce(page, [CaseAction::Answer(answer)]);
        assert_eq!(page.view.unwrap().case.facts, "未培训即上岗");
        assert_eq!(page.error, None);
    }

    #[test]
    fn a_recordings_size_reads_in_megabytes_or_kilobytes() {
        use super::super::case::size_text;
        assert_eq!(size_text(1_000_000_000), "1000.0 MB");
        assert_eq!(size_text(3_000_024), "3.0 MB");
        assert_eq!(size_text(2_500), "3 KB");
    }

    #[test]
    fn the_screen_offers_the_inspectors_forms_of_the_stage() {
        assert_eq!(
            forms_at(CaseStage::Opened),
            vec![CaseForm::Facts, CaseForm::Measure, CaseForm::Resolve]
        );
        assert!(forms_at(CaseStage::Investigating).contains(&CaseForm::Interview));
        assert!(forms_at(CaseStage::Notified).contains(&CaseForm::Statement));
        assert!(forms_at(CaseStage::Decided).contains(&CaseForm::Service));
        assert!(forms_at(CaseStage::Executing).contains(&CaseForm::Payment));
        assert!(forms_at(CaseStage::LegalReview).is_empty());
        assert!(forms_at(CaseStage::Closed).is_empty());
    }

    #[test]
    fn an_interview_is_typed_page_by_page_and_signed_on_the_pad() {
        let c = case();
        let d = reduce(
            CaseDrafts::default(),
            [
                DraftAction::Started(Timestamp(1_000)),
                DraftAction::Started(Timestamp(2_000)),
                DraftAction::Set("interviewee", " 张三 ".into()),
                DraftAction::Set("position", "企业 安全管理员".into()),
                DraftAction::Set("place", "会议室".into()),
                DraftAction::Question(0, 0, "是否培训？".into()),
                DraftAction::Answer(0, 0, "没有。".into()),
                DraftAction::AddLine,
                DraftAction::NewPage,
                DraftAction::Question(1, 0, "有无记录？".into()),
                DraftAction::Answer(1, 0, "无。".into()),
                DraftAction::Answer(7, 0, "ignored".into()),
            ],
        );
        let CaseCommand::AddInterview { interview, number } =
            interview_command(&d, &c, &UserId::new("wang"), Timestamp(9_000))
        else {
            panic!("an interview");
        };
        assert_eq!(number, api::unnumbered(), "the tablet numbers it");
        assert_eq!(interview.interviewee.name, "张三");
        assert_eq!(
            (interview.started_at, interview.ended_at),
            (Timestamp(1_000), Timestamp(9_000))
        );
        assert_eq!(interview.asked_by, UserId::new("wang"));
        assert_eq!(
            interview.recorded_by,
            UserId::new("li"),
            "the other inspector"
        );
        // The blank line added on page 1 is dropped; two pages of one line each.
        assert_eq!(
            interview
                .pages
                .iter()
                .map(|p| p.lines.len())
                .collect::<Vec<_>>(),
            vec![1, 1]
        );
        // Once sent, the form starts empty again.
        let d = reduce(d, [DraftAction::Sent(CaseForm::Interview)]);
        assert_eq!(d, CaseDrafts::default());
        // A page signed with the pad's image, or refused before a witness.
        let image = Sha256Hex::of(b"png");
        let signed = page_signature(
            "iv-1",
            0,
            PageSigner::Interviewee,
            SignOutcome::Signed { image },
            Timestamp(5),
        );
        assert!(matches!(
            signed,
            CaseCommand::SignInterviewPage { page: 0, .. }
        ));
    }

    #[test]
    fn delivery_and_payment_are_read_from_their_fields() {
        let d = reduce(
            CaseDrafts::default(),
            [
                DraftAction::Set("document", "（玄武）应急罚告〔2026〕1号".into()),
                DraftAction::Set("method", "post".into()),
                DraftAction::Set("tracking", "EMS1234".into()),
            ],
        );
        match form_command(CaseForm::Service, &d, Timestamp(7)).unwrap() {
            CaseCommand::RecordService {
                document,
                method,
                at,
                ..
            } => {
                assert_eq!(document, "（玄武）应急罚告〔2026〕1号");
                assert_eq!(
                    method,
                    CaseServiceMethod::Post {
                        tracking: "EMS1234".into()
                    }
                );
                assert_eq!(at, Timestamp(7));
            }
            other => panic!("{other:?}"),
        }
        // A payment needs a day and an amount the tablet can read: refused by its field.
        let bad = reduce(
            CaseDrafts::default(),
            [
                DraftAction::Set("paid_on", "2026-12-07".into()),
                DraftAction::Set("amount", "两万".into()),
            ],
        );
        let e = form_command(CaseForm::Payment, &bad, Timestamp(0)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount"));
        let ok = reduce(bad, [DraftAction::Set("amount", "20000".into())]);
        assert!(matches!(
            form_command(CaseForm::Payment, &ok, Timestamp(0)).unwrap(),
            CaseCommand::RecordPayment {
                amount_yuan: 20_000,
                ..
            }
        ));
        // A just-opened case has nothing to deliver.
        assert!(to_serve(&case()).is_empty());
    }

    /// The proposal form: a circumstance of the unit's table must be chosen; the fine left
    /// empty is the table's suggestion, a typed one is sent as typed (the rules check the
    /// range), one the tablet cannot read is refused at its field.
    #[test]
    fn a_proposal_comes_from_a_circumstance_of_the_units_table() {
        let table = app_core::penalty::DiscretionTable::parse_toml(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../fixtures/demo/discretion/nj.toml"
            ))
            .unwrap(),
        )
        .unwrap();
        let case = case();
        let proposals = app_core::penalty::proposals(&table, &case.penalty_basis);
        assert_eq!(
            proposals
                .iter()
                .map(|p| p.discretion.row.as_str())
                .collect::<Vec<_>>(),
            ["97-1", "97-2", "97-3"]
        );
        assert!(forms_at(CaseStage::Investigating).contains(&CaseForm::Propose));
        let none = propose_command(&CaseDrafts::default(), &proposals).unwrap_err();
        assert_eq!(none.field.as_deref(), Some("circumstance"));
        let chosen = reduce(
            CaseDrafts::default(),
            [
                DraftAction::Set("circumstance", "97-1".into()),
                DraftAction::Set("reasons", " 首次发现，已改正 ".into()),
            ],
        );
        match propose_command(&chosen, &proposals).unwrap() {
            CaseCommand::ProposePenalty {
                circumstance,
                penalty,
                reasons,
            } => {
                assert_eq!(circumstance, "97-1");
                assert_eq!(penalty.fine_yuan, 20_000, "the middle of 10,000–30,000");
                assert!(
                    penalty
                        .other
                        .contains(&app_core::penalty::OtherPenalty::Warning)
                );
                assert_eq!(reasons, "首次发现，已改正");
            }
            c => panic!("{c:?}"),
        }
        let typed = reduce(chosen.clone(), [DraftAction::Set("fine", "15000".into())]);
        assert!(matches!(
            propose_command(&typed, &proposals).unwrap(),
            CaseCommand::ProposePenalty { penalty, .. } if penalty.fine_yuan == 15_000
        ));
        let bad = reduce(chosen, [DraftAction::Set("fine", "一万五".into())]);
        assert_eq!(
            propose_command(&bad, &proposals)
                .unwrap_err()
                .field
                .as_deref(),
            Some("fine")
        );
    }

    /// 现场处理措施 and 先行登记保存 from the tablet: the items one a line, the provisions one
    /// a line as written on paper (one the tablet cannot read is refused at its field), the
    /// number left to the tablet; a preservation's decision with its day.
    #[test]
    fn a_measure_and_a_preservations_decision_are_typed_on_the_tablet() {
        use app_core::penalty::MeasureKind;
        let typed = reduce(
            CaseDrafts::default(),
            [
                DraftAction::Set("measure_kind", "preservation".into()),
                DraftAction::Set(
                    "measure_items",
                    "培训签到表 1册（公司档案室）\n\n 员工花名册 1份 ".into(),
                ),
                DraftAction::Set("measure_basis", "《行政处罚法》第五十六条".into()),
            ],
        );
        match form_command(CaseForm::Measure, &typed, Timestamp(42)).unwrap() {
            CaseCommand::AddMeasure { measure, number } => {
                assert_eq!(measure.kind, MeasureKind::EvidencePreservation);
                assert_eq!(
                    measure.items,
                    ["培训签到表 1册（公司档案室）", "员工花名册 1份"]
                );
                assert_eq!(measure.basis.len(), 1);
                assert_eq!(measure.basis[0].article, "第五十六条");
                assert!(number.text.is_empty(), "the tablet numbers it");
            }
            c => panic!("{c:?}"),
        }
        let bad = reduce(
            typed,
            [DraftAction::Set("measure_basis", "第五十六条".into())],
        );
        let e = form_command(CaseForm::Measure, &bad, Timestamp(42)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("measure_basis"));
        let decided = reduce(
            CaseDrafts::default(),
            [
                DraftAction::Set("preservation", "m-42".into()),
                DraftAction::Set("outcome_on", "2026-12-08".into()),
                DraftAction::Set("outcome", "解除先行登记保存".into()),
            ],
        );
        match form_command(CaseForm::Resolve, &decided, Timestamp(42)).unwrap() {
            CaseCommand::ResolvePreservation { measure, outcome } => {
                assert_eq!(measure, "m-42");
                assert_eq!(outcome.on.to_string(), "2026-12-08");
                assert_eq!(outcome.decision, "解除先行登记保存");
            }
            c => panic!("{c:?}"),
        }
    }
}
