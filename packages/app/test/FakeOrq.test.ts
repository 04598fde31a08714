/* eslint-disable @typescript-eslint/no-explicit-any -- the raw wire is read untyped on purpose: these tests assert on exactly what FakeOrq sent */
import { NodeHttpClient } from "@effect/platform-node"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { IdentityStore } from "@orq-effect/client"
import { layer as clientLayer } from "@orq-effect/client/IdentityClient"
import { Duration, Effect, Layer, Redacted } from "effect"
import { identityBehaviour } from "../../client/test/behaviour/IdentityBehaviour.js"
import * as FakeOrq from "../src/FakeOrq.js"
import * as IdentitiesLive from "../src/IdentitiesLive.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"

const API_KEY = Redacted.make("sk-test-fake-orq")
const AUTH = { authorization: `Bearer ${Redacted.value(API_KEY)}` }

/** The live `IdentityClient` over `transport`, against a fresh FakeOrq of `generation` on a loopback port. */
const live = (
  generation: FakeOrq.Generation,
  transport: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici
) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const baseUrl = yield* FakeOrq.start({ store, generation, apiKey: API_KEY })
      return clientLayer({ apiKey: API_KEY, baseUrl })
    })
  ).pipe(Layer.provide(transport))

/** What `IdentitiesLive` builds (its retry policy, the transport's own timeouts), against a fresh FakeOrq. */
const identitiesLive = (generation: FakeOrq.Generation) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const baseUrl = yield* FakeOrq.start({ store, generation, apiKey: API_KEY })
      return IdentitiesLive.fromConfigUndici({
        apiKey: API_KEY,
        baseUrl,
        timeout: Duration.seconds(10),
        deadline: Duration.seconds(60),
        maxRetries: 2
      })
    })
  )

identityBehaviour("IdentityClient over HTTP against FakeOrq (seed)", live("seed"))
identityBehaviour("IdentityClient over HTTP against FakeOrq (current)", live("current"))
// the lean transport, IdentitiesLive's, behaves the same on both generations
identityBehaviour("IdentityClient over the lean undici transport (seed)", live("seed", UndiciHttpClient.layer))
identityBehaviour("IdentityClient over the lean undici transport (current)", live("current", UndiciHttpClient.layer))
identityBehaviour("IdentitiesLive's stack, policy included (seed)", identitiesLive("seed"))
identityBehaviour("IdentitiesLive's stack, policy included (current)", identitiesLive("current"))

// ---------------------------------------------------------------------------------------------------------------------
// the wire, read with plain fetch
// ---------------------------------------------------------------------------------------------------------------------

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body as parsed JSON (`undefined` when empty), left untyped: these tests read the raw wire. */
  readonly body: any
}

/** A FakeOrq on a free loopback port for the test's scope, and `call` to send it raw requests. */
const server = (options: Partial<FakeOrq.Options> = {}) =>
  Effect.gen(function*() {
    const store = yield* IdentityStore.make()
    const base = yield* FakeOrq.start({ store, ...options })
    const call = (
      method: string,
      path: string,
      init: { readonly body?: unknown; readonly headers?: Record<string, string> } = {}
    ) =>
      Effect.promise(async (): Promise<Answer> => {
        const body = init.body === undefined
          ? undefined
          : typeof init.body === "string" || init.body instanceof ReadableStream
          ? init.body
          : JSON.stringify(init.body)
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
          ...(body === undefined ? {} : { body, duplex: "half" })
        })
        const text = await response.text()
        const json = text === "" ? undefined : JSON.parse(text)
        return { status: response.status, headers: response.headers, text, body: json }
      })
    return { store, call }
  })

const path = (id: string) => `/v2/identities/${encodeURIComponent(id)}`

const RICH = {
  external_id: "user_12345",
  display_name: "Jane Smith",
  email: "jane.smith@example.com",
  avatar_url: "https://example.com/avatars/jane-smith.jpg",
  tags: ["premium", "beta-user"],
  metadata: { department: "Engineering", level: 3 }
}

const ZERO_METRICS = { total_cost: 0, total_tokens: 0, total_requests: 0, error_rate: 0 }

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** Every key path of `value` whose value is `null`. */
const nullPaths = (value: unknown, at = "$"): Array<string> =>
  value === null
    ? [at]
    : typeof value === "object"
    ? Object.entries(value).flatMap(([key, child]) => nullPaths(child, `${at}.${key}`))
    : []

describe("FakeOrq, seed generation, on the wire", () => {
  it.scoped("POST creates: 201 with the identity and its workspace_id", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const created = yield* call("POST", "/v2/identities", { body: RICH })
      assert.strictEqual(created.status, 201)
      assert.match(created.headers.get("content-type") ?? "", /^application\/json/)
      const { _id, created: createdAt, updated, ...rest } = created.body
      assert.match(_id, /^identity_[0-9A-HJKMNP-TV-Z]{26}$/)
      assert.match(createdAt, ISO)
      assert.strictEqual(updated, createdAt)
      deepStrictEqual(rest, { ...RICH, workspace_id: FakeOrq.WORKSPACE_ID })

      const minimal = yield* call("POST", "/v2/identities", { body: { external_id: "user_minimal" } })
      assert.strictEqual(minimal.status, 201)
      // the legacy schema types the optional text fields as string or null
      assert.strictEqual(minimal.body.display_name, null)
      assert.strictEqual(minimal.body.email, null)
      assert.strictEqual(minimal.body.avatar_url, null)
      deepStrictEqual(minimal.body.tags, [])
      deepStrictEqual(minimal.body.metadata, {})
    }))

  it.scoped("GET retrieves by _id and by external_id: 200, metrics only when asked for", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const created = (yield* call("POST", "/v2/identities", { body: RICH })).body
      const { workspace_id: _, ...expected } = created
      for (const id of [created._id, RICH.external_id]) {
        const retrieved = yield* call("GET", path(id))
        assert.strictEqual(retrieved.status, 200)
        deepStrictEqual(retrieved.body, expected)
      }
      const measured = yield* call("GET", `${path(created._id)}?include_metrics=true`)
      assert.strictEqual(measured.status, 200)
      deepStrictEqual(measured.body.metrics, ZERO_METRICS)
      const unmeasured = yield* call("GET", `${path(created._id)}?include_metrics=false`)
      assert.notProperty(unmeasured.body, "metrics")
    }))

  it.scoped("PATCH updates: 200 with the result; absent keeps, null clears, lists replace", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const created = (yield* call("POST", "/v2/identities", { body: RICH })).body
      const updated = yield* call("PATCH", path(RICH.external_id), {
        body: { display_name: "Jane S.", email: null, tags: ["enterprise"], metadata: { fresh: true } }
      })
      assert.strictEqual(updated.status, 200)
      assert.strictEqual(updated.body._id, created._id)
      assert.strictEqual(updated.body.display_name, "Jane S.")
      assert.strictEqual(updated.body.email, null)
      assert.strictEqual(updated.body.avatar_url, RICH.avatar_url)
      deepStrictEqual(updated.body.tags, ["enterprise"])
      deepStrictEqual(updated.body.metadata, { fresh: true })
      assert.strictEqual(updated.body.created, created.created)
      deepStrictEqual((yield* call("GET", path(created._id))).body, updated.body)
    }))

  it.scoped("DELETE: 204 with no body, then the identity is gone", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const created = (yield* call("POST", "/v2/identities", { body: RICH })).body
      const deleted = yield* call("DELETE", path(created._id))
      assert.strictEqual(deleted.status, 204)
      assert.strictEqual(deleted.text, "")
      assert.isNull(deleted.headers.get("content-type"))
      assert.strictEqual((yield* call("GET", path(created._id))).status, 404)
      assert.strictEqual((yield* call("GET", path(RICH.external_id))).status, 404)
    }))

  it.scoped("404 bodies: {error} for GET and DELETE, {message} for PATCH", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const retrieve = yield* call("GET", path("nobody"))
      const remove = yield* call("DELETE", path("nobody"))
      const update = yield* call("PATCH", path("nobody"), { body: { display_name: "x" } })
      for (const answer of [retrieve, remove, update]) assert.strictEqual(answer.status, 404)
      deepStrictEqual(Object.keys(retrieve.body), ["error"])
      deepStrictEqual(Object.keys(remove.body), ["error"])
      deepStrictEqual(Object.keys(update.body), ["message"])
      assert.include(retrieve.body.error, "nobody")
      assert.include(update.body.message, "nobody")
    }))

  it.scoped("GET /v2/identities lists {object, data, has_more}, metrics on every item, cursors both ways", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push((yield* call("POST", "/v2/identities", { body: { external_id: `user_${i}` } })).body._id)
      }
      const first = yield* call("GET", "/v2/identities?limit=2")
      assert.strictEqual(first.status, 200)
      deepStrictEqual(Object.keys(first.body).sort(), ["data", "has_more", "object"])
      assert.strictEqual(first.body.object, "list")
      assert.strictEqual(first.body.has_more, true)
      deepStrictEqual(first.body.data.map((item: any) => item._id), ids.slice(0, 2))
      for (const item of first.body.data) {
        deepStrictEqual(item.metrics, ZERO_METRICS)
        assert.notProperty(item, "workspace_id")
      }
      const last = yield* call("GET", `/v2/identities?limit=2&starting_after=${ids[3]}`)
      deepStrictEqual(last.body.data.map((item: any) => item._id), [ids[4]])
      assert.strictEqual(last.body.has_more, false)
      const back = yield* call("GET", `/v2/identities?limit=2&ending_before=${ids[2]}`)
      deepStrictEqual(back.body.data.map((item: any) => item._id), ids.slice(0, 2))
      assert.strictEqual(back.body.has_more, false)
      const all = yield* call("GET", "/v2/identities")
      assert.strictEqual(all.body.data.length, 5)
      assert.strictEqual(all.body.has_more, false)
    }))

  it.scoped("the tag filter reads every documented query form", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const red = (yield* call("POST", "/v2/identities", { body: { external_id: "r", tags: ["red"] } })).body._id
      const blue = (yield* call("POST", "/v2/identities", { body: { external_id: "b", tags: ["blue"] } })).body._id
      yield* call("POST", "/v2/identities", { body: { external_id: "g", tags: ["green"] } })
      const forms = [
        "tags=red,blue",
        "filter_by.tags=red&filter_by.tags=blue",
        `filter_by=${encodeURIComponent(JSON.stringify({ tags: ["red", "blue"] }))}`,
        `filter_by=${encodeURIComponent("tags=red,blue")}`
      ]
      for (const form of forms) {
        const page = yield* call("GET", `/v2/identities?${form}`)
        assert.strictEqual(page.status, 200, form)
        deepStrictEqual(page.body.data.map((item: any) => item._id).sort(), [red, blue].sort(), form)
      }
    }))

  it.scoped("a duplicate external_id: 409, and nothing is created", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      yield* call("POST", "/v2/identities", { body: RICH })
      const again = yield* call("POST", "/v2/identities", { body: { ...RICH, display_name: "Other" } })
      assert.strictEqual(again.status, 409)
      assert.include(again.body.error, RICH.external_id)
      const page = yield* call("GET", "/v2/identities")
      assert.strictEqual(page.body.data.length, 1)
      assert.strictEqual(page.body.data[0].display_name, RICH.display_name)
    }))

  it.scoped("with an API key: 401 when Authorization is missing or wrong, served when right", () =>
    Effect.gen(function*() {
      const { call } = yield* server({ apiKey: API_KEY })
      const refusals = [
        yield* call("GET", "/v2/identities"),
        yield* call("GET", "/v2/identities", { headers: { authorization: "Bearer wrong" } }),
        yield* call("GET", "/v2/identities", { headers: { authorization: Redacted.value(API_KEY) } }),
        yield* call("POST", "/v2/identities", { body: RICH, headers: { authorization: "Bearer " } }),
        yield* call("DELETE", path("x"))
      ]
      for (const answer of refusals) {
        assert.strictEqual(answer.status, 401)
        assert.isString(answer.body.error)
        assert.notInclude(answer.text, Redacted.value(API_KEY))
      }
      // nothing was created by the refused POST
      const page = yield* call("GET", "/v2/identities", { headers: AUTH })
      assert.strictEqual(page.status, 200)
      deepStrictEqual(page.body.data, [])
    }))

  it.scoped("an invalid body or query: 422 with a message naming the field", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      yield* call("POST", "/v2/identities", { body: { external_id: "exists" } })
      const cases = [
        ["POST", "/v2/identities", {}, "external_id"],
        ["POST", "/v2/identities", { external_id: "" }, "external_id"],
        ["POST", "/v2/identities", { external_id: "x".repeat(121) }, "external_id"],
        ["POST", "/v2/identities", { external_id: "u", email: "not-an-email" }, "email"],
        ["POST", "/v2/identities", { external_id: "u", avatar_url: "not a url" }, "avatar_url"],
        ["POST", "/v2/identities", { external_id: "u", tags: "premium" }, "tags"],
        ["POST", "/v2/identities", { external_id: "u", metadata: [1] }, "metadata"],
        ["PATCH", path("exists"), { email: 42 }, "email"],
        ["PATCH", path("exists"), { display_name: ["x"] }, "display_name"],
        ["GET", "/v2/identities?limit=51", undefined, "limit"],
        ["GET", "/v2/identities?limit=0", undefined, "limit"],
        ["GET", "/v2/identities?limit=two", undefined, "limit"]
      ] as const
      for (const [method, at, body, field] of cases) {
        const answer = yield* call(method, at, body === undefined ? {} : { body })
        assert.strictEqual(answer.status, 422, `${method} ${at} ${JSON.stringify(body)}`)
        assert.include(answer.body.message, field)
      }
      const page = yield* call("GET", "/v2/identities")
      deepStrictEqual(page.body.data.map((item: any) => item.external_id), ["exists"])
      assert.strictEqual(page.body.data[0].email, null)
    }))

  it.scoped("a body that is not a JSON object: 400 for broken JSON, 422 for other JSON", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      for (const body of ["{\"external_id\": ", "", "not json", "{'external_id': 'x'}"]) {
        const answer = yield* call("POST", "/v2/identities", { body })
        assert.strictEqual(answer.status, 400, JSON.stringify(body))
        assert.isString(answer.body.message)
      }
      for (const body of ["[]", "null", "\"user\"", "12"]) {
        assert.strictEqual((yield* call("POST", "/v2/identities", { body })).status, 422, body)
      }
    }))

  it.scoped("an oversized body: 413, declared or chunked, and nothing is created", () =>
    Effect.gen(function*() {
      const { call } = yield* server({ maxBodyBytes: 1024 })
      const declared = yield* call("POST", "/v2/identities", {
        body: { external_id: "big", metadata: { blob: "x".repeat(2048) } }
      })
      assert.strictEqual(declared.status, 413)
      // no content-length: the size is only known while reading
      const chunked = yield* call("POST", "/v2/identities", {
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`{"external_id":"big","metadata":{"blob":"`))
            for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode("x".repeat(512)))
            controller.enqueue(new TextEncoder().encode(`"}}`))
            controller.close()
          }
        })
      })
      assert.strictEqual(chunked.status, 413)
      const patch = yield* call("PATCH", path("big"), { body: { display_name: "y".repeat(2048) } })
      assert.strictEqual(patch.status, 413)
      // just under the limit is fine
      const fits = yield* call("POST", "/v2/identities", {
        body: { external_id: "fits", display_name: "z".repeat(900) }
      })
      assert.strictEqual(fits.status, 201)
      const page = yield* call("GET", "/v2/identities")
      deepStrictEqual(page.body.data.map((item: any) => item.external_id), ["fits"])
    }))

  it.scoped("a deeply nested body is refused with a 4xx and the server keeps serving", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      for (const depth of [40, 10_000, 200_000]) {
        const nested = "[".repeat(depth) + "]".repeat(depth)
        const answer = yield* call("POST", "/v2/identities", {
          body: `{"external_id":"deep","metadata":{"x":${nested}}}`
        })
        assert.isAtLeast(answer.status, 400, `depth ${depth}`)
        assert.isBelow(answer.status, 500, `depth ${depth}`)
      }
      const objects = "{\"a\":".repeat(50_000) + "1" + "}".repeat(50_000)
      const patched = yield* call("POST", "/v2/identities", { body: `{"external_id":"deep","metadata":${objects}}` })
      assert.strictEqual(patched.status, 422)
      // still alive, nothing stored
      const page = yield* call("GET", "/v2/identities")
      assert.strictEqual(page.status, 200)
      deepStrictEqual(page.body.data, [])
      assert.strictEqual((yield* call("POST", "/v2/identities", { body: { external_id: "ok" } })).status, 201)
    }))

  it.scoped("every answer carries its own x-request-id", () =>
    Effect.gen(function*() {
      const { call } = yield* server({ apiKey: API_KEY, maxBodyBytes: 1024 })
      const answers = [
        yield* call("POST", "/v2/identities", { body: RICH, headers: AUTH }), // 201
        yield* call("POST", "/v2/identities", { body: RICH, headers: AUTH }), // 409
        yield* call("GET", path(RICH.external_id), { headers: AUTH }), // 200
        yield* call("GET", "/v2/identities", { headers: AUTH }), // 200
        yield* call("PATCH", path("nobody"), { body: {}, headers: AUTH }), // 404
        yield* call("PATCH", path(RICH.external_id), { body: { email: "x" }, headers: AUTH }), // 422
        yield* call("POST", "/v2/identities", { body: "{", headers: AUTH }), // 400
        yield* call("POST", "/v2/identities", { body: "x".repeat(2048), headers: AUTH }), // 413
        yield* call("GET", "/v2/identities"), // 401
        yield* call("GET", "/v2/elsewhere", { headers: AUTH }), // 404, no route
        yield* call("DELETE", path(RICH.external_id), { headers: AUTH }) // 204
      ]
      deepStrictEqual(
        answers.map((answer) => answer.status),
        [201, 409, 200, 200, 404, 422, 400, 413, 401, 404, 204]
      )
      const requestIds = answers.map((answer) => answer.headers.get("x-request-id"))
      for (const requestId of requestIds) assert.isString(requestId)
      assert.strictEqual(new Set(requestIds).size, requestIds.length)
    }))

  it.scoped("ids with '/', space, '?', '#', '%', '+' and non-ASCII round-trip through the path", () =>
    Effect.gen(function*() {
      const { call } = yield* server()
      const odd = ["a/b", "a b", "a?b=c", "a#b", "50%", "%2F", "a+b", "é✓🙂", "a;b:c@d,e=f&g$h", "../x"]
      for (const externalId of odd) {
        const created = yield* call("POST", "/v2/identities", { body: { external_id: externalId } })
        assert.strictEqual(created.status, 201, externalId)
        const retrieved = yield* call("GET", path(externalId))
        assert.strictEqual(retrieved.status, 200, externalId)
        assert.strictEqual(retrieved.body.external_id, externalId)
        assert.strictEqual(retrieved.body._id, created.body._id)
        const updated = yield* call("PATCH", path(externalId), { body: { display_name: externalId } })
        assert.strictEqual(updated.body.display_name, externalId)
        const missing = yield* call("GET", path(`${externalId}-missing`))
        assert.strictEqual(missing.status, 404)
        assert.include(missing.body.error, `${externalId}-missing`)
      }
      for (const externalId of odd) {
        assert.strictEqual((yield* call("DELETE", path(externalId))).status, 204, externalId)
      }
      deepStrictEqual((yield* call("GET", "/v2/identities")).body.data, [])
    }))
})

describe("FakeOrq, external ids of the contract's full length", () => {
  // 120 characters: 120 UTF-16 units, 240 (one emoji is two), and 120 that are 360 once percent-encoded
  const LONGEST = ["a".repeat(120), "\u{1F642}".repeat(120), "%".repeat(120)]
  for (const generation of ["seed", "current"] as const) {
    it.scoped(`${generation}: get, update and delete reach an identity by a 120-character external id`, () =>
      Effect.gen(function*() {
        const { call } = yield* server({ generation })
        const unwrap = (body: any) => generation === "current" ? body.identity : body
        for (const externalId of LONGEST) {
          const created = yield* call("POST", "/v2/identities", { body: { external_id: externalId } })
          assert.strictEqual(created.status, 201)
          const retrieved = yield* call("GET", path(externalId))
          assert.strictEqual(retrieved.status, 200, `GET ${externalId}`)
          assert.strictEqual(unwrap(retrieved.body).external_id, externalId)
          const updated = yield* call("PATCH", path(externalId), { body: { display_name: "Long" } })
          assert.strictEqual(updated.status, 200, `PATCH ${externalId}`)
          assert.strictEqual(unwrap(updated.body).display_name, "Long")
          const deleted = yield* call("DELETE", path(externalId))
          assert.strictEqual(deleted.status, generation === "current" ? 200 : 204, `DELETE ${externalId}`)
          // the handler answers for an id it does not know, not the router
          const gone = yield* call("GET", path(externalId))
          assert.strictEqual(gone.status, 404)
          assert.include(gone.body.error, externalId)
        }
        // one too long to exist is unknown like any other id
        const tooLong = yield* call("GET", path("\u{1F642}".repeat(121)))
        assert.strictEqual(tooLong.status, 404)
        assert.include(tooLong.body.error, "\u{1F642}".repeat(121))
      }))
  }
})

describe("FakeOrq, current generation, on the wire", () => {
  it.scoped("create: 201 {identity} with workspace_id and a Location; retrieve and update: 200 {identity}", () =>
    Effect.gen(function*() {
      const { call } = yield* server({ generation: "current" })
      const created = yield* call("POST", "/v2/identities", { body: RICH })
      assert.strictEqual(created.status, 201)
      deepStrictEqual(Object.keys(created.body), ["identity"])
      const identity = created.body.identity
      assert.strictEqual(identity.workspace_id, FakeOrq.WORKSPACE_ID)
      assert.strictEqual(created.headers.get("location"), path(identity._id))
      const { _id, created: createdAt, updated, workspace_id: _, ...rest } = identity
      deepStrictEqual(rest, RICH)
      assert.match(createdAt, ISO)
      assert.strictEqual(updated, createdAt)

      const retrieved = yield* call("GET", path(RICH.external_id))
      assert.strictEqual(retrieved.status, 200)
      deepStrictEqual(retrieved.body, { identity })

      const patched = yield* call("PATCH", path(_id), { body: { display_name: "Jane S.", tags: ["x"] } })
      assert.strictEqual(patched.status, 200)
      assert.strictEqual(patched.body.identity.display_name, "Jane S.")
      deepStrictEqual(patched.body.identity.tags, ["x"])
      assert.strictEqual(patched.body.identity.workspace_id, FakeOrq.WORKSPACE_ID)
    }))

  it.scoped("no answer holds a null: absent text fields and cleared ones are left out", () =>
    Effect.gen(function*() {
      const { call } = yield* server({ generation: "current" })
      const answers = [
        yield* call("POST", "/v2/identities", { body: { external_id: "minimal" } }),
        yield* call("POST", "/v2/identities", { body: RICH }),
        yield* call("PATCH", path(RICH.external_id), { body: { email: null, avatar_url: null } }),
        yield* call("GET", path("minimal")),
        yield* call("GET", `${path("minimal")}?include_metrics=true`),
        yield* call("GET", "/v2/identities"),
        yield* call("GET", "/v2/identities?include_metrics=true")
      ]
      for (const answer of answers) {
        assert.strictEqual(answer.status < 300, true)
        deepStrictEqual(nullPaths(answer.body), [])
      }
      assert.notProperty(answers[2].body.identity, "email")
      assert.notProperty(answers[2].body.identity, "avatar_url")
      assert.strictEqual(answers[2].body.identity.display_name, RICH.display_name)
      assert.notProperty(answers[3].body.identity, "metrics")
      assert.isObject(answers[4].body.identity.metrics)
    }))

  it.scoped("list: every item has a workspace_id, metrics only with include_metrics; delete: 200 {}", () =>
    Effect.gen(function*() {
      const { call } = yield* server({ generation: "current" })
      for (let i = 0; i < 3; i++) yield* call("POST", "/v2/identities", { body: { external_id: `user_${i}` } })
      const page = yield* call("GET", "/v2/identities?limit=2")
      assert.strictEqual(page.status, 200)
      assert.strictEqual(page.body.object, "list")
      assert.strictEqual(page.body.has_more, true)
      assert.strictEqual(page.body.data.length, 2)
      for (const item of page.body.data) {
        assert.strictEqual(item.workspace_id, FakeOrq.WORKSPACE_ID)
        assert.notProperty(item, "metrics")
      }
      const measured = yield* call("GET", "/v2/identities?include_metrics=true")
      assert.isTrue(measured.body.data.every((item: any) => typeof item.metrics?.total_cost === "number"))

      const deleted = yield* call("DELETE", path("user_0"))
      assert.strictEqual(deleted.status, 200)
      deepStrictEqual(deleted.body, {})
      assert.strictEqual((yield* call("GET", path("user_0"))).status, 404)
    }))
})
