import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { IdentityClient } from "@orq-effect/client"
import * as IdentityClientModule from "@orq-effect/client/IdentityClient"
import { Cause, ConfigProvider, Duration, Effect, Fiber, Layer, Option, Stream } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Net from "node:net"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import * as IdentitiesLive from "../src/IdentitiesLive.js"
import * as RequestTimeout from "../src/RequestTimeout.js"
import * as Tracing from "../src/Tracing.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"

const IDENTITY = JSON.stringify({ _id: "identity_1", external_id: "ext-1", tags: [], metadata: {} })

/** A body longer than the transport's high-water mark: handed over before it has all arrived. */
const LONG = "x".repeat(UndiciHttpClient.HIGH_WATER_MARK * 4 + 123)

/**
 * How a scripted server answers a request: `stall body` declares a short identity and sends part of it, `stall
 * long body` declares {@link LONG} and sends part of it; `long` sends it all (`chunked`: without declaring its
 * length, in several writes).
 */
type Answer =
  | "never"
  | "stall body"
  | "stall long body"
  | { readonly after: number }
  | "at once"
  | "no content"
  | "long"
  | "long chunked"

/** A loopback server answering each request as `answer` says; counts requests, connections and aborted requests. */
const server = (answer: Answer) =>
  Effect.acquireRelease(
    Effect.async<
      { url: string; requests: () => number; connections: () => number; aborted: () => number; close: () => void }
    >(
      (resume) => {
        let requests = 0
        let connections = 0
        let aborted = 0
        const httpServer = Http.createServer((request, response) => {
          requests++
          request.resume()
          response.on("close", () => {
            if (!response.writableFinished) aborted++
          })
          if (answer === "never") return
          if (answer === "no content") {
            response.writeHead(204)
            response.end()
            return
          }
          if (answer === "stall body") {
            response.writeHead(200, { "content-type": "application/json", "content-length": String(IDENTITY.length) })
            response.write(IDENTITY.slice(0, 10))
            return
          }
          if (answer === "stall long body") {
            response.writeHead(200, { "content-type": "text/plain", "content-length": String(LONG.length) })
            response.write(LONG.slice(0, 1000))
            return
          }
          if (answer === "long") {
            response.writeHead(200, { "content-type": "text/plain", "content-length": String(LONG.length) })
            response.end(LONG)
            return
          }
          if (answer === "long chunked") {
            response.writeHead(200, { "content-type": "text/plain" })
            const step = 10_000
            for (let i = 0; i < LONG.length; i += step) response.write(LONG.slice(i, i + step))
            response.end()
            return
          }
          const send = () => {
            response.writeHead(200, { "content-type": "application/json" })
            response.end(IDENTITY)
          }
          if (answer === "at once") send()
          else setTimeout(send, answer.after)
        })
        httpServer.on("connection", () => {
          connections++
        })
        httpServer.listen(0, "127.0.0.1", () => {
          const { port } = httpServer.address() as AddressInfo
          resume(Effect.succeed({
            url: `http://127.0.0.1:${port}`,
            requests: () => requests,
            connections: () => connections,
            aborted: () => aborted,
            close: () => {
              httpServer.closeAllConnections()
              httpServer.close()
            }
          }))
        })
      }
    ),
    (s) => Effect.sync(s.close)
  )

/** A limit for a fiber's requests. */
const limit = (millis: number) => Option.some({ millis, description: `no answer within ${millis} millis` })

/** A TCP server on loopback that accepts connections and never says a word: a TLS handshake to it hangs. */
const silent = Effect.acquireRelease(
  Effect.async<Net.Server>((resume) => {
    const tcp = Net.createServer(() => {})
    tcp.listen(0, "127.0.0.1", () => resume(Effect.succeed(tcp)))
  }),
  (tcp) => Effect.sync(() => tcp.close())
)

/** How many timers keep the process alive. */
const activeTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length

/** The lean client built with `options`, in the test's scope. */
const leanWith = (options: UndiciHttpClient.Options) =>
  Effect.flatMap(
    Layer.build(UndiciHttpClient.layerWith(options)),
    (context) => Effect.provide(HttpClient.HttpClient, context)
  )

/** The lean client with no limit of its own, in the test's scope. */
const lean = leanWith({})

/** The failure of `effect`, which must fail. */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

const waitMillis = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

describe("UndiciHttpClient: its span", () => {
  it.live("records no header value, whatever Headers.currentRedactedNames says, and says so to IdentityClient", () =>
    Effect.gen(function*() {
      const s = yield* server("at once")
      const client = yield* lean
      const exporter = new InMemorySpanExporter()
      // read before the layer ends: the exporter forgets its spans when it is shut down
      const [span] = yield* client.get(`${s.url}/v2/identities/x`, { headers: { "x-secret": "sk-header-0001" } }).pipe(
        Effect.flatMap((response) => response.text),
        Effect.locally(Headers.currentRedactedNames, []),
        Effect.andThen(() => exporter.getFinishedSpans()),
        Effect.provide(Tracing.layerProcessor(new SimpleSpanProcessor(exporter)))
      )
      assert.strictEqual(span?.name, "http.client GET")
      assert.strictEqual(span?.attributes["http.response.status_code"], 200)
      const headerAttributes = Object.keys(span?.attributes ?? {}).filter((key) => key.includes("header"))
      deepStrictEqual(headerAttributes, [])
      // so the client need not redact them; a client made from it is another client, not marked
      assert.isTrue(IdentityClientModule.RecordsNoHeaderValues in client)
      assert.isFalse(IdentityClientModule.RecordsNoHeaderValues in HttpClient.mapRequest(client, (request) => request))
    }).pipe(Effect.scoped))
})

describe("UndiciHttpClient: bodies past the high-water mark", () => {
  const read = (
    answer: Answer,
    f: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<string, unknown>
  ) =>
    Effect.gen(function*() {
      const s = yield* server(answer)
      const client = yield* lean
      return yield* Effect.flatMap(client.get(`${s.url}/v2/identities/x`), f)
    }).pipe(Effect.scoped)

  /** The body through `stream`, read slowly: the connection must wait for the reader, then go on. */
  const streamed = (response: HttpClientResponse.HttpClientResponse) =>
    response.stream.pipe(
      Stream.tap(() => Effect.sleep(Duration.millis(5))),
      Stream.decodeText(),
      Stream.mkString
    )

  for (const answer of ["long", "long chunked"] as const) {
    it.live(`${answer}: text reads the whole body`, () =>
      Effect.map(read(answer, (response) => response.text), (text) => {
        assert.strictEqual(text.length, LONG.length)
        assert.strictEqual(text, LONG)
      }))

    it.live(`${answer}: stream yields every byte, in order, however the reader paces itself`, () =>
      Effect.map(read(answer, streamed), (text) => assert.strictEqual(text, LONG)))
  }

  it.live("a stream reader that stops early aborts the rest of the answer", () =>
    Effect.gen(function*() {
      const s = yield* server("stall long body")
      const client = yield* lean
      const first = yield* Effect.flatMap(
        client.get(`${s.url}/v2/identities/x`),
        (response) => Stream.runHead(response.stream)
      )
      assert.isTrue(Option.isSome(first))
      yield* waitMillis(50)
      assert.strictEqual(s.aborted(), 1)
    }).pipe(Effect.scoped))
})

describe("UndiciHttpClient: an answer dropped unread", () => {
  /** V8's full GC: `--expose-gc` set at run time installs `gc` in contexts made after it. */
  const gc = (): () => void => {
    V8.setFlagsFromString("--expose-gc")
    const collect: unknown = Vm.runInNewContext("gc")
    if (typeof collect !== "function") throw new Error("no gc")
    return () => collect()
  }

  /** Runs a full GC until `done` holds (a FinalizationRegistry callback runs in a task after the GC). */
  const collectUntil = (done: () => boolean) =>
    Effect.promise(async () => {
      const collect = gc()
      for (let i = 0; i < 50 && !done(); i++) {
        collect()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })

  const statusOf = (
    get: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
  ) => Effect.map(get, (response) => response.status)

  for (
    const [name, status] of [
      ["its status read in the calling fiber", statusOf],
      ["the response the result of a forked fiber", (get) => statusOf(Effect.flatMap(Effect.fork(get), Fiber.join))],
      ["the call raced against a timeout", (get) => statusOf(Effect.orDie(Effect.timeout(get, Duration.seconds(5))))]
    ] as const satisfies ReadonlyArray<
      readonly [
        string,
        (
          get: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
        ) => Effect.Effect<number, unknown>
      ]
    >
  ) {
    it.live(`a long body never read is aborted once its response is collected: ${name}`, () =>
      Effect.gen(function*() {
        const s = yield* server("stall long body")
        const client = yield* lean
        assert.strictEqual(yield* status(client.get(`${s.url}/v2/identities/x`)), 200)
        yield* collectUntil(() => s.aborted() === 1)
        assert.strictEqual(s.aborted(), 1)
      }).pipe(Effect.scoped))
  }
})

describe("UndiciHttpClient: the time limit of RequestTimeout.current", () => {
  it.live("an answer that does not start in time fails as a timeout, and the request is aborted", () =>
    Effect.gen(function*() {
      const s = yield* server("never")
      const client = yield* lean
      const error = yield* failure(
        Effect.locally(client.get(`${s.url}/v2/identities/x`), RequestTimeout.current, limit(100))
      )
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      assert.isTrue(Cause.isTimeoutException(error.cause))
      assert.strictEqual(error.description, "no answer within 100 millis")
      yield* waitMillis(50)
      assert.strictEqual(s.aborted(), 1)
    }).pipe(Effect.scoped))

  it.live("the limit covers a short body: the answer is handed over whole, so a stalled one fails the call", () =>
    Effect.gen(function*() {
      const s = yield* server("stall body")
      const client = yield* lean
      const error = yield* failure(
        Effect.locally(client.get(`${s.url}/v2/identities/x`), RequestTimeout.current, limit(100))
      )
      assert.strictEqual(error._tag, "RequestError")
      assert.isTrue(Cause.isTimeoutException(error.cause))
      yield* waitMillis(50)
      assert.strictEqual(s.aborted(), 1)
    }).pipe(Effect.scoped))

  it.live("the limit covers a long body: one that stalls after the answer was handed over fails the read", () =>
    Effect.gen(function*() {
      const s = yield* server("stall long body")
      const client = yield* lean
      const error = yield* failure(
        Effect.locally(
          Effect.flatMap(client.get(`${s.url}/v2/identities/x`), (response) => response.text),
          RequestTimeout.current,
          limit(100)
        )
      )
      assert.strictEqual(error._tag, "ResponseError")
      assert.isTrue(Cause.isTimeoutException(error.cause))
    }).pipe(Effect.scoped))

  it.live("the limit covers connecting: a TLS handshake that never ends fails at the limit, as a timeout", () =>
    Effect.gen(function*() {
      const tcp = yield* silent
      const client = yield* lean
      const { port } = tcp.address() as AddressInfo
      const started = Date.now()
      const error = yield* failure(
        Effect.locally(client.get(`https://127.0.0.1:${port}/v2/identities/x`), RequestTimeout.current, limit(200))
      )
      assert.isTrue(Cause.isTimeoutException(error.cause))
      assert.isBelow(Date.now() - started, 2000)
    }).pipe(Effect.scoped))

  it.live("a limit of the client's own applies to every request whose fiber sets none", () =>
    Effect.gen(function*() {
      const s = yield* server("never")
      const client = yield* leanWith({ limit: { millis: 100, description: "the client's own limit" } })
      const started = Date.now()
      const error = yield* failure(client.get(`${s.url}/v2/identities/x`))
      assert.isTrue(Cause.isTimeoutException(error.cause))
      assert.strictEqual(error._tag === "RequestError" ? error.description : undefined, "the client's own limit")
      assert.isBelow(Date.now() - started, 2000)
      yield* waitMillis(50)
      assert.strictEqual(s.aborted(), 1)
    }).pipe(Effect.scoped))

  it.live("the shorter of the client's own limit and the fiber's applies", () =>
    Effect.gen(function*() {
      const s = yield* server({ after: 150 })
      const get = (client: HttpClient.HttpClient) =>
        Effect.flatMap(client.get(`${s.url}/v2/identities/x`), (response) => response.text)
      const description = (effect: Effect.Effect<string, HttpClientError.HttpClientError>) =>
        Effect.map(failure(effect), (error) => error._tag === "RequestError" ? error.description : undefined)
      const strict = yield* leanWith({ limit: { millis: 50, description: "the client's own limit" } })
      // a fiber cannot lengthen the client's limit
      assert.strictEqual(
        yield* description(Effect.locally(get(strict), RequestTimeout.current, limit(5000))),
        "the client's own limit"
      )
      const loose = yield* leanWith({ limit: { millis: 5000, description: "the client's own limit" } })
      assert.strictEqual(yield* get(loose), IDENTITY)
      // but it can shorten it
      assert.strictEqual(
        yield* description(Effect.locally(get(loose), RequestTimeout.current, limit(60))),
        "no answer within 60 millis"
      )
    }).pipe(Effect.scoped))

  for (
    const [name, millis] of [["without a limit", undefined], [
      "with a limit past what a timer can wait",
      2 ** 31
    ]] as const
  ) {
    it.live(`${name} a slow answer is awaited`, () =>
      Effect.gen(function*() {
        const s = yield* server({ after: 150 })
        const client = yield* lean
        const get = Effect.flatMap(client.get(`${s.url}/v2/identities/x`), (response) => response.text)
        const text = yield* millis === undefined ? get : Effect.locally(get, RequestTimeout.current, limit(millis))
        assert.strictEqual(text, IDENTITY)
      }).pipe(Effect.scoped))
  }

  it.live("an answer whose body is never read (a 204) leaves no timer keeping the process alive", () =>
    Effect.gen(function*() {
      const s = yield* server("no content")
      const client = yield* lean
      const before = activeTimers()
      const response = yield* Effect.locally(
        client.get(`${s.url}/v2/identities/x`),
        RequestTimeout.current,
        limit(5000)
      )
      assert.strictEqual(response.status, 204)
      assert.strictEqual(activeTimers(), before)
    }).pipe(Effect.scoped))

  it.live("interrupting a body being read aborts the request", () =>
    Effect.gen(function*() {
      const s = yield* server("stall long body")
      const client = yield* lean
      const reading = yield* Effect.fork(
        Effect.flatMap(client.get(`${s.url}/v2/identities/x`), (response) => response.text)
      )
      yield* waitMillis(100)
      yield* Fiber.interrupt(reading)
      yield* waitMillis(50)
      assert.strictEqual(s.aborted(), 1)
    }).pipe(Effect.scoped))

  it.live("after an answer read in time, its timer does no harm: the connection stays open and is reused", () =>
    Effect.gen(function*() {
      const s = yield* server("at once")
      const client = yield* lean
      const get = Effect.locally(
        Effect.flatMap(client.get(`${s.url}/v2/identities/x`), (response) => response.text),
        RequestTimeout.current,
        limit(100)
      )
      assert.strictEqual(yield* get, IDENTITY)
      yield* waitMillis(250)
      assert.strictEqual(yield* get, IDENTITY)
      assert.strictEqual(s.requests(), 2)
      assert.strictEqual(s.connections(), 1)
      assert.strictEqual(s.aborted(), 0)
    }).pipe(Effect.scoped))
})

describe("IdentitiesLive over the lean transport: ORQ_TIMEOUT enforced by the transport", () => {
  const live = (url: string) =>
    Effect.flatMap(
      Layer.build(
        IdentitiesLive.IdentitiesLive.pipe(
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["ORQ_API_KEY", "sk-transport-timeout"],
              ["ORQ_BASE_URL", url],
              ["ORQ_TIMEOUT", "0.2"],
              ["ORQ_MAX_RETRIES", "1"]
            ])
          )))
        )
      ),
      (context) => Effect.provide(IdentityClient, context)
    )

  for (const answer of ["never", "stall body"] as const) {
    it.live(`an answer that ${answer === "never" ? "never starts" : "stalls in its body"}: each attempt ends at the timeout, then TransportError Timeout`, () =>
      Effect.gen(function*() {
        const s = yield* server(answer)
        const client = yield* live(s.url)
        const started = Date.now()
        const error = yield* failure(client.retrieve("ext-1"))
        const took = Date.now() - started
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual(error._tag === "TransportError" ? error.reason : undefined, "Timeout")
        assert.include(error.message, "no answer within 200ms")
        // the first attempt and one retry, each aborted at its timeout
        assert.strictEqual(s.requests(), 2)
        assert.isAtLeast(took, 400)
        assert.isBelow(took, 2000)
        yield* waitMillis(50)
        assert.strictEqual(s.aborted(), 2)
      }).pipe(Effect.scoped))
  }

  it.live("a longer limit the caller's fiber sets in RequestTimeout.current does not lengthen ORQ_TIMEOUT", () =>
    Effect.gen(function*() {
      const s = yield* server("never")
      const client = yield* live(s.url)
      const started = Date.now()
      const error = yield* failure(
        Effect.locally(client.retrieve("ext-1"), RequestTimeout.current, limit(60_000))
      )
      assert.strictEqual(error._tag === "TransportError" ? error.reason : undefined, "Timeout")
      assert.include(error.message, "no answer within 200ms")
      assert.isBelow(Date.now() - started, 2000)
    }).pipe(Effect.scoped))

  it.live("an answer within the timeout is the identity", () =>
    Effect.gen(function*() {
      const s = yield* server({ after: 50 })
      const client = yield* live(s.url)
      const identity = yield* client.retrieve("ext-1")
      assert.strictEqual(identity.externalId, "ext-1")
      assert.strictEqual(s.requests(), 1)
    }).pipe(Effect.scoped))
})
