/**
 * Turns a non-2xx answer of the Identities API into a typed `IdentityError`. Error bodies come in four shapes
 * across orq's docs: `{message}`, `{error: "…"}`, `{error: {code, message}}` and `{id, code, error, source}`;
 * anything else falls back to the (shortened) raw text.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import {
  Conflict,
  type IdentityError,
  InvalidRequest,
  NotFound,
  RateLimited,
  ServerError,
  Unauthorized
} from "@orq-effect/domain/IdentityError"
import * as Duration from "effect/Duration"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as RetryAfter from "./RetryAfter.js"

/** Statuses of a failure in passing: the same request may well succeed a moment later. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/** Transient statuses after which a request certainly did not take effect (it was turned away, not worked on). */
export const NOT_APPLIED_STATUSES: ReadonlySet<number> = new Set([429, 503])

/** What the failing request was about, to fill the error's fields. */
export interface Subject {
  readonly id?: string | undefined
  readonly externalId?: string | undefined
}

const MAX_MESSAGE = 300

const shorten = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat
}

const messageOf = (value: unknown): string | undefined => {
  if (typeof value === "string") return value
  if (typeof value !== "object" || value === null) return undefined
  const record = value as Record<string, unknown>
  if (typeof record.message === "string") return record.message
  return messageOf(record.error)
}

/** `text` with JSON's `\uXXXX` and `\/` escapes undone (the others change no letter of a secret). */
const unescapeJson = (text: string): string =>
  text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).replaceAll(
    "\\/",
    "/"
  )

/**
 * The server's message in any of the four documented shapes, else the JSON or raw text, else `undefined`, scrubbed
 * by `redact` before it is shortened (so no part of a secret survives), and after JSON unescaping (so an echo such
 * as `sk\/…` or `\u0073k…` is scrubbed too: JSON without a message is quoted as re-serialized, not as sent).
 */
export const parseMessage = (body: string, redact: (text: string) => string = identity): string | undefined => {
  if (body.trim().length === 0) return undefined
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    // broken JSON may still spell a secret with JSON's escapes: quoted with them undone, so `redact` sees it
    return /<html|<!doctype/i.test(body) ? "the server answered with an HTML page" : shorten(redact(unescapeJson(body)))
  }
  try {
    const message = messageOf(json)
    return shorten(redact(message !== undefined && message.length > 0 ? message : JSON.stringify(json)))
  } catch {
    // nested deeper than the walk can go: quoted as sent, it could carry an escaped secret, so it is not quoted
    return undefined
  }
}

/** The answer's `x-request-id`, scrubbed by `redact` (it is copied into every error). */
export const requestIdOf = (headers: Headers.Headers, redact: (text: string) => string): string | undefined => {
  const requestId = headers["x-request-id"]
  return requestId === undefined ? undefined : redact(requestId)
}

const NUMBER = /^\s*-?\d+(?:\.\d+)?\s*$/

/**
 * A numeric header; an empty or blank one is absent, not `0` (which `Number("")` would give), and so is one too long
 * to be a finite number.
 */
const numberHeader = (headers: Headers.Headers, name: string): number | undefined => {
  const value = headers[name]
  if (value === undefined || !NUMBER.test(value)) return undefined
  const number = Number(value)
  return Number.isFinite(number) ? number : undefined
}

/** The typed error of an answer with a non-2xx `status`. */
export const fromStatus = (options: {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: string
  readonly subject: Subject
  readonly nowMillis: number
  /** Scrubs what the error quotes from the answer, its message and request id (say, an echoed key). */
  readonly redact: (text: string) => string
}): IdentityError => {
  const { headers, status, subject } = options
  const requestId = requestIdOf(headers, options.redact)
  const serverMessage = parseMessage(options.body, options.redact)
  const say = (fallback: string) => serverMessage ?? fallback
  switch (status) {
    case 400:
    case 422:
      return new InvalidRequest({ status, message: say("the request was refused as invalid"), requestId })
    case 401:
    case 403:
      return new Unauthorized({
        status,
        message: say(status === 401 ? "the API key is missing or invalid" : "the API key is not allowed to do this"),
        requestId
      })
    case 404:
      return new NotFound({ id: subject.id ?? "", message: say(`identity ${subject.id ?? ""} not found`), requestId })
    case 409:
      return new Conflict({
        externalId: subject.externalId,
        message: say(`an identity with external_id ${subject.externalId ?? ""} already exists`),
        requestId
      })
    case 429: {
      const retryAfter = RetryAfter.parse(headers, options.nowMillis)
      return new RateLimited({
        retryAfter: Option.getOrUndefined(retryAfter),
        limit: numberHeader(headers, "x-ratelimit-limit"),
        remaining: numberHeader(headers, "x-ratelimit-remaining"),
        reset: numberHeader(headers, "x-ratelimit-reset"),
        message: say("rate limited") + Option.match(retryAfter, {
          onNone: () => "",
          onSome: (wait) =>
            Duration.isFinite(wait) ? ` (retry after ${Duration.format(wait)})` : " (retry after: indefinitely)"
        }),
        requestId
      })
    }
    default:
      return new ServerError({ status, message: say(`the server answered ${status}`), requestId })
  }
}
