// Starts the reference @automerge/automerge-repo-sync-server, unmodified, bound to 127.0.0.1.
//
// The package has no host option: its Server calls express's `app.listen(PORT)`, which
// listens on all interfaces. This launcher makes every `listen(port[, cb])` without a host
// bind 127.0.0.1, then constructs the package's own `Server` (PORT and DATA_DIR are read from
// the environment as the package documents). With PORT=0 the kernel picks a free port; the
// bound address is written to $BENCH_PORT_FILE (write + rename) once listening.

import fs from "node:fs"
import net from "node:net"

const HOST = "127.0.0.1"
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const port = args[0]
  const portOnly =
    typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port))
  if (portOnly && typeof args[1] !== "string") {
    args.splice(1, 0, HOST)
  }
  this.once("listening", () => {
    const a = this.address()
    if (process.env.BENCH_PORT_FILE && a && typeof a === "object") {
      const tmp = `${process.env.BENCH_PORT_FILE}.tmp`
      fs.writeFileSync(tmp, `${a.address}:${a.port}`)
      fs.renameSync(tmp, process.env.BENCH_PORT_FILE)
    }
  })
  return listen.apply(this, args)
}

const { Server } = await import("@automerge/automerge-repo-sync-server/src/server.js")
const server = new Server()
await server.ready()

const stop = () => {
  server.close()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
