import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Conflict } from "@orq-effect/domain/IdentityError"
import type { Tracer } from "effect"
import { Cause, Data, Effect, Exit, Option } from "effect"
import { SpanFailure, withSpan } from "../src/PrivateSpan.js"
import { recordSpans as traced } from "./recordSpans.js"

const ended = (span: Tracer.Span | undefined) => {
  assert.strictEqual(span?.status._tag, "Ended")
  return span?.status._tag === "Ended" ? span.status.exit : Exit.void
}

class Refused extends Data.TaggedError("Refused")<{ readonly message: string }> {}

const EMAIL = "ada@example.com"

describe("PrivateSpan.withSpan", () => {
  it.effect("a failure reaches the caller whole; its span records the tag and request id, not the message", () =>
    Effect.gen(function*() {
      const conflict = new Conflict({ message: `${EMAIL} is taken`, requestId: "req_1" })
      const { exit, spans } = yield* traced(withSpan("op")(Effect.fail(conflict)))
      const got = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      assert.strictEqual(got?._tag, "Conflict")
      assert.strictEqual(got?.message, conflict.message)
      const recorded = ended(spans[0])
      const failure = Exit.isFailure(recorded) ? Cause.failureOption(recorded.cause) : Option.none()
      assert.isTrue(Option.isSome(failure) && failure.value instanceof SpanFailure)
      assert.strictEqual(Option.map(failure, String).pipe(Option.getOrUndefined), "Conflict: Conflict (request req_1)")
      assert.notInclude(Exit.isFailure(recorded) ? Cause.pretty(recorded.cause) : "", EMAIL)
    }))

  it.effect("any other error is recorded by its tag alone", () =>
    Effect.gen(function*() {
      const { spans } = yield* traced(withSpan("op")(Effect.fail(new Refused({ message: `--email ${EMAIL}` }))))
      const exit = ended(spans[0])
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.strictEqual(Cause.pretty(exit.cause).split("\n")[0], "Refused: Refused")
    }))

  it.effect("a success reaches the caller; its span ends without the value", () =>
    Effect.gen(function*() {
      const { exit, spans } = yield* traced(withSpan("op")(Effect.succeed({ email: EMAIL })))
      deepStrictEqual(exit, Exit.succeed({ email: EMAIL }))
      deepStrictEqual(ended(spans[0]), Exit.void)
    }))
})
