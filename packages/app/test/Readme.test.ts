/**
 * The README's examples, adapted to run here (logs become returned values, the base URL comes from FakeOrq), against
 * FakeOrq and layerMemory: the same calls and layers as the README, so an API change that breaks them fails here.
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { assertSome, deepStrictEqual } from "@effect/vitest/utils"
import { IdentityClient, IdentityStore, layerConfig, layerMemory } from "@orq-effect/client"
import { Config, ConfigProvider, Duration, Effect, Layer, Option, Redacted, Stream } from "effect"
import * as FakeOrq from "../src/FakeOrq.js"
import { IdentitiesLive } from "../src/IdentitiesLive.js"
import * as LocalState from "../src/LocalState.js"

const KEY = "readme-example-key"

/** The README's backend program, returning what it logged about. */
const program = Effect.gen(function*() {
  const identities = yield* IdentityClient
  // absent (or undefined) = keep, null = clear, a value = set; tags and metadata replace
  const jane = yield* identities.update("user_12345", { displayName: "Jane Smith-Wilson", email: null })
  return `updated ${jane.id}`
}).pipe(
  Effect.catchTags({
    NotFound: (e) => Effect.succeed(`no identity ${e.id}`),
    RateLimited: (e) =>
      Effect.succeed(`rate limited, retry after ${e.retryAfter ? Duration.format(e.retryAfter) : "an unknown wait"}`)
  })
)

/** FakeOrq holding the seed identity, and a ConfigProvider pointing at it. */
const seeded = Effect.gen(function*() {
  const store = yield* IdentityStore.make([LocalState.seed])
  const url = yield* FakeOrq.start({ store, apiKey: Redacted.make(KEY) })
  const config = ConfigProvider.fromMap(new Map([["ORQ_API_KEY", KEY], ["ORQ_BASE_URL", url]]))
  return { store, url, config }
})

describe("README", () => {
  it.scopedLive("an Effect backend provides IdentitiesLive and calls the service", () =>
    Effect.gen(function*() {
      const { config, store } = yield* seeded
      const said = yield* program.pipe(Effect.provide(IdentitiesLive), Effect.withConfigProvider(config))
      assert.strictEqual(said, `updated ${LocalState.seed.id}`)
      const [stored] = yield* store.all
      deepStrictEqual(stored.displayName, Option.some("Jane Smith-Wilson"))
      assert.isTrue(Option.isNone(stored.email))
      // and a missing identity takes the NotFound branch
      yield* store.delete("user_12345")
      const missing = yield* program.pipe(Effect.provide(IdentitiesLive), Effect.withConfigProvider(config))
      assert.strictEqual(missing, "no identity user_12345")
    }))

  it.scopedLive("the client built by hand over FetchHttpClient, and stream", () =>
    Effect.gen(function*() {
      const { config } = yield* seeded
      const Identities = layerConfig({
        apiKey: Config.redacted("ORQ_API_KEY"),
        baseUrl: Config.string("ORQ_BASE_URL")
      }).pipe(Layer.provide(FetchHttpClient.layer))
      const premium = yield* Effect.flatMap(IdentityClient, (identities) =>
        Stream.runCollect(identities.stream({ tags: ["premium"], limit: 50 }))).pipe(
          Effect.provide(Identities),
          Effect.withConfigProvider(config)
        )
      deepStrictEqual(
        [...premium].map((identity) =>
          identity.externalId
        ),
        ["user_12345"]
      )
    }))

  it.effect("renames a user", () =>
    Effect.gen(function*() {
      const identities = yield* IdentityClient
      yield* identities.create({ externalId: "u1", displayName: "Ann" })
      const renamed = yield* identities.update("u1", { displayName: "Anne" })
      assertSome(renamed.displayName, "Anne")
    }).pipe(Effect.provide(layerMemory())))
})
