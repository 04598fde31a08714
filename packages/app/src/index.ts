/**
 * The app edge of orq Identities for Effect: configuration, the retry policy, the live layer and its lean undici
 * transport, the local fake orq server and its fault and rate-limit wrappers, and the tracing endpoint config.
 * `Tracing` (which loads the OpenTelemetry SDK) is imported on its own: `@orq-effect/app/Tracing`.
 *
 * @since 0.1.0
 */
export * as FakeOrq from "./FakeOrq.js"
export * as FakeOrqChaos from "./FakeOrqChaos.js"
export * as FakeOrqRateLimit from "./FakeOrqRateLimit.js"
export * from "./IdentitiesLive.js"
export * as LocalState from "./LocalState.js"
export * as OrqConfig from "./OrqConfig.js"
export * as RequestTimeout from "./RequestTimeout.js"
export * as RetryPolicy from "./RetryPolicy.js"
export * as TracingEndpoint from "./TracingEndpoint.js"
export * as UndiciHttpClient from "./UndiciHttpClient.js"
