/**
 * A lean `HttpClient` straight over an undici `Dispatcher`: one `dispatcher.request` per call, the answer's
 * headers converted once, its body read with undici's own `text()`. Compared with `NodeHttpClient.layerUndici`:
 *
 * - it enforces {@link RequestTimeout.current} itself: a timer armed with the request aborts it, or its body
 *   still being read, and the call fails with a timeout (no fiber is forked for it);
 * - the HTTP span records method, server, port, path, scheme and status, but neither the query string (it may
 *   carry a search term) nor headers; `traceparent` is sent as by the platform client;
 * - interruption aborts the request; an answer whose body is never read is released when the response object
 *   is garbage-collected, as in the platform client.
 *
 * The transport of `IdentitiesLive`: it passes the same behaviour and fault-injection suites as the platform's.
 *
 * @since 0.1.0
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Undici from "@effect/platform-node/Undici"
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
import { Cause, Effect, Either, FiberRef, Inspectable, Layer, Option, type Stream } from "effect"
import * as RequestTimeout from "./RequestTimeout.js"

const released = new FinalizationRegistry<Undici.Dispatcher.ResponseData["body"]>((body) => {
  body.destroy()
})

class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly status: number
  readonly headers: Headers.Headers
  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Undici.Dispatcher.ResponseData
  ) {
    super()
    this.status = source.statusCode
    this.headers = Headers.fromInput(source.headers)
    source.body.on("error", () => {})
    released.register(this, source.body, this)
  }

  get statusText() {
    return undefined
  }

  get remoteAddress() {
    return Option.none()
  }

  get cookies(): Cookies.Cookies {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  /**
   * Reads the body once, with undici's own reader: later reads share the same promise, and once it has
   * succeeded `remember` replaces the reader with the value, so that reading again costs nothing. Interrupting a
   * read destroys the body, which aborts the request.
   */
  private read<A>(
    f: (body: Undici.Dispatcher.ResponseData["body"]) => Promise<A>,
    remember: (value: Effect.Effect<A>) => void
  ): Effect.Effect<A, HttpClientError.ResponseError> {
    let reading: Promise<A> | undefined
    return Effect.async<A, HttpClientError.ResponseError>((resume) => {
      if (reading === undefined) {
        released.unregister(this)
        reading = f(this.source.body).then((value) => {
          remember(Effect.succeed(value))
          return value
        })
      }
      reading.then(
        (value) => resume(Effect.succeed(value)),
        (cause) => resume(Effect.fail(this.decodeError(cause)))
      )
      return Effect.sync(() => {
        this.source.body.destroy()
      })
    })
  }

  private textBody?: Effect.Effect<string, HttpClientError.ResponseError>
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.textBody ??= this.read((body) => body.text(), (value) => {
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
    return this.arrayBufferBody ??= this.read((body) => body.arrayBuffer(), (value) => {
      this.arrayBufferBody = value
    })
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.fail(this.decodeError(new Error("formData is not supported by this client")))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    released.unregister(this)
    return NodeStream.fromReadable(() => this.source.body, (cause) => this.decodeError(cause))
  }

  toJSON(): unknown {
    return IncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
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

/** The client over `dispatcher`. */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient =>
  HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(effect, (request) => {
        const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
        if (Either.isLeft(url)) {
          return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
        }
        return Effect.withFiberRuntime<Response, HttpClientError.HttpClientError>((fiber) => {
          const limit = Option.getOrUndefined(fiber.getFiberRef(RequestTimeout.current))
          const send = (headers: Headers.Headers) =>
            Effect.flatMap(bodyOf(request.body), (body) =>
              Effect.async<Response, HttpClientError.RequestError>((resume) => {
                const controller = new AbortController()
                let settled = false
                // the request's time limit, body included: when it passes, the call fails at once (whether undici
                // is still connecting or already reading the body) and the request, or its body, is aborted
                const timer = limit === undefined || !(limit.millis <= RequestTimeout.MAX_TIMER_MILLIS)
                  ? undefined
                  : setTimeout(() => {
                    const timeout = new Cause.TimeoutException(limit.description)
                    controller.abort(timeout)
                    if (!settled) {
                      settled = true
                      resume(Effect.fail(RequestTimeout.error(request, limit.description)))
                    }
                  }, limit.millis)
                // an unread body must not keep the process alive until the limit
                timer?.unref()
                limit?.enforced()
                dispatcher.request({
                  method: request.method,
                  origin: url.right.origin,
                  path: url.right.pathname + url.right.search,
                  headers,
                  body,
                  signal: controller.signal,
                  // the only time limit is the timer above, or Effect's around this client
                  headersTimeout: 0,
                  bodyTimeout: 0
                }).then(
                  (source) => {
                    if (settled) {
                      source.body.destroy()
                      return
                    }
                    settled = true
                    if (timer !== undefined) {
                      source.body.once("close", () =>
                        clearTimeout(timer))
                    }
                    try {
                      resume(Effect.succeed(new Response(request, source)))
                    } catch (cause) {
                      source.body.destroy()
                      resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
                    }
                  },
                  (cause) => {
                    clearTimeout(timer)
                    if (settled) return
                    settled = true
                    resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
                  }
                )
                return Effect.sync(() => {
                  settled = true
                  clearTimeout(timer)
                  controller.abort()
                })
              }))
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
              span.attribute("server.address", url.right.origin)
              if (url.right.port !== "") {
                span.attribute("server.port", Number(url.right.port))
              }
              span.attribute("url.path", url.right.pathname)
              span.attribute("url.scheme", url.right.protocol.slice(0, -1))
              const propagate = fiber.getFiberRef(HttpClient.currentTracerPropagation)
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
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.map(
    Effect.acquireRelease(Effect.sync(() => new Undici.Agent()), (agent) => Effect.promise(() => agent.destroy())),
    make
  )
)
