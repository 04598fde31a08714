/**
 * A time limit on one request, answer body included, that the transport enforces itself: a transport that
 * supports it ({@link UndiciHttpClient}) arms a timer when it sends the request and aborts the request, or the
 * body still being read, when the timer fires. This spares `Effect.timeoutFail`'s two forked fibers per
 * attempt, the largest cost of a retried call (see BENCHMARKS.md).
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
}

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
