//! `index.html`: the human-readable index of a case file, in Chinese first with English
//! beside it. It lists every file with its size and SHA-256, the signer, the audit trail and
//! how to verify. Times are shown in Asia/Shanghai.

use crate::manifest::{MANIFEST, SIGNATURE, SignerIdentity};
use crate::trail::TrailEntry;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use app_core::inspection::Inspection;
use app_core::signing::{Amendments, SignedVersion};
use std::fmt::Write;

/// One file as the index lists it.
#[derive(Debug)]
pub struct IndexFile<'a> {
    pub path: &'a str,
    pub size: u64,
    pub sha256: &'a Sha256Hex,
    pub zh: &'a str,
    pub en: &'a str,
}

#[derive(Debug)]
pub struct IndexInput<'a> {
    pub record: &'a Inspection,
    pub version_id: &'a str,
    pub version: &'a SignedVersion,
    pub amendments: &'a Amendments,
    pub signer: &'a SignerIdentity,
    pub fingerprint: &'a str,
    pub exported_at: Timestamp,
    pub files: &'a [IndexFile<'a>],
    pub trail: &'a [TrailEntry],
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn row(out: &mut String, zh: &str, en: &str, value: &str) {
    let _ = writeln!(
        out,
        "<tr><th>{} <span class=en>{}</span></th><td>{}</td></tr>",
        escape(zh),
        escape(en),
        escape(value)
    );
}

pub fn render(input: &IndexInput<'_>) -> String {
    let r = input.record;
    let s = input.signer;
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>电子案卷 Electronic case file</title>\n<style>\n\
         body{font-family:sans-serif;margin:2em;max-width:70em}\n\
         table{border-collapse:collapse;margin:1em 0}\n\
         th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}\n\
         .en{color:#555;font-weight:normal;font-size:90%}\n\
         code{font-size:85%;word-break:break-all}\n\
         .warn{background:#fff3cd;padding:.5em;border:1px solid #c90}\n\
         </style>\n</head>\n<body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>电子案卷 <span class=en>Electronic case file</span></h1>"
    );
    out.push_str("<h2>检查 <span class=en>Inspection</span></h2>\n<table>\n");
    row(&mut out, "记录编号", "record id", r.id.as_str());
    row(
        &mut out,
        "检查类型",
        "kind",
        &format!("{} ({:?})", r.kind.label_zh(), r.kind),
    );
    row(
        &mut out,
        "被检查单位",
        "enterprise",
        &format!(
            "{}（统一社会信用代码 {}）",
            r.enterprise.name, r.enterprise.uscc
        ),
    );
    row(&mut out, "地址", "address", &r.enterprise.address);
    row(&mut out, "执法单位", "unit", r.unit.as_str());
    let inspectors: Vec<String> = r
        .inspectors
        .values()
        .map(|i| format!("{}（执法证 {}）", i.name, i.certificate.as_str()))
        .collect();
    row(&mut out, "执法人员", "inspectors", &inspectors.join("、"));
    if let Some(t) = r.started_at {
        row(
            &mut out,
            "现场检查开始",
            "on site from",
            &t.display_shanghai(),
        );
    }
    row(&mut out, "检查场所", "places inspected", &r.places);
    row(&mut out, "检查情况", "findings", &r.summary);
    row(&mut out, "隐患数", "hazards", &r.hazards.len().to_string());
    out.push_str("</table>\n");

    out.push_str("<h2>签署版本 <span class=en>Signed version</span></h2>\n<table>\n");
    row(&mut out, "版本", "version", input.version_id);
    row(
        &mut out,
        "签署时间（北京时间）",
        "signed at (Asia/Shanghai)",
        &input.version.at.display_shanghai(),
    );
    row(&mut out, "签署人", "signed by", input.version.by.as_str());
    row(
        &mut out,
        "内容哈希 SHA-256",
        "content hash",
        input.version.content_hash.as_str(),
    );
    out.push_str("</table>\n");
    if input.amendments.is_empty() {
        out.push_str(
            "<p>签署后记录内容未被修改。<span class=en>The record's content has not been \
             changed since it was signed.</span></p>\n",
        );
    } else {
        let _ = writeln!(
            out,
            "<p class=warn>注意：签署后记录被修改过（{n} 处字段），见 amendments.json；本案卷中的记录和文书为签署时的版本。\
             <span class=en>Note: the record was amended after signing ({n} field(s), see \
             amendments.json); the record and documents in this case file are the signed \
             version.</span></p>",
            n = input.amendments.fields.len()
        );
        out.push_str("<table>\n<tr><th>字段 <span class=en>field</span></th><th>签署时 <span class=en>signed</span></th><th>现在 <span class=en>now</span></th></tr>\n");
        for f in &input.amendments.fields {
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map_or("—".to_owned(), |v| v.to_string())
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&f.path),
                escape(&show(&f.signed)),
                escape(&show(&f.now))
            );
        }
        out.push_str("</table>\n");
    }

    out.push_str("<h2>导出与签名 <span class=en>Export and signature</span></h2>\n<table>\n");
    row(
        &mut out,
        "导出时间（北京时间）",
        "exported at (Asia/Shanghai)",
        &input.exported_at.display_shanghai(),
    );
    row(
        &mut out,
        "签名人",
        "signer",
        &format!("{}（{}，{}）", s.name, s.role_zh(), s.user),
    );
    if let Some(c) = &s.certificate {
        row(&mut out, "执法证号", "certificate", c);
    }
    row(
        &mut out,
        "单位",
        "unit",
        &format!("{}（{}）", s.unit_name, s.unit),
    );
    row(&mut out, "设备", "device", s.device.as_str());
    row(&mut out, "Ed25519 公钥", "public key", &s.public_key);
    row(&mut out, "公钥指纹", "key fingerprint", input.fingerprint);
    out.push_str("</table>\n");

    out.push_str("<h2>文件清单 <span class=en>Files</span></h2>\n<table>\n<tr><th>文件 <span class=en>file</span></th><th>内容 <span class=en>content</span></th><th>字节 <span class=en>bytes</span></th><th>SHA-256</th></tr>\n");
    for f in input.files {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{} <span class=en>{}</span></td><td>{}</td><td><code>{}</code></td></tr>",
            escape(f.path),
            escape(f.zh),
            escape(f.en),
            f.size,
            f.sha256
        );
    }
    let _ = writeln!(
        out,
        "<tr><td><code>{MANIFEST}</code></td><td>清单：每个文件的 SHA-256、签名人 <span class=en>manifest: every file's SHA-256, the signer</span></td><td colspan=2></td></tr>\n\
         <tr><td><code>{SIGNATURE}</code></td><td>对清单的 Ed25519 签名 <span class=en>Ed25519 signature over the manifest</span></td><td colspan=2></td></tr>\n</table>"
    );

    out.push_str("<h2>审计轨迹 <span class=en>Audit trail</span></h2>\n<table>\n<tr><th>#</th><th>时间（北京时间） <span class=en>time</span></th><th>人员 <span class=en>user</span></th><th>设备 <span class=en>device</span></th><th>操作 <span class=en>command</span></th><th>签署后 <span class=en>after signing</span></th></tr>\n");
    for e in input.trail {
        let b = &e.body;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            b.seq,
            escape(&b.time_shanghai),
            escape(b.user.as_deref().unwrap_or("?")),
            escape(b.device.as_deref().unwrap_or("?")),
            escape(b.command.as_deref().unwrap_or("?")),
            if b.after_signing { "是 yes" } else { "" }
        );
    }
    out.push_str("</table>\n");

    out.push_str(
        "<h2>如何核验 <span class=en>How to verify</span></h2>\n\
         <p>运行 <code>casefile verify 本文件.zip --expect-key 公钥</code>：它检查签名、每个文件的哈希、\
         审计轨迹的哈希链，以及文件没有缺少或多出。请通过可信渠道（例如向执法单位电话核对）确认上面的公钥指纹确实属于签名人的设备。\
         <span class=en>Run <code>casefile verify FILE.zip --expect-key KEY</code>: it checks the \
         signature, every file's hash, the audit trail's chain, and that no file is missing or \
         extra. Confirm through a trusted channel (e.g. by calling the enforcement unit) that \
         the key fingerprint above belongs to the signer's device.</span></p>\n\
         </body>\n</html>\n",
    );
    out
}
