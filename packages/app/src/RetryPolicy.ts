/**
 * The retry and timeout policy of a live client, applied through the client's `transformClient` hook.
 *
 * | case | GET, PATCH, DELETE | POST create (`/v2/identities`) |
 * | --- | --- | --- |
 * | 408, 429, 500, 502, 503, 504 | retried | retried |
 * | transport failure, per-attempt timeout | retried | retried |
 * | any other status (400, 401, 404, 409, …) | answered as is | answered as is |
 * | 409 after an ambiguous failure | (not applicable) | the existing identity (`GET /v2/identities/{external_id}`) |
 *
 * - At most `maxRetries` retries, each after an exponential backoff from `baseDelay`, capped at `maxDelay`,
 *   with full jitter (a wait uniform in `[0, min(maxDelay, baseDelay * 2^n)]`).
 * - A `Retry-After` (integer or fractional seconds, an HTTP date) or `retry-after-ms` replaces the backoff and
 *   is honoured exactly. A wait, of either kind, that would end past the deadline is not slept: the call fails
 *   at once with the last answer (a 429 becomes a `RateLimited` carrying the wait).
 * - Each attempt, answer body included, has its own `timeout`; the whole call, waits included, has a
 *   `deadline`. Both abort the request in flight, as does interrupting the caller.
 * - A create is never duplicated. After a failure that leaves it unknown whether the identity was created (a
 *   timeout, a reset, 408, 500, 502, 504) it is retried, and a 409 on a later attempt means the earlier one took
 *   effect: the identity is fetched by its `external_id` and that answer is returned (if it is the identity holding
 *   that `external_id`, and not one whose `_id` it is). After failures that
 *   certainly did not take effect (connection refused, 429, 503) a 409 is a real `Conflict`.
 * - Any other POST is retried only after failures that certainly did not take effect.
 *
 * `IdentityClient` reads every answer in full inside the request, so within the attempt: a connection that breaks or
 * stalls in the middle of a body is a transport failure of that attempt (retried) rather than of the caller's read.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { ErrorResponse, ResponseBody, RetryAfter } from "@orq-effect/client"
import { IdentityId, IdentityResponse } from "@orq-effect/domain/Identity"
import { Clock, Duration, Effect, Option, Ref, Schedule, ScheduleDecision, Schema } from "effect"
import * as RequestTimeout from "./RequestTimeout.js"

/** The knobs of the policy. */
export interface Options {
  /** Retries after the first attempt. */
  readonly maxRetries: number
  /** Per attempt, until the whole answer has arrived. */
  readonly timeout: Duration.DurationInput
  /** Per call, across attempts and waits. */
  readonly deadline: Duration.DurationInput
  /** The first backoff step, before jitter. Defaults to 250 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** The longest backoff step, before jitter. Defaults to 8 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /**
   * The limit the transport enforces itself on every request, and it also enforces `RequestTimeout.current`, as
   * `UndiciHttpClient.layerWith({ limit })` does (`IdentitiesLive` gives both the same {@link attemptLimit}). The
   * policy then races no timer of its own: it hands the transport an attempt's limit only when that is shorter than
   * this one (less than a whole attempt left of the deadline, say). Without it, every attempt is raced against
   * Effect's timer.
   */
  readonly transportLimit?: RequestTimeout.RequestTimeout | undefined
}

/** The limit of one whole attempt: `timeout`, said as "no answer within …". */
export const attemptLimit = (options: Pick<Options, "timeout">): RequestTimeout.RequestTimeout => {
  const timeout = Duration.decode(options.timeout)
  return { millis: Duration.toMillis(timeout), description: `no answer within ${Duration.format(timeout)}` }
}

const { NOT_APPLIED_STATUSES, TRANSIENT_STATUSES } = ErrorResponse

/** Methods whose repetition is harmless (an orq PATCH sets the given fields, so it is one of them). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])

/** The path of `POST` create. */
export const CREATE_PATH = "/v2/identities"

const statusOf = (error: HttpClientError.HttpClientError): number | undefined =>
  error._tag === "ResponseError" && error.reason === "StatusCode" ? error.response.status : undefined

/** Whether `cause`, or an error it wraps (`cause`, `errors`), carries the system error `code`. */
const hasCode = (cause: unknown, code: string, depth = 0): boolean => {
  if (typeof cause !== "object" || cause === null || depth > 4) return false
  if ("code" in cause && cause.code === code) return true
  if ("cause" in cause && hasCode(cause.cause, code, depth + 1)) return true
  return "errors" in cause && Array.isArray(cause.errors) && cause.errors.some((e) => hasCode(e, code, depth + 1))
}

/** A failure worth another attempt of an idempotent request. */
export const isTransient = (error: HttpClientError.HttpClientError): boolean => {
  const status = statusOf(error)
  return status !== undefined
    ? TRANSIENT_STATUSES.has(status)
    : error._tag === "RequestError" && error.reason === "Transport"
}

/** A failure after which a non-idempotent request certainly did not take effect: refused connection, 429, 503. */
export const certainlyNotApplied = (error: HttpClientError.HttpClientError): boolean => {
  const status = statusOf(error)
  if (status !== undefined) return NOT_APPLIED_STATUSES.has(status)
  return error._tag === "RequestError" && error.reason === "Transport" && hasCode(error.cause, "ECONNREFUSED")
}

/** A transient failure after which it is unknown whether a non-idempotent request took effect. */
export const isAmbiguous = (error: HttpClientError.HttpClientError): boolean =>
  isTransient(error) && !certainlyNotApplied(error)

/** Exponential backoff from `baseDelay`, capped at `maxDelay`, with full jitter (each wait uniform in [0, step]). */
export const backoff = (options: Pick<Options, "baseDelay" | "maxDelay">): Schedule.Schedule<Duration.Duration> => {
  const cap = Duration.decode(options.maxDelay ?? Duration.seconds(8))
  return Schedule.exponential(options.baseDelay ?? Duration.millis(250)).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, cap)),
    Schedule.jitteredWith({ min: 0, max: 1 })
  )
}

const retryAfterOf = (error: HttpClientError.HttpClientError, nowMillis: number): Option.Option<Duration.Duration> =>
  error._tag === "ResponseError" ? RetryAfter.parse(error.response.headers, nowMillis) : Option.none()

/**
 * The retry schedule of one call: {@link backoff}, or the server's `Retry-After` when it sent one, while the
 * failure is `retryable`, at most `maxRetries` times, and only while the wait ends before `deadlineAt` (epoch
 * millis). Its output is the wait before the next attempt.
 */
export const schedule = (
  options: Pick<Options, "baseDelay" | "maxDelay" | "maxRetries"> & {
    readonly retryable: (error: HttpClientError.HttpClientError) => boolean
    readonly deadlineAt: number
  }
): Schedule.Schedule<Duration.Duration, HttpClientError.HttpClientError> => {
  const steps: Schedule.Schedule<Duration.Duration, HttpClientError.HttpClientError> = backoff(options)
  return Schedule.passthrough(steps).pipe(
    Schedule.modifyDelayEffect((error, delay) =>
      Effect.map(Clock.currentTimeMillis, (now) => Option.getOrElse(retryAfterOf(error, now), () => delay))
    ),
    Schedule.delays,
    Schedule.intersect(Schedule.recurs(options.maxRetries)),
    Schedule.whileInput(options.retryable),
    // a wait that would pass the deadline is not slept: the last answer is the result
    Schedule.checkEffect((_, [wait]) =>
      Effect.map(Clock.currentTimeMillis, (now) => now + Duration.toMillis(wait) < options.deadlineAt)
    ),
    Schedule.map(([wait]) => wait)
  )
}

const utf8 = new TextDecoder()
// an external id that cannot name an identity in a path (a lone surrogate, `.`) has no lookup after a 409
const CreateBody = Schema.parseJson(Schema.Struct({ external_id: IdentityId }))
const decodeCreateBody = Schema.decodeUnknownOption(CreateBody)

/** The `external_id` of an identity answer of either generation (flat or `{ identity }`), as the client reads it. */
const externalIdOfAnswer = (body: string): Option.Option<string> =>
  Option.map(decodeIdentityAnswer(body), (identity) => identity.externalId)
const decodeIdentityAnswer = Schema.decodeUnknownOption(Schema.parseJson(IdentityResponse))

/** The `external_id` of a create request, when `request` is one and its `external_id` can be looked up. */
export const createExternalId = (request: HttpClientRequest.HttpClientRequest): Option.Option<string> => {
  if (request.method !== "POST" || request.body._tag !== "Uint8Array") return Option.none()
  let path: string
  try {
    path = new URL(request.url).pathname
  } catch {
    return Option.none()
  }
  if (!path.endsWith(CREATE_PATH)) return Option.none()
  return Option.map(decodeCreateBody(utf8.decode(request.body.body)), (body) => body.external_id)
}

/** The policy as a `transformClient` hook for `IdentityClient.make`. */
export const transformClient = (options: Options) => (client: HttpClient.HttpClient): HttpClient.HttpClient => {
  const deadline = Duration.decode(options.deadline)
  const deadlineMessage = `deadline of ${Duration.format(deadline)} passed`
  const deadlineMillis = Duration.toMillis(deadline)
  const whole = attemptLimit(options)

  /** The limit of an attempt that starts with `leftMillis` left of the deadline. */
  const limitOf = (leftMillis: number): RequestTimeout.RequestTimeout =>
    leftMillis < whole.millis ? { millis: Math.max(0, leftMillis), description: deadlineMessage } : whole

  const transportLimit = options.transportLimit
  /**
   * `effect` within the limit of an attempt that starts with `leftMillis` left of the deadline: enforced by the
   * transport when it has a limit of its own (a shorter one is handed to it in `RequestTimeout.current`), otherwise
   * by Effect's timer.
   */
  const within: <A>(
    request: HttpClientRequest.HttpClientRequest,
    effect: Effect.Effect<A, HttpClientError.HttpClientError>,
    leftMillis: number
  ) => Effect.Effect<A, HttpClientError.HttpClientError> = transportLimit === undefined
    ? (request, effect, leftMillis) => {
      const limit = limitOf(leftMillis)
      return Effect.timeoutFail(effect, {
        duration: Duration.millis(limit.millis),
        onTimeout: () => RequestTimeout.error(request, limit.description)
      })
    }
    : (_, effect, leftMillis) => {
      const limit = limitOf(leftMillis)
      return transportLimit.millis <= limit.millis
        ? effect
        : Effect.locallyWith(effect, RequestTimeout.current, RequestTimeout.narrow(limit))
    }

  /** One attempt: the whole answer in time (see `within`); a transient status becomes a failure. */
  const attempt = (
    request: HttpClientRequest.HttpClientRequest,
    send: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>,
    leftMillis: number
  ) =>
    within(request, send, leftMillis).pipe(
      Effect.filterOrFail(
        (response) => !TRANSIENT_STATUSES.has(response.status),
        (response) => new HttpClientError.ResponseError({ request, response, reason: "StatusCode" })
      ),
      Effect.tapError((error) =>
        Effect.logDebug("orq: attempt failed").pipe(
          Effect.annotateLogs({ method: request.method, failure: statusOf(error) ?? error.reason })
        )
      )
    )

  /**
   * Attempts `send`, then, only if that fails with a `retryable` failure, goes on under the retry schedule until
   * `until` (epoch millis; by default the deadline from now). A call that succeeds at once pays for one
   * attempt timeout and nothing more.
   */
  const retried = (
    request: HttpClientRequest.HttpClientRequest,
    send: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>,
    retryable: (error: HttpClientError.HttpClientError) => boolean,
    until?: number,
    onFailure: (error: HttpClientError.HttpClientError) => Effect.Effect<void> = () => Effect.void
  ) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const deadlineAt = until ?? now + deadlineMillis
      // every attempt ends by the deadline, and the schedule sleeps no wait that would pass it
      const next = (at: number) => Effect.tapError(attempt(request, send, deadlineAt - at), onFailure)
      return next(now).pipe(
        Effect.catchAll((first) => {
          if (!retryable(first)) return Effect.fail(first)
          // the schedule (built only now, so a call that succeeds at once builds none) must first see the failure
          // just seen: `again` replays it once, without a request, then makes a new attempt on every later run
          let replayed = false
          const again = Effect.suspend(() => {
            if (replayed) return Effect.flatMap(Clock.currentTimeMillis, next)
            replayed = true
            return Effect.fail(first)
          })
          return Effect.retry(
            again,
            schedule({ ...options, retryable, deadlineAt }).pipe(
              // logged only when there is another attempt, not when the schedule gives up
              Schedule.onDecision((wait, decision) =>
                ScheduleDecision.isContinue(decision)
                  ? Effect.logDebug("orq: retrying").pipe(
                    Effect.annotateLogs({
                      method: request.method,
                      wait: Duration.format(Duration.millis(Math.round(Duration.toMillis(wait))))
                    })
                  )
                  : Effect.void
              )
            )
          )
        })
      )
    })

  /** A create: every transient failure is retried; a 409 after an ambiguous one is the identity it created. */
  const create = (
    request: HttpClientRequest.HttpClientRequest,
    send: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>,
    externalId: string
  ) =>
    Effect.gen(function*() {
      // the lookup after a 409 shares the create's deadline
      const deadlineAt = (yield* Clock.currentTimeMillis) + deadlineMillis
      const ambiguous = yield* Ref.make(false)
      const response = yield* retried(
        request,
        send,
        isTransient,
        deadlineAt,
        (error) => isAmbiguous(error) ? Ref.set(ambiguous, true) : Effect.void
      )
      if (response.status !== 409 || !(yield* Ref.get(ambiguous))) return response
      yield* Effect.logDebug("orq: create answered 409 after an ambiguous attempt; fetching the identity")
      const path = `${CREATE_PATH}/${encodeURIComponent(externalId)}`
      const lookup = HttpClientRequest.get(`${request.url}/${encodeURIComponent(externalId)}`)
      const existing = yield* retried(lookup, client.execute(HttpClientRequest.get(path)), isTransient, deadlineAt)
      // gone again since the 409: the conflict is the answer
      if (existing.status !== 200) return response
      // `{id}` resolves `_id` first: an identity holding another external id is not ours, and the conflict stands
      // (an answer that cannot be read is returned for the client to say so)
      const body = yield* Effect.orElseSucceed(ResponseBody.text(existing), () => Option.none<string>())
      const found = externalIdOfAnswer(Option.getOrElse(body, () => ""))
      return Option.isSome(found) && found.value !== externalId ? response : existing
    })

  return HttpClient.transform(
    client,
    (send, request) =>
      Option.match(createExternalId(request), {
        onSome: (externalId) => create(request, send, externalId),
        onNone: () => retried(request, send, IDEMPOTENT_METHODS.has(request.method) ? isTransient : certainlyNotApplied)
      })
  )
}
