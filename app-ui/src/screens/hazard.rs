//! Re-inspection of a hazard (7).

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct HazardProps {
    pub(crate) id: String,
    pub(crate) hazard: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReinspectDraft {
    pub(crate) passed: Option<bool>,
    pub(crate) note: String,
    pub(crate) new_deadline: String,
    pub(crate) photos: Vec<(String, String)>,
}

/// What happens to the re-inspection form (its draft is kept in the tablet's store).
#[derive(Debug)]
pub(crate) enum ReinspectAction {
    Loaded(Option<ReinspectDraft>),
    Passed(bool),
    Note(String),
    Deadline(String),
    /// A photo taken for it: its SHA-256 and thumbnail.
    Photo(String, String),
    /// Recorded: the form starts empty again.
    Recorded,
}

/// The re-inspection form: the draft and whether the saved one has been read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReinspectForm {
    pub(crate) draft: ReinspectDraft,
    pub(crate) loaded: bool,
}

impl Reducible for ReinspectForm {
    type Action = ReinspectAction;

    fn reduce(self: Rc<Self>, action: ReinspectAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let d = &mut next.draft;
        match action {
            ReinspectAction::Loaded(saved) => {
                if let Some(saved) = saved {
                    *d = saved;
                }
                next.loaded = true;
            }
            ReinspectAction::Passed(p) => d.passed = Some(p),
            ReinspectAction::Note(t) => d.note = t,
            ReinspectAction::Deadline(t) => d.new_deadline = t,
            ReinspectAction::Photo(sha, thumb) => d.photos.push((sha, thumb)),
            ReinspectAction::Recorded => *d = ReinspectDraft::default(),
        }
        Rc::new(next)
    }
}

/// The re-inspection as the tablet records it, or what the form still lacks (the outcome;
/// for a failed one, a new deadline that reads as a date).
pub(crate) fn new_reinspection(d: &ReinspectDraft) -> Result<NewReinspection, ApiError> {
    let Some(passed) = d.passed else {
        return Err(input_error(
            "请选择复查结论：通过或不通过",
            "choose the outcome: pass or fail",
            "outcome",
        ));
    };
    let new_deadline = if passed {
        None
    } else {
        match Day::parse(d.new_deadline.trim()) {
            Ok(day) => Some(day),
            Err(_) => {
                return Err(input_error(
                    "复查不通过须填写新的整改期限（年-月-日）",
                    "a failed re-inspection needs a new deadline (YYYY-MM-DD)",
                    "deadline",
                ));
            }
        }
    };
    Ok(NewReinspection {
        passed,
        note: d.note.clone(),
        photos: d
            .photos
            .iter()
            .filter_map(|(s, _)| Sha256Hex::parse(s).ok())
            .collect(),
        new_deadline,
    })
}

#[function_component]
pub(crate) fn HazardScreen(props: &HazardProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let page = use_reducer(RecordPage::default);
    let form = use_reducer(ReinspectForm::default);
    let key = format!("reinspect:{}:{}", props.id, props.hazard);
    {
        // Read when the screen opens, and again when a change did not apply.
        let answer = page.dispatcher().to_callback().reform(PageAction::Answer);
        use_effect_with((props.id.clone(), page.reloads), move |(id, _)| {
            load_record(id.clone(), answer)
        });
    }
    {
        let loaded = form
            .dispatcher()
            .to_callback()
            .reform(ReinspectAction::Loaded);
        use_effect_with(key.clone(), move |key| load_draft(key.clone(), loaded));
    }
    {
        let key = key.clone();
        use_effect_with((form.draft.clone(), form.loaded), move |(draft, loaded)| {
            if *loaded {
                save_draft(key, draft);
            }
        });
    }
    let error = page.error.clone();
    let Some(v) = &page.view else {
        return html! { <>{ error_view(l, &error) }<p>{ l.t("正在加载…", "Loading…") }</p></> };
    };
    let hid = HazardId::new(props.hazard.clone());
    let Some(h) = v.record.hazards.get(&hid).cloned() else {
        return html! { <p class="error">{ l.t("记录中没有该隐患", "No such hazard") }</p> };
    };
    let id = props.id.clone();
    let act = |action: HazardAction| {
        let (id, hid, page) = (id.clone(), hid.clone(), page.dispatcher());
        Callback::from(move |_| {
            let command = Command::Hazard {
                hazard: hid.clone(),
                action: action.clone(),
            };
            let (id, answer) = (id.clone(), page.to_callback().reform(PageAction::Changed));
            spawn_local(async move { answer.emit(apply(&id, command).await) });
        })
    };
    let draft = &form.draft;
    let photo = {
        let (form, page, id) = (form.dispatcher(), page.dispatcher(), id.clone());
        Callback::from(move |e: Event| {
            let (form, page) = (form.clone(), page.clone());
            let done = Callback::from(move |answer: Result<PhotoAnswer, ApiError>| match answer {
                Ok(p) => form.dispatch(ReinspectAction::Photo(p.sha256.to_string(), p.thumb)),
                Err(e) => page.dispatch(PageAction::Refused(e)),
            });
            take_loose_photo(&e, id.clone(), done);
        })
    };
    let set_passed = |p: bool| {
        form.dispatcher()
            .to_callback()
            .reform(move |_: MouseEvent| ReinspectAction::Passed(p))
    };
    let set_note = form
        .dispatcher()
        .to_callback()
        .reform(|e: InputEvent| ReinspectAction::Note(area_value(&e)));
    let set_deadline = form
        .dispatcher()
        .to_callback()
        .reform(|e: InputEvent| ReinspectAction::Deadline(input_value(&e)));
    let submit = {
        let (form, page, id, hid) = (form.clone(), page.dispatcher(), id.clone(), hid.clone());
        Callback::from(move |_| {
            let reinspection = match new_reinspection(&form.draft) {
                Ok(r) => r,
                Err(e) => return page.dispatch(PageAction::Refused(e)),
            };
            let (form, page) = (form.dispatcher(), page.clone());
            let request = api::ReinspectHazard {
                id: InspectionId::new(id.clone()),
                hazard: hid.clone(),
                reinspection,
            };
            spawn_local(async move {
                let answer = call(request).await;
                if answer.is_ok() {
                    form.dispatch(ReinspectAction::Recorded);
                }
                page.dispatch(PageAction::Changed(answer));
            });
        })
    };
    let back = {
        let (go, id) = (ctx.go.clone(), id.clone());
        Callback::from(move |_| go.emit(Route::Record(id.clone())))
    };
    html! {
        <>
            <div class="row">
                <h2 style="flex: 1">{ format!("{} · {}", l.t("隐患", "Hazard"), v.record.enterprise.name) }</h2>
                <button class="secondary" onclick={back}>{ l.t("返回记录", "Back to the record") }</button>
            </div>
            <div class="card">
                <div><strong>{ &h.description }</strong></div>
                <div class="muted">{ format!("{}：{}", l.pick(app_core::messages::item::BASIS), l.bases(&h.basis)) }</div>
                if !h.penalty.is_empty() {
                    <div class="muted penalty">{ format!("{}：{}", l.pick(app_core::messages::item::PENALTY), l.bases(&h.penalty)) }</div>
                }
                if let Some(m) = h.item.as_ref().and_then(|c| v.template.item(c)).and_then(|i| i.major_hazard.as_ref()) {
                    <div class="muted major-basis">{ format!("{}：{}", l.pick(app_core::messages::item::MAJOR_BASIS), m) }</div>
                }
                <div>{ format!("{}：{}", l.t("整改措施", "Measures"), h.measures) }</div>
                <div class="row">
                    <span class={classes!("badge", "level", if h.level == HazardLevel::Major { "major" } else { "general" })}>{ level_label(l, h.level) }</span>
                    <span class="badge" id="hazard-stage">{ stage_label(l, h.stage.as_str()) }</span>
                    if let Some(d) = h.deadline { <span>{ format!("{} {}", l.t("整改期限", "deadline"), l.day(d)) }</span> }
                </div>
                { for h.reinspections.values().map(|ri| html! {
                    <div class="card">{ format!("{} {} · {}{}", l.t("复查", "Re-inspection"), l.day(ri.on), if ri.passed { l.t("通过", "passed") } else { l.t("不通过", "failed") }, if ri.note.is_empty() { String::new() } else { format!(" · {}", ri.note) }) }
                        <div class="thumbs">{ for ri.photos.keys().map(|s| html! { <img src={thumb_url(s.as_str())} alt="photo" /> }) }</div>
                    </div>
                }) }
            </div>
            { other_error(l, &error, &["outcome", "deadline"]) }
            if h.stage == HazardStage::Ordered {
                <button id="report-rectified" onclick={act(HazardAction::ReportRectified { on: today() })}>{ l.t("企业报告已整改，进入复查", "The enterprise reports it rectified") }</button>
            }
            if h.stage == HazardStage::Reinspected {
                <button id="close-hazard" onclick={act(HazardAction::Close { on: today() })}>{ l.t("销号", "Close") }</button>
            }
            if h.stage == HazardStage::Rectified {
                <div class="card" id="reinspect">
                    <h3>{ l.t("复查", "Re-inspection") }</h3>
                    <div class="row answers">
                        <button id="ri-pass" class={classes!("complies", (draft.passed == Some(true)).then_some("on"))} onclick={set_passed(true)}>{ l.t("通过（销号）", "Pass (close)") }</button>
                        <button id="ri-fail" class={classes!("fails", (draft.passed == Some(false)).then_some("on"))} onclick={set_passed(false)}>{ l.t("不通过", "Fail") }</button>
                    </div>
                    { field_error(l, &error, "outcome") }
                    <label>{ l.t("复查意见", "Note") }</label>
                    <textarea id="ri-note" value={draft.note.clone()} oninput={set_note} />
                    if draft.passed == Some(false) {
                        <label for="ri-deadline">{ l.t("新的整改期限（年-月-日）", "New deadline (YYYY-MM-DD)") }</label>
                        <input id="ri-deadline" type="text" inputmode="numeric" placeholder={l.t("年-月-日，例如 2026-12-21", "YYYY-MM-DD")} value={draft.new_deadline.clone()} oninput={set_deadline} />
            if let Ok(d) = Day::parse(draft.new_deadline.trim()) { <div class="muted date-read">{ l.day(d) }</div> }
                        { field_error(l, &error, "deadline") }
                    }
                    <label>{ l.t("复查照片", "Photos") }</label>
                    <label class="button secondary camera">{ l.t("拍照", "Take photo") }<input id="ri-photo" type="file" accept="image/*" capture="environment" onchange={photo} /></label>
                    if !draft.photos.is_empty() { <span class="muted">{ format!("{} {}", l.t("已附照片", "Photos attached:"), draft.photos.len()) }</span> }
                    <div class="thumbs">{ for draft.photos.iter().map(|(_, t)| html! { <img class="ri-thumb" src={t.clone()} alt="photo" /> }) }</div>
                    <button id="ri-submit" onclick={submit}>{ l.t("提交复查结论", "Record the re-inspection") }</button>
                </div>
            }
        </>
    }
}
