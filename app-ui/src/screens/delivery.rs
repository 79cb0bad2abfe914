//! 送达 (6): after signing, each issued document with its service state, and how it was
//! served recorded per document (`Command::RecordService`, app-core's rules).

use super::*;
use app_core::delivery::{LaterMeans, Service, ServiceMethod};

/// The service form: how, to whom, before which witness and why (留置送达).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServiceDraft {
    /// `direct`, `left`, `post` or `electronic`.
    pub(crate) method: String,
    pub(crate) recipient: Option<String>,
    pub(crate) witness: String,
    pub(crate) reason: String,
}

/// The method of form `d` (直接送达 unless another was chosen).
pub(crate) fn service_method(d: &ServiceDraft, default_recipient: &str) -> ServiceMethod {
    let recipient = d
        .recipient
        .clone()
        .unwrap_or_else(|| default_recipient.to_owned())
        .trim()
        .to_owned();
    match d.method.as_str() {
        "left" => ServiceMethod::Left {
            recipient,
            witness: d.witness.trim().to_owned(),
            reason: d.reason.trim().to_owned(),
        },
        "post" => ServiceMethod::Pending {
            means: LaterMeans::Post,
        },
        "electronic" => ServiceMethod::Pending {
            means: LaterMeans::Electronic,
        },
        _ => ServiceMethod::Direct { recipient },
    }
}

#[function_component]
pub(crate) fn Delivery(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let draft = use_state(ServiceDraft::default);
    let error = use_state(|| None::<ApiError>);
    if r.documents.is_empty() || r.signed_versions.is_empty() {
        return html! {};
    }
    let onsite = r
        .onsite_person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let edit = |f: fn(&mut ServiceDraft, String)| {
        let draft = draft.clone();
        move |value: String| {
            let mut d = (*draft).clone();
            f(&mut d, value);
            draft.set(d);
        }
    };
    let on_method = {
        let set = edit(|d, v| d.method = v);
        Callback::from(move |e: Event| set(select_value(&e)))
    };
    let on_recipient = {
        let set = edit(|d, v| d.recipient = Some(v));
        Callback::from(move |e: InputEvent| set(input_value(&e)))
    };
    let on_witness = {
        let set = edit(|d, v| d.witness = v);
        Callback::from(move |e: InputEvent| set(input_value(&e)))
    };
    let on_reason = {
        let set = edit(|d, v| d.reason = v);
        Callback::from(move |e: InputEvent| set(input_value(&e)))
    };
    let serve = |number: String, kind: DocumentKind| {
        let (id, on_view, error, draft, onsite) = (
            r.id.to_string(),
            props.on_view.clone(),
            error.clone(),
            draft.clone(),
            onsite.clone(),
        );
        let by = ctx.user.as_ref().map(|u| u.id.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(by) = by.clone() else { return };
            let command = Command::RecordService(Service {
                number: number.clone(),
                kind,
                method: service_method(&draft, &onsite),
                at: Timestamp(now_ms()),
                by,
            });
            send(
                id.clone(),
                command,
                on_view.clone(),
                Callback::from({
                    let error = error.clone();
                    move |e| error.set(e)
                }),
            );
        })
    };
    let states = app_core::delivery::states(r);
    let left = draft.method == "left";
    html! {
        <section id="service">
            <h3>{ l.t("文书送达", "Service of the documents (送达)") }</h3>
            <table class="service-list">
                { for states.iter().enumerate().map(|(n, (d, s))| html! {
                    <tr id={format!("service-{n}")}>
                        <td>{ format!("{} {}", document_label(l, d.kind), d.number) }</td>
                        <td class="service-state">{ match s {
                            None => l.t("未送达", "Not served").to_owned(),
                            Some(s) => format!("{} · {}", l.service_method(&s.method), s.at.display_shanghai()),
                        } }</td>
                        <td>
                            if props.view.record.status.visit_done() {
                                <button class="secondary serve" id={format!("serve-{n}")} onclick={serve(d.number.clone(), d.kind)}>
                                    { if s.is_some() { l.t("重新记录送达", "Record again") } else { l.t("记录送达", "Record service") } }
                                </button>
                            }
                        </td>
                    </tr>
                }) }
            </table>
            <div class="grid2">
                <div>
                    <label for="service-method">{ l.t("送达方式", "How") }</label>
                    <select id="service-method" onchange={on_method}>
                        <option value="direct" selected={draft.method.is_empty() || draft.method == "direct"}>{ l.t("直接送达（当场签收）", "In person (signed for)") }</option>
                        <option value="left" selected={left}>{ l.t("留置送达（拒收）", "Left at the premises (refused)") }</option>
                        <option value="post" selected={draft.method == "post"}>{ l.t("待送达（邮寄）", "Later, by post") }</option>
                        <option value="electronic" selected={draft.method == "electronic"}>{ l.t("待送达（电子送达）", "Later, electronically") }</option>
                    </select>
                    <label for="service-recipient">{ l.t("受送达人（签收人）", "Recipient") }</label>
                    <input id="service-recipient" value={draft.recipient.clone().unwrap_or_else(|| onsite.clone())} oninput={on_recipient} />
                    { field_error(l, &error, "service-recipient") }
                </div>
                if left {
                    <div>
                        <label for="service-witness">{ l.t("见证人", "Witness") }</label>
                        <input id="service-witness" value={draft.witness.clone()} oninput={on_witness} />
                        <label for="service-reason">{ l.t("拒收事由", "Reason for refusal") }</label>
                        <input id="service-reason" value={draft.reason.clone()} oninput={on_reason} />
                        { field_error(l, &error, "service-witness") }
                    </div>
                }
            </div>
            { other_error(l, &error, &["service-recipient", "service-witness"]) }
        </section>
    }
}

/// The enterprise's copy: the signed PDFs written to the export folder for sharing, and a QR
/// code with the SHA-256 of each (`ExportEnterpriseCopy`).
#[function_component]
pub(crate) fn EnterpriseCopyPanel(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let copy = use_state(|| None::<Result<EnterpriseCopy, ApiError>>);
    if props.view.record.signed_versions.is_empty() {
        return html! {};
    }
    let make = {
        let (copy, id) = (copy.clone(), props.view.record.id.to_string());
        Callback::from(move |_: MouseEvent| {
            let (copy, id) = (copy.clone(), id.clone());
            spawn_local(async move {
                let answer = call(api::ExportEnterpriseCopy {
                    id: InspectionId::new(id),
                })
                .await;
                copy.set(Some(answer));
            });
        })
    };
    html! {
        <section id="enterprise-copy">
            <h3>{ l.t("企业副本", "The enterprise's copy") }</h3>
            <button id="make-copy" class="secondary" onclick={make}>{ l.t("生成企业副本（PDF 与二维码）", "Make the enterprise's copy (PDF and QR code)") }</button>
            { match &*copy {
                None => html! {},
                Some(Err(e)) => error_view(l, &Some(e.clone())),
                Some(Ok(c)) => html! {
                    <div class="card" id="copy-ready">
                        <div>{ l.t("已写入导出文件夹，可分享给企业：", "Written to the export folder, to share with the enterprise:") }</div>
                        <ul>{ for c.files.iter().map(|f| html! { <li class="copy-file">{ format!("{} · {} · SHA-256 {}", f.name, human_size(f.bytes), f.sha256) }</li> }) }</ul>
                        if !c.warnings.is_empty() {
                            <ul id="copy-warnings" class="warning" role="status">
                                { for c.warnings.iter().map(|w| html! { <li>{ l.t(&w.zh, &w.en) }</li> }) }
                            </ul>
                        }
                        <img id="copy-qr" alt={l.t("企业副本二维码", "QR code of the copy").to_owned()}
                            src={format!("data:image/svg+xml;utf8,{}", svg_data(&c.qr_svg))} />
                        <div class="muted">{ l.t("二维码含记录号、签署版本和每个文件的 SHA-256，企业联网后可据此核对副本。", "The QR code carries the record, the signed version and each file's SHA-256, to check the copy against.") }</div>
                    </div>
                },
            } }
        </section>
    }
}

/// `svg` escaped for a `data:` URL.
fn svg_data(svg: &str) -> String {
    svg.chars()
        .map(|c| match c {
            '#' => "%23".to_owned(),
            '%' => "%25".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            '"' => "'".to_owned(),
            '\n' => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
