/**
 * Spans that record no personal data from a call's outcome: a failure is recorded by its tag, HTTP status (or
 * transport failure reason) and request id only, never its message, which may quote the server's (an email in a
 * 409, say), and a success is recorded without its value. The caller still gets the error or value itself.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"

const field = (error: object, key: string): string | undefined => {
  const value: unknown = Reflect.get(error, key)
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined
}

/** What a span records of a failure: `error`'s tag, status or reason, and request id, not its message. */
export class SpanFailure<E = unknown> extends Error {
  constructor(readonly error: E) {
    const described = typeof error === "object" && error !== null
    const tag = (described && field(error, "_tag")) || "Error"
    const status = described ? field(error, "status") ?? field(error, "reason") : undefined
    const requestId = described ? field(error, "requestId") : undefined
    super(
      `${tag}${status === undefined ? "" : ` ${status}`}${requestId === undefined ? "" : ` (request ${requestId})`}`
    )
    this.name = tag
    this.stack = `${this.name}: ${this.message}`
  }
}

/**
 * `effect` in the span `name`. The span ends with `void` rather than the result (Effect's default tracer keeps an
 * ended span's exit, and a span V8 has moved to old space would keep a result, a whole page when streaming, from
 * being collected young), or with a {@link SpanFailure}.
 */
export const withSpan =
  (name: string, options?: Tracer.SpanOptions) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      let result: A
      return effect.pipe(
        Effect.mapBoth({
          onFailure: (error) => new SpanFailure<E>(error),
          onSuccess: (value) => {
            result = value
          }
        }),
        Effect.withSpan(name, options),
        Effect.mapBoth({ onFailure: (failure) => failure.error, onSuccess: () => result })
      )
    })
