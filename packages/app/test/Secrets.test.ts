import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Command from "@effect/platform/Command"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { IdentityClient, IdentityStore } from "@orq-effect/client"
import type { IdentityError } from "@orq-effect/domain/IdentityError"
import {
  Cause,
  Chunk,
  ConfigProvider,
  Duration,
  Effect,
  Exit,
  Inspectable,
  Layer,
  Logger,
  LogLevel,
  Redacted,
  Stream
} from "effect"
import { fileURLToPath } from "node:url"
import * as FakeOrq from "../src/FakeOrq.js"
import * as FakeOrqChaos from "../src/FakeOrqChaos.js"
import * as IdentitiesLive from "../src/IdentitiesLive.js"

/** The API key that must never be seen again once handed to the library. */
const CANARY = "sk-canary-7d1e4b9a0c33f5e2"
/** Fragments that would betray it too: URL-encoded, base64'd, or its random half on its own. */
const BETRAYALS = [CANARY, encodeURIComponent(CANARY), Buffer.from(CANARY).toString("base64"), "7d1e4b9a0c33f5e2"]

const assertClean = (where: string, text: string) => {
  for (const secret of BETRAYALS) assert.notInclude(text, secret, `${where} carries the key`)
}

/** Everything an error shows: its message, JSON, inspection, stack, and the pretty cause. */
const errorTexts = (error: IdentityError) => [
  error.message,
  JSON.stringify(error),
  String(error),
  Inspectable.format(error),
  error.stack ?? "",
  Cause.pretty(Cause.fail(error))
]

/** Everything a span exports. */
const spanText = (span: ReadableSpan) =>
  JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    status: span.status,
    links: span.links.map((link) => link.attributes),
    resource: span.resource.attributes
  })

/**
 * Runs `use` with every log line at every level captured (logfmt and structured), every span exported to memory,
 * and returns the log lines, the spans, and the errors `use` reported.
 */
const observed = <E, R>(use: Effect.Effect<ReadonlyArray<IdentityError>, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make((options) => {
      lines.push(Logger.logfmtLogger.log(options))
      lines.push(JSON.stringify(Logger.structuredLogger.log(options)))
    })
    const exporter = new InMemorySpanExporter()
    const tracing = NodeSdk.layer(() => ({
      resource: { serviceName: "secrets-test" },
      spanProcessor: new SimpleSpanProcessor(exporter)
    }))
    // the spans are read before the SDK shuts down: shutting down empties the exporter
    const [errors, spans] = yield* use.pipe(
      Effect.zip(Effect.sync(() => [...exporter.getFinishedSpans()])),
      Effect.provide(Layer.mergeAll(
        Logger.replace(Logger.defaultLogger, capture),
        Logger.minimumLogLevel(LogLevel.All),
        tracing
      ))
    )
    return { lines, spans, errors }
  })

const assertNothingLeaked = (seen: {
  readonly lines: ReadonlyArray<string>
  readonly spans: ReadonlyArray<ReadableSpan>
  readonly errors: ReadonlyArray<IdentityError>
}) => {
  for (const line of seen.lines) assertClean(`log line ${line.slice(0, 80)}`, line)
  for (const span of seen.spans) assertClean(`span ${span.name}`, spanText(span))
  for (const error of seen.errors) {
    for (const text of errorTexts(error)) assertClean(`${error._tag} error`, text)
  }
}

/** Runs `calls` and collects every typed error; a defect fails the test. */
const errorsOf = (calls: ReadonlyArray<Effect.Effect<unknown, IdentityError>>) =>
  Effect.forEach(calls, (call) =>
    Effect.flatMap(Effect.exit(call), (exit) =>
      Exit.isSuccess(exit)
        ? Effect.succeed([])
        : Cause.isFailType(exit.cause)
        ? Effect.succeed([exit.cause.error])
        : Effect.dieMessage(`not a typed failure: ${Cause.pretty(exit.cause)}`))).pipe(
      Effect.map((lists) => lists.flat())
    )

/** The live client configured as a user would (ORQ_API_KEY = the canary) against `baseUrl`. */
const liveClient = (baseUrl: string, extra: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const env = { ORQ_API_KEY: CANARY, ORQ_BASE_URL: baseUrl, ...extra }
    const context = yield* Layer.build(
      IdentitiesLive.IdentitiesLive.pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
      )
    )
    return yield* Effect.provide(IdentityClient, context)
  })

/** Every operation, on success paths and on the error paths a server can produce for it. */
const everyOperation = (client: IdentityClient["Type"], tag: string) => [
  client.create({ externalId: `${tag}-1`, displayName: "Canary", tags: ["t"], metadata: { k: "v" } }),
  client.create({ externalId: `${tag}-1` }),
  client.retrieve(`${tag}-1`, { includeMetrics: true }),
  client.retrieve(`${tag}-missing`),
  client.update(`${tag}-1`, { displayName: null, tags: ["u"] }),
  client.update(`${tag}-missing`, { displayName: "x" }),
  client.list({ limit: 5, tags: ["u"] }),
  Stream.runCollect(client.stream({ limit: 1 })).pipe(Effect.map(Chunk.size)),
  client.delete(`${tag}-missing`),
  client.delete(`${tag}-1`),
  // refused before sending
  client.create({ externalId: "", email: "not an email" }),
  client.retrieve(" "),
  client.list({ limit: 500 })
]

describe("the API key never leaks", () => {
  it.live("every operation against FakeOrq: successes, NotFound, Conflict, refused input", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const baseUrl = yield* FakeOrq.start({ store, apiKey: Redacted.make(CANARY) })
      const seen = yield* observed(
        Effect.flatMap(liveClient(baseUrl), (client) => errorsOf(everyOperation(client, "ok")))
      )
      deepStrictEqual(
        [...new Set(seen.errors.map((error) => error._tag))].sort(),
        ["Conflict", "InvalidRequest", "NotFound"]
      )
      assert.isAbove(seen.spans.length, 10)
      assertNothingLeaked(seen)
    }).pipe(Effect.scoped))

  it.live("a server that refuses the key: Unauthorized everywhere", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const baseUrl = yield* FakeOrq.start({ store, apiKey: Redacted.make("sk-the-right-one") })
      const seen = yield* observed(
        Effect.flatMap(liveClient(baseUrl), (client) => errorsOf(everyOperation(client, "unauthorized")))
      )
      assert.isTrue(seen.errors.some((error) => error._tag === "Unauthorized"))
      assertNothingLeaked(seen)
    }).pipe(Effect.scoped))

  it.live(
    "a failing server, with retries logged at debug: 5xx, 429, resets, timeouts, malformed answers",
    () =>
      Effect.gen(function*() {
        const store = yield* IdentityStore.make()
        const server = yield* FakeOrqChaos.start({
          store,
          apiKey: Redacted.make(CANARY),
          chaos: { seed: "secrets", rates: FakeOrqChaos.uniform(0.07), slowBy: Duration.millis(600) }
        })
        const seen = yield* observed(
          Effect.flatMap(
            liveClient(server.url, { ORQ_TIMEOUT: "300 millis", ORQ_DEADLINE: "3 seconds", ORQ_MAX_RETRIES: "1" }),
            (client) => errorsOf(Array.from({ length: 6 }, (_, i) => everyOperation(client, `chaos${i}`)).flat())
          )
        )
        const tags = new Set(seen.errors.map((error) => error._tag))
        for (const tag of ["ServerError", "TransportError", "MalformedResponse"]) {
          assert.isTrue(tags.has(tag as IdentityError["_tag"]), `no ${tag} among ${[...tags].join(", ")}`)
        }
        assert.isTrue(seen.lines.some((line) => line.includes("orq: retrying")), "no retry was logged")
        assertNothingLeaked(seen)
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  /** Ten calls against a server that echoes the Authorization header in its body and its `x-request-id`. */
  const againstEcho = Effect.gen(function*() {
    const statuses = [400, 401, 403, 404, 409, 422, 429, 500, 503, 200]
    const echo = HttpClient.make((request) =>
      Effect.sync(() => {
        const status = statuses.shift() ?? 500
        const header = request.headers.authorization ?? ""
        const body = status === 200
          ? JSON.stringify({ unexpected: header })
          : JSON.stringify({ error: { code: "echo", message: `refused ${header}` }, sent: header })
        return HttpClientResponse.fromWeb(
          request,
          new Response(body, { status, headers: { "x-request-id": header, "retry-after": "3600" } })
        )
      })
    )
    const seen = yield* observed(
      Effect.gen(function*() {
        const client = yield* IdentityClient
        return yield* errorsOf(Array.from({ length: 10 }, (_, i) => client.retrieve(`echo-${i}`)))
      }).pipe(
        Effect.provide(
          IdentitiesLive.layerConfig.pipe(
            Layer.provide(Layer.succeed(HttpClient.HttpClient, echo)),
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ORQ_API_KEY", CANARY]]))))
          )
        )
      )
    )
    assert.strictEqual(seen.errors.length, 10)
    return seen
  })

  it.live("a server that echoes the key: errors and logs stay clean", () =>
    Effect.map(againstEcho, (seen) => assertNothingLeaked({ ...seen, spans: [] })))

  // @effect/platform's HTTP client span records every header not in `Headers.currentRedactedNames`: the client
  // redacts all but a short list of harmless ones, so an echoed x-request-id stays out of span attributes
  it.live("a server that echoes the key: spans stay clean", () =>
    Effect.map(againstEcho, (seen) => assertNothingLeaked({ ...seen, lines: [], errors: [] })))

  it.live("a refused connection and a configuration error", () =>
    Effect.gen(function*() {
      const seen = yield* observed(
        Effect.flatMap(
          liveClient("http://127.0.0.1:9", { ORQ_MAX_RETRIES: "0" }),
          (client) => errorsOf([client.retrieve("x"), client.create({ externalId: "x" })])
        )
      )
      deepStrictEqual(seen.errors.map((error) => error._tag), ["TransportError", "TransportError"])
      assertNothingLeaked(seen)

      const refused = yield* Effect.flip(liveClient("http://127.0.0.1:9", { ORQ_TIMEOUT: "never" }))
      assertClean("config error", `${String(refused)} ${JSON.stringify(refused)}`)
    }).pipe(Effect.scoped))
})

// ---------------------------------------------------------------------------------------------------------------------
// the CLI: a separate process with ORQ_API_KEY = the canary, debug logging on
// ---------------------------------------------------------------------------------------------------------------------

const ROOT = fileURLToPath(new URL("../../..", import.meta.url))
const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

const runCli = (args: ReadonlyArray<string>, baseUrl: string) =>
  Effect.gen(function*() {
    const command = Command.make("node", "--import", "tsx", BIN, ...args, "--log-level", "all").pipe(
      Command.workingDirectory(ROOT),
      Command.env({ ORQ_API_KEY: CANARY, ORQ_BASE_URL: baseUrl, NO_COLOR: "1" })
    )
    const process = yield* Command.start(command)
    const text = (stream: Stream.Stream<Uint8Array, unknown>) => Stream.mkString(Stream.decodeText(stream))
    const [stdout, stderr, exitCode] = yield* Effect.all(
      [text(process.stdout), text(process.stderr), process.exitCode],
      { concurrency: "unbounded" }
    )
    return { stdout, stderr, exitCode }
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))

describe("the CLI never prints the API key", () => {
  it.live("identities get / create / list / delete, on success and on each failure", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const baseUrl = yield* FakeOrq.start({ store, apiKey: Redacted.make(CANARY) })
      const wrongKey = yield* FakeOrq.start({ store, apiKey: Redacted.make("sk-another-key") })
      const runs = [
        yield* runCli(["identities", "create", "cli-1", "--display-name", "Canary"], baseUrl),
        yield* runCli(["identities", "create", "cli-1"], baseUrl),
        yield* runCli(["identities", "get", "cli-1"], baseUrl),
        yield* runCli(["identities", "get", "cli-1", "--json"], baseUrl),
        yield* runCli(["identities", "get", "cli-missing"], baseUrl),
        yield* runCli(["identities", "list"], baseUrl),
        yield* runCli(["identities", "get", "cli-1"], wrongKey),
        yield* runCli(["identities", "get", "cli-1"], "http://127.0.0.1:9"),
        yield* runCli(["identities", "delete", "cli-1"], baseUrl)
      ]
      // the commands ran: some succeeded, some failed
      assert.isTrue(runs.some((run) => run.exitCode === 0))
      assert.isTrue(runs.some((run) => run.exitCode !== 0))
      assert.include(runs[2].stdout, "cli-1")
      for (const run of runs) {
        assertClean("stdout", run.stdout)
        assertClean("stderr", run.stderr)
      }
    }).pipe(Effect.scoped), { timeout: 120_000 })
})
