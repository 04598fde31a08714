/**
 * How long the server asks us to wait: `retry-after-ms`, then `Retry-After` as integer or fractional seconds
 * or as an HTTP date. Read exactly as sent: no clamping, no rounding beyond milliseconds. A wait too long to count
 * in milliseconds (over `Number.MAX_SAFE_INTEGER` of them, some 285,000 years, as a value of hundreds of digits
 * asks) is `Duration.infinity`, never a `Duration` of an unsafe or non-finite number, which `Duration.format`
 * cannot even print: the server asked for a wait nobody should sleep, and a caller that compares the wait with
 * its deadline or its own limit gives up at once.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

const SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/

/** asctime (`Sun Nov  6 08:49:37 1994`): an HTTP date without a zone, which is GMT. */
const ASCTIME = /^\s*[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}\s*$/

/** A date with a time of day and an explicit zone: IMF-fixdate, RFC 850, or ISO 8601 as some servers send. */
const ZONED = /\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:GMT|UTC|Z|[+-]\d{2}:?\d{2})\s*$/i

/**
 * The epoch milliseconds of an HTTP date, or `NaN`. `Date.parse` alone is too lenient (`-1` or `soon 12` are
 * dates to it) and reads a zone-less date as local time.
 */
const parseDate = (value: string): number =>
  ASCTIME.test(value) ? Date.parse(`${value.trim()} GMT`) : ZONED.test(value) ? Date.parse(value) : Number.NaN

/** `millis` (not negative), or `Duration.infinity` beyond the safe integers (see the module's comment). */
const wait = (millis: number): Duration.Duration =>
  millis <= Number.MAX_SAFE_INTEGER ? Duration.millis(millis) : Duration.infinity

/** The wait asked for by `headers`, relative to `nowMillis` for an HTTP date; `None` when absent or unreadable. */
export const parse = (headers: Headers.Headers, nowMillis: number): Option.Option<Duration.Duration> => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && SECONDS.test(ms)) {
    return Option.some(wait(Number(ms)))
  }
  const value = headers["retry-after"]
  if (value === undefined) return Option.none()
  const seconds = SECONDS.exec(value)
  if (seconds !== null) return Option.some(wait(Math.round(Number(seconds[1]) * 1000)))
  const date = parseDate(value)
  if (Number.isNaN(date)) return Option.none()
  return Option.some(wait(Math.max(0, date - nowMillis)))
}
