/**
 * Memory of `IdentityClient.stream` over 100,000 identities served by FakeOrq (seeded directly) in pages of 50.
 * Server and client each run in a fresh child process: the client's RSS must not grow by more than 50 MB.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ServerMessage, ServerOptions } from "./fakeOrqServer.js"
import { bundle, fmt, here, startChild, table } from "./shared.js"
import type { StreamResult } from "./streamClient.js"

const COUNT = 100_000
const PAGE = 50
const BUDGET_MB = 50

const mb = (bytes: number) => bytes / 1024 / 1024

/**
 * The client runs: bundled by esbuild, as a deployed backend runs it, with Node defaults (the target's run);
 * through tsx, a development loader that keeps the sources and their source maps on the heap, with Node defaults;
 * through tsx with V8's old space capped (a deployment knob, not a fix).
 */
const RUNS: ReadonlyArray<readonly [string, "tsx" | "bundle", ReadonlyArray<string>]> = [
  ["bundled client, node defaults (target)", "bundle", []],
  ["through tsx, node defaults", "tsx", []],
  ["through tsx, --max-old-space-size=96", "tsx", ["--max-old-space-size=96"]]
]

export const run = async (): Promise<void> => {
  console.log(`\n## Stream ${fmt(COUNT)} identities in pages of ${PAGE} (FakeOrq and the client in child processes)\n`)
  const rows: Array<Array<string>> = []
  const dir = mkdtempSync(join(tmpdir(), "orq-bench-"))
  const bundled = join(dir, "streamClient.mjs")
  await bundle(here("streamClient.ts"), bundled)
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
  for (const [name, loader, flags] of RUNS) {
    // a fresh server each time: the same work for every run
    const options: ServerOptions = { seed: COUNT }
    const server = await startChild<ServerMessage>("fakeOrqServer.ts", [JSON.stringify(options)])
    try {
      if (server.message._tag !== "Ready") throw new Error("the server did not start")
      // --expose-gc only lets the client measure the heap after a full GC, before and after the stream
      const client = await startChild<StreamResult>(
        loader === "bundle" ? bundled : "streamClient.ts",
        [server.message.url, String(PAGE)],
        [
          "--expose-gc",
          ...flags
        ]
      )
      const r = client.message
      const growth = mb(r.peakRss - r.baselineRss)
      rows.push([
        name,
        fmt(r.count),
        fmt(r.count / r.seconds),
        fmt(r.count / r.cpuSeconds),
        fmt(mb(r.baselineRss), 1),
        `${fmt(growth, 1)} ${growth <= BUDGET_MB && r.count === COUNT ? "met" : "NOT met"}`,
        `${fmt(mb(r.baselineHeap), 1)} -> ${fmt(mb(r.finalHeap), 1)}`
      ])
    } finally {
      server.stop()
    }
  }
  table(
    [
      "client run",
      "identities",
      "identities/s",
      "per client CPU-s",
      "RSS before (MB)",
      `RSS growth, peak (MB; budget ${BUDGET_MB})`,
      "heap after full GC (MB)"
    ],
    rows
  )
  console.log(
    "\nidentities/s includes FakeOrq's own work in its child process; the client's own cost is the " +
      "identities per client CPU-second."
  )
}
