/**
 * An optional rate limit for FakeOrq: a token bucket (e.g. 100 requests per second with a burst of 100) in
 * front of the server's app. A request without a token is answered `429 {"error": …}` with `Retry-After`; every
 * answer carries the `X-RateLimit-*` headers orq documents for its gateway:
 *
 * | header | value |
 * | --- | --- |
 * | `X-RateLimit-Limit` | the bucket's capacity (the burst) |
 * | `X-RateLimit-Remaining` | whole tokens left after this request |
 * | `X-RateLimit-Reset` | Unix time, in seconds, when the bucket is full again |
 * | `Retry-After` (429) | whole seconds until the next token, at least 1 |
 * | `retry-after-ms` (429) | milliseconds until the next token, unless `retryAfterMs: false` |
 *
 * Time is read from `Clock`, so under `TestClock` the bucket refills only when the test moves the clock.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Effect, Ref } from "effect"
import * as FakeOrq from "./FakeOrq.js"

/** The limit. */
export interface RateLimitOptions {
  /** Tokens added per second. */
  readonly rate: number
  /** The bucket's capacity, full at start. Defaults to `rate` rounded up, at least 1. */
  readonly burst?: number | undefined
  /** Send `retry-after-ms` with the exact wait next to `Retry-After`. Defaults to `true`. */
  readonly retryAfterMs?: boolean | undefined
}

/** What the bucket decided for one request. */
export interface Decision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** Unix seconds when the bucket is full again. */
  readonly reset: number
  /** Milliseconds until the next token; 0 when allowed. */
  readonly retryAfterMillis: number
}

/** Requests let through and refused so far. */
export interface Stats {
  readonly allowed: number
  readonly limited: number
}

/** A token bucket. */
export interface Bucket {
  readonly take: Effect.Effect<Decision>
  readonly stats: Effect.Effect<Stats>
}

/** A full bucket of `burst` tokens refilled at `rate` per second. */
export const makeBucket = (options: RateLimitOptions): Effect.Effect<Bucket> =>
  Effect.gen(function*() {
    const rate = options.rate
    // by default a second's worth, and never less than one request
    const capacity = options.burst ?? Math.max(1, Math.ceil(options.rate))
    if (!(rate > 0) || !(capacity >= 1)) return yield* Effect.dieMessage("FakeOrqRateLimit: rate > 0, burst >= 1")
    const state = yield* Ref.make({ tokens: capacity, at: yield* Clock.currentTimeMillis })
    const stats = yield* Ref.make<Stats>({ allowed: 0, limited: 0 })
    const take = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const decision = yield* Ref.modify(state, ({ at, tokens }) => {
        const refilled = Math.min(capacity, tokens + (Math.max(0, now - at) * rate) / 1000)
        const allowed = refilled >= 1
        const left = allowed ? refilled - 1 : refilled
        const decision: Decision = {
          allowed,
          limit: capacity,
          remaining: Math.floor(left),
          reset: Math.ceil((now + ((capacity - left) * 1000) / rate) / 1000),
          retryAfterMillis: allowed ? 0 : Math.ceil(((1 - left) * 1000) / rate)
        }
        return [decision, { tokens: left, at: now }]
      })
      yield* Ref.update(stats, (s) =>
        decision.allowed ? { ...s, allowed: s.allowed + 1 } : { ...s, limited: s.limited + 1 })
      return decision
    })
    return { take, stats: Ref.get(stats) }
  })

const headersOf = (decision: Decision) => ({
  "x-ratelimit-limit": String(decision.limit),
  "x-ratelimit-remaining": String(decision.remaining),
  "x-ratelimit-reset": String(decision.reset)
})

/** Puts `app` behind `bucket`: a request without a token never reaches it. */
export const limit =
  (bucket: Bucket, options: Pick<RateLimitOptions, "retryAfterMs"> = {}) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.flatMap(bucket.take, (decision) => {
      if (decision.allowed) {
        return Effect.map(app, (response) => HttpServerResponse.setHeaders(response, headersOf(decision)))
      }
      const wait = decision.retryAfterMillis
      return Effect.succeed(
        HttpServerResponse.unsafeJson({ error: "Too many requests: rate limit exceeded" }, {
          status: 429,
          headers: {
            ...headersOf(decision),
            "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
            ...(options.retryAfterMs === false ? {} : { "retry-after-ms": String(wait) })
          }
        })
      )
    })

/**
 * Starts rate-limited FakeOrq (on a free loopback port by default) for the life of the scope; returns its base URL
 * and the bucket's counters.
 */
export const start = (options: FakeOrq.Options & FakeOrq.Listen & { readonly rateLimit: RateLimitOptions }) =>
  Effect.gen(function*() {
    const bucket = yield* makeBucket(options.rateLimit)
    const url = yield* FakeOrq.startApp(limit(bucket, options.rateLimit)(FakeOrq.makeApp(options)), options)
    return { url, stats: bucket.stats }
  })
