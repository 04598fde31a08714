/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time by package or source file, and the functions
 * with the most self time, skipping start-up (module loading).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx packages/app/bench/bench.ts --only throughput \
 *     --contenders "ours (layerUndici)"
 *   node --import tsx packages/app/bench/profileSummary.ts /tmp/prof/CPU.*.cpuprofile
 */
import { readFileSync } from "node:fs"
import { table } from "./shared.js"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const LOADING = /node:internal\/modules|compileSourceTextModule|wrapSafe|source_map/

const where = (url: string): string => {
  if (url === "") return "(native/V8)"
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url)
  if (modules !== null) return modules[1]
  const workspace = /packages\/([^/]+\/(?:src|bench)\/[^/]+)$/.exec(url)
  if (workspace !== null) return workspace[1]
  return url.startsWith("node:") ? "node core" : url
}

const summarize = (path: string) => {
  const profile: Profile = JSON.parse(readFileSync(path, "utf8"))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const loading = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame !== undefined && (LOADING.test(frame.functionName) || LOADING.test(frame.url))) return true
    }
    return false
  }
  const byPlace = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    const delta = profile.timeDeltas[i] ?? 0
    if (node === undefined || loading(id) || node.callFrame.functionName === "(idle)") return
    total += delta
    const frame = node.callFrame
    const place = frame.functionName === "(garbage collector)" ? "(garbage collector)" : where(frame.url)
    byPlace.set(place, (byPlace.get(place) ?? 0) + delta)
    const file = frame.url.split("/").at(-1) ?? ""
    const fn = `${frame.functionName || "(anonymous)"} ${where(frame.url)} ${file}:${frame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + delta)
  })
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, t]) => [key, `${((t / total) * 100).toFixed(1)}%`])
  console.log(`\n${path}: ${(total / 1e6).toFixed(2)} s busy (start-up and idle excluded)\n`)
  table(["self time by place", "share"], top(byPlace, 15))
  console.log("")
  table(["self time by function", "share"], top(byFunction, 20))
}

for (const path of process.argv.slice(2)) summarize(path)
