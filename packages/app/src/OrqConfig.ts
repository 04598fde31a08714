/**
 * The configuration of a live orq client, read from the environment (or any `ConfigProvider`):
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `ORQ_API_KEY` | required | the API key, kept `Redacted` up to the `Authorization` header |
 * | `ORQ_BASE_URL` | `https://api.orq.ai` | https, or http on loopback only |
 * | `ORQ_TIMEOUT` | `10 seconds` | per attempt |
 * | `ORQ_DEADLINE` | `60 seconds` | per call, across attempts and waits |
 * | `ORQ_MAX_RETRIES` | `2` | retries after the first attempt |
 *
 * Durations take Effect's forms (`10 seconds`, `250 millis`) or a bare number of seconds.
 *
 * @since 0.1.0
 */
import * as IdentityClient from "@orq-effect/client/IdentityClient"
import { Config, ConfigError, Duration, Either, Redacted } from "effect"

/** The resolved configuration. */
export interface OrqConfig {
  readonly apiKey: Redacted.Redacted
  readonly baseUrl: string
  readonly timeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly maxRetries: number
}

/** Whether `host` (a URL's hostname, or a listen address) is loopback: localhost, 127.x.x.x or ::1. */
export const isLoopbackHost = (host: string): boolean => /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i.test(host)

/**
 * `url` as a base URL (`IdentityClient.checkBaseUrl`: no credentials, query, fragment or white space, no trailing
 * slash), and only https, or http to a loopback host; or why it may not be one, without repeating it (it could hold
 * a secret).
 */
export const checkBaseUrl = (url: string): Either.Either<string, string> =>
  Either.flatMap(IdentityClient.checkBaseUrl(url), (checked) => {
    const { host, hostname, protocol } = new URL(checked)
    return protocol === "https:" || isLoopbackHost(hostname)
      ? Either.right(checked)
      : Either.left(`http:// is allowed for loopback hosts only (got http://${host}); use https://`)
  })

/** A duration variable: Effect's duration forms, or a bare number of seconds. */
export const durationVar = (name: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => {
      const text = raw.trim()
      const decoded = /^\d+(\.\d+)?$/.test(text)
        ? Either.right(Duration.millis(Number(text) * 1000))
        : Either.fromOption(Duration.decodeUnknown(text), () => undefined)
      return Either.match(decoded, {
        onLeft: () =>
          Either.left(ConfigError.InvalidData([], `Expected a duration such as "10 seconds" or "10", got "${text}"`)),
        onRight: (duration) =>
          Duration.greaterThan(duration, Duration.zero)
            ? Either.right(duration)
            : Either.left(ConfigError.InvalidData([], "Expected a duration above zero"))
      })
    })
  )

/**
 * The API key: present, not blank, and fit for a header (printable ASCII, no space or line break). Read as a string
 * and wrapped at once: Effect redacts every error of a `Config.redacted`, so a missing key would otherwise read
 * `Missing data at ORQ_API_KEY: "<redacted>"`. No error of a string variable carries its value.
 */
export const apiKey: Config.Config<Redacted.Redacted> = Config.string("ORQ_API_KEY").pipe(
  Config.mapOrFail((key) =>
    Either.mapBoth(IdentityClient.checkApiKey(key), {
      onLeft: (reason) => ConfigError.InvalidData([], `The API key ${reason}`),
      onRight: Redacted.make
    })
  )
)

/** The base URL, checked by {@link checkBaseUrl}. */
export const baseUrl = Config.string("ORQ_BASE_URL").pipe(
  Config.mapOrFail((url) => Either.mapLeft(checkBaseUrl(url), (reason) => ConfigError.InvalidData([], reason))),
  Config.withDefault(IdentityClient.DEFAULT_BASE_URL)
)

/** Everything but the key: what a keyless local target needs too. */
export const transport = Config.all({
  baseUrl,
  timeout: durationVar("ORQ_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
  deadline: durationVar("ORQ_DEADLINE").pipe(Config.withDefault(Duration.seconds(60))),
  maxRetries: Config.integer("ORQ_MAX_RETRIES").pipe(
    Config.validate({ message: "Expected an integer from 0 to 10", validation: (n) => n >= 0 && n <= 10 }),
    Config.withDefault(2)
  )
})

/** The whole configuration. */
export const OrqConfig: Config.Config<OrqConfig> = Config.map(
  Config.all({ apiKey, transport }),
  ({ apiKey, transport }) => ({ apiKey, ...transport })
)
