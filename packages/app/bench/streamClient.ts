/**
 * The client side of the stream section, in a fresh process so that its RSS is not the other sections': streams
 * every identity of the FakeOrq at argv[2] in pages of argv[3] and sends the measurements over IPC.
 */
import { IdentityClient } from "@orq-effect/client"
import { Duration, ManagedRuntime, Redacted, Stream } from "effect"
import * as IdentitiesLive from "../src/IdentitiesLive.js"
import { API_KEY } from "./shared.js"

/** What the client measured. */
export interface StreamResult {
  readonly count: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly baselineRss: number
  readonly peakRss: number
  /** The heap in use before the stream and after it, each after a full GC (when run with `--expose-gc`). */
  readonly baselineHeap: number
  readonly finalHeap: number
}

const fullGc = () => {
  const gc: unknown = Reflect.get(globalThis, "gc")
  if (typeof gc === "function") gc()
}

const main = async (baseUrl: string, page: number): Promise<StreamResult> => {
  const runtime = ManagedRuntime.make(
    // what IdentitiesLive builds: the lean undici transport, attempt timeouts enforced by it
    IdentitiesLive.fromConfigUndici({
      apiKey: Redacted.make(API_KEY),
      baseUrl,
      timeout: Duration.seconds(30),
      deadline: Duration.seconds(60),
      maxRetries: 2
    })
  )
  try {
    const client = await runtime.runPromise(IdentityClient)
    // warm up: one page, so that the baseline includes the loaded code and an open connection
    await runtime.runPromise(client.list({ limit: page }))
    fullGc()
    const baselineHeap = process.memoryUsage().heapUsed
    const baselineRss = process.memoryUsage().rss
    let peakRss = baselineRss
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }, 20)
    const cpu = process.cpuUsage()
    const started = performance.now()
    const count = await runtime.runPromise(Stream.runCount(client.stream({ limit: page })))
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    clearInterval(sampler)
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    fullGc()
    const finalHeap = process.memoryUsage().heapUsed
    return {
      count,
      seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      baselineRss,
      peakRss,
      baselineHeap,
      finalHeap
    }
  } finally {
    await runtime.dispose()
  }
}

if (process.send !== undefined) {
  const result = await main(process.argv[2] ?? "", Number(process.argv[3] ?? 50))
  process.send(result, () => process.exit(0))
}
