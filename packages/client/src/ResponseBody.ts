/**
 * Reading an answer's body within a size limit. `IdentityClient` reads each answer in full inside the request (so
 * that whatever wraps the client, a timeout or a retry policy, covers the body), then decodes it. A declared,
 * uncompressed length within the limit is read once with `response.text`, which every platform response caches; any
 * other body is streamed and counted, and reading stops one chunk past the limit.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** Answers larger than this are refused as `MalformedResponse` without being buffered. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024

/**
 * How `response` can be read: `"too large"` by its declared length; `"whole"` with `response.text` when its
 * declared length is within the limit and no encoding can inflate it; `"counted"` otherwise. (The headers are read
 * once: some platform responses convert them anew on every access.)
 */
const readingOf = (response: HttpClientResponse.HttpClientResponse): "too large" | "whole" | "counted" => {
  const headers = response.headers
  const length = headers["content-length"]
  // only digits declare a length: `Number` reads "" as 0, and "-1" or "1e9" are no length at all
  if (length === undefined || !/^\d+$/.test(length)) return "counted"
  if (Number(length) > MAX_RESPONSE_BYTES) return "too large"
  return headers["content-encoding"] === undefined ? "whole" : "counted"
}

/**
 * The bytes of a body that must be counted: streamed, stopping one chunk past {@link MAX_RESPONSE_BYTES} (then
 * `None`). No body at all reads as no bytes.
 */
const counted = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<Option.Option<Uint8Array<ArrayBuffer>>, HttpClientError.ResponseError> =>
  response.stream.pipe(
    // no body at all (a 204, or `null` from a web Response) reads as an empty one
    Stream.catchAll((error) => error.reason === "EmptyBody" ? Stream.empty : Stream.fail(error)),
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (acc) => acc.size <= MAX_RESPONSE_BYTES,
      (acc, chunk) => {
        acc.chunks.push(chunk)
        return { chunks: acc.chunks, size: acc.size + chunk.length }
      }
    ),
    Effect.map(({ chunks, size }) => {
      if (size > MAX_RESPONSE_BYTES) return Option.none()
      const bytes = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return Option.some(bytes)
    })
  )

/**
 * The body of `response` as UTF-8 text, or `None` when it is larger than {@link MAX_RESPONSE_BYTES}: by its
 * declared length (then nothing is read) or by the bytes counted as they come. No body at all reads as `""`.
 */
export const text = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<Option.Option<string>, HttpClientError.ResponseError> => {
  const reading = readingOf(response)
  if (reading === "too large") return Effect.succeed(Option.none())
  if (reading === "whole") return Effect.map(response.text, Option.some)
  return Effect.map(counted(response), Option.map((bytes) => new TextDecoder().decode(bytes)))
}

const NO_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205, 304])

/** `response` over `body` instead of its own (the same bytes, or none), with `contentLength` declared. */
const over = (
  response: HttpClientResponse.HttpClientResponse,
  body: Uint8Array<ArrayBuffer> | null,
  contentLength: number
) => {
  const headers = new globalThis.Headers()
  for (const [name, value] of Object.entries(response.headers)) {
    try {
      headers.set(name, value)
    } catch {
      // a value a web Headers refuses (past U+00FF, say) is left out, not thrown outside any Effect
    }
  }
  headers.set("content-length", String(contentLength))
  return HttpClientResponse.fromWeb(response.request, new Response(body, { status: response.status, headers }))
}

/**
 * `response` without its body: the same status and headers, an empty body declared. For an answer whose body could
 * not be read, where the status still says what happened.
 */
export const withoutBody = (response: HttpClientResponse.HttpClientResponse): HttpClientResponse.HttpClientResponse =>
  over(response, null, 0)

/**
 * `response` with its body read in full, so that reading it again does no I/O: the same response when the
 * platform caches what was read, otherwise an equivalent one over the same bytes. A body larger than
 * {@link MAX_RESPONSE_BYTES} is not kept: the answer declares a length past the limit, for the reader to refuse
 * (one that declares it is returned unread).
 */
export const buffered = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.ResponseError> => {
  // a web Response (which `over` builds) cannot carry a status outside 200–599: such an answer is left as it is
  if (response.status < 200 || response.status > 599) return Effect.succeed(response)
  if (NO_BODY_STATUSES.has(response.status)) {
    // a fetch-based transport has no body at all here: declare it empty so that readers do not stream it
    return Effect.succeed(withoutBody(response))
  }
  const reading = readingOf(response)
  if (reading === "too large") return Effect.succeed(response)
  if (reading === "whole") return Effect.as(response.text, response)
  return Effect.map(
    counted(response),
    Option.match({
      onNone: () => over(response, null, MAX_RESPONSE_BYTES + 1),
      onSome: (bytes) => over(response, bytes, bytes.length)
    })
  )
}
