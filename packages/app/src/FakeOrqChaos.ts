/**
 * FakeOrq with faults: a middleware around `FakeOrq.makeApp` that, for a configurable share of requests, answers
 * the way a real network and a real server sometimes do. Faults are drawn from a seeded random generator.
 *
 * | fault | when | what the client sees |
 * | --- | --- | --- |
 * | `status500` / `status502` / `status504` | before or after the change (half each) | that status, JSON or HTML |
 * | `status503` | before the change | 503, JSON or HTML |
 * | `rateLimited` | before the change | 429 with `Retry-After` (seconds, fraction, date) or `retry-after-ms` |
 * | `resetBefore` | before the change | the connection reset, no answer |
 * | `resetAfter` | after the change | the connection reset, no answer |
 * | `cutBody` | after the change | the status and headers, half the body, then a reset |
 * | `slow` | after the change | the answer, `slowBy` late (longer than the client's timeout) |
 * | `truncated` | after the change | the answer's status with half its JSON |
 * | `html` | after the change | the answer's status with an HTML page |
 * | `wrongShape` | after the change | the answer's status with JSON of the wrong shape |
 *
 * Faults that fire after the store applied the change are what make a create, update or delete ambiguous to the
 * client. No fault ever answers 2xx for a change that was not applied, so a success the client sees is real.
 *
 * @since 0.1.0
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Duration, Effect, Random, Ref } from "effect"
import * as FakeOrq from "./FakeOrq.js"

/** The faults FakeOrqChaos can inject. */
export const FAULTS = [
  "status500",
  "status502",
  "status503",
  "status504",
  "rateLimited",
  "resetBefore",
  "resetAfter",
  "cutBody",
  "slow",
  "truncated",
  "html",
  "wrongShape"
] as const

/** One fault. */
export type Fault = typeof FAULTS[number]

/** How often each fault fires, and how. */
export interface ChaosOptions {
  /** Seed of the generator that picks the faults. */
  readonly seed: string | number
  /** The probability of each fault per request (their sum at most 1); absent faults never fire. */
  readonly rates: Partial<Record<Fault, number>>
  /** How late a `slow` answer comes. Defaults to 1 s. */
  readonly slowBy?: Duration.DurationInput | undefined
  /** The wait a 429 asks for. Defaults to 20 ms. */
  readonly retryAfter?: Duration.DurationInput | undefined
}

/** The same probability `rate` for every fault. */
export const uniform = (rate: number): Record<Fault, number> =>
  Object.fromEntries(FAULTS.map((fault) => [fault, rate])) as Record<Fault, number>

/** How many times each fault fired, and how many requests came in. */
export interface Tally {
  readonly requests: number
  readonly faults: Readonly<Record<Fault, number>>
}

const emptyTally: Tally = { requests: 0, faults: uniform(0) }

const HTML_PAGE = "<!DOCTYPE html><html><head><title>Bad gateway</title></head><body><h1>Oops</h1></body></html>"

/** How long a dropped connection's handler waits to be interrupted before it gives up on its own. */
const DROP_GRACE = Duration.seconds(5)

/** Draws a fault for one request, or none, from the cumulative `rates`. */
const draw = (rates: Partial<Record<Fault, number>>, roll: number): Fault | undefined => {
  let sum = 0
  for (const fault of FAULTS) {
    sum += rates[fault] ?? 0
    if (roll < sum) return fault
  }
  return undefined
}

const bytesOf = (response: HttpServerResponse.HttpServerResponse): Uint8Array =>
  response.body._tag === "Uint8Array" ? response.body.body : new Uint8Array()

/**
 * Drops the connection of the current request: nothing more is sent. The server interrupts the handler once the
 * socket closes; `DROP_GRACE` bounds the wait if it does not.
 */
const drop = (
  written?: { readonly status: number; readonly headers: Record<string, string>; readonly part: Uint8Array }
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = NodeHttpServerRequest.toIncomingMessage(request).socket
    if (written === undefined) {
      socket.destroy()
    } else {
      const response = NodeHttpServerRequest.toServerResponse(request)
      response.writeHead(written.status, written.headers)
      response.write(written.part, () => socket.destroy())
    }
    yield* Effect.sleep(DROP_GRACE)
    return HttpServerResponse.empty({ status: 500 })
  })

/** Wraps FakeOrq's app: the app with faults, and a tally of what fired. */
export const makeApp = (options: FakeOrq.Options & { readonly chaos: ChaosOptions }) =>
  Effect.gen(function*() {
    const app = FakeOrq.makeApp(options)
    const random = Random.make(options.chaos.seed)
    const tally = yield* Ref.make(emptyTally)
    const slowBy = Duration.decode(options.chaos.slowBy ?? Duration.seconds(1))
    const retryAfter = Duration.toMillis(options.chaos.retryAfter ?? Duration.millis(20))

    const record = (fault: Fault | undefined) =>
      Ref.update(tally, (current) => ({
        requests: current.requests + 1,
        faults: fault === undefined ? current.faults : { ...current.faults, [fault]: current.faults[fault] + 1 }
      }))

    const errorAnswer = (status: number) =>
      Effect.map(random.nextBoolean, (html) =>
        html
          ? HttpServerResponse.text(HTML_PAGE, { status, contentType: "text/html" })
          : HttpServerResponse.unsafeJson({ error: `chaos: injected ${status}` }, { status }))

    const rateLimited = Effect.map(random.nextIntBetween(0, 4), (form) => {
      const headers: Record<string, string> = form === 0
        ? { "retry-after-ms": String(retryAfter) }
        : form === 1
        ? { "retry-after": (retryAfter / 1000).toFixed(3) }
        : form === 2
        ? { "retry-after": String(Math.ceil(retryAfter / 1000) - 1) }
        : { "retry-after": new Date(Date.now() - 1000).toUTCString() }
      return HttpServerResponse.unsafeJson({ error: "chaos: rate limited" }, { status: 429, headers })
    })

    /** The answer `response` of an applied change, damaged by `fault`. */
    const damage = (fault: Fault, response: HttpServerResponse.HttpServerResponse) => {
      const body = bytesOf(response)
      const half = body.slice(0, Math.floor(body.length / 2))
      switch (fault) {
        case "resetAfter":
          return drop()
        case "cutBody":
          return body.length === 0 ? drop() : drop({
            status: response.status,
            headers: { "content-type": "application/json", "content-length": String(body.length) },
            part: half
          })
        case "slow":
          return Effect.as(Effect.sleep(slowBy), response)
        case "truncated":
          return Effect.succeed(
            body.length === 0
              ? response
              : HttpServerResponse.uint8Array(half, { status: response.status, contentType: "application/json" })
          )
        case "html":
          return Effect.succeed(
            response.status === 204
              ? response
              : HttpServerResponse.text(HTML_PAGE, { status: response.status, contentType: "text/html" })
          )
        case "wrongShape":
          return Effect.succeed(
            response.status === 204
              ? response
              : HttpServerResponse.unsafeJson({ data: "chaos", has_more: "no", _id: 42 }, { status: response.status })
          )
        default:
          return Effect.succeed(response)
      }
    }

    const chaotic = Effect.gen(function*() {
      const fault = draw(options.chaos.rates, yield* random.next)
      yield* record(fault)
      switch (fault) {
        case undefined:
          return yield* app
        case "status503":
          return yield* errorAnswer(503)
        case "rateLimited":
          return yield* rateLimited
        case "resetBefore":
          return yield* drop()
        case "status500":
        case "status502":
        case "status504": {
          const status = Number(fault.slice("status".length))
          if (yield* random.nextBoolean) return yield* errorAnswer(status)
          yield* app
          return yield* errorAnswer(status)
        }
        default:
          return yield* Effect.flatMap(app, (response) => damage(fault, response))
      }
    })

    return { app: chaotic, tally: Ref.get(tally) }
  })

/** Starts FakeOrq with chaos on a free loopback port for the life of the scope: its base URL and its tally. */
export const start = (options: FakeOrq.Options & { readonly chaos: ChaosOptions }) =>
  Effect.gen(function*() {
    const { app, tally } = yield* makeApp(options)
    const url = yield* FakeOrq.startApp(app)
    return { url, tally }
  })
