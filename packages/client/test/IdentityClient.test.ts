import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { type CreateIdentity, ListIdentities, type UpdateIdentity } from "@orq-effect/domain/Identity"
import { type IdentityError, InvalidRequest } from "@orq-effect/domain/IdentityError"
import {
  Cause,
  Chunk,
  Duration,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Option,
  Redacted,
  Ref,
  Stream,
  TestClock
} from "effect"
import {
  checkCreate,
  checkId,
  checkIdAndUpdate,
  checkList,
  checkUpdate,
  DEFAULT_BASE_URL,
  make,
  MAX_RESPONSE_BYTES,
  type Options,
  type Service
} from "../src/IdentityClient.js"
import { recordSpans } from "./recordSpans.js"

// ---------------------------------------------------------------------------------------------------------------------
// a fake HttpClient that records every request and answers with a web Response
// ---------------------------------------------------------------------------------------------------------------------

/** A canary: if it shows up in an error, the key leaked. */
const KEY = "sk-canary-5d1e9a7c3b"
const BASE = "http://127.0.0.1:4010"

interface Sent {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly method: string
  readonly url: URL
  readonly headers: Headers.Headers
  readonly contentType: string | undefined
  readonly body: string | undefined
}

type Reply = (sent: Sent) => Effect.Effect<Response, HttpClientError.HttpClientError>

const decoder = new TextDecoder()

/** The service over a fake network answering with `reply`, and the requests it has seen so far. */
const setup = (reply: Reply, options: Partial<Options> = {}) =>
  Effect.gen(function*() {
    const log = yield* Ref.make(Chunk.empty<Sent>())
    const httpClient = HttpClient.make((request, url) => {
      const sent: Sent = {
        request,
        method: request.method,
        url,
        headers: request.headers,
        contentType: request.body._tag === "Uint8Array" ? request.body.contentType : undefined,
        body: request.body._tag === "Uint8Array" ? decoder.decode(request.body.body) : undefined
      }
      return Ref.update(log, Chunk.append(sent)).pipe(
        Effect.zipRight(reply(sent)),
        Effect.map((response) => HttpClientResponse.fromWeb(request, response))
      )
    })
    const client = yield* make({ apiKey: Redacted.make(KEY), baseUrl: BASE, ...options }).pipe(
      Effect.provideService(HttpClient.HttpClient, httpClient)
    )
    return { client, sent: Effect.map(Ref.get(log), Chunk.toReadonlyArray) }
  })

const respond = (status: number, body: string | null, headers: Record<string, string> = {}): Reply => () =>
  Effect.sync(() => new Response(body, { status, headers }))

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply =>
  respond(status, JSON.stringify(value), { "content-type": "application/json", ...headers })

const seed = (id: string, externalId = `ext_${id}`) => ({
  _id: id,
  external_id: externalId,
  display_name: null,
  email: null,
  avatar_url: null,
  tags: [],
  metadata: {},
  created: "2024-01-15T10:30:00.000Z",
  updated: "2024-01-15T10:30:00.000Z"
})

/** The typed failure of `effect`: never a success, never a defect, never carrying the API key. */
const failure = <A>(effect: Effect.Effect<A, IdentityError>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got a success`)
    assert.isFalse(Cause.isDie(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`)
    const error = Option.getOrThrow(Cause.failureOption(exit.cause))
    for (const text of [error.message, JSON.stringify(error), String(error)]) {
      // the key's tail: an echo that escapes its start (`\u0073k-…`) still shows it
      assert.notInclude(text, KEY.slice(3))
    }
    return error
  })

/** `error`, checked to have `tag`. */
const tagged = <T extends IdentityError["_tag"]>(error: IdentityError, tag: T) => {
  assert.strictEqual(error._tag, tag, error.message)
  return error as Extract<IdentityError, { readonly _tag: T }>
}

const ok = json(200, seed("id_1"))

/** One call of the service. */
type Call = (client: Service) => Effect.Effect<unknown, IdentityError>

// ---------------------------------------------------------------------------------------------------------------------
// the wire
// ---------------------------------------------------------------------------------------------------------------------

describe("the wire", () => {
  it.effect("retrieve: GET /v2/identities/{id}, bearer key, JSON accepted, include_metrics", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(json(200, seed("id_1")))
      const identity = yield* client.retrieve("id_1", { includeMetrics: true })
      assert.strictEqual(identity.id, "id_1")
      const [request] = yield* sent
      assert.strictEqual(request.method, "GET")
      assert.strictEqual(request.url.href, `${BASE}/v2/identities/id_1?include_metrics=true`)
      assert.strictEqual(request.headers.authorization, `Bearer ${KEY}`)
      assert.strictEqual(request.headers.accept, "application/json")
      assert.isUndefined(request.body)
    }))

  it.effect("retrieve without options sends no query", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      yield* client.retrieve("id_1")
      const [request] = yield* sent
      assert.strictEqual(request.url.search, "")
    }))

  it.effect("an id with '/', space, '?', '#' and non-ASCII is one percent-encoded path segment", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      const id = "a/b c?d#e é"
      yield* client.retrieve(id)
      const [request] = yield* sent
      assert.strictEqual(request.url.pathname, "/v2/identities/a%2Fb%20c%3Fd%23e%20%C3%A9")
      assert.strictEqual(request.url.search, "")
      assert.strictEqual(request.url.hash, "")
    }))

  it.effect("update: PATCH with exactly the snake_case encoding as a JSON body", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      yield* client.update("id_1", { displayName: null, avatarUrl: "https://example.com/a.png", tags: ["x"] })
      yield* client.update("id_1", {})
      const [first, second] = yield* sent
      assert.strictEqual(first.method, "PATCH")
      assert.strictEqual(first.url.href, `${BASE}/v2/identities/id_1`)
      assert.strictEqual(first.contentType, "application/json")
      assert.strictEqual(first.body, `{"display_name":null,"avatar_url":"https://example.com/a.png","tags":["x"]}`)
      assert.strictEqual(first.headers.authorization, `Bearer ${KEY}`)
      assert.strictEqual(second.body, "{}")
    }))

  it.effect("an undefined field means absent: no key for it on the wire, null still clears", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup((request) =>
        request.method === "GET" ? json(200, { object: "list", data: [], has_more: false })(request) : ok(request)
      )
      // what code without exactOptionalPropertyTypes writes: `{ email: form.email }`
      yield* client.update("id_1", { displayName: "Jane", email: undefined, avatarUrl: null, tags: undefined })
      yield* client.update("id_1", { metadata: undefined })
      yield* client.create({ externalId: "u1", displayName: undefined, email: undefined, tags: undefined })
      yield* client.list({ limit: undefined, startingAfter: "id_1", search: undefined, includeMetrics: undefined })
      yield* Stream.runDrain(client.stream({ limit: undefined, tags: undefined }))
      const [patch, empty, create, list, stream] = yield* sent
      assert.strictEqual(patch.body, `{"display_name":"Jane","avatar_url":null}`)
      assert.strictEqual(empty.body, "{}")
      assert.strictEqual(create.body, `{"external_id":"u1"}`)
      deepStrictEqual([...list.url.searchParams], [["starting_after", "id_1"]])
      assert.strictEqual(stream.url.search, "")
      // the checked wire form carries no such key either
      deepStrictEqual(Object.keys(yield* checkUpdate({ email: undefined, tags: undefined })), [])
      deepStrictEqual(Object.keys(yield* checkList({ limit: undefined })), [])
      deepStrictEqual(Object.keys(yield* checkCreate({ externalId: "x", tags: undefined })), ["external_id"])
    }))

  it.effect("create: POST /v2/identities with the snake_case body", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(json(201, seed("id_1", "user_1")))
      const identity = yield* client.create({
        externalId: "user_1",
        email: "ada@example.com",
        metadata: { plan: "pro" }
      })
      assert.strictEqual(identity.externalId, "user_1")
      const [request] = yield* sent
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.url.href, `${BASE}/v2/identities`)
      assert.strictEqual(request.contentType, "application/json")
      assert.strictEqual(request.body, `{"external_id":"user_1","email":"ada@example.com","metadata":{"plan":"pro"}}`)
    }))

  it.effect("delete: DELETE /v2/identities/{id} without a body", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(respond(204, null))
      yield* client.delete("user 1")
      const [request] = yield* sent
      assert.strictEqual(request.method, "DELETE")
      assert.strictEqual(request.url.href, `${BASE}/v2/identities/user%201`)
      assert.isUndefined(request.body)
      assert.strictEqual(request.headers.authorization, `Bearer ${KEY}`)
    }))

  it.effect("list: every parameter under its wire name, tags joined with commas", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(json(200, { object: "list", data: [], has_more: false }))
      yield* client.list({
        limit: 5,
        startingAfter: "id_9",
        search: "jo doe",
        tags: ["premium", "beta user"],
        includeMetrics: true
      })
      yield* client.list({ endingBefore: "id_3" })
      yield* client.list()
      const [all, before, none] = yield* sent
      assert.strictEqual(all.method, "GET")
      assert.strictEqual(all.url.pathname, "/v2/identities")
      deepStrictEqual([...all.url.searchParams], [
        ["limit", "5"],
        ["starting_after", "id_9"],
        ["search", "jo doe"],
        ["tags", "premium,beta user"],
        ["include_metrics", "true"]
      ])
      deepStrictEqual([...before.url.searchParams], [["ending_before", "id_3"]])
      assert.strictEqual(none.url.search, "")
    }))

  it.effect.prop(
    "list sends exactly the query of any valid parameters",
    [ListIdentities],
    ([params]) =>
      Effect.gen(function*() {
        const { client, sent } = yield* setup(json(200, { object: "list", data: [], has_more: false }))
        // at most one cursor: when both were drawn, keep starting_after
        const { endingBefore, ...rest } = params
        const query: ListIdentities = rest.startingAfter === undefined && endingBefore !== undefined
          ? { ...rest, endingBefore }
          : rest
        yield* client.list(query)
        const [request] = yield* sent
        const expected: Array<[string, string]> = []
        if (query.limit !== undefined) expected.push(["limit", String(query.limit)])
        if (query.startingAfter !== undefined) expected.push(["starting_after", query.startingAfter])
        if (query.endingBefore !== undefined) expected.push(["ending_before", query.endingBefore])
        if (query.search !== undefined) expected.push(["search", query.search])
        if (query.tags !== undefined && query.tags.length > 0) expected.push(["tags", query.tags.join(",")])
        if (query.includeMetrics !== undefined) expected.push(["include_metrics", String(query.includeMetrics)])
        deepStrictEqual([...request.url.searchParams], expected)
      }),
    { timeout: 60_000, fastCheck: { numRuns: 100 } }
  )

  for (
    const [name, baseUrl, expected] of [
      ["a trailing slash", "http://127.0.0.1:4010/", "http://127.0.0.1:4010/v2/identities"],
      ["several trailing slashes", "http://127.0.0.1:4010///", "http://127.0.0.1:4010/v2/identities"],
      ["a base path", "http://127.0.0.1:4010/proxy/orq/", "http://127.0.0.1:4010/proxy/orq/v2/identities"],
      ["the default", undefined, `${DEFAULT_BASE_URL}/v2/identities`]
    ] as const
  ) {
    it.effect(`base URL with ${name}`, () =>
      Effect.gen(function*() {
        const { client, sent } = yield* setup(json(200, { object: "list", data: [], has_more: false }), { baseUrl })
        yield* client.list()
        const [request] = yield* sent
        assert.strictEqual(request.url.href, expected)
      }))
  }

  it.effect("metadata that throws when read is InvalidRequest, from the effect, not thrown; nothing sent", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      const metadata = {
        get plan(): string {
          throw new Error("gone")
        }
      }
      for (
        const call of [() => client.update("id_1", { metadata }), () => client.create({ externalId: "e", metadata })]
      ) {
        const error = tagged(yield* failure(Effect.suspend(call)), "InvalidRequest")
        assert.include(error.message, "threw")
      }
      deepStrictEqual(yield* sent, [])
    }))

  it.effect("a body the schema accepts but JSON.stringify refuses is InvalidRequest, nothing sent", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      // a getter that throws on the first read after those of the schema's check: JSON.stringify's
      let reads = 0
      let allowed = Number.POSITIVE_INFINITY
      const metadata = {
        get plan() {
          reads++
          if (reads > allowed) throw new Error("gone")
          return "pro"
        }
      }
      yield* checkUpdate({ metadata })
      allowed = reads
      reads = 0
      const error = tagged(yield* failure(client.update("id_1", { metadata })), "InvalidRequest")
      assert.strictEqual(error.field, "input")
      assert.strictEqual(error.message, "the request body could not be encoded")
      deepStrictEqual(yield* sent, [])
    }))

  it.effect("a base URL that is not a URL is refused as InvalidRequest, nothing sent", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok, { baseUrl: "not a url" })
      const error = tagged(yield* failure(client.retrieve("id_1")), "InvalidRequest")
      assert.strictEqual(error.field, "baseUrl")
      deepStrictEqual(yield* sent, [])
    }))
})

// ---------------------------------------------------------------------------------------------------------------------
// answers
// ---------------------------------------------------------------------------------------------------------------------

describe("successful answers", () => {
  it.effect("create accepts 200 and 201, flat or wrapped", () =>
    Effect.gen(function*() {
      for (const reply of [json(201, seed("a")), json(200, seed("a")), json(201, { identity: seed("a") })]) {
        const { client } = yield* setup(reply)
        const identity = yield* client.create({ externalId: "ext_a" })
        assert.strictEqual(identity.id, "a")
      }
    }))

  it.effect("delete accepts 204 and `200 {}`", () =>
    Effect.gen(function*() {
      for (const reply of [respond(204, null), json(200, {}), respond(200, "")]) {
        const { client } = yield* setup(reply)
        yield* client.delete("a")
      }
    }))

  it.effect("list reads a page", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(json(200, { object: "list", data: [seed("a"), seed("b")], has_more: true }))
      const page = yield* client.list({ limit: 2 })
      deepStrictEqual(page.data.map((identity) => identity.id), ["a", "b"])
      assert.isTrue(page.hasMore)
    }))
})

describe("failed answers map to typed errors", () => {
  const rid = { "x-request-id": "req_42" }

  interface Case {
    readonly name: string
    readonly reply: Reply
    readonly call: Call
    readonly check: (error: IdentityError) => void
    readonly requestId?: string | undefined
  }

  const retrieve = (client: Service) => client.retrieve("id_1")
  const create = (client: Service) => client.create({ externalId: "user_1" })

  const cases: ReadonlyArray<Case> = [
    {
      name: "400 {message}",
      reply: json(400, { message: "display_name is too long" }, rid),
      call: (client) => client.update("id_1", { displayName: "x" }),
      check: (error) => {
        const e = tagged(error, "InvalidRequest")
        assert.strictEqual(e.status, 400)
        assert.strictEqual(e.message, "display_name is too long")
      },
      requestId: "req_42"
    },
    {
      name: "401 {error: string}",
      reply: json(401, { error: "Invalid API key" }, rid),
      call: retrieve,
      check: (error) => {
        const e = tagged(error, "Unauthorized")
        assert.strictEqual(e.status, 401)
        assert.strictEqual(e.message, "Invalid API key")
      },
      requestId: "req_42"
    },
    {
      name: "403 {error: {code, message, doc_url}}",
      reply: json(403, { error: { code: "forbidden", message: "Not allowed", doc_url: "https://docs.orq.ai" } }),
      call: retrieve,
      check: (error) => {
        const e = tagged(error, "Unauthorized")
        assert.strictEqual(e.status, 403)
        assert.strictEqual(e.message, "Not allowed")
      }
    },
    {
      name: "404 {error} on retrieve",
      reply: json(404, { error: "Identity not found" }, rid),
      call: retrieve,
      check: (error) => {
        const e = tagged(error, "NotFound")
        assert.strictEqual(e.id, "id_1")
        assert.strictEqual(e.message, "Identity not found")
      },
      requestId: "req_42"
    },
    {
      name: "404 {message} on update",
      reply: json(404, { message: "Identity not found" }),
      call: (client) => client.update("user 7", {}),
      check: (error) => assert.strictEqual(tagged(error, "NotFound").id, "user 7")
    },
    {
      name: "404 without a body on delete",
      reply: respond(404, null),
      call: (client) => client.delete("id_9"),
      check: (error) => assert.include(tagged(error, "NotFound").message, "id_9")
    },
    {
      name: "409 {id, code, error, source} on create",
      reply: json(409, { id: "err_1", code: "conflict", error: "external_id already exists", source: "api" }, rid),
      call: create,
      check: (error) => {
        const e = tagged(error, "Conflict")
        assert.strictEqual(e.externalId, "user_1")
        assert.strictEqual(e.message, "external_id already exists")
      },
      requestId: "req_42"
    },
    {
      name: "422",
      reply: json(422, { message: "email is invalid" }),
      call: create,
      check: (error) => {
        const e = tagged(error, "InvalidRequest")
        assert.strictEqual(e.status, 422)
        assert.strictEqual(e.message, "email is invalid")
      }
    },
    {
      name: "500",
      reply: json(500, { message: "boom" }, rid),
      call: retrieve,
      check: (error) => {
        const e = tagged(error, "ServerError")
        assert.strictEqual(e.status, 500)
        assert.strictEqual(e.message, "boom")
      },
      requestId: "req_42"
    },
    {
      name: "502 with an HTML page",
      reply: respond(502, "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", {
        "content-type": "text/html"
      }),
      call: retrieve,
      check: (error) => {
        const e = tagged(error, "ServerError")
        assert.strictEqual(e.status, 502)
        assert.strictEqual(e.message, "the server answered with an HTML page")
      }
    },
    {
      name: "503 with plain text",
      reply: respond(503, "upstream overloaded", rid),
      call: (client) => client.list(),
      check: (error) => {
        const e = tagged(error, "ServerError")
        assert.strictEqual(e.status, 503)
        assert.strictEqual(e.message, "upstream overloaded")
      },
      requestId: "req_42"
    },
    {
      name: "200 with an HTML body",
      reply: respond(200, "<html><body>hello</body></html>", { "content-type": "text/html", ...rid }),
      call: retrieve,
      check: (error) => assert.strictEqual(tagged(error, "MalformedResponse").status, 200),
      requestId: "req_42"
    },
    {
      name: "200 with truncated JSON",
      reply: respond(200, JSON.stringify(seed("id_1")).slice(0, 40)),
      call: retrieve,
      check: (error) => assert.strictEqual(tagged(error, "MalformedResponse").status, 200)
    },
    {
      name: "200 with the wrong shape",
      reply: json(200, { id: "id_1", name: "not an identity" }),
      call: (client) => client.update("id_1", {}),
      check: (error) => assert.include(tagged(error, "MalformedResponse").message, "not an identity")
    },
    {
      name: "200 nested 10,000 deep (a defect once: formatting the value overflowed the stack)",
      reply: respond(200, `{"_id":${"[".repeat(10_000)}${"]".repeat(10_000)},"external_id":"x"}`),
      call: retrieve,
      check: (error) => assert.include(tagged(error, "MalformedResponse").message, "_id: expected string")
    },
    {
      name: "200 whose wrong date is not quoted (it may be personal data)",
      reply: json(200, { ...seed("id_1"), created: "alice@example.com" }),
      call: retrieve,
      check: (error) => {
        const message = tagged(error, "MalformedResponse").message
        assert.include(message, "created: expected DateTimeUtc")
        assert.notInclude(message, "alice")
      }
    },
    {
      name: "200 whose wrong tag is not quoted (it may be personal data)",
      reply: json(200, { ...seed("id_1"), tags: [{ email: "bob@example.com" }] }),
      call: retrieve,
      check: (error) => {
        const message = tagged(error, "MalformedResponse").message
        assert.include(message, "tags.0: expected string")
        assert.notInclude(message, "bob")
      }
    },
    {
      name: "200 with an empty body on retrieve",
      reply: respond(200, ""),
      call: retrieve,
      check: (error) => assert.include(tagged(error, "MalformedResponse").message, "the body is empty")
    },
    {
      name: "200 without a body on update",
      reply: respond(200, null),
      call: (client) => client.update("id_1", {}),
      check: (error) => assert.include(tagged(error, "MalformedResponse").message, "the body is empty")
    },
    {
      name: "201 with a list page instead of an identity",
      reply: json(201, { object: "list", data: [], has_more: false }),
      call: create,
      check: (error) => assert.strictEqual(tagged(error, "MalformedResponse").status, 201)
    },
    {
      name: "200 list without has_more",
      reply: json(200, { object: "list", data: [] }, rid),
      call: (client) => client.list(),
      check: (error) => assert.include(tagged(error, "MalformedResponse").message, "has_more"),
      requestId: "req_42"
    },
    {
      name: "a 2xx declared larger than MAX_RESPONSE_BYTES",
      reply: respond(200, "{}", { "content-length": String(MAX_RESPONSE_BYTES + 1), ...rid }),
      call: retrieve,
      check: (error) => assert.include(tagged(error, "MalformedResponse").message, "larger than"),
      requestId: "req_42"
    },
    {
      name: "a 500 declared larger than MAX_RESPONSE_BYTES is still a ServerError",
      reply: respond(500, "{}", { "content-length": String(MAX_RESPONSE_BYTES + 1), ...rid }),
      call: retrieve,
      check: (error) => {
        const e = tagged(error, "ServerError")
        assert.strictEqual(e.status, 500)
        assert.strictEqual(e.message, "the server answered 500")
      },
      requestId: "req_42"
    },
    {
      name: "402, undocumented for identities",
      reply: json(402, { message: "payment required" }),
      call: retrieve,
      check: (error) => assert.strictEqual(tagged(error, "ServerError").status, 402)
    }
  ]

  for (const { call, check, name, reply, requestId } of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { client } = yield* setup(reply)
        const error = yield* failure(call(client))
        check(error)
        assert.strictEqual("requestId" in error ? error.requestId : undefined, requestId)
      }))
  }

  describe("429", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    const rateLimited = (headers: Record<string, string>) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(now)
        const reply = json(429, { message: "Too many requests" }, { "x-request-id": "r", ...headers })
        const { client } = yield* setup(reply)
        const error = tagged(yield* failure(client.retrieve("id_1")), "RateLimited")
        assert.strictEqual(error.requestId, "r")
        assert.include(error.message, "Too many requests")
        return error
      })
    const wait = (error: { readonly retryAfter?: Duration.Duration | undefined }) =>
      error.retryAfter === undefined ? undefined : Duration.toMillis(error.retryAfter)

    it.effect("Retry-After in integer seconds", () =>
      Effect.map(rateLimited({ "retry-after": "2" }), (error) => assert.strictEqual(wait(error), 2000)))

    it.effect("Retry-After in fractional seconds", () =>
      Effect.map(rateLimited({ "retry-after": "1.5" }), (error) => assert.strictEqual(wait(error), 1500)))

    it.effect("Retry-After as an HTTP date, relative to the clock", () =>
      Effect.map(
        rateLimited({ "retry-after": new Date(now + 30_000).toUTCString() }),
        (error) => assert.strictEqual(wait(error), 30_000)
      ))

    it.effect("retry-after-ms wins over Retry-After", () =>
      Effect.map(
        rateLimited({ "retry-after-ms": "250", "retry-after": "9" }),
        (error) => assert.strictEqual(wait(error), 250)
      ))

    it.effect("the X-RateLimit-* values", () =>
      Effect.map(
        rateLimited({ "x-ratelimit-limit": "600", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "17" }),
        (error) => {
          deepStrictEqual([error.limit, error.remaining, error.reset], [600, 0, 17])
          assert.isUndefined(error.retryAfter)
        }
      ))

    it.effect("without any header", () =>
      Effect.map(rateLimited({}), (error) => {
        assert.isUndefined(error.retryAfter)
        deepStrictEqual([error.limit, error.remaining, error.reset], [undefined, undefined, undefined])
      }))
  })

  it.effect("a 2xx streamed without a length stops being read past MAX_RESPONSE_BYTES", () =>
    Effect.gen(function*() {
      const chunk = new Uint8Array(1024 * 1024).fill(32)
      let pulls = 0
      const { client } = yield* setup(() =>
        Effect.sync(() =>
          new Response(
            new ReadableStream<Uint8Array>({
              pull(controller) {
                pulls++
                if (pulls > 64) controller.close()
                else controller.enqueue(chunk)
              }
            }),
            { status: 200, headers: { "x-request-id": "big" } }
          )
        )
      )
      const error = tagged(yield* failure(client.retrieve("id_1")), "MalformedResponse")
      assert.include(error.message, "larger than")
      assert.strictEqual(error.requestId, "big")
      assert.isBelow(pulls, MAX_RESPONSE_BYTES / chunk.length + 4)
    }))

  it.effect("a timeout added through transformClient covers the body: a body that stalls is a TransportError Timeout", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(
        () => Effect.sync(() => new Response(new ReadableStream<Uint8Array>({ start: () => {} }), { status: 200 })),
        {
          transformClient: HttpClient.transformResponse(Effect.timeoutFail({
            duration: Duration.seconds(2),
            onTimeout: () =>
              new HttpClientError.RequestError({
                request: HttpClientRequest.get(BASE),
                reason: "Transport",
                cause: new Cause.TimeoutException("no answer within 2s")
              })
          }))
        }
      )
      const fiber = yield* Effect.fork(Effect.flip(client.retrieve("id_1")))
      yield* TestClock.adjust(Duration.seconds(3))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(tagged(error, "TransportError").reason, "Timeout")
    }))

  it.effect("a body that breaks while read is a TransportError", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(() =>
        Effect.sync(() =>
          new Response(
            new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(new TextEncoder().encode(`{"_id":`))
                controller.error(new Error("socket hang up"))
              }
            }),
            { status: 200 }
          )
        )
      )
      const error = tagged(yield* failure(client.retrieve("id_1")), "TransportError")
      assert.strictEqual(error.reason, "Connection")
      assert.include(error.message, "the connection broke while reading the 200 answer: socket hang up")
    }))

  it.effect("a 429 whose body breaks while read keeps its Retry-After", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(() =>
        Effect.sync(() =>
          new Response(
            new ReadableStream<Uint8Array>({
              start(controller) {
                controller.error(new Error("socket hang up"))
              }
            }),
            { status: 429, headers: { "retry-after": "3" } }
          )
        )
      )
      const error = tagged(yield* failure(client.retrieve("id_1")), "RateLimited")
      assert.strictEqual(error.retryAfter === undefined ? undefined : Duration.toMillis(error.retryAfter), 3000)
    }))

  it.effect("a transport failure is TransportError Connection", () =>
    Effect.gen(function*() {
      const { client } = yield* setup((sent) =>
        Effect.fail(
          new HttpClientError.RequestError({
            request: sent.request,
            reason: "Transport",
            cause: new Error("connect ECONNREFUSED")
          })
        )
      )
      const error = tagged(yield* failure(client.retrieve("id_1")), "TransportError")
      assert.strictEqual(error.reason, "Connection")
      assert.include(error.message, "ECONNREFUSED")
      assert.include(error.message, "GET /v2/identities/id_1")
    }))

  it.effect("a transport timeout is TransportError Timeout", () =>
    Effect.gen(function*() {
      const { client } = yield* setup((sent) =>
        Effect.fail(
          new HttpClientError.RequestError({
            request: sent.request,
            reason: "Transport",
            cause: new Cause.TimeoutException("timed out after 10s")
          })
        )
      )
      const error = tagged(yield* failure(client.delete("id_1")), "TransportError")
      assert.strictEqual(error.reason, "Timeout")
    }))

  it.effect("a status error raised by transformClient (filterStatusOk) still maps by status", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(json(404, { error: "nope" }, rid), { transformClient: HttpClient.filterStatusOk })
      const error = tagged(yield* failure(client.retrieve("id_1")), "NotFound")
      assert.strictEqual(error.requestId, "req_42")
    }))
})

// ---------------------------------------------------------------------------------------------------------------------
// input checks
// ---------------------------------------------------------------------------------------------------------------------

/** `input` with a getter `key` that throws when read. */
/** `A` with keys it does not know, as a value built outside the compiler's sight has them. */
type Loose<A> = A & { readonly [key: PropertyKey]: unknown }

const throwing = <A extends object>(input: A, key: string): A =>
  Object.defineProperty({ ...input }, key, {
    enumerable: true,
    get: () => {
      throw new Error("getter threw")
    }
  })

describe("refused input sends nothing", () => {
  const refusals: ReadonlyArray<readonly [string, Call, string]> = [
    ["an empty id", (client) => client.retrieve(""), "id"],
    ["a blank id", (client) => client.update("  \t", {}), "id"],
    ["the id '.'", (client) => client.delete("."), "id"],
    ["the id '..'", (client) => client.retrieve(".."), "id"],
    ["an id with a lone surrogate", (client) => client.delete("a\uD800b"), "id"],
    ["a bad email on create", (client) => client.create({ externalId: "a", email: "nope" }), "email"],
    ["a bad email on update", (client) => client.update("a", { email: "a@b" }), "email"],
    ["a bad avatar URL", (client) => client.update("a", { avatarUrl: "nope" }), "avatarUrl"],
    ["an external_id of 121 characters", (client) => client.create({ externalId: "x".repeat(121) }), "externalId"],
    ["limit 51", (client) => client.list({ limit: 51 }), "limit"],
    ["limit 0", (client) => client.list({ limit: 0 }), "limit"],
    ["limit 2.5", (client) => client.list({ limit: 2.5 }), "limit"],
    ["both cursors", (client) => client.list({ startingAfter: "a", endingBefore: "b" }), "startingAfter"],
    ["a blank cursor", (client) => client.list({ endingBefore: " " }), "endingBefore"],
    ["metadata that is not JSON", (client) => client.create({ externalId: "a", metadata: { n: 1n } }), "metadata"],
    ["a stream with a bad limit", (client) => Stream.runDrain(client.stream({ limit: 99 })), "limit"],
    ["a create whose getter throws", (client) => client.create(throwing({ externalId: "a" }, "email")), "input"],
    ["a list whose getter throws", (client) => client.list(throwing({}, "limit")), "input"]
  ]

  for (const [name, call, field] of refusals) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { client, sent } = yield* setup(ok)
        const error = tagged(yield* failure(call(client)), "InvalidRequest")
        assert.strictEqual(error.field, field)
        assert.isTrue(error.message.startsWith(field), error.message)
        assert.isUndefined(error.status)
        deepStrictEqual(yield* sent, [])
      }))
  }

  it.effect("a blank API key is refused before any request", () =>
    Effect.gen(function*() {
      for (const apiKey of ["", "   "]) {
        const { client, sent } = yield* setup(ok, { apiKey: Redacted.make(apiKey) })
        const calls = [client.retrieve("a"), client.list(), client.delete("a"), client.create({ externalId: "a" })]
        for (const call of calls) {
          const error = tagged(yield* failure(call), "InvalidRequest")
          assert.strictEqual(error.field, "apiKey")
        }
        deepStrictEqual(yield* sent, [])
      }
    }))

  it.effect("a base URL that would send elsewhere, or send its credentials, is refused without quoting it", () =>
    Effect.gen(function*() {
      // each would have sent every request somewhere else (`…/api?/v2/identities/…`, `//v2/…`), or leaked a password
      const refused = [
        "http://127.0.0.1:9/api?x=1",
        "http://127.0.0.1:9/api?",
        "http://127.0.0.1:9/api#frag",
        "http://127.0.0.1:9/\n",
        "http://admin:hunter2@127.0.0.1:9",
        "ftp://127.0.0.1:9",
        "not a url"
      ]
      for (const baseUrl of refused) {
        const { client, sent } = yield* setup(ok, { baseUrl })
        const error = tagged(yield* failure(client.delete("user_1")), "InvalidRequest")
        assert.strictEqual(error.field, "baseUrl", baseUrl)
        assert.notInclude(error.message, "hunter2")
        deepStrictEqual(yield* sent, [])
      }
    }))

  it.effect("a base URL's trailing slashes and dot segments are resolved before the path is added", () =>
    Effect.gen(function*() {
      for (const baseUrl of ["http://127.0.0.1:9/api//", "http://127.0.0.1:9/api/v1/.."]) {
        const { client, sent } = yield* setup(ok, { baseUrl })
        yield* client.retrieve("user_1")
        deepStrictEqual((yield* sent).map((s) => s.url.href), ["http://127.0.0.1:9/api/v2/identities/user_1"])
      }
    }))

  it.effect("an API key that cannot go into a header is refused before any request, without quoting it", () =>
    Effect.gen(function*() {
      // a key read from a file keeps its newline: node:http throws on such a header, fetch on CR LF or non-Latin-1
      for (const apiKey of [`${KEY}\n`, `${KEY}\r\nX-Injected: 1`, `sk canary`, `sk-café`]) {
        const { client, sent } = yield* setup(ok, { apiKey: Redacted.make(apiKey) })
        const error = tagged(yield* failure(client.retrieve("a")), "InvalidRequest")
        assert.strictEqual(error.field, "apiKey")
        assert.notInclude(error.message, "canary")
        deepStrictEqual(yield* sent, [])
      }
    }))

  it.effect("every offending field is named, not just the first", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(checkUpdate({ email: "nope", avatarUrl: "nope" }))
      assert.strictEqual(error.field, "email")
      assert.strictEqual(error.message, "email: must be a valid email address; avatarUrl: must be an absolute URL")
      const createError = yield* Effect.flip(checkCreate({ externalId: "", tags: [""] }))
      assert.include(createError.message, "externalId: ")
      assert.include(createError.message, "tags.0: ")
      const listError = yield* Effect.flip(checkList({ limit: 0, search: "ok", tags: ["a,b"] }))
      assert.include(listError.message, "limit: ")
      assert.include(listError.message, "tags.0: ")
    }))

  it.effect("an unknown key (a typo, a wire name) is refused and named, not dropped from what is sent", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      // an object built elsewhere (JavaScript, parsed JSON, a wider type): the compiler does not see the extra key
      const typo: Loose<UpdateIdentity> = { displayNmae: "Jane" }
      const wireName: Loose<UpdateIdentity> = { display_name: "Jane" }
      const create: Loose<CreateIdentity> = { externalId: "u1", display_name: "x" }
      const list: Loose<ListIdentities> = { limit: 5, starting_after: "id_1" }
      const refused: ReadonlyArray<readonly [Effect.Effect<unknown, IdentityError>, string]> = [
        [client.update("user_1", typo), "displayNmae"],
        [client.update("user_1", wireName), "display_name"],
        [client.create(create), "display_name"],
        [client.list(list), "starting_after"],
        [Stream.runDrain(client.stream(list)), "starting_after"]
      ]
      for (const [call, key] of refused) {
        const error = tagged(yield* failure(call), "InvalidRequest")
        assert.strictEqual(error.field, key, error.message)
        assert.isTrue(error.message.startsWith(`${key}: is not a known field`), error.message)
        assert.isUndefined(error.status)
      }
      deepStrictEqual(yield* sent, [])
    }))

  it.effect("every unknown key is named with the other offending fields, a symbol key too", () =>
    Effect.gen(function*() {
      const patch: Loose<UpdateIdentity> = { email: "nope", colour: "red", [Symbol.for("tag")]: 1 }
      const error = yield* Effect.flip(checkUpdate(patch))
      assert.include(error.message, "colour: is not a known field")
      assert.include(error.message, "Symbol(tag): is not a known field")
      assert.include(error.message, "email: must be a valid email address")
      // the value is not quoted
      assert.notInclude(error.message, "red")
    }))

  it.effect("an update with a bad id and a bad patch names both in one InvalidRequest", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(ok)
      const error = tagged(yield* failure(client.update(" ", { email: "nope", avatarUrl: "nope" })), "InvalidRequest")
      assert.strictEqual(error.field, "id")
      assert.strictEqual(
        error.message,
        "id: must not be empty or blank; email: must be a valid email address; avatarUrl: must be an absolute URL"
      )
      deepStrictEqual(yield* sent, [])
      // either alone is reported alone
      deepStrictEqual(
        yield* Effect.flip(checkIdAndUpdate("", {})),
        new InvalidRequest({ field: "id", message: "id: must not be empty or blank" })
      )
      deepStrictEqual(
        yield* Effect.flip(checkIdAndUpdate("user_1", { email: "nope" })),
        new InvalidRequest({ field: "email", message: "email: must be a valid email address" })
      )
      deepStrictEqual(yield* checkIdAndUpdate("user_1", { email: null, displayName: undefined }), { email: null })
    }))

  it.effect("checkId passes a usable id through", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* checkId("user_1"), "user_1")
      assert.strictEqual(yield* checkId("..."), "...")
      const error = yield* Effect.flip(checkId("", "startingAfter"))
      assert.strictEqual(error.field, "startingAfter")
    }))
})

describe("hostile ids stay one path segment", () => {
  const hostile = [
    "../admin",
    "../../v1/keys",
    "a?b=c",
    "a#b",
    "%2F",
    "%2e%2e",
    "a\r\nX-Injected: 1",
    "a/../../b",
    "./a",
    "a b",
    "…",
    "🙂"
  ]
  type CallWithId = (client: Service, id: string) => Effect.Effect<unknown, IdentityError>
  const calls: ReadonlyArray<readonly [string, CallWithId]> = [
    ["retrieve", (client, id) => client.retrieve(id)],
    ["update", (client, id) => client.update(id, { displayName: "x" })],
    ["delete", (client, id) => client.delete(id)]
  ]

  /** Ours, the body's, and the tracer's propagation headers. */
  const expectedHeaders = ["accept", "authorization", "content-type", "content-length", "traceparent", "b3"]

  /** The request for `id` went to /v2/identities/<one segment that decodes back to id>, with no extra header. */
  const assertOneSegment = (request: Sent, id: string) => {
    const segments = request.url.pathname.split("/")
    assert.strictEqual(segments.length, 4, request.url.pathname)
    deepStrictEqual(segments.slice(0, 3), ["", "v2", "identities"])
    assert.strictEqual(decodeURIComponent(segments[3]), id)
    assert.strictEqual(request.url.search, "")
    assert.strictEqual(request.url.hash, "")
    assert.strictEqual(request.url.origin, BASE)
    for (const [name, value] of Object.entries(request.headers)) {
      assert.include(expectedHeaders, name)
      assert.notMatch(value, /[\r\n]/)
    }
  }

  for (const [name, call] of calls) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { client, sent } = yield* setup(respond(204, null))
        for (const id of hostile) {
          // the answer does not matter here: only what was sent
          yield* Effect.exit(call(client, id))
        }
        const requests = yield* sent
        assert.strictEqual(requests.length, hostile.length)
        requests.forEach((request, i) => assertOneSegment(request, hostile[i]))
      }))
  }

  it.effect.prop(
    "any id is either refused (nothing sent) or sent as one segment",
    [fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom(".", "..", " ", "\uD800", "a\uDC00b"))],
    ([id]) =>
      Effect.gen(function*() {
        const { client, sent } = yield* setup(ok)
        const exit = yield* Effect.exit(client.retrieve(id))
        const requests = yield* sent
        if (Exit.isFailure(exit)) {
          assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
          deepStrictEqual(requests, [])
        } else {
          assert.strictEqual(requests.length, 1)
          assertOneSegment(requests[0], id)
        }
      }),
    { timeout: 60_000, fastCheck: { numRuns: 200 } }
  )
})

// ---------------------------------------------------------------------------------------------------------------------
// stream
// ---------------------------------------------------------------------------------------------------------------------

describe("stream", () => {
  /** Serves ids a..e as pages of two, following `starting_after`. */
  const pages: Reply = (sent) => {
    const all = ["a", "b", "c", "d", "e"]
    const after = sent.url.searchParams.get("starting_after")
    const start = after === null ? 0 : all.indexOf(after) + 1
    const data = all.slice(start, start + 2)
    return json(200, { object: "list", data: data.map((id) => seed(id)), has_more: start + 2 < all.length })(sent)
  }

  it.effect("follows starting_after across pages and stops when has_more is false", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(pages)
      const ids = yield* client.stream({ limit: 2, search: "jo" }).pipe(
        Stream.map((identity) => identity.id),
        Stream.runCollect
      )
      deepStrictEqual(Chunk.toReadonlyArray(ids), ["a", "b", "c", "d", "e"])
      const requests = yield* sent
      deepStrictEqual(requests.map((request) => [...request.url.searchParams]), [
        [["limit", "2"], ["search", "jo"]],
        [["limit", "2"], ["starting_after", "b"], ["search", "jo"]],
        [["limit", "2"], ["starting_after", "d"], ["search", "jo"]]
      ])
    }))

  it.effect("started after an id, it resumes there: the first request carries it as starting_after", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(pages)
      const ids = yield* client.stream({ limit: 2, startingAfter: "b" }).pipe(
        Stream.map((identity) => identity.id),
        Stream.runCollect
      )
      deepStrictEqual(Chunk.toReadonlyArray(ids), ["c", "d", "e"])
      deepStrictEqual((yield* sent).map((request) => [...request.url.searchParams]), [
        [["limit", "2"], ["starting_after", "b"]],
        [["limit", "2"], ["starting_after", "d"]]
      ])
    }))

  it.effect("the id a stream resumes after is a followed cursor: a page after it ending at it is malformed", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(json(200, { object: "list", data: [seed("a"), seed("b")], has_more: true }))
      const error = tagged(yield* failure(Stream.runDrain(client.stream({ startingAfter: "b" }))), "MalformedResponse")
      assert.include(error.message, "the page after b ends at b again")
      assert.strictEqual((yield* sent).length, 1)
    }))

  it.effect("an endingBefore (on a wider value) or a bad startingAfter is refused before any page", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(pages)
      const backwards: ListIdentities = { endingBefore: "c" }
      const error = tagged(yield* failure(Stream.runDrain(client.stream(backwards))), "InvalidRequest")
      assert.strictEqual(error.field, "endingBefore")
      const blank = tagged(yield* failure(Stream.runDrain(client.stream({ startingAfter: " " }))), "InvalidRequest")
      assert.strictEqual(blank.field, "startingAfter")
      deepStrictEqual(yield* sent, [])
    }))

  it.effect("pulls pages only as needed", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(pages)
      const first = yield* client.stream({ limit: 2 }).pipe(Stream.take(2), Stream.runCollect)
      assert.strictEqual(Chunk.size(first), 2)
      assert.strictEqual((yield* sent).length, 1)
    }))

  it.effect("a failing page ends the stream with the typed error, after the items already read", () =>
    Effect.gen(function*() {
      const { client } = yield* setup((sent) =>
        sent.url.searchParams.has("starting_after")
          ? json(503, { message: "try later" }, { "x-request-id": "p2" })(sent)
          : json(200, { object: "list", data: [seed("a")], has_more: true })(sent)
      )
      const seen = yield* Ref.make<Array<string>>([])
      const error = yield* failure(
        client.stream().pipe(Stream.runForEach((identity) => Ref.update(seen, (ids) => [...ids, identity.id])))
      )
      const e = tagged(error, "ServerError")
      assert.strictEqual(e.status, 503)
      assert.strictEqual(e.requestId, "p2")
      deepStrictEqual(yield* Ref.get(seen), ["a"])
    }))

  it.effect("has_more with an empty page is MalformedResponse, not a walk silently cut short", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup((request) =>
        json(200, {
          object: "list",
          data: request.url.searchParams.has("starting_after") ? [] : [seed("a")],
          has_more: true
        })(request)
      )
      const seen = yield* Ref.make<Array<string>>([])
      const error = tagged(
        yield* failure(
          client.stream().pipe(Stream.runForEach((identity) => Ref.update(seen, (ids) => [...ids, identity.id])))
        ),
        "MalformedResponse"
      )
      assert.strictEqual(error.message, "the page has more but is empty: no cursor to follow")
      deepStrictEqual(yield* Ref.get(seen), ["a"])
      assert.strictEqual((yield* sent).length, 2)
    }))

  it.effect("a server that ignores the cursor cannot make the stream loop forever", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(json(200, { object: "list", data: [seed("a"), seed("b")], has_more: true }))
      const error = tagged(yield* failure(Stream.runDrain(client.stream())), "MalformedResponse")
      assert.include(error.message, "b")
      assert.strictEqual((yield* sent).length, 2)
    }))

  it.effect("a page whose last _id cannot be a cursor is the server's fault, not the caller's", () =>
    Effect.gen(function*() {
      for (const id of ["", " ", "..", "a\uD800"]) {
        const { client, sent } = yield* setup(
          json(200, { object: "list", data: [seed("a"), seed(id)], has_more: true })
        )
        const error = tagged(yield* failure(Stream.runDrain(client.stream())), "MalformedResponse")
        assert.include(error.message, "cursor")
        assert.strictEqual((yield* sent).length, 1)
      }
    }))
})

// ---------------------------------------------------------------------------------------------------------------------
// the API key
// ---------------------------------------------------------------------------------------------------------------------

describe("the API key never shows in an error", () => {
  /** A hostile or broken server that echoes the request's Authorization header back. */
  const echo = (status: number, shape: (auth: string) => string): Reply => (sent) =>
    Effect.sync(() => new Response(shape(String(sent.headers.authorization)), { status }))

  const echoes: ReadonlyArray<readonly [string, Reply]> = [
    ["401 {message}", echo(401, (auth) => JSON.stringify({ message: `bad key: ${auth}` }))],
    ["403 {error: {message}}", echo(403, (auth) => JSON.stringify({ error: { message: `denied for ${auth}` } }))],
    ["500 text", echo(500, (auth) => `crash while handling ${auth}`)],
    ["500 text, key past the shortening point", echo(500, (auth) => `${"x".repeat(290)} ${auth}`)],
    ["429", echo(429, (auth) => JSON.stringify({ error: auth }))],
    ["200 not JSON", echo(200, (auth) => `oops ${auth}`)],
    ["200 wrong shape", echo(200, (auth) => JSON.stringify({ _id: "a", external_id: "b", created: auth }))],
    // JSON in no known shape is quoted whole: as re-serialized, so an escaped echo is scrubbed too
    ["401 {detail}, the key \\u-escaped", echo(401, (auth) => `{"detail":"${auth.replace("sk-", "\\u0073k-")}"}`)],
    ["transport", (sent) =>
      Effect.fail(
        new HttpClientError.RequestError({
          request: sent.request,
          reason: "Transport",
          cause: new Error(`proxy refused ${String(sent.headers.authorization)}`)
        })
      )]
  ]

  /** The key echoed as the request id, on an error status, a malformed 2xx and an oversized 2xx. */
  const echoedAsRequestId = (status: number, body: string, headers: Record<string, string> = {}): Reply => (sent) =>
    Effect.sync(() =>
      new Response(body, { status, headers: { "x-request-id": String(sent.headers.authorization), ...headers } })
    )
  for (
    const [name, reply] of [
      ["x-request-id on a 404", echoedAsRequestId(404, "{}")],
      ["x-request-id on a malformed 200", echoedAsRequestId(200, "{}")],
      ["x-request-id on a 200 too large", echoedAsRequestId(200, "{}", { "content-length": "99999999999" })]
    ] as const
  ) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { client } = yield* setup(reply)
        const error = yield* failure(client.retrieve("id_1"))
        assert.strictEqual("requestId" in error ? error.requestId : undefined, "Bearer <redacted>")
      }))
  }

  it.effect("a key with a quote or a backslash is scrubbed as JSON spells it too", () =>
    Effect.gen(function*() {
      const key = `sk-"canary\\5d1e9a7c3b`
      const { client } = yield* setup(echo(401, (auth) => JSON.stringify({ detail: auth })), {
        apiKey: Redacted.make(key)
      })
      const error = yield* Effect.flip(client.retrieve("id_1"))
      assert.include(error.message, "<redacted>")
      assert.notInclude(error.message, "canary")
    }))

  it.effect("a stand-in key too short to be real is not scrubbed out of every word", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(json(401, { message: "the key is invalid" }), { apiKey: Redacted.make("k") })
      const error = yield* Effect.flip(client.retrieve("id_1"))
      assert.strictEqual(error.message, "the key is invalid")
    }))

  for (const [name, reply] of echoes) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { client } = yield* setup(reply)
        // `failure` asserts the key is absent from message, JSON and string form
        yield* failure(client.retrieve("id_1"))
      }))
  }
})

// ---------------------------------------------------------------------------------------------------------------------
// spans
// ---------------------------------------------------------------------------------------------------------------------

describe("spans", () => {
  /** Runs `effect` with the current tracer, keeping every span it starts. */
  const traced = <A, E>(effect: Effect.Effect<A, E>) => Effect.map(recordSpans(effect), ({ spans }) => spans)

  const pii = ["ada@example.com", "Ada Lovelace", "123-45-6789"]

  it.effect("no email, name, search or metadata in any span attribute; the id is there", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(json(200, { object: "list", data: [], has_more: false }))
      const spans = yield* traced(Effect.all([
        client.create({ externalId: "user_1", email: pii[0], displayName: pii[1], metadata: { ssn: pii[2] } }),
        client.update("user_1", { email: pii[0], displayName: pii[1], metadata: { ssn: pii[2] } }),
        client.list({ search: pii[0] }),
        Stream.runDrain(client.stream({ search: pii[1] }))
      ], { mode: "either" }))
      assert.isAbove(spans.length, 4)
      for (const span of spans) {
        for (const [key, value] of span.attributes) {
          // as written, and as a URL would carry it
          const texts = [String(value), decodeURIComponent(String(value).replaceAll("+", " "))]
          for (const text of texts) {
            for (const secret of [...pii, KEY]) assert.notInclude(text, secret, `${span.name} ${key}`)
          }
        }
      }
      const update = spans.find((span) => span.name === "IdentityClient.update")
      assert.strictEqual(update?.attributes.get("orq.identity.id"), "user_1")
      // requests without a search keep their HTTP span
      assert.isTrue(spans.some((span) => span.name === "http.client PATCH"))
    }))

  it.effect("an id that is an email goes into no span: no orq.identity.id, no HTTP span (its URL would hold it)", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* setup(json(200, seed("id_1", pii[0])))
      const spans = yield* traced(Effect.all([
        client.retrieve(pii[0]),
        client.update(pii[0], { tags: ["a"] }),
        client.delete(pii[0]),
        client.create({ externalId: pii[0] }),
        client.list({ startingAfter: pii[0] })
      ], { mode: "either" }))
      assert.strictEqual((yield* sent).length, 5)
      for (const span of spans) {
        assert.isFalse(span.name.startsWith("http.client"), span.name)
        for (const [key, value] of span.attributes) {
          assert.notInclude(decodeURIComponent(String(value)), pii[0], `${span.name} ${key}`)
        }
      }
      deepStrictEqual(
        spans.map((span) => span.name),
        ["retrieve", "update", "delete", "create", "list"].map((name) => `IdentityClient.${name}`)
      )
    }))

  it.effect("no header value the server echoes reaches a span, not even in a header as harmless as content-type", () =>
    Effect.gen(function*() {
      const { client } = yield* setup((sent) =>
        Effect.sync(() =>
          new Response(JSON.stringify(seed("id_1")), {
            headers: {
              "content-type": `application/json; echo="${String(sent.headers.authorization)}"`,
              "retry-after": KEY,
              "x-echo": pii[0]
            }
          })
        )
      )
      const spans = yield* traced(client.retrieve("id_1"))
      const http = spans.find((span) => span.name === "http.client GET")
      assert.isDefined(http)
      assert.isTrue(http?.attributes.has("http.response.header.content-type"))
      for (const span of spans) {
        for (const [key, value] of span.attributes) {
          for (const secret of [pii[0], KEY]) assert.notInclude(String(value), secret, `${span.name} ${key}`)
        }
      }
    }))

  it.effect("an ended span keeps no answer: a page streamed is not held by its span until the span is collected", () =>
    Effect.gen(function*() {
      const { client } = yield* setup((sent) =>
        sent.url.pathname === "/v2/identities"
          ? json(200, { object: "list", data: [seed("id_1")], has_more: false })(sent)
          : json(200, seed("id_1"))(sent)
      )
      const spans = yield* traced(Effect.all([client.list(), client.retrieve("id_1")]))
      const operations = spans.filter((span) => span.name.startsWith("IdentityClient."))
      deepStrictEqual(operations.map((span) => span.name), ["IdentityClient.list", "IdentityClient.retrieve"])
      for (const span of operations) {
        assert.strictEqual(span.status._tag, "Ended")
        if (span.status._tag === "Ended") deepStrictEqual(span.status.exit, Exit.void)
      }
    }))
})
