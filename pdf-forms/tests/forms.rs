//! The three forms from a realistic record (the real 工贸 checklist, signed through
//! `app_core::signing`): every required field in `pdftotext`, the number, the legal bases of
//! failed items, the deadlines, the hash footer; embedded subset fonts; A4; renders that are
//! not blank and show the signature images.

mod common;

use app_core::evidence::Sha256Hex;
use app_core::ids::ItemCode;
use app_core::inspection::Inspection;
use common::*;
use pdf_forms::FormKind;
use std::path::{Path, PathBuf};

struct Rendered {
    v1: Inspection,
    v2: Inspection,
    case: Case,
}

fn rendered() -> Rendered {
    let mut case = on_site_case(&Names::default(), false);
    let v1 = case.sign("v1");
    reinspect(&mut case);
    let v2 = case.sign("v2");
    Rendered { v1, v2, case }
}

fn render_to(r: &Rendered, kind: FormKind, record: &Inspection, name: &str) -> PathBuf {
    let images = r.case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(kind, &r.case.input(record, &lookup));
    write(name, &pdf)
}

fn assert_contains(haystack: &str, needle: &str, what: &str) {
    assert!(
        haystack.contains(needle),
        "{what}: {needle:?} not found in the extracted text:\n{haystack}"
    );
}

fn hash_footer(path: &Path, record: &Inspection) {
    let layout = text_layout(path);
    let hash = app_core::signing::content_hash(record);
    let pages = poppler("pdfinfo", &[path.to_str().unwrap()]);
    let n: usize = pages
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Every page carries the hash and its page number.
    assert_eq!(
        layout.matches(&format!("内容哈希 SHA-256：{hash}")).count(),
        n,
        "hash footer on each of {n} pages"
    );
    let joined = squash(&layout);
    for i in 1..=n {
        assert_contains(&joined, &format!("第{i}页共{n}页"), "page number");
    }
}

#[test]
fn inspection_record_shows_every_field_the_number_the_failed_items_and_the_hash() {
    let r = rendered();
    let path = render_to(&r, FormKind::InspectionRecord, &r.v1, "record.pdf");
    let layout = text_layout(&path);
    let joined = text_joined(&path);
    let e = &r.v1.enterprise;
    assert_contains(&layout, "现场检查记录", "title");
    assert_contains(&layout, UNIT_NAME, "unit");
    assert_contains(&layout, "（玄武）应急检记〔2026〕12号", "number");
    for (label, value) in [
        ("被检查单位", e.name.as_str()),
        ("统一社会信用代码", e.uscc.as_str()),
        ("地址", e.address.as_str()),
        ("法定代表人（负责人）", e.legal_representative.as_str()),
        ("联系电话", e.phone.as_str()),
        ("现场负责人", "陈立新（安全生产管理部经理）"),
        ("联系电话", "13905171234"),
        ("检查场所", "抛光车间、喷涂车间、危化品仓库"),
        // Asia/Shanghai: T0 is 00:00 UTC; started 3 minutes into the script of steps.
        ("检查时间", "2026年11月23日08时"),
        ("执法人员及执法证号", "王强（执法证号：32010220180012）"),
        ("执法人员及执法证号", "李娜（执法证号：32010220190345）"),
        ("记录人", "王强"),
        ("检查类别", "四不两直"),
    ] {
        assert_contains(&joined, &squash(label), "label");
        assert_contains(&joined, &squash(value), label);
    }
    assert_contains(&joined, &squash(SUMMARY), "检查情况");
    assert_contains(&joined, "未提前通知、未接受陪同和接待", "attestations");
    // Every failed item with its title and legal basis from the template.
    let t = template();
    for code in FAILED {
        let item = t.item(&ItemCode::from(code)).unwrap();
        assert_contains(&joined, &squash(&item.text), code);
        for b in &item.basis {
            assert_contains(&joined, &squash(&b.to_string()), code);
        }
        if let Some(m) = &item.major_hazard {
            assert_contains(&joined, &squash(&format!("判定为重大事故隐患：{m}")), code);
        }
    }
    for d in ["2026年12月8日前", "2026年11月30日前", "2027年1月22日前"] {
        assert_contains(&joined, d, "deadline");
    }
    assert_contains(&joined, "区级挂牌督办", "major hazard listing");
    for name in ["王强", "李娜", "陈立新"] {
        assert_contains(&joined, name, "signatory");
    }
    hash_footer(&path, &r.v1);
}

#[test]
fn rectification_order_lists_each_hazard_with_basis_measures_deadline_and_the_rights() {
    let r = rendered();
    let path = render_to(&r, FormKind::RectificationOrder, &r.v1, "order.pdf");
    let layout = text_layout(&path);
    let joined = text_joined(&path);
    assert_contains(&layout, "（玄武）应急责改〔2026〕5号", "number");
    assert_contains(&joined, &squash(&r.v1.enterprise.name), "enterprise");
    for h in r.v1.hazards.values() {
        assert_contains(&joined, &squash(&h.description), "problem");
        assert_contains(&joined, &squash(&h.measures), "measures");
        for b in &h.basis {
            assert_contains(&joined, &squash(&b.to_string()), "basis");
        }
    }
    // The major hazard also cites the clause that makes it one.
    assert_contains(
        &joined,
        "《工贸企业重大事故隐患判定标准》第十一条第（三）项",
        "major-hazard clause",
    );
    for d in ["2026年12月8日前", "2026年11月30日前", "2027年1月22日前"] {
        assert_contains(&joined, d, "deadline");
    }
    assert_contains(
        &joined,
        "整改期间，你单位应当采取措施，确保安全生产",
        "keep safe",
    );
    assert_contains(&joined, "60日内申请行政复议", "reconsideration");
    assert_contains(&joined, "6个月内依法向人民法院提起行政诉讼", "litigation");
    assert_contains(
        &joined,
        &squash(&format!("{UNIT_NAME}（印章）")),
        "seal line",
    );
    hash_footer(&path, &r.v1);
}

#[test]
fn reinspection_opinion_gives_rectified_or_not_per_problem_and_refers_to_the_order() {
    let r = rendered();
    let path = render_to(&r, FormKind::ReinspectionOpinion, &r.v2, "opinion.pdf");
    let layout = text_layout(&path);
    let joined = text_joined(&path);
    assert_contains(&layout, "（玄武）应急复查〔2026〕3号", "number");
    assert_contains(
        &joined,
        "（玄武）应急责改〔2026〕5号《责令限期整改指令书》",
        "order",
    );
    assert_contains(&joined, "于2026年12月2日进行了复查", "date");
    let h2 = &r.v2.hazards["h-2"];
    let h3 = &r.v2.hazards["h-3"];
    // One row per re-inspection, in hazard order: h-2 passed, h-3 failed.
    let pos = |s: &str| {
        joined
            .find(&squash(s))
            .unwrap_or_else(|| panic!("{s} missing"))
    };
    assert!(pos(&h2.description) < pos("已整改"));
    assert!(pos("已整改") < pos(&h3.description));
    assert!(pos(&h3.description) < pos("未整改"));
    assert_contains(&joined, "责令于2026年12月31日前整改完毕", "new deadline");
    assert_contains(&joined, "泄爆片已采购，尚未安装", "note");
    assert_contains(&joined, "第2项问题未整改完毕", "next steps");
    assert!(
        !joined.contains(&squash(&r.v2.hazards["h-1"].description)),
        "h-1 was not re-inspected"
    );
    assert_contains(&joined, "复查人员", "re-inspectors");
    assert_contains(
        &joined,
        &squash(&format!("{UNIT_NAME}（印章）")),
        "seal line",
    );
    assert_contains(&joined, "2026年12月2日", "issue date");
    hash_footer(&path, &r.v2);
}

#[test]
fn fonts_are_embedded_subsets_and_every_page_is_a4() {
    let r = rendered();
    for (kind, rec) in [
        (FormKind::InspectionRecord, &r.v1),
        (FormKind::RectificationOrder, &r.v1),
        (FormKind::ReinspectionOpinion, &r.v2),
    ] {
        let path = render_to(&r, kind, rec, &format!("fonts-{kind:?}.pdf"));
        let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{kind:?}: no fonts");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // name, type (2 words), encoding, emb, sub, uni, object, generation
            let n = cols.len();
            assert_eq!(
                &cols[n - 5..n - 2],
                ["yes", "yes", "yes"],
                "{kind:?}: {row}"
            );
            assert!(cols[0].contains('+'), "subset tag: {row}");
        }
        let info = poppler("pdfinfo", &["-f", "1", "-l", "99", path.to_str().unwrap()]);
        let sizes: Vec<&str> = info
            .lines()
            .filter(|l| l.starts_with("Page") && l.contains("size:"))
            .collect();
        assert!(!sizes.is_empty());
        for s in sizes {
            assert!(s.contains("595.28 x 841.89 pts (A4)"), "{kind:?}: {s}");
        }
    }
}

/// A PPM (P6) render: width, height, RGB bytes.
fn ppm(path: &Path, page: usize, dpi: u32) -> (usize, usize, Vec<u8>) {
    let prefix = path.with_extension(format!("p{page}"));
    let p = page.to_string();
    poppler(
        "pdftoppm",
        &[
            "-r",
            &dpi.to_string(),
            "-f",
            &p,
            "-l",
            &p,
            "-singlefile",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(prefix.with_extension(format!("p{page}.ppm"))).unwrap();
    // Header: "P6\n<w> <h>\n255\n".
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[i + 1..].to_vec())
}

#[test]
fn renders_are_not_blank_and_draw_the_signature_images() {
    let r = rendered();
    // Only when asked (`cargo xtask screenshots` sets the folder).
    let screenshots = std::env::var_os("SCREENSHOTS_DIR");
    for (kind, rec, sign_page) in [
        (FormKind::InspectionRecord, &r.v1, 2),
        (FormKind::RectificationOrder, &r.v1, 1),
        (FormKind::ReinspectionOpinion, &r.v2, 1),
    ] {
        let path = render_to(&r, kind, rec, &format!("render-{kind:?}.pdf"));
        let (w, h, px) = ppm(&path, 1, 80);
        // A4 at 80 dpi: 8.27 × 11.69 in.
        assert!(
            (660..=663).contains(&w) && (934..=937).contains(&h),
            "{w}×{h}"
        );
        let dark = px.chunks(3).filter(|p| p.iter().all(|c| *c < 100)).count();
        // Text and boxes: a few percent of the page is ink, far from blank.
        assert!(
            dark > w * h / 100,
            "{kind:?}: page 1 looks blank ({dark} dark px)"
        );
        let (_, _, px) = ppm(&path, sign_page, 80);
        // The signature PNGs are red scribbles; nothing else on a form is red.
        let red = px
            .chunks(3)
            .filter(|p| p[0] > 150 && p[1] < 90 && p[2] < 90)
            .count();
        assert!(
            red > 600,
            "{kind:?}: signature images not drawn ({red} red px)"
        );
        if let Some(dir) = &screenshots {
            let dir = Path::new(dir);
            std::fs::create_dir_all(dir).unwrap();
            let name = match kind {
                FormKind::InspectionRecord => "pdf-inspection-record",
                FormKind::RectificationOrder => "pdf-rectification-order",
                FormKind::ReinspectionOpinion => "pdf-reinspection-opinion",
            };
            poppler(
                "pdftoppm",
                &[
                    "-r",
                    "80",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    "-png",
                    path.to_str().unwrap(),
                    dir.join(name).to_str().unwrap(),
                ],
            );
        }
    }
}

#[test]
fn a_refusal_to_sign_prints_拒绝签字_with_the_witness() {
    let mut case = on_site_case(&Names::default(), true);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::InspectionRecord, &case.input(&v1, &lookup));
    let path = write("refused.pdf", &pdf);
    let joined = text_joined(&path);
    assert_contains(&joined, "拒绝签字。见证人：徐庄社区网格员刘洋", "refusal");
    assert_contains(&joined, "称需请示总经理", "refusal note");
}

#[test]
fn forms_for_follows_the_hazard_lifecycle() {
    let mut case = on_site_case(&Names::default(), false);
    let v1 = case.sign("v1");
    assert_eq!(
        pdf_forms::forms_for(&v1),
        [FormKind::InspectionRecord, FormKind::RectificationOrder]
    );
    reinspect(&mut case);
    let v2 = case.sign("v2");
    assert_eq!(pdf_forms::forms_for(&v2), FormKind::ALL);
    assert_eq!(
        FormKind::RectificationOrder.file_name(),
        "责令限期整改指令书.pdf"
    );
    assert_eq!(FormKind::ReinspectionOpinion.title_zh(), "整改复查意见书");
}

#[test]
fn long_text_wraps_inside_its_box_and_continues_on_following_pages() {
    let mut case = on_site_case(&Names::default(), false);
    let sentences: Vec<String> = (1..=90)
        .map(|n| format!("第{n}段：抛光车间东侧第{n}号工位除尘管道积尘较厚，未见清扫记录，已当场要求企业安排清理并建立台账。"))
        .collect();
    // One unbroken Latin token longer than the line must be cut, not overflow.
    let long_token = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".repeat(3);
    let text = format!("{}{long_token}", sentences.concat());
    case.apply("wang", app_core::inspection::Command::SetSummary { text });
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::InspectionRecord, &case.input(&v1, &lookup));
    let path = write("long.pdf", &pdf);
    let info = poppler("pdfinfo", &[path.to_str().unwrap()]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages >= 3, "{pages} pages");
    let joined = text_joined(&path);
    // The cell's text with the page furniture between its parts taken out.
    let raw = poppler("pdftotext", &["-raw", path.to_str().unwrap(), "-"]);
    let body: String = squash(
        &raw.lines()
            .map(|l| l.trim_start_matches('\u{c}'))
            .filter(|l| {
                !(l.starts_with("第 ")
                    || l.starts_with("内容哈希")
                    || l.starts_with("现场检查记录（续）")
                    || l.starts_with("检查情况（续）"))
            })
            .collect::<String>(),
    );
    for s in &sentences {
        assert!(body.contains(s.as_str()), "{s} lost");
    }
    assert!(joined.contains("检查情况（续）"), "continued label");
    assert!(joined.contains("现场检查记录（续）"), "continuation header");
    assert!(joined.contains(&long_token[..40]));
    // No word extends past the right margin (56 pt) on any page.
    let bbox = poppler("pdftotext", &["-bbox", path.to_str().unwrap(), "-"]);
    let mut words = 0;
    for line in bbox.lines().filter(|l| l.contains("<word")) {
        let x_max: f32 = line
            .split("xMax=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(x_max <= 595.28 - 56.0 + 0.5, "overflows the box: {line}");
        words += 1;
    }
    assert!(words > 100);
}

#[test]
fn a_jpeg_signature_image_is_drawn_as_well_as_a_png() {
    // A real camera JPEG stands in for a signature captured as JPEG.
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/photos/Canon_40D.jpg"
    ))
    .unwrap();
    let mut case = on_site_case(&Names::default(), false);
    let digest = Sha256Hex::of(&jpeg);
    case.images.insert(digest.clone(), jpeg);
    let at = case.now();
    let li = case.li.clone();
    case.apply(
        "li",
        app_core::inspection::Command::Sign(app_core::inspection::Signature {
            signer: app_core::inspection::Signer::Inspector(li.id.clone()),
            name: li.name.clone(),
            outcome: app_core::inspection::SignOutcome::Signed { image: digest },
            at,
            read: Vec::new(),
        }),
    );
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::RectificationOrder, &case.input(&v1, &lookup));
    let path = write("jpeg-signature.pdf", &pdf);
    let list = poppler("pdfimages", &["-list", path.to_str().unwrap()]);
    assert!(
        list.lines().any(|l| l.contains(" jpeg ")),
        "the JPEG is embedded as DCT:\n{list}"
    );
}

#[test]
fn a_service_receipt_lists_how_each_document_was_served() {
    use app_core::delivery::{LaterMeans, Service, ServiceMethod};
    let mut case = on_site_case(&Names::default(), false);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    assert!(
        pdf_forms::render_receipt(&case.input(&v1, &lookup))
            .unwrap()
            .is_none(),
        "nothing served yet"
    );
    let numbers: Vec<(String, app_core::docnumber::DocumentKind)> = v1
        .documents
        .values()
        .map(|d| (d.number.clone(), d.kind))
        .collect();
    let recipient = v1.onsite_person.clone().unwrap().name;
    for (n, (number, kind)) in numbers.iter().enumerate() {
        let at = case.now();
        let method = if n == 0 {
            ServiceMethod::Direct {
                recipient: recipient.clone(),
            }
        } else {
            ServiceMethod::Pending {
                means: LaterMeans::Post,
            }
        };
        let by = case.wang.id.clone();
        case.apply(
            "wang",
            app_core::inspection::Command::RecordService(Service {
                number: number.clone(),
                kind: *kind,
                method,
                at,
                by,
            }),
        );
    }
    let now = case.doc.record().clone();
    let pdf = pdf_forms::render_receipt(&case.input(&now, &lookup))
        .unwrap()
        .expect("a receipt")
        .pdf;
    let path = write("service-receipt.pdf", &pdf);
    let text = text_joined(&path);
    for wanted in [
        "送达回证",
        "直接送达",
        "待送达",
        "待邮寄送达",
        numbers[0].0.as_str(),
        numbers[1].0.as_str(),
        &format!("{recipient}（签收）"),
    ] {
        assert!(text.contains(wanted), "{wanted}: {text}");
    }
}

/// The words `pdftotext -bbox` finds: (page, text, xMin, xMax, yMin).
fn words(path: &Path) -> Vec<(usize, String, f32, f32, f32)> {
    let bbox = poppler("pdftotext", &["-bbox", path.to_str().unwrap(), "-"]);
    let attr = |line: &str, name: &str| -> f32 {
        line.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut page = 0;
    let mut out = Vec::new();
    for line in bbox.lines() {
        if line.trim_start().starts_with("<page") {
            page += 1;
        }
        if line.contains("<word") {
            let text = line
                .split('>')
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap_or_default()
                .to_owned();
            out.push((
                page,
                text,
                attr(line, "xMin"),
                attr(line, "xMax"),
                attr(line, "yMin"),
            ));
        }
    }
    out
}

#[test]
fn a_continued_label_stays_in_its_column() {
    // Notes long enough that 发现的问题及依据 continues over pages.
    let mut case = on_site_case(&Names::default(), false);
    for code in FAILED {
        let text = (1..=25)
            .map(|n| format!("第{n}处：除尘管道积尘较厚，未见清扫记录"))
            .collect::<Vec<_>>()
            .join("；");
        case.apply(
            "wang",
            app_core::inspection::Command::SetNote {
                item: code.into(),
                text,
            },
        );
    }
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::InspectionRecord, &case.input(&v1, &lookup));
    let path = write("continued-label.pdf", &pdf);
    // The label column: 56 pt margin, a fifth of the 483.28 pt content width.
    let column = (56.0, 56.0 + 0.2 * (595.28 - 112.0));
    let words = words(&path);
    let continued: Vec<_> = words
        .iter()
        // (The page head 现场检查记录（续） spans the page, not a column.)
        .filter(|w| !w.1.starts_with("现场检查记录"))
        .filter(|w| w.1.contains("（续）") || w.1.starts_with("发现的问题及依据"))
        .collect();
    assert!(
        continued.iter().any(|w| w.0 > 1 && w.1.contains('续')),
        "no continued label: {continued:?}"
    );
    for (page, text, x0, x1, _) in continued {
        assert!(
            *x0 >= column.0 && *x1 <= column.1,
            "page {page}: {text:?} spans {x0:.1}–{x1:.1}, its column {:.1}–{:.1}",
            column.0,
            column.1
        );
    }
}
