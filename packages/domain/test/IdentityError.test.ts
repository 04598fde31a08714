import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import type { InvalidRequest } from "@orq-effect/domain/IdentityError"
import { IdentityError, NotFound, RateLimited, refusedInput } from "@orq-effect/domain/IdentityError"
import { Duration, Effect, Schema } from "effect"

describe("IdentityError", () => {
  it.prop("every error survives its schema's encoding as JSON (e.g. over RPC)", [IdentityError], ([error]) => {
    const toJson = (value: IdentityError): unknown =>
      JSON.parse(JSON.stringify(Schema.encodeSync(IdentityError)(value)))
    const wire = toJson(error)
    const back = Schema.decodeUnknownSync(IdentityError)(wire)
    assert.strictEqual(back._tag, error._tag)
    // compared as JSON: an optional field the generator set to `undefined` comes back absent
    deepStrictEqual(toJson(back), wire)
  }, { fastCheck: { numRuns: 100 } })

  it("a RateLimited's wait, infinite included, survives JSON", () => {
    for (const retryAfter of [Duration.millis(1500), Duration.infinity]) {
      const wire = JSON.stringify(Schema.encodeSync(RateLimited)(new RateLimited({ retryAfter, message: "slow" })))
      const back = Schema.decodeUnknownSync(RateLimited)(JSON.parse(wire))
      assert.isTrue(Duration.equals(back.retryAfter ?? Duration.zero, retryAfter), wire)
    }
  })

  it.effect("errors are yieldable and matchable by tag", () =>
    Effect.gen(function*() {
      const id = yield* Effect.gen(function*() {
        return yield* new NotFound({ id: "a", message: "gone" })
      }).pipe(Effect.catchTag("NotFound", (error) => Effect.succeed(error.id)))
      assert.strictEqual(id, "a")
    }))
})

describe("refusedInput", () => {
  const refuse = <A, I>(schema: Schema.Schema<A, I>, input: unknown): InvalidRequest =>
    Effect.runSync(Effect.flip(Effect.mapError(Schema.decodeUnknown(schema)(input, { errors: "all" }), refusedInput)))

  it("names the first offending field, one line per field", () => {
    const error = refuse(Schema.Struct({ a: Schema.String, b: Schema.Number }), { a: 1, b: "x" })
    assert.strictEqual(error.field, "a")
    // never quoting the value: the input may be personal data, and errors get logged
    assert.strictEqual(error.message, "a: Expected string; b: Expected number")
    assert.isUndefined(error.status)
  })

  it("keeps the reason of a nullable field's value, not `Expected null`", () => {
    const error = refuse(Schema.Struct({ n: Schema.NullOr(Schema.Number.pipe(Schema.positive())) }), { n: -1 })
    assert.strictEqual(error.field, "n")
    assert.notInclude(error.message, "Expected null")
  })

  it("names the top-level field of a nested path, and `input` for the whole value", () => {
    const nested = refuse(Schema.Struct({ tags: Schema.Array(Schema.String) }), { tags: ["ok", 2] })
    assert.strictEqual(nested.field, "tags")
    assert.isTrue(nested.message.startsWith("tags.1: "), nested.message)
    const whole = refuse(Schema.Struct({ a: Schema.String }), "not an object")
    assert.strictEqual(whole.field, "input")
  })
})
