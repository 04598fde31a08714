import { Effect, Tracer } from "effect"

/** Runs `effect` with the current tracer, keeping every span it starts; its exit is kept too. */
export const recordSpans = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const native = yield* Effect.tracer
    const spans: Array<Tracer.Span> = []
    const recording = Tracer.make({
      span: (...args) => {
        const span = native.span(...args)
        spans.push(span)
        return span
      },
      context: native.context
    })
    const exit = yield* Effect.exit(Effect.withTracer(effect, recording))
    return { exit, spans }
  })
