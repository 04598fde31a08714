/**
 * The wire contract, checked against orq's own OpenAPI documents (`test/fixtures/openapi/*.legacy.yaml`):
 * - every request `IdentityClient` sends (recorded at the `HttpClient`, with the URL the platform builds) matches
 *   its operation's method and path, its query parameters' schemas, its `requestBody` schema and its security;
 * - every answer of FakeOrq (seed generation) validates against the schema of its status for its operation, and
 *   the current generation's answers against `*.current.yaml`.
 *
 * OpenAPI 3.1 schemas are JSON Schema 2020-12: they are compiled by Ajv 2020 with ajv-formats, `example` is
 * accepted as an annotation and `format: ulid` checks an optionally prefixed ULID (`identity_01…`).
 */
import { NodeHttpClient } from "@effect/platform-node"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it, layer } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { IdentityStore } from "@orq-effect/client"
import * as IdentityClient from "@orq-effect/client/IdentityClient"
import { Email, Url } from "@orq-effect/domain/Identity"
import addFormatsModule from "ajv-formats"
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js"
import { Chunk, Effect, FastCheck, Redacted, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import { parse } from "yaml"
import * as FakeOrq from "../src/FakeOrq.js"

// ---------------------------------------------------------------------------------------------------------------------
// the documents
// ---------------------------------------------------------------------------------------------------------------------

/** orq's OpenAPI extracts, kept unedited in the repository (see fixtures/openapi/README.md for their source). */
const OPENAPI_DIR = new URL("./fixtures/openapi/", import.meta.url)

const OPERATIONS = [
  "create-an-identity",
  "retrieve-an-identity",
  "update-an-identity",
  "delete-an-identity",
  "list-identities"
]

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const field = (value: Json | undefined, key: string): Json | undefined => (isObject(value) ? value[key] : undefined)

const objectAt = (value: Json | undefined, ...keys: ReadonlyArray<string>): JsonObject => {
  const found = keys.reduce<Json | undefined>(field, value)
  if (!isObject(found)) throw new Error(`no object at ${keys.join(".")}`)
  return found
}

interface Parameter {
  readonly name: string
  readonly in: "path" | "query"
  readonly required: boolean
  readonly schema: JsonObject
}

interface Operation {
  readonly operationId: string
  readonly method: string
  readonly path: string
  readonly parameters: ReadonlyArray<Parameter>
  readonly requestBody: JsonObject | undefined
  /** The JSON schema of each documented status; `undefined` for a status documented without content. */
  readonly responses: ReadonlyMap<number, JsonObject | undefined>
  readonly security: boolean
  /** The document's `components.schemas`, which the schemas above may `$ref`. */
  readonly components: JsonObject
}

const loadOperation = (name: string, generation: "legacy" | "current"): Operation => {
  const document: Json = parse(readFileSync(new URL(`${name}.${generation}.yaml`, OPENAPI_DIR), "utf8"))
  const paths = objectAt(document, "paths")
  const [path] = Object.keys(paths)
  const item = objectAt(paths, path)
  const [method] = Object.keys(item)
  const operation = objectAt(item, method)
  const parametersJson = field(operation, "parameters")
  const parameters = (Array.isArray(parametersJson) ? parametersJson : []).map((parameter: Json): Parameter => ({
    name: String(field(parameter, "name")),
    in: field(parameter, "in") === "path" ? "path" : "query",
    required: field(parameter, "required") === true,
    schema: objectAt(parameter, "schema")
  }))
  const responses = new Map<number, JsonObject | undefined>()
  for (const [status, response] of Object.entries(objectAt(operation, "responses"))) {
    const schema = field(field(field(response, "content"), "application/json"), "schema")
    responses.set(Number(status), isObject(schema) ? schema : undefined)
  }
  const body = field(field(field(field(operation, "requestBody"), "content"), "application/json"), "schema")
  return {
    operationId: String(field(operation, "operationId")),
    method: method.toUpperCase(),
    path,
    parameters,
    requestBody: isObject(body) ? body : undefined,
    responses,
    security: Array.isArray(field(operation, "security")) || Array.isArray(field(document, "security")),
    components: isObject(field(field(document, "components"), "schemas"))
      ? objectAt(document, "components", "schemas")
      : {}
  }
}

const legacy = OPERATIONS.map((name) => loadOperation(name, "legacy"))
const current = OPERATIONS.map((name) => loadOperation(name, "current"))

const operation = (operations: ReadonlyArray<Operation>, operationId: string): Operation => {
  const found = operations.find((candidate) => candidate.operationId === operationId)
  if (found === undefined) throw new Error(`no operation ${operationId}`)
  return found
}

// ---------------------------------------------------------------------------------------------------------------------
// the validator
// ---------------------------------------------------------------------------------------------------------------------

// CommonJS interop: NodeNext types the default import as the module object, which holds the plugin as `default`
const addFormats = "default" in addFormatsModule ? addFormatsModule.default : addFormatsModule

const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true })
addFormats(ajv)
ajv.addKeyword("example")
/** `_id`s are ULIDs, in orq's docs and here with a type prefix (`contact_01…`, `identity_01…`). */
ajv.addFormat("ulid", /^(?:[a-z]+_)?[0-9A-HJKMNP-TV-Z]{26}$/)
for (const name of ["double", "float"]) ajv.addFormat(name, { type: "number", validate: Number.isFinite })
ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 })
ajv.addFormat("uint32", { type: "number", validate: (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32 })

/** `#/components/schemas/X` → `#/$defs/X`, so that a schema compiles on its own with the components beside it. */
const rebase = (schema: Json): Json =>
  Array.isArray(schema)
    ? schema.map(rebase)
    : isObject(schema)
    ? Object.fromEntries(
      Object.entries(schema).map(([key, value]) => [
        key,
        key === "$ref" && typeof value === "string" ? value.replace("#/components/schemas/", "#/$defs/") : rebase(value)
      ])
    )
    : schema

const compiled = new Map<JsonObject, ReturnType<typeof ajv.compile>>()

/** The validation errors of `value` against `schema` (of `op`'s document), as readable lines; `[]` when valid. */
const violations = (op: Operation, schema: JsonObject, value: unknown): ReadonlyArray<string> => {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    validate = ajv.compile({ ...objectAt(rebase(schema)), $defs: objectAt(rebase(op.components)) })
    compiled.set(schema, validate)
  }
  return validate(value)
    ? []
    : (validate.errors ?? []).map((error: ErrorObject) =>
      `${error.instancePath || "/"} ${error.message ?? error.keyword}`
    )
}

// ---------------------------------------------------------------------------------------------------------------------
// requests
// ---------------------------------------------------------------------------------------------------------------------

interface Sent {
  readonly request: HttpClientRequest.HttpClientRequest
  /** The URL the platform built, query included. */
  readonly url: URL
}

const pathPattern = (template: string) =>
  new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, "([^/]+)")}$`)

/**
 * A query value read back as its parameter's schema types it: form style, so arrays are comma-separated, and an
 * object parameter is exploded into one key per property (`filter_by={tags:[…]}` is sent as `tags=a,b`).
 */
const readQueryValue = (schema: JsonObject, raw: string): Json => {
  const type = field(schema, "type")
  const types = Array.isArray(type) ? type : [type]
  if (types.includes("integer") || types.includes("number")) return raw.trim() === "" ? raw : Number(raw)
  if (types.includes("boolean")) return raw === "true" ? true : raw === "false" ? false : raw
  if (types.includes("array")) return raw.split(",")
  return raw
}

/** Checks one request against `operations`; returns what does not match (nothing when it conforms). */
const requestViolations = (operations: ReadonlyArray<Operation>, sent: Sent): ReadonlyArray<string> => {
  const { request, url } = sent
  const matching = operations.filter((op) => op.method === request.method && pathPattern(op.path).test(url.pathname))
  if (matching.length !== 1) return [`${request.method} ${url.pathname} matches no documented operation`]
  const op = matching[0]
  const problems: Array<string> = []
  const where = (what: string) => `${op.operationId} ${what}`

  // path parameters: decoded, each against its schema
  const pathValues = pathPattern(op.path).exec(url.pathname)?.slice(1) ?? []
  const pathNames = [...op.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1])
  pathNames.forEach((name, i) => {
    const parameter = op.parameters.find((candidate) => candidate.in === "path" && candidate.name === name)
    if (parameter === undefined) return problems.push(where(`path parameter ${name} is not documented`))
    problems.push(...violations(op, parameter.schema, decodeURIComponent(pathValues[i])).map(where))
  })

  // query parameters: every key documented (directly or as a property of an exploded object), every value valid
  const query = op.parameters.filter((parameter) => parameter.in === "query")
  const exploded = new Map<string, Record<string, Json>>()
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key)
    if (values.length > 1) problems.push(where(`query ${key} is repeated`))
    const direct = query.find((parameter) => parameter.name === key)
    if (direct !== undefined) {
      const value = readQueryValue(direct.schema, values[0])
      problems.push(...violations(op, direct.schema, value).map((line) => where(`query ${key}: ${line}`)))
      continue
    }
    const owner = query.find((parameter) => isObject(field(field(parameter.schema, "properties"), key)))
    if (owner === undefined) {
      problems.push(where(`query ${key} is not a documented parameter`))
      continue
    }
    const value = readQueryValue(objectAt(owner.schema, "properties", key), values[0])
    exploded.set(owner.name, { ...exploded.get(owner.name), [key]: value })
  }
  for (const [name, value] of exploded) {
    const parameter = query.find((candidate) => candidate.name === name)
    if (parameter !== undefined) {
      problems.push(...violations(op, parameter.schema, value).map((line) => where(`query ${name}: ${line}`)))
    }
  }
  for (const parameter of query.filter((candidate) => candidate.required)) {
    if (!url.searchParams.has(parameter.name)) problems.push(where(`query ${parameter.name} is required`))
  }

  // body: JSON against the requestBody schema, or none where none is documented
  const body = request.body
  if (op.requestBody === undefined) {
    if (body._tag !== "Empty") problems.push(where(`sends a ${body._tag} body where none is documented`))
  } else if (body._tag !== "Uint8Array") {
    problems.push(where(`sends a ${body._tag} body, not JSON`))
  } else {
    if (!body.contentType.startsWith("application/json")) problems.push(where(`content-type ${body.contentType}`))
    const json: unknown = JSON.parse(new TextDecoder().decode(body.body))
    problems.push(...violations(op, op.requestBody, json).map((line) => where(`body: ${line}`)))
  }

  // security: bearer API key
  if (op.security && !/^Bearer \S+$/.test(request.headers.authorization ?? "")) {
    problems.push(where("has no bearer Authorization header"))
  }
  return problems
}

const API_KEY = Redacted.make("sk-test-openapi")

/** The live client against a seed FakeOrq, recording every request the platform is about to send. */
const recordingClient = Effect.gen(function*() {
  const store = yield* IdentityStore.make()
  const baseUrl = yield* FakeOrq.start({ store, apiKey: API_KEY })
  const sent: Array<Sent> = []
  const transport = yield* HttpClient.HttpClient
  const recording = HttpClient.make((request, url) =>
    Effect.zipRight(Effect.sync(() => sent.push({ request, url })), transport.execute(request))
  )
  const client = yield* IdentityClient.make({ apiKey: API_KEY, baseUrl }).pipe(
    Effect.provideService(HttpClient.HttpClient, recording)
  )
  return { client, sent }
})

layer(NodeHttpClient.layerUndici)("every request IdentityClient sends matches the legacy OpenAPI", (it) => {
  it.scoped("create, with every field set, with nulls, and with the minimum", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* recordingClient
      yield* client.create({
        externalId: "user_12345",
        displayName: "Jane Smith",
        email: "jane.smith@example.com",
        avatarUrl: "https://example.com/avatars/jane-smith.jpg",
        tags: ["premium", "beta-user"],
        metadata: { department: "Engineering", nested: { level: 3, list: [1, "two", null] } }
      })
      yield* client.create({ externalId: "user_nulls", displayName: null, email: null, avatarUrl: null, tags: [] })
      yield* client.create({ externalId: "x".repeat(120) })
      assert.strictEqual(sent.length, 3)
      for (const request of sent) deepStrictEqual(requestViolations(legacy, request), [])
    }))

  it.scoped("retrieve, by _id and by an external_id full of reserved characters, with and without metrics", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* recordingClient
      const created = yield* client.create({ externalId: "user/with space?and#hash é" })
      yield* client.retrieve(created.id)
      yield* client.retrieve(created.externalId, { includeMetrics: true })
      yield* client.retrieve(created.externalId, { includeMetrics: false })
      assert.strictEqual(sent.length, 4)
      for (const request of sent) deepStrictEqual(requestViolations(legacy, request), [])
      assert.strictEqual(decodeURIComponent(sent[2].url.pathname.split("/").at(-1) ?? ""), created.externalId)
    }))

  it.scoped("update: set, clear with null, replace tags and metadata, empty patch", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* recordingClient
      const created = yield* client.create({ externalId: "user_update", tags: ["a"] })
      yield* client.update(created.id, {
        displayName: "Jane S.",
        email: "jane@example.org",
        avatarUrl: "https://example.com/a.png",
        tags: ["b", "c"],
        metadata: { plan: "pro", flags: { beta: true } }
      })
      yield* client.update(created.externalId, {
        displayName: null,
        email: null,
        avatarUrl: null,
        tags: [],
        metadata: {}
      })
      yield* client.update(created.id, {})
      assert.strictEqual(sent.length, 4)
      for (const request of sent) deepStrictEqual(requestViolations(legacy, request), [])
    }))

  // the contract types `tags` and `metadata` as non-nullable: clearing them with `null` goes out as `[]` / `{}`
  it.scoped("update: null tags or metadata are not sent, since the contract does not allow them", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* recordingClient
      const created = yield* client.create({ externalId: "user_null_lists" })
      yield* Effect.either(client.update(created.id, { tags: null, metadata: null }))
      for (const request of sent) deepStrictEqual(requestViolations(legacy, request), [])
    }))

  it.scoped("delete, by _id and by external_id", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* recordingClient
      const first = yield* client.create({ externalId: "user_delete_1" })
      yield* client.create({ externalId: "user:delete@2" })
      yield* client.delete(first.id)
      yield* client.delete("user:delete@2")
      assert.strictEqual(sent.length, 4)
      for (const request of sent) deepStrictEqual(requestViolations(legacy, request), [])
    }))

  it.scoped("list with every parameter, both cursors, and stream over several pages", () =>
    Effect.gen(function*() {
      const { client, sent } = yield* recordingClient
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push((yield* client.create({ externalId: `user_${i}`, displayName: `Jane ${i}`, tags: ["premium"] })).id)
      }
      yield* client.list()
      yield* client.list({
        limit: 2,
        startingAfter: ids[0],
        search: "jane",
        tags: ["premium", "beta-user"],
        includeMetrics: true
      })
      yield* client.list({ limit: 50, endingBefore: ids[4], includeMetrics: false })
      yield* client.list({ limit: 1, search: "j@x", tags: ["premium"] })
      const streamed = yield* Stream.runCollect(client.stream({ limit: 2, tags: ["premium"] }))
      assert.strictEqual(Chunk.size(streamed), 5)
      const lists = sent.filter((entry) => entry.request.method === "GET" && entry.url.pathname === "/v2/identities")
      assert.strictEqual(lists.length, 4 + 3)
      for (const request of sent) deepStrictEqual(requestViolations(legacy, request), [])
    }))

  it.effect("the checker itself refuses what the contract refuses", () =>
    Effect.sync(() => {
      const request = (method: "GET" | "POST" | "PATCH", url: string, body?: unknown) =>
        requestViolations(legacy, {
          url: new URL(url),
          request: fakeRequest(method, url, body)
        })
      deepStrictEqual(request("POST", "https://api.orq.ai/v2/identities", { external_id: "ok" }), [])
      assert.isNotEmpty(request("POST", "https://api.orq.ai/v2/identities", { display_name: "no external_id" }))
      assert.isNotEmpty(request("POST", "https://api.orq.ai/v2/identities", { external_id: "x", email: "nope" }))
      assert.isNotEmpty(request("PATCH", "https://api.orq.ai/v2/identities/x", { tags: null }))
      assert.isNotEmpty(request("GET", "https://api.orq.ai/v2/identities?limit=51"))
      assert.isNotEmpty(request("GET", "https://api.orq.ai/v2/identities?page=2"))
      assert.isNotEmpty(request("GET", "https://api.orq.ai/v2/identities?include_metrics=yes"))
      assert.isNotEmpty(request("GET", "https://api.orq.ai/v2/identities/a/b"))
    }))
})

/** A request as the platform would hold it, for checking the checker. */
const fakeRequest = (
  method: "GET" | "POST" | "PATCH",
  url: string,
  body?: unknown
): HttpClientRequest.HttpClientRequest => {
  const base = HttpClientRequest.make(method)(url).pipe(
    HttpClientRequest.setHeader("authorization", "Bearer sk-test")
  )
  return body === undefined ? base : HttpClientRequest.bodyText(base, JSON.stringify(body), "application/json")
}

// ---------------------------------------------------------------------------------------------------------------------
// answers
// ---------------------------------------------------------------------------------------------------------------------

interface Exchange {
  readonly operationId: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
}

/**
 * Sends each exchange to a fresh FakeOrq of `generation` and checks each answer: its status is documented for the
 * operation, and its body validates against that status's schema (or is empty where no content is documented).
 * Returns the statuses seen.
 */
const checkAnswers = (
  generation: FakeOrq.Generation,
  operations: ReadonlyArray<Operation>,
  exchanges: (ids: ReadonlyArray<string>) => ReadonlyArray<Exchange>
) =>
  Effect.gen(function*() {
    const store = yield* IdentityStore.make()
    const base = yield* FakeOrq.start({ store, generation })
    const ids: Array<string> = []
    const statuses: Array<string> = []
    const send = (exchange: Exchange) =>
      Effect.promise(async () => {
        const response = await fetch(`${base}${exchange.path}`, {
          method: exchange.method,
          ...(exchange.body === undefined
            ? {}
            : { body: JSON.stringify(exchange.body), headers: { "content-type": "application/json" } })
        })
        return { status: response.status, text: await response.text() }
      })
    // five identities to work on, created through the API (their answers are checked too)
    for (let i = 0; i < 5; i++) {
      const exchange = {
        operationId: "CreateIdentity",
        method: "POST",
        path: "/v2/identities",
        body: { external_id: `user_${i}`, display_name: `Jane ${i}`, tags: i % 2 === 0 ? ["even"] : ["odd"] }
      }
      const answer = yield* send(exchange)
      const json = JSON.parse(answer.text)
      ids.push(generation === "current" ? json.identity._id : json._id)
    }
    for (const exchange of [...exchanges(ids)]) {
      const answer = yield* send(exchange)
      const op = operation(operations, exchange.operationId)
      const label = `${exchange.method} ${exchange.path} → ${answer.status}`
      statuses.push(`${exchange.operationId} ${answer.status}`)
      assert.isTrue(op.responses.has(answer.status), `${label}: status not documented for ${op.operationId}`)
      const schema = op.responses.get(answer.status)
      if (schema === undefined) {
        assert.strictEqual(answer.text, "", `${label}: documented without content`)
      } else {
        deepStrictEqual(violations(op, schema, JSON.parse(answer.text)), [], label)
      }
    }
    return statuses
  })

const path = (id: string) => `/v2/identities/${encodeURIComponent(id)}`

const RICH = {
  external_id: "user_rich",
  display_name: "Jane Smith",
  email: "jane.smith@example.com",
  avatar_url: "https://example.com/avatars/jane-smith.jpg",
  tags: ["premium", "beta-user"],
  metadata: { department: "Engineering", nested: { level: 3 } }
}

const exchanges = (ids: ReadonlyArray<string>): ReadonlyArray<Exchange> => [
  { operationId: "CreateIdentity", method: "POST", path: "/v2/identities", body: RICH },
  { operationId: "CreateIdentity", method: "POST", path: "/v2/identities", body: { external_id: "user_min" } },
  { operationId: "RetrieveIdentity", method: "GET", path: path(ids[0]) },
  { operationId: "RetrieveIdentity", method: "GET", path: `${path("user_rich")}?include_metrics=true` },
  { operationId: "RetrieveIdentity", method: "GET", path: `${path("user_min")}?include_metrics=false` },
  { operationId: "UpdateIdentity", method: "PATCH", path: path(ids[1]), body: { display_name: "Jane", tags: ["x"] } },
  { operationId: "UpdateIdentity", method: "PATCH", path: path("user_rich"), body: { email: null, avatar_url: null } },
  { operationId: "UpdateIdentity", method: "PATCH", path: path(ids[2]), body: {} },
  { operationId: "ListIdentities", method: "GET", path: "/v2/identities" },
  { operationId: "ListIdentities", method: "GET", path: `/v2/identities?limit=2&starting_after=${ids[1]}` },
  { operationId: "ListIdentities", method: "GET", path: `/v2/identities?limit=2&ending_before=${ids[4]}` },
  { operationId: "ListIdentities", method: "GET", path: "/v2/identities?include_metrics=true&tags=even&search=jane" },
  { operationId: "ListIdentities", method: "GET", path: "/v2/identities?search=nobody" },
  { operationId: "DeleteIdentity", method: "DELETE", path: path(ids[3]) },
  { operationId: "DeleteIdentity", method: "DELETE", path: path("user_min") }
]

const notFound: ReadonlyArray<Exchange> = [
  { operationId: "RetrieveIdentity", method: "GET", path: path("nobody") },
  { operationId: "UpdateIdentity", method: "PATCH", path: path("nobody"), body: { display_name: "x" } },
  { operationId: "DeleteIdentity", method: "DELETE", path: path("nobody") }
]

describe("FakeOrq's answers match the OpenAPI response schemas", () => {
  it.scoped("seed generation: 201, 200, 204 and 404 against *.legacy.yaml", () =>
    Effect.gen(function*() {
      const statuses = yield* checkAnswers("seed", legacy, (ids) => [...exchanges(ids), ...notFound])
      assert.includeMembers(statuses, [
        "CreateIdentity 201",
        "RetrieveIdentity 200",
        "RetrieveIdentity 404",
        "UpdateIdentity 200",
        "UpdateIdentity 404",
        "DeleteIdentity 204",
        "DeleteIdentity 404",
        "ListIdentities 200"
      ])
    }))

  it.scoped("current generation: 201 and 200 against *.current.yaml", () =>
    Effect.gen(function*() {
      const statuses = yield* checkAnswers("current", current, exchanges)
      assert.includeMembers(statuses, [
        "CreateIdentity 201",
        "RetrieveIdentity 200",
        "UpdateIdentity 200",
        "DeleteIdentity 200",
        "ListIdentities 200"
      ])
    }))

  it.effect("the schemas refuse what the contract refuses", () =>
    Effect.sync(() => {
      const retrieve = operation(legacy, "RetrieveIdentity")
      const ok = retrieve.responses.get(200)
      const list = operation(legacy, "ListIdentities").responses.get(200)
      const remove = operation(legacy, "DeleteIdentity").responses.get(404)
      if (ok === undefined || list === undefined || remove === undefined) return assert.fail("schemas missing")
      const identity = { _id: "identity_01ARZ3NDEKTSV4RRFFQ69G5FAV", external_id: "u" }
      deepStrictEqual(violations(retrieve, ok, identity), [])
      assert.isNotEmpty(violations(retrieve, ok, { external_id: "u" }))
      assert.isNotEmpty(violations(retrieve, ok, { ...identity, _id: "not a ulid" }))
      assert.isNotEmpty(violations(retrieve, ok, { ...identity, email: "nope" }))
      assert.isNotEmpty(violations(retrieve, ok, { ...identity, created: "yesterday" }))
      // the legacy list requires metrics on every item
      assert.isNotEmpty(violations(retrieve, list, { object: "list", data: [identity], has_more: false }))
      assert.isNotEmpty(violations(retrieve, remove, { message: "Identity not found" }))
    }))
})

describe("the input checks take nothing the contract's formats refuse", () => {
  /** A string made of `parts`, each one of a few characters near the format's edges (dots, '@', '%', Unicode). */
  const near = (parts: ReadonlyArray<string>) =>
    FastCheck.array(FastCheck.constantFrom(...parts), { minLength: 1, maxLength: 12 }).map((chosen) => chosen.join(""))

  const emails = FastCheck.tuple(
    near(["a", "Z", "0", ".", "-", "_", "+", "'", "!", "ö", " ", "\u200b", "%", "/", "\"", "(", "@"]),
    near(["b", "c", "0", ".", "-", "_", "ä", "%", "/", "?", "#", " ", "\u200b"])
  ).map(([local, domain]) => `${local}@${domain}`)

  const urls = FastCheck.tuple(
    FastCheck.constantFrom("https://", "http://", "mailto:", "https:", "//", ""),
    near([
      "a",
      "x.com",
      "/",
      "%",
      "%2F",
      "%zz",
      "?",
      "#",
      "<",
      ">",
      "\"",
      "|",
      "{",
      "^",
      "`",
      "\\",
      " ",
      "ä",
      "\u200b",
      "[",
      "]",
      ":",
      "@"
    ])
  ).map(([scheme, rest]) => `${scheme}${rest}`)

  const ajvFormat = (format: string) => ajv.compile({ type: "string", format })

  it.prop("Email: what it takes, format: email takes", [emails], ([email]) => {
    if (Schema.is(Email)(email)) assert.isTrue(ajvFormat("email")(email), JSON.stringify(email))
  }, { fastCheck: { numRuns: 3000 } })

  it.prop("Url: what it takes, format: uri takes", [urls], ([url]) => {
    if (Schema.is(Url)(url)) assert.isTrue(ajvFormat("uri")(url), JSON.stringify(url))
  }, { fastCheck: { numRuns: 3000 } })

  it("and both still take ordinary values", () => {
    for (const email of ["jane.smith+tag@example.co.uk", "o'neil_x-y@my-domain.example.org"]) {
      assert.isTrue(Schema.is(Email)(email) && ajvFormat("email")(email), email)
    }
    for (const url of ["https://example.com/caf%C3%A9.png?size=64&fmt=webp#top", "http://127.0.0.1:8080/x"]) {
      assert.isTrue(Schema.is(Url)(url) && ajvFormat("uri")(url), url)
    }
  })
})
