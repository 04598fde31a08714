/**
 * Where the app sends traces, read from the environment without loading OpenTelemetry: the CLI checks it before
 * it imports {@link Tracing} (and the SDK) at all.
 *
 * @since 0.1.0
 */
import { Config, ConfigError, Either, Option } from "effect"

const TRACES = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
const BASE = "OTEL_EXPORTER_OTLP_ENDPOINT"

/** Whether `url` is an absolute http:// or https:// URL, the only kind OTLP/HTTP export can send to. */
const isHttpUrl = (url: string): boolean => URL.canParse(url) && ["http:", "https:"].includes(new URL(url).protocol)

/** `url` when it is an http(s) URL; otherwise an `InvalidData` error naming `name`, not echoing the value. */
const checked = (name: string, url: string): Either.Either<string, ConfigError.ConfigError> =>
  isHttpUrl(url)
    ? Either.right(url)
    : Either.left(ConfigError.InvalidData([name], "must be an absolute http:// or https:// URL"))

/**
 * The per-signal `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else `/v1/traces` under `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * else none (unset or empty). The one used must be an http(s) URL: anything else is a configuration error naming
 * it, where it used to fail the exporter's constructor as a defect.
 */
export const endpoint: Config.Config<Option.Option<string>> = Config.all({
  traces: Config.option(Config.nonEmptyString(TRACES)),
  base: Config.option(Config.nonEmptyString(BASE))
}).pipe(
  Config.mapOrFail(({ base, traces }): Either.Either<Option.Option<string>, ConfigError.ConfigError> => {
    if (Option.isSome(traces)) return Either.map(checked(TRACES, traces.value), Option.some)
    if (Option.isSome(base)) {
      return Either.map(checked(BASE, base.value), (url) => Option.some(`${url.trim().replace(/\/+$/, "")}/v1/traces`))
    }
    return Either.right(Option.none())
  })
)
