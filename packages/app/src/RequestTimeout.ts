/**
 * A time limit on one request, answer body included, handed by `RetryPolicy` to the transport. A transport that
 * enforces it ({@link UndiciHttpClient}) arms a timer when it sends the request, fails the call and aborts the
 * request, or the body still being read, when the timer fires, and calls `enforced` to say so: from then on the
 * policy stops racing each attempt against its own `Effect.timeoutFail` (two forked fibers per attempt, the
 * largest cost of a retried call, see BENCHMARKS.md). Over any other transport the policy's timer stays.
 *
 * @since 0.1.0
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Cause, FiberRef, Option } from "effect"
import { globalValue } from "effect/GlobalValue"

/** The limit of the requests sent by the current fiber: how long, and what to say when it passes. */
export interface RequestTimeout {
  readonly millis: number
  readonly description: string
  /** Called by a transport that enforces the limit itself, when it arms its timer. */
  readonly enforced: () => void
}

/** The longest delay a Node timer can wait; a longer limit is no limit, as with Effect's own clock. */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1

/** The limit the transport applies to the requests the current fiber sends; none by default. */
export const current: FiberRef.FiberRef<Option.Option<RequestTimeout>> = globalValue(
  Symbol.for("@orq-effect/app/RequestTimeout/current"),
  () => FiberRef.unsafeMake(Option.none<RequestTimeout>())
)

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
