/**
 * Memory of `IdentityClient.stream` over 100,000 identities served by FakeOrq (seeded directly) in pages of 50.
 * Server and client each run in a fresh child process: the client's RSS must not grow by more than 50 MB.
 */
import type { ServerMessage, ServerOptions } from "./fakeOrqServer.js"
import { fmt, startChild } from "./shared.js"
import type { StreamResult } from "./streamClient.js"

const COUNT = 100_000
const PAGE = 50
const BUDGET_MB = 50

const mb = (bytes: number) => bytes / 1024 / 1024

export const run = async (): Promise<void> => {
  console.log(`\n## Stream ${fmt(COUNT)} identities in pages of ${PAGE} (FakeOrq and the client in child processes)\n`)
  const options: ServerOptions = { seed: COUNT }
  const server = await startChild<ServerMessage>("fakeOrqServer.ts", [JSON.stringify(options)])
  try {
    if (server.message._tag !== "Ready") throw new Error("the server did not start")
    const client = await startChild<StreamResult>("streamClient.ts", [server.message.url, String(PAGE)])
    const { baselineRss, count, cpuSeconds, peakRss, seconds } = client.message
    const growth = mb(peakRss - baselineRss)
    console.log(`identities streamed: ${fmt(count)} (expected ${fmt(COUNT)})`)
    console.log(
      `time: ${seconds.toFixed(1)} s, ${fmt(count / seconds)} identities/s (server-bound: the client used ${
        cpuSeconds.toFixed(1)
      } s of CPU, ${fmt(count / cpuSeconds)} identities per client CPU-second)`
    )
    console.log(
      `client RSS: baseline ${fmt(mb(baselineRss), 1)} MB, peak ${fmt(mb(peakRss), 1)} MB, growth ${
        fmt(growth, 1)
      } MB (budget ${BUDGET_MB} MB: ${growth <= BUDGET_MB && count === COUNT ? "met" : "NOT met"})`
    )
  } finally {
    server.stop()
  }
}
