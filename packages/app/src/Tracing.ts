/**
 * Tracing of the app: every `IdentityClient` call is a span (`IdentityClient.update`, …, with the identity id
 * as `orq.identity.id`, never emails, names, metadata or the key) enclosing the HTTP client span. This module
 * exports those spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set, and does nothing at all otherwise.
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type * as Resource from "@effect/opentelemetry/Resource"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { type ConfigError, Duration, Effect, Layer, Option } from "effect"
import * as TracingEndpoint from "./TracingEndpoint.js"

/** The `service.name` of every span. */
export const SERVICE_NAME = "orq"

/** The OpenTelemetry tracer of service `orq` over the given span processors (e.g. an in-memory one in tests). */
export const layerProcessor = (
  spanProcessor: SpanProcessor | ReadonlyArray<SpanProcessor>
): Layer.Layer<Resource.Resource> => NodeSdk.layer(() => ({ resource: { serviceName: SERVICE_NAME }, spanProcessor }))

/** Options of {@link layerOtlp}. */
export interface OtlpOptions {
  /**
   * How long one export may wait for the collector, and the flush when the layer is released. Defaults to
   * OpenTelemetry's 10 s (also for a zero or infinite one, which OpenTelemetry refuses); a command line tool wants
   * less, or a collector that never answers keeps it alive that long.
   */
  readonly exportTimeout?: Duration.DurationInput | undefined
}

const DEFAULT_EXPORT_TIMEOUT = Duration.seconds(10)

/** Spans exported over OTLP/HTTP to `url` in batches; flushed when the layer is released. */
export const layerOtlp = (url: string, options: OtlpOptions = {}): Layer.Layer<Resource.Resource> => {
  const given = Duration.decode(options.exportTimeout ?? DEFAULT_EXPORT_TIMEOUT)
  const millis = Math.ceil(
    Duration.toMillis(Duration.isFinite(given) && Duration.toMillis(given) > 0 ? given : DEFAULT_EXPORT_TIMEOUT)
  )
  return NodeSdk.layer(() => ({
    resource: { serviceName: SERVICE_NAME },
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url, timeoutMillis: millis }), {
      exportTimeoutMillis: millis
    }),
    shutdownTimeout: Duration.millis(millis)
  }))
}

/**
 * Tracing as configured by the environment: {@link layerOtlp} when an OTLP endpoint is set, else nothing
 * (Effect's spans stay in process and nothing is printed).
 */
export const layer: Layer.Layer<never, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(TracingEndpoint.endpoint, Option.match({ onNone: () => Layer.empty, onSome: layerOtlp }))
)
