//! The operations an honest change must contain, predicted without an Automerge op set.
//!
//! Replaying a command into an Automerge document (the judge's reference path) costs about
//! fifteen times as much as loading the document, mostly Automerge inserting each operation
//! into its columns one at a time. For a new record pushed whole by the device that wrote it
//! (one actor, one linear history: the common case), the judge instead runs the same writer
//! (`document::write_part`, `write_record`) against this recorder, which keeps only the
//! visible operation at each key of each map, and compares the predicted operations with the
//! pushed change's own (action, object, key, value, predecessors, in order). Operation ids
//! are counters of the one actor: the change's `start_op` plus its position.
//!
//! The recorder follows Automerge's map semantics for a history without conflicts: a put of
//! the value a key already holds writes nothing, a delete of an absent key writes nothing,
//! every other write names the key's current operation as its predecessor. Anything else
//! (a conflict, another actor) is not predicted: the judge then takes the reference path.

use crate::document::{DocError, Sink};
use automerge::legacy::{Key, ObjectId, Op, OpType};
use automerge::{ActorId, ObjType, ScalarValue};
use std::collections::HashMap;

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

    /// The counter the next change's operations must start at.
    pub(crate) fn next_op(&self) -> u64 {
        self.next
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

    /// Whether `ops` (a pushed change's operations, by `actor`) are exactly the predicted
    /// ones; the prediction is cleared for the next change either way.
    pub(crate) fn matches(&mut self, ops: &[Op], actor: &ActorId) -> bool {
        let expected = std::mem::take(&mut self.ops);
        expected.len() == ops.len()
            && expected.iter().zip(ops).all(|(e, op)| {
                let obj = match &op.obj {
                    ObjectId::Root => Some(0),
                    ObjectId::Id(id) if id.1 == *actor => Some(id.0),
                    ObjectId::Id(_) => None,
                };
                let key_ok = matches!(&op.key, Key::Map(k) if k.as_str() == e.key);
                let action_ok = match (&op.action, &e.action) {
                    (OpType::Put(v), Action::Put(w)) => v == w,
                    (OpType::Make(ObjType::Map), Action::MakeMap) => true,
                    (OpType::Delete, Action::Delete) => true,
                    _ => false,
                };
                let pred: Vec<Option<u64>> = op
                    .pred
                    .iter()
                    .map(|p| (p.1 == *actor).then_some(p.0))
                    .collect();
                let pred_ok = match e.pred {
                    None => pred.is_empty(),
                    Some(p) => pred == [Some(p)],
                };
                !op.insert && obj == Some(e.obj) && key_ok && action_ok && pred_ok
            })
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
