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

#[function_component]
pub(crate) fn HazardScreen(props: &HazardProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let state = use_reducer(RecordState::default);
    let error = use_state(|| None::<ApiError>);
    let (draft, _) =
        use_draft::<ReinspectDraft>(format!("reinspect:{}:{}", props.id, props.hazard));
    {
        let (state, error) = (state.clone(), error.clone());
        use_effect_with((props.id.clone(), state.reloads), move |(id, _)| {
            let id = id.clone();
            spawn_local(async move {
                match call(api::GetRecord {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    Ok(v) => state.dispatch(v.into()),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let on_view = {
        let state = state.clone();
        Callback::from(move |u: RecordUpdate| state.dispatch(u))
    };
    let Some(v) = &state.view else {
        return html! { <>{ error_view(l, &error) }<p>{ l.t("正在加载…", "Loading…") }</p></> };
    };
    let hid = HazardId::new(props.hazard.clone());
    let Some(h) = v.record.hazards.get(&hid).cloned() else {
        return html! { <p class="error">{ l.t("记录中没有该隐患", "No such hazard") }</p> };
    };
    let id = props.id.clone();
    let act = |action: HazardAction| {
        let (id, hid, on_view, error) = (id.clone(), hid.clone(), on_view.clone(), error.clone());
        Callback::from(move |_| {
            send(
                id.clone(),
                Command::Hazard {
                    hazard: hid.clone(),
                    action: action.clone(),
                },
                on_view.clone(),
                error.clone(),
            )
        })
    };
    let photo = {
        let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
            spawn_local(async move {
                match send_photo(
                    &file,
                    &PhotoArgs {
                        id: InspectionId::new(id.clone()),
                        link: PhotoLink::Loose,
                    },
                )
                .await
                {
                    Ok(p) => {
                        let mut d = (*draft).clone();
                        d.photos.push((p.sha256.to_string(), p.thumb));
                        draft.set(d);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let set_passed = |p: bool| {
        let draft = draft.clone();
        Callback::from(move |_| {
            draft.set(ReinspectDraft {
                passed: Some(p),
                ..(*draft).clone()
            })
        })
    };
    let set_note = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ReinspectDraft {
                note: area_value(&e),
                ..(*draft).clone()
            })
        })
    };
    let set_deadline = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ReinspectDraft {
                new_deadline: input_value(&e),
                ..(*draft).clone()
            })
        })
    };
    let submit = {
        let (draft, error, id, hid, on_view, user) = (
            draft.clone(),
            error.clone(),
            id.clone(),
            hid.clone(),
            on_view.clone(),
            ctx.user.clone(),
        );
        Callback::from(move |_| {
            let d = (*draft).clone();
            let Some(passed) = d.passed else {
                error.set(Some(input_error(
                    "请选择复查结论：通过或不通过",
                    "choose the outcome: pass or fail",
                    "outcome",
                )));
                return;
            };
            let new_deadline = if passed {
                None
            } else {
                match Day::parse(d.new_deadline.trim()) {
                    Ok(day) => Some(day),
                    Err(_) => {
                        error.set(Some(input_error(
                            "复查不通过须填写新的整改期限（年-月-日）",
                            "a failed re-inspection needs a new deadline (YYYY-MM-DD)",
                            "deadline",
                        )));
                        return;
                    }
                }
            };
            let Some(user) = user.clone() else { return };
            let photos = d
                .photos
                .iter()
                .filter_map(|(s, _)| Sha256Hex::parse(s).ok())
                .map(|s| {
                    (
                        s.clone(),
                        PhotoRef {
                            sha256: s,
                            added_at: Timestamp(now_ms()),
                            added_by: user.id.clone(),
                        },
                    )
                })
                .collect();
            let mut commands = vec![Command::Hazard {
                hazard: hid.clone(),
                action: HazardAction::Reinspect {
                    id: unique("ri"),
                    reinspection: Reinspection {
                        on: today(),
                        by: user.id.clone(),
                        passed,
                        note: d.note.clone(),
                        photos,
                        new_deadline,
                    },
                },
            }];
            if passed {
                commands.push(Command::Hazard {
                    hazard: hid.clone(),
                    action: HazardAction::Close { on: today() },
                });
            }
            let (error, id, on_view, draft) =
                (error.clone(), id.clone(), on_view.clone(), draft.clone());
            spawn_local(async move {
                for c in commands {
                    match call(api::ApplyCommand {
                        id: InspectionId::new(id.clone()),
                        command: c,
                    })
                    .await
                    {
                        Ok(change) => on_view.emit(change.into()),
                        Err(e) => {
                            error.set(Some(e));
                            return;
                        }
                    }
                }
                error.set(None);
                draft.set(ReinspectDraft::default());
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
                <div class="muted">{ format!("{}：{}", l.t("依据", "Basis"), h.basis.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")) }</div>
                <div>{ format!("{}：{}", l.t("整改措施", "Measures"), h.measures) }</div>
                <div class="row">
                    <span class="badge" id="hazard-stage">{ stage_label(l, h.stage.as_str()) }</span>
                    if let Some(d) = h.deadline { <span>{ format!("{} {d}", l.t("整改期限", "deadline")) }</span> }
                </div>
                { for h.reinspections.values().map(|ri| html! {
                    <div class="card">{ format!("{} {} · {}{}", l.t("复查", "Re-inspection"), ri.on, if ri.passed { l.t("通过", "passed") } else { l.t("不通过", "failed") }, if ri.note.is_empty() { String::new() } else { format!(" · {}", ri.note) }) }
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
                        <label>{ l.t("新的整改期限", "New deadline") }</label>
                        <input id="ri-deadline" type="date" value={draft.new_deadline.clone()} oninput={set_deadline} />
                        { field_error(l, &error, "deadline") }
                    }
                    <label>{ l.t("复查照片", "Photos") }</label>
                    <div class="file"><input id="ri-photo" type="file" accept="image/*" capture="environment" onchange={photo} /></div>
                    <div class="thumbs">{ for draft.photos.iter().map(|(_, t)| html! { <img class="ri-thumb" src={t.clone()} alt="photo" /> }) }</div>
                    <button id="ri-submit" onclick={submit}>{ l.t("提交复查结论", "Record the re-inspection") }</button>
                </div>
            }
        </>
    }
}
