import * as Resource from "@effect/opentelemetry/Resource"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { IdentityClient, IdentityStore, layer as IdentityClientLayer } from "@orq-effect/client"
import {
  ConfigError,
  ConfigProvider,
  Context,
  Deferred,
  Duration,
  Effect,
  Layer,
  Option,
  Redacted,
  Ref,
  Stream
} from "effect"
import * as Http from "node:http"
import * as ExitCode from "../src/cli/ExitCode.js"
import * as FakeOrq from "../src/FakeOrq.js"
import * as IdentitiesLive from "../src/IdentitiesLive.js"
import type * as OrqConfig from "../src/OrqConfig.js"
import * as Tracing from "../src/Tracing.js"
import * as TracingEndpoint from "../src/TracingEndpoint.js"

// PII and a secret that must never reach a span
const KEY = "sk-canary-4f1c9e0b7a2d"
const EMAIL = "jane.canary@example.com"
const NAME = "Jane Canarysdottir"
const META_VALUE = "meta-canary-3141"
const SECRETS = [KEY, EMAIL, NAME, META_VALUE, "jane.canary", "Canarysdottir"].flatMap((secret) => [
  secret,
  encodeURIComponent(secret)
])

const EXTERNAL_ID = "user_trace_1"

/** The two live stacks: what `IdentitiesLive` builds (the lean transport), and the client over the platform's. */
const STACKS = {
  "IdentitiesLive (lean undici)": IdentitiesLive.fromConfigUndici,
  "over layerUndici": (config: OrqConfig.OrqConfig) =>
    IdentitiesLive.fromConfig(config).pipe(Layer.provide(NodeHttpClient.layerUndici))
} as const

/**
 * Runs `use` with a live client of `stack` (retry policy armed) against FakeOrq on loopback, every span going to
 * an in-memory exporter; returns the spans ended meanwhile.
 */
const traced = <A, E>(stack: keyof typeof STACKS, use: (client: IdentityClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const store = yield* IdentityStore.make()
    const baseUrl = yield* FakeOrq.start({ store, apiKey: Redacted.make(KEY) })
    const exporter = new InMemorySpanExporter()
    const client = STACKS[stack]({
      apiKey: Redacted.make(KEY),
      baseUrl,
      timeout: Duration.seconds(5),
      deadline: Duration.seconds(10),
      maxRetries: 1
    })
    // read the spans before the provider shuts down (shutting down empties the exporter)
    return yield* Effect.flatMap(IdentityClient, use).pipe(
      Effect.either,
      Effect.map((result) => ({ result, spans: [...exporter.getFinishedSpans()] })),
      Effect.provide(Layer.merge(client, Tracing.layerProcessor(new SimpleSpanProcessor(exporter))))
    )
  })

/** Everything a span carries that an exporter would send, as one string per span. */
const exported = (span: ReadableSpan) =>
  JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    status: span.status,
    links: span.links.map((link) => link.attributes)
  })

const assertNoSecrets = (spans: ReadonlyArray<ReadableSpan>) => {
  for (const span of spans) {
    const text = exported(span)
    for (const secret of SECRETS) {
      assert.isFalse(text.includes(secret), `span ${span.name} carries "${secret}": ${text}`)
    }
  }
}

const byName = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((span) => span.name === name)

/** The one span `name`, each HTTP client span under it, with the `method` given. */
const assertOperation = (
  spans: ReadonlyArray<ReadableSpan>,
  name: string,
  method: string,
  id: string | undefined
) => {
  const [operation, ...others] = byName(spans, name)
  assert.isDefined(operation, `no span ${name} among ${spans.map((span) => span.name).join(", ")}`)
  assert.strictEqual(others.length, 0)
  assert.strictEqual(operation.attributes["orq.identity.id"], id)
  const children = spans.filter((span) => span.parentSpanContext?.spanId === operation.spanContext().spanId)
  const http = children.filter((span) => span.name === `http.client ${method}`)
  assert.isAbove(http.length, 0, `no http.client ${method} under ${name}`)
  for (const span of http) {
    assert.strictEqual(span.spanContext().traceId, operation.spanContext().traceId)
    assert.strictEqual(span.attributes["http.request.method"], method)
    // the Authorization header is recorded redacted, never in clear
    assert.isFalse(JSON.stringify(span.attributes).includes(KEY))
  }
  return { operation, http }
}

const profile = {
  externalId: EXTERNAL_ID,
  email: EMAIL,
  displayName: NAME,
  metadata: { plan: META_VALUE, nested: { note: META_VALUE } },
  tags: ["beta"]
}

/** Builds `Tracing.layer` under the given environment; returns whether an OTel SDK was installed, and the tracer. */
const buildWith = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(Tracing.layer)
    const tracer = yield* Effect.tracer.pipe(Effect.provide(context))
    return { installed: Option.isSome(Context.getOption(context, Resource.Resource)), tracer }
  }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

/** `TracingEndpoint.endpoint` read from `env`. */
const readEndpoint = (env: Record<string, string>) =>
  Effect.withConfigProvider(TracingEndpoint.endpoint, ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("Tracing.layer", () => {
  it.effect("layerOtlp: an export timeout OpenTelemetry would refuse (zero, infinite) is the default, not a defect", () =>
    Effect.gen(function*() {
      for (const exportTimeout of [Duration.zero, Duration.infinity, Duration.millis(-5), Duration.nanos(10n)]) {
        const tracer = yield* Effect.tracer.pipe(
          Effect.provide(Tracing.layerOtlp("http://127.0.0.1:9/v1/traces", { exportTimeout }))
        )
        assert.isDefined(tracer)
      }
    }))

  it.live("layerOtlp: a collector that never answers is given up on after exportTimeout, not held open", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<void>()
      const requests = yield* Ref.make(0)
      // takes every export request and never answers it
      const collector = yield* Effect.acquireRelease(
        Effect.async<Http.Server>((resume) => {
          const server = Http.createServer((request) => {
            Effect.runSync(Ref.update(requests, (n) => n + 1))
            request.socket.on("close", () => Effect.runSync(Deferred.succeed(closed, undefined)))
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.sync(() => server.closeAllConnections())
      )
      const address = collector.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      yield* Effect.void.pipe(
        Effect.withSpan("exported"),
        Effect.provide(Tracing.layerOtlp(`http://127.0.0.1:${port}/v1/traces`, { exportTimeout: "200 millis" }))
      )
      // the release flushed the span to the collector, and the exporter gave the request up (the default waits 10 s)
      assert.strictEqual(yield* Ref.get(requests), 1)
      yield* Deferred.await(closed).pipe(Effect.timeoutFail({ duration: "4 seconds", onTimeout: () => "still open" }))
    }).pipe(Effect.scoped))

  it.effect("the endpoint: per-signal as given, else /v1/traces under the base, else none", () =>
    Effect.gen(function*() {
      deepStrictEqual(yield* readEndpoint({}), Option.none())
      deepStrictEqual(yield* readEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }), Option.none())
      deepStrictEqual(
        yield* readEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/" }),
        Option.some("http://127.0.0.1:4318/v1/traces")
      )
      deepStrictEqual(
        yield* readEndpoint({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:9999/traces"
        }),
        Option.some("http://127.0.0.1:9999/traces")
      )
    }))

  it.scoped("an endpoint that is not an http(s) URL is a configuration error naming its variable (exit 2)", () =>
    Effect.gen(function*() {
      const malformed = [
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"],
        ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector.example/v1/traces"],
        ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces"]
      ] as const
      for (const [name, value] of malformed) {
        const error = yield* Effect.flip(readEndpoint({ [name]: value }))
        assert.include(String(error), name)
        assert.notInclude(String(error), value)
        assert.strictEqual(ExitCode.verdict(error).code, ExitCode.USAGE)
        // the layer fails with it, before any exporter is made
        const failed = yield* Effect.flip(buildWith({ [name]: value }))
        assert.isTrue(ConfigError.isConfigError(failed), String(failed))
      }
      deepStrictEqual(
        yield* readEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example:4318" }),
        Option.some("https://otel.example:4318/v1/traces")
      )
      // the base is not used when the per-signal endpoint is set
      deepStrictEqual(
        yield* readEndpoint({
          OTEL_EXPORTER_OTLP_ENDPOINT: "not a url",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:9999/traces"
        }),
        Option.some("http://127.0.0.1:9999/traces")
      )
    }))

  it.scoped("installs nothing without an endpoint, the OTel SDK with one", () =>
    Effect.gen(function*() {
      const before = yield* Effect.tracer
      const off = yield* buildWith({})
      assert.isFalse(off.installed)
      assert.strictEqual(off.tracer, before)
      // nothing listens on the discard port: export fails silently, and only when a span ends
      const on = yield* buildWith({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" })
      assert.isTrue(on.installed)
      assert.notStrictEqual(on.tracer, before)
    }))
})

describe("Tracing, FakeOrq", () => {
  it.scoped("the server records no span of its own, nor annotates its caller's, whatever the request carries", () =>
    Effect.gen(function*() {
      const exporter = new InMemorySpanExporter()
      const serveAndCall = Effect.gen(function*() {
        const store = yield* IdentityStore.make()
        yield* store.create(profile)
        const baseUrl = yield* FakeOrq.start({ store })
        // requests as a traced client sends them: the caller's trace context, an email in the path and the query
        const traceparent = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`
        for (const path of [`/v2/identities?search=${encodeURIComponent(EMAIL)}`, `/v2/identities/${EMAIL}`]) {
          const status = yield* Effect.promise(() =>
            fetch(`${baseUrl}${path}`, { headers: { traceparent } }).then((response) => response.status)
          )
          assert.isBelow(status, 500)
        }
      })
      const spans = yield* Effect.scoped(serveAndCall).pipe(
        Effect.withSpan("caller"),
        Effect.zipRight(Effect.sync(() => [...exporter.getFinishedSpans()])),
        Effect.provide(Tracing.layerProcessor(new SimpleSpanProcessor(exporter)))
      )
      deepStrictEqual(spans.map((span) => span.name), ["caller"])
      assert.notProperty(spans[0].attributes, "http.route")
      assertNoSecrets(spans)
    }))
})

describe("Tracing, a server quoting personal data", () => {
  it.scoped("an error message echoing an email reaches the caller, not the span", () =>
    Effect.gen(function*() {
      const exporter = new InMemorySpanExporter()
      const echoing = HttpClient.make((request) =>
        Effect.succeed(HttpClientResponse.fromWeb(
          request,
          new Response(JSON.stringify({ message: `an identity with email ${EMAIL} (${NAME}) already exists` }), {
            status: 409,
            headers: { "content-type": "application/json", "x-request-id": "req_echo" }
          })
        ))
      )
      const client = IdentityClientLayer({ apiKey: Redacted.make(KEY), baseUrl: "https://api.orq.ai" }).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, echoing))
      )
      const { error, spans } = yield* Effect.flatMap(IdentityClient, (identities) =>
        Effect.flip(identities.create(profile)))
        .pipe(
          Effect.map((error) => ({ error, spans: [...exporter.getFinishedSpans()] })),
          Effect.provide(Layer.merge(client, Tracing.layerProcessor(new SimpleSpanProcessor(exporter))))
        )
      assert.strictEqual(error._tag, "Conflict")
      assert.include(error.message, EMAIL)
      const [create] = byName(spans, "IdentityClient.create")
      assert.strictEqual(create?.status.code, 2)
      assert.strictEqual(create?.status.message, "Conflict (request req_echo)")
      deepStrictEqual(
        create?.events.map((event) =>
          event.attributes?.["exception.type"]
        ),
        ["Conflict"]
      )
      assertNoSecrets(spans)
    }))
})

for (const stack of Object.keys(STACKS) as Array<keyof typeof STACKS>) {
  describe(`Tracing, ${stack}`, () => {
    it.scoped("create, retrieve, update, delete: one span each around the HTTP span, ids only", () =>
      Effect.gen(function*() {
        const { result, spans } = yield* traced(stack, (client) =>
          Effect.gen(function*() {
            const created = yield* client.create(profile)
            yield* client.retrieve(EXTERNAL_ID, { includeMetrics: true })
            yield* client.update(EXTERNAL_ID, {
              email: `new.${EMAIL}`,
              displayName: `${NAME} II`,
              metadata: { plan: META_VALUE }
            })
            yield* client.delete(created.id)
            return created.id
          }))
        assert.isTrue(result._tag === "Right", JSON.stringify(result))
        const id = result._tag === "Right" ? result.right : ""
        assertOperation(spans, "IdentityClient.create", "POST", undefined)
        assertOperation(spans, "IdentityClient.retrieve", "GET", EXTERNAL_ID)
        const { http } = assertOperation(spans, "IdentityClient.update", "PATCH", EXTERNAL_ID)
        assert.strictEqual(http[0].attributes["http.response.status_code"], 200)
        if (stack === "IdentitiesLive (lean undici)") {
          // OpenTelemetry's HTTP conventions: the host alone, its port apart (the platform's transport records the
          // whole origin there)
          assert.strictEqual(http[0].attributes["server.address"], "127.0.0.1")
          assert.isNumber(http[0].attributes["server.port"])
        }
        assertOperation(spans, "IdentityClient.delete", "DELETE", id)
        // every span of the run is service `orq`
        for (const span of spans) assert.strictEqual(span.resource.attributes["service.name"], Tracing.SERVICE_NAME)
        assertNoSecrets(spans)
      }))

    it.scoped("list and stream: spans per page, no PII", () =>
      Effect.gen(function*() {
        const { result, spans } = yield* traced(stack, (client) =>
          Effect.gen(function*() {
            for (let i = 0; i < 3; i++) {
              yield* client.create({ ...profile, externalId: `${EXTERNAL_ID}_${i}`, email: `${i}.${EMAIL}` })
            }
            yield* client.list({ limit: 2, tags: ["beta"] })
            return yield* Stream.runCount(client.stream({ limit: 2 }))
          }))
        deepStrictEqual(result._tag === "Right" ? result.right : result.left, 3)
        // one list call, then two pages for the stream
        const lists = byName(spans, "IdentityClient.list")
        assert.strictEqual(lists.length, 3)
        for (const list of lists) {
          const children = spans.filter((span) => span.parentSpanContext?.spanId === list.spanContext().spanId)
          deepStrictEqual(children.map((span) => span.name), ["http.client GET"])
        }
        assertNoSecrets(spans)
      }))

    it.scoped("failures: typed errors recorded on the spans carry no PII", () =>
      Effect.gen(function*() {
        const { result, spans } = yield* traced(stack, (client) =>
          Effect.gen(function*() {
            yield* client.create(profile)
            // 409 from the server
            const conflict = yield* Effect.flip(client.create(profile))
            // refused before sending: the bad value must not be echoed
            const invalid = yield* Effect.flip(client.update(EXTERNAL_ID, { email: `${EMAIL}@@`, displayName: NAME }))
            // 404 from the server
            const missing = yield* Effect.flip(client.update("no-such-identity", { email: EMAIL }))
            return [conflict._tag, invalid._tag, missing._tag]
          }))
        const updates = byName(spans, "IdentityClient.update")
        assert.strictEqual(updates.length, 2)
        // the refused update sent nothing
        const refused = updates.find((span) => span.attributes["orq.identity.id"] === EXTERNAL_ID)
        assert.isDefined(refused)
        const refusedId = refused?.spanContext().spanId
        assert.strictEqual(spans.filter((span) => span.parentSpanContext?.spanId === refusedId).length, 0)
        // the typed error is on the span (status ERROR, an exception event of its tag), without the input
        const failedCreate = byName(spans, "IdentityClient.create")[1]
        assert.strictEqual(failedCreate?.status.code, 2)
        deepStrictEqual(failedCreate?.events.map((event) => event.attributes?.["exception.type"]), ["Conflict"])
        deepStrictEqual(result._tag === "Right" ? result.right : [], ["Conflict", "InvalidRequest", "NotFound"])
        assertNoSecrets(spans)
      }))

    it.scoped("list with a search term (an email) keeps the term out of every span", () =>
      Effect.gen(function*() {
        const { result, spans } = yield* traced(stack, (client) =>
          Effect.gen(function*() {
            yield* client.create(profile)
            return yield* client.list({ search: EMAIL })
          }))
        assert.strictEqual(result._tag === "Right" ? result.right.data.length : -1, 1)
        assert.strictEqual(byName(spans, "IdentityClient.list").length, 1)
        assertNoSecrets(spans)
      }))
  })
}
