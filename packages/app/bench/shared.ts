/**
 * Helpers shared by the bench sections: the fixed identity, statistics, formatting, and child processes.
 */
import * as esbuild from "esbuild"
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { nodeBundle } from "../scripts/bundle.mjs"

/** The identity the throughput server answers with: the seed generation's wire shape, valid for every client. */
export const IDENTITY = {
  _id: "identity_01JFAKE0000000000000000000",
  external_id: "user_12345",
  display_name: "Bench User",
  email: "bench@example.com",
  avatar_url: null,
  tags: ["bench"],
  metadata: { plan: "pro" },
  created: "2026-01-01T00:00:00.000Z",
  updated: "2026-01-02T00:00:00.000Z"
}

/** The patch every contender sends. */
export const PATCH = { display_name: "Bench User", tags: ["bench"], metadata: { plan: "pro" } }

/** The API key of the bench: a dummy; the loopback servers never check it against anything real. */
export const API_KEY = "sk-bench-not-a-real-key"

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a"

export const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a")

/** Prints an aligned table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  console.log(line(header))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) console.log(line(row))
}

/** `path` relative to this folder, as a file path. */
export const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** A child process started by {@link startChild}. */
export interface Child<A> {
  /** Its first IPC message. */
  readonly message: A
  /** Sends `request` and resolves with the next message. */
  readonly ask: <B>(request: string) => Promise<B>
  readonly stop: () => void
}

/**
 * Starts `script` (a .ts file of this folder, run under tsx; or the path of a bundle, run as it is) with `args`
 * and extra node `flags`; resolves once it sent its first message.
 */
export const startChild = <A>(
  script: string,
  args: ReadonlyArray<string> = [],
  flags: ReadonlyArray<string> = []
): Promise<Child<A>> =>
  new Promise((resolve, reject) => {
    const bundled = script.endsWith(".mjs")
    const child = fork(bundled ? script : here(script), [...args], {
      execArgv: bundled ? [...flags] : ["--import", "tsx", ...flags],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)))
    child.once("message", (message) =>
      resolve({
        message: message as A,
        ask: <B>(request: string) =>
          new Promise<B>((answer) => {
            child.once("message", (reply) => answer(reply as B))
            child.send(request)
          }),
        stop: () => {
          child.removeAllListeners("exit")
          child.disconnect()
        }
      }))
  })

/** Calls per second, and client CPU time per call in microseconds (this process only: servers run in children). */
export interface Measured {
  readonly rate: number
  readonly cpuMicros: number
}

/** Runs `body` (which returns the number of calls it made) and measures rate and CPU per call. */
export const measured = async (body: () => Promise<number>): Promise<Measured> => {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const count = await body()
  const elapsed = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { rate: (count * 1000) / elapsed, cpuMicros: (used.user + used.system) / count }
}

/** Runs `f` as often as it can until `millis` pass, with `concurrency` workers. */
export const measurePromise = (f: () => Promise<unknown>, concurrency: number, millis: number): Promise<Measured> =>
  measured(async () => {
    let count = 0
    const deadline = performance.now() + millis
    const worker = async () => {
      while (performance.now() < deadline) {
        await f()
        count++
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    return count
  })

/** Bundles `entry` (a .ts file) into one ESM file at `outfile`, as `pnpm orq` does (`scripts/bundle.mjs`). */
export const bundle = async (entry: string, outfile: string): Promise<void> => {
  await esbuild.build({ ...nodeBundle, entryPoints: [entry], outfile })
}
