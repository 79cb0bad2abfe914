//! The on-site person, the signatures and completing the record (6).

use super::*;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct PersonDraft {
    pub(crate) started: bool,
    pub(crate) name: String,
    pub(crate) position: String,
    pub(crate) phone: String,
    pub(crate) witness: String,
    pub(crate) refusal_note: String,
}

/// A field of the on-site person's form (and the refusal's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PersonField {
    Name,
    Position,
    Phone,
    Witness,
    RefusalNote,
}

/// The signing section: the on-site person's form (a draft kept in the tablet's store),
/// whether the saved draft has been read, the last refusal. Changed only by
/// [`SigningAction`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SigningState {
    pub(crate) draft: PersonDraft,
    pub(crate) loaded: bool,
    pub(crate) error: Option<ApiError>,
    /// The documents shown full screen to the signer of this pad, before the pad opens.
    pub(crate) preview: Option<(String, Vec<DocumentPreview>)>,
    /// What each pad's signer confirmed 已阅读 (the pad is open for them).
    pub(crate) read: std::collections::BTreeMap<String, Vec<ReadDocument>>,
}

/// What happens to the signing section.
#[derive(Debug)]
pub(crate) enum SigningAction {
    Loaded(Option<PersonDraft>),
    /// The record's on-site person: fills a form nobody has started.
    Person(Option<OnsitePerson>),
    Edit(PersonField, String),
    /// A command's or the signing's outcome: `None` once it went through, or the refusal.
    Outcome(Option<ApiError>),
    /// The documents to show the signer of a pad.
    Preview(String, Vec<DocumentPreview>),
    ClosePreview,
    /// The signer confirmed 已阅读: their pad opens.
    Read,
    /// A pad's signature went through: its reading is used up.
    Signed(String),
}

impl Reducible for SigningState {
    type Action = SigningAction;

    fn reduce(self: Rc<Self>, action: SigningAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let d = &mut next.draft;
        match action {
            SigningAction::Loaded(saved) => {
                if let Some(saved) = saved {
                    *d = saved;
                }
                next.loaded = true;
            }
            SigningAction::Person(Some(p)) if next.loaded && !d.started => {
                d.started = true;
                d.name = p.name;
                d.position = p.position;
                d.phone = p.phone;
            }
            SigningAction::Person(_) => {}
            SigningAction::Edit(field, value) => {
                d.started = true;
                *match field {
                    PersonField::Name => &mut d.name,
                    PersonField::Position => &mut d.position,
                    PersonField::Phone => &mut d.phone,
                    PersonField::Witness => &mut d.witness,
                    PersonField::RefusalNote => &mut d.refusal_note,
                } = value;
            }
            SigningAction::Outcome(e) => next.error = e,
            SigningAction::Preview(pad, papers) => next.preview = Some((pad, papers)),
            SigningAction::ClosePreview => next.preview = None,
            SigningAction::Read => {
                if let Some((pad, papers)) = next.preview.take() {
                    next.read
                        .insert(pad, papers.into_iter().map(|p| p.read).collect());
                }
            }
            SigningAction::Signed(pad) => {
                next.read.remove(&pad);
                next.error = None;
            }
        }
        Rc::new(next)
    }
}

/// The command that records the on-site person of form `d`, or what the form lacks.
pub(crate) fn person_command(d: &PersonDraft) -> Result<Command, ApiError> {
    if d.name.trim().is_empty() {
        return Err(input_error(
            "请填写现场负责人姓名",
            "enter the on-site person's name",
            "person",
        ));
    }
    Ok(Command::SetOnsitePerson(OnsitePerson {
        name: d.name.trim().to_owned(),
        position: d.position.trim().to_owned(),
        phone: d.phone.trim().to_owned(),
    }))
}

/// The command that records the enterprise's refusal to sign (by `name`, at `at`) with the
/// witness of form `d`, or what the form lacks.
pub(crate) fn refusal_command(
    d: &PersonDraft,
    name: &str,
    at: Timestamp,
) -> Result<Command, ApiError> {
    if d.witness.trim().is_empty() {
        return Err(input_error(
            "拒绝签字须记录见证人",
            "a refusal to sign needs a witness",
            "witness",
        ));
    }
    Ok(Command::Sign(Signature {
        signer: Signer::Enterprise,
        name: name.to_owned(),
        outcome: SignOutcome::Refused {
            witness: d.witness.trim().to_owned(),
            note: d.refusal_note.trim().to_owned(),
        },
        at,
        read: Vec::new(),
    }))
}

/// What still blocks the signing, one line each in the screen's language (the rules' own
/// texts, from the record's view).
pub(crate) fn blocker_lines(l: Lang, view: &RecordView) -> Vec<String> {
    view.signing.blockers.iter().map(|u| l.err(u)).collect()
}

#[function_component]
pub(crate) fn Signing(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let id = r.id.to_string();
    let key = format!("person:{id}");
    let state = use_reducer(SigningState::default);
    {
        let loaded = state
            .dispatcher()
            .to_callback()
            .reform(SigningAction::Loaded);
        use_effect_with(key.clone(), move |key| load_draft(key.clone(), loaded));
    }
    {
        let key = key.clone();
        use_effect_with(
            (state.draft.clone(), state.loaded),
            move |(draft, loaded)| {
                if *loaded {
                    save_draft(key, draft);
                }
            },
        );
    }
    {
        let dispatch = state.dispatcher();
        use_effect_with(
            (state.loaded, r.onsite_person.clone()),
            move |(_, person)| {
                dispatch.dispatch(SigningAction::Person(person.clone()));
            },
        );
    }
    let draft = &state.draft;
    let error = state.error.clone();
    let outcome = state
        .dispatcher()
        .to_callback()
        .reform(SigningAction::Outcome);
    let field = |f: PersonField| {
        state
            .dispatcher()
            .to_callback()
            .reform(move |e: InputEvent| SigningAction::Edit(f, input_value(&e)))
    };
    let save_person = {
        let (state, outcome, on_view, id) = (
            state.clone(),
            outcome.clone(),
            props.on_view.clone(),
            id.clone(),
        );
        Callback::from(move |_| match person_command(&state.draft) {
            Ok(c) => send(id.clone(), c, on_view.clone(), outcome.clone()),
            Err(e) => outcome.emit(Some(e)),
        })
    };
    let sign = |signer: Signer, name: String, pad: String| {
        let (id, on_view, outcome) = (id.clone(), props.on_view.clone(), outcome.clone());
        let dispatch = state.dispatcher();
        let read = state.read.get(&pad).cloned().unwrap_or_default();
        Callback::from(move |image: String| {
            let Ok(image) = Sha256Hex::parse(&image) else {
                return;
            };
            let command = Command::Sign(Signature {
                signer: signer.clone(),
                name: name.clone(),
                outcome: SignOutcome::Signed { image },
                at: Timestamp(now_ms()),
                read: read.clone(),
            });
            let (id, on_view, outcome, dispatch, pad) = (
                id.clone(),
                on_view.clone(),
                outcome.clone(),
                dispatch.clone(),
                pad.clone(),
            );
            spawn_local(async move {
                match apply(&id, command).await {
                    Ok(change) => {
                        dispatch.dispatch(SigningAction::Signed(pad));
                        on_view.emit(change.into());
                    }
                    Err(e) => outcome.emit(Some(e)),
                }
            });
        })
    };
    // Before a pad opens, the documents to be signed are shown full screen.
    let show = |pad: String| {
        let (id, outcome) = (id.clone(), outcome.clone());
        let dispatch = state.dispatcher();
        Callback::from(move |_: MouseEvent| {
            let (id, outcome, dispatch, pad) =
                (id.clone(), outcome.clone(), dispatch.clone(), pad.clone());
            spawn_local(async move {
                match call(api::PreviewDocuments {
                    id: InspectionId::new(id),
                })
                .await
                {
                    Ok(papers) => dispatch.dispatch(SigningAction::Preview(pad, papers)),
                    Err(e) => outcome.emit(Some(e)),
                }
            });
        })
    };
    let on_read = state
        .dispatcher()
        .to_callback()
        .reform(|_| SigningAction::Read);
    let on_close = state
        .dispatcher()
        .to_callback()
        .reform(|_| SigningAction::ClosePreview);
    let refuse = {
        let (state, id, on_view, outcome) = (
            state.clone(),
            id.clone(),
            props.on_view.clone(),
            outcome.clone(),
        );
        let name = r
            .onsite_person
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        Callback::from(
            move |_| match refusal_command(&state.draft, &name, Timestamp(now_ms())) {
                Ok(c) => send(id.clone(), c, on_view.clone(), outcome.clone()),
                Err(e) => outcome.emit(Some(e)),
            },
        )
    };
    let complete = {
        let (id, on_view, outcome) = (id.clone(), props.on_view.clone(), outcome.clone());
        Callback::from(move |_| {
            let (id, on_view, outcome) = (id.clone(), on_view.clone(), outcome.clone());
            spawn_local(async move {
                match call(api::CompleteRecord {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    Ok(v) => {
                        outcome.emit(None);
                        drop_draft(format!("person:{id}"));
                        on_view.emit(v.into());
                    }
                    Err(e) => outcome.emit(Some(e)),
                }
            });
        })
    };
    let submit = {
        let (id, on_view, outcome) = (id.clone(), props.on_view.clone(), outcome.clone());
        Callback::from(move |_| {
            send(
                id.clone(),
                Command::Transition {
                    to: InspectionStatus::Submitted,
                    comment: String::new(),
                },
                on_view.clone(),
                outcome.clone(),
            )
        })
    };
    let editable = r.status.allows_content_edits();
    // What the rules offer (computed by the tablet, app_core::signing::sign_offer).
    let can_sign = props.view.signing.can_sign;
    let can_submit = props.view.signing.can_submit;
    let blockers = blocker_lines(l, &props.view);
    let enterprise_name = r
        .onsite_person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let missing = &props.view.numbers_missing;
    let this_year = props.view.numbers.iter().map(|s| s.year).min();
    let stock_of = |k: DocumentKind| {
        props
            .view
            .numbers
            .iter()
            .find(|s| s.kind == k && Some(s.year) == this_year)
            .map(|s| s.remaining)
    };
    // A signature older than the latest re-inspection is made again (app-core's rule).
    let stale = app_core::signing::stale_signatures(r);
    let enterprise_done = r.signatures.contains_key(&Signer::Enterprise.key())
        && !stale.contains(&Signer::Enterprise.key());
    let preview = state.preview.as_ref().map(|(pad, papers)| {
        let signer = if pad == "enterprise" {
            enterprise_name.clone()
        } else {
            r.inspectors
                .values()
                .find(|i| format!("inspector-{}", i.user) == *pad)
                .map(|i| i.name.clone())
                .unwrap_or_default()
        };
        html! { <PreviewOverlay signer={signer} papers={papers.clone()} on_read={on_read.clone()} on_close={on_close.clone()} /> }
    });
    html! {
        <section id="signing">
            { for preview }
            <h3>{ l.t("现场负责人与签名", "On-site person and signatures") }</h3>
            <div class="grid2">
                <div>
                    <label for="op-name">{ l.t("现场负责人姓名", "Name") }</label>
                    <input id="op-name" value={draft.name.clone()} oninput={field(PersonField::Name)} disabled={!editable} />
                    <label for="op-position">{ l.t("职务", "Position") }</label>
                    <input id="op-position" value={draft.position.clone()} oninput={field(PersonField::Position)} disabled={!editable} />
                    <label for="op-phone">{ l.t("联系电话", "Phone") }</label>
                    <input id="op-phone" value={draft.phone.clone()} oninput={field(PersonField::Phone)} disabled={!editable} />
                    { field_error(l, &error, "person") }
                    <div class="row" style="margin-top: 8px">
                        <button id="op-save" class="secondary" onclick={save_person} disabled={!editable}>{ l.t("保存现场负责人", "Save on-site person") }</button>
                        if r.onsite_person.is_some() { <span class="ok">{ l.t("已保存", "Saved") }</span> }
                    </div>
                </div>
                <div>
                    { for r.inspectors.values().map(|i| {
                        let signer = Signer::Inspector(i.user.clone());
                        let done = r.signatures.contains_key(&signer.key()) && !stale.contains(&signer.key());
                        let pad = format!("inspector-{}", i.user);
                        let read = state.read.contains_key(&pad);
                        html! {
                            <>
                            <SignPad pad_id={pad.clone()} title={format!("{}：{}", l.t("执法人员签名", "Inspector"), i.name)}
                                done={done} enabled={editable && read} on_signed={sign(signer, i.name.clone(), pad.clone())} />
                            if editable && !done && !read {
                                <button class="read-first" id={format!("read-{pad}")} onclick={show(pad.clone())}>{ l.t("先阅读文书，再签名", "Read the documents, then sign") }</button>
                            }
                            </>
                        }
                    }) }
                    if r.onsite_person.is_some() {
                        <SignPad pad_id="enterprise" title={format!("{}：{}", l.t("企业现场负责人签名", "Enterprise"), enterprise_name)}
                            done={enterprise_done} enabled={editable && state.read.contains_key("enterprise")}
                            on_signed={sign(Signer::Enterprise, enterprise_name.clone(), "enterprise".to_owned())} />
                        if editable && !enterprise_done && !state.read.contains_key("enterprise") {
                            <button class="read-first" id="read-enterprise" onclick={show("enterprise".to_owned())}>{ l.t("请现场负责人先阅读文书，再签名", "The on-site person reads the documents, then signs") }</button>
                        }
                        if !r.signatures.contains_key(&Signer::Enterprise.key()) {
                            <div class="card">
                                <strong>{ l.t("拒绝签字", "Refused to sign") }</strong>
                                <label for="refuse-witness">{ l.t("见证人", "Witness") }</label>
                                <input id="refuse-witness" value={draft.witness.clone()} oninput={field(PersonField::Witness)} />
                                { field_error(l, &error, "witness") }
                                <label for="refuse-note">{ l.t("情况说明", "Note") }</label>
                                <input id="refuse-note" value={draft.refusal_note.clone()} oninput={field(PersonField::RefusalNote)} />
                                <button id="refuse" class="secondary" onclick={refuse}>{ l.t("记录拒签", "Record the refusal") }</button>
                            </div>
                        } else if let Some(Signature { outcome: SignOutcome::Refused { witness, .. }, .. }) = r.signatures.get(&Signer::Enterprise.key()) {
                            <div class="card">{ format!("{}（{}：{witness}）", l.t("企业拒绝签字", "The enterprise refused to sign"), l.t("见证人", "witness")) }</div>
                        }
                    }
                </div>
            </div>
            if can_sign && !props.view.to_number.is_empty() {
                <div id="numbers-at-signing" class={classes!("muted", (!missing.is_empty()).then_some("error"))}>
                    { format!("{}{}", l.t("签署时将自动编文号：", "Signing issues the document numbers (文号) of: "),
                        props.view.to_number.iter().map(|k| format!("{}{}", document_label(l, *k),
                            stock_of(*k).map(|n| format!("{}{n}{}", l.t("（本机余 ", " ("), l.t(" 个）", " left)"))).unwrap_or_default()))
                            .collect::<Vec<_>>().join(l.t("、", ", "))) }
                    if !missing.is_empty() {
                        <div>{ l.t("本机已无可用编号，请先联网同步再签署。", "No numbers left on this tablet: sync before signing.") }</div>
                    }
                </div>
            }
            if can_sign && !blockers.is_empty() {
                <ul id="sign-blockers" class="muted">
                    { for blockers.iter().map(|b| html! { <li>{ b }</li> }) }
                </ul>
            }
            <div class="row" style="margin-top: 14px">
                if can_sign {
                    <button id="complete" onclick={complete}>{ l.t("完成检查并签署记录", "Complete and sign the record") }</button>
                }
                if can_submit {
                    <button id="submit" onclick={submit}>{ l.t("提交审核", "Submit for review") }</button>
                }
            </div>
            { other_error(l, &error, &["person", "witness"]) }
            if !props.view.signed.is_empty() {
                <div id="signed" class="card">
                    <h3>{ l.t("已签署版本", "Signed versions") }</h3>
                    { for props.view.signed.iter().map(|s| html! {
                        <div class="signed-version">
                            <strong>{ format!("{} · {}", s.id, s.at.display_shanghai()) }</strong>
                            <div class="muted">{ format!("SHA-256 {}", s.content_hash) }</div>
                            <div>{ if s.verified { l.t("签署内容已冻结并校验一致", "Signed content frozen and verified") } else { l.t("签署内容校验失败", "Signed content does not verify") } }</div>
                            if s.amendments.is_empty() {
                                <div class="muted amendments">{ l.t("签署后无修改", "No changes since signing") }</div>
                            } else {
                                <div class="amendments">{ format!("{}：{}", l.t("签署后的修改（补正）", "Amendments since signing"), s.amendments.iter().map(|path| l.field_label(path, r)).collect::<Vec<_>>().join("、")) }</div>
                            }
                        </div>
                    }) }
                </div>
            }
        </section>
    }
}
