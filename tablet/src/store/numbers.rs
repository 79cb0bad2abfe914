//! The device's pool of document numbers (文号) and issuing a number into a record.
//!
//! The pool is app-core's [`DevicePool`] (the blocks the server reserved for this device and
//! how far each is used), kept as JSON in `number_pool`. Issuing is **one SQLite
//! transaction** that holds both the record's new Automerge change (the
//! `Command::IssueDocument` carrying the number) and the pool with that number marked used.
//! So there is no moment at which one is on disk without the other: a crash (or `kill -9`)
//! before the commit leaves the number unused and the record without it; after the commit,
//! both. A number is therefore never issued twice and never lost to a record, whatever point
//! the app is killed at. The pool is written with a compare-and-swap on its previous JSON, so
//! a writer on another connection could never make two records share a number either.

use super::records::Origin;
use super::{Result, Store, StoreError};
use app_core::docnumber::{Block, DevicePool, DocNumber, DocumentKind, IssuedDocument, Series};
use app_core::ids::{InspectionId, UnitId};
use app_core::inspection::{Command, Context};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

fn pool_json(pool: &DevicePool) -> String {
    serde_json::to_string(pool).expect("pools serialise")
}

impl Store {
    /// The stored pool and its JSON as stored (`None`: no block received yet).
    fn stored_pool(
        conn: &rusqlite::Connection,
        device: &str,
    ) -> Result<Option<(DevicePool, String)>> {
        let raw: Option<String> = conn
            .query_row(
                "SELECT pool FROM number_pool WHERE device = ?1",
                [device],
                |r| r.get(0),
            )
            .optional()?;
        raw.map(|raw| {
            serde_json::from_str::<DevicePool>(&raw)
                .map(|pool| (pool, raw))
                .map_err(|e| StoreError::Corrupt(format!("number pool: {e}")))
        })
        .transpose()
    }

    /// This device's pool of document numbers (empty before the first reservation).
    pub fn number_pool(&self) -> Result<DevicePool> {
        Ok(Self::stored_pool(&self.conn, self.device.as_str())?
            .map(|(pool, _)| pool)
            .unwrap_or_else(|| DevicePool::new(self.device.clone())))
    }

    /// How many numbers of `series` this device can still issue offline.
    pub fn numbers_remaining(&self, series: &Series) -> Result<u32> {
        Ok(self.number_pool()?.remaining(series))
    }

    /// Takes blocks the server reserved for this device, all or none (one transaction). A
    /// block for another device, or one overlapping a block held, is refused
    /// ([`StoreError::Number`]) and nothing is stored; the same block twice is harmless.
    pub fn add_number_blocks(&mut self, blocks: &[Block]) -> Result<()> {
        self.change_pool(|pool| {
            for block in blocks {
                pool.add_block(block.clone())?;
            }
            Ok(())
        })
    }

    /// Stops issuing from `blocks` (the server gave them to another device), in one
    /// transaction; numbers already issued from them stay issued.
    pub fn retire_number_blocks(&mut self, blocks: &[Block]) -> Result<()> {
        if blocks.is_empty() {
            return Ok(());
        }
        self.change_pool(|pool| {
            for block in blocks {
                pool.retire(block);
            }
            Ok(())
        })
    }

    /// Reads this device's pool, lets `change` alter it and stores it, in one immediate
    /// transaction (nothing stored when `change` fails).
    fn change_pool(&mut self, change: impl FnOnce(&mut DevicePool) -> Result<()>) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut pool = Self::stored_pool(&tx, self.device.as_str())?
            .map(|(pool, _)| pool)
            .unwrap_or_else(|| DevicePool::new(self.device.clone()));
        change(&mut pool)?;
        tx.execute(
            "INSERT INTO number_pool (device, pool) VALUES (?1, ?2)
             ON CONFLICT (device) DO UPDATE SET pool = ?2",
            params![self.device.as_str(), pool_json(&pool)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Issues the next number of `unit`'s `kind` series for the year of `cx.now` (Asia/
    /// Shanghai) from this device's pool into record `id`, as `Command::IssueDocument` under
    /// the record's rules, atomically with the pool (see the module documentation). None left:
    /// [`StoreError::Number`] with `NumberError::Exhausted`, and nothing changes.
    pub fn issue_document(
        &mut self,
        id: &InspectionId,
        kind: DocumentKind,
        unit: &UnitId,
        unit_short_name: &str,
        cx: &Context<'_>,
    ) -> Result<IssuedDocument> {
        let series = Series {
            unit: unit.clone(),
            kind,
            year: cx.now.shanghai_date().year(),
        };
        let (number, before, after) = self.next_number(&series)?;
        let issued = IssuedDocument {
            kind,
            number: number.format(unit_short_name),
            seq: number.seq,
            year: series.year,
            at: cx.now,
            by: cx.actor.id.clone(),
            device: self.device.clone(),
        };
        let command = Command::IssueDocument(issued.clone());
        let device = self.device.clone();
        self.persist_edit(
            id,
            cx.now,
            Origin::Local,
            |doc| doc.apply(&command, cx, &device),
            &|tx| swap_pool(tx, device.as_str(), &before, &after),
        )?;
        Ok(issued)
    }

    /// The next number of `series` from this device's pool, with the pool's JSON before and
    /// after issuing it, for [`swap_pool`] in the transaction that uses the number. Nothing is
    /// written here. None left: `NumberError::Exhausted`.
    pub(super) fn next_number(&self, series: &Series) -> Result<(DocNumber, String, String)> {
        let (mut pool, before) = Self::stored_pool(&self.conn, self.device.as_str())?
            .unwrap_or_else(|| {
                let pool = DevicePool::new(self.device.clone());
                let json = pool_json(&pool);
                (pool, json)
            });
        let number = pool.issue(series)?;
        Ok((number, before, pool_json(&pool)))
    }
}

/// In the transaction that uses a number: stores the pool as `after` if it is still `before`
/// (compare-and-swap), else fails, so the transaction keeps nothing.
pub(super) fn swap_pool(
    tx: &rusqlite::Connection,
    device: &str,
    before: &str,
    after: &str,
) -> Result<()> {
    let changed = tx.execute(
        "UPDATE number_pool SET pool = ?1 WHERE device = ?2 AND pool = ?3",
        params![after, device, before],
    )?;
    if changed != 1 {
        return Err(StoreError::Corrupt(
            "the number pool changed while a number was being issued; nothing was issued".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::checklist::ChecklistTemplate;
    use app_core::docnumber::NumberError;
    use app_core::enterprise::Enterprise;
    use app_core::geo::Timestamp;
    use app_core::ids::DeviceId;
    use app_core::inspection::{Inspection, InspectorRef};
    use app_core::kind::InspectionKind;
    use app_core::user::User;
    use std::io::{BufRead, BufReader, Read};
    use std::path::Path;
    use std::process::{Command as Process, Stdio};
    use std::time::{Duration, Instant};

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    /// 2026-11-24 08:00 in Asia/Shanghai.
    const T0: i64 = 1_795_420_800_000;
    const CHILD_ENV: &str = "TABLET_NUMBERS_CRASH_CHILD";

    fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
        serde_json::from_str(&std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap()).unwrap()
    }

    fn user(id: &str) -> User {
        load::<Vec<User>>("demo/users.json")
            .into_iter()
            .find(|u| u.id.as_str() == id)
            .unwrap()
    }

    fn template() -> ChecklistTemplate {
        let text =
            std::fs::read_to_string(Path::new(ROOT).join("checklists/gongmao.toml")).unwrap();
        ChecklistTemplate::parse_toml(&text).unwrap()
    }

    fn series(kind: DocumentKind) -> Series {
        Series {
            unit: UnitId::new("xw"),
            kind,
            year: 2026,
        }
    }

    fn block(store: &Store, kind: DocumentKind, first: u32, last: u32) -> Block {
        Block {
            series: series(kind),
            device: store.device().clone(),
            first,
            last,
        }
    }

    /// A draft with u-wang and u-li on it.
    fn new_record(store: &mut Store, id: &str) -> InspectionId {
        let t = template();
        let wang = user("u-wang");
        let enterprise = &load::<Vec<Enterprise>>("demo/enterprises.json")[0];
        let id = InspectionId::new(id);
        let record = Inspection::new_draft(
            id.clone(),
            InspectionKind::Routine,
            enterprise.unit.clone(),
            enterprise.into(),
            t.reference(),
            wang.id.clone(),
            Timestamp(T0),
        );
        store.create_inspection(&record, &t, Timestamp(T0)).unwrap();
        for u in [user("u-wang"), user("u-li")] {
            let cx = Context {
                actor: &wang,
                now: Timestamp(T0),
                template: &t,
            };
            let r = InspectorRef {
                user: u.id.clone(),
                name: u.name.clone(),
                certificate: u.certificate().unwrap().clone(),
            };
            store.apply(&id, &Command::AddInspector(r), &cx).unwrap();
        }
        id
    }

    fn issue(
        store: &mut Store,
        id: &InspectionId,
        kind: DocumentKind,
        actor: &User,
        ms: i64,
    ) -> Result<IssuedDocument> {
        let t = template();
        let cx = Context {
            actor,
            now: Timestamp(T0 + ms),
            template: &t,
        };
        store.issue_document(id, kind, &UnitId::new("xw"), "玄武", &cx)
    }

    #[test]
    fn the_pool_survives_a_restart_and_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tablet.db");
        let wang = user("u-wang");
        let (id, device) = {
            let mut store = Store::open(&path).unwrap();
            assert_eq!(
                store
                    .numbers_remaining(&series(DocumentKind::InspectionRecord))
                    .unwrap(),
                0
            );
            let blocks = [
                block(&store, DocumentKind::InspectionRecord, 21, 40),
                block(&store, DocumentKind::RectificationOrder, 1, 20),
            ];
            store.add_number_blocks(&blocks).unwrap();
            // The same answer stored twice (a retried request) changes nothing.
            store.add_number_blocks(&blocks).unwrap();
            let id = new_record(&mut store, "rec-1");
            let d = issue(&mut store, &id, DocumentKind::InspectionRecord, &wang, 1).unwrap();
            assert_eq!(d.number, "（玄武）应急检记〔2026〕21号");
            assert_eq!(
                (d.seq, d.year, d.kind),
                (21, 2026, DocumentKind::InspectionRecord)
            );
            assert_eq!(d.by, wang.id);
            assert_eq!(&d.device, store.device());
            (id, store.device().clone())
        };
        // Reopened: the record holds its number, the pool remembers it was used.
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.device(), &device);
        let record = store.inspection(&id).unwrap();
        assert_eq!(
            record.documents.keys().collect::<Vec<_>>(),
            vec!["（玄武）应急检记〔2026〕21号"]
        );
        assert_eq!(
            store
                .numbers_remaining(&series(DocumentKind::InspectionRecord))
                .unwrap(),
            19
        );
        assert_eq!(
            store
                .numbers_remaining(&series(DocumentKind::RectificationOrder))
                .unwrap(),
            20
        );
        let next = issue(&mut store, &id, DocumentKind::InspectionRecord, &wang, 2).unwrap();
        assert_eq!(next.seq, 22);
        // Another year is another series: none held.
        let t = template();
        let cx = Context {
            actor: &wang,
            // 2027-01-02 in Shanghai.
            now: Timestamp(1_798_848_000_000),
            template: &t,
        };
        let e = store
            .issue_document(
                &id,
                DocumentKind::InspectionRecord,
                &UnitId::new("xw"),
                "玄武",
                &cx,
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Number(NumberError::Exhausted { year: 2027, .. })
            ),
            "{e}"
        );
        assert_eq!(store.inspection(&id).unwrap().documents.len(), 2);
    }

    #[test]
    fn foreign_or_overlapping_blocks_are_refused_and_nothing_is_stored() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .add_number_blocks(&[block(&store, DocumentKind::InspectionRecord, 1, 20)])
            .unwrap();
        let before = store.number_pool().unwrap();
        let foreign = Block {
            device: DeviceId::new("tablet-other"),
            ..block(&store, DocumentKind::RectificationOrder, 1, 20)
        };
        // A good block beside a bad one: all or none.
        let good = block(&store, DocumentKind::RectificationOrder, 1, 20);
        let e = store
            .add_number_blocks(&[good.clone(), foreign])
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Number(NumberError::ForeignBlock { .. })),
            "{e}"
        );
        let overlapping = block(&store, DocumentKind::InspectionRecord, 15, 34);
        let e = store.add_number_blocks(&[overlapping]).unwrap_err();
        assert!(
            matches!(e, StoreError::Number(NumberError::Overlap { .. })),
            "{e}"
        );
        assert_eq!(store.number_pool().unwrap(), before);
        store.add_number_blocks(&[good]).unwrap();
        assert_eq!(
            store
                .numbers_remaining(&series(DocumentKind::RectificationOrder))
                .unwrap(),
            20
        );
    }

    #[test]
    fn a_number_the_rules_refuse_is_not_spent() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .add_number_blocks(&[block(&store, DocumentKind::InspectionRecord, 1, 20)])
            .unwrap();
        let id = new_record(&mut store, "rec-1");
        // Only inspectors issue documents: a supervisor's attempt changes nothing.
        let e = issue(
            &mut store,
            &id,
            DocumentKind::InspectionRecord,
            &user("u-zhao"),
            1,
        )
        .unwrap_err();
        assert!(e.is_user_error(), "{e}");
        assert_eq!(
            store
                .numbers_remaining(&series(DocumentKind::InspectionRecord))
                .unwrap(),
            20
        );
        assert!(store.inspection(&id).unwrap().documents.is_empty());
        // A record that is not there.
        assert!(matches!(
            issue(
                &mut store,
                &InspectionId::new("nowhere"),
                DocumentKind::InspectionRecord,
                &user("u-wang"),
                1
            ),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            store
                .numbers_remaining(&series(DocumentKind::InspectionRecord))
                .unwrap(),
            20
        );
        let d = issue(
            &mut store,
            &id,
            DocumentKind::InspectionRecord,
            &user("u-wang"),
            2,
        )
        .unwrap();
        assert_eq!(d.seq, 1);
    }

    /// The writer side of the crash test: issues order numbers into the record as fast as it
    /// can, printing each one after its transaction returned.
    fn crash_writer(db: &str) -> ! {
        let mut store = Store::open(Path::new(db)).unwrap();
        let wang = user("u-wang");
        let id = InspectionId::new("rec-crash");
        let mut out = std::io::stdout();
        for i in 0.. {
            let d = issue(&mut store, &id, DocumentKind::RectificationOrder, &wang, i).unwrap();
            use std::io::Write;
            writeln!(out, "{}", d.seq).unwrap();
            out.flush().unwrap();
        }
        unreachable!()
    }

    /// Killed with SIGKILL at pseudo-random moments while issuing, many times: after each
    /// restart every number the pool has given out is in the record exactly once — none
    /// issued twice, none lost between the pool and the record — and every number the writer
    /// saw committed is there.
    #[test]
    fn issuing_survives_sigkill_at_any_moment() {
        if let Ok(db) = std::env::var(CHILD_ENV) {
            crash_writer(&db);
        }
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tablet.db");
        {
            let mut store = Store::open(&db).unwrap();
            store
                .add_number_blocks(&[block(
                    &store,
                    DocumentKind::RectificationOrder,
                    1,
                    1_000_000,
                )])
                .unwrap();
            new_record(&mut store, "rec-crash");
        }
        let exe = std::env::current_exe().unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut seen: Vec<u32> = Vec::new();
        for round in 0..12 {
            let mut child = Process::new(&exe)
                .args([
                    "store::numbers::tests::issuing_survives_sigkill_at_any_moment",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, &db)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            // Wait until it is issuing (a number line, not the harness's header), then let it
            // run a little longer.
            let started = Instant::now();
            let mut line = String::new();
            loop {
                line.clear();
                assert!(
                    stdout.read_line(&mut line).unwrap() > 0,
                    "round {round}: the writer ended"
                );
                if let Ok(n) = line.trim().parse::<u32>() {
                    seen.push(n);
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(60));
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            std::thread::sleep(Duration::from_millis(5 + (seed >> 33) % 60));
            child.kill().unwrap();
            child.wait().unwrap();
            let mut rest = String::new();
            stdout.read_to_string(&mut rest).unwrap();
            // Only whole lines: the last one may have been cut by the kill.
            let complete = rest.rsplit_once('\n').map_or("", |(whole, _)| whole);
            seen.extend(
                complete
                    .lines()
                    .filter_map(|l| l.trim().parse::<u32>().ok()),
            );

            let mut store = Store::open(&db).unwrap();
            let ok: String = store
                .connection()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok");
            let record = store.inspection(&InspectionId::new("rec-crash")).unwrap();
            let mut seqs: Vec<u32> = record.documents.values().map(|d| d.seq).collect();
            seqs.sort_unstable();
            let used = 1_000_000
                - store
                    .numbers_remaining(&series(DocumentKind::RectificationOrder))
                    .unwrap();
            assert_eq!(
                seqs,
                (1..=used).collect::<Vec<u32>>(),
                "round {round}: the record's numbers are not exactly those the pool gave out"
            );
            for n in &seen {
                assert!(
                    seqs.binary_search(n).is_ok(),
                    "round {round}: committed number {n} lost"
                );
            }
        }
        assert!(seen.len() >= 12, "{seen:?}");
    }
}
