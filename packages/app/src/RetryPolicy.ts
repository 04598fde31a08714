/**
 * The retry and timeout policy of a live client, applied through the client's `transformClient` hook.
 *
 * - Retried: 408, 429, 500, 502, 503, 504, transport failures and per-attempt timeouts, for GET, PATCH and
 *   DELETE, at most `maxRetries` times, with exponential backoff, full jitter and a cap.
 * - POST (create) is retried only when the request certainly did not take effect: connection refused, 429,
 *   503. Anything ambiguous (timeout, reset, 500/502/504) is not retried, so an identity is never created twice.
 * - A `Retry-After` (or `retry-after-ms`) wait replaces the backoff when it is longer. A wait that would pass
 *   the deadline is not slept: the call fails at once with the server's answer (a `RateLimited` carrying it).
 * - Each attempt has its own `timeout`; the whole call, waits included, has a `deadline`. Both abort the
 *   request in flight, as does interrupting the caller.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { RetryAfter } from "@orq-effect/client"
import { Cause, Clock, Duration, Effect, Option, Schedule } from "effect"

/** The knobs of the policy. */
export interface Options {
  /** Retries after the first attempt. */
  readonly maxRetries: number
  /** Per attempt. */
  readonly timeout: Duration.DurationInput
  /** Per call, across attempts and waits. */
  readonly deadline: Duration.DurationInput
  /** The first backoff step, before jitter. Defaults to 250 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** The longest backoff step, before jitter. Defaults to 8 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
}

/** Statuses worth another attempt. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

const statusOf = (error: HttpClientError.HttpClientError): number | undefined =>
  error._tag === "ResponseError" && error.reason === "StatusCode" ? error.response.status : undefined

const hasCode = (cause: unknown, code: string, depth = 0): boolean =>
  typeof cause === "object" && cause !== null && depth < 5 &&
  ((cause as { code?: unknown }).code === code || hasCode((cause as { cause?: unknown }).cause, code, depth + 1))

/** A failure worth another attempt of an idempotent request. */
export const isTransient = (error: HttpClientError.HttpClientError): boolean => {
  const status = statusOf(error)
  return status !== undefined ? TRANSIENT_STATUSES.has(status) : error._tag === "RequestError" && error.reason === "Transport"
}

/** A failure after which a non-idempotent request certainly did not take effect. */
export const certainlyNotApplied = (error: HttpClientError.HttpClientError): boolean => {
  const status = statusOf(error)
  if (status !== undefined) return status === 429 || status === 503
  return error._tag === "RequestError" && error.reason === "Transport" && hasCode(error.cause, "ECONNREFUSED")
}

/** Exponential backoff from `baseDelay`, capped at `maxDelay`, with full jitter (each wait uniform in [0, step]). */
export const backoff = (options: Pick<Options, "baseDelay" | "maxDelay">): Schedule.Schedule<Duration.Duration> => {
  const cap = Duration.decode(options.maxDelay ?? Duration.seconds(8))
  return Schedule.exponential(options.baseDelay ?? Duration.millis(250)).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, cap)),
    Schedule.jitteredWith({ min: 0, max: 1 })
  )
}

const timeoutError = (request: HttpClientRequest.HttpClientRequest, description: string) =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: new Cause.TimeoutException(description),
    description
  })

const retryAfterOf = (error: HttpClientError.HttpClientError, nowMillis: number): Option.Option<Duration.Duration> =>
  error._tag === "ResponseError" ? RetryAfter.parse(error.response.headers, nowMillis) : Option.none()

/** The policy as a `transformClient` hook for `IdentityClient.make`. */
export const transformClient = (options: Options) => (client: HttpClient.HttpClient): HttpClient.HttpClient => {
  const timeout = Duration.decode(options.timeout)
  const deadline = Duration.decode(options.deadline)
  return HttpClient.transform(client, (effect, request) =>
    Effect.gen(function*() {
      const startedAt = yield* Clock.currentTimeMillis
      const retryable = request.method === "POST" ? certainlyNotApplied : isTransient
      const attempt = effect.pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => timeoutError(request, `no answer within ${Duration.format(timeout)}`)
        }),
        Effect.filterOrFail(
          (response) => !TRANSIENT_STATUSES.has(response.status),
          (response) => new HttpClientError.ResponseError({ request, response, reason: "StatusCode" })
        )
      )
      const steps: Schedule.Schedule<unknown, HttpClientError.HttpClientError> = backoff(options).pipe(
        Schedule.intersect(Schedule.recurs(options.maxRetries))
      )
      const schedule = Schedule.passthrough(steps).pipe(
        Schedule.whileInputEffect((error) =>
          Effect.map(Clock.currentTimeMillis, (now) =>
            retryable(error) &&
            Option.match(retryAfterOf(error, now), {
              onNone: () => true,
              // a wait that would pass the deadline is not slept
              onSome: (wait) => now + Duration.toMillis(wait) < startedAt + Duration.toMillis(deadline)
            }))
        ),
        Schedule.modifyDelayEffect((error, delay) =>
          Effect.map(Clock.currentTimeMillis, (now) =>
            Option.match(retryAfterOf(error, now), {
              onNone: () => delay,
              onSome: (wait) => Duration.max(wait, delay)
            }))
        )
      )
      return yield* attempt.pipe(
        Effect.retry(schedule),
        Effect.timeoutFail({
          duration: deadline,
          onTimeout: () => timeoutError(request, `deadline of ${Duration.format(deadline)} passed`)
        })
      )
    }))
}
