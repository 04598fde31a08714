import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { IdentityClient, IdentityStore, layer as clientLayer } from "@orq-effect/client"
import { Duration, Effect, Redacted, TestClock } from "effect"
import * as FakeOrqRateLimit from "../src/FakeOrqRateLimit.js"

const KEY = Redacted.make("sk-test")

/** One GET of the list on `url`: status and the rate-limit headers. */
const probe = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(`${url}/v2/identities`, { headers: { authorization: "Bearer sk-test" } })
    const h = response.headers
    return {
      status: response.status,
      limit: h["x-ratelimit-limit"],
      remaining: h["x-ratelimit-remaining"],
      reset: h["x-ratelimit-reset"],
      retryAfter: h["retry-after"],
      retryAfterMs: h["retry-after-ms"],
      body: response.status === 429 ? yield* response.json : undefined
    }
  })

describe("FakeOrqRateLimit", () => {
  // under TestClock the bucket refills only when the test moves the clock: no timing involved
  it.scoped("a burst passes, the next request is 429 with Retry-After and X-RateLimit-*, a token later it passes", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const { stats, url } = yield* FakeOrqRateLimit.start({ store, apiKey: KEY, rateLimit: { rate: 2, burst: 3 } })
      const allowed = yield* Effect.forEach([1, 2, 3], () => probe(url))
      deepStrictEqual(allowed.map((a) => [a.status, a.limit, a.remaining]), [
        [200, "3", "2"],
        [200, "3", "1"],
        [200, "3", "0"]
      ])
      const refused = yield* probe(url)
      deepStrictEqual(refused, {
        status: 429,
        limit: "3",
        remaining: "0",
        // empty at t = 0, full again after 3 tokens at 2 per second
        reset: "2",
        retryAfter: "1",
        retryAfterMs: "500",
        body: { error: "Too many requests: rate limit exceeded" }
      })
      yield* TestClock.adjust(Duration.millis(499))
      assert.strictEqual((yield* probe(url)).status, 429)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual((yield* probe(url)).status, 200)
      deepStrictEqual(yield* stats, { allowed: 4, limited: 2 })
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("the client reads the 429 as RateLimited with the wait and the limits, and the store is untouched", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const { url } = yield* FakeOrqRateLimit.start({
        store,
        apiKey: KEY,
        rateLimit: { rate: 1, burst: 1, retryAfterMs: false }
      })
      const client = yield* Effect.provide(IdentityClient, clientLayer({ apiKey: KEY, baseUrl: url }))
      yield* client.create({ externalId: "first" })
      const error = yield* Effect.flip(client.create({ externalId: "second" }))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") {
        deepStrictEqual(error.retryAfter, Duration.seconds(1))
        deepStrictEqual([error.limit, error.remaining, error.reset], [1, 0, 1])
      }
      deepStrictEqual((yield* store.all).map((identity) => identity.externalId), ["first"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
