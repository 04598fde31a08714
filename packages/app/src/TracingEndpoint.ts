/**
 * Where the app sends traces, read from the environment without loading OpenTelemetry: the CLI checks it before
 * it imports {@link Tracing} (and the SDK) at all.
 *
 * @since 0.1.0
 */
import { Config, Option } from "effect"

/** The per-signal `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else `/v1/traces` under `OTEL_EXPORTER_OTLP_ENDPOINT`. */
export const endpoint: Config.Config<Option.Option<string>> = Config.all({
  traces: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
  base: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT"))
}).pipe(
  Config.map(({ base, traces }) =>
    Option.orElse(traces, () => Option.map(base, (url) => `${url.trim().replace(/\/+$/, "")}/v1/traces`))
  )
)
