//! The sync benchmark: 10 and 100 simulated tablets sync 10,000 realistic inspection documents
//! to the server, each size measured beside the JavaScript reference
//! `@automerge/automerge-repo-sync-server` (npm, in `bench/js`) in the same run, with the same
//! Automerge bytes.
//!
//! Run with `cargo bench -p sync-server --bench sync` (needs `node` and `npm`; `bench/js` is
//! installed with `npm ci` on first use; about 10 minutes on 2 cores, most of it the
//! reference). Environment knobs:
//! - `SYNC_BENCH_SIZES=10,100`: tablet counts (multiples of 5: five demo inspectors);
//! - `SYNC_BENCH_DOCS=10000`: documents. The server takes a change only from the device that
//!   wrote it, dated within its clock, so each run makes its documents anew for its tablets'
//!   devices at the current time (before timing); the statistics and in-process profiles use
//!   a copy generated once and cached in `target/sync-bench/`;
//! - `SYNC_BENCH_REF_CAP_SECS=240`: the reference's sync phase stops after this long and its
//!   rate is taken over the documents it synced by then (see below);
//! - `SYNC_BENCH_REF_HEAP_MB=16384`: the reference server's V8 heap limit;
//! - `SYNC_BENCH_NO_REF=1`: our server only; `SYNC_BENCH_PULL=1`: also run ours "as deployed"
//!   at every tablet count, and a new tablet's first sign-in in a unit of 50,000 records;
//! - `SYNC_BENCH_FIRST_SIGNIN=50000`: the first sign-in's record count (0: skip it);
//! - `SYNC_BENCH_SERVER=path`: run that server binary instead of this build's;
//! - `SYNC_BENCH_BACKENDS=sqlite,pg,pg2`: instead of the comparison with the reference, the
//!   upload run on each server set-up: SQLite; PostgreSQL with one node; two nodes on one
//!   PostgreSQL (tablets half on each, one shared photo folder), as `tests/two_nodes.rs` runs
//!   them. PostgreSQL is the tests' throwaway cluster (`tests/common/pg.rs`: Debian's, in a
//!   temporary folder, fsync off). Reported: docs/s, the server's CPU per document, the
//!   PostgreSQL processes' CPU per document, their sum beside SQLite's, the database size per
//!   document, and the load average (other people share the machine);
//! - `SYNC_BENCH_PHOTOS=20`: after the sync phase, that many 4 MB photos uploaded as the
//!   tablet uploads them (256 KiB chunks, resumable protocol) into the server's photo folder,
//!   for the CPU and time a photo costs the server (and PostgreSQL);
//! - `SYNC_BENCH_PULL_PROFILE=20`: only a tablet storing pulled pages of 200 records it did not
//!   hold, that many times (to profile it);
//! - `SYNC_BENCH_CHECK_ONLY=5`: only the in-process check of a new record beside a bare load,
//!   that many rounds of 300 documents (to profile the check alone).
//!
//! What is measured, for each server and tablet count:
//! - **docs/s**: documents / wall time of the sync phase. The documents are generated before
//!   timing and stored on each tablet before timing (document `i` on tablet `i % N`); the
//!   tablets then sync concurrently (ours: one OS thread per tablet, all released by one
//!   barrier; reference: one automerge-repo `Repo` and WebSocket per tablet in one Node
//!   process). Both clients load each document from their storage inside the sync phase.
//! - **wire bytes per document**: every byte of the TCP streams between the tablets and the
//!   server during the sync phase (HTTP or WebSocket headers and framing included), counted by
//!   a TCP proxy on 127.0.0.1 that both servers sit behind (so both pay the same extra hop);
//!   "beyond its own size" subtracts the document's saved Automerge size.
//! - **server peak memory**: `VmHWM` of the server process over the sync phase (reset through
//!   `/proc/<pid>/clear_refs` when the phase starts, so our sign-ins' Argon2 memory before it is
//!   reported separately), a fresh server per run.
//! - CPU seconds of the server, of the clients, and of everything else on the machine during
//!   the phase (the last should be near zero: otherwise the run was disturbed).
//!
//! What "synced" means:
//! - ours: every tablet's `SyncClient::sync` returned, every document accepted. The server
//!   answers only after the transaction holding the batch has committed (WAL,
//!   synchronous = FULL, i.e. fsync'd). Checked afterwards in the server's database.
//! - reference: for every document, the server's sync message reported heads equal to the
//!   document's heads (automerge-repo's `remote-heads` for the server's storage id), and the
//!   document has a non-empty chunk in the server's NodeFS data folder (written with
//!   `writeFile`, never fsync'd). A sample is re-loaded from that folder afterwards.
//!
//! The reference cannot finish this workload here: it keeps every document it has seen in
//! memory (automerge-js, about 0.5 MB of WebAssembly memory per document of this kind), its
//! rate falls as that grows, and near 7,000 documents the 4 GiB WebAssembly address space is
//! exhausted and the server process dies (`RuntimeError: unreachable` in `__rg_oom`). So its
//! phase is capped (`SYNC_BENCH_REF_CAP_SECS`) and its rate is taken over the documents it had
//! synced by then, the early, faster part of the run: the ratio is a lower bound. If the
//! server dies first, the rate is over the documents acknowledged and on disk before that.
//!
//! The workload is upload-only on both sides: automerge-repo clients hold only their own
//! documents and its server shares nothing unasked. Our tablets also pull other devices'
//! changes to the records they are sent (those the user has a part in, their plans' and what
//! they fetched, supervisors included; see docs/ARCHITECTURE.md, "What a tablet pulls"), and
//! the five demo inspectors' many tablets share records. To keep the workload equal, each
//! tablet's pull cursor starts past the end of the change log (the pull query still runs on
//! every round trip, and returns nothing).
//!
//! `SYNC_BENCH_PULL=1` adds, at every tablet count, a run **as deployed**: one inspector per
//! tablet (`u-bench-NNN`, added to a copy of the fixtures), going out in pairs of one unit (each
//! record names its author and the partner), real cursors: each tablet pushes its records and
//! pulls its partner's. Then **a new tablet's first sign-in**: 50,000 records of one unit (the
//! generator's, for 30 inspectors of the unit in pairs) are written straight into a fresh
//! server database through the record store, as pushes store them (they skip the push, which
//! the runs above measure, not the pull); then a new tablet signs in (Argon2, device, reference
//! data) and syncs until the server has nothing more, once as an inspector of the unit and once
//! as its supervisor (sent, like an inspector, only what they have a part in; a supervisor's
//! tablet was sent the whole unit before).

// The throwaway PostgreSQL cluster of the tests (`SYNC_BENCH_BACKENDS`, see [`Nodes`]).
#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

/// The simulated tablets allocate as the tablet app does (`src-tauri`'s `main.rs`): loading a
/// pulled record is Automerge's column decoding, many short-lived buffers per document.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app_core::checklist::ChecklistTemplate;
use app_core::document::InspectionDoc;
use app_core::enterprise::Enterprise;
use app_core::evidence::{PhotoRef, Sha256Hex};
use app_core::geo::{Position, PositionSource, Timestamp};
use app_core::hazard::{Hazard, HazardAction, HazardLevel, HazardStage};
use app_core::ids::{DeviceId, HazardId, InspectionId, UserId};
use app_core::inspection::{
    Answer, ArrivalProof, Attestations, Command, Context, Inspection, InspectionStatus,
    InspectorRef, OnsitePerson, SignOutcome, Signature, Signer,
};
use app_core::kind::InspectionKind;
use app_core::legal::LegalBasis;
use app_core::user::User;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use tablet::store::Store;
use tablet::sync::SyncClient;

/// Where the cached corpus (statistics and in-process profiles only, never pushed) starts.
const T0: i64 = 1_795_420_800_000; // 2026-11-23T00:00:00Z
/// The time between two commands of a generated document. A pushed document's changes must
/// lie between five minutes before its device was registered and five minutes after the
/// server's clock, so a run's documents are made within a few minutes (see [`for_tablets`]).
const STEP_MS: i64 = 1_000;
const PASSWORD: &str = "bench-password";
/// The inspectors whose tablets are simulated (tablet `t` signs in as `USERS[t % 5]`), and
/// the colleague each takes along (a second certified inspector of the same unit).
const USERS: [&str; 5] = ["u-wang", "u-li", "u-zhang", "u-chen", "u-liu"];
const COLLEAGUES: [&str; 5] = ["u-li", "u-zhang", "u-wang", "u-liu", "u-chen"];
/// The bare `AutoCommit::load` cost per document measured in-process (µs, as `f64` bits).
static LOAD_US: AtomicU64 = AtomicU64::new(0);
/// The same, as on-CPU time of the measuring thread (`/proc/thread-self/schedstat`): unlike
/// wall time, it does not grow when other processes share the cores.
static LOAD_CPU_US: AtomicU64 = AtomicU64::new(0);
/// A cursor past anything this run's server will number: the pull finds nothing.
const PUSH_ONLY_CURSOR: u64 = 1 << 40;
/// Bump when the generated documents change shape (the cache is also checked against a
/// freshly generated first document).
const GEN_VERSION: u32 = 3;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixtures() -> PathBuf {
    repo_root().join("fixtures")
}

fn load_json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

// ------------------------------------------------------------------------------------------
// The documents
// ------------------------------------------------------------------------------------------

/// A small deterministic generator (splitmix64), so the corpus is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NOTES: [&str; 8] = [
    "现场查看，制度文本齐全，已抽查近三个月的记录，签字完整。",
    "抽查两名岗位人员，能够说明本岗位风险和应急处置措施。",
    "配电室门口堆放纸箱等杂物，消防通道宽度不足，已当场指出。",
    "部分设备防护罩缺失，砂轮机托架间隙超过规定值，需立即整改。",
    "应急预案未根据机构调整及时修订，演练记录缺少评估内容。",
    "有限空间作业未严格执行审批制度，现场未配备气体检测仪。",
    "特种作业人员操作证已过期一人，企业称正在办理复审手续。",
    "安全警示标志设置不全，危险化学品暂存间未张贴安全周知卡。",
];

const HAZARD_TEXTS: [(&str, &str, &str); 4] = [
    (
        "配电室门口及消防通道堆放纸箱等可燃物，阻挡安全出口",
        "一号车间东侧配电室",
        "立即清理通道杂物，设置禁止堆放标志，落实每日巡查",
    ),
    (
        "砂轮机防护罩缺失，托架与砂轮间隙大于3毫米",
        "机加工车间二号砂轮机",
        "停止使用该砂轮机，加装防护罩并调整托架间隙，验收合格后方可使用",
    ),
    (
        "有限空间作业未执行作业审批，未进行气体检测",
        "污水处理站集水井",
        "暂停有限空间作业，完善审批制度，配备气体检测报警仪并培训作业人员",
    ),
    (
        "特种作业人员未持有效证件上岗作业",
        "焊接工段",
        "立即调离无证人员，组织复审取证，建立持证人员台账",
    ),
];

struct Corpus {
    template: ChecklistTemplate,
    users: Vec<User>,
    enterprises: Vec<Enterprise>,
    /// As deployed ([`Roster`]): document `i` is by `roster[i % len]` with its partner;
    /// otherwise by `USERS[i % 5]` with `COLLEAGUES[i % 5]`.
    roster: Option<Roster>,
}

impl Corpus {
    fn new() -> Self {
        let text = std::fs::read_to_string(fixtures().join("checklists/gongmao.toml")).unwrap();
        Self {
            template: ChecklistTemplate::parse_toml(&text).unwrap(),
            users: load_json("demo/users.json"),
            enterprises: load_json("demo/enterprises.json"),
            roster: None,
        }
    }

    /// The author of document `i` and the colleague on it.
    fn pair(&self, i: usize) -> (&User, &User) {
        match &self.roster {
            Some(r) => {
                let k = i % r.users.len();
                (&r.users[k], &r.users[k ^ 1])
            }
            None => (self.user(USERS[i % 5]), self.user(COLLEAGUES[i % 5])),
        }
    }

    fn user(&self, id: &str) -> &User {
        self.users.iter().find(|u| u.id.as_str() == id).unwrap()
    }

    /// Record ids are UUIDs on the tablets; these are deterministic ones.
    fn record_id(i: usize) -> String {
        let h = Sha256::digest(format!("sync-bench-record-{i}").as_bytes());
        let x = app_core::evidence::hex(&h[..16]);
        format!(
            "{}-{}-4{}-8{}-{}",
            &x[0..8],
            &x[8..12],
            &x[13..16],
            &x[17..20],
            &x[20..32]
        )
    }

    /// The device of the cached corpus's documents (those are never pushed).
    fn cached_device(i: usize) -> DeviceId {
        DeviceId::new(format!("bench-tablet-{}", USERS[i % 5]))
    }

    /// Document `i`: a completed routine inspection by `USERS[i % 5]` on `device`, created
    /// as a fresh draft at `start` (ms) — every checklist item answered, notes, photo
    /// references (items, hazards, arrival, signatures), one to three hazards with
    /// rectification orders, the on-site person, three signatures. One Automerge change per
    /// command, one command every [`STEP_MS`], as the tablet writes them.
    ///
    /// Returns the record id, the saved document, and the photos it names: each photo's bytes
    /// are its name (`{id}/{tag}`), so its digest is the SHA-256 of the name, and a tablet
    /// can upload those bytes before pushing the document ([`seed_photo_uploads`]).
    fn make(&self, i: usize, device: &DeviceId, start: i64) -> (String, Vec<u8>, Vec<String>) {
        let mut rng = Rng(i as u64 ^ 0x5EED);
        let (me, colleague) = self.pair(i);
        let ents: Vec<&Enterprise> = self
            .enterprises
            .iter()
            .filter(|e| e.unit == me.unit && self.template.applies_to(e.industry))
            .collect();
        let ent = ents[(i / 5) % ents.len()];
        let id = Self::record_id(i);
        let template = &self.template;
        let record = Inspection::new_draft(
            InspectionId::new(id.clone()),
            if i.is_multiple_of(5) {
                InspectionKind::Unannounced
            } else {
                InspectionKind::Routine
            },
            ent.unit.clone(),
            ent.into(),
            template.reference(),
            me.id.clone(),
            Timestamp(start),
        );
        let mut doc = InspectionDoc::create(&record, template, device, Timestamp(start)).unwrap();
        let step = std::cell::Cell::new(0i64);
        let now = || start + step.get() * STEP_MS;
        let run = |doc: &mut InspectionDoc, command: Command| {
            step.set(step.get() + 1);
            let cx = Context {
                actor: me,
                now: Timestamp(now()),
                template,
            };
            doc.apply(&command, &cx, device)
                .unwrap_or_else(|e| panic!("{}: {e}", command.name()));
        };
        let photos = std::cell::RefCell::new(Vec::new());
        let digest = |tag: &str| {
            let name = format!("{id}/{tag}");
            let sha = Sha256Hex::of(name.as_bytes());
            photos.borrow_mut().push(name);
            sha
        };
        let photo = |tag: String, by: &UserId, at: i64| PhotoRef {
            sha256: digest(&tag),
            added_at: Timestamp(at),
            added_by: by.clone(),
        };
        for u in [me, colleague] {
            run(
                &mut doc,
                Command::AddInspector(InspectorRef {
                    user: u.id.clone(),
                    name: u.name.clone(),
                    certificate: u.certificate().unwrap().clone(),
                }),
            );
        }
        run(
            &mut doc,
            Command::SetArrival(ArrivalProof {
                at: Timestamp(start + STEP_MS),
                position: Position::new(
                    32.0935 + rng.below(1000) as f64 * 1e-6,
                    118.8056 + rng.below(1000) as f64 * 1e-6,
                    PositionSource::Device,
                )
                .unwrap(),
                entrance_photo: digest("entrance"),
            }),
        );
        run(
            &mut doc,
            Command::SetAttestations(Attestations {
                no_notice_given: true,
                no_escort_accepted: true,
            }),
        );
        run(
            &mut doc,
            Command::Transition {
                to: InspectionStatus::OnSite,
                comment: String::new(),
            },
        );
        run(
            &mut doc,
            Command::SetPlaces {
                text: "生产车间、原料仓库、配电室、危险化学品暂存间、办公区".into(),
            },
        );
        let hazards = 1 + i % 3;
        let today = Timestamp(start).shanghai_date();
        let items: Vec<_> = template.items().map(|it| it.code.clone()).collect();
        // The first `hazards` failing items get a hazard each; about one item in ten fails.
        let mut failing = Vec::new();
        for (k, item) in items.iter().enumerate() {
            let r = rng.below(100);
            let answer = if k % (items.len() / hazards) == 3 || r < 8 {
                Answer::Fails
            } else if r < 13 {
                Answer::NotApplicable
            } else {
                Answer::Complies
            };
            run(
                &mut doc,
                Command::Answer {
                    item: item.clone(),
                    answer: Some(answer),
                },
            );
            if answer == Answer::Fails || r.is_multiple_of(3) {
                run(
                    &mut doc,
                    Command::SetNote {
                        item: item.clone(),
                        text: NOTES[rng.below(NOTES.len() as u64) as usize].into(),
                    },
                );
            }
            if answer == Answer::Fails {
                failing.push(item.clone());
                for p in 0..(1 + rng.below(2)) {
                    run(
                        &mut doc,
                        Command::AddItemPhoto {
                            item: item.clone(),
                            photo: photo(format!("item-{k}-{p}"), &me.id, now()),
                        },
                    );
                }
            }
        }
        // Hazards on items that are not 重大事故隐患 situations (those must be registered as
        // major), carrying the item's 处罚依据 as the rules require.
        let general = failing.iter().filter(|it| {
            template
                .item(it)
                .is_some_and(|item| !item.is_major_hazard())
        });
        for (h, item) in general.take(hazards).enumerate() {
            let (description, place, measures) = HAZARD_TEXTS[(i + h) % HAZARD_TEXTS.len()];
            let hid = HazardId::new(format!("{id}-h{h}"));
            run(
                &mut doc,
                Command::RegisterHazard(Hazard {
                    id: hid.clone(),
                    item: Some(item.clone()),
                    level: HazardLevel::General,
                    description: description.into(),
                    place: place.into(),
                    basis: vec![LegalBasis::new("安全生产法", "第四十一条第二款")],
                    penalty: template.item(item).unwrap().penalty.clone(),
                    photos: BTreeMap::new(),
                    measures: String::new(),
                    deadline: None,
                    stage: HazardStage::Registered,
                    supervision: None,
                    registered_on: today,
                    reported_on: None,
                    reinspections: BTreeMap::new(),
                    closed_on: None,
                }),
            );
            for p in 0..2 {
                run(
                    &mut doc,
                    Command::AddHazardPhoto {
                        hazard: hid.clone(),
                        photo: photo(format!("hazard-{h}-{p}"), &me.id, now()),
                    },
                );
            }
            run(
                &mut doc,
                Command::Hazard {
                    hazard: hid,
                    action: HazardAction::Order {
                        deadline: today.plus_days(22),
                        measures: measures.into(),
                    },
                },
            );
        }
        run(
            &mut doc,
            Command::SetOnsitePerson(OnsitePerson {
                name: "周建国".into(),
                position: "安全生产管理部经理".into(),
                phone: format!("1380000{:04}", i % 10_000),
            }),
        );
        run(
            &mut doc,
            Command::SetSummary {
                text: format!(
                    "本次检查共{}项，发现问题{}项，其中隐患{}项，已当场下达责令限期整改指令书。\
                     企业主要负责人表示将按期完成整改并书面报告整改情况。",
                    items.len(),
                    failing.len(),
                    hazards
                ),
            },
        );
        let signed_at = now();
        let signers = [
            (Signer::Inspector(me.id.clone()), me.name.clone()),
            (
                Signer::Inspector(colleague.id.clone()),
                colleague.name.clone(),
            ),
            (Signer::Enterprise, "周建国".to_owned()),
        ];
        for (k, (signer, name)) in signers.into_iter().enumerate() {
            run(
                &mut doc,
                Command::Sign(Signature {
                    signer,
                    name,
                    outcome: SignOutcome::Signed {
                        image: digest(&format!("signature-{k}")),
                    },
                    at: Timestamp(signed_at),
                    read: Vec::new(),
                }),
            );
        }
        run(
            &mut doc,
            Command::Transition {
                to: InspectionStatus::Completed,
                comment: String::new(),
            },
        );
        let bytes = doc.save();
        (id, bytes, photos.into_inner())
    }
}

/// One generated document: its record id, its author's index in `USERS`, its saved bytes.
struct Doc {
    id: String,
    bytes: Vec<u8>,
    /// The names of the photos it names, whose bytes are the name (see [`Corpus::make`]);
    /// only for a run's documents, not cached.
    photos: Vec<String>,
    /// The document's heads as the tablet store keeps them (a JSON list of hex hashes);
    /// computed when the corpus is loaded, not cached.
    heads: String,
}

impl Doc {
    /// The document as a push or a pull carries it (the whole document, no receipt).
    fn changes(&self) -> app_core::wire::DocChanges {
        app_core::wire::DocChanges {
            id: self.id.clone(),
            bytes: self.bytes.clone(),
            receipt: None,
        }
    }
}

/// The heads of every document, as the tablet store records them with each write.
fn with_heads(docs: &mut [Doc]) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = docs.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for part in docs.chunks_mut(chunk) {
            s.spawn(move || {
                for d in part {
                    let mut doc = automerge::AutoCommit::load(&d.bytes).unwrap();
                    let heads: Vec<String> =
                        doc.get_heads().iter().map(ToString::to_string).collect();
                    d.heads = serde_json::to_string(&heads).unwrap();
                }
            });
        }
    });
}

const MAGIC: &[u8] = b"SYNCBENCH";

fn write_corpus(path: &Path, docs: &[Doc]) {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&GEN_VERSION.to_le_bytes());
    out.extend_from_slice(&(docs.len() as u32).to_le_bytes());
    for d in docs {
        out.extend_from_slice(&(d.id.len() as u32).to_le_bytes());
        out.extend_from_slice(d.id.as_bytes());
        out.extend_from_slice(&(d.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&d.bytes);
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, out).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

fn read_corpus(path: &Path) -> Option<Vec<Doc>> {
    let raw = std::fs::read(path).ok()?;
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = raw.get(at..at + n)?;
        at += n;
        Some(s)
    };
    let u32le = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
    if take(MAGIC.len())? != MAGIC || u32le(take(4)?) != GEN_VERSION {
        return None;
    }
    let count = u32le(take(4)?) as usize;
    let mut docs = Vec::with_capacity(count);
    for _ in 0..count {
        let n = u32le(take(4)?) as usize;
        let id = String::from_utf8(take(n)?.to_vec()).ok()?;
        let n = u32le(take(4)?) as usize;
        docs.push(Doc {
            id,
            bytes: take(n)?.to_vec(),
            photos: Vec::new(),
            heads: String::new(),
        });
    }
    Some(docs)
}

/// The corpus, from the cache if it is there and still what the generator makes.
fn corpus(count: usize, dir: &Path) -> (Vec<Doc>, PathBuf) {
    let path = dir.join(format!("docs-{count}.bin"));
    let gen_ = Corpus::new();
    let make = |i: usize| {
        gen_.make(
            i,
            &Corpus::cached_device(i),
            T0 + (i as i64 % 2000) * 3_600_000,
        )
    };
    let fresh_first = make(0);
    if let Some(mut docs) = read_corpus(&path)
        && docs.len() == count
        && docs[0].id == fresh_first.0
        && docs[0].bytes == fresh_first.1
    {
        println!("documents: {count} from the cache {}", path.display());
        with_heads(&mut docs);
        return (docs, path);
    }
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut parts: Vec<Vec<(usize, Doc)>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let make = &make;
                s.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|i| {
                            let (id, bytes, _) = make(i);
                            (
                                i,
                                Doc {
                                    id,
                                    bytes,
                                    photos: Vec::new(),
                                    heads: String::new(),
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts = handles.into_iter().map(|h| h.join().unwrap()).collect();
    });
    let mut all: Vec<(usize, Doc)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    let mut docs: Vec<Doc> = all.into_iter().map(|(_, d)| d).collect();
    write_corpus(&path, &docs);
    with_heads(&mut docs);
    println!(
        "documents: generated {count} in {:.1} s (cached in {})",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    (docs, path)
}

/// The real clock, in milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A run's documents, made for its tablets as the server judges them: document `i` is
/// written on `devices[i % n]` (the device of tablet `i % n`, signed in as `USERS[i % 5]`),
/// created fresh at `t0` plus up to two minutes, one command every [`STEP_MS`]. `t0` must be
/// at most five minutes before the last device was registered, and the last change (about
/// four minutes after `t0`) at most five minutes after the server's clock when it is pushed.
fn for_tablets(count: usize, devices: &[DeviceId], t0: i64) -> Vec<Doc> {
    for_tablets_by(Corpus::new(), count, devices, t0)
}

/// [`for_tablets`] with the authors `gen_` names ([`Corpus::pair`]).
fn for_tablets_by(gen_: Corpus, count: usize, devices: &[DeviceId], t0: i64) -> Vec<Doc> {
    let n = devices.len();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut docs: Vec<(usize, Doc)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|part| {
                let g = &gen_;
                s.spawn(move || {
                    (part..count)
                        .step_by(threads)
                        .map(|i| {
                            let start = t0 + (i as i64 % 120) * 1_000;
                            let (id, bytes, photos) = g.make(i, &devices[i % n], start);
                            (
                                i,
                                Doc {
                                    id,
                                    bytes,
                                    photos,
                                    heads: String::new(),
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    docs.sort_by_key(|(i, _)| *i);
    let mut docs: Vec<Doc> = docs.into_iter().map(|(_, d)| d).collect();
    with_heads(&mut docs);
    docs
}

/// Concurrent HTTP clients [`seed_photo_uploads`] uploads with (`SYNC_BENCH_SEED_CLIENTS`).
fn seed_clients() -> usize {
    std::env::var("SYNC_BENCH_SEED_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
        .max(1)
}

/// Photos: the server accepts a photo digest in a pushed record only from a device that
/// uploaded that photo (`blob_uploaders`, `blobs.rs`), as the tablet does before it syncs
/// (`upload_then_sync`). So before the measured phase every photo the documents name is
/// uploaded through the real blob API by the tablet that will push the document
/// (`tablets[t]` holds `docs[i]` for `i % tablets.len() == t`; each entry is the device and
/// its session token): one `PUT /api/v1/blobs/{sha}?offset=0&total=len` per photo, whose
/// bytes are its name (see [`Corpus::make`]), hash-checked by the server. The sync phase then
/// measures record sync only. Checked afterwards in the server's database (`server_data`).
/// Returns the number of photos uploaded.
fn seed_photo_uploads(nodes: &Nodes, tablets: &[(DeviceId, String)], docs: &[Doc]) -> usize {
    let n = tablets.len();
    let work: Vec<(usize, &str)> = docs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.photos.iter().map(move |p| (i % n, p.as_str())))
        .collect();
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..seed_clients() {
            let (work, next) = (&work, &next);
            let nodes = &nodes;
            s.spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(120))
                    .build()
                    .unwrap();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(&(t, name)) = work.get(k) else {
                        break;
                    };
                    let sha = Sha256Hex::of(name.as_bytes());
                    // Through the node the tablet syncs with.
                    let url = nodes.url(t, n);
                    let resp = http
                        .put(format!(
                            "{url}/api/v1/blobs/{sha}?offset=0&total={}",
                            name.len()
                        ))
                        .bearer_auth(&tablets[t].1)
                        .header("content-type", "application/octet-stream")
                        .body(name.as_bytes().to_vec())
                        .send()
                        .unwrap_or_else(|e| panic!("photo upload {sha}: {e}"));
                    let status = resp.status();
                    let body: serde_json::Value = resp.json().unwrap_or_default();
                    assert!(
                        status.is_success() && body["held"] == true,
                        "photo upload {sha} by {}: {status} {body}",
                        tablets[t].0
                    );
                }
            });
        }
    });
    // Every (photo, device) pair is recorded as uploaded.
    let uploaders = nodes.count_rows("blob_uploaders");
    assert_eq!(
        uploaders as usize,
        work.len(),
        "every photo's uploader recorded"
    );
    work.len()
}

// ------------------------------------------------------------------------------------------
// Measuring: a counting TCP proxy, and /proc
// ------------------------------------------------------------------------------------------

/// Forwards 127.0.0.1:<port> to the server, counting the bytes of both directions.
#[derive(Debug)]
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn pump(mut from: TcpStream, mut to: TcpStream, counter: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::Relaxed);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

impl Proxy {
    fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (u, d, c, st) = (up.clone(), down.clone(), connections.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                c.fetch_add(1, Ordering::Relaxed);
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (u, d) = (u.clone(), d.clone());
                std::thread::spawn(move || pump(client, server, u));
                std::thread::spawn(move || pump(s2, c2, d));
            }
        });
        Self {
            addr,
            up,
            down,
            connections,
            stop,
        }
    }

    fn reset(&self) {
        self.up.store(0, Ordering::SeqCst);
        self.down.store(0, Ordering::SeqCst);
        self.connections.store(0, Ordering::SeqCst);
    }

    fn counts(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

fn clock_ticks() -> f64 {
    Process::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// With `SYNC_BENCH_PERF=1`, `perf record` (DWARF call graphs) of the server over the sync
/// phase, written to `out` (in `target/sync-bench/`; read with `perf report -i`).
fn perf_record(pid: &str, out: &Path) -> Option<Child> {
    // `SYNC_BENCH_PERF=tablets`: the bench process instead (the simulated tablets and proxy).
    let own = std::process::id().to_string();
    let pid = match std::env::var("SYNC_BENCH_PERF").as_deref() {
        Ok("1") => pid,
        Ok("tablets") => own.as_str(),
        _ => return None,
    };
    let child = Process::new("perf")
        .args([
            "record",
            "-F",
            "997",
            "--call-graph",
            "dwarf,16384",
            "-p",
            pid,
            "-o",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(500));
    Some(child)
}

/// User + system CPU seconds of a process so far (`/proc/<pid>/stat`).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15 (1-based, whole line).
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / clock_ticks()
}

/// CPU seconds the whole machine has been busy (`/proc/stat`, all cores).
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or_default();
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| v.get(i).copied().unwrap_or(0.0))
        .sum::<f64>();
    busy / clock_ticks()
}

/// Peak resident memory (`VmHWM`) of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Resident memory now (`VmRSS`), in bytes.
fn rss_now(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Resets the process's `VmHWM` to its current RSS (`/proc/<pid>/clear_refs`, value 5), so
/// the peak read later is the sync phase's, not that of the sign-ins before it (each Argon2
/// verification takes 19 MiB). Returns the lifetime peak before the reset.
fn reset_peak(pid: u32) -> u64 {
    let before = peak_rss(pid);
    if let Err(e) = std::fs::write(format!("/proc/{pid}/clear_refs"), "5") {
        println!("  (could not reset the peak RSS of {pid}: {e}; the peak includes the setup)");
    }
    before
}

/// Samples a process's `VmHWM` every 50 ms, so the peak is known even if the process dies.
#[derive(Debug)]
struct PeakWatch {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakWatch {
    fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(peak_rss(pid)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, st) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                p.fetch_max(peak_rss(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    /// The highest `VmHWM` seen (read once more now, if the process still lives).
    fn finish(mut self, pid: u32) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed).max(peak_rss(pid))
    }
}

/// A server process, stopped with SIGTERM (then SIGKILL) when dropped.
#[derive(Debug)]
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn wait_for_port_file(mut child: Child, port_file: &Path, what: &str) -> Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(port_file)
                && let Ok(addr) = text.trim().parse::<SocketAddr>()
            {
                return Self { child, addr };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{what} exited before listening: {status}");
            }
            assert!(Instant::now() < deadline, "{what} did not start in 30 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = Process::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------------------
// One run
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct RunResult {
    /// The two small syncs over the whole corpus (ours, first size only).
    small: Option<SmallSyncs>,
    docs: usize,
    /// The reference stopped (time cap, or its server died) before syncing every document.
    partial: bool,
    /// The documents the counted wire bytes carried (all acknowledged ones; for a stopped
    /// reference run this includes those acknowledged while the client wound down).
    wire_docs: usize,
    seconds: f64,
    wire_up: u64,
    wire_down: u64,
    /// `VmHWM` during the sync phase (reset at its start), RSS at its start, lifetime peak.
    peak_rss: u64,
    rss_start: u64,
    peak_life: u64,
    server_cpu: f64,
    client_cpu: f64,
    /// CPU seconds the rest of the machine used during the sync phase (other processes):
    /// anything much above zero means the figures were disturbed.
    others_cpu: f64,
    connections: u64,
    /// Ours: CBOR bodies (SyncReport); reference: 0.
    body_bytes: u64,
    round_trips: u64,
    pulled: u64,
    /// CPU seconds of the PostgreSQL cluster's processes during the sync phase (0 on SQLite,
    /// whose work is inside the server's process).
    database_cpu: f64,
    /// The server's database after the run: SQLite's file and log, or `pg_database_size`.
    database_bytes: u64,
    /// The 1-minute load average when the sync phase started and when it ended.
    load: (f64, f64),
    /// `SYNC_BENCH_PHOTOS`: full-size photos uploaded after the sync phase (see
    /// [`measure_photo_uploads`]).
    photo_cost: Option<PhotoCost>,
    note: String,
}

impl RunResult {
    fn rate(&self) -> f64 {
        self.docs as f64 / self.seconds
    }

    fn wire_per_doc(&self) -> f64 {
        (self.wire_up + self.wire_down) as f64 / self.wire_docs.max(1) as f64
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Our server: the release binary with a fresh data folder, `n` tablets (own store, own
/// device key, signed in as one of the five demo inspectors), `count` documents made for
/// this run ([`for_tablets`]), `docs[i]` on tablet `i % n`.
/// Returns the run's result, its documents and the file holding them (for the reference).
fn run_ours(
    count: usize,
    n: usize,
    push_only: bool,
    small_syncs: bool,
    work: &Path,
    roster: Option<&Roster>,
    backend: Backend,
) -> (RunResult, Vec<Doc>, PathBuf) {
    let data = work.join(format!(
        "ours-{n}-{}",
        if push_only { "push" } else { "pull" }
    ));
    let server_fixtures = roster.map_or_else(fixtures, |r| r.fixtures.clone());
    let sign_in_as = |t: usize| roster.map_or(USERS[t % 5], |r| r.users[t].id.as_str());
    let sign_in_as = &sign_in_as;
    std::fs::create_dir_all(&data).unwrap();
    let nodes = Nodes::start(backend, &data, &server_fixtures);
    // Tablets: sign in (Argon2 on the server, outside the timing), then make this run's
    // documents on their devices and store them; all before timing.
    let setup = Instant::now();
    struct Tablet {
        store: Mutex<Store>,
        client: SyncClient,
        user: UserId,
        docs: usize,
        _dir: tempfile::TempDir,
    }
    let mut tablets: Vec<Tablet> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|part| {
                let nodes = &nodes;
                s.spawn(move || {
                    (part..n)
                        .step_by(2)
                        .map(|t| {
                            let dir = tempfile::tempdir().unwrap();
                            let store = Store::open(&dir.path().join("tablet.db")).unwrap();
                            let mut client = SyncClient::new(nodes.url(t, n));
                            let user = client
                                .sign_in(sign_in_as(t), PASSWORD, &store)
                                .unwrap()
                                .user
                                .id
                                .clone();
                            (
                                t,
                                Tablet {
                                    store: Mutex::new(store),
                                    client,
                                    user,
                                    docs: 0,
                                    _dir: dir,
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Tablet)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_by_key(|(t, _)| *t);
        all.into_iter().map(|(_, t)| t).collect()
    });
    // Every device is registered now: the documents start four minutes ago (see
    // `for_tablets`).
    let devices: Vec<DeviceId> = tablets
        .iter()
        .map(|t| t.store.lock().unwrap().device().clone())
        .collect();
    let generated = Instant::now();
    let t0 = now_ms() - 4 * 60_000;
    let docs = match roster {
        Some(r) => for_tablets_by(Corpus::deployed(r), count, &devices, t0),
        None => for_tablets(count, &devices, t0),
    };
    let generated = generated.elapsed();
    let half = n.div_ceil(2);
    std::thread::scope(|s| {
        for (c, part) in tablets.chunks_mut(half).enumerate() {
            let docs = &docs;
            s.spawn(move || {
                for (k, t) in part.iter_mut().enumerate() {
                    let index = c * half + k;
                    let store = t.store.lock().unwrap();
                    // The store has no bulk import: a record created on this tablet and never
                    // pushed is a `docs` row holding its snapshot and heads, with `dirty` at
                    // its default 1 and no synced heads, which is what `create_inspection`
                    // writes (its index rows are not read by sync). Written in one
                    // transaction, before timing.
                    let conn = store.connection();
                    conn.execute_batch("BEGIN").unwrap();
                    let mut count = 0;
                    {
                        let mut insert = conn
                            .prepare("INSERT INTO docs (id, snapshot, heads) VALUES (?1, ?2, ?3)")
                            .unwrap();
                        for d in docs.iter().skip(index).step_by(n) {
                            insert.execute((&d.id, &d.bytes, &d.heads)).unwrap();
                            count += 1;
                        }
                    }
                    conn.execute_batch("COMMIT").unwrap();
                    if push_only {
                        store.set_sync_cursor(&t.user, PUSH_ONLY_CURSOR).unwrap();
                    }
                    drop(store);
                    t.docs = count;
                }
            });
        }
    });
    // The same bytes for the reference run of this size.
    let corpus_file = work.join(format!("docs-{n}.bin"));
    write_corpus(&corpus_file, &docs);
    let seeding = Instant::now();
    let uploaders: Vec<(DeviceId, String)> = tablets
        .iter()
        .zip(&devices)
        .map(|(t, d)| (d.clone(), t.client.session().unwrap().token.clone()))
        .collect();
    let photos = seed_photo_uploads(&nodes, &uploaders, &docs);
    let seeding = seeding.elapsed();
    let setup = setup.elapsed();

    // The sync phase.
    let pid = nodes.servers[0].pid().to_string();
    let self_pid = std::process::id().to_string();
    let (server_cpu0, client_cpu0) = (nodes.server_cpu(), cpu_seconds(&self_pid));
    let db_cpu0 = nodes.database_cpu();
    let load0 = load_average();
    let busy0 = machine_busy_seconds();
    let peak_setup = reset_peak(nodes.servers[0].pid());
    let rss_start = rss_now(nodes.servers[0].pid());
    let watch = PeakWatch::start(nodes.servers[0].pid());
    let perf = perf_record(
        &pid,
        &repo_root()
            .join("target/sync-bench")
            .join(format!("perf-{n}.data")),
    );
    nodes.reset_proxies();
    let barrier = Barrier::new(n + 1);
    let (seconds, reports, failures) = std::thread::scope(|s| {
        let handles: Vec<_> = tablets
            .iter()
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    // As the app's BackgroundSync does, a transient failure (e.g. the 60 s
                    // client timeout while queued behind other tablets) is retried; what was
                    // acknowledged stays acknowledged, a replayed push is harmless.
                    let mut total = tablet::sync::SyncReport::default();
                    let mut failures = Vec::new();
                    loop {
                        match t.client.sync(&t.store, Timestamp(now_ms())) {
                            Ok(r) => {
                                total.pushed += r.pushed;
                                total.accepted += r.accepted;
                                total.rejected.extend(r.rejected);
                                total.pulled += r.pulled;
                                total.bytes_sent += r.bytes_sent;
                                total.bytes_received += r.bytes_received;
                                total.round_trips += r.round_trips;
                                break;
                            }
                            Err(e) if e.is_transient() && failures.len() < 5 => {
                                failures.push(e.to_string());
                            }
                            Err(e) => panic!("sync failed: {e} (after {failures:?})"),
                        }
                    }
                    ((total, failures), Instant::now())
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let last = results.iter().map(|(_, at)| *at).max().unwrap();
        let (reports, failures): (Vec<_>, Vec<_>) = results.into_iter().map(|(r, _)| r).unzip();
        ((last - started).as_secs_f64(), reports, failures)
    });
    let failures: Vec<String> = failures.into_iter().flatten().collect();
    let (up, down, connections) = nodes.proxy_counts();
    let (server_cpu, client_cpu) = (
        nodes.server_cpu() - server_cpu0,
        cpu_seconds(&self_pid) - client_cpu0,
    );
    let database_cpu = nodes.database_cpu() - db_cpu0;
    let load = (load0, load_average());
    let others_cpu = machine_busy_seconds() - busy0 - server_cpu - client_cpu - database_cpu;
    if let Some(mut perf) = perf {
        // SIGINT makes perf write its file and exit.
        let _ = Process::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
    }
    let peak = watch.finish(nodes.servers[0].pid());

    let accepted: u64 = reports.iter().map(|r| u64::from(r.accepted)).sum();
    let rejected: usize = reports.iter().map(|r| r.rejected.len()).sum();
    for (t, r) in tablets.iter().zip(&reports) {
        assert_eq!(
            r.accepted as usize, t.docs,
            "every document accepted: {r:?}"
        );
    }
    assert_eq!(
        (accepted as usize, rejected),
        (docs.len(), 0),
        "all accepted"
    );
    // The server holds them all.
    assert_eq!(
        nodes.count_rows("docs") as usize,
        docs.len(),
        "the server's database holds every document"
    );
    let database_bytes = nodes.database_bytes();
    let photo_cost = measure_photo_uploads(&nodes, &uploaders, n);
    // (Over SQLite only: they read the server's database file.)
    let small = (small_syncs && backend == Backend::Sqlite).then(|| {
        let t = &tablets[0];
        measure_small_syncs(
            &t.client,
            &t.store,
            &nodes.proxies[0],
            &data.join("server.db"),
        )
    });
    drop(nodes);
    drop(tablets);
    let _ = std::fs::remove_dir_all(&data);
    let result = RunResult {
        small,
        docs: docs.len(),
        partial: false,
        wire_docs: docs.len(),
        seconds,
        wire_up: up,
        wire_down: down,
        peak_rss: peak,
        rss_start,
        peak_life: peak.max(peak_setup),
        server_cpu,
        client_cpu,
        others_cpu,
        connections,
        body_bytes: reports
            .iter()
            .map(|r| r.bytes_sent + r.bytes_received)
            .sum(),
        round_trips: reports.iter().map(|r| u64::from(r.round_trips)).sum(),
        pulled: reports.iter().map(|r| u64::from(r.pulled)).sum(),
        database_cpu,
        database_bytes,
        load,
        photo_cost,
        note: format!(
            "setup before timing (sign-ins, making the documents on the tablets' devices ({:.1} s), storing them, and uploading the {photos} photos they name through the blob API ({:.1} s, {} clients)) {:.1} s; {}",
            generated.as_secs_f64(),
            seeding.as_secs_f64(),
            seed_clients(),
            setup.as_secs_f64(),
            if failures.is_empty() {
                "no sync failed".to_owned()
            } else {
                format!(
                    "{} syncs failed and were retried: {:?}",
                    failures.len(),
                    failures
                )
            }
        ),
    };
    (result, docs, corpus_file)
}

/// After the whole corpus is on the server, tablet 0 (with its real cursor: it has seen every
/// change) makes a sync where nothing changed, then changes one checklist answer in one of its
/// records and syncs that. Wire bytes are everything the proxy carried (HTTP included).
#[derive(Debug, Clone, Default)]
struct SmallSyncs {
    corpus_docs: i64,
    quiet_bytes: u64,
    quiet_ms: f64,
    /// The encoded size of the one Automerge change the edit made.
    change_size: usize,
    change_bytes: u64,
    change_ms: f64,
}

fn measure_small_syncs(
    client: &SyncClient,
    store: &Mutex<Store>,
    proxy: &Proxy,
    server_db: &Path,
) -> SmallSyncs {
    let corpus = Corpus::new();
    let me = corpus.user(USERS[0]).clone();
    let colleague = corpus.user(COLLEAGUES[0]).clone();
    let template = &corpus.template;
    let db = rusqlite::Connection::open_with_flags(
        server_db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let (latest, corpus_docs): (i64, i64) = db
        .query_row(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM changes), (SELECT count(*) FROM docs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(db);
    let now = Timestamp(now_ms());
    let id = InspectionId::new("00000000-0000-4000-8000-00000000b001");
    let item = template.items().next().unwrap().code.clone();
    {
        let mut s = store.lock().unwrap();
        // The tablet has seen every change so far.
        s.set_sync_cursor(&me.id, latest as u64).unwrap();
        // An inspection in progress on this tablet, already synced once.
        let ent = corpus
            .enterprises
            .iter()
            .find(|e| e.unit == me.unit)
            .unwrap();
        let record = Inspection::new_draft(
            id.clone(),
            InspectionKind::Routine,
            ent.unit.clone(),
            ent.into(),
            template.reference(),
            me.id.clone(),
            now,
        );
        s.create_inspection(&record, template, now).unwrap();
        let cx = Context {
            actor: &me,
            now,
            template,
        };
        for u in [&me, &colleague] {
            s.apply(
                &id,
                &Command::AddInspector(InspectorRef {
                    user: u.id.clone(),
                    name: u.name.clone(),
                    certificate: u.certificate().unwrap().clone(),
                }),
                &cx,
            )
            .unwrap();
        }
        s.apply(
            &id,
            &Command::Answer {
                item: item.clone(),
                answer: Some(Answer::Complies),
            },
            &cx,
        )
        .unwrap();
    }
    client.sync(store, now).unwrap();

    // 1. Nothing changed.
    proxy.reset();
    let t = Instant::now();
    let r = client.sync(store, now).unwrap();
    let quiet_ms = t.elapsed().as_secs_f64() * 1e3;
    let (up, down) = proxy.counts();
    assert_eq!((r.pushed, r.pulled), (0, 0), "a quiet sync moves nothing");

    // 2. One checklist answer changed in one document.
    let change_size = {
        let mut s = store.lock().unwrap();
        let cx = Context {
            actor: &me,
            now: Timestamp(now.0 + 60_000),
            template,
        };
        s.apply(
            &id,
            &Command::Answer {
                item: item.clone(),
                answer: Some(Answer::Fails),
            },
            &cx,
        )
        .unwrap();
        let pending = s.pending_pushes(10).unwrap();
        assert_eq!(pending.len(), 1);
        pending[0].bytes.len()
    };
    proxy.reset();
    let t = Instant::now();
    let r = client.sync(store, now).unwrap();
    let change_ms = t.elapsed().as_secs_f64() * 1e3;
    let (cup, cdown) = proxy.counts();
    assert_eq!(
        (r.pushed, r.accepted),
        (1, 1),
        "the change is pushed and accepted"
    );
    SmallSyncs {
        corpus_docs,
        quiet_bytes: up + down,
        quiet_ms,
        change_size,
        change_bytes: cup + cdown,
        change_ms,
    }
}

/// How long the reference's sync phase may run before it stops and reports what it synced.
fn ref_cap_secs() -> u64 {
    std::env::var("SYNC_BENCH_REF_CAP_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240)
}

fn js_dir() -> PathBuf {
    repo_root().join("bench/js")
}

/// Makes sure `bench/js/node_modules` is installed; says why not if it cannot be.
fn prepare_reference() -> Result<(), String> {
    let node = Process::new("node").arg("--version").output();
    match node {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Err(format!(
                "node --version failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Err(e) => return Err(format!("node not found: {e}")),
    }
    if js_dir()
        .join("node_modules/@automerge/automerge-repo-sync-server/package.json")
        .exists()
    {
        return Ok(());
    }
    println!("installing bench/js (npm ci)…");
    let npm = |command: &str| {
        Process::new("npm")
            .args([command, "--no-audit", "--no-fund"])
            .current_dir(js_dir())
            .output()
            .map_err(|e| format!("npm not found: {e}"))
    };
    let mut out = npm("ci")?;
    if !out.status.success() {
        // npm 11 refuses this lock file in `ci` (it lists cbor-extract's optional platform
        // packages without versions); `install` honours the same lock.
        println!("npm ci refused the lock file; installing with npm install");
        out = npm("install")?;
    }
    if !out.status.success() {
        return Err(format!(
            "npm ci failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The reference: `@automerge/automerge-repo-sync-server` (its own `Server`, NodeFS storage,
/// bound to 127.0.0.1 by `bench/js/server.mjs`), and `bench/js/client.mjs` simulating `n`
/// tablets as `n` automerge-repo `Repo`s, each with its own WebSocket connection.
fn run_reference(
    corpus_file: &Path,
    docs: &[Doc],
    n: usize,
    work: &Path,
) -> Result<RunResult, String> {
    let data = work.join(format!("ref-{n}"));
    std::fs::create_dir_all(&data).unwrap();
    let port_file = work.join(format!("ref-{n}.port"));
    // A larger V8 heap than Node's default (about 4 GiB here): the reference keeps every
    // document it has seen in memory, and 10,000 of these do not fit in the default heap.
    let heap_mb = std::env::var("SYNC_BENCH_REF_HEAP_MB").unwrap_or_else(|_| "16384".into());
    let child = Process::new("node")
        .arg(format!("--max-old-space-size={heap_mb}"))
        .arg(js_dir().join("server.mjs"))
        .env("PORT", "0")
        .env("DATA_DIR", &data)
        .env("BENCH_PORT_FILE", &port_file)
        .current_dir(work)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(work.join(format!("ref-{n}.server.log"))).unwrap(),
        ))
        .spawn()
        .map_err(|e| format!("starting node: {e}"))?;
    let mut server = ServerProcess::wait_for_port_file(child, &port_file, "reference server");
    let proxy = Proxy::start(server.addr);
    let result_file = work.join(format!("ref-{n}.json"));
    let _ = std::fs::remove_file(&result_file);
    let pid = server.pid().to_string();
    let self_pid = std::process::id().to_string();
    let (server_cpu0, proxy_cpu0) = (cpu_seconds(&pid), cpu_seconds(&self_pid));
    let busy0 = machine_busy_seconds();
    let peak_setup = reset_peak(server.pid());
    let rss_start = rss_now(server.pid());
    let watch = PeakWatch::start(server.pid());
    // The client loads and imports every document before it connects; the proxy counts from
    // its first connection, and the client times from the moment it starts connecting.
    let status = Process::new("node")
        .arg(js_dir().join("client.mjs"))
        .arg(format!("ws://{}", proxy.addr))
        .arg(n.to_string())
        .arg(corpus_file)
        .arg(&data)
        .arg(&result_file)
        .arg(ref_cap_secs().to_string())
        .current_dir(js_dir())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("starting the node client: {e}"))?;
    let (up, down) = proxy.counts();
    let connections = proxy.connections.load(Ordering::SeqCst);
    let server_cpu = cpu_seconds(&pid) - server_cpu0;
    let proxy_cpu = cpu_seconds(&self_pid) - proxy_cpu0;
    let busy = machine_busy_seconds() - busy0;
    let peak = watch.finish(server.pid());
    let out: serde_json::Value = std::fs::read_to_string(&result_file)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| format!("the node client wrote no result ({status})"))?;
    // Did the server die during the run? Then say how, from its own output.
    let lost = out.get("failure").is_some_and(|v| !v.is_null());
    let mut exited = server.child.try_wait().ok().flatten();
    let deadline = Instant::now() + Duration::from_secs(3);
    while lost && exited.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        exited = server.child.try_wait().ok().flatten();
    }
    let server_exit = exited.map(|status| {
        let log =
            std::fs::read_to_string(work.join(format!("ref-{n}.server.log"))).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Error") || l.contains("error") || l.contains("__rg_oom"))
            .take(3)
            .map(str::trim)
            .collect();
        format!(
            "the reference server exited ({status}): {}",
            lines.join(" | ")
        )
    });
    drop(proxy);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    if let Some(e) = out.get("error").and_then(|e| e.as_str()) {
        return Err(format!("node client: {e}"));
    }
    let f = |k: &str| {
        out.get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0)
    };
    let synced = f("synced") as usize;
    let partial = out.get("partial").and_then(serde_json::Value::as_bool) == Some(true);
    if !partial {
        assert_eq!(synced, docs.len(), "{out}");
    }
    Ok(RunResult {
        small: None,
        docs: synced,
        partial,
        wire_docs: f("acked_at_exit") as usize,
        seconds: f("stored_ms") / 1000.0,
        wire_up: up,
        wire_down: down,
        peak_rss: peak,
        rss_start,
        peak_life: peak.max(peak_setup),
        server_cpu,
        client_cpu: f("client_cpu_ms") / 1000.0 + proxy_cpu,
        // The node client also loads the corpus before its sync phase starts.
        others_cpu: busy - server_cpu - proxy_cpu - f("client_total_cpu_ms") / 1000.0,
        connections,
        body_bytes: 0,
        round_trips: f("messages_received") as u64,
        pulled: 0,
        database_cpu: 0.0,
        database_bytes: 0,
        load: (0.0, 0.0),
        photo_cost: None,
        note: format!(
            "{}{} {:.2} s, on disk after {:.2} s; {} of {} sampled documents re-loaded from the server's folder with equal heads; {} documents in flight per tablet; {} times a tablet's connection was dropped (the adapter reconnects); node client peak RSS {:.0} MiB",
            if let Some(failure) = out.get("failure").and_then(|v| v.as_str()) {
                format!(
                    "FAILED: {failure}; {}; {synced} of {} documents were acknowledged and on disk (the rate is over those, up to the last acknowledgement; {} had been acknowledged); ",
                    server_exit
                        .as_deref()
                        .unwrap_or("the server process is still running"),
                    docs.len(),
                    f("acked_at_exit"),
                )
            } else if partial {
                format!(
                    "STOPPED at the {} s cap with {synced} of {} documents synced (the rate is over those); ",
                    ref_cap_secs(),
                    docs.len()
                )
            } else {
                String::new()
            },
            if partial && out.get("failure").is_some_and(|v| !v.is_null()) {
                "last acknowledgement at"
            } else {
                "heads acknowledged after"
            },
            if out.get("failure").is_some_and(|v| !v.is_null()) {
                f("last_ack_ms") / 1000.0
            } else {
                f("acked_ms") / 1000.0
            },
            f("stored_ms") / 1000.0,
            f("verified"),
            f("sampled"),
            f("window"),
            f("disconnects"),
            f("client_peak_rss_mb"),
        ),
    })
}

// ------------------------------------------------------------------------------------------
// Where our server's time goes: its per-document work, measured in-process
// ------------------------------------------------------------------------------------------

fn profile_server_work(docs: &[Doc]) {
    let sample: Vec<&Doc> = docs
        .iter()
        .step_by((docs.len() / 300).max(1))
        .take(300)
        .collect();
    let device = DeviceId::new("bench-server");
    let mut parse = Duration::ZERO;
    let mut read = Duration::ZERO;
    let mut save = Duration::ZERO;
    let mut clone = Duration::ZERO;
    for d in &sample {
        // InspectionDoc::load = AutoCommit::load + reading the record out of the document.
        let t = Instant::now();
        let am = automerge::AutoCommit::load(&d.bytes)
            .unwrap()
            .with_actor(app_core::document::actor_for(&device));
        parse += t.elapsed();
        let t = Instant::now();
        let mut doc = InspectionDoc::from_automerge(am).unwrap();
        read += t.elapsed();
        let t = Instant::now();
        let _record = doc.record().clone();
        clone += t.elapsed();
        let t = Instant::now();
        let _bytes = doc.save();
        save += t.elapsed();
    }
    let request = app_core::wire::SyncRequest {
        version: app_core::wire::PROTOCOL_VERSION,
        cursor: 0,
        epoch: None,
        case_cursor: None,
        push: sample.iter().take(200).map(|d| d.changes()).collect(),
    };
    let mut body = Vec::new();
    ciborium::into_writer(&request, &mut body).unwrap();
    let t = Instant::now();
    for _ in 0..10 {
        let _: app_core::wire::SyncRequest = ciborium::from_reader(&body[..]).unwrap();
    }
    let cbor = t.elapsed() / 10 / 200;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / sample.len() as f64;
    let total = per(parse) + per(read) + per(clone);
    println!(
        "our server's Automerge work per new document, measured in-process on {} documents (µs): \
         AutoCommit::load {:.0}, reading the record out of it {:.0}, record clone {:.0}; \
         (a save, {:.0}, is no longer needed: the pushed bytes are stored as they came); \
         CBOR decode {:.1}",
        sample.len(),
        per(parse),
        per(read),
        per(clone),
        per(save),
        cbor.as_secs_f64() * 1e6
    );
    println!(
        "  = {total:.0} µs per document, outside the database lock (both cores): a ceiling near \
         {:.0} docs/s on 2 cores before SQLite, HTTP and the tablets' own work",
        2e6 / total
    );
}

/// The server's whole check of a new record pushed by its device, in-process on one thread
/// (`service::sync::check_push`: the judge's replay of every change through the rules, the
/// access and reference checks, preparing the write; photo rights answered as granted, the
/// database's part is in the run), beside a bare `AutoCommit::load` of the same bytes.
/// Returns (check µs, load µs) per document.
fn profile_check(count: usize) -> (f64, f64) {
    use sync_server::service::sync::{Author, Checked, check_push};
    let reference = sync_server::reference::ReferenceData::load(&fixtures()).unwrap();
    let devices: Vec<DeviceId> = (0..5)
        .map(|i| DeviceId::new(format!("bench-check-{i}")))
        .collect();
    let t0 = now_ms();
    let docs = for_tablets(count, &devices, t0);
    let mut plans = |id: &str| -> sync_server::store::StoreResult<Option<app_core::plan::Plan>> {
        Ok(reference
            .plans
            .iter()
            .find(|p| p.id.as_str() == id)
            .cloned())
    };
    let mut photos =
        |_: &[&Sha256Hex]| -> sync_server::store::StoreResult<Option<Sha256Hex>> { Ok(None) };
    // Document i's author (user and device) and its push.
    let push_of = |i: usize, d: &Doc| {
        let user = reference
            .users
            .iter()
            .find(|u| u.id.as_str() == USERS[i % 5])
            .unwrap()
            .clone();
        let author = Author {
            user,
            device: devices[i % 5].clone(),
            registered_at: Timestamp(t0),
            now_ms: t0 + 5 * 60 * 1000,
        };
        let push = d.changes();
        (author, push)
    };
    let mut no_keys = || Ok(Vec::new());
    let mut check = Duration::ZERO;
    let mut load = Duration::ZERO;
    for round in 0..2 {
        for (i, d) in docs.iter().enumerate() {
            let (author, push) = push_of(i, d);
            let t = Instant::now();
            let checked = check_push(
                &reference,
                &mut plans,
                &mut photos,
                &mut no_keys,
                &author,
                &push,
                None,
            )
            .unwrap();
            let spent = t.elapsed();
            assert!(
                matches!(checked, Checked::Write { .. }),
                "document {i}: {checked:?}"
            );
            let t = Instant::now();
            let am = automerge::AutoCommit::load(&d.bytes).unwrap();
            let loaded = t.elapsed();
            drop(am);
            // The first round warms the caches; the second is measured.
            if round == 1 {
                check += spent;
                load += loaded;
            }
        }
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / docs.len() as f64;
    // On-CPU time of this thread, a pass of each (the wall times above include any time the
    // thread waited for a core while other processes ran).
    let checks_cpu = thread_cpu_ns();
    for (i, d) in docs.iter().enumerate() {
        let (author, push) = push_of(i, d);
        let checked = check_push(
            &reference,
            &mut plans,
            &mut photos,
            &mut no_keys,
            &author,
            &push,
            None,
        )
        .unwrap();
        assert!(matches!(checked, Checked::Write { .. }));
    }
    let loads_cpu = thread_cpu_ns();
    for d in &docs {
        drop(automerge::AutoCommit::load(&d.bytes).unwrap());
    }
    let end_cpu = thread_cpu_ns();
    let per_ns = |ns: u64| ns as f64 / 1e3 / docs.len() as f64;
    CHECK_CPU_US.store(per_ns(loads_cpu - checks_cpu).to_bits(), Ordering::Relaxed);
    LOAD_CPU_US.store(per_ns(end_cpu - loads_cpu).to_bits(), Ordering::Relaxed);
    (per(check), per(load))
}

/// The on-CPU time of the calling thread so far, in nanoseconds (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// [`profile_check`]'s whole check of a new record as on-CPU time (µs, as `f64` bits).
static CHECK_CPU_US: AtomicU64 = AtomicU64::new(0);

/// The tablet's side of one 200-document round trip, in-process: `pending_pushes` (load each
/// document from SQLite, save it) and marking each pushed after the answer.
fn profile_tablet_work(docs: &[Doc]) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tablet.db")).unwrap();
    let batch: Vec<&Doc> = docs.iter().take(200).collect();
    {
        let conn = store.connection();
        conn.execute_batch("BEGIN").unwrap();
        for d in &batch {
            conn.execute(
                "INSERT INTO docs (id, snapshot, heads) VALUES (?1, ?2, ?3)",
                (&d.id, &d.bytes, &d.heads),
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    let t = Instant::now();
    let pushes = store.pending_pushes(200).unwrap();
    let pending = t.elapsed();
    let t = Instant::now();
    store
        .mark_all_pushed(&pushes.iter().collect::<Vec<_>>())
        .unwrap();
    let mark = t.elapsed();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / pushes.len() as f64;
    println!(
        "a tablet's work per pushed document, in-process (µs): pending_pushes {:.0} \
         (a never-pushed record is sent as stored, without opening it), mark_all_pushed {:.0} \
         (one transaction per round trip)",
        per(pending),
        per(mark)
    );
}

/// The tablet's side of a pulled page, in-process: 200 records it did not hold, stored as a
/// pull stores them (`Store::apply_pull`: each loaded, indexed and kept, the cursor after
/// them, one transaction), as the partner's tablet does with each record as deployed.
/// `SYNC_BENCH_PULL_PROFILE=N` repeats it N times (for a profiler).
fn profile_tablet_pull(docs: &[Doc]) {
    let rounds = std::env::var("SYNC_BENCH_PULL_PROFILE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize);
    let page: Vec<app_core::wire::DocChanges> = docs.iter().take(200).map(Doc::changes).collect();
    let user = UserId::new("u-bench");
    let mut took = Duration::ZERO;
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("tablet.db")).unwrap();
        let t = Instant::now();
        store.apply_pull(&page, &user, 1, Timestamp(T0)).unwrap();
        took += t.elapsed();
    }
    println!(
        "a tablet's work per pulled record it did not hold, in-process: {:.0} µs (apply_pull of \
         a page of {}, one transaction)",
        took.as_secs_f64() * 1e6 / (page.len() * rounds) as f64,
        page.len()
    );
    // Where it goes, as on-CPU time of this thread (steadier than wall time on a busy
    // machine): the whole store, Automerge's bare load, the load with the record read from it
    // (`InspectionDoc::load`), and the record's conflicts.
    let device = DeviceId::new("bench-profile");
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tablet.db")).unwrap();
    let c0 = thread_cpu_ns();
    store.apply_pull(&page, &user, 1, Timestamp(T0)).unwrap();
    let c1 = thread_cpu_ns();
    for d in &page {
        drop(automerge::AutoCommit::load(&d.bytes).unwrap());
    }
    let c2 = thread_cpu_ns();
    let loaded: Vec<InspectionDoc> = page
        .iter()
        .map(|d| InspectionDoc::load(&d.bytes, &device).unwrap())
        .collect();
    let c3 = thread_cpu_ns();
    let conflicts: usize = loaded.iter().map(|d| d.conflicts().len()).sum();
    let c4 = thread_cpu_ns();
    drop(loaded);
    let c5 = thread_cpu_ns();
    let per = |ns: u64| ns as f64 / 1e3 / page.len() as f64;
    println!(
        "  on-CPU per record: apply_pull {:.0} µs; a bare AutoCommit::load {:.0}, \
         InspectionDoc::load (the load and reading the record) {:.0}, its conflicts {:.0} \
         ({conflicts} in the page), dropping the document {:.0}",
        per(c1 - c0),
        per(c2 - c1),
        per(c3 - c2),
        per(c4 - c3),
        per(c5 - c4),
    );
}

fn describe(label: &str, r: &RunResult) {
    println!(
        "{label}: {:.0} docs/s ({} documents in {:.2} s); wire {:.0} B/doc ({:.1} MiB up, {:.1} MiB down, {} new connections{}); \
         server peak RSS {:.1} MiB during the sync (RSS {:.1} MiB at its start, lifetime peak {:.1} MiB); \
         CPU during the sync: server {:.1} s, {} {:.1} s, other processes on the machine {:.1} s",
        r.rate(),
        r.docs,
        r.seconds,
        r.wire_per_doc(),
        mib(r.wire_up),
        mib(r.wire_down),
        r.connections,
        if r.body_bytes > 0 {
            format!(
                "; CBOR bodies {:.0} B/doc, HTTP headers {:.0} B/doc, {} round trips",
                r.body_bytes as f64 / r.docs as f64,
                (r.wire_up + r.wire_down - r.body_bytes) as f64 / r.docs as f64,
                r.round_trips
            )
        } else {
            format!("; {} WebSocket messages to the clients", r.round_trips)
        },
        mib(r.peak_rss),
        mib(r.rss_start),
        mib(r.peak_life),
        r.server_cpu,
        if r.body_bytes > 0 {
            "bench process (tablets + proxy)"
        } else {
            "node client + proxy"
        },
        r.client_cpu,
        r.others_cpu,
    );
    println!("  {}", r.note);
}

// ------------------------------------------------------------------------------------------

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let count: usize = std::env::var("SYNC_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let sizes: Vec<usize> = std::env::var("SYNC_BENCH_SIZES")
        .unwrap_or_else(|_| "10,100".into())
        .split(',')
        .map(|s| s.trim().parse().expect("SYNC_BENCH_SIZES: numbers"))
        .collect();
    assert!(
        sizes.iter().all(|n| n % 5 == 0 && *n > 0),
        "tablet counts must be multiples of 5 (five demo inspectors)"
    );
    let with_pull = std::env::var("SYNC_BENCH_PULL").is_ok_and(|v| v == "1");
    let with_ref = !std::env::var("SYNC_BENCH_NO_REF").is_ok_and(|v| v == "1");

    if let Some(rounds) = std::env::var("SYNC_BENCH_CHECK_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        // Only the in-process check beside the bare load, `rounds` times (for profiling it:
        // `perf record -g` on this process).
        for _ in 0..rounds {
            let (check_us, load_us) = profile_check(300);
            let (check_cpu, load_cpu) = (
                f64::from_bits(CHECK_CPU_US.load(Ordering::Relaxed)),
                f64::from_bits(LOAD_CPU_US.load(Ordering::Relaxed)),
            );
            println!(
                "check {check_us:.0} µs, load {load_us:.0} µs: {:.2} ×; on-CPU: check \
                 {check_cpu:.0} µs, load {load_cpu:.0} µs: {:.2} ×",
                check_us / load_us,
                check_cpu / load_cpu
            );
        }
        return;
    }
    let cache = repo_root().join("target/sync-bench");
    std::fs::create_dir_all(&cache).unwrap();
    // The cached corpus: the documents' statistics and the in-process profiles. Each run
    // makes its own documents for its tablets' devices (`for_tablets`): the same content, but
    // written by the pushing devices at the current time, as the server requires.
    let (docs, _) = corpus(count, &cache);
    if std::env::var_os("SYNC_BENCH_PULL_PROFILE").is_some() {
        // Only the tablet's side of a pulled page, repeated (for a profiler).
        profile_tablet_pull(&docs);
        return;
    }
    let sizes_of: Vec<usize> = docs.iter().map(|d| d.bytes.len()).collect();
    let mean_size = sizes_of.iter().sum::<usize>() as f64 / docs.len() as f64;
    let mut sorted = sizes_of.clone();
    sorted.sort_unstable();
    let sample = InspectionDoc::load(&docs[0].bytes, &DeviceId::new("x")).unwrap();
    let r = sample.record();
    let mut one = InspectionDoc::load(&docs[0].bytes, &DeviceId::new("x")).unwrap();
    println!(
        "document: {} checklist items answered, {} hazards, {} photo references, {} changes; \
         saved Automerge size mean {:.0} B (min {} B, median {} B, max {} B)",
        r.results.values().filter(|x| x.answer.is_some()).count(),
        r.hazards.len(),
        r.photo_digests().len(),
        one.history().len(),
        mean_size,
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    profile_server_work(&docs);
    let (check_us, load_us) = profile_check(300);
    LOAD_US.store(load_us.to_bits(), Ordering::Relaxed);
    println!(
        "the server's whole check of a new record (judge, rules, access, reference data; \
         in-process, one thread, 300 documents): {check_us:.0} µs per document, beside a bare \
         AutoCommit::load of the same bytes {load_us:.0} µs: {:.2} ×",
        check_us / load_us
    );
    let (check_cpu, load_cpu) = (
        f64::from_bits(CHECK_CPU_US.load(Ordering::Relaxed)),
        f64::from_bits(LOAD_CPU_US.load(Ordering::Relaxed)),
    );
    println!(
        "the same as on-CPU time of the measuring thread (not counting time spent waiting for a \
         core): check {check_cpu:.0} µs, AutoCommit::load {load_cpu:.0} µs: {:.2} ×",
        check_cpu / load_cpu
    );
    profile_tablet_work(&docs);
    profile_tablet_pull(&docs);
    drop(docs);

    let reference = if with_ref {
        prepare_reference()
    } else {
        Err("skipped (SYNC_BENCH_NO_REF=1)".into())
    };
    if let Err(why) = &reference {
        println!("reference not run: {why}");
    }
    let work = tempfile::tempdir().unwrap();
    // `SYNC_BENCH_BACKENDS`: the upload run on each server set-up instead (issue 18).
    if let Some(backends) = backends_asked() {
        compare_backends(count, &sizes, &backends, work.path());
        return;
    }
    // (tablets, ours, reference, the mean saved size of the run's documents)
    let mut rows: Vec<(usize, RunResult, Result<RunResult, String>, f64)> = Vec::new();
    for &n in &sizes {
        println!("\n— {n} tablets —");
        let (ours, docs, corpus_file) = run_ours(
            count,
            n,
            true,
            n == sizes[0],
            work.path(),
            None,
            Backend::Sqlite,
        );
        let run_mean = docs.iter().map(|d| d.bytes.len()).sum::<usize>() as f64 / docs.len() as f64;
        println!("this run's documents: saved Automerge size mean {run_mean:.0} B");
        describe("ours", &ours);
        let theirs = match &reference {
            Ok(()) => run_reference(&corpus_file, &docs, n, work.path()),
            Err(why) => Err(why.clone()),
        };
        match &theirs {
            Ok(t) => describe("reference", t),
            Err(e) => println!("reference: FAILED: {e}"),
        }
        rows.push((n, ours, theirs, run_mean));
    }
    let deployed = if with_pull {
        as_deployed(count, &sizes, work.path())
    } else {
        Vec::new()
    };
    let first = with_first_sign_in().map(|records| first_sign_in(records, work.path()));

    println!(
        "\nsync of {count} documents (mean saved size {mean_size:.0} B in the cached corpus; \
         \"beyond doc\" is over each run's own documents), loopback, 2 cores"
    );
    println!(
        "| tablets | ours docs/s | reference docs/s | ratio | ours wire B/doc (beyond doc) | reference wire B/doc (beyond doc) | ours peak RSS | reference peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut goals = Vec::new();
    let load_us = f64::from_bits(LOAD_US.load(Ordering::Relaxed));
    for (n, ours, theirs, run_mean) in &rows {
        let beyond = ours.wire_per_doc() - run_mean;
        let cpu_us = ours.server_cpu * 1e6 / ours.docs as f64;
        goals.push(format!(
            "{n} tablets: the server's CPU per document {cpu_us:.0} µs (everything: HTTP, \
             CBOR, the check, SQLite, checkpoints) beside a bare AutoCommit::load of the same \
             bytes {load_us:.0} µs: {:.2} × (goal ≤ 2 ×: {})",
            cpu_us / load_us,
            if cpu_us <= 2.0 * load_us {
                "met"
            } else {
                "NOT met"
            }
        ));
        let load_cpu = f64::from_bits(LOAD_CPU_US.load(Ordering::Relaxed));
        goals.push(format!(
            "{n} tablets: the same beside the load's on-CPU time {load_cpu:.0} µs (the wall time \
             above grows when other processes share the cores; CPU time does not): {:.2} × \
             (goal ≤ 2 ×: {})",
            cpu_us / load_cpu,
            if cpu_us <= 2.0 * load_cpu {
                "met"
            } else {
                "NOT met"
            }
        ));
        match theirs {
            Ok(t) => {
                let ratio = ours.rate() / t.rate();
                println!(
                    "| {n} | {:.0} | {:.0}{} | {:.2}× | {:.0} ({:+.0}) | {:.0} ({:+.0}) | {:.1} MiB | {:.1} MiB |",
                    ours.rate(),
                    t.rate(),
                    if t.partial {
                        format!(
                            " (partial: over the {} of {count} docs it synced, see above)",
                            t.docs
                        )
                    } else {
                        String::new()
                    },
                    ratio,
                    ours.wire_per_doc(),
                    beyond,
                    t.wire_per_doc(),
                    t.wire_per_doc() - run_mean,
                    mib(ours.peak_rss),
                    mib(t.peak_rss)
                );
                goals.push(format!(
                    "{n} tablets: ≥ 2,000 docs/s {}; ≥ 6× the reference {} ({ratio:.2}×); ≤ 1 KiB beyond the document {} ({beyond:.0} B)",
                    if ours.rate() >= 2000.0 { "met" } else { "NOT met" },
                    if ratio >= 6.0 { "met" } else { "NOT met" },
                    if beyond <= 1024.0 { "met" } else { "NOT met" },
                ));
            }
            Err(e) => {
                println!(
                    "| {n} | {:.0} | — | — | {:.0} ({:+.0}) | — | {:.1} MiB | — |",
                    ours.rate(),
                    ours.wire_per_doc(),
                    beyond,
                    mib(ours.peak_rss)
                );
                goals.push(format!(
                    "{n} tablets: ≥ 2,000 docs/s {}; ratio to the reference unknown ({e}); ≤ 1 KiB beyond the document {} ({beyond:.0} B)",
                    if ours.rate() >= 2000.0 { "met" } else { "NOT met" },
                    if beyond <= 1024.0 { "met" } else { "NOT met" },
                ));
            }
        }
    }
    if let Some(small) = rows.first().and_then(|(_, ours, _, _)| ours.small.clone()) {
        let limit = 2 * small.change_size as u64 + 200;
        println!(
            "\nover the {}-document corpus (ours, HTTP headers included):\n\
             - a sync where nothing changed: {} B on the wire, {:.1} ms (goal ≤ 1 KiB: {})\n\
             - one checklist answer changed in one document: {} B on the wire for a change \
             of {} B, {:.1} ms (goal ≤ 2 × {} + 200 = {} B: {})",
            small.corpus_docs,
            small.quiet_bytes,
            small.quiet_ms,
            if small.quiet_bytes <= 1024 {
                "met"
            } else {
                "NOT met"
            },
            small.change_bytes,
            small.change_size,
            small.change_ms,
            small.change_size,
            limit,
            if small.change_bytes <= limit {
                "met"
            } else {
                "NOT met"
            },
        );
    }
    report_as_deployed(&rows, &deployed, first.as_ref(), &mut goals);
    println!("goals:");
    for g in goals {
        println!("  {g}");
    }
}

// ------------------------------------------------------------------------------------------
// Server set-ups: SQLite, PostgreSQL with one node, two nodes on one PostgreSQL (issue 18)
// ------------------------------------------------------------------------------------------

/// Where the server keeps its state in a run of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// One node, SQLite and a photo folder in its data folder (the default).
    Sqlite,
    /// One node on PostgreSQL.
    Pg,
    /// Two nodes on one PostgreSQL database and one shared photo folder; tablets half on each.
    Pg2,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Pg => "PostgreSQL, 1 node",
            Backend::Pg2 => "PostgreSQL, 2 nodes",
        }
    }
}

/// `SYNC_BENCH_BACKENDS` (`sqlite,pg,pg2`), if set.
fn backends_asked() -> Option<Vec<Backend>> {
    let v = std::env::var("SYNC_BENCH_BACKENDS").ok()?;
    Some(
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s {
                "sqlite" => Backend::Sqlite,
                "pg" => Backend::Pg,
                "pg2" => Backend::Pg2,
                other => panic!("SYNC_BENCH_BACKENDS: unknown {other:?} (sqlite, pg, pg2)"),
            })
            .collect(),
    )
}

/// The server nodes of a run, each behind its counting proxy, and their database.
struct Nodes {
    servers: Vec<ServerProcess>,
    proxies: Vec<Proxy>,
    backend: Backend,
    data: PathBuf,
    /// The run's PostgreSQL database (dropped after the nodes).
    pg: Option<pg::PgDb>,
    /// The cluster's postmaster (its processes' CPU is the database's).
    postmaster: Option<u32>,
}

impl Nodes {
    /// Starts the nodes of `backend` with their data in `data` (`data` itself for SQLite; one
    /// folder per node and a shared photo folder for PostgreSQL).
    fn start(backend: Backend, data: &Path, fixtures: &Path) -> Self {
        let (pg, env) = match backend {
            Backend::Sqlite => (None, Vec::new()),
            Backend::Pg | Backend::Pg2 => {
                let db = pg::PgDb::new().expect(
                    "PostgreSQL is needed for SYNC_BENCH_BACKENDS=pg/pg2 (apt-get install postgresql)",
                );
                let blobs = data.join("blobs-shared");
                std::fs::create_dir_all(&blobs).unwrap();
                let env = vec![
                    ("SYNC_SERVER_DATABASE".to_owned(), db.url()),
                    (
                        "SYNC_SERVER_BLOBS_STORE".to_owned(),
                        blobs.to_string_lossy().into_owned(),
                    ),
                ];
                (Some(db), env)
            }
        };
        let folders: Vec<PathBuf> = match backend {
            Backend::Sqlite => vec![data.to_owned()],
            Backend::Pg => vec![data.join("a")],
            Backend::Pg2 => vec![data.join("a"), data.join("b")],
        };
        // One after the other: the first start on a fresh database migrates and seeds it.
        let servers: Vec<ServerProcess> = folders
            .iter()
            .map(|folder| start_server(folder, &env, fixtures))
            .collect();
        let proxies = servers.iter().map(|s| Proxy::start(s.addr)).collect();
        let postmaster = pg.as_ref().map(|db| {
            let mut c = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
            let backend: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
            proc_stat(backend as u32)
                .expect("the backend's /proc entry")
                .0
        });
        Self {
            servers,
            proxies,
            backend,
            data: data.to_owned(),
            pg,
            postmaster,
        }
    }

    /// The URL tablet `t` of `n` syncs with: the first half with the first node, the second
    /// half with the second.
    fn url(&self, t: usize, n: usize) -> String {
        let node = if self.proxies.len() > 1 && t >= n.div_ceil(2) {
            1
        } else {
            0
        };
        format!("http://{}", self.proxies[node].addr)
    }

    fn reset_proxies(&self) {
        for p in &self.proxies {
            p.reset();
        }
    }

    /// Bytes up, down and connections through every node's proxy.
    fn proxy_counts(&self) -> (u64, u64, u64) {
        self.proxies.iter().fold((0, 0, 0), |(u, d, c), p| {
            let (pu, pd) = p.counts();
            (u + pu, d + pd, c + p.connections.load(Ordering::SeqCst))
        })
    }

    /// CPU seconds of the server processes so far.
    fn server_cpu(&self) -> f64 {
        self.servers
            .iter()
            .map(|s| cpu_seconds(&s.pid().to_string()))
            .sum()
    }

    /// CPU seconds of the PostgreSQL cluster so far: the postmaster and its live children,
    /// and the children it has reaped (0 on SQLite).
    fn database_cpu(&self) -> f64 {
        let Some(postmaster) = self.postmaster else {
            return 0.0;
        };
        let mut ticks = 0.0;
        if let Some((_, own, reaped)) = proc_stat(postmaster) {
            ticks += own + reaped;
        }
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some((ppid, own, _)) = proc_stat(pid)
                && ppid == postmaster
            {
                ticks += own;
            }
        }
        ticks / clock_ticks()
    }

    /// Rows of `table` in the server's database.
    fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        match &self.pg {
            None => rusqlite::Connection::open_with_flags(
                self.data.join("server.db"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap()
            .query_row(&sql, [], |r| r.get(0))
            .unwrap(),
            Some(db) => postgres::Client::connect(&db.url(), postgres::NoTls)
                .unwrap()
                .query_one(&sql, &[])
                .unwrap()
                .get(0),
        }
    }

    /// The size of the server's database: SQLite's file and write-ahead log, or
    /// `pg_database_size`.
    fn database_bytes(&self) -> u64 {
        match &self.pg {
            None => ["server.db", "server.db-wal"]
                .iter()
                .map(|f| {
                    std::fs::metadata(self.data.join(f))
                        .map(|m| m.len())
                        .unwrap_or(0)
                })
                .sum(),
            Some(db) => {
                let size: i64 = postgres::Client::connect(&db.url(), postgres::NoTls)
                    .unwrap()
                    .query_one("SELECT pg_database_size(current_database())", &[])
                    .unwrap()
                    .get(0);
                size as u64
            }
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        // The nodes stop before their database is dropped.
        self.proxies.clear();
        self.servers.clear();
        let _ = self.backend;
        self.pg.take();
    }
}

/// Starts our server with its data in `data` and the extra environment `env`.
fn start_server(data: &Path, env: &[(String, String)], fixtures: &Path) -> ServerProcess {
    std::fs::create_dir_all(data).unwrap();
    let port_file = data.join("port");
    // `SYNC_BENCH_SERVER`: another build of the server (e.g. to measure a change against the
    // build before it with the same harness).
    let binary = std::env::var_os("SYNC_BENCH_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sync-server")));
    let child = Process::new(binary)
        .arg("--data")
        .arg(data)
        .arg("--fixtures")
        .arg(fixtures)
        .args(["--listen", "127.0.0.1:0", "--demo-password", PASSWORD])
        .arg("--port-file")
        .arg(&port_file)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sync-server binary starts");
    ServerProcess::wait_for_port_file(child, &port_file, "sync-server")
}

/// A process's parent, its own CPU ticks (user + system) and its reaped children's
/// (`/proc/<pid>/stat`).
fn proc_stat(pid: u32) -> Option<(u32, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state, ppid (field 4 of the line), …, utime 14, stime 15,
    // cutime 16, cstime 17.
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Some((f.get(1)?.parse().ok()?, n(11) + n(12), n(13) + n(14)))
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// The upload run of every size on every asked set-up, and the table of their CPU per
/// document beside SQLite's.
fn compare_backends(count: usize, sizes: &[usize], backends: &[Backend], work: &Path) {
    let mut rows: Vec<(usize, Backend, RunResult)> = Vec::new();
    for &n in sizes {
        for &backend in backends {
            println!("\n— {n} tablets, {} —", backend.name());
            let (r, _, _) = run_ours(count, n, true, false, work, None, backend);
            describe(backend.name(), &r);
            rows.push((n, backend, r));
        }
    }
    println!(
        "\nupload of {count} documents on each server set-up, loopback, 2 cores shared \
         (load average at the start → end of each sync phase beside it)"
    );
    println!(
        "| tablets | set-up | docs/s | server CPU µs/doc | PostgreSQL CPU µs/doc | total µs/doc | total ÷ SQLite's | database B/doc | load avg |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut goals = Vec::new();
    for (n, backend, r) in &rows {
        let per_doc = |s: f64| s * 1e6 / r.docs as f64;
        let total = per_doc(r.server_cpu + r.database_cpu);
        let sqlite = rows
            .iter()
            .find(|(m, b, _)| m == n && *b == Backend::Sqlite)
            .map(|(_, _, s)| (s.server_cpu + s.database_cpu) * 1e6 / s.docs as f64);
        let ratio = sqlite.map(|s| total / s);
        println!(
            "| {n} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {:.0} | {:.2} → {:.2} |",
            backend.name(),
            r.rate(),
            per_doc(r.server_cpu),
            per_doc(r.database_cpu),
            total,
            ratio.map_or("—".into(), |x| format!("{x:.2}×")),
            r.database_bytes as f64 / r.docs as f64,
            r.load.0,
            r.load.1,
        );
        if let (Some(x), true) = (ratio, *backend != Backend::Sqlite) {
            goals.push(format!(
                "{n} tablets, {}: CPU per document (server + PostgreSQL) {x:.2} × SQLite's (goal ≤ 1.5 ×: {})",
                backend.name(),
                if x <= 1.5 { "met" } else { "NOT met" }
            ));
        }
    }
    for (n, backend, r) in &rows {
        if let Some(p) = r.photo_cost {
            println!(
                "photos ({n} tablets, {}): {} uploads of {} B in 256 KiB chunks, one client: server CPU {:.1} ms, PostgreSQL CPU {:.1} ms, wall {:.0} ms per photo",
                backend.name(),
                p.photos,
                p.bytes_each,
                p.server_cpu * 1e3,
                p.database_cpu * 1e3,
                p.wall * 1e3
            );
        }
    }
    println!("goals:");
    for g in goals {
        println!("  {g}");
    }
}

/// What full-size photo uploads cost (`SYNC_BENCH_PHOTOS`).
#[derive(Debug, Clone, Copy, Default)]
struct PhotoCost {
    photos: usize,
    bytes_each: usize,
    /// Server processes' and PostgreSQL's CPU seconds per photo.
    server_cpu: f64,
    database_cpu: f64,
    /// Wall seconds per photo, one after the other from one client.
    wall: f64,
}

/// `SYNC_BENCH_PHOTOS` photos of 4 MB (random bytes, so nothing compresses) uploaded by the
/// first tablet through its node, in 256 KiB chunks as `tablet/src/upload.rs` sends them,
/// each acknowledged (`held`) at the end; the server's CPU over the uploads per photo.
fn measure_photo_uploads(
    nodes: &Nodes,
    tablets: &[(DeviceId, String)],
    n: usize,
) -> Option<PhotoCost> {
    let photos: usize = std::env::var("SYNC_BENCH_PHOTOS").ok()?.parse().ok()?;
    const BYTES: usize = 4_000_000;
    const CHUNK: usize = 256 * 1024;
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let url = nodes.url(0, n);
    let mut rng = 0x5eed_u64 ^ now_ms() as u64;
    let files: Vec<Vec<u8>> = (0..photos)
        .map(|_| {
            (0..BYTES)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng as u8
                })
                .collect()
        })
        .collect();
    let (cpu0, db0) = (nodes.server_cpu(), nodes.database_cpu());
    let started = Instant::now();
    for bytes in &files {
        let sha = Sha256Hex::of(bytes);
        for (k, chunk) in bytes.chunks(CHUNK).enumerate() {
            let resp = http
                .put(format!(
                    "{url}/api/v1/blobs/{sha}?offset={}&total={BYTES}",
                    k * CHUNK
                ))
                .bearer_auth(&tablets[0].1)
                .header("content-type", "application/octet-stream")
                .body(chunk.to_vec())
                .send()
                .unwrap_or_else(|e| panic!("photo upload {sha}: {e}"));
            assert!(
                resp.status().is_success(),
                "photo upload {sha}: {}",
                resp.status()
            );
            let body: serde_json::Value = resp.json().unwrap_or_default();
            let last = (k + 1) * CHUNK >= BYTES;
            assert!(!last || body["held"] == true, "photo {sha} held: {body}");
        }
    }
    let wall = started.elapsed().as_secs_f64();
    Some(PhotoCost {
        photos,
        bytes_each: BYTES,
        server_cpu: (nodes.server_cpu() - cpu0) / photos.max(1) as f64,
        database_cpu: (nodes.database_cpu() - db0) / photos.max(1) as f64,
        wall: wall / photos.max(1) as f64,
    })
}

// ---------------------------------------------------------------------------------------
// Sync as deployed (`SYNC_BENCH_PULL=1`) and a new tablet's first sign-in
// (`SYNC_BENCH_FIRST_SIGNIN`).

/// As deployed, one inspector per tablet: `u-bench-000`, `u-bench-001`, … Tablets `2k` and
/// `2k + 1` are two inspectors of one unit who go out together (each record names its author
/// and the partner: inspections are made by at least two), the pairs' units taking turns over
/// `units`. The server is started on a copy of the fixtures whose users are the demo users
/// plus these (`--demo-password` gives each an account).
struct Roster {
    users: Vec<User>,
    fixtures: PathBuf,
}

impl Roster {
    fn new(n: usize, units: &[&str], work: &Path) -> Self {
        assert!(n.is_multiple_of(2), "inspectors go out in pairs");
        let users: Vec<User> = (0..n)
            .map(|t| {
                serde_json::from_value(serde_json::json!({
                    "id": format!("u-bench-{t:03}"),
                    "name": format!("检查员{t:03}"),
                    "unit": units[(t / 2) % units.len()],
                    "role": "inspector",
                    "certificate": format!("BENCH{t:06}"),
                }))
                .unwrap()
            })
            .collect();
        let dir = work.join(format!("fixtures-{n}-{}", units.join("-")));
        let demo = dir.join("demo");
        std::fs::create_dir_all(&demo).unwrap();
        for f in ["units.json", "enterprises.json", "plans.json"] {
            std::fs::copy(fixtures().join("demo").join(f), demo.join(f)).unwrap();
        }
        let mut all: Vec<User> = load_json("demo/users.json");
        all.extend(users.iter().cloned());
        std::fs::write(
            demo.join("users.json"),
            serde_json::to_string_pretty(&all).unwrap(),
        )
        .unwrap();
        let checklists = dir.join("checklists");
        if !checklists.exists() {
            std::os::unix::fs::symlink(fixtures().join("checklists"), &checklists).unwrap();
        }
        Self {
            users,
            fixtures: dir,
        }
    }
}

impl Corpus {
    /// The generator with `roster`'s inspectors as authors ([`Corpus::pair`]).
    fn deployed(roster: &Roster) -> Self {
        let mut c = Self::new();
        c.users.extend(roster.users.iter().cloned());
        c.roster = Some(Roster {
            users: roster.users.clone(),
            fixtures: roster.fixtures.clone(),
        });
        c
    }
}

/// Our server as deployed, at each tablet count: one inspector per tablet ([`Roster`]), real
/// cursors, so each tablet pulls what it is sent by default (the records it has a part in:
/// here its partner's) while every tablet pushes its own.
fn as_deployed(count: usize, sizes: &[usize], work: &Path) -> Vec<(usize, RunResult)> {
    sizes
        .iter()
        .map(|&n| {
            let roster = Roster::new(n, &["xw", "qh"], work);
            let (r, _, _) = run_ours(count, n, false, false, work, Some(&roster), Backend::Sqlite);
            println!(
                "\nours as deployed ({n} tablets, one inspector each, in pairs; real cursors): \
                 {:.0} docs/s ({:.2} s), {} records pulled for {} pushed ({:.2} per pushed), \
                 wire {:.0} B per pushed doc, server CPU {:.0} µs per pushed doc, peak RSS {:.1} MiB; \
                 CPU during the sync: server {:.1} s, bench process (tablets applying what they \
                 pull, proxy) {:.1} s, other processes {:.1} s, of {:.1} s of the cores' time; {}",
                r.rate(),
                r.seconds,
                r.pulled,
                r.docs,
                r.pulled as f64 / r.docs as f64,
                r.wire_per_doc(),
                r.server_cpu * 1e6 / r.docs as f64,
                mib(r.peak_rss),
                r.server_cpu,
                r.client_cpu,
                r.others_cpu,
                r.seconds * std::thread::available_parallelism().map_or(2, |n| n.get()) as f64,
                r.note
            );
            (n, r)
        })
        .collect()
}

/// `SYNC_BENCH_FIRST_SIGNIN=50000`: measure a new tablet's first sign-in in a unit holding
/// that many records (off by default; `SYNC_BENCH_PULL=1` turns it on at 50,000).
fn with_first_sign_in() -> Option<usize> {
    match std::env::var("SYNC_BENCH_FIRST_SIGNIN") {
        Ok(v) => v.parse().ok().filter(|n| *n > 0),
        Err(_) => std::env::var("SYNC_BENCH_PULL")
            .is_ok_and(|v| v == "1")
            .then_some(50_000),
    }
}

/// One new tablet's first sign-in: sign-in (Argon2, device registration), reference data,
/// then the first full sync until the server has nothing more.
#[derive(Debug, Clone)]
struct SignIn {
    who: String,
    seconds: f64,
    sync_seconds: f64,
    pulled: u64,
    bytes_received: u64,
    round_trips: u32,
    /// The supervisor's first look at an enterprise's history, fetched on demand: records
    /// fetched and seconds.
    on_demand: Option<(usize, f64)>,
}

/// The first sign-in measurement: `records` records of unit xw, made by the generator
/// ([`Corpus::make`]) for 30 inspectors of xw going out in pairs, written straight into a
/// fresh server database through the record store (`RecordStore::write`, as a push of a new
/// record writes it: the change log holds the document as pushed) — they were judged when
/// pushed, so this skips the push, not the pull. Then the server starts, and a new tablet
/// signs in for the first time: an inspector of the unit (sent the records he is on, about
/// 2 in 30), and the unit's supervisor (sent what they have a part in, as an inspector is; a
/// supervisor's tablet was sent every record of the unit before), who then opens the history
/// of one enterprise of the unit (fetched on demand, `FetchQuery::Enterprise`: its newest
/// records, at most `FETCH_ENTERPRISE_LIMIT`).
fn first_sign_in(records: usize, work: &Path) -> (usize, f64, Vec<SignIn>) {
    use sync_server::store::engine::Engine;
    use sync_server::store::records::DocWrite;
    use sync_server::store::{RecordStore, Transactions};
    println!("\n— a new tablet's first sign-in in a unit holding {records} records —");
    let roster = Roster::new(30, &["xw"], work);
    // The enterprise whose history the supervisor opens: one the generator visits.
    let visited = {
        let c = Corpus::deployed(&roster);
        let (_, bytes, _) = c.make(0, &DeviceId::new("bench-old-tablet-0"), T0);
        let doc = InspectionDoc::load(&bytes, &DeviceId::new("server")).unwrap();
        doc.record().enterprise.id.to_string()
    };
    let data = work.join("first-sign-in");
    std::fs::create_dir_all(&data).unwrap();
    let made = Instant::now();
    {
        let mut conn = rusqlite::Connection::open_writer(&data.join("server.db")).unwrap();
        let gen_ = Corpus::deployed(&roster);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Vec<u8>)>(256);
        std::thread::scope(|s| {
            for part in 0..threads {
                let (g, tx) = (&gen_, tx.clone());
                s.spawn(move || {
                    for i in (part..records).step_by(threads) {
                        let device = DeviceId::new(format!("bench-old-tablet-{}", i % 30));
                        // Spread over the past years (the pull does not look at times).
                        let start = T0 - (i as i64) * 3_600_000;
                        let (id, bytes, _) = g.make(i, &device, start);
                        tx.send((id, bytes)).unwrap();
                    }
                });
            }
            drop(tx);
            let mut batch = conn.begin().unwrap();
            let mut n = 0usize;
            for (id, bytes) in rx {
                let mut doc = InspectionDoc::load(&bytes, &DeviceId::new("server")).unwrap();
                let heads: Vec<String> = doc.heads().iter().map(ToString::to_string).collect();
                let record = doc.record().clone();
                batch
                    .write(&DocWrite {
                        id: &id,
                        record: &record,
                        snapshot: None,
                        change: &bytes,
                        heads: &heads,
                        origin_device: "bench-old-tablet",
                        existed: false,
                    })
                    .unwrap();
                n += 1;
                if n.is_multiple_of(2_000) {
                    batch.commit().unwrap();
                    batch = conn.begin().unwrap();
                }
            }
            batch.commit().unwrap();
        });
    }
    let made = made.elapsed().as_secs_f64();
    println!("made and stored {records} records in {made:.0} s (before timing)");
    let server = start_server(&data, &[], &roster.fixtures);
    let url = format!("http://{}", server.addr);
    let mut out = Vec::new();
    for (who, label) in [
        (roster.users[0].id.as_str(), "an inspector of the unit"),
        ("u-zhao", "the unit's supervisor"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let store = Store::open(&dir.path().join("tablet.db")).unwrap();
        let mut client = SyncClient::new(url.clone());
        client.sign_in(who, PASSWORD, &store).unwrap();
        let store = Mutex::new(store);
        client.fetch_reference(&store).unwrap();
        let synced = Instant::now();
        let report = client.sync(&store, Timestamp(now_ms())).unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let sync_seconds = synced.elapsed().as_secs_f64();
        let held: i64 = store
            .lock()
            .unwrap()
            .connection()
            .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(held as u32, report.pulled, "every pulled record is stored");
        let on_demand = (who == "u-zhao").then(|| {
            let asked = Instant::now();
            let fetched = client
                .fetch(
                    &store,
                    app_core::wire::FetchQuery::Enterprise(visited.clone()),
                    Timestamp(now_ms()),
                )
                .unwrap();
            (fetched.len(), asked.elapsed().as_secs_f64())
        });
        if let Some((n, secs)) = on_demand {
            println!(
                "the supervisor opens the history of enterprise {visited}: {n} records fetched \
                 on demand in {secs:.2} s"
            );
        }
        println!(
            "first sign-in of {label} ({who}): {seconds:.1} s in all ({sync_seconds:.1} s the \
             first sync): {} records pulled, {:.1} MiB received in {} round trips",
            report.pulled,
            mib(report.bytes_received),
            report.round_trips
        );
        out.push(SignIn {
            who: format!("{label} ({who})"),
            seconds,
            sync_seconds,
            pulled: u64::from(report.pulled),
            bytes_received: report.bytes_received,
            round_trips: report.round_trips,
            on_demand,
        });
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    (records, made, out)
}

/// The as-deployed rows beside upload-only of the same run, and the first sign-in, with their
/// goals (≥ 1,500 docs/s as deployed at every size; a first sign-in ≤ 30 s).
fn report_as_deployed(
    rows: &[(usize, RunResult, Result<RunResult, String>, f64)],
    deployed: &[(usize, RunResult)],
    first: Option<&(usize, f64, Vec<SignIn>)>,
    goals: &mut Vec<String>,
) {
    if !deployed.is_empty() {
        println!(
            "\nas deployed (one inspector per tablet, real cursors) beside upload-only, same run"
        );
        println!(
            "| tablets | upload-only docs/s | as deployed docs/s | records pulled per pushed | wire B per pushed doc (upload-only → as deployed) | server µs per pushed doc (upload-only → as deployed) |"
        );
        println!("|---|---|---|---|---|---|");
        for (n, d) in deployed {
            let up = rows.iter().find(|r| r.0 == *n).map(|r| &r.1);
            println!(
                "| {n} | {} | {:.0} | {:.2} | {} → {:.0} | {} → {:.0} |",
                up.map_or("—".into(), |u| format!("{:.0}", u.rate())),
                d.rate(),
                d.pulled as f64 / d.docs as f64,
                up.map_or("—".into(), |u| format!("{:.0}", u.wire_per_doc())),
                d.wire_per_doc(),
                up.map_or("—".into(), |u| format!(
                    "{:.0}",
                    u.server_cpu * 1e6 / u.docs as f64
                )),
                d.server_cpu * 1e6 / d.docs as f64,
            );
            goals.push(format!(
                "{n} tablets as deployed: ≥ 1,500 docs/s {} ({:.0})",
                if d.rate() >= 1500.0 { "met" } else { "NOT met" },
                d.rate()
            ));
        }
    }
    if let Some((records, _, signins)) = first {
        for s in signins {
            println!(
                "first sign-in in a unit of {records} records, {}: {:.1} s ({:.1} s sync), {} records, {:.1} MiB, {} round trips",
                s.who,
                s.seconds,
                s.sync_seconds,
                s.pulled,
                mib(s.bytes_received),
                s.round_trips
            );
            if let Some((n, secs)) = s.on_demand {
                println!(
                    "  then one enterprise's history fetched on demand: {n} records in {secs:.2} s"
                );
            }
            goals.push(format!(
                "first sign-in in a unit of {records} records, {}: ≤ 30 s {} ({:.1} s)",
                s.who,
                if s.seconds <= 30.0 { "met" } else { "NOT met" },
                s.seconds
            ));
        }
    }
}
