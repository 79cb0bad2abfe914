// The reference side of the sync benchmark (sync-server/benches/sync.rs): N simulated tablets
// push the benchmark's documents to @automerge/automerge-repo-sync-server.
//
//   node client.mjs <ws-url> <tablets> <corpus file> <server DATA_DIR> <result.json> [cap s]
//
// Each tablet is its own automerge-repo `Repo` (in memory, no storage) with its own WebSocket
// connection (BrowserWebSocketClientAdapter, `ws` under Node). Document i goes to tablet
// i % N, exactly as on our side. The corpus file holds the same Automerge bytes our tablets
// push; it is read before timing. Timing starts when the tablets start connecting. Each tablet
// keeps a window of documents in flight (100 / N, at least 1): it loads a document (A.load,
// the counterpart of our tablets loading theirs from SQLite) into its repo, and when the
// server has acknowledged it, releases it and loads the next.
//
// "Synced" for a document: (1) the server's sync state, as reported by the server's own sync
// messages, has heads equal to the document's heads (automerge-repo's `remote-heads` event for
// the server's storage id), and (2) the document has a non-empty chunk file in the server's
// NodeFS data folder (the server saves 100 ms after a change, with writeFile, no fsync).
// After timing, a sample of documents is re-loaded from that folder and its heads compared.

import fs from "node:fs"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { Repo } from "@automerge/automerge-repo"
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { next as A } from "@automerge/automerge"

const [url, tablets, corpusFile, serverData, resultFile, capSecs] = process.argv.slice(2)
const N = parseInt(tablets, 10)
// The sync phase stops waiting after this long and reports the documents synced so far
// (`partial: true`).
const CAP_MS = (capSecs ? parseFloat(capSecs) : 1200) * 1000

function write(result) {
  fs.writeFileSync(resultFile, JSON.stringify(result))
}

// --- the corpus: "SYNCBENCH", u32 version, u32 count, then (u32 len, id, u32 len, bytes)* ---
const raw = fs.readFileSync(corpusFile)
let at = 9 + 4
const count = raw.readUInt32LE(at)
at += 4
const docs = []
for (let i = 0; i < count; i++) {
  const idLen = raw.readUInt32LE(at)
  at += 4 + idLen
  const len = raw.readUInt32LE(at)
  at += 4
  docs.push(new Uint8Array(raw.buffer, raw.byteOffset + at, len))
  at += len
}

// Set when the server cannot be reached during the sync phase (it exited): a tablet's
// reconnect attempt then throws. The phase ends there, and the documents the server had
// acknowledged and written are reported. (A dropped connection alone is not a failure: the
// server's keep-alive drops clients whose pong it did not read within 5 s, which happens when
// it is busy; the adapter reconnects after 5 s and the sync resumes, as it would for an app.)
let failure = null
let phaseStarted = false
let finishPhase = () => {}
process.on("uncaughtException", e => {
  if (failure) return
  if (phaseStarted) {
    failure = `the server became unreachable: ${e && e.message ? e.message : e}`
    finishPhase()
    return
  }
  write({ error: `uncaught: ${e && e.stack ? e.stack : e}` })
  process.exit(1)
})

// --- the tablets: a repo each, and the documents each will push ---
const repos = []
const queues = []
for (let t = 0; t < N; t++) {
  repos.push(new Repo({ network: [], peerId: `tablet-${t}`, sharePolicy: async () => true }))
  queues.push([])
}
for (let i = 0; i < docs.length; i++) queues[i % N].push(i)

const sameHeads = (a, b) => a.length === b.length && a.every(h => b.includes(h))
const entries = [] // { documentId, heads }
let acked = 0
let lastAckMs = 0
let messages = 0
let disconnects = 0
let resolveAcked
const allAcked = new Promise(r => (resolveAcked = r))
finishPhase = () => resolveAcked()

// A tablet keeps WINDOW documents in flight: it loads the next one (A.load of the stored
// bytes, as our tablets load theirs from SQLite during the sync) when the server has
// acknowledged one. Acknowledged documents are released (handle.delete + A.free): automerge-js
// needs ~1-2.5 MB of memory per loaded document, so 10,000 held at once do not fit in 24 GB.
const WINDOW = Math.max(1, Math.ceil(100 / N))
let stopping = false
function startNext(t) {
  if (stopping) return
  const i = queues[t].shift()
  if (i === undefined) return
  const repo = repos[t]
  const handle = repo.create()
  const doc = A.load(docs[i])
  handle.update(() => doc)
  const entry = { documentId: handle.documentId, heads: A.getHeads(doc), acked: false }
  entries.push(entry)
  handle.on("remote-heads", ({ heads }) => {
    if (entry.acked || !sameHeads(heads, entry.heads)) return
    entry.acked = true
    acked++
    lastAckMs = performance.now() - t0
    if (acked === docs.length) resolveAcked()
    setImmediate(() => {
      // handle.delete(), not repo.delete(): the repo keeps the (now empty) handle, so late
      // sync-state events for it still find it.
      handle.delete()
      A.free(doc)
      startNext(t)
    })
  })
}

// --- the sync phase ---
const cpu0 = process.cpuUsage()
const t0 = performance.now()
phaseStarted = true
const adapters = repos.map((repo, t) => {
  const adapter = new BrowserWebSocketClientAdapter(url)
  adapter.on("message", () => messages++)
  // Start loading documents once this tablet's connection has joined (loading is
  // synchronous work; doing it first would delay every socket's handshake).
  repo.networkSubsystem.once("peer", () => {
    for (let k = 0; k < WINDOW; k++) setImmediate(() => startNext(t))
  })
  repo.networkSubsystem.on("peer-disconnected", () => {
    if (!stopping) disconnects++
  })
  repo.networkSubsystem.addNetworkAdapter(adapter)
  return adapter
})
let partial = false
const cap = setTimeout(() => {
  partial = true
  resolveAcked()
}, CAP_MS)
const progress = setInterval(() => {
  const s = ((performance.now() - t0) / 1000).toFixed(0)
  process.stderr.write(`  reference client (${N} tablets): ${acked} of ${docs.length} acknowledged after ${s} s\n`)
}, 30_000)
await allAcked
const ackedMs = performance.now() - t0
clearInterval(progress)
clearTimeout(cap)
stopping = true

function chunkDirs(documentId) {
  const base = path.join(serverData, documentId.slice(0, 2), documentId.slice(2))
  return [path.join(base, "snapshot"), path.join(base, "incremental")]
}
function onDisk(documentId) {
  for (const dir of chunkDirs(documentId)) {
    let names
    try {
      names = fs.readdirSync(dir)
    } catch {
      continue
    }
    for (const name of names) {
      try {
        if (fs.statSync(path.join(dir, name)).size > 0) return true
      } catch {}
    }
  }
  return false
}
let pending = entries.filter(e => e.acked)
let syncedCount = pending.length
let storedMs
if (failure) {
  // Nothing more will be written: count what is on disk; the phase ended at the last ack.
  for (const e of pending) e.acked = onDisk(e.documentId)
  syncedCount = entries.filter(e => e.acked).length
  storedMs = lastAckMs
} else {
  while (pending.length > 0) {
    pending = pending.filter(e => !onDisk(e.documentId))
    if (pending.length > 0) await new Promise(r => setTimeout(r, 10))
  }
  storedMs = performance.now() - t0
}
const cpu = process.cpuUsage(cpu0)

// --- after timing: re-load a sample from the server's folder ---
const sampled = Math.min(50, syncedCount)
let verified = 0
for (let k = 0; k < sampled; k++) {
  const e = entries.filter(x => x.acked)[Math.floor((k * syncedCount) / sampled)]
  const chunks = []
  for (const dir of chunkDirs(e.documentId)) {
    let names = []
    try {
      names = fs.readdirSync(dir)
    } catch {}
    for (const name of names) chunks.push(fs.readFileSync(path.join(dir, name)))
  }
  const doc = A.loadIncremental(A.init(), new Uint8Array(Buffer.concat(chunks)))
  if (sameHeads(A.getHeads(doc), e.heads)) verified++
}

for (const a of adapters) {
  try {
    a.socket.close()
  } catch {}
}
write({
  synced: syncedCount,
  partial: partial || failure !== null,
  failure,
  acked_at_exit: acked,
  disconnects,
  last_ack_ms: lastAckMs,
  acked_ms: ackedMs,
  stored_ms: storedMs,
  client_cpu_ms: (cpu.user + cpu.system) / 1000,
  client_total_cpu_ms: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  messages_received: messages,
  sampled,
  verified,
  window: WINDOW,
  client_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
})
process.exit(0)
