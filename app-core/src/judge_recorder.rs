//! The operations an honest change must contain, predicted without an Automerge op set.
//!
//! Replaying a command into an Automerge document (the judge's reference path) costs about
//! fifteen times as much as loading the document, mostly Automerge inserting each operation
//! into its columns one at a time. For a new record pushed whole by the device that wrote it
//! (one actor, one linear history: the common case), the judge instead runs the same writer
//! (`document::write_part`, `write_record`) against this recorder, which keeps only the
//! visible operation at each key of each map, encodes the predicted operations as the change
//! an honest device writes (with the pushed change's actor, sequence number, first operation,
//! time, message and dependencies) and compares the hashes: equal hashes mean the pushed
//! change is that change, byte for byte, without decoding the pushed one. Operation ids are
//! counters of the one actor: the change's `start_op` plus its position.
//!
//! The recorder follows Automerge's map semantics for a history without conflicts: a put of
//! the value a key already holds writes nothing, a delete of an absent key writes nothing,
//! every other write names the key's current operation as its predecessor. Anything else
//! (a conflict, another actor) is not predicted: the judge then takes the reference path.

use crate::document::{DocError, Sink};
use automerge::legacy::{Key, ObjectId, Op, OpId, OpType};
use automerge::{ActorId, ChangeHash, ObjType, ScalarValue};
use std::collections::HashMap;
use std::num::NonZeroU64;

/// Who wrote a change and where it sits: everything of it but its operations.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub actor: ActorId,
    pub seq: u64,
    pub start_op: NonZeroU64,
    pub time: i64,
    pub message: Option<String>,
    pub deps: Vec<ChangeHash>,
    pub extra: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Map,
    Scalar(ScalarValue),
}

#[derive(Debug, Clone, PartialEq)]
enum Action {
    Put(ScalarValue),
    MakeMap,
    Delete,
}

/// One predicted operation: on object `obj` (0: the root; otherwise the counter of the
/// operation that made the map), at `key`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expected {
    obj: u64,
    key: String,
    action: Action,
    pred: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct Recorder {
    /// The visible operation (counter, value) at each key of each map.
    values: HashMap<u64, HashMap<String, (u64, Val)>>,
    /// The counter of the next operation.
    next: u64,
    ops: Vec<Expected>,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self {
            next: 1,
            ..Self::default()
        }
    }

    /// The counter of the first predicted operation not yet made into a change: the
    /// change's `start_op`.
    pub(crate) fn pending_start(&self) -> u64 {
        self.next - self.ops.len() as u64
    }

    fn current(&self, obj: u64, key: &str) -> Option<&(u64, Val)> {
        self.values.get(&obj).and_then(|m| m.get(key))
    }

    fn record(&mut self, obj: u64, key: &str, action: Action, value: Option<Val>) -> u64 {
        let id = self.next;
        self.next += 1;
        let map = self.values.entry(obj).or_default();
        let pred = match value {
            Some(v) => map.insert(key.to_owned(), (id, v)),
            None => map.remove(key),
        }
        .map(|(p, _)| p);
        self.ops.push(Expected {
            obj,
            key: key.to_owned(),
            action,
            pred,
        });
        id
    }

    /// The hash of the change made of the predicted operations with `identity`; the
    /// prediction is cleared for the next change.
    pub(crate) fn change_hash(&mut self, identity: Identity) -> ChangeHash {
        let actor = &identity.actor;
        let id = |counter: u64| OpId(counter, actor.clone());
        let operations = std::mem::take(&mut self.ops)
            .into_iter()
            .map(|e| Op {
                action: match e.action {
                    Action::Put(v) => OpType::Put(v),
                    Action::MakeMap => OpType::Make(ObjType::Map),
                    Action::Delete => OpType::Delete,
                },
                obj: match e.obj {
                    0 => ObjectId::Root,
                    counter => ObjectId::Id(id(counter)),
                },
                key: Key::Map(e.key.as_str().into()),
                pred: e.pred.map(id).into_iter().collect(),
                insert: false,
            })
            .collect();
        let e = automerge::ExpandedChange {
            operations,
            actor_id: identity.actor,
            hash: None,
            seq: identity.seq,
            start_op: identity.start_op,
            time: identity.time,
            message: identity.message,
            deps: identity.deps,
            extra_bytes: identity.extra,
            author: None,
        };
        automerge::Change::from(e).hash()
    }
}

impl Sink for Recorder {
    type Obj = u64;

    fn root(&self) -> u64 {
        0
    }

    fn map_at_key(&mut self, obj: &u64, key: &str) -> Result<Option<u64>, DocError> {
        Ok(match self.current(*obj, key) {
            Some((id, Val::Map)) => Some(*id),
            _ => None,
        })
    }

    fn has(&mut self, obj: &u64, key: &str) -> Result<bool, DocError> {
        Ok(self.current(*obj, key).is_some())
    }

    fn write(&mut self, obj: &u64, key: &str, value: ScalarValue) -> Result<(), DocError> {
        if let Some((_, Val::Scalar(v))) = self.current(*obj, key)
            && *v == value
        {
            return Ok(());
        }
        self.record(
            *obj,
            key,
            Action::Put(value.clone()),
            Some(Val::Scalar(value)),
        );
        Ok(())
    }

    fn make_map(&mut self, obj: &u64, key: &str) -> Result<u64, DocError> {
        Ok(self.record(*obj, key, Action::MakeMap, Some(Val::Map)))
    }

    fn remove(&mut self, obj: &u64, key: &str) -> Result<(), DocError> {
        if self.current(*obj, key).is_some() {
            self.record(*obj, key, Action::Delete, None);
        }
        Ok(())
    }
}
