/**
 * The `IdentityClient` service: the five operations of the orq.ai Identities API over an @effect/platform
 * `HttpClient`, with typed errors only, and `stream` to walk every identity page by page.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import {
  CreateIdentity,
  type Identity,
  IdentityId,
  IdentityPage,
  IdentityResponse,
  ListIdentities,
  UpdateIdentity
} from "@orq-effect/domain/Identity"
import {
  decodeFailureReason,
  type IdentityError,
  InvalidRequest,
  MalformedResponse,
  refusedInput,
  TransportError
} from "@orq-effect/domain/IdentityError"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ErrorResponse from "./ErrorResponse.js"
import * as PrivateSpan from "./PrivateSpan.js"
import * as ResponseBody from "./ResponseBody.js"

/** Options of `retrieve`. */
export interface RetrieveOptions {
  /** Ask for the identity's usage `metrics`. */
  readonly includeMetrics?: boolean | undefined
}

/**
 * The parameters of `stream`: the filters of `list`, and `startingAfter` to start (or resume) after an `_id`. No
 * `endingBefore`: a stream walks forward, moving the cursor itself.
 */
export type StreamIdentities = Omit<ListIdentities, "endingBefore">

/**
 * The Identities API. `id` is an identity's `_id` or its `external_id`. Every method fails only with an
 * `IdentityError` and needs nothing from the environment.
 */
export interface Service {
  /** `GET /v2/identities/{id}`: one identity. */
  readonly retrieve: (id: string, options?: RetrieveOptions) => Effect.Effect<Identity, IdentityError>
  /** `PATCH /v2/identities/{id}`: absent or `undefined` keeps a field, `null` clears it, a value sets it. */
  readonly update: (id: string, patch: UpdateIdentity) => Effect.Effect<Identity, IdentityError>
  /** `POST /v2/identities`: a new identity; `Conflict` when the `externalId` is taken. */
  readonly create: (input: CreateIdentity) => Effect.Effect<Identity, IdentityError>
  /** `DELETE /v2/identities/{id}`. */
  readonly delete: (id: string) => Effect.Effect<void, IdentityError>
  /** `GET /v2/identities`: one page. */
  readonly list: (params?: ListIdentities) => Effect.Effect<IdentityPage, IdentityError>
  /**
   * Every identity matching `params` (after `params.startingAfter`, when given), following `starting_after` from
   * page to page.
   */
  readonly stream: (params?: StreamIdentities) => Stream.Stream<Identity, IdentityError>
}

/** The service tag of the Identities API client. */
export class IdentityClient extends Context.Tag("@orq-effect/client/IdentityClient")<IdentityClient, Service>() {}

/** The production base URL. */
export const DEFAULT_BASE_URL = "https://api.orq.ai"

/** Answers larger than this are refused as `MalformedResponse` without being buffered. */
export const MAX_RESPONSE_BYTES = ResponseBody.MAX_RESPONSE_BYTES

/** How to reach the API. */
export interface Options {
  /** The orq.ai API key, sent as `Authorization: Bearer …`. */
  readonly apiKey: Redacted.Redacted
  /** Defaults to {@link DEFAULT_BASE_URL}; one {@link checkBaseUrl} refuses fails every call with `InvalidRequest`. */
  readonly baseUrl?: string | undefined
  /**
   * Applied last to the prepared client: the place for retries, timeouts or extra headers. The prepared client reads
   * each answer's body in full before it answers, so a timeout added here covers the body too.
   */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

// ---------------------------------------------------------------------------------------------------------------------
// input checks: refused before any I/O
// ---------------------------------------------------------------------------------------------------------------------

/**
 * `url` as a base URL, without trailing slashes: absolute http(s), with no credentials, query, fragment or white
 * space (a bare `?` or a trailing newline from a file would end up inside every request's URL). Or why it cannot be
 * one, without quoting it (it could hold a secret).
 */
export const checkBaseUrl = (url: string): Either.Either<string, string> => {
  if (/\s/.test(url)) return Either.left("must not contain white space (a trailing newline from a file?)")
  if (!URL.canParse(url)) return Either.left("must be an absolute URL such as https://api.orq.ai")
  const parsed = new URL(url)
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return Either.left(`must be an http(s) URL (got ${parsed.protocol}//)`)
  }
  if (parsed.username !== "" || parsed.password !== "") return Either.left("must not carry credentials")
  if (url.includes("?") || url.includes("#")) return Either.left("must not carry a query or a fragment")
  return Either.right(`${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`)
}

/**
 * `key` as an API key, or why it cannot be one, without quoting it: it must not be blank, and must fit in a header
 * (printable ASCII, no space or line break; a key read from a file may end with a newline).
 */
export const checkApiKey = (key: string): Either.Either<string, string> =>
  key.trim().length === 0
    ? Either.left("must not be empty")
    : /^[\x21-\x7e]+$/.test(key)
    ? Either.right(key)
    : Either.left("must be printable ASCII without spaces or line breaks (a trailing newline from a file?)")

const validateId = Schema.validateEither(IdentityId)

/**
 * Checks an identity reference against `IdentityId`: a blank id, `.` / `..` (which URL resolution would swallow),
 * or a string with a lone surrogate (which cannot be percent-encoded) is refused, as `field`.
 */
export const checkId = (id: string, field = "id"): Effect.Effect<string, InvalidRequest> =>
  // an Either is an Effect
  checkedId(id, field)

const checkedId = (id: string, field: string): Either.Either<string, InvalidRequest> =>
  Either.mapLeft(validateId(id), (error) => refusedInput(error, field))

/**
 * Checks input against `schema`, synchronously (the input schemas have no effectful transformations), reporting
 * every offending field, not only the first; the result is the wire encoding. A key the schema does not know (a
 * typo, a snake_case wire name) is refused, not silently dropped: dropped, it would turn a patch into `{}`.
 */
const encodeChecked = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeEither(schema, { errors: "all", onExcessProperty: "error" })
  return (input: A): Either.Either<I, InvalidRequest> =>
    Either.try({
      try: () => encode(input),
      // a getter of the input threw while it was read
      catch: () => new InvalidRequest({ field: "input", message: "input: reading it threw" })
    }).pipe(Either.flatMap(Either.mapLeft((error) => refusedInput(error))))
}

/** `encode` as an effect: checked when the effect runs, not when it is built (the input may change in between). */
const checkWith = <A, I>(encode: (input: A) => Either.Either<I, InvalidRequest>) => (input: A) =>
  Effect.suspend(() => encode(input))

/** Checks a create input against the schema; the result is the wire body. */
export const checkCreate: (input: CreateIdentity) => Effect.Effect<typeof CreateIdentity.Encoded, InvalidRequest> =
  checkWith(encodeChecked(CreateIdentity))

const encodeUpdate = encodeChecked(UpdateIdentity)

/** Checks a patch against the schema; the result is the wire body. */
export const checkUpdate: (patch: UpdateIdentity) => Effect.Effect<typeof UpdateIdentity.Encoded, InvalidRequest> =
  checkWith(encodeUpdate)

/**
 * Checks an update's id and patch together, so that one `InvalidRequest` names every offending field: the id's
 * reason first, then the patch's (`field` is the first of them); the result is the wire body.
 */
export const checkIdAndUpdate = (
  id: string,
  patch: UpdateIdentity
): Effect.Effect<typeof UpdateIdentity.Encoded, InvalidRequest> =>
  // synchronous, in one step: the checks of every update
  Effect.suspend(() => {
    const idChecked = checkedId(id, "id")
    const body = encodeUpdate(patch)
    if (Either.isRight(idChecked)) return body
    return Either.left(
      Either.isLeft(body)
        ? new InvalidRequest({
          field: idChecked.left.field,
          message: `${idChecked.left.message}; ${body.left.message}`
        })
        : idChecked.left
    )
  })

const checkListFields = checkWith(encodeChecked(ListIdentities))

/** Checks list parameters; the result is the wire query, cursors checked as ids. */
export const checkList = (params: ListIdentities) =>
  checkListFields(params).pipe(
    Effect.filterOrFail(
      (query) => query.starting_after === undefined || query.ending_before === undefined,
      () =>
        new InvalidRequest({
          field: "startingAfter",
          message: "startingAfter, endingBefore: give at most one of the two cursors"
        })
    )
  )

// ---------------------------------------------------------------------------------------------------------------------
// answers
// ---------------------------------------------------------------------------------------------------------------------

// synchronous decoders: the schemas have no effectful transformations, and an Either costs no fiber steps
const decodeIdentity = Schema.decodeUnknownEither(IdentityResponse)
const decodePage = Schema.decodeUnknownEither(IdentityPage)

interface Answer {
  readonly status: number
  readonly headers: HttpClientResponse.HttpClientResponse["headers"]
  readonly body: string
}

/**
 * Decodes a 2xx body. A body that is not JSON is said so without quoting it (the parser's message quotes the
 * body, which may hold PII or an echoed secret); `redact` scrubs what the schema's reason may still quote.
 */
const decodeWith = <A>(
  decode: (json: unknown) => Either.Either<A, ParseResult.ParseError>,
  what: string
) =>
(answer: Answer, redact: (text: string) => string): Effect.Effect<A, MalformedResponse> => {
  const malformed = (reason: string) =>
    new MalformedResponse({
      status: answer.status,
      message: `the ${answer.status} answer is not ${what}: ${reason}`,
      requestId: ErrorResponse.requestIdOf(answer.headers, redact)
    })
  return Either.try((): unknown => JSON.parse(answer.body)).pipe(
    Either.mapLeft(() => malformed(answer.body.trim().length === 0 ? "the body is empty" : "the body is not JSON")),
    Either.flatMap((json) => Either.mapLeft(decode(json), (error) => malformed(redact(decodeFailureReason(error)))))
  )
}

const asIdentity = decodeWith(decodeIdentity, "an identity")
const asPage = decodeWith(decodePage, "a page of identities")

/**
 * `response` with its body read in full (`ResponseBody.buffered`, within the size limit), as part of the request:
 * so whatever `transformClient` wraps around the client (a timeout, a retry policy) covers the body too. A 2xx body
 * that breaks off or runs out of time is a transport failure of the request; any other answer keeps its status (the
 * status says what went wrong: only the server's message is lost).
 */
const readWhole = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> =>
  Effect.catchAll(ResponseBody.buffered(response), (error) =>
    response.status < 200 || response.status >= 300
      ? Effect.succeed(ResponseBody.withoutBody(response))
      : Effect.fail(
        new HttpClientError.RequestError({
          request: response.request,
          reason: "Transport",
          cause: error.cause,
          description: Cause.isTimeoutException(error.cause)
            ? error.cause.message
            : `the connection broke while reading the ${response.status} answer`
        })
      ))

/** A request body that cannot be encoded: said without quoting it (it may hold personal data). */
const unencodable = () => new InvalidRequest({ field: "input", message: "the request body could not be encoded" })

const describe = (request: HttpClientRequest.HttpClientRequest) => `${request.method} ${new URL(request.url).pathname}`

/** What a transport failure says: its description (where it happened, say) before its cause's message. */
const said = (error: HttpClientError.RequestError): string => {
  const cause = causeMessage(error.cause ?? error.description)
  return error.cause !== undefined && error.description !== undefined && !cause.includes(error.description)
    ? `${error.description}: ${cause}`
    : cause
}

const causeMessage = (cause: unknown): string =>
  cause instanceof Error
    ? (cause.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : cause.message)
    : String(cause)

/**
 * Every identity `list` yields for `params`, page after page: the first page after `params.startingAfter` (when
 * given, else from the start), each next one after the last `_id`. The parameters are checked before the first
 * page; an `endingBefore` (which the type leaves out, but a wider value may carry) is refused, as a stream walks
 * forward. A page whose last `_id` was already followed (a server ignoring `starting_after`) ends the stream with
 * `MalformedResponse` instead of looping forever; so does an empty page that says it has more, instead of ending
 * the walk short.
 */
export const paginate = (
  list: Service["list"],
  params: StreamIdentities
): Stream.Stream<Identity, IdentityError> =>
  Stream.unwrap(Effect.map(checkList(params), (query) => {
    if (query.ending_before !== undefined) {
      return Stream.fail(
        new InvalidRequest({
          field: "endingBefore",
          message: "endingBefore: a stream walks forward: start it with startingAfter instead"
        })
      )
    }
    const start = Option.fromNullable(query.starting_after)
    return pages(list, params, start)
  }))

/** The pages of {@link paginate}, the cursor seeded with `start`. */
const pages = (list: Service["list"], params: StreamIdentities, start: Option.Option<string>) =>
  Stream.paginateChunkEffect(
    {
      cursor: start,
      followed: Option.match(start, { onNone: () => HashSet.empty<string>(), onSome: (id) => HashSet.make(id) })
    },
    ({ cursor, followed }) =>
      list(Option.match(cursor, { onNone: () => params, onSome: (startingAfter) => ({ ...params, startingAfter }) }))
        .pipe(Effect.flatMap((page) => {
          const last = page.data.at(-1)
          if (!page.hasMore) return Effect.succeed([Chunk.fromIterable(page.data), Option.none()])
          if (last === undefined) {
            // ending here would silently cut the walk short
            return Effect.fail(
              new MalformedResponse({ status: 200, message: "the page has more but is empty: no cursor to follow" })
            )
          }
          if (Either.isLeft(validateId(last.id))) {
            // sent back as the next cursor, it would be refused as the caller's input
            return Effect.fail(
              new MalformedResponse({
                status: 200,
                message: "the page has more, but its last _id cannot be sent back as a cursor (blank, '.', '..' " +
                  "or not well-formed Unicode)"
              })
            )
          }
          if (HashSet.has(followed, last.id)) {
            return Effect.fail(
              new MalformedResponse({
                status: 200,
                message: `the page after ${
                  Option.getOrElse(cursor, () => "the start")
                } ends at ${last.id} again: the server did not follow starting_after`
              })
            )
          }
          return Effect.succeed([
            Chunk.fromIterable(page.data),
            Option.some({ cursor: Option.some(last.id), followed: HashSet.add(followed, last.id) })
          ])
        }))
  )

// ---------------------------------------------------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------------------------------------------------

/**
 * The header names whose values the platform's HTTP span may not record: all of them. The span keeps each header's
 * name; a server may echo the key or personal data in any value, even a `content-type` parameter.
 */
export const SPAN_REDACTED_HEADERS: ReadonlyArray<string | RegExp> = [/^/]

/**
 * Marks an `HttpClient` whose own spans record no header values, as `UndiciHttpClient`'s: over it, the client skips
 * the {@link SPAN_REDACTED_HEADERS} scope (an `Effect.locally`, about an eighth of a PATCH's run-loop steps) that it
 * puts around every request over any other. A client built from a marked one (`HttpClient.mapRequest`, …) is a new
 * object, unmarked.
 */
export const RecordsNoHeaderValues: unique symbol = Symbol.for("@orq-effect/client/RecordsNoHeaderValues")

/**
 * Whether an identity reference may be personal data: an external id that is an email (it has an `@`). Such an id
 * goes into no span attribute: the operation's span goes without `orq.identity.id`, and the request without the
 * platform's HTTP span, whose URL would hold it.
 */
export const isPersonal = (id: string | undefined): boolean => id !== undefined && id.includes("@")

/** Builds the service over the `HttpClient` in context. */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const checkedBaseUrl = checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL)
    const baseUrl = Either.getOrElse(checkedBaseUrl, () => "")
    const key = Redacted.value(options.apiKey)
    // checked once, never quoted: a key that cannot be a header value would fail every request, or worse, retry
    const checkedKey = checkApiKey(key)
    // a key with `"` or `\` reads differently inside JSON text, which is how a quoted JSON body shows it
    const keyInJson = JSON.stringify(key).slice(1, -1)
    /**
     * Scrubs the API key, as is or as JSON text spells it, from text the server or the transport produced (a server
     * may echo the header). Keys shorter than 8 characters (test stand-ins such as "k") are left alone: scrubbing
     * them would garble text.
     */
    const redact = (text: string): string =>
      key.length < 8 ? text : text.replaceAll(key, "<redacted>").replaceAll(keyInJson, "<redacted>")
    const transport = yield* HttpClient.HttpClient
    const redactHeaders = !(RecordsNoHeaderValues in transport)
    const httpClient = transport.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(baseUrl),
          HttpClientRequest.bearerToken(options.apiKey),
          HttpClientRequest.acceptJson
        )
      ),
      HttpClient.transformResponse(Effect.flatMap(readWhole)),
      options.transformClient ?? identity
    )

    const readBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<string, IdentityError> =>
      ResponseBody.text(response).pipe(
        Effect.mapError((error) =>
          new TransportError({
            reason: "Connection",
            message: redact(
              `the connection broke while reading the ${response.status} answer: ${causeMessage(error.cause ?? error)}`
            )
          })
        ),
        Effect.flatMap(Option.match({
          onNone: () =>
            Effect.fail(
              new MalformedResponse({
                status: response.status,
                message: `the ${response.status} answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
                requestId: ErrorResponse.requestIdOf(response.headers, redact)
              })
            ),
          onSome: Effect.succeed
        }))
      )

    const failWith = (
      response: HttpClientResponse.HttpClientResponse,
      subject: ErrorResponse.Subject
    ): Effect.Effect<never, IdentityError> =>
      Effect.flatMap(
        // the status says what went wrong: a body too large or cut short only loses the server's message
        Effect.zip(
          Effect.orElseSucceed(readBody(response), () => ""),
          Clock.currentTimeMillis
        ),
        ([body, nowMillis]) =>
          Effect.fail(
            ErrorResponse.fromStatus({
              status: response.status,
              headers: response.headers,
              body,
              subject,
              nowMillis,
              redact
            })
          )
      )

    const fromHttpError = (
      error: HttpClientError.HttpClientError,
      subject: ErrorResponse.Subject
    ): Effect.Effect<never, IdentityError> => {
      switch (error._tag) {
        case "ResponseError":
          return error.reason === "StatusCode"
            ? failWith(error.response, subject)
            : Effect.fail(
              new MalformedResponse({
                status: error.response.status,
                message: `the ${error.response.status} answer could not be read`,
                requestId: ErrorResponse.requestIdOf(error.response.headers, redact)
              })
            )
        case "RequestError":
          if (error.reason === "Transport") {
            const timeout = Cause.isTimeoutException(error.cause)
            return Effect.fail(
              new TransportError({
                reason: timeout ? "Timeout" : "Connection",
                message: redact(
                  `${describe(error.request)}: ${timeout ? error.description ?? "timed out" : said(error)}`
                )
              })
            )
          }
          return Effect.fail(
            error.reason === "InvalidUrl"
              ? new InvalidRequest({ field: "baseUrl", message: redact(`baseUrl: not a valid URL (${baseUrl})`) })
              : unencodable()
          )
      }
    }

    /**
     * Sends `request`; a 2xx answer is read in full, anything else becomes a typed error. A request whose URL holds
     * personal data (`untraced`: a search term, an email as the id) is sent without the platform's HTTP span, which
     * would record the URL; so are the requests a retry policy makes for it (a lookup by external id, say).
     */
    const send = (
      request: HttpClientRequest.HttpClientRequest,
      subject: ErrorResponse.Subject,
      untraced = isPersonal(subject.id) || isPersonal(subject.externalId)
    ): Effect.Effect<Answer, IdentityError> => {
      if (Either.isLeft(checkedBaseUrl)) {
        return Effect.fail(new InvalidRequest({ field: "baseUrl", message: `baseUrl: ${checkedBaseUrl.left}` }))
      }
      if (Either.isLeft(checkedKey)) {
        return Effect.fail(new InvalidRequest({ field: "apiKey", message: `apiKey: ${checkedKey.left}` }))
      }
      const sent = redactHeaders
        ? Effect.locally(httpClient.execute(request), Headers.currentRedactedNames, SPAN_REDACTED_HEADERS)
        : httpClient.execute(request)
      return (untraced ? Effect.locally(sent, HttpClient.currentTracerDisabledWhen, () => true) : sent).pipe(
        Effect.catchAll((error) => fromHttpError(error, subject)),
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300
            ? Effect.map(readBody(response), (body) => ({ status: response.status, headers: response.headers, body }))
            : failWith(response, subject)
        )
      )
    }

    const path = (id: string) => `/v2/identities/${encodeURIComponent(id)}`

    /** `request` with the wire body `body` as JSON; a body `JSON.stringify` refuses is an `InvalidRequest`. */
    const withJson = (request: HttpClientRequest.HttpClientRequest, body: unknown) =>
      Effect.mapError(HttpClientRequest.bodyJson(request, body), unencodable)

    /** `effect` in the span `IdentityClient.<name>`, which records no personal data (see `PrivateSpan`). */
    const withSpan = (name: string, id?: string) =>
      PrivateSpan.withSpan(`IdentityClient.${name}`, {
        kind: "client",
        // the call site would be this module, every time: not worth an Error per call
        captureStackTrace: false,
        attributes: id === undefined || isPersonal(id) ? {} : { "orq.identity.id": id }
      })

    const retrieve = (id: string, options?: RetrieveOptions) =>
      checkId(id).pipe(
        Effect.flatMap(() =>
          send(
            HttpClientRequest.get(path(id), {
              urlParams: options?.includeMetrics === undefined ? {} : { include_metrics: options.includeMetrics }
            }),
            { id }
          )
        ),
        Effect.flatMap((answer) => asIdentity(answer, redact)),
        withSpan("retrieve", id)
      )

    const update = (id: string, patch: UpdateIdentity) =>
      checkIdAndUpdate(id, patch).pipe(
        Effect.flatMap((body) => withJson(HttpClientRequest.patch(path(id)), body)),
        Effect.flatMap((request) => send(request, { id })),
        Effect.flatMap((answer) => asIdentity(answer, redact)),
        withSpan("update", id)
      )

    const create = (input: CreateIdentity) =>
      checkCreate(input).pipe(
        Effect.flatMap((body) =>
          // the subject from the checked body: the input is read once (a getter could answer differently twice)
          Effect.flatMap(
            withJson(HttpClientRequest.post("/v2/identities"), body),
            (request) => send(request, { externalId: body.external_id })
          )
        ),
        Effect.flatMap((answer) => asIdentity(answer, redact)),
        withSpan("create")
      )

    const delete_ = (id: string) =>
      checkId(id).pipe(
        Effect.flatMap(() => send(HttpClientRequest.del(path(id)), { id })),
        Effect.asVoid,
        withSpan("delete", id)
      )

    const list = (params: ListIdentities = {}) =>
      checkList(params).pipe(
        Effect.flatMap((query) => {
          const cursor = query.starting_after ?? query.ending_before
          return send(
            HttpClientRequest.get("/v2/identities", {
              urlParams: {
                limit: query.limit,
                starting_after: query.starting_after,
                ending_before: query.ending_before,
                search: query.search,
                tags: query.tags === undefined || query.tags.length === 0 ? undefined : query.tags.join(","),
                include_metrics: query.include_metrics
              }
            }),
            { id: cursor },
            // the URL holds the search, a name or an email: such a list has no HTTP span (its own span remains)
            query.search !== undefined || isPersonal(cursor)
          )
        }),
        Effect.flatMap((answer) => asPage(answer, redact)),
        withSpan("list")
      )

    const stream = (params: StreamIdentities = {}) => paginate(list, params)

    return IdentityClient.of({ retrieve, update, create, delete: delete_, list, stream })
  })

/** The service as a layer over the `HttpClient` in context. */
export const layer = (options: Options): Layer.Layer<IdentityClient, never, HttpClient.HttpClient> =>
  Layer.effect(IdentityClient, make(options))

/**
 * The service as a layer whose options are read from `Config`. A key or base URL that `checkApiKey` or
 * `checkBaseUrl` refuses fails the layer with a `ConfigError`, rather than every call with `InvalidRequest`.
 */
export const layerConfig = (
  configs: Config.Config.Wrap<Options>
): Layer.Layer<IdentityClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    IdentityClient,
    Effect.flatMap(
      Config.unwrap(configs).pipe(
        Config.mapOrFail((options: Options) => {
          // every problem, not only the first
          const problems = [
            Either.mapLeft(checkApiKey(Redacted.value(options.apiKey)), (reason) =>
              ConfigError.InvalidData(["apiKey"], reason)),
            Either.mapLeft(checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL), (reason) =>
              ConfigError.InvalidData(["baseUrl"], reason))
          ].flatMap((checked) =>
            Either.isLeft(checked) ? [checked.left] : []
          )
          const [first, ...rest] = problems
          return first === undefined ? Either.right(options) : Either.left(rest.reduce(ConfigError.And, first))
        })
      ),
      make
    )
  )
