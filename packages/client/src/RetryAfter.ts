/**
 * How long the server asks us to wait: `retry-after-ms`, then `Retry-After` as integer or fractional seconds
 * or as an HTTP date. Read exactly as sent: no clamping, no rounding beyond milliseconds.
 *
 * @since 0.1.0
 */
import { Duration, Option } from "effect"
import type * as Headers from "@effect/platform/Headers"

const SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/

/** The wait asked for by `headers`, relative to `nowMillis` for an HTTP date; `None` when absent or unreadable. */
export const parse = (headers: Headers.Headers, nowMillis: number): Option.Option<Duration.Duration> => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && SECONDS.test(ms)) {
    return Option.some(Duration.millis(Number(ms)))
  }
  const value = headers["retry-after"]
  if (value === undefined) return Option.none()
  const seconds = SECONDS.exec(value)
  if (seconds !== null) return Option.some(Duration.millis(Math.round(Number(seconds[1]) * 1000)))
  const date = Date.parse(value)
  if (Number.isNaN(date)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, date - nowMillis)))
}
