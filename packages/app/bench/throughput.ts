/**
 * Throughput of one `PATCH /v2/identities/{id}` against the same loopback server (a bare `node:http` server in a
 * child process answering a fixed identity), sequential and with 32 calls in flight, in interleaved rounds.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici7 from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Orq } from "@orq-ai/node-4.9.4"
import { IdentityClient, layer as clientLayer } from "@orq-effect/client"
import { Duration, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as Undici6 from "undici"
import * as IdentitiesLive from "../src/IdentitiesLive.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import {
  API_KEY,
  fmt,
  type Measured,
  measured,
  measurePromise,
  median,
  PATCH,
  ratio,
  startChild,
  table
} from "./shared.js"

export interface Options {
  readonly rounds: number
  readonly millis: number
  readonly only?: ReadonlyArray<string> | undefined
}

interface Contender {
  readonly name: string
  /** Calls per second over `millis` with `concurrency` workers, and CPU per call. */
  readonly measure: (concurrency: number, millis: number) => Promise<Measured>
  readonly close: () => Promise<void>
}

const ID = "user_12345"

/** An exporter that drops every span once the SDK has converted it: the cost of spans on, without the memory. */
class DiscardingExporter extends InMemorySpanExporter {
  override export(_spans: Array<ReadableSpan>, done: Parameters<InMemorySpanExporter["export"]>[1]): void {
    super.export([], done)
  }
}

/** Runs `op` as often as it can until `millis` pass, with `concurrency` fibers; returns how many calls ran. */
const loopEffect = <E>(op: Effect.Effect<unknown, E>, concurrency: number, millis: number) =>
  Effect.suspend(() => {
    let count = 0
    const deadline = performance.now() + millis
    const worker: Effect.Effect<void, E> = Effect.suspend(() =>
      performance.now() < deadline
        ? Effect.flatMap(op, () => {
          count++
          return worker
        })
        : Effect.void
    )
    return Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      .pipe(Effect.map(() => count))
  })

const effectContender = <R, E>(
  name: string,
  layer: Layer.Layer<R, E>,
  op: (context: ManagedRuntime.ManagedRuntime<R, E>) => Effect.Effect<unknown, unknown>
): Contender => {
  const runtime = ManagedRuntime.make(layer)
  return {
    name,
    measure: (concurrency, millis) => {
      const call = op(runtime)
      return measured(() => runtime.runPromise(loopEffect(call, concurrency, millis)))
    },
    close: () => runtime.dispose()
  }
}

/** A bare platform request: the same PATCH, JSON serialized per call, the answer parsed as JSON. */
export const barePatch = (baseUrl: string) => (client: HttpClient.HttpClient) =>
  Effect.suspend(() =>
    client.execute(
      HttpClientRequest.patch(`${baseUrl}/v2/identities/${ID}`).pipe(
        HttpClientRequest.bearerToken(API_KEY),
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyText(JSON.stringify(PATCH), "application/json")
      )
    )
  ).pipe(Effect.flatMap((response) => response.json))

const oursConfig = (baseUrl: string) => ({
  apiKey: Redacted.make(API_KEY),
  baseUrl,
  timeout: Duration.seconds(10),
  deadline: Duration.seconds(60),
  maxRetries: 2
})

/** What `IdentitiesLive` builds: the lean undici transport, which enforces the attempt timeouts itself. */
export const oursLayer = (baseUrl: string) => IdentitiesLive.fromConfigUndici(oursConfig(baseUrl))

/** The same client over another transport: the attempt timeouts are Effect's. */
export const oursOver = (baseUrl: string, http: Layer.Layer<HttpClient.HttpClient>) =>
  IdentitiesLive.fromConfig(oursConfig(baseUrl)).pipe(Layer.provide(http))

/** The update every "ours" contender makes. */
export const oursUpdate = (client: IdentityClient["Type"]) =>
  client.update(ID, { displayName: "Bench User", tags: ["bench"], metadata: { plan: "pro" } })

const contenders = (baseUrl: string): ReadonlyArray<Contender> => {
  const url = `${baseUrl}/v2/identities/${ID}`
  const headers = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", accept: "application/json" }
  const orq = new Orq({ apiKey: API_KEY, serverURL: baseUrl })
  const exporter = new DiscardingExporter()
  const withClient =
    <A>(f: (client: IdentityClient["Type"]) => A) => (runtime: ManagedRuntime.ManagedRuntime<IdentityClient, never>) =>
      f(runtime.runSync(IdentityClient))
  return [
    {
      name: "raw undici 7 (request)",
      measure: (concurrency, millis) =>
        measurePromise(
          async () => {
            const response = await Undici7.request(url, { method: "PATCH", headers, body: JSON.stringify(PATCH) })
            return response.body.json()
          },
          concurrency,
          millis
        ),
      close: async () => {}
    },
    {
      name: "raw undici 6 (request)",
      measure: (concurrency, millis) =>
        measurePromise(
          async () => {
            const response = await Undici6.request(url, { method: "PATCH", headers, body: JSON.stringify(PATCH) })
            return response.body.json()
          },
          concurrency,
          millis
        ),
      close: async () => {}
    },
    effectContender(
      "bare HttpClient (layerUndici)",
      NodeHttpClient.layerUndici,
      (runtime) => barePatch(baseUrl)(runtime.runSync(HttpClient.HttpClient))
    ),
    effectContender(
      "bare HttpClient (lean undici)",
      UndiciHttpClient.layer,
      (runtime) => barePatch(baseUrl)(runtime.runSync(HttpClient.HttpClient))
    ),
    effectContender("ours (IdentitiesLive: lean undici)", oursLayer(baseUrl), withClient(oursUpdate)),
    effectContender("ours over layerUndici", oursOver(baseUrl, NodeHttpClient.layerUndici), withClient(oursUpdate)),
    effectContender(
      "ours without RetryPolicy (layerUndici)",
      clientLayer({ apiKey: Redacted.make(API_KEY), baseUrl }).pipe(Layer.provide(NodeHttpClient.layerUndici)),
      withClient(oursUpdate)
    ),
    effectContender(
      "ours + OTel spans",
      Layer.merge(
        oursLayer(baseUrl),
        NodeSdk.layer(() => ({
          resource: { serviceName: "orq-bench" },
          spanProcessor: new SimpleSpanProcessor(exporter)
        }))
      ),
      (runtime) => runtime.runSync(Effect.map(IdentityClient, oursUpdate))
    ),
    {
      name: "@orq-ai/node 4.9.4",
      measure: (concurrency, millis) =>
        measurePromise(
          () =>
            orq.identities.update({
              id: ID,
              requestBody: { displayName: "Bench User", tags: ["bench"], metadata: { plan: "pro" } }
            }),
          concurrency,
          millis
        ),
      close: async () => {}
    }
  ]
}

/** The ratios the project claims, as [label, numerator, denominator, target]. */
const OURS = "ours (IdentitiesLive: lean undici)"
const CLAIMS: ReadonlyArray<readonly [string, string, string, number | undefined]> = [
  ["ours / bare HttpClient, same transport (lean)", OURS, "bare HttpClient (lean undici)", 0.9],
  ["ours / bare HttpClient (layerUndici)", OURS, "bare HttpClient (layerUndici)", undefined],
  ["ours / @orq-ai/node", OURS, "@orq-ai/node 4.9.4", 2],
  ["ours / raw undici 7", OURS, "raw undici 7 (request)", 0.5],
  ["ours / raw undici 6", OURS, "raw undici 6 (request)", undefined],
  ["ours+OTel / ours", "ours + OTel spans", OURS, undefined],
  ["ours over layerUndici / bare (layerUndici)", "ours over layerUndici", "bare HttpClient (layerUndici)", undefined],
  [
    "ours without RetryPolicy / bare (layerUndici)",
    "ours without RetryPolicy (layerUndici)",
    "bare HttpClient (layerUndici)",
    undefined
  ],
  ["lean bare / layerUndici bare", "bare HttpClient (lean undici)", "bare HttpClient (layerUndici)", undefined]
]

export const run = async (options: Options): Promise<void> => {
  const server = await startChild<{ port: number }>("patchServer.ts")
  const baseUrl = `http://127.0.0.1:${server.message.port}`
  const all = contenders(baseUrl)
  const chosen = options.only === undefined ? all : all.filter((c) => options.only?.some((o) => c.name.includes(o)))
  try {
    for (const concurrency of [1, 32]) {
      console.log(
        `\n## PATCH throughput, concurrency ${concurrency} (${options.rounds} interleaved rounds of ${options.millis} ms each)\n`
      )
      // warm-up: JIT, connection pools
      for (const contender of chosen) await contender.measure(concurrency, Math.min(500, options.millis))
      const results = new Map<string, Array<Measured>>(chosen.map((c) => [c.name, []]))
      for (let round = 0; round < options.rounds; round++) {
        // rotate the order each round so no contender always runs first or last
        const order = chosen.map((_, i) => chosen[(i + round) % chosen.length])
        for (const contender of order) {
          results.get(contender.name)?.push(await contender.measure(concurrency, options.millis))
        }
      }
      table(
        ["contender", "median req/s", "min", "max", "client CPU µs/req (median)"],
        chosen.map((c) => {
          const values = (results.get(c.name) ?? []).map((m) => m.rate)
          const cpu = (results.get(c.name) ?? []).map((m) => m.cpuMicros)
          return [c.name, fmt(median(values)), fmt(Math.min(...values)), fmt(Math.max(...values)), fmt(median(cpu))]
        })
      )
      console.log("")
      const rows: Array<Array<string>> = []
      for (const [label, a, b, target] of CLAIMS) {
        const as = results.get(a)
        const bs = results.get(b)
        if (as === undefined || bs === undefined) continue
        // ratios per round (measured close in time), then their median
        const perRound = as.map((value, i) => value.rate / bs[i].rate)
        const value = median(perRound)
        // the same comparison in CPU per call (less sensitive to a loaded machine): b's CPU over a's
        const cpu = median(bs.map((m) => m.cpuMicros)) / median(as.map((m) => m.cpuMicros))
        rows.push([
          label,
          ratio(value),
          `${ratio(Math.min(...perRound))}..${ratio(Math.max(...perRound))}`,
          target === undefined ? "" : `${ratio(target)} ${value >= target ? "met" : "NOT met"}`,
          ratio(cpu)
        ])
      }
      table(["ratio of req/s (median of per-round ratios)", "value", "range", "target", "by CPU/req"], rows)
    }
  } finally {
    for (const contender of all) await contender.close()
    server.stop()
  }
}
