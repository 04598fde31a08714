import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Config, ConfigProvider, Effect, Exit, Layer } from "effect"
import { IdentityClient, layerConfig } from "../src/IdentityClient.js"

/** Builds `layerConfig` from variables over a network that records what is sent; returns how the build ended. */
const build = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const sent: Array<string> = []
    const network = HttpClient.make((request) =>
      Effect.sync(() => {
        sent.push(request.url)
        return HttpClientResponse.fromWeb(request, new Response(null, { status: 204 }))
      })
    )
    const layer = layerConfig({
      apiKey: Config.redacted("KEY"),
      baseUrl: Config.string("BASE").pipe(Config.withDefault("https://api.orq.ai"))
    }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, network)))
    const exit = yield* Effect.exit(
      Effect.flatMap(IdentityClient, (client) => client.delete("user_1")).pipe(
        Effect.provide(layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
    )
    return { exit, sent }
  })

describe("layerConfig", () => {
  it.effect("a base URL or key that cannot work fails the layer with a ConfigError naming the option", () =>
    Effect.gen(function*() {
      for (
        const [env, option] of [
          [{ KEY: "sk-ok-12345", BASE: "ftp://example.com" }, "baseUrl"],
          [{ KEY: "sk-ok-12345", BASE: "https://api.orq.ai?x" }, "baseUrl"],
          [{ KEY: "sk-ok-12345\n" }, "apiKey"],
          [{ KEY: "  " }, "apiKey"]
        ] as const
      ) {
        const { exit, sent } = yield* build(env)
        assert.isTrue(Exit.isFailure(exit))
        const text = Exit.isFailure(exit) ? String(exit.cause) : ""
        assert.include(text, `Invalid data at ${option}`)
        // never the value itself: it may be a secret
        assert.notInclude(text, "sk-ok-12345")
        deepStrictEqual(sent, [])
      }
    }))

  it.effect("both a bad key and a bad base URL are named, not only the first", () =>
    Effect.gen(function*() {
      const { exit } = yield* build({ KEY: " ", BASE: "ftp://example.com" })
      const text = Exit.isFailure(exit) ? String(exit.cause) : ""
      assert.include(text, "Invalid data at apiKey")
      assert.include(text, "Invalid data at baseUrl")
    }))

  it.effect("good options build the client", () =>
    Effect.gen(function*() {
      const { exit, sent } = yield* build({ KEY: "sk-ok-12345", BASE: "http://127.0.0.1:9/" })
      assert.isTrue(Exit.isSuccess(exit))
      deepStrictEqual(sent, ["http://127.0.0.1:9/v2/identities/user_1"])
    }))
})
