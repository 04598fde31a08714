/**
 * `pnpm bench`: throughput, Effect steps per call, bundle size, stream memory, CLI start-up and bulk upsert under a rate limit, each on
 * loopback only. Ratios, not absolute numbers, are the claims: the machine is shared.
 *
 *   pnpm bench                                  every section
 *   pnpm bench -- --only throughput,bundle      some sections (throughput, ops, bundle, stream, cli, bulk)
 *   pnpm bench -- --rounds 7 --millis 1500      more or longer throughput rounds
 *   pnpm bench -- --contenders ours,bare        throughput contenders whose name contains one of these
 */
import { cpus, loadavg } from "node:os"
import { parseArgs } from "node:util"

const SECTIONS = ["throughput", "ops", "bundle", "stream", "cli", "bulk"] as const
type Section = (typeof SECTIONS)[number]

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    only: { type: "string" },
    rounds: { type: "string", default: "5" },
    millis: { type: "string", default: "1000" },
    contenders: { type: "string" }
  }
})

const list = (value: string | undefined) =>
  value === undefined ? undefined : value.split(",").map((item) => item.trim()).filter((item) => item.length > 0)

const only = list(values.only)
const unknown = only?.filter((name) => !SECTIONS.some((section) => section === name)) ?? []
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(", ")}; known: ${SECTIONS.join(", ")}`)
  process.exit(2)
}
const chosen: ReadonlyArray<Section> = SECTIONS.filter((section) => only === undefined || only.includes(section))

const positiveInt = (text: string | undefined, fallback: number) => {
  const value = Number(text)
  return Number.isInteger(value) && value > 0 ? value : fallback
}

console.log(`# orq-effect bench, ${new Date().toISOString()}`)
console.log(
  `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average ${
    loadavg().map((l) => l.toFixed(2)).join(" ")
  }`
)

for (const section of chosen) {
  const started = performance.now()
  switch (section) {
    case "throughput": {
      const { run } = await import("./throughput.js")
      await run({
        rounds: positiveInt(values.rounds, 5),
        millis: positiveInt(values.millis, 1000),
        only: list(values.contenders)
      })
      break
    }
    case "ops": {
      const { run } = await import("./ops.js")
      await run()
      break
    }
    case "bundle": {
      const { run } = await import("./bundle.js")
      await run()
      break
    }
    case "stream": {
      const { run } = await import("./stream.js")
      await run()
      break
    }
    case "cli": {
      const { run } = await import("./cli.js")
      await run()
      break
    }
    case "bulk": {
      const { run } = await import("./bulk.js")
      await run()
      break
    }
  }
  console.log(`\n(${section}: ${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
process.exit(0)
