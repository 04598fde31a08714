import * as Headers from "@effect/platform/Headers"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Duration, Effect, FastCheck as fc, Option } from "effect"
import * as RetryAfter from "../src/RetryAfter.js"

const now = Date.UTC(2026, 0, 1, 0, 0, 0)

/** The wait in milliseconds asked for by `headers`, `undefined` when none. */
const waitOf = (headers: Record<string, string>): number | undefined =>
  Option.getOrUndefined(Option.map(RetryAfter.parse(Headers.fromInput(headers), now), Duration.toMillis))

describe("RetryAfter.parse", () => {
  it("none without a header", () => {
    assert.isUndefined(waitOf({}))
  })

  it("Retry-After in integer and fractional seconds, read exactly", () => {
    assert.strictEqual(waitOf({ "retry-after": "0" }), 0)
    assert.strictEqual(waitOf({ "retry-after": "120" }), 120_000)
    assert.strictEqual(waitOf({ "retry-after": " 7 " }), 7000)
    assert.strictEqual(waitOf({ "retry-after": "1.5" }), 1500)
    assert.strictEqual(waitOf({ "retry-after": "0.25" }), 250)
    // no clamping: a long wait is the server's to ask for
    assert.strictEqual(waitOf({ "retry-after": "86400" }), 86_400_000)
  })

  it("retry-after-ms wins over Retry-After; an unreadable one is ignored", () => {
    assert.strictEqual(waitOf({ "retry-after-ms": "250", "retry-after": "9" }), 250)
    assert.strictEqual(waitOf({ "retry-after-ms": "1.5" }), 1.5)
    assert.strictEqual(waitOf({ "retry-after-ms": "soon", "retry-after": "2" }), 2000)
  })

  it("an HTTP date, relative to now", () => {
    assert.strictEqual(waitOf({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), 30_000)
    assert.strictEqual(waitOf({ "retry-after": new Date(now + 90_000).toUTCString() }), 90_000)
  })

  it("an ISO 8601 date with a zone, as some servers send", () => {
    assert.strictEqual(waitOf({ "retry-after": "2026-01-01T00:00:45Z" }), 45_000)
    assert.strictEqual(waitOf({ "retry-after": "2026-01-01T01:00:45+01:00" }), 45_000)
  })

  it("an HTTP date in the past means no wait", () => {
    assert.strictEqual(waitOf({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }), 0)
  })

  it("the obsolete HTTP date forms (RFC 850, asctime) are GMT", () => {
    assert.strictEqual(waitOf({ "retry-after": "Thursday, 01-Jan-26 00:01:00 GMT" }), 60_000)
    assert.strictEqual(waitOf({ "retry-after": "Thu Jan  1 00:02:00 2026" }), 120_000)
  })

  it.effect("an asctime date is GMT whatever the local time zone", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const previous = process.env.TZ
        process.env.TZ = "America/New_York"
        return previous
      }),
      () => Effect.sync(() => assert.strictEqual(waitOf({ "retry-after": "Thu Jan  1 00:02:00 2026" }), 120_000)),
      (previous) =>
        Effect.sync(() => {
          if (previous === undefined) delete process.env.TZ
          else process.env.TZ = previous
        })
    ))

  it("an unreadable value is none, not a date in the past", () => {
    for (const value of ["", "soon", "-1", "-5", "soon 12", "1e3", "Infinity", "0x10", "12 34", "Tuesday", "1,5"]) {
      assert.isUndefined(waitOf({ "retry-after": value }), `Retry-After: ${value}`)
    }
  })

  it("a wait too long to count in milliseconds is Duration.infinity, never a Duration that cannot be printed", () => {
    const of = (headers: Record<string, string>) => RetryAfter.parse(Headers.fromInput(headers), now)
    for (
      const headers of [
        { "retry-after": "9".repeat(400) },
        { "retry-after": "9".repeat(300) },
        { "retry-after": "1".repeat(20) },
        { "retry-after": `${"9".repeat(300)}.5` },
        { "retry-after-ms": "9".repeat(400) },
        { "retry-after-ms": "9".repeat(17) }
      ]
    ) {
      deepStrictEqual(of(headers), Option.some(Duration.infinity), JSON.stringify(headers).slice(0, 40))
    }
    // the largest safe count of milliseconds is still read exactly
    assert.strictEqual(waitOf({ "retry-after-ms": String(Number.MAX_SAFE_INTEGER) }), Number.MAX_SAFE_INTEGER)
  })

  it.prop(
    "any string of digits: a wait that can be printed, finite and safe or Duration.infinity",
    [
      // lengths spread over the whole range, not biased towards short strings
      fc.array(fc.constantFrom(..."0123456789"), { minLength: 1, maxLength: 400, size: "max" }).map((digits) =>
        digits.join("")
      ),
      fc.constantFrom("retry-after", "retry-after-ms")
    ],
    ([value, name]) => {
      const parsed = RetryAfter.parse(Headers.fromInput({ [name]: value }), now)
      assert.isTrue(Option.isSome(parsed))
      if (Option.isSome(parsed)) {
        const millis = Duration.toMillis(parsed.value)
        assert.isTrue(millis <= Number.MAX_SAFE_INTEGER || !Duration.isFinite(parsed.value), value)
        assert.isString(Duration.format(parsed.value))
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "any whole number of seconds",
    [fc.integer({ min: 0, max: 1_000_000_000 })],
    ([seconds]) => assert.strictEqual(waitOf({ "retry-after": String(seconds) }), seconds * 1000),
    { fastCheck: { numRuns: 100 } }
  )

  it.prop(
    "any IMF-fixdate within a day of now, to the second",
    [fc.integer({ min: -86_400, max: 86_400 })],
    ([offset]) =>
      assert.strictEqual(
        waitOf({ "retry-after": new Date(now + offset * 1000).toUTCString() }),
        Math.max(0, offset * 1000)
      ),
    { fastCheck: { numRuns: 100 } }
  )
})
