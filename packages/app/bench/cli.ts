/**
 * CLI start-up: `node --import tsx packages/app/src/bin.ts identities get user_12345` on the embedded local orq
 * (a temporary `ORQ_LOCAL_STATE`), median wall time of several runs, next to bare `node`, `node --import tsx`,
 * and the same CLI bundled into one ESM file by esbuild (what a published CLI would ship).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bundle, fmt, here, median, table } from "./shared.js"

const RUNS = 7

const time = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => {
  const started = performance.now()
  const result = spawnSync(process.execPath, [...args], { env, encoding: "utf8", cwd: here("../../..") })
  const millis = performance.now() - started
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited with ${result.status}: ${result.stderr}`)
  return { millis, stdout: result.stdout }
}

export const run = async (): Promise<void> => {
  console.log(`\n## CLI start-up: orq identities get user_12345 on the embedded local orq (median of ${RUNS} runs)\n`)
  const dir = mkdtempSync(join(tmpdir(), "orq-bench-"))
  // no key and no base URL: the embedded default
  const env: NodeJS.ProcessEnv = { ...process.env, ORQ_LOCAL_STATE: join(dir, "state.json") }
  delete env.ORQ_API_KEY
  delete env.ORQ_BASE_URL
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  const bundled = join(dir, "orq.mjs")
  await bundle(here("../src/bin.ts"), bundled)
  const commands: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["node -e 0", ["-e", "0"]],
    ["node --import tsx -e 0", ["--import", "tsx", "-e", "0"]],
    ["orq identities get user_12345", [
      "--import",
      "tsx",
      "packages/app/src/bin.ts",
      "identities",
      "get",
      "user_12345"
    ]],
    ["same, bundled by esbuild (node orq.mjs …)", [bundled, "identities", "get", "user_12345"]]
  ]
  try {
    // the first run seeds the state file; it is not counted
    const first = time(commands[2][1], env)
    if (!first.stdout.includes("user_12345")) throw new Error(`unexpected output: ${first.stdout}`)
    const results = new Map<string, Array<number>>(commands.map(([name]) => [name, []]))
    for (let i = 0; i < RUNS; i++) {
      for (const [name, args] of commands) results.get(name)?.push(time(args, env).millis)
    }
    const medians = new Map([...results].map(([name, values]) => [name, median(values)]))
    table(
      ["command", "median ms", "min", "max"],
      [...results].map((
        [name, values]
      ) => [name, fmt(median(values)), fmt(Math.min(...values)), fmt(Math.max(...values))])
    )
    const cli = medians.get(commands[2][0]) ?? NaN
    const tsx = medians.get(commands[1][0]) ?? NaN
    const bundle = medians.get(commands[3][0]) ?? NaN
    console.log(`\nthe CLI's own start-up and work, above node + tsx: ${fmt(cli - tsx)} ms; bundled: ${fmt(bundle)} ms`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
