/**
 * The official TypeScript SDKs, unmodified, against FakeOrq: 4.9.4 (the seed generation's SDK) against the seed
 * wire and 4.15.11 against the current one. The SDKs validate every answer strictly, so each call that resolves
 * (or rejects with the SDK's own typed error) shows that FakeOrq speaks the wire the SDK was generated from.
 */
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Orq as Orq4_15 } from "@orq-ai/node-4.15.11"
import { Orq as Orq4_9 } from "@orq-ai/node-4.9.4"
import * as SdkErrors from "@orq-ai/node-4.9.4/models/errors/index.js"
import type { ListIdentitiesResponseBody } from "@orq-ai/node-4.9.4/models/operations/index.js"
import { IdentityStore } from "@orq-effect/client"
import { Effect, Redacted } from "effect"
import * as FakeOrq from "../src/FakeOrq.js"

const API_KEY = "sk-test-official-sdk"

/** A FakeOrq of `generation` on a free loopback port for the test's scope; its base URL. */
const fakeOrq = (generation: FakeOrq.Generation) =>
  Effect.flatMap(
    IdentityStore.make(),
    (store) => FakeOrq.start({ store, generation, apiKey: Redacted.make(API_KEY) })
  )

/** The SDK call's result; a rejection fails the test. */
const sdk = <A>(call: () => Promise<A>) => Effect.promise(call)

/** What the SDK call rejected with; resolving fails the test. */
const rejection = <A>(call: () => Promise<A>) =>
  Effect.flip(Effect.tryPromise({ try: call, catch: (error: unknown) => error }))

describe("@orq-ai/node 4.9.4 against FakeOrq (seed)", () => {
  const client = Effect.map(fakeOrq("seed"), (serverURL) => new Orq4_9({ apiKey: API_KEY, serverURL }))

  it.scoped("create, then retrieve by _id and by external_id", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const created = yield* sdk(() =>
        orq.identities.create({
          externalId: "user_12345",
          displayName: "Jane Smith",
          email: "jane.smith@example.com",
          avatarUrl: "https://example.com/avatars/jane-smith.jpg",
          tags: ["premium", "beta-user"],
          metadata: { department: "Engineering", role: "Senior Developer" }
        })
      )
      assert.strictEqual(created.externalId, "user_12345")
      assert.strictEqual(created.workspaceId, FakeOrq.WORKSPACE_ID)
      assert.strictEqual(created.displayName, "Jane Smith")
      assert.strictEqual(created.email, "jane.smith@example.com")
      assert.strictEqual(created.avatarUrl, "https://example.com/avatars/jane-smith.jpg")
      deepStrictEqual(created.tags, ["premium", "beta-user"])
      deepStrictEqual(created.metadata, { department: "Engineering", role: "Senior Developer" })
      assert.instanceOf(created.created, Date)
      assert.instanceOf(created.updated, Date)

      for (const id of [created.id, "user_12345"]) {
        const retrieved = yield* sdk(() => orq.identities.retrieve({ id }))
        assert.strictEqual(retrieved.id, created.id)
        assert.strictEqual(retrieved.externalId, "user_12345")
        assert.strictEqual(retrieved.displayName, "Jane Smith")
        deepStrictEqual(retrieved.tags, created.tags)
        deepStrictEqual(retrieved.metadata, created.metadata)
        assert.strictEqual(retrieved.updated.getTime(), created.updated?.getTime())
      }
    }))

  it.scoped("update sets fields, clears one with null, replaces tags and metadata", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const created = yield* sdk(() =>
        orq.identities.create({
          externalId: "user_update",
          displayName: "Before",
          email: "before@example.com",
          avatarUrl: "https://example.com/before.png",
          tags: ["a", "b"],
          metadata: { old: true, kept: "no" }
        })
      )
      const updated = yield* sdk(() =>
        orq.identities.update({
          id: created.id,
          requestBody: { displayName: "After", email: null, tags: ["c"], metadata: { fresh: 1 } }
        })
      )
      assert.strictEqual(updated.id, created.id)
      assert.strictEqual(updated.displayName, "After")
      assert.isNull(updated.email)
      assert.strictEqual(updated.avatarUrl, "https://example.com/before.png")
      deepStrictEqual(updated.tags, ["c"])
      deepStrictEqual(updated.metadata, { fresh: 1 })

      const retrieved = yield* sdk(() => orq.identities.retrieve({ id: "user_update" }))
      assert.strictEqual(retrieved.displayName, "After")
      assert.isNull(retrieved.email)
      deepStrictEqual(retrieved.tags, ["c"])
      deepStrictEqual(retrieved.metadata, { fresh: 1 })
    }))

  it.scoped("list walks 5 identities 2 at a time with startingAfter, and back with endingBefore", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push((yield* sdk(() => orq.identities.create({ externalId: `user_${i}` }))).id)
      }

      const forward: Array<{ readonly ids: ReadonlyArray<string>; readonly hasMore: boolean }> = []
      let after: string | undefined = undefined
      for (let i = 0; i < 5; i++) {
        const request = { limit: 2, ...(after === undefined ? {} : { startingAfter: after }) }
        const page: ListIdentitiesResponseBody = yield* sdk(() => orq.identities.list(request))
        assert.strictEqual(page.object, "list")
        forward.push({ ids: page.data.map((item) => item.id), hasMore: page.hasMore })
        if (!page.hasMore) break
        after = page.data[page.data.length - 1].id
      }
      deepStrictEqual(forward, [
        { ids: ids.slice(0, 2), hasMore: true },
        { ids: ids.slice(2, 4), hasMore: true },
        { ids: ids.slice(4), hasMore: false }
      ])

      const backward: Array<{ readonly ids: ReadonlyArray<string>; readonly hasMore: boolean }> = []
      let before = ids[4]
      for (let i = 0; i < 5; i++) {
        const request = { limit: 2, endingBefore: before }
        const page: ListIdentitiesResponseBody = yield* sdk(() => orq.identities.list(request))
        backward.push({ ids: page.data.map((item) => item.id), hasMore: page.hasMore })
        if (!page.hasMore) break
        before = page.data[0].id
      }
      deepStrictEqual(backward, [
        { ids: ids.slice(2, 4), hasMore: true },
        { ids: ids.slice(0, 2), hasMore: false }
      ])
    }))

  it.scoped("search, tag filter (filterBy) and includeMetrics", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const ada = yield* sdk(() =>
        orq.identities.create({
          externalId: "ada",
          displayName: "Ada Lovelace",
          email: "ada@example.com",
          tags: ["red"]
        })
      )
      const bob = yield* sdk(() =>
        orq.identities.create({ externalId: "bob", displayName: "Bob", email: "bob@Example.org", tags: ["blue"] })
      )
      yield* sdk(() => orq.identities.create({ externalId: "cy", displayName: "Cy", tags: ["green"] }))
      const idsOf = (page: ListIdentitiesResponseBody) => page.data.map((item) => item.id)

      deepStrictEqual(idsOf(yield* sdk(() => orq.identities.list({ search: "LOVELACE" }))), [ada.id])
      deepStrictEqual(idsOf(yield* sdk(() => orq.identities.list({ search: "example.ORG" }))), [bob.id])
      deepStrictEqual(
        idsOf(yield* sdk(() => orq.identities.list({ filterBy: { tags: ["red", "blue"] } }))).sort(),
        [ada.id, bob.id].sort()
      )
      deepStrictEqual(idsOf(yield* sdk(() => orq.identities.list({ filterBy: { tags: ["blue"] } }))), [bob.id])

      const measured = yield* sdk(() => orq.identities.retrieve({ id: "ada", includeMetrics: true }))
      deepStrictEqual(measured.metrics, { totalCost: 0, totalTokens: 0, totalRequests: 0, errorRate: 0 })
      const unmeasured = yield* sdk(() => orq.identities.retrieve({ id: "ada" }))
      assert.isUndefined(unmeasured.metrics)
      const page = yield* sdk(() => orq.identities.list({ includeMetrics: true }))
      assert.strictEqual(page.data.length, 3)
      for (const item of page.data) assert.strictEqual(item.metrics.totalRequests, 0)
    }))

  it.scoped("delete resolves, then the identity is gone", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const created = yield* sdk(() => orq.identities.create({ externalId: "user_delete" }))
      const deleted = yield* sdk(() => orq.identities.delete({ id: created.id }))
      assert.isUndefined(deleted)
      const error = yield* rejection(() => orq.identities.retrieve({ id: created.id }))
      assert.instanceOf(error, SdkErrors.RetrieveIdentityResponseBody)
    }))

  it.scoped("404 of retrieve, update and delete: the SDK's typed error classes, status 404", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const retrieve = yield* rejection(() => orq.identities.retrieve({ id: "nobody" }))
      assert.instanceOf(retrieve, SdkErrors.RetrieveIdentityResponseBody)
      if (retrieve instanceof SdkErrors.RetrieveIdentityResponseBody) {
        assert.strictEqual(retrieve.statusCode, 404)
        assert.include(retrieve.error, "nobody")
      }

      const update = yield* rejection(() => orq.identities.update({ id: "nobody", requestBody: { displayName: "x" } }))
      assert.instanceOf(update, SdkErrors.UpdateIdentityResponseBody)
      if (update instanceof SdkErrors.UpdateIdentityResponseBody) {
        assert.strictEqual(update.statusCode, 404)
        assert.include(update.message, "nobody")
      }

      const remove = yield* rejection(() => orq.identities.delete({ id: "nobody" }))
      assert.instanceOf(remove, SdkErrors.DeleteIdentityResponseBody)
      if (remove instanceof SdkErrors.DeleteIdentityResponseBody) {
        assert.strictEqual(remove.statusCode, 404)
        assert.include(remove.error, "nobody")
      }
      for (const error of [retrieve, update, remove]) assert.instanceOf(error, SdkErrors.OrqError)
    }))

  it.scoped("a wrong API key is refused with the SDK's error, status 401", () =>
    Effect.gen(function*() {
      const serverURL = yield* fakeOrq("seed")
      const stranger = new Orq4_9({ apiKey: "sk-wrong", serverURL })
      const error = yield* rejection(() => stranger.identities.list())
      assert.instanceOf(error, SdkErrors.OrqError)
      if (error instanceof SdkErrors.OrqError) assert.strictEqual(error.statusCode, 401)
    }))
})

describe("@orq-ai/node 4.15.11 against FakeOrq (current)", () => {
  const client = Effect.map(fakeOrq("current"), (serverURL) => new Orq4_15({ apiKey: API_KEY, serverURL }))

  it.scoped("create, retrieve, update, list and delete", () =>
    Effect.gen(function*() {
      const orq = yield* client
      const created = yield* sdk(() =>
        orq.identities.create({
          externalId: "customer_12345",
          displayName: "Ada Lovelace",
          email: "ada@example.com",
          tags: ["enterprise", "beta"],
          metadata: { plan: "enterprise", region: "eu" }
        })
      )
      const identity = created.result.identity
      assert.isDefined(identity)
      if (identity === undefined) return
      assert.strictEqual(identity.externalId, "customer_12345")
      assert.strictEqual(identity.workspaceId, FakeOrq.WORKSPACE_ID)
      assert.strictEqual(identity.displayName, "Ada Lovelace")
      deepStrictEqual(identity.tags, ["enterprise", "beta"])
      deepStrictEqual(created.headers["location"], [`/v2/identities/${identity.id}`])

      const retrieved = yield* sdk(() => orq.identities.retrieve({ id: "customer_12345", includeMetrics: true }))
      assert.strictEqual(retrieved.identity?.id, identity.id)
      assert.strictEqual(retrieved.identity?.metrics?.totalRequests, 0)

      const updated = yield* sdk(() =>
        orq.identities.update({
          id: identity.id,
          updateIdentityRequest: { displayName: "Ada L.", tags: ["enterprise", "priority"], metadata: { plan: "pro" } }
        })
      )
      assert.strictEqual(updated.identity?.displayName, "Ada L.")
      assert.strictEqual(updated.identity?.email, "ada@example.com")
      deepStrictEqual(updated.identity?.tags, ["enterprise", "priority"])
      deepStrictEqual(updated.identity?.metadata, { plan: "pro" })

      yield* sdk(() => orq.identities.create({ externalId: "customer_2", tags: ["other"] }))
      const page = yield* sdk(() => orq.identities.list({ limit: 1, filterByTags: ["priority"], includeMetrics: true }))
      deepStrictEqual(page.data.map((item) => item.id), [identity.id])
      assert.isFalse(page.hasMore)
      const first = yield* sdk(() => orq.identities.list({ limit: 1 }))
      assert.strictEqual(first.data.length, 1)
      assert.isTrue(first.hasMore)

      const deleted = yield* sdk(() => orq.identities.delete({ id: identity.id }))
      deepStrictEqual(deleted, {})
      const rest = yield* sdk(() => orq.identities.list())
      deepStrictEqual(rest.data.map((item) => item.externalId), ["customer_2"])
    }))
})
