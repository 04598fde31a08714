import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import * as IdentityClient from "@orq-effect/client/IdentityClient"
import type { IdentityError } from "@orq-effect/domain/IdentityError"
import {
  Chunk,
  Clock,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  FiberRef,
  HashMap,
  Logger,
  LogLevel,
  Option,
  Random,
  Redacted,
  Schedule,
  TestClock
} from "effect"
import * as RequestTimeout from "../src/RequestTimeout.js"
import * as RetryPolicy from "../src/RetryPolicy.js"

// ---------------------------------------------------------------------------------------------------------------------
// a scripted HttpClient: answers from a queue, records every attempt with the TestClock time it happened at
// ---------------------------------------------------------------------------------------------------------------------

type Step =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly fail: "ECONNREFUSED" | "ECONNRESET" }
  /** never answers: only a timeout or an interruption ends it */
  | { readonly hang: true }
  /** headers, then a body that breaks off (`"break"`) or never ends (`"stall"`) */
  | { readonly status: number; readonly body: "break" | "stall" }

interface Attempt {
  readonly method: string
  readonly path: string
  readonly at: number
  readonly signal: AbortSignal
  readonly authorization: string | undefined
}

const BASE_URL = "http://127.0.0.1:9"
const KEY = "sk-retry-test"

const identityJson = (externalId: string, id = "identity_01") =>
  JSON.stringify({ _id: id, external_id: externalId, display_name: null, email: null, tags: [], metadata: {} })

const ok = (body = identityJson("ext-1")): Step => ({ status: 200, body })

const respond = (request: HttpClientRequest.HttpClientRequest, step: Step) => {
  if ("fail" in step) {
    const cause = Object.assign(new Error(`connect ${step.fail}`), { code: step.fail })
    return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
  }
  if ("hang" in step) return Effect.never
  const body = step.body === "break"
    ? new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{\"_id\":"))
        controller.error(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))
      }
    })
    : step.body === "stall"
    ? new ReadableStream<Uint8Array>({ start: () => {} })
    : step.status === 204
    ? null
    : step.body ?? ""
  const headers = { "content-type": "application/json", ...("headers" in step ? step.headers : {}) }
  return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { status: step.status, headers })))
}

/** A fake network answering `steps` in order (then 500s), and the attempts it saw. */
const scripted = (steps: ReadonlyArray<Step>) => {
  const queue = [...steps]
  const attempts: Array<Attempt> = []
  const client = HttpClient.make((request, url, signal) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) => {
      const authorization = request.headers.authorization
      attempts.push({ method: request.method, path: url.pathname, at, signal, authorization })
      return respond(request, queue.shift() ?? { status: 500, body: "{\"message\":\"script exhausted\"}" })
    })
  )
  return { client, attempts }
}

const defaults: RetryPolicy.Options = {
  maxRetries: 2,
  timeout: Duration.seconds(2),
  deadline: Duration.seconds(60),
  baseDelay: Duration.millis(250),
  maxDelay: Duration.seconds(8)
}

/** The real `IdentityClient` over the scripted network, with the policy under test. */
const clientOver = (steps: ReadonlyArray<Step>, options: Partial<RetryPolicy.Options> = {}) => {
  const fake = scripted(steps)
  const make = IdentityClient.make({
    apiKey: Redacted.make(KEY),
    baseUrl: BASE_URL,
    transformClient: RetryPolicy.transformClient({ ...defaults, ...options })
  }).pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
  return { make, attempts: fake.attempts }
}

/** Runs `call` in a fiber, moves the TestClock by `by`, and returns how it ended. */
const settle = <A>(call: Effect.Effect<A, IdentityError>, by: Duration.DurationInput = Duration.minutes(10)) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.either(call))
    yield* TestClock.adjust(by)
    const exit = yield* Fiber.poll(fiber)
    assert.isTrue(Option.isSome(exit), "the call did not finish after the clock moved")
    return yield* Fiber.join(fiber)
  })

const errorOf = <A>(result: Either.Either<A, IdentityError>): IdentityError =>
  Either.match(result, { onLeft: (error) => error, onRight: () => assert.fail("expected a failure") })

const gaps = (attempts: ReadonlyArray<Attempt>) => attempts.slice(1).map((attempt, i) => attempt.at - attempts[i].at)

// ---------------------------------------------------------------------------------------------------------------------

describe("RetryPolicy", () => {
  describe("which answers are retried", () => {
    for (const status of [408, 429, 500, 502, 503, 504]) {
      it.effect(`GET: ${status} is retried up to maxRetries times`, () =>
        Effect.gen(function*() {
          const { attempts, make } = clientOver([{ status }, { status }, { status }, ok()])
          const client = yield* make
          const error = errorOf(yield* settle(client.retrieve("ext-1")))
          assert.strictEqual(attempts.length, 3)
          assert.strictEqual(error._tag, status === 429 ? "RateLimited" : "ServerError")
        }))
    }

    it.effect("GET: a transient answer then 200 succeeds on the retry", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 503 }, { status: 502 }, ok()])
        const client = yield* make
        const identity = yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
        assert.strictEqual(identity.externalId, "ext-1")
        assert.strictEqual(attempts.length, 3)
      }))

    it.effect("GET: transport failures are retried", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ fail: "ECONNRESET" }, { fail: "ECONNREFUSED" }, ok()])
        const client = yield* make
        yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
        assert.strictEqual(attempts.length, 3)
      }))

    it.effect("GET: a body that breaks off mid-way is retried", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 200, body: "break" }, ok()])
        const client = yield* make
        const identity = yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
        assert.strictEqual(identity.id, "identity_01")
        assert.strictEqual(attempts.length, 2)
      }))

    it.effect("PATCH and DELETE are retried like GET", () =>
      Effect.gen(function*() {
        const patch = clientOver([{ status: 503 }, { status: 500 }, { status: 504 }])
        const update = errorOf(yield* settle((yield* patch.make).update("ext-1", { displayName: "X" })))
        assert.strictEqual(update._tag, "ServerError")
        deepStrictEqual(patch.attempts.map((a) => a.method), ["PATCH", "PATCH", "PATCH"])

        const del = clientOver([{ status: 502 }, { status: 204 }])
        yield* settle((yield* del.make).delete("ext-1")).pipe(Effect.flatten)
        deepStrictEqual(del.attempts.map((a) => a.method), ["DELETE", "DELETE"])
      }))

    it.effect("maxRetries bounds the attempts: 0 means one attempt", () =>
      Effect.gen(function*() {
        const none = clientOver([{ status: 503 }, ok()], { maxRetries: 0 })
        errorOf(yield* settle((yield* none.make).retrieve("ext-1")))
        assert.strictEqual(none.attempts.length, 1)
        const five = clientOver([], { maxRetries: 5 })
        errorOf(yield* settle((yield* five.make).retrieve("ext-1")))
        assert.strictEqual(five.attempts.length, 6)
      }))

    const final = [
      [400, "InvalidRequest"],
      [401, "Unauthorized"],
      [404, "NotFound"],
      [409, "Conflict"],
      [422, "InvalidRequest"]
    ] as const
    for (const [status, tag] of final) {
      it.effect(`${status} is answered at once as ${tag}, for every method`, () =>
        Effect.gen(function*() {
          const get = clientOver([{ status, body: "{\"error\":\"no\"}" }, ok()])
          assert.strictEqual(errorOf(yield* settle((yield* get.make).retrieve("ext-1")))._tag, tag)
          const patch = clientOver([{ status, body: "{\"message\":\"no\"}" }, ok()])
          assert.strictEqual(errorOf(yield* settle((yield* patch.make).update("ext-1", { tags: [] })))._tag, tag)
          const del = clientOver([{ status, body: "{\"error\":\"no\"}" }, { status: 204 }])
          assert.strictEqual(errorOf(yield* settle((yield* del.make).delete("ext-1")))._tag, tag)
          const post = clientOver([{ status, body: "{\"error\":\"no\"}" }, { status: 201, body: identityJson("x") }])
          assert.strictEqual(errorOf(yield* settle((yield* post.make).create({ externalId: "ext-1" })))._tag, tag)
          deepStrictEqual(
            [get, patch, del, post].map((fake) => fake.attempts.length),
            [1, 1, 1, 1]
          )
        }))
    }
  })

  describe("backoff", () => {
    it.effect("waits are exponential steps from baseDelay, capped at maxDelay, each jittered over [0, step]", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([], {
          maxRetries: 6,
          baseDelay: Duration.millis(100),
          maxDelay: Duration.millis(400)
        })
        const client = yield* make
        errorOf(yield* settle(client.retrieve("ext-1")).pipe(Effect.withRandom(Random.make("backoff-seed"))))
        const waits = gaps(attempts)
        const steps = [100, 200, 400, 400, 400, 400]
        assert.strictEqual(waits.length, steps.length)
        waits.forEach((wait, i) => assert.isTrue(wait >= 0 && wait <= steps[i], `wait ${i} = ${wait}ms`))
        // jittered, not the bare steps
        assert.isTrue(waits.some((wait, i) => wait < steps[i]))
      }))

    it.effect("full jitter: over many draws the waits spread over the whole of [0, cap]", () =>
      Effect.gen(function*() {
        const cap = 1000
        const delays = yield* Schedule.run(
          Schedule.delays(RetryPolicy.backoff({ baseDelay: Duration.millis(cap), maxDelay: Duration.millis(cap) })),
          0,
          Array.from({ length: 500 }, () => undefined)
        ).pipe(Effect.withRandom(Random.make(42)))
        const millis = Chunk.toReadonlyArray(delays).map(Duration.toMillis)
        assert.isTrue(millis.every((ms) => ms >= 0 && ms <= cap))
        assert.isTrue(Math.min(...millis) < cap * 0.05 && Math.max(...millis) > cap * 0.95)
        const mean = millis.reduce((a, b) => a + b, 0) / millis.length
        assert.isTrue(mean > cap * 0.4 && mean < cap * 0.6, `mean ${mean}`)
      }))

    it.effect("each retry is logged at debug, once, with its wait in whole milliseconds; a call not retried logs none", () =>
      Effect.gen(function*() {
        const logged = (maxRetries: number) =>
          Effect.gen(function*() {
            const lines: Array<string> = []
            const logger = Logger.make(({ annotations, message }) => {
              const wait = HashMap.get(annotations, "wait")
              lines.push(`${String(message)} ${Option.getOrElse(wait, () => "")}`)
            })
            const { attempts, make } = clientOver([{ status: 503 }, { status: 503 }, { status: 503 }], { maxRetries })
            const client = yield* make
            errorOf(
              yield* settle(client.retrieve("ext-1")).pipe(
                Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
                Logger.withMinimumLogLevel(LogLevel.Debug),
                Effect.withRandom(Random.make("logged"))
              )
            )
            return { attempts: attempts.length, lines: lines.filter((line) => line.includes("orq: retrying")) }
          })
        const none = yield* logged(0)
        deepStrictEqual(none, { attempts: 1, lines: [] })
        const two = yield* logged(2)
        assert.strictEqual(two.attempts, 3)
        assert.strictEqual(two.lines.length, 2)
        for (const line of two.lines) assert.match(line, /^orq: retrying (\d+ms|0)$/)
      }))

    it.effect("the cap holds however many retries", () =>
      Effect.gen(function*() {
        const delays = yield* Schedule.run(
          Schedule.delays(RetryPolicy.backoff({ baseDelay: Duration.millis(10), maxDelay: Duration.millis(50) })),
          0,
          Array.from({ length: 60 }, () => undefined)
        ).pipe(Effect.withRandom(Random.make("cap")))
        assert.isTrue(Chunk.every(delays, (delay) => Duration.toMillis(delay) <= 50))
      }))
  })

  describe("Retry-After", () => {
    const cases: ReadonlyArray<readonly [string, Record<string, string>, number]> = [
      ["integer seconds", { "retry-after": "3" }, 3000],
      ["fractional seconds", { "retry-after": "1.5" }, 1500],
      ["an HTTP date", { "retry-after": new Date(7000).toUTCString() }, 7000],
      ["retry-after-ms", { "retry-after-ms": "250" }, 250],
      ["retry-after-ms over Retry-After", { "retry-after-ms": "40", "retry-after": "9" }, 40]
    ]
    for (const [name, headers, wait] of cases) {
      for (const status of [429, 503]) {
        it.effect(`${status} with ${name}: the next attempt happens exactly then`, () =>
          Effect.gen(function*() {
            const { attempts, make } = clientOver([{ status, headers }, ok()])
            const client = yield* make
            yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
            deepStrictEqual(attempts.map((attempt) => attempt.at), [0, wait])
          }))
      }
    }

    it.effect("a Retry-After shorter than the backoff replaces it", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 503, headers: { "retry-after": "1" } }, ok()], {
          baseDelay: Duration.seconds(30),
          maxDelay: Duration.seconds(30)
        })
        const client = yield* make
        const fiber = yield* Effect.fork(client.retrieve("ext-1"))
        yield* TestClock.adjust(Duration.seconds(1))
        yield* Fiber.join(fiber)
        deepStrictEqual(attempts.map((attempt) => attempt.at), [0, 1000])
      }))

    it.effect("a long Retry-After is honoured as sent, not clamped", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 429, headers: { "retry-after": "600" } }, ok()], {
          deadline: Duration.minutes(15)
        })
        const client = yield* make
        yield* settle(client.retrieve("ext-1"), Duration.minutes(20)).pipe(Effect.flatten)
        deepStrictEqual(attempts.map((attempt) => attempt.at), [0, 600_000])
      }))

    it.effect("a wait past the deadline fails at once with RateLimited carrying it; the clock does not move", () =>
      Effect.gen(function*() {
        const headers = { "retry-after": "30", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0" }
        const { attempts, make } = clientOver([{ status: 429, headers }, ok()], { deadline: Duration.seconds(10) })
        const client = yield* make
        const fiber = yield* Effect.fork(Effect.either(client.retrieve("ext-1")))
        yield* TestClock.adjust(Duration.zero)
        const exit = yield* Fiber.poll(fiber)
        assert.isTrue(Option.isSome(exit), "the call is sleeping instead of failing")
        const error = errorOf(yield* Fiber.join(fiber))
        assert.strictEqual(error._tag, "RateLimited")
        if (error._tag === "RateLimited") {
          deepStrictEqual(error.retryAfter, Duration.seconds(30))
          assert.strictEqual(error.limit, 100)
          assert.strictEqual(error.remaining, 0)
        }
        assert.strictEqual(attempts.length, 1)
        assert.strictEqual(yield* Clock.currentTimeMillis, 0)
      }))

    it.effect("a later Retry-After past the deadline stops the retries when it is answered", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([
          { status: 429, headers: { "retry-after": "4" } },
          { status: 429, headers: { "retry-after": "8" } },
          ok()
        ], { deadline: Duration.seconds(10), maxRetries: 5 })
        const client = yield* make
        const fiber = yield* Effect.fork(Effect.either(client.retrieve("ext-1")))
        yield* TestClock.adjust(Duration.seconds(4))
        const error = errorOf(yield* Fiber.join(fiber))
        assert.strictEqual(error._tag, "RateLimited")
        if (error._tag === "RateLimited") deepStrictEqual(error.retryAfter, Duration.seconds(8))
        deepStrictEqual(attempts.map((attempt) => attempt.at), [0, 4000])
      }))
  })

  describe("timeouts and the deadline", () => {
    /**
     * A client over a transport that records the limit each request is handed (`RequestTimeout.current`) and answers
     * `step`, under a policy told that the transport enforces `transportLimit` itself.
     */
    const overLimitedTransport = (step: Step, options: Partial<RetryPolicy.Options>) =>
      Effect.gen(function*() {
        const handed: Array<Option.Option<number>> = []
        const transport = HttpClient.make((request) =>
          Effect.flatMap(FiberRef.get(RequestTimeout.current), (limit) => {
            handed.push(Option.map(limit, (l) => l.millis))
            return respond(request, step)
          })
        )
        const client = yield* IdentityClient.make({
          apiKey: Redacted.make(KEY),
          baseUrl: BASE_URL,
          transformClient: RetryPolicy.transformClient({ ...defaults, ...options })
        }).pipe(Effect.provideService(HttpClient.HttpClient, transport))
        return { client, handed }
      })

    it.effect("over a transport with the attempt's limit as its own, an attempt is left to it: nothing handed, no timer", () =>
      Effect.gen(function*() {
        const { client, handed } = yield* overLimitedTransport({ hang: true }, {
          timeout: Duration.seconds(2),
          transportLimit: RetryPolicy.attemptLimit({ timeout: Duration.seconds(2) })
        })
        const call = yield* Effect.fork(client.retrieve("ext-1"))
        yield* TestClock.adjust(Duration.minutes(10))
        // the policy trusts the transport with its own limit: no timer of the policy's ended the hanging attempt
        assert.isTrue(Option.isNone(yield* Fiber.poll(call)))
        deepStrictEqual(handed, [Option.none()])
        yield* Fiber.interrupt(call)
      }))

    it.effect("over a transport with a longer limit of its own, every attempt is handed the attempt's limit", () =>
      Effect.gen(function*() {
        const { client, handed } = yield* overLimitedTransport({ status: 503 }, {
          timeout: Duration.seconds(2),
          maxRetries: 1,
          transportLimit: RetryPolicy.attemptLimit({ timeout: Duration.seconds(30) })
        })
        yield* settle(client.retrieve("ext-1"))
        deepStrictEqual(handed, [Option.some(2000), Option.some(2000)])
      }))

    it.effect("over a transport with a limit of its own, less than an attempt left of the deadline is handed to it", () =>
      Effect.gen(function*() {
        const { client, handed } = yield* overLimitedTransport(ok(), {
          timeout: Duration.seconds(10),
          deadline: Duration.seconds(3),
          transportLimit: RetryPolicy.attemptLimit({ timeout: Duration.seconds(10) })
        })
        yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
        deepStrictEqual(handed, [Option.some(3000)])
      }))

    it.effect("a shorter limit the caller's fiber already has is kept when the policy hands one", () =>
      Effect.gen(function*() {
        const { client, handed } = yield* overLimitedTransport(ok(), {
          timeout: Duration.seconds(10),
          deadline: Duration.seconds(3),
          transportLimit: RetryPolicy.attemptLimit({ timeout: Duration.seconds(10) })
        })
        const callersLimit = Option.some({ millis: 1000, description: "the caller's limit" })
        yield* settle(Effect.locally(client.retrieve("ext-1"), RequestTimeout.current, callersLimit))
        deepStrictEqual(handed, [Option.some(1000)])
      }))

    it.effect("attemptLimit is the whole attempt's timeout, said as the transport will report it", () =>
      Effect.sync(() =>
        deepStrictEqual(RetryPolicy.attemptLimit({ timeout: Duration.millis(1500) }), {
          millis: 1500,
          description: "no answer within 1s 500ms"
        })
      ))

    it.effect("an attempt that does not answer within the timeout is aborted and retried", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ hang: true }, ok()], { timeout: Duration.seconds(2) })
        const client = yield* make
        const identity = yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
        assert.strictEqual(identity.externalId, "ext-1")
        assert.strictEqual(attempts.length, 2)
        assert.isTrue(attempts[0].signal.aborted)
        assert.isTrue(attempts[1].at >= 2000 && attempts[1].at <= 2250, `second attempt at ${attempts[1].at}`)
      }))

    it.effect("the per-attempt timeout covers the body: a stalled body is a timeout", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 200, body: "stall" }, ok()], { timeout: Duration.seconds(2) })
        const client = yield* make
        yield* settle(client.retrieve("ext-1")).pipe(Effect.flatten)
        assert.strictEqual(attempts.length, 2)
        assert.isTrue(attempts[1].at >= 2000)
      }))

    it.effect("timeouts on every attempt end as TransportError Timeout", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ hang: true }, { hang: true }, { hang: true }], {
          timeout: Duration.seconds(1)
        })
        const client = yield* make
        const error = errorOf(yield* settle(client.retrieve("ext-1")))
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(attempts.length, 3)
        assert.isTrue(attempts.every((attempt) => attempt.signal.aborted))
      }))

    it.effect("the deadline spans attempts and waits: it cuts the call at exactly that time", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver(
          Array.from({ length: 10 }, () => ({ hang: true as const })),
          { timeout: Duration.seconds(2), deadline: Duration.seconds(5), maxRetries: 9 }
        )
        const client = yield* make
        const error = errorOf(yield* settle(client.retrieve("ext-1")))
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") {
          assert.strictEqual(error.reason, "Timeout")
          assert.include(error.message, "deadline")
        }
        assert.isTrue(attempts.length >= 3 && attempts.length < 10)
        assert.isTrue(attempts.every((attempt) => attempt.signal.aborted), "an attempt was left running")
        assert.isTrue(attempts.every((attempt) => attempt.at < 5000))
      }))

    it.effect("interrupting the caller aborts the request in flight", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ hang: true }])
        const client = yield* make
        const fiber = yield* Effect.fork(client.retrieve("ext-1"))
        yield* TestClock.adjust(Duration.millis(100))
        assert.strictEqual(attempts.length, 1)
        assert.isFalse(attempts[0].signal.aborted)
        const exit = yield* Fiber.interrupt(fiber)
        assert.isTrue(Exit.isInterrupted(exit))
        assert.isTrue(attempts[0].signal.aborted)
        yield* TestClock.adjust(Duration.minutes(5))
        assert.strictEqual(attempts.length, 1)
      }))
  })

  describe("create is never duplicated", () => {
    const created = { status: 201, body: identityJson("ext-1", "identity_new") }
    const existing = { status: 200, body: identityJson("ext-1", "identity_old") }

    it.effect("connection refused, then 201: retried, created once", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ fail: "ECONNREFUSED" }, created])
        const identity = yield* settle((yield* make).create({ externalId: "ext-1" })).pipe(Effect.flatten)
        assert.strictEqual(identity.id, "identity_new")
        deepStrictEqual(attempts.map((a) => a.method), ["POST", "POST"])
      }))

    for (const status of [429, 503]) {
      it.effect(`${status}, then 201: retried`, () =>
        Effect.gen(function*() {
          const { attempts, make } = clientOver([{ status }, created])
          yield* settle((yield* make).create({ externalId: "ext-1" })).pipe(Effect.flatten)
          deepStrictEqual(attempts.map((a) => a.method), ["POST", "POST"])
        }))

      it.effect(`${status}, then 409: a real Conflict (the first attempt certainly did not create it)`, () =>
        Effect.gen(function*() {
          const { attempts, make } = clientOver([{ status }, { status: 409, body: "{\"error\":\"taken\"}" }, existing])
          const error = errorOf(yield* settle((yield* make).create({ externalId: "ext-1" })))
          assert.strictEqual(error._tag, "Conflict")
          deepStrictEqual(attempts.map((a) => a.method), ["POST", "POST"])
        }))
    }

    const ambiguous: ReadonlyArray<readonly [string, Step]> = [
      ["500", { status: 500 }],
      ["502", { status: 502 }],
      ["504", { status: 504 }],
      ["a reset", { fail: "ECONNRESET" }],
      ["a timeout", { hang: true }],
      ["a body cut short", { status: 201, body: "break" }]
    ]
    for (const [name, first] of ambiguous) {
      it.effect(`${name}, then 409: the identity the first attempt created, fetched by external_id`, () =>
        Effect.gen(function*() {
          const { attempts, make } = clientOver([first, { status: 409, body: "{\"error\":\"taken\"}" }, {
            status: 200,
            body: identityJson("ext/1 é", "identity_old")
          }])
          const identity = yield* settle((yield* make).create({ externalId: "ext/1 é" })).pipe(Effect.flatten)
          assert.strictEqual(identity.id, "identity_old")
          deepStrictEqual(
            attempts.map((a) => `${a.method} ${a.path}`),
            ["POST /v2/identities", "POST /v2/identities", `GET /v2/identities/${encodeURIComponent("ext/1 é")}`]
          )
          // the lookup goes through the same client: authenticated like the create
          assert.strictEqual(attempts[2].authorization, `Bearer ${KEY}`)
        }))
    }

    it.effect("500, then 201: created once", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 500 }, created])
        const identity = yield* settle((yield* make).create({ externalId: "ext-1" })).pipe(Effect.flatten)
        assert.strictEqual(identity.id, "identity_new")
        assert.strictEqual(attempts.length, 2)
      }))

    it.effect("the lookup after a 409 is retried like any GET", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 502 }, { status: 409 }, { status: 503 }, existing], {
          maxRetries: 3
        })
        const identity = yield* settle((yield* make).create({ externalId: "ext-1" })).pipe(Effect.flatten)
        assert.strictEqual(identity.id, "identity_old")
        deepStrictEqual(attempts.map((a) => a.method), ["POST", "POST", "GET", "GET"])
      }))

    it.effect("500, then 409, then the lookup finds another identity (one whose _id is that external_id): Conflict", () =>
      Effect.gen(function*() {
        for (
          const body of [
            identityJson("someone-else", "ext-1"),
            JSON.stringify({ identity: JSON.parse(identityJson("x", "ext-1")) })
          ]
        ) {
          const { attempts, make } = clientOver([{ status: 500 }, { status: 409 }, { status: 200, body }])
          assert.strictEqual(errorOf(yield* settle((yield* make).create({ externalId: "ext-1" })))._tag, "Conflict")
          deepStrictEqual(attempts.map((a) => a.method), ["POST", "POST", "GET"])
        }
      }))

    it.effect("500, then 409, then a lookup answer that cannot be read: MalformedResponse, not a Conflict", () =>
      Effect.gen(function*() {
        // the first attempt may well have created it: a Conflict would say it did not
        const { make } = clientOver([{ status: 500 }, { status: 409 }, { status: 200, body: "{\"_id\":" }])
        const error = errorOf(yield* settle((yield* make).create({ externalId: "ext-1" })))
        assert.strictEqual(error._tag, "MalformedResponse")
      }))

    it.effect("the lookup's answer may be of the current generation, wrapped in { identity }", () =>
      Effect.gen(function*() {
        const body = JSON.stringify({ identity: JSON.parse(identityJson("ext-1", "identity_old")) })
        const { make } = clientOver([{ status: 500 }, { status: 409 }, { status: 200, body }])
        const identity = yield* settle((yield* make).create({ externalId: "ext-1" })).pipe(Effect.flatten)
        assert.strictEqual(identity.id, "identity_old")
      }))

    it.effect("500, then 409, then the identity is gone: Conflict", () =>
      Effect.gen(function*() {
        const { make } = clientOver([{ status: 500 }, { status: 409 }, { status: 404, body: "{\"error\":\"gone\"}" }])
        assert.strictEqual(errorOf(yield* settle((yield* make).create({ externalId: "ext-1" })))._tag, "Conflict")
      }))

    it.effect("a 409 at the first attempt is a Conflict, with no lookup", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 409 }, existing])
        const error = errorOf(yield* settle((yield* make).create({ externalId: "ext-1" })))
        assert.strictEqual(error._tag, "Conflict")
        assert.strictEqual(attempts.length, 1)
      }))

    it.effect("400 is not retried", () =>
      Effect.gen(function*() {
        const { attempts, make } = clientOver([{ status: 400, body: "{\"message\":\"bad\"}" }, created])
        assert.strictEqual(errorOf(yield* settle((yield* make).create({ externalId: "ext-1" })))._tag, "InvalidRequest")
        assert.strictEqual(attempts.length, 1)
      }))

    it.effect("a create whose external_id cannot name an identity in a path is retried like any POST, no lookup", () =>
      Effect.gen(function*() {
        // IdentityClient refuses such an id; the policy must not trust that every caller does
        for (const externalId of ["ext-\uD800", ".."]) {
          const fake = scripted([{ status: 500 }, { status: 409 }, existing])
          const client = RetryPolicy.transformClient(defaults)(fake.client)
          const request = HttpClientRequest.post(`${BASE_URL}/v2/identities`).pipe(
            HttpClientRequest.bodyUnsafeJson({ external_id: externalId })
          )
          const fiber = yield* Effect.fork(client.execute(request))
          yield* TestClock.adjust(Duration.minutes(1))
          const error = Either.getLeft(yield* Effect.either(Fiber.join(fiber)))
          // a 500 leaves it unknown whether the create took effect: without a lookup, it is not retried
          deepStrictEqual(
            Option.map(error, (e) => e._tag === "ResponseError" && e.response.status),
            Option.some(500)
          )
          deepStrictEqual(fake.attempts.map((a) => a.method), ["POST"])
        }
      }))

    it.effect("another POST is retried only when it certainly did not take effect", () =>
      Effect.gen(function*() {
        const run = (steps: ReadonlyArray<Step>) =>
          Effect.gen(function*() {
            const fake = scripted(steps)
            const client = RetryPolicy.transformClient(defaults)(fake.client)
            const fiber = yield* Effect.fork(client.execute(HttpClientRequest.post(`${BASE_URL}/v2/other`)))
            yield* TestClock.adjust(Duration.minutes(1))
            const response = yield* Fiber.join(fiber).pipe(Effect.either)
            return { attempts: fake.attempts.length, response }
          })
        assert.strictEqual((yield* run([{ status: 500 }, { status: 200 }])).attempts, 1)
        assert.strictEqual((yield* run([{ fail: "ECONNRESET" }, { status: 200 }])).attempts, 1)
        assert.strictEqual((yield* run([{ status: 503 }, { status: 200 }])).attempts, 2)
        assert.strictEqual((yield* run([{ fail: "ECONNREFUSED" }, { status: 200 }])).attempts, 2)
      }))
  })
})
