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

#[function_component]
pub(crate) fn Signing(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let id = r.id.to_string();
    let (draft, loaded) = use_draft::<PersonDraft>(format!("person:{id}"));
    let error = use_state(|| None::<ApiError>);
    if loaded
        && !draft.started
        && let Some(p) = &r.onsite_person
    {
        draft.set(PersonDraft {
            started: true,
            name: p.name.clone(),
            position: p.position.clone(),
            phone: p.phone.clone(),
            ..(*draft).clone()
        });
    }
    let field = |f: fn(&mut PersonDraft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            d.started = true;
            f(&mut d, input_value(&e));
            draft.set(d);
        })
    };
    let save_person = {
        let (draft, error, on_view, id) = (
            draft.clone(),
            error.clone(),
            props.on_view.clone(),
            id.clone(),
        );
        Callback::from(move |_| {
            let d = (*draft).clone();
            if d.name.trim().is_empty() {
                error.set(Some(input_error(
                    "请填写现场负责人姓名",
                    "enter the on-site person's name",
                    "person",
                )));
                return;
            }
            send(
                id.clone(),
                Command::SetOnsitePerson(OnsitePerson {
                    name: d.name.trim().to_owned(),
                    position: d.position.trim().to_owned(),
                    phone: d.phone.trim().to_owned(),
                }),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let sign = |signer: Signer, name: String| {
        let (id, on_view, error) = (id.clone(), props.on_view.clone(), error.clone());
        Callback::from(move |image: String| {
            let Ok(image) = Sha256Hex::parse(&image) else {
                return;
            };
            send(
                id.clone(),
                Command::Sign(Signature {
                    signer: signer.clone(),
                    name: name.clone(),
                    outcome: SignOutcome::Signed { image },
                    at: Timestamp(now_ms()),
                }),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let refuse = {
        let (draft, id, on_view, error) = (
            draft.clone(),
            id.clone(),
            props.on_view.clone(),
            error.clone(),
        );
        let name = r
            .onsite_person
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        Callback::from(move |_| {
            let d = (*draft).clone();
            if d.witness.trim().is_empty() {
                error.set(Some(input_error(
                    "拒绝签字须填写见证人",
                    "a refusal to sign needs a witness",
                    "witness",
                )));
                return;
            }
            send(
                id.clone(),
                Command::Sign(Signature {
                    signer: Signer::Enterprise,
                    name: name.clone(),
                    outcome: SignOutcome::Refused {
                        witness: d.witness.trim().to_owned(),
                        note: d.refusal_note.trim().to_owned(),
                    },
                    at: Timestamp(now_ms()),
                }),
                on_view.clone(),
                error.clone(),
            );
        })
    };
    let complete = {
        let (id, on_view, error) = (id.clone(), props.on_view.clone(), error.clone());
        Callback::from(move |_| {
            let (id, on_view, error) = (id.clone(), on_view.clone(), error.clone());
            spawn_local(async move {
                match call(api::CompleteRecord {
                    id: InspectionId::new(id.clone()),
                })
                .await
                {
                    Ok(v) => {
                        error.set(None);
                        drop_draft(format!("person:{id}"));
                        on_view.emit(v.into());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let submit = {
        let (id, on_view, error) = (id.clone(), props.on_view.clone(), error.clone());
        Callback::from(move |_| {
            send(
                id.clone(),
                Command::Transition {
                    to: InspectionStatus::Submitted,
                    comment: String::new(),
                },
                on_view.clone(),
                error.clone(),
            )
        })
    };
    let editable = r.status.allows_content_edits();
    let signed_since_edit = match (r.signed_versions.values().map(|v| v.at).max(), &r.review) {
        (Some(at), Some(review)) => at >= review.at,
        (Some(_), None) => true,
        _ => false,
    };
    // Changed since the latest signature: amendments to sign again before submitting.
    let amended = props
        .view
        .signed
        .iter()
        .max_by_key(|s| s.at)
        .is_some_and(|s| !s.amendments.is_empty());
    let can_sign = r.status == InspectionStatus::OnSite
        || (matches!(
            r.status,
            InspectionStatus::Completed | InspectionStatus::Returned
        ) && (!signed_since_edit || amended));
    let enterprise_name = r
        .onsite_person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let missing = props.view.numbers_missing();
    let this_year = props.view.numbers.iter().map(|s| s.year).min();
    let stock_of = |k: DocumentKind| {
        props
            .view
            .numbers
            .iter()
            .find(|s| s.kind == k && Some(s.year) == this_year)
            .map(|s| s.remaining)
    };
    html! {
        <section id="signing">
            <h3>{ l.t("现场负责人与签名", "On-site person and signatures") }</h3>
            <div class="grid2">
                <div>
                    <label for="op-name">{ l.t("现场负责人姓名", "Name") }</label>
                    <input id="op-name" value={draft.name.clone()} oninput={field(|d, v| d.name = v)} disabled={!editable} />
                    <label for="op-position">{ l.t("职务", "Position") }</label>
                    <input id="op-position" value={draft.position.clone()} oninput={field(|d, v| d.position = v)} disabled={!editable} />
                    <label for="op-phone">{ l.t("联系电话", "Phone") }</label>
                    <input id="op-phone" value={draft.phone.clone()} oninput={field(|d, v| d.phone = v)} disabled={!editable} />
                    { field_error(l, &error, "person") }
                    <div class="row" style="margin-top: 8px">
                        <button id="op-save" class="secondary" onclick={save_person} disabled={!editable}>{ l.t("保存现场负责人", "Save on-site person") }</button>
                        if r.onsite_person.is_some() { <span class="ok">{ l.t("已保存", "Saved") }</span> }
                    </div>
                </div>
                <div>
                    { for r.inspectors.values().map(|i| {
                        let signer = Signer::Inspector(i.user.clone());
                        let done = r.signatures.contains_key(&signer.key());
                        html! {
                            <SignPad pad_id={format!("inspector-{}", i.user)} title={format!("{}：{}", l.t("执法人员签名", "Inspector"), i.name)}
                                done={done} enabled={editable} on_signed={sign(signer, i.name.clone())} />
                        }
                    }) }
                    if r.onsite_person.is_some() {
                        <SignPad pad_id="enterprise" title={format!("{}：{}", l.t("企业现场负责人签名", "Enterprise"), enterprise_name)}
                            done={r.signatures.contains_key(&Signer::Enterprise.key())} enabled={editable} on_signed={sign(Signer::Enterprise, enterprise_name.clone())} />
                        if !r.signatures.contains_key(&Signer::Enterprise.key()) {
                            <div class="card">
                                <strong>{ l.t("拒绝签字", "Refused to sign") }</strong>
                                <label for="refuse-witness">{ l.t("见证人", "Witness") }</label>
                                <input id="refuse-witness" value={draft.witness.clone()} oninput={field(|d, v| d.witness = v)} />
                                { field_error(l, &error, "witness") }
                                <label for="refuse-note">{ l.t("情况说明", "Note") }</label>
                                <input id="refuse-note" value={draft.refusal_note.clone()} oninput={field(|d, v| d.refusal_note = v)} />
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
            <div class="row" style="margin-top: 14px">
                if can_sign {
                    <button id="complete" onclick={complete}>{ l.t("完成检查并签署记录", "Complete and sign the record") }</button>
                }
                if matches!(r.status, InspectionStatus::Completed | InspectionStatus::Returned) && signed_since_edit {
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
                                <div class="amendments">{ format!("{}：{}", l.t("签署后的修改（补正）", "Amendments since signing"), s.amendments.join("、")) }</div>
                            }
                        </div>
                    }) }
                </div>
            }
        </section>
    }
}
