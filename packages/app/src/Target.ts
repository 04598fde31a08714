/**
 * Which orq the CLI talks to, decided by the environment:
 *
 * - `ORQ_API_KEY` set (with an optional `ORQ_BASE_URL`): that server, through the configured, retried
 *   `IdentitiesLive` client.
 * - `ORQ_BASE_URL` set without `ORQ_API_KEY`: a configuration error naming `ORQ_API_KEY`.
 * - neither: the embedded local orq, FakeOrq started in process on a free loopback port over the state file
 *   `ORQ_LOCAL_STATE` (default `.orq-local.json`), reached over HTTP like the real API.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import { IdentityClient, make } from "@orq-effect/client"
import { Config, ConfigError, Console, Effect, Either, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as FakeOrq from "./FakeOrq.js"
import * as IdentitiesLive from "./IdentitiesLive.js"
import * as LocalState from "./LocalState.js"
import * as UndiciHttpClient from "./UndiciHttpClient.js"

/** Where the client goes. */
export type Target =
  | { readonly _tag: "Live" }
  | { readonly _tag: "Embedded"; readonly statePath: string }

/**
 * The state file of the embedded target: `ORQ_LOCAL_STATE`, else {@link LocalState.DEFAULT_PATH}. An empty or
 * blank `ORQ_LOCAL_STATE` is a configuration error naming it, not a silent fall back to the default file.
 */
export const statePath: Config.Config<string> = Config.option(Config.string("ORQ_LOCAL_STATE")).pipe(
  Config.mapOrFail((path) =>
    Option.match(path, {
      onNone: () => Either.right(LocalState.DEFAULT_PATH),
      onSome: (path) =>
        path.trim() === ""
          ? Either.left(ConfigError.InvalidData(
            ["ORQ_LOCAL_STATE"],
            `ORQ_LOCAL_STATE is empty: set it to a file, or unset it to use ${LocalState.DEFAULT_PATH}`
          ))
          : Either.right(path)
    })
  )
)

/**
 * The target the environment asks for. `ORQ_API_KEY` counts as set even when empty, so that an empty key
 * is refused instead of silently sending the commands to the local state.
 */
export const target: Config.Config<Target> = Config.all({
  apiKey: Config.option(Config.string("ORQ_API_KEY")),
  baseUrl: Config.option(Config.string("ORQ_BASE_URL")),
  statePath
}).pipe(
  Config.mapOrFail(({ apiKey, baseUrl, statePath }): Either.Either<Target, ConfigError.ConfigError> => {
    if (Option.isSome(apiKey)) return Either.right({ _tag: "Live" })
    if (Option.isSome(baseUrl)) {
      return Either.left(ConfigError.MissingData(
        ["ORQ_API_KEY"],
        "ORQ_BASE_URL is set but ORQ_API_KEY is not: set ORQ_API_KEY to use that server, " +
          "or unset ORQ_BASE_URL to use the embedded local orq"
      ))
    }
    return Either.right({ _tag: "Embedded", statePath })
  })
)

/**
 * A key nobody else knows, so that only this process can use its embedded server: 24 bytes of
 * `crypto.randomBytes` (not Effect's `Random`, which is not cryptographic and can be seeded).
 */
export const sessionKey: Effect.Effect<Redacted.Redacted<string>> = Effect.sync(() =>
  Redacted.make(`local_${randomBytes(24).toString("base64url")}`)
)

/**
 * The embedded local orq for the life of the layer: the state file locked and loaded, FakeOrq on a free
 * loopback port behind a per-process key, and a client over HTTP to it. Says on stderr, once, what it uses.
 */
export const layerEmbedded = (
  path: string
): Layer.Layer<IdentityClient, LocalState.LocalStateError, FileSystem.FileSystem | Path.Path | HttpClient.HttpClient> =>
  Layer.scoped(
    IdentityClient,
    Effect.gen(function*() {
      const store = yield* LocalState.store(path)
      const apiKey = yield* sessionKey
      const baseUrl = yield* FakeOrq.start({ store, apiKey })
      yield* Console.error(`orq: using the embedded local orq (state in ${path}); set ORQ_API_KEY to use orq.ai`)
      return yield* make({ apiKey, baseUrl })
    }).pipe(
      // a port that cannot be bound is an I/O failure of the local target
      Effect.catchTag("ServeError", (error) =>
        Effect.fail(
          new LocalState.LocalStateError({
            path,
            reason: "Io",
            message: `the embedded local orq could not listen on loopback: ${String(error.cause)}`
          })
        ))
    )
  )

/** The client of the target chosen by the environment (see the module's doc). */
export const layer: Layer.Layer<
  IdentityClient,
  ConfigError.ConfigError | LocalState.LocalStateError,
  FileSystem.FileSystem | Path.Path
> = Layer.unwrapEffect(
  Effect.map(target, (chosen): Layer.Layer<
    IdentityClient,
    ConfigError.ConfigError | LocalState.LocalStateError,
    FileSystem.FileSystem | Path.Path
  > =>
    chosen._tag === "Live"
      ? IdentitiesLive.IdentitiesLive
      : layerEmbedded(chosen.statePath).pipe(Layer.provide(UndiciHttpClient.layer)))
)
