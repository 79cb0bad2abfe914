//! The audit trail (`audit-trail.json`): every change of the record, oldest first, with who
//! made it, when and on which device, taken from the Automerge history. Each entry carries
//! the hash of the entry before it, and the last entry's hash is in the signed manifest, so
//! no entry can be altered, removed or reordered without the chain (or the signature)
//! breaking.
//!
//! An entry's hash is the SHA-256 of its JSON without the `hash` field (fields in the order
//! of [`TrailBody`], compact `serde_json` output).

use app_core::document::ChangeEntry;
use app_core::evidence::Sha256Hex;
use app_core::geo::Timestamp;
use serde::{Deserialize, Serialize};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hashed part of an entry. (No `deny_unknown_fields`: serde cannot combine it with the
/// flattening in [`TrailEntry`]; the file is covered by the signed manifest anyway.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailBody {
    /// 1, 2, 3 … in order.
    pub seq: u64,
    /// The Automerge change hash.
    pub change: String,
    /// The Automerge actor (derived from the device id).
    pub actor: String,
    pub device: Option<String>,
    pub user: Option<String>,
    /// The command's name (`create`, `answer`, `sign`, `transition` …).
    pub command: Option<String>,
    /// Seconds since the Unix epoch, as the writing device's clock said.
    pub time: i64,
    /// The same instant in Asia/Shanghai, for people.
    pub time_shanghai: String,
    /// Made after the signed version this case file shows (an amendment).
    pub after_signing: bool,
    /// The hash of the previous entry ([`GENESIS`] for the first).
    pub prev: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEntry {
    #[serde(flatten)]
    pub body: TrailBody,
    pub hash: String,
}

impl TrailBody {
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("trail entries serialise");
        Sha256Hex::of(&bytes).to_string()
    }
}

/// Builds the chained trail from the document's history; `after_signing(hash)` tells which
/// changes came after the signed version.
pub fn build(history: &[ChangeEntry], after_signing: &dyn Fn(&str) -> bool) -> Vec<TrailEntry> {
    let mut prev = GENESIS.to_owned();
    let mut out = Vec::with_capacity(history.len());
    for (i, change) in history.iter().enumerate() {
        let body = TrailBody {
            seq: i as u64 + 1,
            change: change.hash.clone(),
            actor: change.actor.clone(),
            device: change.note.as_ref().map(|n| n.device.to_string()),
            user: change.note.as_ref().map(|n| n.by.to_string()),
            command: change.note.as_ref().map(|n| n.command.clone()),
            time: change.time,
            time_shanghai: Timestamp(change.time.saturating_mul(1000)).display_shanghai(),
            after_signing: after_signing(&change.hash),
            prev: prev.clone(),
        };
        let hash = body.hash();
        prev.clone_from(&hash);
        out.push(TrailEntry { body, hash });
    }
    out
}

/// The head of a trail: its last hash, or [`GENESIS`] when empty.
pub fn head(trail: &[TrailEntry]) -> &str {
    trail.last().map_or(GENESIS, |e| e.hash.as_str())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// Entry `seq` says it is number `found`.
    Sequence { index: usize, found: u64 },
    /// Entry `seq`'s `prev` is not the hash of the entry before it.
    Link { seq: u64 },
    /// Entry `seq`'s content does not hash to its `hash`.
    Hash { seq: u64 },
    /// The last hash is not the one the manifest names.
    Head { found: String, signed: String },
}

/// Checks the chain and that it ends at `signed_head`.
pub fn check(trail: &[TrailEntry], signed_head: &str) -> Vec<ChainBreak> {
    let mut out = Vec::new();
    let mut prev = GENESIS;
    for (i, entry) in trail.iter().enumerate() {
        let seq = entry.body.seq;
        if seq != i as u64 + 1 {
            out.push(ChainBreak::Sequence {
                index: i,
                found: seq,
            });
        }
        if entry.body.prev != prev {
            out.push(ChainBreak::Link { seq });
        }
        if entry.body.hash() != entry.hash {
            out.push(ChainBreak::Hash { seq });
        }
        prev = &entry.hash;
    }
    if head(trail) != signed_head {
        out.push(ChainBreak::Head {
            found: head(trail).to_owned(),
            signed: signed_head.to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::document::ChangeNote;

    fn history(n: usize) -> Vec<ChangeEntry> {
        (0..n)
            .map(|i| ChangeEntry {
                hash: format!("{i:064x}"),
                actor: "ab".into(),
                time: 1_795_420_800 + i as i64 * 60,
                note: Some(ChangeNote {
                    by: "u-wang".into(),
                    device: "tab-1".into(),
                    command: "answer".into(),
                    at: None,
                    op: None,
                    seal: None,
                }),
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_checks_and_every_edit_removal_or_swap_breaks_it() {
        let trail = build(&history(4), &|_| false);
        let head = head(&trail).to_owned();
        assert!(check(&trail, &head).is_empty());
        assert_eq!(trail[0].body.time_shanghai, "2026-11-23 16:00");

        let mut edited = trail.clone();
        edited[1].body.user = Some("u-li".into());
        assert_eq!(check(&edited, &head), [ChainBreak::Hash { seq: 2 }]);

        let mut removed = trail.clone();
        removed.remove(3);
        assert!(matches!(
            check(&removed, &head).as_slice(),
            [ChainBreak::Head { .. }]
        ));

        let mut middle = trail.clone();
        middle.remove(1);
        let breaks = check(&middle, &head);
        assert!(breaks.contains(&ChainBreak::Link { seq: 3 }), "{breaks:?}");

        let mut swapped = trail.clone();
        swapped.swap(1, 2);
        assert!(!check(&swapped, &head).is_empty());
    }
}
