//! The arrival proof of an unannounced (四不两直) visit (4).

use super::*;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ArrivalDraft {
    pub(crate) lat: String,
    pub(crate) lon: String,
    pub(crate) from_device: bool,
    pub(crate) photo: Option<String>,
    pub(crate) thumb: Option<String>,
    /// Where the entrance photo says it was taken (EXIF GPS), if it says: offered when the
    /// device cannot locate, before typing by hand.
    #[serde(default)]
    pub(crate) photo_position: Option<(f64, f64)>,
    /// The position was taken from the entrance photo's EXIF.
    #[serde(default)]
    pub(crate) from_photo: bool,
    /// The device could not locate (the EXIF offer is shown).
    #[serde(default)]
    pub(crate) no_device_position: bool,
}

#[function_component]
pub(crate) fn Arrival(props: &ViewProps) -> Html {
    let ctx = use_context::<Ctx>().expect("ctx");
    let l = ctx.lang;
    let r = &props.view.record;
    let id = r.id.to_string();
    let (draft, _) = use_draft::<ArrivalDraft>(format!("arrival:{id}"));
    let error = use_state(|| None::<ApiError>);
    let unannounced = r.kind == InspectionKind::Unannounced;
    let locate = {
        let (draft, error) = (draft.clone(), error.clone());
        Callback::from(move |_| {
            let (draft, error) = (draft.clone(), error.clone());
            spawn_local(async move {
                match crate::bridge::position(5000).await {
                    Some((lat, lon)) => draft.set(ArrivalDraft {
                        lat: format!("{lat:.6}"),
                        lon: format!("{lon:.6}"),
                        from_device: true,
                        from_photo: false,
                        no_device_position: false,
                        ..(*draft).clone()
                    }),
                    None => {
                        draft.set(ArrivalDraft {
                            no_device_position: true,
                            ..(*draft).clone()
                        });
                        error.set(Some(input_error(
                            "本机无法定位：可采用入口照片中的定位，或手动输入经纬度（将标记为手动录入）",
                            "no position from this device: use the entrance photo's position, or enter it by hand (marked as manual)",
                            "position",
                        )))
                    }
                }
            });
        })
    };
    let set_lat = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ArrivalDraft {
                lat: input_value(&e),
                from_device: false,
                from_photo: false,
                ..(*draft).clone()
            })
        })
    };
    let set_lon = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(ArrivalDraft {
                lon: input_value(&e),
                from_device: false,
                from_photo: false,
                ..(*draft).clone()
            })
        })
    };
    let photo = {
        let (draft, error, id) = (draft.clone(), error.clone(), id.clone());
        Callback::from(move |e: Event| {
            let (draft, error) = (draft.clone(), error.clone());
            let done = Callback::from(move |answer: Result<PhotoAnswer, ApiError>| match answer {
                Ok(p) => {
                    error.set(None);
                    draft.set(ArrivalDraft {
                        photo: Some(p.sha256.to_string()),
                        thumb: Some(p.thumb),
                        photo_position: p.lat.zip(p.lon),
                        ..(*draft).clone()
                    });
                }
                Err(e) => error.set(Some(e)),
            });
            take_loose_photo(&e, id.clone(), done);
        })
    };
    let use_photo_position = {
        let draft = draft.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some((lat, lon)) = draft.photo_position {
                draft.set(ArrivalDraft {
                    lat: format!("{lat:.6}"),
                    lon: format!("{lon:.6}"),
                    from_device: false,
                    from_photo: true,
                    ..(*draft).clone()
                });
            }
        })
    };
    let attest = |which: u8| {
        let (id, error, on_view) = (id.clone(), error.clone(), props.on_view.clone());
        Callback::from(move |_: Event| {
            // Both boxes as they are on screen now (a quick second tap must not undo the first).
            let checked = |id: &str| {
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(id))
                    .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
                    .is_some_and(|i| i.checked())
            };
            let _ = which;
            let a = Attestations {
                no_notice_given: checked("att-notice"),
                no_escort_accepted: checked("att-escort"),
            };
            let error = error.clone();
            send(
                id.clone(),
                Command::SetAttestations(a),
                on_view.clone(),
                Callback::from(move |e| error.set(e)),
            );
        })
    };
    let confirm = {
        let (draft, error, id, on_view) = (
            draft.clone(),
            error.clone(),
            id.clone(),
            props.on_view.clone(),
        );
        Callback::from(move |_| {
            let d = (*draft).clone();
            let (error, id, on_view) = (error.clone(), id.clone(), on_view.clone());
            spawn_local(async move {
                if unannounced {
                    let (Ok(lat), Ok(lon)) =
                        (d.lat.trim().parse::<f64>(), d.lon.trim().parse::<f64>())
                    else {
                        error.set(Some(input_error(
                            "请填写到达位置（纬度、经度为数字）",
                            "enter the arrival position (latitude and longitude as numbers)",
                            "position",
                        )));
                        return;
                    };
                    let source = if d.from_device {
                        PositionSource::Device
                    } else if d.from_photo {
                        PositionSource::Photo
                    } else {
                        PositionSource::Manual
                    };
                    let Ok(position) = Position::new(lat, lon, source) else {
                        error.set(Some(input_error(
                            "位置超出范围：纬度 −90～90，经度 −180～180",
                            "position out of range: latitude −90..90, longitude −180..180",
                            "position",
                        )));
                        return;
                    };
                    let Some(photo) = d.photo.as_deref().and_then(|p| Sha256Hex::parse(p).ok())
                    else {
                        error.set(Some(input_error(
                            "请拍摄或选择企业入口照片",
                            "take or choose the entrance photo",
                            "photo",
                        )));
                        return;
                    };
                    let proof = ArrivalProof {
                        at: Timestamp(now_ms()),
                        position,
                        entrance_photo: photo,
                    };
                    match call(api::ApplyCommand {
                        id: InspectionId::new(id.clone()),
                        command: Command::SetArrival(proof),
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
                let go_on_site = Command::Transition {
                    to: InspectionStatus::OnSite,
                    comment: String::new(),
                };
                match call(api::ApplyCommand {
                    id: InspectionId::new(id.clone()),
                    command: go_on_site,
                })
                .await
                {
                    Ok(change) => {
                        drop_draft(format!("arrival:{id}"));
                        on_view.emit(change.into());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section id="arrival" class="card">
            <h3>{ if unannounced { l.t("第一步：到达凭证（四不两直）", "Step 1: arrival proof (unannounced)") } else { l.t("开始现场检查", "Start on site") } }</h3>
            if unannounced {
                <p>{ format!("{}：{}", l.t("到达时间（确认时记录）", "Arrival time (recorded on confirm)"), Timestamp(now_ms()).display_shanghai()) }</p>
                <div class="grid2">
                    <div>
                        <label>{ l.t("到达位置", "Arrival position") }</label>
                        <div class="row">
                            <input id="lat" placeholder={l.t("纬度", "latitude")} value={draft.lat.clone()} oninput={set_lat} style="width: 45%" />
                            <input id="lon" placeholder={l.t("经度", "longitude")} value={draft.lon.clone()} oninput={set_lon} style="width: 45%" />
                        </div>
                        <div class="row">
                            <button id="locate" class="secondary" onclick={locate}>{ l.t("获取设备定位", "Use device position") }</button>
                            <span id="position-source" class="muted">{ if draft.from_device { l.t("来源：设备定位", "source: device") } else if draft.from_photo { l.t("来源：入口照片定位", "source: entrance photo") } else { l.t("来源：手动录入", "source: entered by hand") } }</span>
                        </div>
                        if let (true, Some((lat, lon))) = (draft.no_device_position && !draft.from_photo, draft.photo_position) {
                            <div class="row">
                                <button id="use-photo-position" class="secondary" onclick={use_photo_position}>{ format!("{}（{lat:.5}, {lon:.5}）", l.t("采用入口照片中的定位", "Use the entrance photo's position")) }</button>
                            </div>
                        }
                        { field_error(l, &error, "position") }
                    </div>
                    <div>
                        <div class="label">{ l.t("企业入口照片", "Entrance photo") }</div>
                        <div class="row">
                            <label class="button secondary camera">
                                { if draft.photo.is_some() { l.t("重拍入口照片", "Retake the entrance photo") } else { l.t("拍照", "Take photo") } }
                                <input id="entrance-photo" type="file" accept="image/*" capture="environment" onchange={photo} />
                            </label>
                            <span id="entrance-status" class="muted">{ if draft.photo.is_some() { l.t("已附入口照片", "Entrance photo attached") } else { l.t("尚未拍摄", "No photo yet") } }</span>
                        </div>
                        if let Some(t) = &draft.thumb { <div class="thumbs"><img id="entrance-thumb" src={t.clone()} alt="entrance" /></div> }
                        { field_error(l, &error, "photo") }
                    </div>
                </div>
                <label class="check"><input id="att-notice" type="checkbox" checked={r.attestations.no_notice_given} onchange={attest(0)} />{ l.t("本次检查未提前通知", "No notice was given") }</label>
                <label class="check"><input id="att-escort" type="checkbox" checked={r.attestations.no_escort_accepted} onchange={attest(1)} />{ l.t("未接受陪同和接待", "No escort or hospitality accepted") }</label>
            }
            <p class="muted">{ format!("{}：{}", l.t("执法人员", "Inspectors"), r.inspectors.values().map(|i| format!("{}（{}）", i.name, i.certificate.as_str())).collect::<Vec<_>>().join("、")) }</p>
            <div class="row"><button id="arrive" onclick={confirm}>{ l.t("确认到达，开始检查", "Confirm arrival and start") }</button></div>
            { other_error(l, &error, &["position", "photo"]) }
        </section>
    }
}
