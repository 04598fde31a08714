/**
 * A time limit on one request, answer body included, enforced by the transport itself ({@link UndiciHttpClient}):
 * a timer armed when the request is sent fails the call and aborts the request, or the body still being read,
 * when it fires. The transport may have a limit of its own for every request (`UndiciHttpClient.layerWith`), which
 * {@link current} can shorten for the requests of one fiber. `RetryPolicy`, told the transport's own limit, relies
 * on this instead of racing each attempt against `Effect.timeoutFail` (two forked fibers per attempt, the largest
 * cost of a retried call, see BENCHMARKS.md).
 *
 * @since 0.1.0
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Cause, FiberRef, Option } from "effect"
import { globalValue } from "effect/GlobalValue"

/** A limit on a request: how long, and what to say when it passes. */
export interface RequestTimeout {
  readonly millis: number
  readonly description: string
}

/** The longest delay a Node timer can wait; a longer limit is no limit, as with Effect's own clock. */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1

/** A limit on the requests the current fiber sends, besides the transport's own (the shorter applies); none by default. */
export const current: FiberRef.FiberRef<Option.Option<RequestTimeout>> = globalValue(
  Symbol.for("@orq-effect/app/RequestTimeout/current"),
  () => FiberRef.unsafeMake(Option.none<RequestTimeout>())
)

/** The shorter of `limit` and `other`, if there is another (`limit` when they are equal). */
export const shorter = (limit: RequestTimeout, other: RequestTimeout | undefined): RequestTimeout =>
  other === undefined || limit.millis <= other.millis ? limit : other

/** `limit` for a fiber that may already have one (`current`): the shorter of the two. */
export const narrow =
  (limit: RequestTimeout) => (inherited: Option.Option<RequestTimeout>): Option.Option<RequestTimeout> =>
    Option.some(shorter(limit, Option.getOrUndefined(inherited)))

/** The failure of a request that ran out of time: a transport failure whose cause is a `TimeoutException`. */
export const error = (
  request: HttpClientRequest.HttpClientRequest,
  description: string
): HttpClientError.RequestError =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: new Cause.TimeoutException(description),
    description
  })
