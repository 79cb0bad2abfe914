//! The form that registers a hazard on a failed item (5).

use super::*;
use app_core::hazard::NewHazard;
use app_core::messages::item as msg;
use app_core::settings::SuggestedDeadlines;

#[derive(Properties, PartialEq)]
pub(crate) struct HazardFormProps {
    pub(crate) code: String,
    pub(crate) view: RecordView,
    pub(crate) on_view: Callback<RecordUpdate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct HazardDraft {
    pub(crate) started: bool,
    pub(crate) major: bool,
    pub(crate) description: String,
    pub(crate) place: String,
    pub(crate) measures: String,
    pub(crate) deadline: String,
    pub(crate) sv_level: String,
    pub(crate) sv_responsible: String,
}

/// A text field of the hazard form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum HazardField {
    Description,
    Place,
    Measures,
    Deadline,
    SupervisionLevel,
    SupervisionResponsible,
}

/// The hazard form: its draft (kept in the tablet's store while it is filled), whether the
/// saved draft has been read, and the last refusal. Changed only by [`HazardFormAction`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct HazardFormState {
    pub(crate) draft: HazardDraft,
    pub(crate) loaded: bool,
    pub(crate) error: Option<ApiError>,
}

/// What happens to the hazard form.
// Made once per keystroke or answer and moved once: boxing the drafts would cost more code
// than the bytes it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum HazardFormAction {
    /// The saved draft was read (none if there was none); `prefill` is what a new form starts
    /// from (the item's level and text, the deadline from the unit's settings).
    Loaded {
        saved: Option<HazardDraft>,
        prefill: HazardDraft,
    },
    Edit(HazardField, String),
    /// The level changed; the deadline follows it while it is still the suggested one.
    Major(bool, SuggestedDeadlines),
    Refused(ApiError),
}

impl Reducible for HazardFormState {
    type Action = HazardFormAction;

    fn reduce(self: Rc<Self>, action: HazardFormAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let d = &mut next.draft;
        match action {
            HazardFormAction::Loaded { saved, prefill } => {
                next.draft = saved.filter(|s| s.started).unwrap_or(prefill);
                next.loaded = true;
            }
            HazardFormAction::Edit(field, value) => {
                let slot = match field {
                    HazardField::Description => &mut d.description,
                    HazardField::Place => &mut d.place,
                    HazardField::Measures => &mut d.measures,
                    HazardField::Deadline => &mut d.deadline,
                    HazardField::SupervisionLevel => &mut d.sv_level,
                    HazardField::SupervisionResponsible => &mut d.sv_responsible,
                };
                *slot = value;
            }
            HazardFormAction::Major(major, deadlines) => {
                let level = |major| {
                    if major {
                        HazardLevel::Major
                    } else {
                        HazardLevel::General
                    }
                };
                if d.deadline == deadlines.for_level(level(d.major)).to_string() {
                    d.deadline = deadlines.for_level(level(major)).to_string();
                }
                d.major = major;
            }
            HazardFormAction::Refused(e) => next.error = Some(e),
        }
        Rc::new(next)
    }
}

/// What a new form for failed item `code` of `view` starts from: the item's level, the
/// inspector's note (or else the item's text) as description, the deadline the unit's
/// settings suggest for that level (in the view, from app-core).
pub(crate) fn prefill(view: &RecordView, code: &ItemCode) -> HazardDraft {
    let item = view.template.item(code);
    let major = item.is_some_and(|i| i.is_major_hazard());
    let note = view
        .record
        .results
        .get(code)
        .map(|r| r.note.clone())
        .unwrap_or_default();
    let level = if major {
        HazardLevel::Major
    } else {
        HazardLevel::General
    };
    HazardDraft {
        started: true,
        major,
        description: if note.trim().is_empty() {
            item.map(|i| i.text.clone()).unwrap_or_default()
        } else {
            note
        },
        deadline: view.deadlines.for_level(level).to_string(),
        sv_level: "县级".into(),
        ..HazardDraft::default()
    }
}

/// The hazard as the tablet registers it, or why the form cannot be sent (only what the
/// screen reads itself: the date; the rules judge the rest, in the tablet).
pub(crate) fn new_hazard(d: &HazardDraft, code: &ItemCode) -> Result<NewHazard, ApiError> {
    let Ok(deadline) = Day::parse(d.deadline.trim()) else {
        return Err(input_error(
            "整改期限格式应为 年-月-日，例如 2026-12-31",
            "the deadline must be a date, e.g. 2026-12-31",
            "deadline",
        ));
    };
    Ok(NewHazard {
        item: code.clone(),
        level: if d.major {
            HazardLevel::Major
        } else {
            HazardLevel::General
        },
        description: d.description.clone(),
        place: d.place.clone(),
        measures: d.measures.clone(),
        deadline,
        supervision_level: d.sv_level.clone(),
        supervision_responsible: d.sv_responsible.clone(),
    })
}

/// Registers the hazard of form `d` on record `id` (the tablet mints its id); answers what
/// it changed.
pub(crate) async fn register(
    id: &str,
    code: &ItemCode,
    d: &HazardDraft,
) -> Result<RecordChange, ApiError> {
    call(api::RegisterHazard {
        id: InspectionId::new(id),
        hazard: new_hazard(d, code)?,
    })
    .await
}

/// A hazard prefilled from a failed item: level and legal basis from the template, with
/// measures and a deadline (责令限期整改).
#[function_component]
pub(crate) fn HazardForm(props: &HazardFormProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let id = props.view.record.id.to_string();
    let code = ItemCode::new(props.code.clone());
    let item = props.view.template.item(&code).cloned().expect("item");
    let key = format!("hazard:{id}:{}", props.code);
    let form = use_reducer(HazardFormState::default);
    {
        let dispatch = form.dispatcher();
        let start = prefill(&props.view, &code);
        use_effect_with(key.clone(), move |key| {
            let loaded = Callback::from(move |saved: Option<HazardDraft>| {
                dispatch.dispatch(HazardFormAction::Loaded {
                    saved,
                    prefill: start.clone(),
                })
            });
            load_draft(key.clone(), loaded);
        });
    }
    {
        let key = key.clone();
        use_effect_with((form.draft.clone(), form.loaded), move |(draft, loaded)| {
            if *loaded {
                save_draft(key, draft);
            }
        });
    }
    if !form.loaded {
        // The saved draft is still loading: showing empty fields now would invite typing
        // that the prefill then overwrites.
        return html! { <div class="hazard-form loading">{ l.t("正在载入…", "Loading…") }</div> };
    }
    let draft = &form.draft;
    let error = form.error.clone();
    let field = |f: HazardField| {
        let dispatch = form.dispatcher();
        Callback::from(move |e: InputEvent| {
            let t: web_sys::HtmlElement = e.target_unchecked_into();
            let value = match t.dyn_ref::<HtmlTextAreaElement>() {
                Some(a) => a.value(),
                None => t.unchecked_into::<HtmlInputElement>().value(),
            };
            dispatch.dispatch(HazardFormAction::Edit(f, value));
        })
    };
    let set_level = {
        let (dispatch, deadlines) = (form.dispatcher(), props.view.deadlines);
        Callback::from(move |e: Event| {
            dispatch.dispatch(HazardFormAction::Major(
                select_value(&e) == "major",
                deadlines,
            ))
        })
    };
    let submit = {
        let (form, on_view) = (form.clone(), props.on_view.clone());
        let (id, code, key) = (id.clone(), code.clone(), key.clone());
        Callback::from(move |_| {
            let (dispatch, on_view) = (form.dispatcher(), on_view.clone());
            let (id, code, key, draft) =
                (id.clone(), code.clone(), key.clone(), form.draft.clone());
            spawn_local(async move {
                match register(&id, &code, &draft).await {
                    Ok(change) => {
                        drop_draft(key);
                        on_view.emit(change.into());
                    }
                    Err(e) => dispatch.dispatch(HazardFormAction::Refused(e)),
                }
            });
        })
    };
    html! {
        <div class="card hazard-form">
            <h3>{ l.t("登记隐患并责令整改", "Register the hazard and order rectification") }</h3>
            <div class="basis">{ format!("{}：{}", l.pick(msg::BASIS), l.bases(&item.basis)) }</div>
            <div class="basis penalty">{ format!("{}：{}", l.pick(msg::PENALTY), l.bases(&item.penalty)) }</div>
            <label>{ l.t("隐患级别", "Level") }</label>
            if let Some(m) = &item.major_hazard {
                // A major-hazard item's hazard is major: the rules refuse a general one, so
                // the form offers no choice and says why.
                <select id="hz-level" disabled=true>
                    <option value="major" selected=true>{ level_label(l, HazardLevel::Major) }</option>
                </select>
                <div id="hz-level-why" class="major-why warn">{ l.major_locked(m) }</div>
            } else {
                <select id="hz-level" onchange={set_level}>
                    <option value="general" selected={!draft.major}>{ level_label(l, HazardLevel::General) }</option>
                    <option value="major" selected={draft.major}>{ level_label(l, HazardLevel::Major) }</option>
                </select>
            }
            { field_error(l, &error, "level") }
            <label>{ l.t("隐患描述", "Description") }</label>
            <textarea id="hz-description" value={draft.description.clone()} oninput={field(HazardField::Description)} />
            { field_error(l, &error, "description") }
            <label>{ l.t("隐患部位", "Place") }</label>
            <input id="hz-place" value={draft.place.clone()} oninput={field(HazardField::Place)} />
            <label>{ l.t("整改措施", "Measures") }</label>
            <textarea id="hz-measures" value={draft.measures.clone()} oninput={field(HazardField::Measures)} />
            { field_error(l, &error, "measures") }
            <label for="hz-deadline">{ l.t("整改期限（年-月-日）", "Deadline (YYYY-MM-DD)") }</label>
            <input id="hz-deadline" type="text" inputmode="numeric" placeholder={l.t("年-月-日，例如 2026-12-21", "YYYY-MM-DD")} value={draft.deadline.clone()} oninput={field(HazardField::Deadline)} />
            if let Ok(d) = Day::parse(draft.deadline.trim()) { <div class="muted date-read">{ l.day(d) }</div> }
            { field_error(l, &error, "deadline") }
            if draft.major || item.is_major_hazard() {
                <label>{ l.t("挂牌督办级别", "Listed for supervision by") }</label>
                <input id="hz-sv-level" value={draft.sv_level.clone()} oninput={field(HazardField::SupervisionLevel)} />
                <label>{ l.t("督办责任人", "Responsible person") }</label>
                <input id="hz-sv-responsible" value={draft.sv_responsible.clone()} oninput={field(HazardField::SupervisionResponsible)} />
                { field_error(l, &error, "supervision") }
            }
            <div class="row" style="margin-top: 10px"><button id="hz-submit" onclick={submit}>{ l.t("登记隐患", "Register") }</button></div>
            { other_error(l, &error, &["description", "measures", "deadline", "supervision", "level"]) }
        </div>
    }
}
