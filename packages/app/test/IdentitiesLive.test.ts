import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { IdentityClient, IdentityStore } from "@orq-effect/client"
import {
  Clock,
  ConfigError,
  ConfigProvider,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  TestClock
} from "effect"
import * as FakeOrq from "../src/FakeOrq.js"
import * as IdentitiesLive from "../src/IdentitiesLive.js"

const KEY = "sk-live-config-test"

const provider = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** The `IdentitiesLive` client (undici) against a fresh FakeOrq on loopback, configured from `env`. */
const againstFakeOrq = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const store = yield* IdentityStore.make()
    const baseUrl = yield* FakeOrq.start({ store, apiKey: Redacted.make(KEY) })
    const context = yield* Layer.build(
      IdentitiesLive.IdentitiesLive.pipe(Layer.provide(provider({ ORQ_BASE_URL: baseUrl, ...env })))
    )
    return { client: yield* Effect.provide(IdentityClient, context), store }
  })

/** `layerConfig` over a scripted network answering `statuses` in order; counts and times the attempts. */
const scripted = (statuses: ReadonlyArray<number>, env: Record<string, string>) =>
  Effect.gen(function*() {
    const queue = [...statuses]
    const attempts: Array<number> = []
    const http = HttpClient.make((request) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        attempts.push(now)
        const status = queue.shift() ?? 500
        const body = status === 200 ? JSON.stringify({ _id: "identity_1", external_id: "ext-1" }) : "{\"error\":\"no\"}"
        return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { status })))
      })
    )
    const context = yield* Layer.build(
      IdentitiesLive.layerConfig.pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, http)),
        Layer.provide(provider({ ORQ_API_KEY: KEY, ORQ_BASE_URL: "https://api.orq.ai", ...env }))
      )
    )
    return { client: yield* Effect.provide(IdentityClient, context), attempts }
  })

/** Builds `IdentitiesLive` under `env` and returns the configuration error it fails with. */
const configErrorOf = (env: Record<string, string>) =>
  Layer.build(IdentitiesLive.IdentitiesLive.pipe(Layer.provide(provider(env)))).pipe(
    Effect.either,
    Effect.map(Either.match({
      onLeft: (error) => ({ error, text: String(error) }),
      onRight: () => assert.fail(`accepted ${JSON.stringify(env)}`)
    }))
  )

describe("IdentitiesLive", () => {
  it.scoped("configured from the environment, it works against FakeOrq on loopback", () =>
    Effect.gen(function*() {
      const { client, store } = yield* againstFakeOrq({ ORQ_API_KEY: KEY })
      const created = yield* client.create({ externalId: "live-1", displayName: "Live", tags: ["a"] })
      const updated = yield* client.update("live-1", { displayName: null, tags: ["b"] })
      deepStrictEqual(updated.displayName, Option.none())
      deepStrictEqual(updated.tags, ["b"])
      assert.strictEqual((yield* client.retrieve(created.id)).externalId, "live-1")
      deepStrictEqual((yield* client.list()).data.map((identity) => identity.id), [created.id])
      yield* client.delete("live-1")
      deepStrictEqual(yield* store.all, [])
    }))

  it.scoped("the key comes from ORQ_API_KEY: a wrong one is Unauthorized", () =>
    Effect.gen(function*() {
      const { client } = yield* againstFakeOrq({ ORQ_API_KEY: "sk-wrong" })
      const error = yield* Effect.flip(client.list())
      assert.strictEqual(error._tag, "Unauthorized")
    }))

  it.scoped("a 404 is answered at once, not retried", () =>
    Effect.gen(function*() {
      const { attempts, client } = yield* scripted([404, 200], {})
      const error = yield* Effect.flip(client.retrieve("missing"))
      assert.strictEqual(error._tag, "NotFound")
      assert.strictEqual(attempts.length, 1)
    }))

  it.scoped("a transient 503 then 200 is retried after the backoff", () =>
    Effect.gen(function*() {
      const { attempts, client } = yield* scripted([503, 200], {})
      const fiber = yield* Effect.fork(client.retrieve("ext-1"))
      yield* TestClock.adjust(Duration.seconds(1))
      const identity = yield* Fiber.join(fiber)
      assert.strictEqual(identity.externalId, "ext-1")
      assert.strictEqual(attempts.length, 2)
      // the first backoff step is 250 ms, fully jittered
      assert.isTrue(attempts[1] - attempts[0] <= 250)
    }))

  it.scoped("ORQ_MAX_RETRIES bounds the attempts", () =>
    Effect.gen(function*() {
      const { attempts, client } = yield* scripted([503, 503, 503, 503, 503, 200], { ORQ_MAX_RETRIES: "4" })
      const fiber = yield* Effect.fork(Effect.either(client.retrieve("ext-1")))
      yield* TestClock.adjust(Duration.minutes(1))
      const result = yield* Fiber.join(fiber)
      assert.isTrue(Either.isLeft(result))
      assert.strictEqual(attempts.length, 5)
    }))

  it.scoped("ORQ_TIMEOUT and ORQ_DEADLINE take effect", () =>
    Effect.gen(function*() {
      const attempts: Array<number> = []
      const hanging = HttpClient.make(() =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          attempts.push(now)
          return Effect.never
        })
      )
      const context = yield* Layer.build(
        IdentitiesLive.layerConfig.pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, hanging)),
          Layer.provide(provider({ ORQ_API_KEY: KEY, ORQ_TIMEOUT: "1.5", ORQ_DEADLINE: "4 seconds" }))
        )
      )
      const client = yield* Effect.provide(IdentityClient, context)
      const fiber = yield* Effect.fork(Effect.exit(client.retrieve("ext-1")))
      // the clock moves in steps until the call ends: one jump to 4 s could pass a timer a woken fiber arms a moment
      // late on a loaded machine, and the call would then never end
      for (let step = 0; step < 200 && Option.isNone(yield* Fiber.poll(fiber)); step++) {
        yield* TestClock.adjust(Duration.millis(50))
      }
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the call did not end within 10 s")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(exit)
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "deadline")
      // 1.5 s per attempt, then at most 250 ms and 500 ms of backoff: three attempts started before 4 s
      assert.strictEqual(attempts.length, 3)
      assert.isTrue(attempts[1] >= 1500 && attempts[1] <= 1750)
    }))

  describe("configuration errors name the variable", () => {
    it.scoped("a missing ORQ_API_KEY", () =>
      Effect.gen(function*() {
        const { error, text } = yield* configErrorOf({})
        assert.isTrue(ConfigError.isMissingData(error))
        assert.include(text, "ORQ_API_KEY")
        assert.notInclude(text, "<redacted>")
      }))

    it.scoped("a blank ORQ_API_KEY", () =>
      Effect.gen(function*() {
        const { error, text } = yield* configErrorOf({ ORQ_API_KEY: "   " })
        assert.isTrue(ConfigError.isInvalidData(error))
        assert.include(text, "ORQ_API_KEY")
      }))

    it.scoped("an ORQ_API_KEY that cannot go into a header (a trailing newline from a file), not quoted", () =>
      Effect.gen(function*() {
        for (const key of [`${KEY}\n`, `sk canary`, `sk-café`]) {
          const { error, text } = yield* configErrorOf({ ORQ_API_KEY: key })
          assert.isTrue(ConfigError.isInvalidData(error), text)
          assert.include(text, "ORQ_API_KEY")
          assert.include(text, "line breaks")
          assert.notInclude(text, "canary")
          assert.notInclude(text, KEY)
        }
      }))

    const invalid: ReadonlyArray<readonly [string, string, string]> = [
      ["ORQ_TIMEOUT", "soon", "duration"],
      ["ORQ_TIMEOUT", "0", "above zero"],
      ["ORQ_TIMEOUT", "-3 seconds", "duration"],
      ["ORQ_DEADLINE", "forever", "duration"],
      ["ORQ_MAX_RETRIES", "two", "integer"],
      ["ORQ_MAX_RETRIES", "1.5", "integer"],
      ["ORQ_MAX_RETRIES", "-1", "0 to 10"],
      ["ORQ_MAX_RETRIES", "11", "0 to 10"],
      ["ORQ_BASE_URL", "http://api.orq.ai", "loopback"],
      ["ORQ_BASE_URL", "http://10.0.0.8:8080", "loopback"],
      ["ORQ_BASE_URL", "api.orq.ai", "absolute URL"],
      ["ORQ_BASE_URL", "ftp://api.orq.ai", "http(s) URL (got ftp://)"],
      ["ORQ_BASE_URL", "https://api.orq.ai?", "query"],
      ["ORQ_BASE_URL", "https://api.orq.ai/\n", "white space"]
    ]
    for (const [name, value, reason] of invalid) {
      it.scoped(`${name}=${value}`, () =>
        Effect.gen(function*() {
          const { error, text } = yield* configErrorOf({ ORQ_API_KEY: KEY, [name]: value })
          assert.isTrue(ConfigError.isInvalidData(error), text)
          if (ConfigError.isInvalidData(error)) deepStrictEqual(error.path, [name])
          assert.include(text, reason)
          assert.notInclude(text, KEY)
        }))
    }

    it.scoped("a base URL carrying credentials is refused without repeating them", () =>
      Effect.gen(function*() {
        const { text } = yield* configErrorOf({ ORQ_API_KEY: KEY, ORQ_BASE_URL: "https://me:s3cr3t@api.orq.ai" })
        assert.include(text, "ORQ_BASE_URL")
        assert.include(text, "credentials")
        assert.notInclude(text, "s3cr3t")
      }))

    const accepted: ReadonlyArray<Record<string, string>> = [
      { ORQ_BASE_URL: "http://127.0.0.1:8080" },
      { ORQ_BASE_URL: "http://localhost:3000/" },
      { ORQ_BASE_URL: "http://[::1]:3000" },
      { ORQ_BASE_URL: "https://eu.api.orq.ai" },
      { ORQ_TIMEOUT: "250 millis", ORQ_DEADLINE: "90", ORQ_MAX_RETRIES: "0" }
    ]
    for (const env of accepted) {
      it.scoped(`accepted: ${JSON.stringify(env)}`, () =>
        Effect.gen(function*() {
          yield* Layer.build(IdentitiesLive.IdentitiesLive.pipe(Layer.provide(provider({ ORQ_API_KEY: KEY, ...env }))))
        }))
    }
  })
})
