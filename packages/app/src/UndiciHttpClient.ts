/**
 * A lean `HttpClient` straight over an undici `Dispatcher`: one `dispatcher.dispatch` per call, with a handler that
 * keeps the answer's chunks as they arrive, instead of undici's `request` and its Node `Readable` body. Compared
 * with `NodeHttpClient.layerUndici`:
 *
 * - it enforces time limits itself ({@link RequestTimeout}): its own limit for every request ({@link layerWith}) and
 *   the fiber's {@link RequestTimeout.current}, whichever is shorter; a timer armed with the request aborts it, or
 *   its body still being read, and the call fails with a timeout (no fiber is forked for it);
 * - the HTTP span records method, server, port, path, scheme and status, but neither the query string (it may
 *   carry a search term) nor headers; `traceparent` is sent as by the platform client;
 * - a body is buffered as it arrives up to {@link HIGH_WATER_MARK} bytes, then the connection waits for a reader
 *   (`text`, `json` and `arrayBuffer` take it whole; `stream` takes it chunk by chunk, with backpressure);
 * - interruption aborts the request, as does interrupting a body read; an answer whose body is never read is
 *   released when the response object is garbage-collected, as in the platform client.
 *
 * The transport of `IdentitiesLive`: it passes the same behaviour and fault-injection suites as the platform's.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeStream from "@effect/platform-node/NodeStream"
import type * as Undici from "@effect/platform-node/Undici"
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as UrlParams from "@effect/platform/UrlParams"
import * as IdentityClient from "@orq-effect/client/IdentityClient"
import { Cause, Chunk, Effect, Either, FiberRef, Inspectable, Layer, Option, Stream } from "effect"
import * as RequestTimeout from "./RequestTimeout.js"

/**
 * Bytes an answer may buffer before its connection waits for a reader (as undici's own `request` does). An answer
 * that declares a length up to this is handed over once its whole body has arrived.
 */
export const HIGH_WATER_MARK = 64 * 1024

/**
 * The body of one answer as the dispatch handler receives it: chunks kept until read; past
 * {@link HIGH_WATER_MARK} bytes the connection is paused, unless a reader wants the whole body.
 */
class Body {
  private chunks: Array<Buffer> = []
  private size = 0
  done = false
  private failure: unknown = undefined
  private waiters: Array<() => void> = []

  /** `whole`: the body is wanted whole (it is never paused for lack of a reader). */
  constructor(private readonly controller: Undici.Dispatcher.DispatchController, private whole: boolean) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    if (!this.whole && this.size >= HIGH_WATER_MARK) this.controller.pause()
    this.wake()
  }

  /** Whether a response over this body is registered with {@link released}. */
  registered = false

  end(failure?: unknown): void {
    this.done = true
    this.failure = failure
    if (this.registered) released.unregister(this)
    this.wake()
  }

  /** Ends the request unless its body has already arrived (an answer dropped unread, or a read interrupted). */
  abort(): void {
    if (!this.done) this.controller.abort(new Error("the answer's body was abandoned"))
  }

  private wake(): void {
    const waiters = this.waiters
    if (waiters.length === 0) return
    this.waiters = []
    for (const waiter of waiters) waiter()
  }

  /** `read` once `ready` holds, waiting for the handler until then; interrupting the wait aborts the request. */
  private when<A, E>(ready: (body: Body) => boolean, read: (body: Body) => Effect.Effect<A, E>): Effect.Effect<A, E> {
    if (ready(this)) return read(this)
    return Effect.async<A, E>((resume) => {
      const check = () => {
        if (ready(this)) resume(read(this))
        else this.waiters.push(check)
      }
      check()
      return Effect.sync(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check)
        this.abort()
      })
    })
  }

  private static ended(body: Body): boolean {
    return body.done
  }

  private static result(body: Body): Effect.Effect<Buffer, unknown> {
    if (body.failure !== undefined) return Effect.fail(body.failure)
    if (body.chunks.length !== 1) {
      try {
        body.chunks = [Buffer.concat(body.chunks, body.size)]
      } catch (cause) {
        // larger than a Buffer can be
        return Effect.fail(cause)
      }
    }
    return Effect.succeed(body.chunks[0])
  }

  /** The whole body, once it has all arrived: the connection is no longer paused for it. */
  bytes(): Effect.Effect<Buffer, unknown> {
    if (!this.whole) {
      this.whole = true
      if (this.controller.paused) this.controller.resume()
    }
    return this.when(Body.ended, Body.result)
  }

  private static received(body: Body): boolean {
    return body.done || body.chunks.length > 0
  }

  private static take(body: Body): Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> {
    if (body.chunks.length === 0) {
      return Effect.fail(body.failure === undefined ? Option.none() : Option.some(body.failure))
    }
    const chunks = Chunk.unsafeFromArray<Uint8Array>(body.chunks)
    body.chunks = []
    body.size = 0
    if (body.controller.paused) body.controller.resume()
    return Effect.succeed(chunks)
  }

  /** The chunks received since the last call, waiting for one if there are none; `None` at the end. */
  next(): Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> {
    return this.when(Body.received, Body.take)
  }
}

/** Aborts the request of an answer dropped before its body arrived. */
const released = new FinalizationRegistry<Body>((body) => {
  body.abort()
})

class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly headers: Headers.Headers
  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    private readonly rawHeaders: Undici.Dispatcher.ResponseData["headers"],
    private readonly body: Body
  ) {
    super()
    this.headers = Headers.fromInput(rawHeaders)
    // a body still arriving may pause the connection: it is released if the answer is dropped unread
    if (!body.done) {
      released.register(this, body, body)
      body.registered = true
    }
  }

  get statusText() {
    return undefined
  }

  get remoteAddress() {
    return Option.none()
  }

  get cookies(): Cookies.Cookies {
    const header = this.rawHeaders["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  /** The body, decoded by `f` once: later reads of the same form return the same value. */
  private whole<A>(f: (bytes: Buffer) => A, remember: (value: Effect.Effect<A>) => void) {
    return Effect.mapBoth(this.body.bytes(), {
      onFailure: (cause) => this.decodeError(cause),
      onSuccess: (bytes) => {
        const value = f(bytes)
        remember(Effect.succeed(value))
        return value
      }
    })
  }

  private textBody?: Effect.Effect<string, HttpClientError.ResponseError>
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.textBody ??= this.whole((bytes) => bytes.toString("utf8"), (value) => {
      this.textBody = value
    })
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => (text === "" ? null : JSON.parse(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  private arrayBufferBody?: Effect.Effect<ArrayBuffer, HttpClientError.ResponseError>
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.arrayBufferBody ??= this.whole(
      (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      (value) => {
        this.arrayBufferBody = value
      }
    )
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.fail(this.decodeError(new Error("formData is not supported by this client")))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.repeatEffectChunkOption(
      Effect.suspend(() => Effect.mapError(this.body.next(), Option.map((cause) => this.decodeError(cause))))
    ).pipe(
      // a reader that stops early (a size limit) leaves nothing pending on the connection
      Stream.ensuring(Effect.sync(() => this.body.abort()))
    )
  }

  toJSON(): unknown {
    const that = { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status }
    // the platform's inspection reads a text or JSON body: only one that has arrived, so that logging an answer
    // neither waits for its body nor lifts the pause on it
    return this.body.done
      ? IncomingMessage.inspect(this, that)
      : { ...that, headers: Inspectable.redact(this.headers), remoteAddress: this.remoteAddress.toJSON() }
  }
}

const bodyOf = (
  body: HttpBody.HttpBody
): Effect.Effect<Exclude<Undici.Dispatcher.DispatchOptions["body"], undefined>> => {
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(null)
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "Raw":
      return Effect.succeed(body.body as Uint8Array)
    case "FormData":
      return Effect.succeed(body.formData as Undici.FormData)
    case "Stream":
      return NodeStream.toReadable(body.stream)
  }
}

/** How the lean client sends. */
export interface Options {
  /**
   * The time limit of every request; none by default. A fiber's {@link RequestTimeout.current} can shorten it for
   * the requests that fiber sends, never lengthen it.
   */
  readonly limit?: RequestTimeout.RequestTimeout | undefined
}

/**
 * The client over `dispatcher`. Its span records no header values, and says so to `IdentityClient`
 * (`RecordsNoHeaderValues`), which then need not redact them.
 */
export const make = (dispatcher: Undici.Dispatcher, options: Options = {}): HttpClient.HttpClient =>
  Object.assign(makeClient(dispatcher, options), { [IdentityClient.RecordsNoHeaderValues]: true })

const makeClient = (dispatcher: Undici.Dispatcher, options: Options): HttpClient.HttpClient =>
  HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(effect, (request) => {
        const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
        if (Either.isLeft(url)) {
          return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
        }
        return Effect.withFiberRuntime<Response, HttpClientError.HttpClientError>((fiber) => {
          const fiberLimit = Option.getOrUndefined(fiber.getFiberRef(RequestTimeout.current))
          const limit = options.limit === undefined ? fiberLimit : RequestTimeout.shorter(options.limit, fiberLimit)
          const send = (headers: Headers.Headers) =>
            Effect.flatMap(bodyOf(request.body), (payload) =>
              Effect.async<Response, HttpClientError.RequestError>((resumeFiber) => {
                // undici keeps the handler, and so these closures, until the body has arrived: they must not keep
                // the fiber, whose result may be the response (which must stay collectable, to be released). The
                // call is settled (answered, failed or interrupted) once `waiting` is gone; resuming again is a no-op.
                let waiting: typeof resumeFiber | undefined = resumeFiber
                const resume = (effect: Effect.Effect<Response, HttpClientError.RequestError>) => {
                  const fiberResume = waiting
                  waiting = undefined
                  fiberResume?.(effect)
                }
                let controller: Undici.Dispatcher.DispatchController | undefined
                let body: Body | undefined
                /** The answer's head, while its short body is still arriving. */
                let held:
                  | { readonly status: number; readonly headers: Undici.Dispatcher.ResponseData["headers"] }
                  | undefined
                /** Why the request was given up before undici started it: it is aborted when it starts. */
                let abandoned: Error | undefined
                const abort = (reason: Error) => {
                  if (controller === undefined) {
                    abandoned = reason
                  } else controller.abort(reason)
                }
                const fail = (cause: unknown) => {
                  resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
                }
                const handOver = (answer: Body, status: number, headers: Undici.Dispatcher.ResponseData["headers"]) => {
                  try {
                    resume(Effect.succeed(new Response(request, status, headers, answer)))
                  } catch (cause) {
                    abort(cause instanceof Error ? cause : new Error(String(cause)))
                    fail(cause)
                  }
                }
                // the request's time limit, body included: when it passes, the call fails at once (whether undici
                // is still connecting or already receiving the body) and the request is aborted
                const timer = limit === undefined || !(limit.millis <= RequestTimeout.MAX_TIMER_MILLIS)
                  ? undefined
                  : setTimeout(() => {
                    if (waiting !== undefined) {
                      resume(Effect.fail(RequestTimeout.error(request, limit.description)))
                    }
                    // after settling: undici may report the abort at once, as a failure the call no longer needs
                    abort(new Cause.TimeoutException(limit.description))
                  }, limit.millis)
                // an unread body must not keep the process alive until the limit
                timer?.unref()
                const handler: Undici.Dispatcher.DispatchHandler = {
                  onRequestStart: (started) => {
                    controller = started
                    if (abandoned !== undefined) {
                      started.abort(abandoned)
                    }
                  },
                  onResponseStart: (started, statusCode, headers) => {
                    // informational answers (100 Continue) are not the answer
                    if (statusCode < 200) {
                      return
                    }
                    if (waiting === undefined) {
                      started.abort(new Error("the answer came after the call ended"))
                      return
                    }
                    const declared = Number(headers["content-length"])
                    // a short answer is handed over whole: reading it then costs no wait
                    body = new Body(started, declared <= HIGH_WATER_MARK)
                    if (declared <= HIGH_WATER_MARK) {
                      held = { status: statusCode, headers }
                      return
                    }
                    handOver(body, statusCode, headers)
                  },
                  onResponseData: (_, chunk) => {
                    body?.push(chunk)
                  },
                  onResponseEnd: () => {
                    clearTimeout(timer)
                    if (body === undefined) {
                      return
                    }
                    body.end()
                    if (held !== undefined && waiting !== undefined) {
                      handOver(body, held.status, held.headers)
                    }
                  },
                  onResponseError: (_, error) => {
                    clearTimeout(timer)
                    body?.end(error)
                    if (waiting !== undefined && (body === undefined || held !== undefined)) {
                      fail(error)
                    }
                  }
                }
                try {
                  dispatcher.dispatch({
                    method: request.method,
                    origin: url.right.origin,
                    path: url.right.pathname + url.right.search,
                    headers,
                    body: payload,
                    // the only time limit is the timer above, or Effect's around this client
                    headersTimeout: 0,
                    bodyTimeout: 0
                  }, handler)
                } catch (cause) {
                  clearTimeout(timer)
                  fail(cause)
                }
                return Effect.sync(() => {
                  waiting = undefined
                  clearTimeout(timer)
                  abort(new Error("the request was interrupted"))
                })
              }))
          // read here, not in the span's callback: no closure may keep the fiber (see above)
          const propagate = fiber.getFiberRef(HttpClient.currentTracerPropagation)
          const traced = fiber.getFiberRef(FiberRef.currentTracerEnabled) &&
            !fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)(request)
          if (!traced) {
            return send(request.headers)
          }
          return Effect.useSpan(
            `http.client ${request.method}`,
            { kind: "client", captureStackTrace: false },
            (span) => {
              span.attribute("http.request.method", request.method)
              span.attribute("server.address", url.right.hostname)
              if (url.right.port !== "") {
                span.attribute("server.port", Number(url.right.port))
              }
              span.attribute("url.path", url.right.pathname)
              span.attribute("url.scheme", url.right.protocol.slice(0, -1))
              return send(
                propagate ? Headers.merge(request.headers, HttpTraceContext.toHeaders(span)) : request.headers
              )
                .pipe(
                  Effect.withParentSpan(span),
                  Effect.tap((response) =>
                    span.attribute("http.response.status_code", response.status)
                  )
                )
            }
          )
        })
      }),
    Effect.succeed
  )

/** The lean client over a fresh undici `Agent`, closed with the layer. */
export const layerWith = (options: Options): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(NodeHttpClient.makeDispatcher, (dispatcher) => make(dispatcher, options))
  )

/** The lean client over a fresh undici `Agent`, closed with the layer, with no time limit of its own. */
export const layer: Layer.Layer<HttpClient.HttpClient> = layerWith({})
