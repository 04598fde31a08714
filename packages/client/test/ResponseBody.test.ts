import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Effect, Option } from "effect"
import { MAX_RESPONSE_BYTES } from "../src/IdentityClient.js"
import * as ResponseBody from "../src/ResponseBody.js"

const request = HttpClientRequest.get("http://127.0.0.1:9/v2/identities/x")

/** A response over a body streamed in `chunks`, with no declared length unless `headers` give one. */
const streamed = (chunks: ReadonlyArray<Uint8Array>, headers: Record<string, string> = {}, status = 200) => {
  let pulls = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[pulls++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk)
    }
  })
  return {
    response: HttpClientResponse.fromWeb(request, new Response(body, { status, headers })),
    pulls: () => pulls
  }
}

const utf8 = (text: string) => new TextEncoder().encode(text)

describe("ResponseBody", () => {
  it.effect("text: a streamed body decodes as UTF-8 even when a character is split between chunks", () =>
    Effect.gen(function*() {
      const bytes = utf8("{\"display_name\":\"Zoë 👋\"}")
      const split = bytes.indexOf(0xc3) + 1
      const { response } = streamed([bytes.slice(0, split), bytes.slice(split)])
      deepStrictEqual(yield* ResponseBody.text(response), Option.some("{\"display_name\":\"Zoë 👋\"}"))
    }))

  it.effect("text: no body at all reads as the empty string", () =>
    Effect.gen(function*() {
      const response = HttpClientResponse.fromWeb(request, new Response(null, { status: 204 }))
      deepStrictEqual(yield* ResponseBody.text(response), Option.some(""))
    }))

  it.effect("text: a body declared larger than the limit is None, and nothing is read", () =>
    Effect.gen(function*() {
      const { pulls, response } = streamed([utf8("{}")], { "content-length": String(MAX_RESPONSE_BYTES + 1) })
      assert.isTrue(Option.isNone(yield* ResponseBody.text(response)))
      assert.strictEqual(pulls(), 0)
    }))

  it.effect("text: a streamed body past the limit is None, and reading stops one chunk past it", () =>
    Effect.gen(function*() {
      const chunk = new Uint8Array(1024 * 1024).fill(32)
      const { pulls, response } = streamed(Array.from({ length: 64 }, () => chunk))
      assert.isTrue(Option.isNone(yield* ResponseBody.text(response)))
      assert.isBelow(pulls(), MAX_RESPONSE_BYTES / chunk.length + 4)
    }))

  it.effect("buffered: a streamed body is read once; the answer declares its byte length and holds the same bytes", () =>
    Effect.gen(function*() {
      const { pulls, response } = streamed([utf8("{\"a\":"), utf8("\"é\"}")], { "x-request-id": "req_1" })
      const buffered = yield* ResponseBody.buffered(response)
      assert.strictEqual(pulls(), 3)
      assert.strictEqual(buffered.status, 200)
      assert.strictEqual(buffered.headers["x-request-id"], "req_1")
      assert.strictEqual(buffered.headers["content-length"], String(utf8("{\"a\":\"é\"}").length))
      deepStrictEqual(yield* ResponseBody.text(buffered), Option.some("{\"a\":\"é\"}"))
    }))

  it.effect("buffered: an encoded body keeps its bytes and its content-encoding (nothing here inflates it)", () =>
    Effect.gen(function*() {
      const bytes = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe])
      const { response } = streamed([bytes], { "content-encoding": "gzip" })
      const buffered = yield* ResponseBody.buffered(response)
      assert.strictEqual(buffered.headers["content-encoding"], "gzip")
      deepStrictEqual(new Uint8Array(yield* buffered.arrayBuffer), bytes)
    }))

  it.effect("buffered: a streamed body past the limit is dropped, and the answer declares a length past it", () =>
    Effect.gen(function*() {
      const chunk = new Uint8Array(1024 * 1024).fill(32)
      const { response } = streamed(Array.from({ length: 64 }, () => chunk))
      const buffered = yield* ResponseBody.buffered(response)
      assert.strictEqual(buffered.headers["content-length"], String(MAX_RESPONSE_BYTES + 1))
      assert.isTrue(Option.isNone(yield* ResponseBody.text(buffered)))
    }))

  it.effect("a content-length that is not digits declares no length: the body is counted against the limit", () =>
    Effect.gen(function*() {
      const chunk = new Uint8Array(MAX_RESPONSE_BYTES / 4)
      for (const length of ["", "-1", "1e3", " "]) {
        const { response } = streamed(Array.from({ length: 6 }, () => chunk), { "content-length": length })
        // (chai's deepStrictEqual takes any Some for None: `isNone` is the check)
        assert.isTrue(Option.isNone(yield* ResponseBody.text(response)), JSON.stringify(length))
      }
    }))

  it.effect("buffered: a header value a web Headers refuses is left out, not thrown", () =>
    Effect.gen(function*() {
      const { response } = streamed([utf8("{}")])
      // a transport other than fetch may hand over any string
      const odd: HttpClientResponse.HttpClientResponse = Object.create(response, {
        headers: { value: { ...response.headers, "x-odd": "price €", "x-request-id": "req_1" } }
      })
      const answer = yield* ResponseBody.buffered(odd)
      assert.strictEqual(answer.headers["x-request-id"], "req_1")
      assert.isUndefined(answer.headers["x-odd"])
      assert.strictEqual(yield* answer.text, "{}")
    }))

  it.effect("buffered: a 204 declares an empty body", () =>
    Effect.gen(function*() {
      const buffered = yield* ResponseBody.buffered(
        HttpClientResponse.fromWeb(request, new Response(null, { status: 204 }))
      )
      assert.strictEqual(buffered.status, 204)
      assert.strictEqual(buffered.headers["content-length"], "0")
      deepStrictEqual(yield* ResponseBody.text(buffered), Option.some(""))
    }))

  it.effect("a body that breaks off fails with the transport's ResponseError", () =>
    Effect.gen(function*() {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(utf8("{\"_id\":"))
          controller.error(new Error("socket hang up"))
        }
      })
      const response = HttpClientResponse.fromWeb(request, new Response(body, { status: 200 }))
      const error = yield* Effect.flip(ResponseBody.buffered(response))
      assert.strictEqual(error._tag, "ResponseError")
    }))
})
