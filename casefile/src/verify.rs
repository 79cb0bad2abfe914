//! The offline verifier: checks a case file and reports, in Chinese and English, what holds
//! and what does not. It reads the file once from start to end and writes nothing.
//!
//! Checks, in order (each names what is wrong when it fails):
//! 1. **container** — the ZIP is exactly in the canonical form the exporter writes (every
//!    header byte re-derived, every CRC-32 recomputed), with no unsafe names and nothing
//!    compressed; the manifest and signature are its last two entries.
//! 2. **manifest** — `manifest.json` parses and is of a format this build reads.
//! 3. **signature** — `manifest.sig` is a valid Ed25519 signature of the manifest's bytes by
//!    the public key the manifest names.
//! 4. **files** — every file the manifest lists is there, in its order, with its size and
//!    SHA-256; no file is extra; each photo's and recording's content hashes to the digest in
//!    its name.
//! 5. **trail** — the audit trail's hash chain is intact and ends at the signed head.
//! 6. **record** — `record.json`, `record.automerge` (at the signed heads) and the manifest
//!    agree: same record, same heads, same content hash; every photo the record names is
//!    there; the trail lists the document's changes. In a penalty case's file (the
//!    manifest's `case`), the same of `case.json` and `case.automerge`, every original the
//!    case names is there and every signed document still hashes to what was signed.
//! 7. **signer** — the signing key is one the recipient trusts (`--expect-key` or a trusted
//!    keys file). Without one, this check is "not checked" and the result is not a pass:
//!    anybody can make a valid signature with their own key.

use crate::archive::{self, ArchiveError, Contents};
use crate::manifest::{
    self, CASE_AUTOMERGE, CASE_JSON, FORMAT, MANIFEST, MEDIA_DIR, Manifest, PHOTOS_DIR,
    RECORD_AUTOMERGE, RECORD_JSON, SIGNATURE, SignerIdentity, TRAIL,
};
use crate::trail::{self, ChainBreak, TrailEntry};
use app_core::document::InspectionDoc;
use app_core::evidence::Sha256Hex;
use app_core::inspection::Inspection;
use app_core::penalty::{CaseDoc, PenaltyCase};
use ed25519_dalek::{Signature, VerifyingKey};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};

/// Largest structured file (manifest, record, trail, document) held in memory to check it.
pub const MAX_STRUCTURED: u64 = 64 << 20;

/// A key the recipient trusts, with a label to show (e.g. the device or person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key: VerifyingKey,
    pub label: String,
}

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    pub trusted_keys: Vec<TrustedKey>,
}

impl VerifyOptions {
    /// Parses a trusted-keys file: one key per line as 64 hex characters, optionally followed
    /// by a label; empty lines and lines starting with `#` are ignored.
    pub fn parse_trusted_keys(text: &str) -> Result<Vec<TrustedKey>, String> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (hex, label) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let key = manifest::parse_public_key(hex).ok_or_else(|| {
                format!(
                    "line {}: {hex:?} is not an Ed25519 public key (64 hex characters)",
                    n + 1
                )
            })?;
            out.push(TrustedKey {
                key,
                label: label.trim().to_owned(),
            });
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckKind {
    Container,
    Manifest,
    Signature,
    Files,
    Trail,
    Record,
    Signer,
}

impl CheckKind {
    pub const ALL: [CheckKind; 7] = [
        CheckKind::Container,
        CheckKind::Manifest,
        CheckKind::Signature,
        CheckKind::Files,
        CheckKind::Trail,
        CheckKind::Record,
        CheckKind::Signer,
    ];

    pub fn title_zh(self) -> &'static str {
        match self {
            CheckKind::Container => "ZIP 结构（规范格式）",
            CheckKind::Manifest => "清单",
            CheckKind::Signature => "签名",
            CheckKind::Files => "文件与哈希（无缺少、无多余）",
            CheckKind::Trail => "审计轨迹哈希链",
            CheckKind::Record => "记录与签署版本一致",
            CheckKind::Signer => "签名公钥可信",
        }
    }

    pub fn title_en(self) -> &'static str {
        match self {
            CheckKind::Container => "archive structure (canonical form)",
            CheckKind::Manifest => "manifest",
            CheckKind::Signature => "signature",
            CheckKind::Files => "files and hashes (none missing, none extra)",
            CheckKind::Trail => "audit trail hash chain",
            CheckKind::Record => "record matches the signed version",
            CheckKind::Signer => "signing key is trusted",
        }
    }

    /// The exit code of the command-line verifier when this check fails.
    pub fn exit_code(self) -> i32 {
        match self {
            CheckKind::Container | CheckKind::Manifest => 2,
            CheckKind::Files | CheckKind::Trail | CheckKind::Record => 3,
            CheckKind::Signature => 4,
            CheckKind::Signer => 5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    NotChecked,
}

/// One finding, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

fn msg(zh: impl Into<String>, en: impl Into<String>) -> Message {
    Message {
        zh: zh.into(),
        en: en.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub kind: CheckKind,
    pub status: Status,
    pub messages: Vec<Message>,
}

/// The outcome of a verification.
#[derive(Debug, Clone)]
pub struct Report {
    pub checks: Vec<Check>,
    /// The manifest, when it could be read (whether or not its signature holds).
    pub manifest: Option<Manifest>,
    /// The key that made a valid signature, when the signature holds.
    pub signed_by: Option<VerifyingKey>,
}

impl Report {
    fn new() -> Self {
        Self {
            checks: CheckKind::ALL
                .iter()
                .map(|&kind| Check {
                    kind,
                    status: Status::NotChecked,
                    messages: Vec::new(),
                })
                .collect(),
            manifest: None,
            signed_by: None,
        }
    }

    pub fn check(&self, kind: CheckKind) -> &Check {
        &self.checks[kind as usize]
    }

    fn set(&mut self, kind: CheckKind, messages: Vec<Message>) {
        let c = &mut self.checks[kind as usize];
        c.status = if messages.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        c.messages = messages;
    }

    /// A passing check that still says something (e.g. which trusted key it was).
    fn pass_with(&mut self, kind: CheckKind, note: Message) {
        let c = &mut self.checks[kind as usize];
        c.status = Status::Pass;
        c.messages = vec![note];
    }

    fn not_checked(&mut self, kind: CheckKind, why: Message) {
        let c = &mut self.checks[kind as usize];
        c.status = Status::NotChecked;
        c.messages = vec![why];
    }

    /// Fails the signer check with `zh`/`en` added (a key-history check, `crate::keys`).
    pub(crate) fn fail_signer(&mut self, zh: String, en: String) {
        let c = &mut self.checks[CheckKind::Signer as usize];
        c.status = Status::Fail;
        c.messages.push(msg(zh, en));
    }

    /// Whether everything holds.
    pub fn holds(&self) -> bool {
        self.checks.iter().all(|c| c.status == Status::Pass)
    }

    /// 0 when everything holds, otherwise the code of the first check (in order) that did
    /// not pass: 2 not a valid case file, 3 content (files, trail, record), 4 signature,
    /// 5 signer not trusted or not checked.
    pub fn exit_code(&self) -> i32 {
        self.checks
            .iter()
            .find(|c| c.status != Status::Pass)
            .map_or(0, |c| c.kind.exit_code())
    }

    /// Every message of every check, in English (for logs and tests).
    pub fn problems_en(&self) -> Vec<String> {
        self.checks
            .iter()
            .flat_map(|c| c.messages.iter().map(|m| m.en.clone()))
            .collect()
    }

    /// The report for people: Chinese first, English beside it.
    pub fn render_zh_en(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        out.push_str("电子案卷核验报告 / Case file verification report\n\n");
        if let Some(m) = &self.manifest {
            let s: &SignerIdentity = &m.signer;
            match &m.case {
                Some(case) => writeln!(
                    out,
                    "行政处罚案件 Penalty case: {case}  阶段 stage: {}",
                    m.signed_version
                ),
                None => writeln!(
                    out,
                    "检查记录 Inspection: {}  签署版本 signed version: {}",
                    m.inspection, m.signed_version
                ),
            }
            .ok();
            let _ = writeln!(
                out,
                "导出时间 Exported at: {} (Asia/Shanghai)",
                m.exported_at.display_shanghai()
            );
            let _ = writeln!(
                out,
                "清单所述签名人 Signer named in the manifest: {}（{} {}，{}）单位 unit {}（{}）设备 device {}",
                s.name,
                s.role_zh(),
                s.role,
                s.user,
                s.unit_name,
                s.unit,
                s.device
            );
            let _ = writeln!(out, "公钥 Public key: {}", s.public_key);
            if let Some(k) = manifest::parse_public_key(&s.public_key) {
                let _ = writeln!(
                    out,
                    "公钥指纹 Key fingerprint: {}",
                    manifest::fingerprint(&k)
                );
            }
            if m.amended {
                out.push_str(
                    "注意：签署后记录被修改过，见 amendments.json。 Note: the record was amended after signing (see amendments.json).\n",
                );
            }
            out.push('\n');
        }
        for c in &self.checks {
            let status = match c.status {
                Status::Pass => "通过 PASS",
                Status::Fail => "失败 FAIL",
                Status::NotChecked => "未检查 NOT CHECKED",
            };
            let _ = writeln!(
                out,
                "[{status}] {} / {}",
                c.kind.title_zh(),
                c.kind.title_en()
            );
            for m in &c.messages {
                let _ = writeln!(out, "    - {}\n      {}", m.zh, m.en);
            }
        }
        out.push('\n');
        if self.holds() {
            out.push_str("结论：全部检查通过。 Result: every check holds.\n");
        } else {
            out.push_str("结论：核验未通过。 Result: verification FAILED.\n");
        }
        out
    }
}

/// Chinese for a container error.
fn archive_message(e: &ArchiveError) -> Message {
    let zh = match e {
        ArchiveError::Io(err) => format!("无法读取文件：{err}"),
        ArchiveError::NotZip(why) => format!("不是 ZIP 文件（{why}）"),
        ArchiveError::BadName { name, .. } => {
            format!("条目名 {name:?} 不允许（可能指向案卷目录之外），已拒绝")
        }
        ArchiveError::Duplicate { name } => format!("条目 {name:?} 出现两次"),
        ArchiveError::Compressed { name, method } => format!(
            "条目 {name:?} 是压缩的（方法 {method}）；案卷中的条目一律不压缩，因此未解压即拒绝（可能是“压缩炸弹”）"
        ),
        ArchiveError::DeclaredTooLarge {
            name,
            declared,
            available,
        } => format!(
            "条目 {name:?} 声明 {declared} 字节，但文件只剩 {available} 字节（文件被截断或大小被伪造）"
        ),
        ArchiveError::SizeMismatch { name, .. } => {
            format!("条目 {name:?} 的压缩前后大小声明不一致")
        }
        ArchiveError::NonCanonicalField { name, field, .. } => {
            format!("条目 {name:?} 的本地文件头字段“{field}”不是规范值（头部被改动）")
        }
        ArchiveError::Crc { name, .. } => {
            format!("条目 {name:?} 的 CRC-32 与头部不符（内容或头部被改动）")
        }
        ArchiveError::Unexpected { offset } => {
            format!("偏移 {offset} 处出现意外字节：既不是文件头也不是中央目录")
        }
        ArchiveError::Directory { offset, .. } => {
            format!(
                "中央目录或结束记录在偏移 {offset} 处与规范格式不同（被改动、截断或有多余字节）"
            )
        }
        ArchiveError::TooManyEntries => "条目过多".to_owned(),
        ArchiveError::SourceLength {
            name,
            declared,
            found,
        } => format!(
            "条目 {name:?} 的来源给出 {found} 字节，而不是预告的 {declared} 字节（复制时文件被改动）"
        ),
    };
    msg(zh, e.to_string())
}

fn is_structured(name: &str) -> bool {
    matches!(
        name,
        MANIFEST | SIGNATURE | RECORD_JSON | RECORD_AUTOMERGE | TRAIL | CASE_JSON | CASE_AUTOMERGE
    )
}

/// Verifies a case file. The reader is read once from start to end; nothing is written.
pub fn verify<R: Read + Seek>(reader: R, options: &VerifyOptions) -> Report {
    verify_with_zip64_at(reader, options, archive::ZIP64_AT)
}

/// [`verify`] of a case file written with another ZIP64 threshold (tests only:
/// [`archive::ZipWriter::with_zip64_at`]).
#[doc(hidden)]
pub fn verify_with_zip64_at<R: Read + Seek>(
    reader: R,
    options: &VerifyOptions,
    zip64_at: u64,
) -> Report {
    let mut report = Report::new();
    let keep = |name: &str, size: u64| is_structured(name) && size <= MAX_STRUCTURED;
    let contents = match archive::read_with_zip64_at(reader, &keep, zip64_at) {
        Ok(c) => c,
        Err(e) => {
            report.set(CheckKind::Container, vec![archive_message(&e)]);
            return report;
        }
    };
    let n = contents.entries.len();
    let tail: Vec<&str> = contents.entries[n.saturating_sub(2)..]
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    if tail != [MANIFEST, SIGNATURE] {
        let has_manifest = contents.entries.iter().any(|e| e.name == MANIFEST);
        let has_signature = contents.entries.iter().any(|e| e.name == SIGNATURE);
        let m = match (has_manifest, has_signature) {
            (false, _) => msg(
                "缺少清单 manifest.json：这不是一个电子案卷，或清单被删除",
                "manifest.json is missing: this is not a case file, or its manifest was removed",
            ),
            (true, false) => msg(
                "缺少签名 manifest.sig：签名被删除",
                "manifest.sig is missing: the signature was removed",
            ),
            (true, true) => msg(
                "manifest.json 和 manifest.sig 必须是最后两个条目（条目被重新排列或追加）",
                "manifest.json and manifest.sig must be the last two entries (entries were reordered or appended)",
            ),
        };
        report.set(CheckKind::Container, vec![m]);
        return report;
    }
    report.set(CheckKind::Container, Vec::new());

    let manifest_bytes = &contents.kept[MANIFEST];
    let manifest: Manifest = match serde_json::from_slice(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            report.set(
                CheckKind::Manifest,
                vec![msg(
                    format!("清单无法解析（被改动？）：{e}"),
                    format!("the manifest does not parse (altered?): {e}"),
                )],
            );
            // The signature is still worth checking: it tells whether the bytes were changed.
            check_signature(&mut report, manifest_bytes, &contents, None);
            return report;
        }
    };
    if manifest.format != FORMAT {
        report.set(
            CheckKind::Manifest,
            vec![msg(
                format!(
                    "清单格式 {:?} 不受支持（本程序读取 {FORMAT}）",
                    manifest.format
                ),
                format!(
                    "manifest format {:?} is not supported (this verifier reads {FORMAT})",
                    manifest.format
                ),
            )],
        );
        return report;
    }
    report.set(CheckKind::Manifest, Vec::new());
    let key = check_signature(&mut report, manifest_bytes, &contents, Some(&manifest));
    report.manifest = Some(manifest.clone());

    let files_ok = check_files(&mut report, &manifest, &contents);
    let trail = check_trail(&mut report, &manifest, &contents);
    if files_ok && manifest.case.is_some() {
        check_case(&mut report, &manifest, &contents, trail.as_deref());
    } else if files_ok {
        check_record(&mut report, &manifest, &contents, trail.as_deref());
    } else {
        report.not_checked(
            CheckKind::Record,
            msg(
                "文件与清单不符，因此未检查记录内容",
                "not checked, because the files do not match the manifest",
            ),
        );
    }
    check_signer(&mut report, key.as_ref(), &manifest, options);
    report
}

fn check_signature(
    report: &mut Report,
    manifest_bytes: &[u8],
    contents: &Contents,
    manifest: Option<&Manifest>,
) -> Option<VerifyingKey> {
    let Some(manifest) = manifest else {
        report.not_checked(
            CheckKind::Signature,
            msg(
                "清单无法解析，无法得知签名公钥",
                "the manifest does not parse, so the signing key is unknown",
            ),
        );
        return None;
    };
    let Some(key) = manifest::parse_public_key(&manifest.signer.public_key) else {
        report.set(
            CheckKind::Signature,
            vec![msg(
                "清单中的签名公钥无效",
                "the public key named in the manifest is not a valid Ed25519 key",
            )],
        );
        return None;
    };
    let raw = &contents.kept[SIGNATURE];
    let Ok(bytes) = <[u8; 64]>::try_from(raw.as_slice()) else {
        report.set(
            CheckKind::Signature,
            vec![msg(
                format!("签名应为 64 字节，实际为 {} 字节", raw.len()),
                format!(
                    "the signature should be 64 bytes, it is {} bytes",
                    raw.len()
                ),
            )],
        );
        return None;
    };
    let signature = Signature::from_bytes(&bytes);
    match key.verify_strict(manifest_bytes, &signature) {
        Ok(()) => {
            report.set(CheckKind::Signature, Vec::new());
            report.signed_by = Some(key);
            Some(key)
        }
        Err(_) => {
            report.set(
                CheckKind::Signature,
                vec![msg(
                    format!(
                        "签名无效：清单被改动，或签名被替换（清单所述公钥 {}）",
                        manifest.signer.public_key
                    ),
                    format!(
                        "the signature is not valid for the manifest: the manifest was changed or the signature replaced (key named in the manifest: {})",
                        manifest.signer.public_key
                    ),
                )],
            );
            None
        }
    }
}

fn check_files(report: &mut Report, manifest: &Manifest, contents: &Contents) -> bool {
    let mut problems = Vec::new();
    let entries = &contents.entries[..contents.entries.len() - 2];
    let in_archive: BTreeMap<&str, &archive::EntryInfo> =
        entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut listed = BTreeMap::new();
    for f in &manifest.files {
        if listed.insert(f.path.as_str(), f).is_some() {
            problems.push(msg(
                format!("清单中 {} 出现两次", f.path),
                format!("the manifest lists {} twice", f.path),
            ));
        }
    }
    let by_hash: BTreeMap<&Sha256Hex, &str> = manifest
        .files
        .iter()
        .map(|f| (&f.sha256, f.path.as_str()))
        .collect();
    for f in &manifest.files {
        let Some(e) = in_archive.get(f.path.as_str()) else {
            problems.push(msg(
                format!("缺少文件：{} 列在清单中，但不在案卷里", f.path),
                format!(
                    "missing file: {} is listed in the manifest but not in the case file",
                    f.path
                ),
            ));
            continue;
        };
        if e.sha256 != f.sha256 || e.size != f.size {
            let mut zh = format!(
                "{} 的内容已改变：SHA-256 为 {}（{} 字节），清单记载 {}（{} 字节）",
                f.path, e.sha256, e.size, f.sha256, f.size
            );
            let mut en = format!(
                "{} was changed: its SHA-256 is {} ({} bytes), the manifest says {} ({} bytes)",
                f.path, e.sha256, e.size, f.sha256, f.size
            );
            if let Some(other) = by_hash.get(&e.sha256).filter(|o| **o != f.path) {
                zh.push_str(&format!("；它的内容是 {other} 的内容（文件被调换或替换）"));
                en.push_str(&format!(
                    "; it holds the content of {other} (files swapped or replaced)"
                ));
            }
            problems.push(msg(zh, en));
        }
    }
    for e in entries {
        if !listed.contains_key(e.name.as_str()) {
            problems.push(msg(
                format!("多余文件：{} 在案卷里，但不在清单中", e.name),
                format!(
                    "extra file: {} is in the case file but not in the manifest",
                    e.name
                ),
            ));
        }
    }
    let order_archive: Vec<&str> = entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| listed.contains_key(n))
        .collect();
    let order_manifest: Vec<&str> = manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|n| in_archive.contains_key(n))
        .collect();
    if order_archive != order_manifest {
        problems.push(msg(
            "文件顺序与清单不符",
            "the files are not in the manifest's order",
        ));
    }
    for e in entries {
        if let Some(rest) = e.name.strip_prefix(MEDIA_DIR) {
            let digest = rest.split('.').next().unwrap_or("");
            if digest != e.sha256.as_str() {
                problems.push(msg(
                    format!(
                        "录音录像 {} 的内容哈希为 {}，与文件名中的摘要不符（不是该原始文件）",
                        e.name, e.sha256
                    ),
                    format!(
                        "recording {} hashes to {}, not to the digest in its name: it is not that original",
                        e.name, e.sha256
                    ),
                ));
            }
        }
        if let Some(rest) = e.name.strip_prefix(PHOTOS_DIR) {
            let digest = rest.split('.').next().unwrap_or("");
            if digest != e.sha256.as_str() {
                problems.push(msg(
                    format!(
                        "照片 {} 的内容哈希为 {}，与文件名中的摘要不符（不是该原始照片）",
                        e.name, e.sha256
                    ),
                    format!(
                        "photo {} hashes to {}, not to the digest in its name: it is not that original",
                        e.name, e.sha256
                    ),
                ));
            }
        }
    }
    let ok = problems.is_empty();
    report.set(CheckKind::Files, problems);
    ok
}

fn check_trail(
    report: &mut Report,
    manifest: &Manifest,
    contents: &Contents,
) -> Option<Vec<TrailEntry>> {
    let Some(bytes) = contents.kept.get(TRAIL) else {
        report.set(
            CheckKind::Trail,
            vec![msg(
                "缺少审计轨迹 audit-trail.json",
                "the audit trail audit-trail.json is missing",
            )],
        );
        return None;
    };
    let trail: Vec<TrailEntry> = match serde_json::from_slice(bytes) {
        Ok(t) => t,
        Err(e) => {
            report.set(
                CheckKind::Trail,
                vec![msg(
                    format!("审计轨迹无法解析：{e}"),
                    format!("the audit trail does not parse: {e}"),
                )],
            );
            return None;
        }
    };
    let problems = trail::check(&trail, &manifest.trail_head)
        .into_iter()
        .map(|b| match b {
            ChainBreak::Sequence { index, found } => msg(
                format!("第 {} 条记录的序号为 {found}（记录被删除或重排）", index + 1),
                format!(
                    "entry {} carries sequence number {found} (entries removed or reordered)",
                    index + 1
                ),
            ),
            ChainBreak::Link { seq } => msg(
                format!("第 {seq} 条记录的前一哈希与上一条不符（链断开：记录被删除、插入或重排）"),
                format!(
                    "entry {seq}'s previous hash is not the hash of the entry before it (chain broken: entries removed, inserted or reordered)"
                ),
            ),
            ChainBreak::Hash { seq } => msg(
                format!("第 {seq} 条记录的内容与其哈希不符（记录被改动）"),
                format!("entry {seq}'s content does not match its hash (the entry was altered)"),
            ),
            ChainBreak::Head { found, signed } => msg(
                format!("轨迹的最后哈希为 {found}，签名清单记载 {signed}（记录被删除或追加）"),
                format!(
                    "the trail ends at {found}, the signed manifest says {signed} (entries removed or appended)"
                ),
            ),
        })
        .collect();
    report.set(CheckKind::Trail, problems);
    Some(trail)
}

fn check_record(
    report: &mut Report,
    manifest: &Manifest,
    contents: &Contents,
    trail: Option<&[TrailEntry]>,
) {
    let mut problems = Vec::new();
    let Some((record, am)) = read_pair::<Inspection>(
        report,
        contents,
        (RECORD_JSON, RECORD_AUTOMERGE),
        ("检查记录", "record"),
    ) else {
        return;
    };
    if record.id != manifest.inspection {
        problems.push(msg(
            format!(
                "record.json 是记录 {}，清单写的是 {}",
                record.id, manifest.inspection
            ),
            format!(
                "record.json is record {}, the manifest names {}",
                record.id, manifest.inspection
            ),
        ));
    }
    let hash = app_core::signing::content_hash(&record);
    if hash != manifest.content_hash {
        problems.push(msg(
            format!(
                "record.json 的内容哈希 {hash} 与签署版本的 {} 不符",
                manifest.content_hash
            ),
            format!(
                "record.json's content hashes to {hash}, the signed version's hash is {}",
                manifest.content_hash
            ),
        ));
    }
    match InspectionDoc::load(am, &manifest.signer.device) {
        Err(e) => problems.push(msg(
            format!("record.automerge 无法载入：{e}"),
            format!("record.automerge does not load: {e}"),
        )),
        Ok(mut doc) => {
            if !same_heads(&doc.heads(), manifest) {
                problems.push(msg(
                    "record.automerge 不是签署时的版本（heads 不同）",
                    "record.automerge is not the document at the signed heads (its heads differ)",
                ));
            }
            if doc.record() != &record {
                problems.push(msg(
                    "record.json 与 record.automerge 中的记录不一致",
                    "record.json and the record in record.automerge differ",
                ));
            }
            if let Some(trail) = trail {
                check_trail_lists(&mut problems, trail, doc.history());
            }
        }
    }
    let photos = digests_under(contents, PHOTOS_DIR);
    for sha in record.photo_digests() {
        if !photos.contains(sha.as_str()) {
            problems.push(msg(
                format!("记录引用的照片 {sha} 不在案卷中"),
                format!("photo {sha}, which the record refers to, is not in the case file"),
            ));
        }
    }
    report.set(CheckKind::Record, problems);
}

fn check_signer(
    report: &mut Report,
    key: Option<&VerifyingKey>,
    manifest: &Manifest,
    options: &VerifyOptions,
) {
    let Some(key) = key else {
        report.not_checked(
            CheckKind::Signer,
            msg(
                "签名无效，无从判断签名人",
                "the signature does not hold, so there is no signer to trust",
            ),
        );
        return;
    };
    let fp = manifest::fingerprint(key);
    let hex = app_core::evidence::hex(key.as_bytes());
    if options.trusted_keys.is_empty() {
        report.not_checked(
            CheckKind::Signer,
            msg(
                format!(
                    "未提供可信公钥（--expect-key 或 --trusted-keys）。签名由公钥 {hex}（指纹 {fp}）作出；请通过可信渠道向 {}（{}）核对该指纹，否则无法确认签名人",
                    manifest.signer.unit_name, manifest.signer.unit
                ),
                format!(
                    "no trusted key was given (--expect-key or --trusted-keys). The signature was made by key {hex} (fingerprint {fp}); compare that fingerprint with {} ({}) through a trusted channel, otherwise who signed is not established",
                    manifest.signer.unit_name, manifest.signer.unit
                ),
            ),
        );
        return;
    }
    match options.trusted_keys.iter().find(|t| &t.key == key) {
        Some(t) => {
            let label = if t.label.is_empty() {
                String::new()
            } else {
                format!("（{}）", t.label)
            };
            report.pass_with(
                CheckKind::Signer,
                msg(
                    format!("签名公钥是可信公钥{label}，指纹 {fp}"),
                    format!("the signing key is a trusted key{label}, fingerprint {fp}"),
                ),
            );
        }
        None => report.set(
            CheckKind::Signer,
            vec![msg(
                format!(
                    "签名公钥 {hex}（指纹 {fp}）不是可信公钥：案卷可能被他人重新签名"
                ),
                format!(
                    "the signing key {hex} (fingerprint {fp}) is not a trusted key: the case file may have been re-signed by someone else"
                ),
            )],
        ),
    }
}

/// Whether the trail (up to signing) lists exactly the document's changes.
fn check_trail_lists(
    problems: &mut Vec<Message>,
    trail: &[TrailEntry],
    history: Vec<app_core::document::ChangeEntry>,
) {
    let in_doc: BTreeSet<String> = history.into_iter().map(|c| c.hash).collect();
    let in_trail: BTreeSet<String> = trail
        .iter()
        .filter(|e| !e.body.after_signing)
        .map(|e| e.body.change.clone())
        .collect();
    if in_doc != in_trail {
        problems.push(msg(
            "审计轨迹（签署前部分）与 Automerge 文档的修改历史不一致",
            "the audit trail (up to signing) does not list the Automerge document's changes",
        ));
    }
}

/// The digests of the entries under `dir` (`<dir><sha256>.<ext>`).
fn digests_under<'a>(contents: &'a Contents, dir: &str) -> BTreeSet<&'a str> {
    contents
        .entries
        .iter()
        .filter_map(|e| e.name.strip_prefix(dir))
        .filter_map(|rest| rest.split('.').next())
        .collect()
}

/// The record check of a penalty case's file (`crate::case`): `case.json`, `case.automerge`
/// and the manifest agree; every original the case names is there; every signed document
/// still hashes to what was signed; the trail lists the document's changes.
fn check_case(
    report: &mut Report,
    manifest: &Manifest,
    contents: &Contents,
    trail: Option<&[TrailEntry]>,
) {
    let mut problems = Vec::new();
    let Some((case, am)) = read_pair::<PenaltyCase>(
        report,
        contents,
        (CASE_JSON, CASE_AUTOMERGE),
        ("行政处罚案件", "penalty case"),
    ) else {
        return;
    };
    if manifest.case.as_ref() != Some(&case.id) || manifest.inspection.as_str() != case.id.as_str()
    {
        problems.push(msg(
            format!(
                "case.json 是案件 {}，清单写的是 {}",
                case.id, manifest.inspection
            ),
            format!(
                "case.json is case {}, the manifest names {}",
                case.id, manifest.inspection
            ),
        ));
    }
    let hash = crate::case::case_hash(&case);
    if hash != manifest.content_hash
        || crate::case::stage_code(case.stage) != manifest.signed_version
    {
        problems.push(msg(
            format!(
                "case.json 的内容哈希 {hash} 或阶段与清单记载的 {}（{}）不符",
                manifest.content_hash, manifest.signed_version
            ),
            format!(
                "case.json's content hashes to {hash} or its stage differs from the manifest's {} ({})",
                manifest.content_hash, manifest.signed_version
            ),
        ));
    }
    match CaseDoc::load(am, &manifest.signer.device) {
        Err(e) => problems.push(msg(
            format!("case.automerge 无法载入：{e}"),
            format!("case.automerge does not load: {e}"),
        )),
        Ok(mut doc) => {
            if !same_heads(&doc.heads(), manifest) {
                problems.push(msg(
                    "case.automerge 不是导出时的版本（heads 不同）",
                    "case.automerge is not the document at the exported heads (its heads differ)",
                ));
            }
            if doc.case() != &case {
                problems.push(msg(
                    "case.json 与 case.automerge 中的案件不一致",
                    "case.json and the case in case.automerge differ",
                ));
            }
            if let Some(trail) = trail {
                check_trail_lists(&mut problems, trail, doc.history());
            }
        }
    }
    for d in case.documents.values().filter(|d| !d.verify()) {
        problems.push(msg(
            format!("文书 {} 的内容与签署时的哈希不符", d.number),
            format!("document {} no longer hashes to what was signed", d.number),
        ));
    }
    let photos = digests_under(contents, PHOTOS_DIR);
    let media = digests_under(contents, MEDIA_DIR);
    let recordings = case
        .media
        .values()
        .filter(|m| m.kind != app_core::penalty::MediaKind::Photo)
        .map(|m| &m.sha256);
    let missing = crate::case::case_photos(&case)
        .into_iter()
        .filter(|sha| !photos.contains(sha.as_str()))
        .chain(
            recordings
                .filter(|sha| !media.contains(sha.as_str()))
                .cloned(),
        );
    for sha in missing {
        problems.push(msg(
            format!("案件引用的原始文件 {sha} 不在案卷中"),
            format!("original {sha}, which the case refers to, is not in the case file"),
        ));
    }
    report.set(CheckKind::Record, problems);
}

/// The JSON file and the Automerge document of a case file (`names`), the JSON read as `T`
/// (`what`: its name in Chinese and English); `None` (and the record check failed) when
/// either is missing or the JSON does not read.
fn read_pair<'a, T: serde::de::DeserializeOwned>(
    report: &mut Report,
    contents: &'a Contents,
    (json_name, am_name): (&str, &str),
    (what_zh, what_en): (&str, &str),
) -> Option<(T, &'a [u8])> {
    let (Some(json), Some(am)) = (contents.kept.get(json_name), contents.kept.get(am_name)) else {
        report.set(
            CheckKind::Record,
            vec![msg(
                format!("缺少 {json_name} 或 {am_name}"),
                format!("{json_name} or {am_name} is missing"),
            )],
        );
        return None;
    };
    match serde_json::from_slice(json) {
        Ok(v) => Some((v, am.as_slice())),
        Err(e) => {
            report.set(
                CheckKind::Record,
                vec![msg(
                    format!("{json_name} 不是有效的{what_zh}：{e}"),
                    format!("{json_name} is not a valid {what_en}: {e}"),
                )],
            );
            None
        }
    }
}

/// Whether a document's heads are the ones the manifest names (in any order).
fn same_heads(heads: &[automerge::ChangeHash], manifest: &Manifest) -> bool {
    let mut heads: Vec<String> = heads.iter().map(ToString::to_string).collect();
    let mut signed_heads = manifest.heads.clone();
    heads.sort();
    signed_heads.sort();
    heads == signed_heads
}
