//! The inspector's penalty-case screens (行政处罚案件, issue 19): 立案 from a failed item of a
//! record, the case lists (a record's, and on home all the tablet's), and the case screen
//! (stage, deadlines with their warnings, inspectors, provisions, documents with their
//! numbers, interviews with their pages signed on the signature pad, and the forms of the
//! commands an inspector takes at the case's stage).
//!
//! Thin: every change is one `tablet-api` request (`OpenCase`, `ApplyCase`); the rules are
//! app-core's and a refusal shows the rule's own text; numbers (文号) are the tablet's, put in
//! by the tablet (a command carries `tablet_api::unnumbered()`). Which forms a stage shows
//! ([`forms_at`]) only chooses what to offer: whatever is sent, the rules decide.

use super::*;
use app_core::messages::case_screen as msg;
use app_core::penalty::{
    CaseCommand, CaseId, CaseServiceMethod, CaseSource, CaseStage, DeadlineState, Interview,
    InterviewPage, Interviewee, MeasureKind, MediaSource, OnSiteMeasure, PageSignature, PageSigner,
    Penalty, PenaltyCase, PreservationOutcome, Proposal, QuestionAnswer,
};
use std::collections::BTreeMap;

/// A case screen: the case as last answered, and the last refusal.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CasePage {
    pub(crate) view: Option<CaseView>,
    pub(crate) error: Option<ApiError>,
}

#[derive(Debug)]
pub(crate) enum CaseAction {
    /// The case as the tablet answered a load or a command, or why not.
    Answer(Result<CaseView, ApiError>),
}

impl Reducible for CasePage {
    type Action = CaseAction;

    fn reduce(self: Rc<Self>, action: CaseAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            CaseAction::Answer(Ok(v)) => {
                next.view = Some(v);
                next.error = None;
            }
            // A refusal keeps the case as it was (nothing was written).
            CaseAction::Answer(Err(e)) => next.error = Some(e),
        }
        Rc::new(next)
    }
}

/// The forms of the commands an inspector takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CaseForm {
    Facts,
    Interview,
    Measure,
    Resolve,
    Propose,
    Notify,
    Statement,
    Waive,
    RequestHearing,
    Service,
    Payment,
    Execution,
}

/// The forms the case screen offers at `stage` (after the table in `app_core::penalty`; the
/// supervisor's steps are not the inspector's). Only what to show: the rules decide.
pub(crate) fn forms_at(stage: CaseStage) -> Vec<CaseForm> {
    use CaseForm as F;
    use CaseStage as S;
    match stage {
        S::Opened => vec![F::Facts, F::Measure, F::Resolve],
        S::Investigating => vec![
            F::Facts,
            F::Interview,
            F::Measure,
            F::Resolve,
            F::Propose,
            F::Notify,
        ],
        S::Notified | S::Defence => vec![F::Service, F::Statement, F::Waive, F::RequestHearing],
        S::Decided => vec![F::Service],
        S::Served | S::Executing => vec![F::Payment, F::Execution],
        S::LegalReview | S::Closed => Vec::new(),
    }
}

/// What the inspector is typing in the case screen's forms (text fields by name, the
/// interview's pages of questions and answers).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaseDrafts {
    pub(crate) fields: BTreeMap<&'static str, String>,
    pub(crate) pages: Vec<Vec<(String, String)>>,
    /// When the interview form was opened (the interview's start).
    pub(crate) started: Option<Timestamp>,
}

impl Default for CaseDrafts {
    fn default() -> Self {
        Self {
            fields: BTreeMap::new(),
            pages: vec![vec![(String::new(), String::new())]],
            started: None,
        }
    }
}

impl CaseDrafts {
    pub(crate) fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }

    fn checked(&self, field: &str) -> bool {
        self.get(field) == "1"
    }
}

#[derive(Debug)]
pub(crate) enum DraftAction {
    Set(&'static str, String),
    Question(usize, usize, String),
    Answer(usize, usize, String),
    AddLine,
    NewPage,
    /// The interview form is being filled from `at` on (kept from the first keystroke).
    Started(Timestamp),
    /// A form's command went through: its fields start empty again.
    Sent(CaseForm),
}

/// The text fields of a form (cleared once its command went through).
fn fields_of(form: CaseForm) -> &'static [&'static str] {
    match form {
        CaseForm::Facts => &["facts"],
        CaseForm::Interview => &["interviewee", "position", "place"],
        CaseForm::Measure => &["measure_kind", "measure_items", "measure_basis"],
        CaseForm::Resolve => &["preservation", "outcome_on", "outcome"],
        CaseForm::Propose => &["circumstance", "fine", "reasons"],
        CaseForm::Notify => &[],
        CaseForm::Statement => &["speaker", "statement", "review"],
        CaseForm::Waive => &["waiver", "waive_statement", "waive_hearing"],
        CaseForm::RequestHearing => &["hearing_by"],
        CaseForm::Service => &[
            "document",
            "method",
            "recipient",
            "witness",
            "reason",
            "tracking",
            "address",
        ],
        CaseForm::Payment => &["paid_on", "amount", "receipt"],
        CaseForm::Execution => &["executed_on", "execution"],
    }
}

impl Reducible for CaseDrafts {
    type Action = DraftAction;

    fn reduce(self: Rc<Self>, action: DraftAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            DraftAction::Set(f, v) => {
                next.fields.insert(f, v);
            }
            DraftAction::Question(p, i, t) => {
                if let Some(line) = next.pages.get_mut(p).and_then(|page| page.get_mut(i)) {
                    line.0 = t;
                }
            }
            DraftAction::Answer(p, i, t) => {
                if let Some(line) = next.pages.get_mut(p).and_then(|page| page.get_mut(i)) {
                    line.1 = t;
                }
            }
            DraftAction::AddLine => {
                if let Some(page) = next.pages.last_mut() {
                    page.push((String::new(), String::new()));
                }
            }
            DraftAction::NewPage => next.pages.push(vec![(String::new(), String::new())]),
            DraftAction::Started(at) => {
                next.started.get_or_insert(at);
            }
            DraftAction::Sent(form) => {
                for f in fields_of(form) {
                    next.fields.remove(f);
                }
                if form == CaseForm::Interview {
                    next.pages = CaseDrafts::default().pages;
                    next.started = None;
                }
            }
        }
        Rc::new(next)
    }
}

/// The 询问笔录 typed in `d`, asked by `me` and recorded by the other inspector of `case`, at
/// `now` (its end): questions left blank are dropped, as are pages left without any.
pub(crate) fn interview_command(
    d: &CaseDrafts,
    case: &PenaltyCase,
    me: &UserId,
    now: Timestamp,
) -> CaseCommand {
    let recorded_by = case
        .inspectors
        .keys()
        .find(|u| *u != me)
        .unwrap_or(me)
        .clone();
    let pages = d
        .pages
        .iter()
        .map(|p| InterviewPage {
            lines: p
                .iter()
                .filter(|(q, a)| !q.trim().is_empty() || !a.trim().is_empty())
                .map(|(q, a)| QuestionAnswer {
                    question: q.trim().to_owned(),
                    answer: a.trim().to_owned(),
                })
                .collect(),
            signatures: Default::default(),
        })
        .filter(|p| !p.lines.is_empty())
        .collect();
    CaseCommand::AddInterview {
        interview: Interview {
            id: format!("iv-{}", now.0),
            number: String::new(),
            interviewee: Interviewee {
                name: d.get("interviewee").trim().to_owned(),
                position: d.get("position").trim().to_owned(),
                id_number: String::new(),
                phone: String::new(),
            },
            place: d.get("place").trim().to_owned(),
            started_at: d.started.unwrap_or(now),
            ended_at: now,
            asked_by: me.clone(),
            recorded_by,
            pages,
        },
        number: api::unnumbered(),
    }
}

/// The signature of `signer` on page `page` of interview `interview`: the pad's image, or
/// (the interviewee) a refusal before `witness`.
pub(crate) fn page_signature(
    interview: &str,
    page: usize,
    signer: PageSigner,
    outcome: SignOutcome,
    now: Timestamp,
) -> CaseCommand {
    CaseCommand::SignInterviewPage {
        interview: interview.to_owned(),
        page,
        signature: PageSignature {
            signer,
            outcome,
            at: now,
        },
    }
}

/// The command of a form without an interview: what the fields of `d` say, at `now`; an
/// entry the tablet cannot read (a day, an amount) is refused here, next to its field.
pub(crate) fn form_command(
    form: CaseForm,
    d: &CaseDrafts,
    now: Timestamp,
) -> Result<CaseCommand, ApiError> {
    let text = |f: &str| d.get(f).trim().to_owned();
    let refuse = |(zh, en): (&str, &str), field: &str| input_error(zh, en, field);
    Ok(match form {
        CaseForm::Facts => CaseCommand::SetFacts {
            facts: text("facts"),
        },
        CaseForm::Interview | CaseForm::Propose => {
            unreachable!("the interview and the proposal have their own commands")
        }
        CaseForm::Notify => CaseCommand::Notify {
            number: api::unnumbered(),
        },
        CaseForm::Statement => CaseCommand::RecordStatement {
            speaker: text("speaker"),
            text: text("statement"),
            review: text("review"),
            number: api::unnumbered(),
        },
        CaseForm::Waive => CaseCommand::Waive {
            speaker: text("waiver"),
            statement: d.checked("waive_statement"),
            hearing: d.checked("waive_hearing"),
        },
        CaseForm::RequestHearing => CaseCommand::RequestHearing {
            by: text("hearing_by"),
        },
        CaseForm::Service => {
            let recipient = text("recipient");
            let method = match d.get("method") {
                "left" => CaseServiceMethod::Left {
                    recipient,
                    witness: text("witness"),
                    reason: text("reason"),
                },
                "post" => CaseServiceMethod::Post {
                    tracking: text("tracking"),
                },
                "electronic" => CaseServiceMethod::Electronic {
                    address: text("address"),
                },
                _ => CaseServiceMethod::Direct { recipient },
            };
            CaseCommand::RecordService {
                document: text("document"),
                method,
                at: now,
                number: api::unnumbered(),
            }
        }
        CaseForm::Measure => {
            let lines = |f: &str| -> Vec<String> {
                d.get(f)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let basis = lines("measure_basis")
                .iter()
                .map(|l| app_core::checklist_sheet::parse_citation(l))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| refuse(msg::BAD_BASIS, "measure_basis"))?;
            CaseCommand::AddMeasure {
                measure: OnSiteMeasure {
                    id: format!("m-{}", now.0),
                    kind: if d.get("measure_kind") == "preservation" {
                        MeasureKind::EvidencePreservation
                    } else {
                        MeasureKind::OnSiteMeasures
                    },
                    number: String::new(),
                    at: now,
                    items: lines("measure_items"),
                    basis,
                    outcome: None,
                },
                number: api::unnumbered(),
            }
        }
        CaseForm::Resolve => CaseCommand::ResolvePreservation {
            measure: text("preservation"),
            outcome: PreservationOutcome {
                on: Day::parse(d.get("outcome_on").trim())
                    .map_err(|_| refuse(msg::BAD_DAY, "outcome_on"))?,
                decision: text("outcome"),
            },
        },
        CaseForm::Payment => CaseCommand::RecordPayment {
            on: Day::parse(d.get("paid_on").trim()).map_err(|_| refuse(msg::BAD_DAY, "paid_on"))?,
            amount_yuan: d
                .get("amount")
                .trim()
                .parse()
                .map_err(|_| refuse(msg::BAD_AMOUNT, "amount"))?,
            receipt: text("receipt"),
        },
        CaseForm::Execution => CaseCommand::RecordExecution {
            on: Day::parse(d.get("executed_on").trim())
                .map_err(|_| refuse(msg::BAD_DAY, "executed_on"))?,
            note: text("execution"),
        },
    })
}

/// The penalty proposed in `d` from one of the circumstances of the unit's discretion table
/// (`proposals`): the fine typed (or, left empty, the one the table suggests) and the other
/// penalties the circumstance carries.
pub(crate) fn propose_command(
    d: &CaseDrafts,
    proposals: &[Proposal],
) -> Result<CaseCommand, ApiError> {
    let chosen = d.get("circumstance");
    let p = proposals
        .iter()
        .find(|p| p.discretion.row == chosen)
        .ok_or_else(|| {
            input_error(
                msg::CHOOSE_CIRCUMSTANCE.0,
                msg::CHOOSE_CIRCUMSTANCE.1,
                "circumstance",
            )
        })?;
    let typed = d.get("fine").trim();
    let fine_yuan = if typed.is_empty() {
        p.suggested.fine_yuan
    } else {
        typed
            .parse()
            .map_err(|_| input_error(msg::BAD_FINE.0, msg::BAD_FINE.1, "fine"))?
    };
    Ok(CaseCommand::ProposePenalty {
        circumstance: p.discretion.row.clone(),
        penalty: Penalty {
            fine_yuan,
            other: p.suggested.other.clone(),
        },
        reasons: d.get("reasons").trim().to_owned(),
    })
}

/// The numbers of the case's served documents (告知书, 决定书, 现场处理措施决定书, 先行登记保存
/// 证据通知书) that no delivery is recorded for yet.
pub(crate) fn to_serve(case: &PenaltyCase) -> Vec<(String, &'static str, &'static str)> {
    case.documents_in_file_order()
        .into_iter()
        .filter(|d| d.kind.is_served())
        .filter(|d| !case.services.iter().any(|s| s.document == d.number))
        .map(|d| (d.number.clone(), d.kind.title_zh(), d.kind.title_en()))
        .collect()
}

/// Applies `command` to case `id`; the answer (the case, or the refusal) goes to `answer`.
pub(crate) async fn apply_case(id: &CaseId, command: CaseCommand) -> Result<CaseView, ApiError> {
    call(api::ApplyCase {
        case: id.clone(),
        command,
    })
    .await
}

/// Opens a case from failed item `item` of record `record` (`facts` empty: the tablet's own).
pub(crate) async fn open_case(record: &str, item: &str, facts: &str) -> Result<CaseView, ApiError> {
    call(api::OpenCase {
        record: InspectionId::new(record),
        item: ItemCode::new(item),
        facts: Some(facts.trim().to_owned()).filter(|f| !f.is_empty()),
    })
    .await
}

/// The record the case was opened from, if it was.
fn source_record(case: &PenaltyCase) -> Option<String> {
    match &case.source {
        CaseSource::Inspection { inspection, .. } => Some(inspection.to_string()),
        _ => None,
    }
}

fn deadline_class(s: DeadlineState) -> &'static str {
    match s {
        DeadlineState::Overdue | DeadlineState::MetLate => "error",
        DeadlineState::DueSoon => "warn",
        _ => "muted",
    }
}

// ---------------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub(crate) struct CaseListProps {
    /// The record whose cases are listed; none: every case on the tablet.
    pub(crate) record: Option<String>,
}

/// A list of cases, each with its stage, its next deadline and a button to open it.
#[function_component]
pub(crate) fn CaseList(props: &CaseListProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let rows = use_state(|| None::<Result<Vec<CaseRow>, ApiError>>);
    {
        let rows = rows.clone();
        use_effect_with(props.record.clone(), move |record| {
            let record = record.clone().map(InspectionId::new);
            spawn_local(async move { rows.set(Some(call(api::ListCases { record }).await)) });
        });
    }
    let list = match &*rows {
        None => html! { <p class="muted">{ l.pick(msg::LOADING) }</p> },
        Some(Err(e)) => error_view(l, &Some(e.clone())),
        Some(Ok(rows)) if rows.is_empty() => html! { <p class="muted">{ l.pick(msg::NONE) }</p> },
        Some(Ok(rows)) => html! { <>{ for rows.iter().map(|r| {
            let open = { let go = ctx.go.clone(); let id = r.id.to_string(); Callback::from(move |_| go.emit(Route::Case(id.clone()))) };
            html! {
                <div class="card case-row" id={format!("case-{}", r.id)}>
                    <div class="row">
                        <strong style="flex: 1">{ &r.enterprise_name }</strong>
                        <span class="badge case-stage">{ l.case_stage(r.stage) }</span>
                        if let Some(d) = r.deadline { <span class="muted">{ format!("{} {}", l.pick(msg::DUE), l.day(d)) }</span> }
                        if r.conflicts > 0 { <span class="badge warn">{ format!("{} {}", l.pick(msg::CONFLICTS), r.conflicts) }</span> }
                        <button class="open-case" onclick={open}>{ l.pick(msg::OPEN) }</button>
                    </div>
                </div>
            }
        }) }</> },
    };
    html! {
        <section class="cases">
            <h3>{ l.pick(msg::CASES) }</h3>
            { list }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct RecordCasesProps {
    pub(crate) view: RecordView,
}

/// On the record screen: 立案 from a failed item (its facts; the provisions are the item's),
/// and the record's cases.
#[function_component]
pub(crate) fn RecordCases(props: &RecordCasesProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let chosen = use_state(|| None::<String>);
    let facts = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let failed: Vec<(String, String)> = r
        .results
        .iter()
        .filter(|(_, res)| res.answer == Some(Answer::Fails))
        .map(|(code, _)| {
            let text = props
                .view
                .template
                .item(code)
                .map(|i| i.text.clone())
                .unwrap_or_default();
            (code.to_string(), text)
        })
        .collect();
    let submit = {
        let (record, chosen, facts, error, go) = (
            r.id.to_string(),
            chosen.clone(),
            facts.clone(),
            error.clone(),
            ctx.go.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(item) = (*chosen).clone() else {
                return;
            };
            let (record, facts, error, go) =
                (record.clone(), (*facts).clone(), error.clone(), go.clone());
            spawn_local(async move {
                match open_case(&record, &item, &facts).await {
                    Ok(v) => go.emit(Route::Case(v.case.id.to_string())),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section id="record-cases">
            if !failed.is_empty() {
                <h3>{ l.pick(msg::OPEN_CASE) }</h3>
                { for failed.iter().map(|(code, text)| {
                    let pick = { let (chosen, code) = (chosen.clone(), code.clone()); Callback::from(move |_| chosen.set(Some(code.clone()))) };
                    let open = chosen.as_deref() == Some(code.as_str());
                    html! {
                        <div class="card failed-item" id={format!("case-item-{code}")}>
                            <div><strong>{ format!("{code} ") }</strong>{ text }</div>
                            if open {
                                <label for="case-facts">{ l.pick(msg::FACTS) }</label>
                                <textarea id="case-facts" rows="3" placeholder={l.pick(msg::FACTS_HINT)} value={(*facts).clone()}
                                    oninput={{ let f = facts.clone(); Callback::from(move |e: InputEvent| f.set(area_value(&e))) }} />
                                <div class="row">
                                    <button id="open-case" onclick={submit.clone()}>{ l.pick(msg::OPEN_CASE) }</button>
                                    <button class="secondary" onclick={{ let c = chosen.clone(); Callback::from(move |_| c.set(None)) }}>{ l.pick(msg::CANCEL) }</button>
                                </div>
                                { error_view(l, &error) }
                            } else {
                                <button class="open-case-for secondary" onclick={pick}>{ l.pick(msg::OPEN_CASE_FOR) }</button>
                            }
                        </div>
                    }
                }) }
            }
            <CaseList record={Some(r.id.to_string())} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct CaseProps {
    pub(crate) id: String,
}

/// The case screen.
#[function_component]
pub(crate) fn CaseScreen(props: &CaseProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let page = use_reducer(CasePage::default);
    let drafts = use_reducer(CaseDrafts::default);
    {
        let answer = page.dispatcher().to_callback().reform(CaseAction::Answer);
        use_effect_with(props.id.clone(), move |id| {
            let id = CaseId::new(id.clone());
            spawn_local(async move { answer.emit(call(api::GetCase { case: id }).await) });
        });
    }
    let error = page.error.clone();
    let Some(v) = &page.view else {
        return html! { <>{ error_view(l, &error) }<p>{ l.pick(msg::LOADING) }</p></> };
    };
    let case = &v.case;
    let id = case.id.clone();
    let me = ctx
        .user
        .as_ref()
        .map(|u| u.id.clone())
        .unwrap_or_else(|| UserId::new(""));
    // Sends `command`; once it went through, the form's fields are cleared.
    let send = {
        let (answer, drafts_d, id) = (page.dispatcher(), drafts.dispatcher(), id.clone());
        Rc::new(move |form: Option<CaseForm>, command: CaseCommand| {
            let (answer, drafts_d, id) = (answer.clone(), drafts_d.clone(), id.clone());
            spawn_local(async move {
                let result = apply_case(&id, command).await;
                if let (Ok(_), Some(form)) = (&result, form) {
                    drafts_d.dispatch(DraftAction::Sent(form));
                }
                answer.dispatch(CaseAction::Answer(result));
            });
        })
    };
    let submit = |form: CaseForm| {
        let (send, drafts, page, me, case, proposals) = (
            send.clone(),
            drafts.clone(),
            page.dispatcher(),
            me.clone(),
            case.clone(),
            v.proposals.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let now = Timestamp(now_ms());
            let command = match form {
                CaseForm::Interview => Ok(interview_command(&drafts, &case, &me, now)),
                CaseForm::Propose => propose_command(&drafts, &proposals),
                _ => form_command(form, &drafts, now),
            };
            match command {
                Ok(c) => send(Some(form), c),
                Err(e) => page.dispatch(CaseAction::Answer(Err(e))),
            }
        })
    };
    let set = |field: &'static str| {
        let d = drafts.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(DraftAction::Set(field, input_value(&e))))
    };
    let set_area = |field: &'static str| {
        let d = drafts.dispatcher();
        Callback::from(move |e: InputEvent| d.dispatch(DraftAction::Set(field, area_value(&e))))
    };
    let set_select = |field: &'static str| {
        let d = drafts.dispatcher();
        Callback::from(move |e: Event| d.dispatch(DraftAction::Set(field, select_value(&e))))
    };
    let toggle = |field: &'static str| {
        let d = drafts.dispatcher();
        let on = drafts.checked(field);
        Callback::from(move |_: MouseEvent| {
            d.dispatch(DraftAction::Set(
                field,
                if on { "0" } else { "1" }.to_owned(),
            ))
        })
    };
    let input = |field: &'static str, label: (&'static str, &'static str)| {
        let fid = format!("case-{field}");
        html! {
            <div class="field">
                <label for={fid.clone()}>{ l.pick(label) }</label>
                <input id={fid} value={drafts.get(field).to_owned()} oninput={set(field)} />
                { field_error(l, &error, field) }
            </div>
        }
    };
    let area = |field: &'static str, label: (&'static str, &'static str)| {
        let fid = format!("case-{field}");
        html! {
            <div class="field">
                <label for={fid.clone()}>{ l.pick(label) }</label>
                <textarea id={fid} rows="3" value={drafts.get(field).to_owned()} oninput={set_area(field)} />
            </div>
        }
    };
    let button = |form: CaseForm, bid: &'static str, label: (&'static str, &'static str)| {
        html! {
            <button id={bid} onclick={submit(form)}>{ l.pick(label) }</button>
        }
    };

    // Header: the party, the stage, the filing day.
    let header = html! {
        <div class="card">
            <div class="row">
                <h2 style="flex: 1; border: none; margin: 0" id="case-title">{ &case.enterprise.name }</h2>
                <span class="badge" id="case-stage">{ format!("{}：{}", l.pick(msg::STAGE), l.case_stage(v.stage)) }</span>
                if v.unsynced { <span class="badge warn">{ l.pick(msg::UNSYNCED) }</span> }
            </div>
            <div class="muted">{ format!("{}：{}", l.pick(msg::OPENED_ON), case.opened_on().map(|d| l.day(d)).unwrap_or_else(|| l.pick(msg::AWAITING_APPROVAL).to_owned())) }</div>
            <div id="case-facts-text">{ format!("{}：{}", l.pick(msg::FACTS), case.facts) }</div>
            <div class="muted">{ format!("{}：{}", l.pick(msg::VIOLATED), l.bases(&case.violated)) }</div>
            <div class="muted">{ format!("{}：{}", l.pick(msg::PENALTY_BASIS), l.bases(&case.penalty_basis)) }</div>
            if let Some(rid) = source_record(case) {
                <button class="secondary" onclick={{ let go = ctx.go.clone(); Callback::from(move |_| go.emit(Route::Record(rid.clone()))) }}>{ l.pick(msg::BACK_TO_RECORD) }</button>
            }
        </div>
    };
    let deadlines = html! {
        <section id="case-deadlines">
            <h3>{ l.pick(msg::DEADLINES) }</h3>
            if v.deadlines.is_empty() { <p class="muted">{ l.pick(msg::NONE) }</p> }
            { for v.deadlines.iter().map(|d| html! {
                <div class={classes!("deadline", deadline_class(d.state))}>
                    { format!("{} · {} {}", l.deadline_kind(&d.kind), l.pick(msg::DUE), l.day(d.due)) }
                    if let Some(m) = d.met_on { { format!(" · {} {}", l.pick(msg::MET_ON), l.day(m)) } }
                    <span class="badge deadline-state">{ l.deadline_state(d.state) }</span>
                </div>
            }) }
        </section>
    };
    let inspectors = html! {
        <section id="case-inspectors">
            <h3>{ l.pick(msg::INSPECTORS) }</h3>
            { for case.inspectors.values().map(|i| html! {
                <div>{ format!("{}（{} {}）", i.name, l.pick(msg::CERTIFICATE), i.certificate.as_str()) }</div>
            }) }
        </section>
    };
    let documents = html! {
        <section id="case-documents">
            <h3>{ l.pick(msg::DOCUMENTS) }</h3>
            if case.documents.is_empty() { <p class="muted">{ l.pick(msg::NUMBER_AT_ISSUE) }</p> }
            { for case.documents_in_file_order().into_iter().map(|d| html! {
                <div class="case-document">{ format!("{} {}", l.case_document(d.kind), d.number) }</div>
            }) }
        </section>
    };
    let trouble = html! {
        <>
            if !v.conflicts.is_empty() {
                <div class="card warn" id="case-conflicts">{ format!("{}：{}", l.pick(msg::CONFLICTS), v.conflicts.len()) }</div>
            }
            if !v.violations.is_empty() {
                <div class="card warn" id="case-violations">
                    <strong>{ l.pick(msg::BROKEN) }</strong>
                    { for v.violations.iter().map(|t| html! { <div>{ l.t(&t.zh, &t.en) }</div> }) }
                </div>
            }
        </>
    };
    // The interviews, each page with its lines and its signatures (pads for those missing).
    let interviews = html! {
        <section id="case-interviews">
            <h3>{ l.pick(msg::INTERVIEWS) }</h3>
            if case.interviews.is_empty() { <p class="muted">{ l.pick(msg::NONE) }</p> }
            { for case.interviews.values().map(|iv| {
                let name_of = |s: &PageSigner| match s {
                    PageSigner::Interviewee => format!("{} {}", l.pick(msg::INTERVIEWEE), iv.interviewee.name),
                    PageSigner::Inspector(u) => format!("{} {}", l.pick(msg::INSPECTORS), case.inspectors.get(u).map_or(u.to_string(), |i| i.name.clone())),
                };
                html! {
                    <div class="card interview" id={format!("iv-{}", iv.id)}>
                        <strong>{ format!("{} {} · {}", l.pick(msg::INTERVIEWS), iv.number, iv.interviewee.name) }</strong>
                        <div class="muted">{ format!("{}：{} · {}：{}", l.pick(msg::ASKED_BY), name_of(&PageSigner::Inspector(iv.asked_by.clone())), l.pick(msg::RECORDED_BY), name_of(&PageSigner::Inspector(iv.recorded_by.clone()))) }</div>
                        { for iv.pages.iter().enumerate().map(|(n, p)| html! {
                            <div class="interview-page">
                                <em>{ l.pick(msg::PAGE).replace("{n}", &(n + 1).to_string()) }</em>
                                { for p.lines.iter().map(|qa| html! {
                                    <div class="qa">
                                        <div>{ format!("{}：{}", l.pick(msg::QUESTION), qa.question) }</div>
                                        <div>{ format!("{}：{}", l.pick(msg::ANSWER), qa.answer) }</div>
                                    </div>
                                }) }
                                { for iv.signers().into_iter().map(|s| {
                                    let done = p.signatures.contains_key(&s.key());
                                    let pad = format!("{}-{}-{}", iv.id, n, s.key().replace(':', "-"));
                                    let on_signed = {
                                        let (send, ivid, s) = (send.clone(), iv.id.clone(), s.clone());
                                        Callback::from(move |sha: String| {
                                            let Ok(image) = Sha256Hex::parse(&sha) else { return };
                                            send(None, page_signature(&ivid, n, s.clone(), SignOutcome::Signed { image }, Timestamp(now_ms())));
                                        })
                                    };
                                    let refuse = {
                                        let (send, ivid, drafts) = (send.clone(), iv.id.clone(), drafts.clone());
                                        Callback::from(move |_: MouseEvent| {
                                            let outcome = SignOutcome::Refused {
                                                witness: drafts.get("refusal_witness").trim().to_owned(),
                                                note: drafts.get("refusal_note").trim().to_owned(),
                                            };
                                            send(None, page_signature(&ivid, n, PageSigner::Interviewee, outcome, Timestamp(now_ms())));
                                        })
                                    };
                                    html! {
                                        <>
                                            <SignPad pad_id={pad} title={format!("{}：{}", l.pick(msg::SIGN_PAGE), name_of(&s))} done={done} enabled={!done} on_signed={on_signed} />
                                            if !done && s == PageSigner::Interviewee {
                                                <div class="card refusal">
                                                    <strong>{ l.pick(msg::REFUSED) }</strong>
                                                    { input("refusal_witness", msg::WITNESS) }
                                                    { input("refusal_note", msg::NOTE) }
                                                    <button class="secondary record-refusal" onclick={refuse}>{ l.pick(msg::RECORD_REFUSAL) }</button>
                                                </div>
                                            }
                                        </>
                                    }
                                }) }
                            </div>
                        }) }
                    </div>
                }
            }) }
        </section>
    };
    // The interview being typed: pages of questions and answers.
    let interview_form = {
        let d = drafts.dispatcher();
        let started = {
            let d = d.clone();
            Callback::from(move |_: FocusEvent| {
                d.dispatch(DraftAction::Started(Timestamp(now_ms())))
            })
        };
        html! {
            <div class="card" id="interview-form" onfocusin={started}>
                <strong>{ l.pick(msg::ADD_INTERVIEW) }</strong>
                { input("interviewee", msg::INTERVIEWEE) }
                { input("position", msg::POSITION) }
                { input("place", msg::PLACE) }
                { for drafts.pages.iter().enumerate().map(|(p, lines)| html! {
                    <div class="interview-page">
                        <em>{ l.pick(msg::PAGE).replace("{n}", &(p + 1).to_string()) }</em>
                        { for lines.iter().enumerate().map(|(i, (q, a))| {
                            let (dq, da) = (d.clone(), d.clone());
                            html! {
                                <div class="qa">
                                    <input class="question" placeholder={l.pick(msg::QUESTION)} value={q.clone()}
                                        oninput={Callback::from(move |e: InputEvent| dq.dispatch(DraftAction::Question(p, i, input_value(&e))))} />
                                    <textarea class="answer" rows="2" placeholder={l.pick(msg::ANSWER)} value={a.clone()}
                                        oninput={Callback::from(move |e: InputEvent| da.dispatch(DraftAction::Answer(p, i, area_value(&e))))} />
                                </div>
                            }
                        }) }
                    </div>
                }) }
                <div class="row">
                    <button class="secondary" id="add-line" onclick={{ let d = d.clone(); Callback::from(move |_| d.dispatch(DraftAction::AddLine)) }}>{ l.pick(msg::ADD_LINE) }</button>
                    <button class="secondary" id="new-page" onclick={{ let d = d.clone(); Callback::from(move |_| d.dispatch(DraftAction::NewPage)) }}>{ l.pick(msg::NEW_PAGE) }</button>
                    { button(CaseForm::Interview, "save-interview", msg::SAVE_INTERVIEW) }
                </div>
            </div>
        }
    };
    let serve = to_serve(case);
    // Preservations awaiting their decision (先行登记保存 decided within the unit's period).
    let undecided: Vec<(String, String)> = case
        .measures
        .values()
        .filter(|m| m.kind == MeasureKind::EvidencePreservation && m.outcome.is_none())
        .map(|m| (m.id.clone(), m.number.clone()))
        .collect();
    let measures = html! {
        <section id="case-measures">
            <h3>{ l.pick(msg::MEASURES) }</h3>
            if case.measures.is_empty() { <p class="muted">{ l.pick(msg::NONE) }</p> }
            { for case.measures.values().map(|m| html! {
                <div class="card measure">
                    <strong>{ format!("{} {}", l.pick(if m.kind == MeasureKind::EvidencePreservation { msg::EVIDENCE_PRESERVATION } else { msg::ON_SITE_MEASURES }), m.number) }</strong>
                    { for m.items.iter().map(|i| html! { <div>{ i }</div> }) }
                    <div class="muted">{ l.bases(&m.basis) }</div>
                    if m.kind == MeasureKind::EvidencePreservation {
                        <div class="measure-outcome">{ match &m.outcome {
                            Some(o) => format!("{}：{} · {}", l.pick(msg::OUTCOME), l.day(o.on), o.decision),
                            None => l.pick(msg::UNDECIDED).to_owned(),
                        } }</div>
                    }
                </div>
            }) }
        </section>
    };
    // 听证: only where the notice gave the right (the amount reaches the unit's threshold).
    let hearing_right = case.notice().is_some_and(|n| n.hearing_right);
    let form = |f: CaseForm| -> Html {
        match f {
            CaseForm::Facts => html! {
                <div class="card" id="facts-form">
                    { area("facts", msg::FACTS) }
                    { button(f, "save-facts", msg::SAVE_FACTS) }
                </div>
            },
            CaseForm::Interview => interview_form.clone(),
            CaseForm::Measure => html! {
                <div class="card" id="measure-form">
                    <label for="case-measure_kind">{ l.pick(msg::MEASURE_KIND) }</label>
                    <select id="case-measure_kind" onchange={set_select("measure_kind")}>
                        <option value="on_site" selected={drafts.get("measure_kind") != "preservation"}>{ l.pick(msg::ON_SITE_MEASURES) }</option>
                        <option value="preservation" selected={drafts.get("measure_kind") == "preservation"}>{ l.pick(msg::EVIDENCE_PRESERVATION) }</option>
                    </select>
                    { area("measure_items", msg::MEASURE_ITEMS) }
                    { area("measure_basis", msg::MEASURE_BASIS) }
                    { field_error(l, &error, "measure_basis") }
                    { button(f, "add-measure", msg::ADD_MEASURE) }
                </div>
            },
            CaseForm::Resolve if undecided.is_empty() => html! {},
            CaseForm::Resolve => html! {
                <div class="card" id="resolve-form">
                    <strong>{ l.pick(msg::RESOLVE) }</strong>
                    <select id="case-preservation" onchange={set_select("preservation")}>
                        <option value="" selected={drafts.get("preservation").is_empty()}>{ "—" }</option>
                        { for undecided.iter().map(|(id, number)| html! {
                            <option value={id.clone()} selected={drafts.get("preservation") == id}>{ format!("{} {number}", l.pick(msg::EVIDENCE_PRESERVATION)) }</option>
                        }) }
                    </select>
                    { input("outcome_on", msg::OUTCOME_ON) }
                    <div class="field">
                        <label for="case-outcome">{ l.pick(msg::OUTCOME) }</label>
                        <input id="case-outcome" placeholder={l.pick(msg::OUTCOME_HINT)} value={drafts.get("outcome").to_owned()} oninput={set("outcome")} />
                    </div>
                    { button(f, "record-outcome", msg::RECORD_OUTCOME) }
                </div>
            },
            CaseForm::Propose => html! {
                <div class="card" id="propose-form">
                    <strong>{ l.pick(msg::PROPOSE) }</strong>
                    if v.proposals.is_empty() {
                        <p class="muted">{ l.pick(msg::NO_CIRCUMSTANCES) }</p>
                    } else {
                        <label for="case-circumstance">{ l.pick(msg::CIRCUMSTANCE) }</label>
                        <select id="case-circumstance" onchange={set_select("circumstance")}>
                            <option value="" selected={drafts.get("circumstance").is_empty()}>{ "—" }</option>
                            { for v.proposals.iter().map(|p| html! {
                                <option value={p.discretion.row.clone()} selected={drafts.get("circumstance") == p.discretion.row}>
                                    { format!("{}（{}）{}：{}–{} {yuan}，{} {} {yuan}", p.circumstance, p.grade.label_zh(), l.pick(msg::RANGE), p.fine_min, p.fine_max, l.pick(msg::SUGGESTED), p.suggested.fine_yuan, yuan = l.pick(msg::YUAN)) }
                                </option>
                            }) }
                        </select>
                        { field_error(l, &error, "circumstance") }
                        <div class="field">
                            <label for="case-fine">{ l.pick(msg::FINE) }</label>
                            <input id="case-fine" inputmode="numeric" placeholder={l.pick(msg::FINE_HINT)} value={drafts.get("fine").to_owned()} oninput={set("fine")} />
                            { field_error(l, &error, "fine") }
                        </div>
                        { area("reasons", msg::REASONS) }
                        { button(f, "save-proposal", msg::SAVE_PROPOSAL) }
                    }
                </div>
            },
            CaseForm::Notify => html! {
                <div class="card" id="notify-form">
                    <div>{ match &case.proposal {
                        Some(p) => format!("{}：{}", l.pick(msg::PROPOSAL), p.penalty.zh()),
                        None => l.pick(msg::NO_PROPOSAL).to_owned(),
                    } }</div>
                    { button(f, "notify", msg::NOTIFY) }
                </div>
            },
            CaseForm::Statement => html! {
                <div class="card" id="statement-form">
                    { input("speaker", msg::SPEAKER) }
                    { area("statement", msg::STATEMENT) }
                    { area("review", msg::REVIEW) }
                    { button(f, "record-statement", msg::RECORD_STATEMENT) }
                </div>
            },
            CaseForm::Waive => html! {
                <div class="card" id="waive-form">
                    <strong>{ l.pick(msg::WAIVE) }</strong>
                    { input("waiver", msg::SPEAKER) }
                    <label class="check"><input id="waive-statement" type="checkbox" checked={drafts.checked("waive_statement")} onclick={toggle("waive_statement")} />{ l.pick(msg::WAIVE_STATEMENT) }</label>
                    if hearing_right {
                        <label class="check"><input id="waive-hearing" type="checkbox" checked={drafts.checked("waive_hearing")} onclick={toggle("waive_hearing")} />{ l.pick(msg::WAIVE_HEARING) }</label>
                    }
                    { button(f, "record-waiver", msg::RECORD_WAIVER) }
                </div>
            },
            CaseForm::RequestHearing if !hearing_right => html! {},
            CaseForm::RequestHearing => html! {
                <div class="card" id="hearing-form">
                    { input("hearing_by", msg::REQUESTED_BY) }
                    { button(f, "request-hearing", msg::REQUEST_HEARING) }
                </div>
            },
            CaseForm::Service => html! {
                <div class="card" id="service-form">
                    <strong>{ l.pick(msg::SERVICE) }</strong>
                    if serve.is_empty() {
                        <p class="muted">{ l.pick(msg::NOTHING_TO_SERVE) }</p>
                    } else {
                        <label for="case-document">{ l.pick(msg::SERVED_DOCUMENT) }</label>
                        <select id="case-document" onchange={set_select("document")}>
                            <option value="" selected={drafts.get("document").is_empty()}>{ "—" }</option>
                            { for serve.iter().map(|(n, zh, en)| html! {
                                <option value={n.clone()} selected={drafts.get("document") == n}>{ format!("{} {}", l.t(zh, en), n) }</option>
                            }) }
                        </select>
                        <label for="case-method">{ l.pick(msg::METHOD) }</label>
                        <select id="case-method" onchange={set_select("method")}>
                            { for [("direct", "直接送达", "In person"), ("left", "留置送达", "Left at the address"), ("post", "邮寄送达", "By post"), ("electronic", "电子送达", "Electronically")].into_iter().map(|(k, zh, en)| html! {
                                <option value={k} selected={drafts.get("method") == k || (k == "direct" && drafts.get("method").is_empty())}>{ l.t(zh, en) }</option>
                            }) }
                        </select>
                        { match drafts.get("method") {
                            "post" => input("tracking", msg::TRACKING),
                            "electronic" => input("address", msg::ADDRESS),
                            "left" => html! { <>{ input("recipient", msg::RECIPIENT) }{ input("witness", msg::WITNESS) }{ input("reason", msg::REASON) }</> },
                            _ => input("recipient", msg::RECIPIENT),
                        } }
                        { button(f, "record-service", msg::RECORD_SERVICE) }
                    }
                </div>
            },
            CaseForm::Payment => html! {
                <div class="card" id="payment-form">
                    <strong>{ format!("{}（{} {}）", l.pick(msg::PAYMENT), l.pick(msg::PAID), case.paid()) }</strong>
                    { input("paid_on", msg::PAID_ON) }
                    { input("amount", msg::AMOUNT) }
                    { input("receipt", msg::RECEIPT) }
                    { button(f, "record-payment", msg::RECORD_PAYMENT) }
                </div>
            },
            CaseForm::Execution => html! {
                <div class="card" id="execution-form">
                    <strong>{ l.pick(msg::EXECUTION) }</strong>
                    { input("executed_on", msg::EXECUTED_ON) }
                    { area("execution", msg::EXECUTION_NOTE) }
                    { button(f, "record-execution", msg::RECORD_EXECUTION) }
                </div>
            },
        }
    };
    let forms = forms_at(v.stage);
    html! {
        <>
            { header }
            { trouble }
            { error_view(l, &error) }
            <div class="grid2">
                { deadlines }
                { inspectors }
            </div>
            { documents }
            { interviews }
            { measures }
            <CaseMedia case={case.clone()} on_answer={page.dispatcher().to_callback().reform(CaseAction::Answer)} />
            <section id="case-actions">
                <h3>{ l.pick(msg::ACTIONS) }</h3>
                if forms.is_empty() { <p class="muted">{ l.pick(msg::NOTHING_HERE) }</p> }
                { for forms.into_iter().map(form) }
            </section>
        </>
    }
}

/// A recording's size as a person reads it (MB with one decimal, or KB).
pub(crate) fn size_text(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct CaseMediaProps {
    pub(crate) case: PenaltyCase,
    /// The case as the tablet answered an import, or why not.
    pub(crate) on_answer: Callback<Result<CaseView, ApiError>>,
}

/// The case's recordings (视听资料), and adding one: the tablet lists the recordings on a
/// connected body camera's card and in its recordings folder (`ListRecordings`); the
/// inspector picks one, names the camera when it came from one, and the tablet copies it in
/// and names it in the case (`ImportCaseMedia`).
#[function_component]
pub(crate) fn CaseMedia(props: &CaseMediaProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let found = use_state(|| None::<Vec<api::RecordingFile>>);
    let camera = use_state(String::new);
    let note = use_state(String::new);
    let importing = use_state(|| None::<String>);
    let case = &props.case;
    let find = {
        let (found, on_answer) = (found.clone(), props.on_answer.clone());
        Callback::from(move |_: MouseEvent| {
            let (found, on_answer) = (found.clone(), on_answer.clone());
            spawn_local(async move {
                match call(api::ListRecordings {}).await {
                    Ok(list) => found.set(Some(list)),
                    Err(e) => on_answer.emit(Err(e)),
                }
            });
        })
    };
    let import = |path: String| {
        let (found, importing, on_answer) =
            (found.clone(), importing.clone(), props.on_answer.clone());
        let (camera, note, id) = ((*camera).clone(), (*note).clone(), case.id.clone());
        Callback::from(move |_: MouseEvent| {
            let (found, importing, on_answer) =
                (found.clone(), importing.clone(), on_answer.clone());
            let request = api::ImportCaseMedia {
                case: id.clone(),
                path: path.clone(),
                camera: Some(camera.trim().to_owned()).filter(|c| !c.is_empty()),
                note: note.trim().to_owned(),
            };
            importing.set(Some(path.clone()));
            spawn_local(async move {
                let answer = call(request).await;
                importing.set(None);
                if answer.is_ok() {
                    found.set(None);
                }
                on_answer.emit(answer);
            });
        })
    };
    let text_input = |state: &UseStateHandle<String>,
                      fid: &'static str,
                      label: (&'static str, &'static str)| {
        let state = state.clone();
        html! {
            <div class="field">
                <label for={fid}>{ l.pick(label) }</label>
                <input id={fid} value={(*state).clone()} oninput={Callback::from(move |e: InputEvent| state.set(input_value(&e)))} />
            </div>
        }
    };
    let open = matches!(case.stage, CaseStage::Opened | CaseStage::Investigating);
    html! {
        <section id="case-media">
            <h3>{ l.pick(msg::MEDIA) }</h3>
            if case.media.is_empty() { <p class="muted">{ l.pick(msg::NONE) }</p> }
            { for case.media.values().map(|m| html! {
                <div class="case-medium">
                    { format!(
                        "{} · {} · {} · {}",
                        l.pick(if m.kind == app_core::penalty::MediaKind::Audio { msg::AUDIO } else { msg::VIDEO }),
                        size_text(m.size),
                        match &m.source {
                            MediaSource::BodyCamera { camera, .. } => format!("{} {camera}", l.pick(msg::FROM_CAMERA)),
                            MediaSource::Tablet { .. } => l.pick(msg::FROM_TABLET).to_owned(),
                        },
                        l.day(m.captured_at.shanghai_date()),
                    ) }
                    if !m.note.is_empty() { <div class="muted">{ &m.note }</div> }
                </div>
            }) }
            if open {
                <div class="card" id="media-form">
                    { text_input(&camera, "media-camera", msg::CAMERA) }
                    { text_input(&note, "media-note", msg::NOTE) }
                    <button class="secondary" id="find-recordings" onclick={find}>{ l.pick(msg::FIND_RECORDINGS) }</button>
                    if let Some(path) = &*importing { <p class="muted" id="importing">{ format!("{} {path}", l.pick(msg::IMPORTING)) }</p> }
                    { match &*found {
                        None => html! {},
                        Some(list) if list.is_empty() => html! { <p class="muted" id="no-recordings">{ l.pick(msg::NO_RECORDINGS) }</p> },
                        Some(list) => html! {
                            <div id="recordings">
                                { for list.iter().map(|f| html! {
                                    <div class="recording row">
                                        <span style="flex: 1">{ format!(
                                            "{} · {} · {}",
                                            f.name,
                                            l.pick(if f.audio { msg::AUDIO } else { msg::VIDEO }),
                                            size_text(f.size),
                                        ) }</span>
                                        <button class="import-recording" disabled={importing.is_some()} onclick={import(f.path.clone())}>{ l.pick(msg::IMPORT) }</button>
                                    </div>
                                }) }
                            </div>
                        },
                    } }
                </div>
            }
        </section>
    }
}
