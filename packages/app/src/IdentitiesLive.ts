/**
 * The one layer an Effect backend provides to get a configured, retried `IdentityClient`: options from
 * {@link OrqConfig}, retries and timeouts from {@link RetryPolicy}, transport from undici.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { IdentityClient } from "@orq-effect/client"
import { layer } from "@orq-effect/client"
import { type ConfigError, Effect, Layer } from "effect"
import * as OrqConfig from "./OrqConfig.js"
import * as RetryPolicy from "./RetryPolicy.js"
import * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * The client for a resolved configuration, over the `HttpClient` in context (any transport: every attempt is raced
 * against Effect's own timer).
 */
export const fromConfig = (config: OrqConfig.OrqConfig): Layer.Layer<IdentityClient, never, HttpClient.HttpClient> =>
  layer({ apiKey: config.apiKey, baseUrl: config.baseUrl, transformClient: RetryPolicy.transformClient(config) })

/**
 * The client for a resolved configuration, over a lean undici transport of its own ({@link UndiciHttpClient}),
 * which enforces the attempt timeouts itself: the fastest stack, and the one {@link IdentitiesLive} uses.
 */
export const fromConfigUndici = (config: OrqConfig.OrqConfig): Layer.Layer<IdentityClient> => {
  // one limit, enforced by the transport and known to the policy, which then races no timer of its own
  const limit = RetryPolicy.attemptLimit(config)
  return layer({
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    transformClient: RetryPolicy.transformClient({ ...config, transportLimit: limit })
  }).pipe(Layer.provide(UndiciHttpClient.layerWith({ limit })))
}

/** The client configured from the environment, over the `HttpClient` in context. */
export const layerConfig: Layer.Layer<IdentityClient, ConfigError.ConfigError, HttpClient.HttpClient> = Layer
  .unwrapEffect(Effect.map(OrqConfig.OrqConfig, fromConfig))

/** The client configured from the environment, over the lean undici transport ({@link fromConfigUndici}). */
export const IdentitiesLive: Layer.Layer<IdentityClient, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(OrqConfig.OrqConfig, fromConfigUndici)
)
