import * as Headers from "@effect/platform/Headers"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import type { IdentityError } from "@orq-effect/domain/IdentityError"
import { Duration, FastCheck as fc } from "effect"
import { identity } from "effect/Function"
import * as ErrorResponse from "../src/ErrorResponse.js"

/** The four error shapes seen across orq's docs, around `message`. */
const shapes = (message: string): ReadonlyArray<unknown> => [
  { message },
  { error: message },
  { error: { code: "not_found", message, doc_url: "https://docs.orq.ai/errors" } },
  { id: "err_01", code: "conflict", error: message, source: "identities" }
]

const fromStatus = (
  status: number,
  body = "",
  headers: Record<string, string> = {},
  subject: ErrorResponse.Subject = {}
): IdentityError =>
  ErrorResponse.fromStatus({
    status,
    headers: Headers.fromInput(headers),
    body,
    subject,
    nowMillis: 0,
    redact: identity
  })

describe("ErrorResponse.parseMessage", () => {
  it("reads the message of each of the four shapes", () => {
    for (const shape of shapes("Identity not found")) {
      assert.strictEqual(ErrorResponse.parseMessage(JSON.stringify(shape)), "Identity not found", JSON.stringify(shape))
    }
  })

  it("looks past a field that is not a string, and into nested errors", () => {
    assert.strictEqual(ErrorResponse.parseMessage(`{"message":42,"error":"fallback"}`), "fallback")
    assert.strictEqual(ErrorResponse.parseMessage(`{"error":{"error":{"message":"deep"}}}`), "deep")
    assert.strictEqual(ErrorResponse.parseMessage(`"just a JSON string"`), "just a JSON string")
  })

  it("falls back to the raw text, flattened", () => {
    assert.strictEqual(ErrorResponse.parseMessage("upstream\n  timed   out\n"), "upstream timed out")
    assert.strictEqual(ErrorResponse.parseMessage(`{"error":{"code":"x"}}`), `{"error":{"code":"x"}}`)
    assert.strictEqual(ErrorResponse.parseMessage("null"), "null")
    assert.strictEqual(ErrorResponse.parseMessage(`{"message":"Bad`), `{"message":"Bad`)
  })

  it("names an HTML page instead of quoting it", () => {
    assert.strictEqual(
      ErrorResponse.parseMessage("<!DOCTYPE html><html><head><title>502</title></head></html>"),
      "the server answered with an HTML page"
    )
    assert.strictEqual(
      ErrorResponse.parseMessage("<HTML><BODY>Gateway</BODY></HTML>"),
      "the server answered with an HTML page"
    )
  })

  it("nothing for an empty body", () => {
    assert.isUndefined(ErrorResponse.parseMessage(""))
    assert.isUndefined(ErrorResponse.parseMessage(" \n\t"))
  })

  it("shortens a long message to 300 characters", () => {
    const message = ErrorResponse.parseMessage(JSON.stringify({ message: "x".repeat(10_000) }))
    assert.strictEqual(message, `${"x".repeat(300)}…`)
  })

  it("survives a body nested deeper than the parser or the walk can go: no message, the status says it", () => {
    const deep = `${`{"error":`.repeat(200_000)}"x"${"}".repeat(200_000)}`
    assert.isUndefined(ErrorResponse.parseMessage(deep))
    assert.strictEqual(fromStatus(500, deep).message, "the server answered 500")
  })

  it.prop(
    "any message in any of the four shapes reads back flattened",
    [fc.string({ minLength: 1, maxLength: 300 }).filter((s) => s.trim().length > 0)],
    ([message]) => {
      for (const shape of shapes(message)) {
        assert.strictEqual(ErrorResponse.parseMessage(JSON.stringify(shape)), message.replace(/\s+/g, " ").trim())
      }
    },
    { fastCheck: { numRuns: 100 } }
  )

  it.prop(
    "never throws, and gives one short line",
    [fc.oneof(fc.string(), fc.json(), fc.string({ unit: "binary" }))],
    ([body]) => {
      const message = ErrorResponse.parseMessage(body)
      if (message !== undefined) {
        assert.isAtMost(message.length, 301)
        assert.notMatch(message, /[\r\n]/)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("ErrorResponse.fromStatus", () => {
  it("maps each status to its error", () => {
    const table: ReadonlyArray<readonly [number, IdentityError["_tag"]]> = [
      [400, "InvalidRequest"],
      [401, "Unauthorized"],
      [402, "ServerError"],
      [403, "Unauthorized"],
      [404, "NotFound"],
      [409, "Conflict"],
      [418, "ServerError"],
      [422, "InvalidRequest"],
      [429, "RateLimited"],
      [500, "ServerError"],
      [502, "ServerError"],
      [503, "ServerError"],
      [504, "ServerError"]
    ]
    for (const [status, tag] of table) {
      const error = fromStatus(status, "", { "x-request-id": `req_${status}` })
      assert.strictEqual(error._tag, tag, String(status))
      assert.strictEqual("requestId" in error ? error.requestId : undefined, `req_${status}`)
      if ("status" in error) assert.strictEqual(error.status, status)
    }
  })

  it("without a server message, says what happened, naming the subject", () => {
    assert.strictEqual(fromStatus(401).message, "the API key is missing or invalid")
    assert.strictEqual(fromStatus(403).message, "the API key is not allowed to do this")
    assert.strictEqual(fromStatus(404, "", {}, { id: "user_9" }).message, "identity user_9 not found")
    assert.include(fromStatus(409, "", {}, { externalId: "user_9" }).message, "user_9")
    assert.strictEqual(fromStatus(504).message, "the server answered 504")
  })

  it("a 404 and a 409 carry the subject", () => {
    const notFound = fromStatus(404, `{"error":"gone"}`, {}, { id: "a b" })
    if (notFound._tag !== "NotFound") return assert.fail(notFound._tag)
    deepStrictEqual([notFound.id, notFound.message], ["a b", "gone"])
    const conflict = fromStatus(409, "", {}, { externalId: "ext" })
    if (conflict._tag !== "Conflict") return assert.fail(conflict._tag)
    assert.strictEqual(conflict.externalId, "ext")
  })

  it("a 429 carries Retry-After and the X-RateLimit-* values, and says how long to wait", () => {
    const error = fromStatus(429, `{"message":"slow down"}`, {
      "retry-after": "2",
      "x-ratelimit-limit": "600",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": "1767225600"
    })
    if (error._tag !== "RateLimited") return assert.fail(error._tag)
    assert.strictEqual(error.retryAfter === undefined ? undefined : Duration.toMillis(error.retryAfter), 2000)
    deepStrictEqual([error.limit, error.remaining, error.reset], [600, 0, 1767225600])
    assert.strictEqual(error.message, "slow down (retry after 2s)")
  })

  it("redact scrubs what the error quotes from the answer: the server's message and the request id", () => {
    const error = ErrorResponse.fromStatus({
      status: 401,
      headers: Headers.fromInput({ "x-request-id": "req_sk-secret" }),
      body: `{"message":"bad key sk-secret"}`,
      subject: {},
      nowMillis: 0,
      redact: (text) => text.replaceAll("sk-secret", "<redacted>")
    })
    assert.strictEqual(error.message, "bad key <redacted>")
    assert.strictEqual("requestId" in error ? error.requestId : undefined, "req_<redacted>")
  })

  it("redact scrubs a secret the server's JSON escaped, and before the message is shortened", () => {
    const redact = (text: string) => text.replaceAll("sk/secret", "<redacted>")
    for (const body of [`{"message":"bad key sk\\/secret"}`, `{"message":"bad key \\u0073k/secret"}`]) {
      assert.strictEqual(ErrorResponse.parseMessage(body, redact), "bad key <redacted>", body)
    }
    // JSON without a message in a known shape, or with an empty one, is quoted as a whole, unescaped too; so is
    // broken JSON
    for (
      const body of [
        `{"detail":"bad key \\u0073k\\/secret"}`,
        `{"message":"","key":"\\u0073k/secret"}`,
        `{"error":"bad key \\u0073k\\/secret"`
      ]
    ) {
      assert.notInclude(ErrorResponse.parseMessage(body, redact), "secret", body)
    }
    // the key straddles the cut: a message shortened first would keep its start
    const long = JSON.stringify({ message: `${"x".repeat(295)} sk/secret` })
    assert.notInclude(ErrorResponse.parseMessage(long, redact) ?? "", "sk/")
  })

  it("a 429 whose Retry-After is too long to count says so in words", () => {
    const error = fromStatus(429, "", { "retry-after": "9".repeat(400) })
    if (error._tag !== "RateLimited") return assert.fail(error._tag)
    assert.strictEqual(error.message, "rate limited (retry after: indefinitely)")
  })

  it("a 429 ignores X-RateLimit-* values that are not (finite) numbers", () => {
    const error = fromStatus(429, "", {
      "x-ratelimit-limit": "",
      "x-ratelimit-remaining": " ",
      "x-ratelimit-reset": "9".repeat(400)
    })
    if (error._tag !== "RateLimited") return assert.fail(error._tag)
    deepStrictEqual([error.limit, error.remaining, error.reset], [undefined, undefined, undefined])
    assert.strictEqual(error.message, "rate limited")
  })
})
