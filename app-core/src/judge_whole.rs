//! A new record pushed whole, judged from its document chunk without loading it.
//!
//! Loading a pushed document (`AutoCommit::load`) rebuilds every change from the document's
//! columns to hash it, which cost about as much as all the rest of the judgement of a new
//! record. For the common case (one device, one linear history, as a tablet writes a record
//! it created) the judge reads only what a change says of itself from the chunk's change
//! columns (sequence number, last operation, time, message), predicts every change with the
//! recorder as the reference path does, and then requires the pushed chunk to be exactly the
//! document those predicted changes make: the same actors, the single head equal to the last
//! predicted change's hash (a hash covers every change before it), and every column, once
//! inflated, byte for byte what Automerge's own encoder writes for those changes and their
//! operations. So the pushed bytes are exactly the document an honest tablet saves: they are
//! stored as they came, and every later load of them yields the judged record. Any other
//! shape (several actors, a merge, columns this encoder does not write) is not an error
//! here: the reference path, which loads the document, decides.
//!
//! The document chunk (Automerge's binary format): the magic bytes, a checksum (the first
//! four bytes of the SHA-256 of the chunk's type, length and body), the type (0), the
//! length, then the actors, the heads, the directory of change columns and of operation
//! columns (each a specification, whose bit 3 marks a DEFLATE-compressed column, and a
//! length), the change columns, the operation columns and the index of each head.

use super::recorder::{Action, Delta, Expected, Rle, uleb};
use automerge::ChangeHash;
use std::borrow::Cow;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DEFLATE: u64 = 0x08;

/// A document chunk, its columns inflated.
pub(crate) struct Chunk<'a> {
    pub(crate) actors: Vec<&'a [u8]>,
    pub(crate) heads: Vec<ChangeHash>,
    change_cols: Vec<(u64, Cow<'a, [u8]>)>,
    op_cols: Vec<(u64, Cow<'a, [u8]>)>,
    head_indexes: Vec<u64>,
}

/// A byte reader over a chunk; every read is checked (`None` past the end).
struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn uleb(&mut self) -> Option<u64> {
        let mut out: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            out |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(out);
            }
        }
        None
    }

    fn sleb(&mut self) -> Option<i64> {
        let mut out: i64 = 0;
        let mut shift = 0u32;
        loop {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            if shift >= 64 {
                return None;
            }
            out |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    out |= -1i64 << shift;
                }
                return Some(out);
            }
        }
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.uleb()?).ok()
    }
}

fn checksum(kind: u8, body: &[u8]) -> [u8; 4] {
    use sha2::Digest;
    let mut header = Vec::with_capacity(11);
    header.push(kind);
    uleb(&mut header, body.len() as u64);
    let mut hasher = sha2::Sha256::new();
    hasher.update(&header);
    hasher.update(body);
    let hash: [u8; 32] = hasher.finalize().into();
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The most a pushed column may inflate to (a record's whole document is far smaller).
const MAX_INFLATED: u64 = 64 << 20;

/// Inflates a raw deflate stream that must end exactly where `data` ends (stricter than a
/// reader that ignores trailing bytes: anything unusual only sends the push down the
/// reference path). One decompressor per thread, reset for each column: a fresh one
/// allocates and clears its 32 KiB window every time, which cost about as much as
/// inflating a record's columns.
fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    thread_local! {
        static INFLATER: std::cell::RefCell<Decompress> =
            std::cell::RefCell::new(Decompress::new(false));
    }
    INFLATER.with(|cell| {
        let mut d = cell.borrow_mut();
        d.reset(false);
        let mut out: Vec<u8> = Vec::with_capacity(data.len().saturating_mul(4).max(256));
        loop {
            let read = usize::try_from(d.total_in()).ok()?;
            let before = (d.total_in(), d.total_out());
            let status = d
                .decompress_vec(data.get(read..)?, &mut out, FlushDecompress::Finish)
                .ok()?;
            if out.len() as u64 > MAX_INFLATED {
                return None;
            }
            match status {
                Status::StreamEnd => {
                    return (d.total_in() == data.len() as u64).then_some(out);
                }
                _ if out.len() == out.capacity() => out.reserve(out.capacity()),
                // No room was missing, yet nothing moved: the stream is cut short.
                _ if before == (d.total_in(), d.total_out()) => return None,
                _ => {}
            }
        }
    })
}

/// One chunk: its type, its checksum and its body.
fn next_chunk<'a>(i: &mut Input<'a>) -> Option<(u8, &'a [u8], &'a [u8])> {
    if i.take(4)? != MAGIC {
        return None;
    }
    let sum = i.take(4)?;
    let kind = i.take(1)?[0];
    let len = i.len()?;
    let body = i.take(len)?;
    Some((kind, sum, body))
}

/// A stored change (a chunk of its own after the document chunk: what the tablet saved since
/// its last snapshot), as much of it as the judge reads, and its hash.
pub(crate) struct ChangeChunk {
    /// The SHA-256 of the (inflated) change chunk: the change's hash.
    pub(crate) hash: ChangeHash,
    pub(crate) actor: Vec<u8>,
    pub(crate) seq: u64,
    pub(crate) start_op: u64,
    pub(crate) time: i64,
    pub(crate) message: Option<String>,
}

impl ChangeChunk {
    /// Reads a change chunk's body (type 1; type 2 is the same body deflated) up to its
    /// message; the hash covers the rest.
    fn parse(kind: u8, sum: &[u8], body: &[u8]) -> Option<ChangeChunk> {
        let inflated;
        let body = match kind {
            1 => body,
            2 => {
                inflated = inflate(body)?;
                &inflated
            }
            _ => return None,
        };
        // The checksum of a deflated change is its inflated form's (Automerge checks both).
        let hash = super::recorder::chunk_hash(body);
        if hash.0[..4] != *sum {
            return None;
        }
        let mut b = Input::new(body);
        // The dependencies (the hash covers them: the prediction names the change before).
        let deps = b.len()?;
        b.take(deps.checked_mul(32)?)?;
        let n = b.len()?;
        let actor = b.take(n)?.to_vec();
        let seq = b.uleb()?;
        let start_op = b.uleb()?;
        let time = b.sleb()?;
        let n = b.len()?;
        let message = match std::str::from_utf8(b.take(n)?).ok()? {
            "" => None,
            m => Some(m.to_owned()),
        };
        Some(ChangeChunk {
            hash,
            actor,
            seq,
            start_op,
            time,
            message,
        })
    }
}

/// Parses pushed bytes as a document chunk followed by any number of change chunks (how a
/// tablet stores a record: its last snapshot and the changes saved since), each with a
/// valid checksum; `None` for anything else.
pub(crate) fn parse_pushed(bytes: &[u8]) -> Option<(Chunk<'_>, Vec<ChangeChunk>)> {
    let mut i = Input::new(bytes);
    let (kind, sum, body) = next_chunk(&mut i)?;
    if kind != 0 || checksum(0, body) != sum {
        return None;
    }
    let chunk = Chunk::parse_body(body)?;
    let mut changes = Vec::new();
    while !i.done() {
        let (kind, sum, body) = next_chunk(&mut i)?;
        changes.push(ChangeChunk::parse(kind, sum, body)?);
    }
    Some((chunk, changes))
}

impl<'a> Chunk<'a> {
    fn parse_body(body: &'a [u8]) -> Option<Chunk<'a>> {
        let mut b = Input::new(body);
        let actors = (0..b.len()?)
            .map(|_| {
                let n = b.len()?;
                b.take(n)
            })
            .collect::<Option<Vec<_>>>()?;
        let heads = (0..b.len()?)
            .map(|_| Some(ChangeHash(b.take(32)?.try_into().ok()?)))
            .collect::<Option<Vec<_>>>()?;
        let directory = |b: &mut Input<'a>| {
            (0..b.len()?)
                .map(|_| Some((b.uleb()?, b.len()?)))
                .collect::<Option<Vec<(u64, usize)>>>()
        };
        let change_dir = directory(&mut b)?;
        let op_dir = directory(&mut b)?;
        let columns = |b: &mut Input<'a>, dir: Vec<(u64, usize)>| {
            dir.into_iter()
                .map(|(spec, n)| {
                    let data = b.take(n)?;
                    Some(if spec & DEFLATE != 0 {
                        (spec & !DEFLATE, Cow::Owned(inflate(data)?))
                    } else {
                        (spec, Cow::Borrowed(data))
                    })
                })
                .collect::<Option<Vec<_>>>()
        };
        let change_cols = columns(&mut b, change_dir)?;
        let op_cols = columns(&mut b, op_dir)?;
        let mut head_indexes = Vec::new();
        if !b.done() {
            for _ in 0..heads.len() {
                head_indexes.push(b.uleb()?);
            }
        }
        if !b.done() {
            return None;
        }
        Some(Chunk {
            actors,
            heads,
            change_cols,
            op_cols,
            head_indexes,
        })
    }

    fn column<'c>(cols: &'c [(u64, Cow<'a, [u8]>)], spec: u64) -> &'c [u8] {
        cols.iter()
            .find(|(s, _)| *s == spec)
            .map(|(_, d)| d.as_ref())
            .unwrap_or_default()
    }

    /// What each change says of itself, from the change columns; `None` when a column
    /// does not decode or the columns disagree on the number of changes.
    pub(crate) fn changes(&self) -> Option<Vec<ChangeRow<'_>>> {
        let col = |spec| Self::column(&self.change_cols, spec);
        let actor = rle_u64(col(0x01))?;
        let seq = delta(col(0x03))?;
        let max_op = delta(col(0x13))?;
        let time = delta(col(0x23))?;
        let message = rle_str(col(0x35))?;
        let dep_count = rle_u64(col(0x40))?;
        let deps = delta(col(0x43))?;
        let extra_meta = rle_u64(col(0x56))?;
        let n = seq.len();
        let fits = |len: usize| len == n || len == 0;
        if actor.len() != n
            || max_op.len() != n
            || time.len() != n
            || !fits(message.len())
            || !fits(dep_count.len())
            || !fits(extra_meta.len())
        {
            return None;
        }
        let mut deps = deps.into_iter();
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let count = dep_count.get(i).copied().flatten().unwrap_or(0);
            let row_deps = (0..count)
                .map(|_| u64::try_from(deps.next()??).ok())
                .collect::<Option<Vec<u64>>>()?;
            rows.push(ChangeRow {
                actor: actor[i]?,
                seq: u64::try_from(seq[i]?).ok()?,
                max_op: u64::try_from(max_op[i]?).ok()?,
                time: time[i]?,
                message: message.get(i).copied().flatten(),
                deps: row_deps,
                // (length << 4 | type: no extra bytes is an empty byte string, 7)
                extra: extra_meta.get(i).copied().flatten().unwrap_or(0) >> 4 != 0,
            });
        }
        if deps.next().is_some() {
            return None;
        }
        Some(rows)
    }

    /// The value of each root key written by the operations with counters up to `max_op`
    /// (the first change's, in a one-actor document): what the record was created with.
    /// Keys with anything but a scalar value are left out; `None` if the columns do not
    /// decode.
    pub(crate) fn root_scalars(&self, max_op: u64) -> Option<Vec<(&str, ScalarRef<'_>)>> {
        let col = |spec| Self::column(&self.op_cols, spec);
        let obj = rle_u64(col(0x02))?;
        let key = rle_str(col(0x15))?;
        let id = delta(col(0x23))?;
        let action = rle_u64(col(0x42))?;
        let meta = rle_u64(col(0x56))?;
        let raw = col(0x57);
        let mut out = Vec::new();
        let mut offset = 0usize;
        for (i, counter) in id.iter().enumerate() {
            let m = meta.get(i).copied().flatten().unwrap_or(0);
            let len = usize::try_from(m >> 4).ok()?;
            let value = raw.get(offset..offset.checked_add(len)?)?;
            offset += len;
            let at_root = obj.get(i).copied().flatten().is_none();
            if at_root
                && counter.is_some_and(|c| c > 0 && c as u64 <= max_op)
                && action.get(i).copied().flatten() == Some(1)
                && let Some(k) = key.get(i).copied().flatten()
                && let Some(v) = scalar(m & 0x0f, value)
            {
                out.push((k, v));
            }
        }
        Some(out)
    }

    /// Whether the chunk is exactly the document made of the changes `rows` (their
    /// metadata, with `max_ops` and `heads` as predicted) and the operations `ops` (every
    /// operation of those changes, in counter order, of the one actor `actor`).
    pub(crate) fn is_document_of(
        &self,
        actor: &[u8],
        rows: &[ChangeRow<'_>],
        max_ops: &[u64],
        ops: &[Expected],
        head: ChangeHash,
    ) -> bool {
        let n = rows.len() as u64;
        self.actors == [actor]
            && self.heads == [head]
            && (self.head_indexes.is_empty() || self.head_indexes == [n.saturating_sub(1)])
            && same_columns(&self.change_cols, &change_columns(rows, max_ops))
            && same_columns(&self.op_cols, &op_columns(ops))
    }
}

type ScalarRef<'a> = automerge::ScalarValueRef<'a>;

/// A scalar from its type code and raw bytes (the types a record's fresh draft holds; the
/// others are not needed to guess it).
fn scalar(kind: u64, raw: &[u8]) -> Option<ScalarRef<'_>> {
    let mut i = Input::new(raw);
    let v = match kind {
        0 => ScalarRef::Null,
        3 => ScalarRef::Uint(i.uleb()?),
        4 => ScalarRef::Int(i.sleb()?),
        6 => ScalarRef::Str(Cow::Borrowed(std::str::from_utf8(raw).ok()?)),
        9 => ScalarRef::Timestamp(i.sleb()?),
        _ => return None,
    };
    (kind == 6 || kind == 0 || i.done()).then_some(v)
}

fn same_columns(pushed: &[(u64, Cow<'_, [u8]>)], ours: &[(u64, Vec<u8>)]) -> bool {
    pushed.len() == ours.len()
        && pushed
            .iter()
            .zip(ours)
            .all(|((s, d), (t, e))| s == t && d.as_ref() == e.as_slice())
}

/// One change as the change columns describe it.
pub(crate) struct ChangeRow<'a> {
    /// The index of its actor in the chunk's actors.
    pub(crate) actor: u64,
    pub(crate) seq: u64,
    /// Its last operation's counter.
    pub(crate) max_op: u64,
    /// In seconds.
    pub(crate) time: i64,
    pub(crate) message: Option<&'a str>,
    /// The indexes of the changes it depends on.
    pub(crate) deps: Vec<u64>,
    /// Whether it carries extra bytes (tablets never write any).
    pub(crate) extra: bool,
}

/// Decodes a run-length encoded column (Automerge's: a positive count and one value
/// repeated, a negative count and that many values, or 0 and a count of nulls).
fn rle<'a, T>(
    data: &'a [u8],
    mut read: impl FnMut(&mut Input<'a>) -> Option<T>,
) -> Option<Vec<Option<T>>>
where
    T: Copy,
{
    let mut i = Input::new(data);
    let mut out = Vec::new();
    while !i.done() {
        let count = i.sleb()?;
        // A run of equal values or of nulls takes a few bytes whatever its length, so the
        // column's length bounds nothing: the values of one column are capped instead (a
        // record's columns hold a few thousand), so no count a pusher writes allocates
        // without bound.
        let n = count.unsigned_abs();
        if n > MAX_VALUES - out.len() as u64 {
            return None;
        }
        match count {
            0 => {
                let n = i.uleb()?;
                if n > MAX_VALUES - out.len() as u64 {
                    return None;
                }
                out.extend(std::iter::repeat_n(None, n as usize));
            }
            c if c > 0 => {
                let v = read(&mut i)?;
                out.extend(std::iter::repeat_n(Some(v), n as usize));
            }
            _ => {
                for _ in 0..n {
                    out.push(Some(read(&mut i)?));
                }
            }
        }
    }
    Some(out)
}

/// The most values one column may hold (see [`rle`]).
const MAX_VALUES: u64 = 1 << 20;

fn rle_u64(data: &[u8]) -> Option<Vec<Option<u64>>> {
    rle(data, Input::uleb)
}

fn rle_str(data: &[u8]) -> Option<Vec<Option<&str>>> {
    rle(data, |i| {
        let n = i.len()?;
        std::str::from_utf8(i.take(n)?).ok()
    })
}

fn delta(data: &[u8]) -> Option<Vec<Option<i64>>> {
    let mut last: i64 = 0;
    Some(
        rle(data, Input::sleb)?
            .into_iter()
            .map(|d| {
                d.map(|d| {
                    last = last.wrapping_add(d);
                    last
                })
            })
            .collect(),
    )
}

/// The change columns Automerge writes for these changes (one actor, index 0).
fn change_columns(rows: &[ChangeRow<'_>], max_ops: &[u64]) -> Vec<(u64, Vec<u8>)> {
    let mut actor = Rle::<u64>::default();
    let mut seq = Delta::default();
    let mut max_op = Delta::default();
    let mut time = Delta::default();
    let mut message = Rle::<&str>::default();
    let mut dep_count = Rle::<u64>::default();
    let mut deps = Delta::default();
    let mut extra_meta = Rle::<u64>::default();
    for (row, m) in rows.iter().zip(max_ops) {
        actor.value(0);
        seq.value(row.seq as i64);
        max_op.value(*m as i64);
        time.value(row.time);
        match row.message {
            Some(s) => message.value(s),
            None => message.null(),
        }
        dep_count.value(row.deps.len() as u64);
        for d in &row.deps {
            deps.value(*d as i64);
        }
        // No extra bytes: an empty byte string (length 0, type 7).
        extra_meta.value(7);
    }
    // Empty columns are left out of the directory.
    [
        (0x01, actor.finish()),
        (0x03, seq.finish()),
        (0x13, max_op.finish()),
        (0x23, time.finish()),
        (0x35, message.finish()),
        (0x40, dep_count.finish()),
        (0x43, deps.finish()),
        (0x56, extra_meta.finish()),
    ]
    .into_iter()
    .filter(|(_, data)| !data.is_empty())
    .collect()
}

/// The operation columns of the document Automerge saves after these operations (every
/// operation of one actor, index 0, in counter order from 1, map operations only): sorted
/// by object, key and counter; a delete is not stored but is its predecessor's successor.
fn op_columns(ops: &[Expected]) -> Vec<(u64, Vec<u8>)> {
    let mut succ: Vec<Option<u64>> = vec![None; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        if let Some(p) = op.pred
            && let Some(s) = usize::try_from(p - 1).ok().and_then(|p| succ.get_mut(p))
        {
            *s = Some(i as u64 + 1);
        }
    }
    let mut order: Vec<usize> = (0..ops.len())
        .filter(|&i| !matches!(ops[i].action, Action::Delete))
        .collect();
    order.sort_by(|&a, &b| {
        (ops[a].obj, ops[a].key.as_str(), a).cmp(&(ops[b].obj, ops[b].key.as_str(), b))
    });
    let mut obj_actor = Rle::<u64>::default();
    let mut obj_counter = Rle::<u64>::default();
    let mut key = Rle::<&str>::default();
    let mut id_actor = Rle::<u64>::default();
    let mut id_counter = Delta::default();
    let mut action = Rle::<u64>::default();
    let mut value_meta = Rle::<u64>::default();
    let mut value_raw = Vec::new();
    let mut succ_count = Rle::<u64>::default();
    let mut succ_actor = Rle::<u64>::default();
    let mut succ_counter = Delta::default();
    for &i in &order {
        let op = &ops[i];
        match op.obj {
            0 => {
                obj_actor.null();
                obj_counter.null();
            }
            c => {
                obj_actor.value(0);
                obj_counter.value(c);
            }
        }
        key.value(op.key.as_str());
        id_actor.value(0);
        id_counter.value(i as i64 + 1);
        let (index, meta) = op.action.encode(&mut value_raw);
        action.value(index);
        value_meta.value(meta);
        match succ[i] {
            None => succ_count.value(0),
            Some(s) => {
                succ_count.value(1);
                succ_actor.value(0);
                succ_counter.value(s as i64);
            }
        }
    }
    let mut insert = Vec::new();
    if !order.is_empty() {
        uleb(&mut insert, order.len() as u64);
    }
    let columns = [
        (0x01, obj_actor.finish()),
        (0x02, obj_counter.finish()),
        (0x15, key.finish()),
        (0x21, id_actor.finish()),
        (0x23, id_counter.finish()),
        (0x34, insert),
        (0x42, action.finish()),
        (0x56, value_meta.finish()),
        (0x57, value_raw),
        (0x80, succ_count.finish()),
        (0x81, succ_actor.finish()),
        (0x83, succ_counter.finish()),
    ];
    columns
        .into_iter()
        .filter(|(_, data)| !data.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::recorder::sleb;
    use super::*;

    #[test]
    fn long_runs_decode_and_counts_past_the_cap_do_not() {
        // 5,000 equal values and 5,000 nulls: a few bytes each, whatever the run's length.
        let mut col = Vec::new();
        sleb(&mut col, 5_000);
        uleb(&mut col, 1);
        sleb(&mut col, 0);
        uleb(&mut col, 5_000);
        let values = rle_u64(&col).expect("decodes");
        assert_eq!(values.len(), 10_000);
        assert!(values[..5_000].iter().all(|v| *v == Some(1)));
        assert!(values[5_000..].iter().all(Option::is_none));
        let mut huge = Vec::new();
        sleb(&mut huge, i64::MAX);
        uleb(&mut huge, 1);
        assert!(rle_u64(&huge).is_none());
        let mut nulls = Vec::new();
        sleb(&mut nulls, 0);
        uleb(&mut nulls, MAX_VALUES + 1);
        assert!(rle_u64(&nulls).is_none());
    }
}
