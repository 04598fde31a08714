/**
 * FakeOrq: a local orq.ai Identities server over the in-memory `IdentityStore`, speaking the wire of the seed
 * generation exactly (status codes and bodies of the legacy OpenAPI files) or, with `generation: "current"`,
 * the newer wrapped shape. Tests and other teams point their clients at it on a loopback port.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { IdentityStore } from "@orq-effect/client"
import { CreateIdentity, Identity, ListIdentities, toSeedWire, UpdateIdentity } from "@orq-effect/domain/Identity"
import { refusedInput } from "@orq-effect/domain/IdentityError"
import { Effect, FiberRef, Layer, type ParseResult, Redacted, Ref, Schema, Stream } from "effect"
import { createServer, maxHeaderSize } from "node:http"

/** Which generation of the API's wire to speak. */
export type Generation = "seed" | "current"

/** Options of the server. */
export interface Options {
  /** The state it serves. */
  readonly store: IdentityStore.IdentityStore
  /** When set, every request must carry `Authorization: Bearer <apiKey>`, else 401. */
  readonly apiKey?: Redacted.Redacted | undefined
  /** Defaults to `"seed"`. */
  readonly generation?: Generation | undefined
  /** Request bodies above this many bytes are refused with 413. Defaults to 1 MiB. */
  readonly maxBodyBytes?: number | undefined
}

/** The workspace id FakeOrq reports. */
export const WORKSPACE_ID = "550e8400-e29b-41d4-a716-446655440000"

const encodeIdentity = Schema.encodeSync(Identity)

/** An identity in the wire shape of `generation`. */
export const toWire = (
  identity: Identity,
  generation: Generation,
  options: { readonly withWorkspace?: boolean; readonly withMetrics?: boolean } = {}
): Record<string, unknown> => {
  const wire = generation === "seed" ? toSeedWire(identity) : { ...encodeIdentity(identity) }
  // the seed generation names the workspace on create only; the current one always
  if (generation === "seed" && options.withWorkspace !== true) delete wire.workspace_id
  else wire.workspace_id ??= WORKSPACE_ID
  if (options.withMetrics === true) {
    wire.metrics ??= { total_cost: 0, total_tokens: 0, total_requests: 0, error_rate: 0 }
  }
  return wire
}

const json = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })

/** A JSON object of depth at most `max` (arrays and objects count one level each). */
const depthWithin = (value: unknown, max: number): boolean => {
  if (typeof value !== "object" || value === null) return true
  if (max === 0) return false
  return Object.values(value).every((child) => depthWithin(child, max - 1))
}

const MAX_DEPTH = 32

interface BodyRead {
  readonly size: number
  readonly chunks: Array<Uint8Array>
}

/**
 * The longest path parameter routed: the router measures the decoded segment in UTF-16 units, so an external id
 * of 120 characters can be 240 (its default of 100 made long ids unreachable). The id is looked up, never matched
 * by a pattern, so any segment Node accepts (its request line is bounded by `maxHeaderSize`) reaches the handler,
 * and an id too long to exist is answered 404 like any other unknown one.
 */
const MAX_PARAM_LENGTH = maxHeaderSize

/** How far past `maxBodyBytes` an oversized body is still read (and dropped) to answer 413 cleanly. */
const DRAIN_FACTOR = 16

/** The HTTP app of the Identities API over `options.store`. */
export const makeApp = (options: Options) => {
  const { store } = options
  const generation = options.generation ?? "seed"
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const single = (identity: Identity, extra: { withWorkspace?: boolean; withMetrics?: boolean } = {}) => {
    const wire = toWire(identity, generation, extra)
    return generation === "current" ? { identity: wire } : wire
  }

  const invalid = (message: string) => json(422, { message })

  const tooLarge = json(413, { message: `the request body is larger than ${maxBodyBytes} bytes` })

  /** Reads and checks a JSON body against `schema`; answers 400/413/422 itself when it cannot. */
  const readBody = <A, I>(schema: Schema.Schema<A, I>) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const declared = Number(request.headers["content-length"])
      if (declared > maxBodyBytes) return yield* Effect.fail(tooLarge)
      // counted as it arrives (a chunked body declares no length); past the limit the rest is read and dropped,
      // so that the client still gets its 413, up to a hard cap where the connection is dropped instead
      const read = yield* request.stream.pipe(
        Stream.mapError(() => json(400, { message: "the request body could not be read" })),
        Stream.runFoldEffect(
          { size: 0, chunks: [] },
          (state: BodyRead, chunk): Effect.Effect<BodyRead, HttpServerResponse.HttpServerResponse> => {
            const size = state.size + chunk.length
            if (size > maxBodyBytes * DRAIN_FACTOR) return Effect.fail(tooLarge)
            if (size <= maxBodyBytes) state.chunks.push(chunk)
            return Effect.succeed({ size, chunks: state.chunks })
          }
        )
      )
      if (read.size > maxBodyBytes) return yield* Effect.fail(tooLarge)
      const text = Buffer.concat(read.chunks).toString("utf8")
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        return yield* Effect.fail(json(400, { message: "the request body is not valid JSON" }))
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return yield* Effect.fail(invalid("the request body must be a JSON object"))
      }
      if (!depthWithin(value, MAX_DEPTH)) {
        return yield* Effect.fail(invalid(`the request body is nested deeper than ${MAX_DEPTH} levels`))
      }
      return yield* Schema.decodeUnknown(schema, { onExcessProperty: "ignore" })(value).pipe(
        Effect.mapError((error: ParseResult.ParseError) => invalid(refusedInput(error).message))
      )
    })

  const idParam = Effect.map(HttpRouter.params, (params) => params.id ?? "")

  const flag = (value: string | null) => value === "true" || value === "1"

  const queryOf = (url: URL) => {
    const tags = [
      ...url.searchParams.getAll("tags").flatMap((value) => value.split(",")),
      ...url.searchParams.getAll("filter_by.tags"),
      ...url.searchParams.getAll("filter_by[tags]")
    ].filter((tag) => tag.length > 0)
    const filterBy = url.searchParams.get("filter_by")
    if (filterBy !== null) {
      try {
        const parsed: unknown = JSON.parse(filterBy)
        if (typeof parsed === "object" && parsed !== null && "tags" in parsed && Array.isArray(parsed.tags)) {
          tags.push(...parsed.tags.filter((tag): tag is string => typeof tag === "string"))
        }
      } catch {
        // the documented query form: `filter_by=tags=premium,beta-user` (or the bare list)
        tags.push(...filterBy.replace(/^tags=/, "").split(",").filter((tag) => tag.length > 0))
      }
    }
    const wire: Record<string, unknown> = {}
    const limit = url.searchParams.get("limit")
    if (limit !== null) wire.limit = Number(limit)
    for (const key of ["starting_after", "ending_before", "search"]) {
      const value = url.searchParams.get(key)
      if (value !== null && value.length > 0) wire[key] = value
    }
    if (tags.length > 0) wire.tags = tags
    if (url.searchParams.has("include_metrics")) wire.include_metrics = flag(url.searchParams.get("include_metrics"))
    return wire
  }

  const requestUrl = Effect.map(
    HttpServerRequest.HttpServerRequest,
    (request) => new URL(request.url, "http://orq.local")
  )

  const notFound = (id: string, key: "error" | "message") => json(404, { [key]: `Identity ${id} not found` })

  const router = HttpRouter.empty.pipe(
    HttpRouter.get(
      "/v2/identities",
      Effect.gen(function*() {
        const url = yield* requestUrl
        const params = yield* Schema.decodeUnknown(ListIdentities)(queryOf(url)).pipe(
          Effect.mapError((error) => invalid(refusedInput(error).message))
        )
        const page = yield* store.list(params)
        return json(200, {
          object: "list",
          data: page.data.map((identity) =>
            toWire(identity, generation, { withMetrics: generation === "seed" || params.includeMetrics === true })
          ),
          has_more: page.hasMore
        })
      })
    ),
    HttpRouter.post(
      "/v2/identities",
      Effect.gen(function*() {
        const input = yield* readBody(CreateIdentity)
        return yield* store.create(input).pipe(
          Effect.map((identity) => {
            const created = json(201, single(identity, { withWorkspace: true }))
            // the current generation documents a `Location` header on 201
            return generation === "current"
              ? HttpServerResponse.setHeader(created, "location", `/v2/identities/${encodeURIComponent(identity.id)}`)
              : created
          }),
          Effect.catchTag("Conflict", (error) => Effect.succeed(json(409, { error: error.message })))
        )
      })
    ),
    HttpRouter.get(
      "/v2/identities/:id",
      Effect.gen(function*() {
        const id = yield* idParam
        const includeMetrics = flag((yield* requestUrl).searchParams.get("include_metrics"))
        return yield* store.retrieve(id, { includeMetrics }).pipe(
          Effect.map((identity) => json(200, single(identity, { withMetrics: includeMetrics }))),
          Effect.catchTag("NotFound", () => Effect.succeed(notFound(id, "error")))
        )
      })
    ),
    HttpRouter.patch(
      "/v2/identities/:id",
      Effect.gen(function*() {
        const id = yield* idParam
        const patch = yield* readBody(UpdateIdentity)
        return yield* store.update(id, patch).pipe(
          Effect.map((identity) => json(200, single(identity))),
          Effect.catchTag("NotFound", () => Effect.succeed(notFound(id, "message")))
        )
      })
    ),
    HttpRouter.del(
      "/v2/identities/:id",
      Effect.gen(function*() {
        const id = yield* idParam
        return yield* store.delete(id).pipe(
          Effect.as(generation === "current" ? json(200, {}) : HttpServerResponse.empty({ status: 204 })),
          Effect.catchTag("NotFound", () => Effect.succeed(notFound(id, "error")))
        )
      })
    )
  )

  const expected = options.apiKey === undefined ? undefined : `Bearer ${Redacted.value(options.apiKey)}`
  const authorized = expected === undefined
    ? Effect.succeed(true)
    : Effect.map(HttpServerRequest.HttpServerRequest, (request) => request.headers.authorization === expected)

  // built once: every path parameter up to MAX_PARAM_LENGTH is routed
  const routed = HttpRouter.withRouterConfig(router, { maxParamLength: MAX_PARAM_LENGTH })

  const answer = Effect.gen(function*() {
    if (!(yield* authorized)) return json(401, { error: "Unauthorized: a valid API key is required" })
    return yield* routed
  }).pipe(
    // answers prepared while refusing a request travel on the error channel
    Effect.catchIf(HttpServerResponse.isServerResponse, Effect.succeed),
    Effect.catchTag("RouteNotFound", () => Effect.succeed(json(404, { error: "Not found" }))),
    // whatever else goes wrong is a 500 answer, never a dropped connection
    Effect.catchAllCause(() => Effect.succeed(json(500, { error: "Internal server error" })))
  )

  // every answer carries an `x-request-id`, as orq's do
  const requests = Ref.unsafeMake(0)
  return Effect.flatMap(answer, (response) =>
    Effect.map(
      Ref.updateAndGet(requests, (n) => n + 1),
      (n) => HttpServerResponse.setHeader(response, "x-request-id", `req_fake_${n.toString().padStart(8, "0")}`)
    ))
}

/** Where a server listens: `host` defaults to 127.0.0.1, `port` to 0 (a free one). */
export interface Listen {
  readonly host?: string | undefined
  readonly port?: number | undefined
}

/**
 * `app` (FakeOrq's, or one wrapping it) on a Node HTTP server, untraced: the platform's `http.server` span would
 * record the URL (an email as the id in the path, a search term in the query), and a request is its client's to
 * trace. With the tracer off, the spans of a request are no-ops, and none annotates the span the server was
 * started in.
 */
const layerApp = <E, R>(app: HttpApp.Default<E, R>, listen: Listen = {}) =>
  HttpServer.serve(app).pipe(
    Layer.provideMerge(
      NodeHttpServer.layer(createServer, { host: listen.host ?? "127.0.0.1", port: listen.port ?? 0 })
    ),
    Layer.locally(FiberRef.currentTracerEnabled, false)
  )

/** The base URL of the server in context, e.g. `http://127.0.0.1:41234`. */
export const url = HttpServer.addressWith((address) =>
  Effect.succeed(
    address._tag === "TcpAddress"
      ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
      : `http://unix:${address.path}`
  )
)

/** Starts `app` for the life of the scope; returns its base URL. */
export const startApp = <E, R>(app: HttpApp.Default<E, R>, listen: Listen = {}) =>
  Effect.flatMap(Layer.build(layerApp(app, listen)), (context) => Effect.provide(url, context))

/** Starts FakeOrq (on a free loopback port by default) for the life of the scope; returns its base URL. */
export const start = (options: Options & Listen) => startApp(makeApp(options), options)
