//! The form that registers a hazard on a failed item (5).

use super::*;

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
    let (draft, loaded) = use_draft::<HazardDraft>(key.clone());
    let error = use_state(|| None::<ApiError>);
    // Prefill once from the item.
    if loaded && !draft.started {
        let note = props
            .view
            .record
            .results
            .get(&code)
            .map(|r| r.note.clone())
            .unwrap_or_default();
        draft.set(HazardDraft {
            started: true,
            major: item.is_major_hazard(),
            description: if note.trim().is_empty() {
                item.text.clone()
            } else {
                note
            },
            deadline: today().plus_days(15).to_string(),
            sv_level: "县级".into(),
            ..HazardDraft::default()
        });
    }
    if !(loaded && draft.started) {
        // The saved draft is still loading (or the prefill above is being applied): showing
        // empty fields now would invite typing that the prefill then overwrites.
        return html! { <div class="hazard-form loading">{ l.t("正在载入…", "Loading…") }</div> };
    }
    let field = |f: fn(&mut HazardDraft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            let t: web_sys::HtmlElement = e.target_unchecked_into();
            let value = match t.dyn_ref::<HtmlTextAreaElement>() {
                Some(a) => a.value(),
                None => t.unchecked_into::<HtmlInputElement>().value(),
            };
            f(&mut d, value);
            draft.set(d);
        })
    };
    let set_level = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            draft.set(HazardDraft {
                major: select_value(&e) == "major",
                ..(*draft).clone()
            })
        })
    };
    let submit = {
        let (draft, error, on_view, user) = (
            draft.clone(),
            error.clone(),
            props.on_view.clone(),
            ctx.user.clone(),
        );
        let (id, code, item) = (id.clone(), code.clone(), item.clone());
        Callback::from(move |_| {
            let d = (*draft).clone();
            let Ok(deadline) = Day::parse(d.deadline.trim()) else {
                error.set(Some(input_error(
                    "整改期限格式应为 年-月-日，例如 2026-12-31",
                    "the deadline must be a date, e.g. 2026-12-31",
                    "deadline",
                )));
                return;
            };
            if d.measures.trim().is_empty() {
                error.set(Some(input_error(
                    "请填写整改措施",
                    "enter the rectification measures",
                    "measures",
                )));
                return;
            }
            let hid = HazardId::new(unique("hz"));
            let hazard = Hazard {
                id: hid.clone(),
                item: Some(code.clone()),
                level: if d.major {
                    HazardLevel::Major
                } else {
                    HazardLevel::General
                },
                description: d.description.clone(),
                place: d.place.clone(),
                basis: item.basis.clone(),
                photos: BTreeMap::new(),
                measures: String::new(),
                deadline: None,
                stage: HazardStage::Registered,
                supervision: None,
                registered_on: today(),
                reported_on: None,
                reinspections: BTreeMap::new(),
                closed_on: None,
            };
            let mut commands = vec![Command::RegisterHazard(hazard)];
            if d.major {
                commands.push(Command::Hazard {
                    hazard: hid.clone(),
                    action: HazardAction::ListForSupervision(Supervision {
                        level: d.sv_level.clone(),
                        responsible: d.sv_responsible.clone(),
                        listed_on: today(),
                    }),
                });
            }
            commands.push(Command::Hazard {
                hazard: hid.clone(),
                action: HazardAction::Order {
                    deadline,
                    measures: d.measures.clone(),
                },
            });
            let _ = &user;
            let (error, on_view, id) = (error.clone(), on_view.clone(), id.clone());
            let key = format!("hazard:{id}:{code}");
            spawn_local(async move {
                // Shown together once all are saved (each applies on the one before).
                let mut changes = Vec::new();
                for c in commands {
                    match call(api::ApplyCommand {
                        id: InspectionId::new(id.clone()),
                        command: c,
                    })
                    .await
                    {
                        Ok(change) => changes.push(change),
                        Err(e) => {
                            error.set(Some(e));
                            for change in changes {
                                on_view.emit(change.into());
                            }
                            return;
                        }
                    }
                }
                drop_draft(key);
                for change in changes {
                    on_view.emit(change.into());
                }
            });
        })
    };

    html! {
        <div class="card hazard-form">
            <h3>{ l.t("登记隐患并责令整改", "Register the hazard and order rectification") }</h3>
            <div class="basis">{ format!("{}：{}", l.t("法律依据", "Legal basis"), item.basis.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")) }</div>
            <label>{ l.t("隐患级别", "Level") }</label>
            <select id="hz-level" onchange={set_level}>
                <option value="general" selected={!draft.major}>{ l.t("一般隐患", "General") }</option>
                <option value="major" selected={draft.major}>{ l.t("重大事故隐患", "Major") }</option>
            </select>
            <label>{ l.t("隐患描述", "Description") }</label>
            <textarea id="hz-description" value={draft.description.clone()} oninput={field(|d, v| d.description = v)} />
            { field_error(l, &error, "description") }
            <label>{ l.t("隐患部位", "Place") }</label>
            <input id="hz-place" value={draft.place.clone()} oninput={field(|d, v| d.place = v)} />
            <label>{ l.t("整改措施", "Measures") }</label>
            <textarea id="hz-measures" value={draft.measures.clone()} oninput={field(|d, v| d.measures = v)} />
            { field_error(l, &error, "measures") }
            <label>{ l.t("整改期限", "Deadline") }</label>
            <input id="hz-deadline" type="date" value={draft.deadline.clone()} oninput={field(|d, v| d.deadline = v)} />
            { field_error(l, &error, "deadline") }
            if draft.major {
                <label>{ l.t("挂牌督办级别", "Listed for supervision by") }</label>
                <input id="hz-sv-level" value={draft.sv_level.clone()} oninput={field(|d, v| d.sv_level = v)} />
                <label>{ l.t("督办责任人", "Responsible person") }</label>
                <input id="hz-sv-responsible" value={draft.sv_responsible.clone()} oninput={field(|d, v| d.sv_responsible = v)} />
                { field_error(l, &error, "supervision") }
            }
            <div class="row" style="margin-top: 10px"><button id="hz-submit" onclick={submit}>{ l.t("登记隐患", "Register") }</button></div>
            { other_error(l, &error, &["description", "measures", "deadline", "supervision"]) }
        </div>
    }
}
