/**
 * Bulk upsert of 2,000 identities (a quarter of them already there) against FakeOrq limited to 100 requests per
 * second (token bucket, burst 100; in a child process): `IdentitySync.upsert` next to a naive promise pool over
 * the official SDK with its retries on. Each run gets a fresh server.
 */
import { Orq } from "@orq-ai/node-4.9.4"
import { OrqError } from "@orq-ai/node-4.9.4/models/errors/orqerror.js"
import { IdentitySync } from "@orq-effect/client"
import type { CreateIdentity } from "@orq-effect/domain/Identity"
import { Duration, ManagedRuntime, Redacted, Stream } from "effect"
import type * as FakeOrqRateLimit from "../src/FakeOrqRateLimit.js"
import * as IdentitiesLive from "../src/IdentitiesLive.js"
import type { ServerMessage, ServerOptions } from "./fakeOrqServer.js"
import { API_KEY, fmt, startChild, table } from "./shared.js"

const COUNT = 2_000
const EXISTING = 500
const RATE = 100
const BURST = 100
const CONCURRENCY = 8
const PREFIX = "bulk"

const inputs: ReadonlyArray<CreateIdentity> = Array.from({ length: COUNT }, (_, i) => ({
  externalId: `${PREFIX}_${i}`,
  displayName: `Bulk User ${i}`,
  email: `bulk${i}@example.com`,
  tags: ["bulk"],
  metadata: { n: i }
}))

/**
 * Every create is a request, and every existing identity costs two more: after the 409, a GET by `external_id` (to
 * learn the `_id` that addresses it) and the PATCH by `_id`. The SDK pool below skips the GET (it PATCHes by
 * `external_id`, which updates the wrong identity when that external id is also another identity's `_id`), so it
 * needs one request fewer per existing identity, and its best time is shorter.
 */
const NEEDED = COUNT + 2 * EXISTING
const NEEDED_BY_SDK_POOL = COUNT + EXISTING
/** The best possible time for `needed` requests: the burst at once, then the bucket's rate. */
const bestSeconds = (needed: number) => (needed - BURST) / RATE

interface Outcome {
  readonly name: string
  /** The requests its way of upserting needs at least. */
  readonly needed: number
  readonly seconds: number
  readonly created: number
  readonly updated: number
  readonly failed: number
  readonly stats: FakeOrqRateLimit.Stats
}

const withServer = async (
  rateLimit: FakeOrqRateLimit.RateLimitOptions,
  f: (url: string) => Promise<Omit<Outcome, "stats" | "seconds" | "name" | "needed">>,
  name: string,
  needed: number
): Promise<Outcome> => {
  const options: ServerOptions = { seed: EXISTING, prefix: PREFIX, rateLimit }
  const server = await startChild<ServerMessage>("fakeOrqServer.ts", [JSON.stringify(options)])
  try {
    if (server.message._tag !== "Ready") throw new Error("the server did not start")
    // let the bucket be full, as for a client that starts cold
    await new Promise((resolve) => setTimeout(resolve, (BURST / RATE) * 1000))
    const started = performance.now()
    const result = await f(server.message.url)
    const seconds = (performance.now() - started) / 1000
    const reply = await server.ask<ServerMessage>("stats")
    if (reply._tag !== "Stats") throw new Error("no stats")
    return { name, needed, seconds, ...result, stats: reply.stats }
  } finally {
    server.stop()
  }
}

/** Ours: `IdentitySync.upsert` over the client `IdentitiesLive` builds, its retry policy without retries (the limiter owns 429s). */
const ours = (url: string) => {
  const runtime = ManagedRuntime.make(
    IdentitiesLive.fromConfigUndici({
      apiKey: Redacted.make(API_KEY),
      baseUrl: url,
      timeout: Duration.seconds(10),
      deadline: Duration.seconds(60),
      maxRetries: 0
    })
  )
  return runtime.runPromise(IdentitySync.upsert(Stream.fromIterable(inputs), { concurrency: CONCURRENCY }))
    .finally(() => runtime.dispose())
}

/** The official SDK as most code would use it: a pool of workers, create, update on 409, SDK retries on. */
const sdkPool = async (url: string) => {
  const orq = new Orq({
    apiKey: API_KEY,
    serverURL: url,
    retryConfig: {
      strategy: "backoff",
      backoff: { initialInterval: 500, maxInterval: 60_000, exponent: 1.5, maxElapsedTime: 120_000 },
      retryConnectionErrors: true
    }
  })
  let next = 0
  let created = 0
  let updated = 0
  let failed = 0
  const worker = async () => {
    while (next < inputs.length) {
      const input = inputs[next++]
      const { externalId, ...fields } = input
      try {
        await orq.identities.create({
          externalId,
          displayName: fields.displayName ?? null,
          email: fields.email ?? null,
          tags: [...(fields.tags ?? [])],
          metadata: { ...fields.metadata }
        })
        created++
      } catch (error) {
        if (!(error instanceof OrqError && error.statusCode === 409)) {
          failed++
          continue
        }
        try {
          await orq.identities.update({
            id: externalId,
            requestBody: {
              displayName: fields.displayName ?? null,
              email: fields.email ?? null,
              tags: [...(fields.tags ?? [])],
              metadata: { ...fields.metadata }
            }
          })
          updated++
        } catch {
          failed++
        }
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return { created, updated, failed }
}

export const run = async (): Promise<void> => {
  console.log(
    `\n## Bulk upsert: ${
      fmt(COUNT)
    } identities (${EXISTING} already there) against FakeOrq limited to ${RATE}/s, burst ${BURST}, concurrency ${CONCURRENCY}\n`
  )
  console.log(
    `${NEEDED} requests are needed (the ${EXISTING} existing ones cost a create answered 409, a GET and a PATCH): at best ${
      bestSeconds(NEEDED)
    } s; the SDK pool skips the GET: ${NEEDED_BY_SDK_POOL} requests, at best ${bestSeconds(NEEDED_BY_SDK_POOL)} s\n`
  )
  const runs: Array<Outcome> = []
  runs.push(await withServer({ rate: RATE, burst: BURST }, ours, "ours: IdentitySync.upsert", NEEDED))
  runs.push(
    await withServer(
      { rate: RATE, burst: BURST, retryAfterMs: false },
      ours,
      "ours, server sends whole-second Retry-After only",
      NEEDED
    )
  )
  runs.push(
    await withServer({ rate: RATE, burst: BURST }, sdkPool, "@orq-ai/node 4.9.4 pool, retries on", NEEDED_BY_SDK_POOL)
  )
  table(
    ["run", "seconds", "vs best", "created", "updated", "failed", "requests", "429s", "429 share"],
    runs.map((run) => {
      const requests = run.stats.allowed + run.stats.limited
      const share = run.stats.limited / requests
      const efficiency = bestSeconds(run.needed) / run.seconds
      return [
        run.name,
        run.seconds.toFixed(1),
        efficiency.toFixed(3),
        fmt(run.created),
        fmt(run.updated),
        fmt(run.failed),
        fmt(requests),
        fmt(run.stats.limited),
        `${(share * 100).toFixed(1)}%`
      ]
    })
  )
  const [best] = runs
  const share = best.stats.limited / (best.stats.allowed + best.stats.limited)
  console.log(
    `\ntargets (ours): completion >= 0.90 of the best possible: ${(bestSeconds(NEEDED) / best.seconds).toFixed(3)} ${
      bestSeconds(NEEDED) / best.seconds >= 0.9 ? "met" : "NOT met"
    }; 429 share <= 2%: ${(share * 100).toFixed(1)}% ${share <= 0.02 ? "met" : "NOT met"}`
  )
}
