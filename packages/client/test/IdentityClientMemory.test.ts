import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Identity } from "@orq-effect/domain/Identity"
import { DateTime, Effect, Option, Ref, TestClock } from "effect"
import { IdentityClient } from "../src/IdentityClient.js"
import { fromStore, layerMemory } from "../src/IdentityClientMemory.js"
import * as IdentityStore from "../src/IdentityStore.js"
import { identityBehaviour } from "./behaviour/IdentityBehaviour.js"

identityBehaviour("IdentityClientMemory.layerMemory", layerMemory())

const seeded = (id: string, externalId: string) =>
  new Identity({
    id,
    externalId,
    displayName: Option.some(`Seeded ${externalId}`),
    email: Option.none(),
    avatarUrl: Option.none(),
    tags: ["seeded"],
    metadata: {},
    created: Option.some(DateTime.unsafeMake(0)),
    updated: Option.some(DateTime.unsafeMake(0)),
    workspaceId: Option.none(),
    metrics: Option.none()
  })

describe("IdentityStore", () => {
  it.effect("serves its initial identities, in _id order, by _id and by external_id", () =>
    Effect.gen(function*() {
      const client = fromStore(yield* IdentityStore.make([seeded("b_2", "second"), seeded("a_1", "first")]))
      const page = yield* client.list()
      deepStrictEqual(page.data.map((identity) => identity.id), ["a_1", "b_2"])
      assert.strictEqual((yield* client.retrieve("second")).id, "b_2")
      assert.strictEqual((yield* client.retrieve("a_1")).externalId, "first")
      const conflict = yield* Effect.flip(client.create({ externalId: "first" }))
      assert.strictEqual(conflict._tag, "Conflict")
    }))

  it.effect("ids are identity_ + a ULID of the Clock's time, increasing within one millisecond", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 15, 10, 30))
      const client = fromStore(yield* IdentityStore.make())
      const created = yield* Effect.forEach([0, 1, 2, 3], (i) => client.create({ externalId: `user_${i}` }))
      const ids = created.map((identity) => identity.id)
      for (const id of ids) assert.match(id, /^identity_[0-9A-HJKMNP-TV-Z]{26}$/)
      // the first 10 ULID characters encode the time
      assert.strictEqual(new Set(ids.map((id) => id.slice(9, 19))).size, 1)
      deepStrictEqual([...ids].sort(), ids)
      assert.strictEqual(new Set(ids).size, ids.length)
      // the creation order is the list order
      deepStrictEqual((yield* client.list()).data.map((identity) => identity.id), ids)
      yield* TestClock.adjust("1 millis")
      const later = yield* client.create({ externalId: "user_later" })
      assert.isTrue(later.id > ids[ids.length - 1])
    }))

  it.effect("onChange sees the whole state after each change, and nothing for a refused or failed call", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<ReadonlyArray<string>>>([])
      const store = yield* IdentityStore.make([], {
        onChange: (identities) =>
          Ref.update(seen, (states) => [...states, identities.map((identity) => identity.externalId)])
      })
      const client = fromStore(store)
      yield* client.create({ externalId: "a" })
      yield* client.create({ externalId: "b" })
      yield* client.update("a", { displayName: "A" })
      yield* client.delete("b")
      const before = (yield* Ref.get(seen)).length
      const failures = yield* Effect.all([
        Effect.either(client.create({ externalId: "a" })), // Conflict
        Effect.either(client.update("nobody", { displayName: "x" })), // NotFound
        Effect.either(client.delete("nobody")), // NotFound
        Effect.either(client.update("a", { email: "not-an-email" })), // refused
        Effect.either(client.retrieve("a")), // a read
        Effect.either(client.list())
      ])
      deepStrictEqual(failures.map((result) => result._tag === "Left"), [true, true, true, true, false, false])
      deepStrictEqual(yield* Ref.get(seen), [["a"], ["a", "b"], ["a", "b"], ["a"]])
      assert.strictEqual(before, 4)
      deepStrictEqual((yield* store.all).map((identity) => identity.externalId), ["a"])
    }))

  it.effect("a change is answered only after onChange has run", () =>
    Effect.gen(function*() {
      const persisted = yield* Ref.make(0)
      const store = yield* IdentityStore.make([], {
        onChange: (identities) => Ref.set(persisted, identities.length)
      })
      yield* store.create({ externalId: "one" })
      assert.strictEqual(yield* Ref.get(persisted), 1)
      yield* store.create({ externalId: "two" })
      assert.strictEqual(yield* Ref.get(persisted), 2)
    }))
  it.effect("shares nothing with the caller: mutating an input or an answer changes no later answer", () =>
    Effect.gen(function*() {
      const initial = seeded("a_1", "first")
      const store = yield* IdentityStore.make([initial])
      const client = fromStore(store)
      const tags = ["a"]
      const metadata = { plan: { tier: "pro" } }
      const created = yield* client.create({ externalId: "ann", tags, metadata })
      const stored = () => Effect.map(client.retrieve("ann"), (identity) => [identity.tags, identity.metadata])
      const expected = [["a"], { plan: { tier: "pro" } }]
      // the input, after create
      tags.push("b")
      metadata.plan.tier = "free"
      deepStrictEqual(yield* stored(), expected)
      // every kind of answer
      const answers = [
        created,
        yield* client.retrieve("ann"),
        yield* client.retrieve("ann", { includeMetrics: true }),
        ...(yield* client.list()).data,
        ...(yield* client.list({ includeMetrics: true })).data,
        ...(yield* store.all)
      ]
      for (const answer of answers) {
        Object.assign(answer.tags, ["mutated"])
        Object.assign(answer.metadata, { plan: "mutated", added: true })
      }
      deepStrictEqual(yield* stored(), expected)
      // a patch, after update, and the update's answer
      const patch = { tags: ["c"], metadata: { plan: { tier: "team" } } }
      const updated = yield* client.update("ann", patch)
      patch.tags.push("d")
      patch.metadata.plan.tier = "free"
      Object.assign(updated.metadata, { added: true })
      deepStrictEqual(yield* stored(), [["c"], { plan: { tier: "team" } }])
      // the initial identities, after make
      Object.assign(initial.tags, ["mutated"])
      Object.assign(initial.metadata, { added: true })
      const first = yield* client.retrieve("first")
      deepStrictEqual([first.tags, first.metadata], [["seeded"], {}])
    }))
})

describe("layerMemory", () => {
  it.effect("each build is a fresh store holding the initial identities", () =>
    Effect.gen(function*() {
      const count = Effect.map(IdentityClient, (client) => client.list()).pipe(
        Effect.flatten,
        Effect.map((page) => page.data.length)
      )
      const layer = layerMemory([seeded("a_1", "first")])
      const grown = yield* Effect.gen(function*() {
        const client = yield* IdentityClient
        yield* client.create({ externalId: "second" })
        return yield* count
      }).pipe(Effect.provide(layer))
      assert.strictEqual(grown, 2)
      assert.strictEqual(yield* Effect.provide(count, layer), 1)
    }))
})
