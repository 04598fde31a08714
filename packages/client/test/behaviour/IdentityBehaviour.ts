/**
 * The behaviour every `IdentityClient` must show, whatever serves it: the in-memory `layerMemory` and the live
 * client over HTTP against FakeOrq run this same suite, so they agree case by case.
 *
 * The layer is built once per suite (one store, one `TestClock`). Each case works on identities of its own
 * (external ids, tags and search words no other case uses), so no case depends on another or on their order.
 */
import { assert, layer } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import {
  type CreateIdentity,
  Identity,
  type IdentityPage,
  type ListIdentities,
  type UpdateIdentity
} from "@orq-effect/domain/Identity"
import type { IdentityError } from "@orq-effect/domain/IdentityError"
import { Chunk, Clock, DateTime, Effect, Either, type Layer, Option, Schema, Stream, TestClock } from "effect"
import { IdentityClient } from "../../src/IdentityClient.js"

const encodeIdentity = Schema.encodeSync(Identity)

/**
 * What a user reads of an identity, in wire form, without what depends on the call that returned it
 * (`workspace_id` comes with create answers only, `metrics` when asked for).
 */
const core = (identity: Identity) => {
  const { metrics: _metrics, workspace_id: _workspace, ...rest } = encodeIdentity(identity)
  return rest
}

const millisOf = (timestamp: Option.Option<DateTime.Utc>): number =>
  Option.match(timestamp, { onNone: () => Number.NaN, onSome: DateTime.toEpochMillis })

/** The error of an effect that must fail. */
const failure = <A>(effect: Effect.Effect<A, IdentityError>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.match(result, {
      onLeft: Effect.succeed,
      onRight: (value) => Effect.dieMessage(`expected a failure, got ${String(value)}`)
    }))

const ids = (identities: ReadonlyArray<Identity>) => identities.map((identity) => identity.id)

const assertNoDuplicates = (values: ReadonlyArray<string>) =>
  assert.strictEqual(new Set(values).size, values.length, `duplicates in ${values.join(", ")}`)

const sorted = (values: Iterable<string>) => [...values].sort()

/**
 * The pages `fetch` gives from `cursor` on, each next cursor taken from the page by `next`, until `has_more` is
 * false (at most `max` pages).
 */
const walk = (
  fetch: (cursor: string | undefined) => Effect.Effect<IdentityPage, IdentityError, IdentityClient>,
  next: (page: IdentityPage) => string | undefined,
  cursor: string | undefined,
  max: number
) =>
  Effect.gen(function*() {
    const pages: Array<IdentityPage> = []
    let at = cursor
    while (pages.length < max) {
      const page = yield* fetch(at)
      pages.push(page)
      at = next(page)
      if (!page.hasMore || at === undefined) break
    }
    return pages
  })

const lastId = (page: IdentityPage) => page.data.at(-1)?.id
const firstId = (page: IdentityPage) => page.data.at(0)?.id

/** Creates `count` identities tagged `tag`, one after the other; returns them in creation order. */
const createTagged = (tag: string, count: number) =>
  Effect.flatMap(IdentityClient, (client) =>
    Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => client.create({ externalId: `${tag}-${i}`, displayName: `Member ${i} of ${tag}`, tags: [tag] })
    ))

/**
 * Registers the suite `name` over `clientLayer`. The layer must give a client over an empty store whose
 * timestamps come from `Clock`, so that `TestClock` drives them.
 */
export const identityBehaviour = <E>(
  name: string,
  clientLayer: Layer.Layer<IdentityClient, E>,
  options: { readonly timeout?: number } = {}
) =>
  layer(clientLayer, { timeout: options.timeout ?? 30_000 })(name, (it) => {
    it.effect("create, then retrieve by _id and by external_id", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const created = yield* client.create({
          externalId: "behaviour-create",
          displayName: "Ada Lovelace",
          email: "ada@example.com",
          avatarUrl: "https://example.com/ada.png",
          tags: ["premium", "beta-user"],
          metadata: { plan: "enterprise", seats: 12, nested: { on: true } }
        })
        assert.strictEqual(created.externalId, "behaviour-create")
        assert.isTrue(created.id.length > 0)
        assert.notStrictEqual(created.id, created.externalId)
        deepStrictEqual(created.displayName, Option.some("Ada Lovelace"))
        deepStrictEqual(created.email, Option.some("ada@example.com"))
        deepStrictEqual(created.avatarUrl, Option.some("https://example.com/ada.png"))
        deepStrictEqual(created.tags, ["premium", "beta-user"])
        deepStrictEqual(created.metadata, { plan: "enterprise", seats: 12, nested: { on: true } })

        const byId = yield* client.retrieve(created.id)
        const byExternalId = yield* client.retrieve("behaviour-create")
        deepStrictEqual(core(byId), core(created))
        deepStrictEqual(core(byExternalId), core(created))
      }))

    it.effect("a create with only external_id leaves the optional fields empty", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const created = yield* client.create({ externalId: "behaviour-minimal" })
        const retrieved = yield* client.retrieve(created.id)
        for (const identity of [created, retrieved]) {
          assert.isTrue(Option.isNone(identity.displayName))
          assert.isTrue(Option.isNone(identity.email))
          assert.isTrue(Option.isNone(identity.avatarUrl))
          deepStrictEqual(identity.tags, [])
          deepStrictEqual(identity.metadata, {})
        }
      }))

    it.effect("ids with '/', space, '?', '#', '%' and non-ASCII round-trip through every operation", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const externalId = "behaviour/odd id?x=1#frag%2F é✓🙂"
        const created = yield* client.create({ externalId, displayName: "Odd" })
        assert.strictEqual(created.externalId, externalId)
        assert.strictEqual((yield* client.retrieve(externalId)).id, created.id)
        const updated = yield* client.update(externalId, { displayName: "Still odd" })
        deepStrictEqual(updated.displayName, Option.some("Still odd"))
        yield* client.delete(externalId)
        const error = yield* failure(client.retrieve(externalId))
        assert.strictEqual(error._tag, "NotFound")
        assert.strictEqual(error._tag === "NotFound" ? error.id : undefined, externalId)
      }))

    it.effect("update sets, keeps or clears each field; tags and metadata are replaced", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const created = yield* client.create({
          externalId: "behaviour-update",
          displayName: "Before",
          email: "before@example.com",
          avatarUrl: "https://example.com/before.png",
          tags: ["a", "b"],
          metadata: { kept: "no", replaced: 1 }
        })

        // set one, clear one, keep one; replace the lists
        const first = yield* client.update(created.id, {
          displayName: "After",
          email: null,
          tags: ["c"],
          metadata: { fresh: true }
        })
        deepStrictEqual(first.displayName, Option.some("After"))
        assert.isTrue(Option.isNone(first.email))
        deepStrictEqual(first.avatarUrl, Option.some("https://example.com/before.png"))
        deepStrictEqual(first.tags, ["c"])
        deepStrictEqual(first.metadata, { fresh: true })
        assert.strictEqual(first.id, created.id)
        assert.strictEqual(first.externalId, created.externalId)
        deepStrictEqual(core(yield* client.retrieve(created.id)), core(first))

        // an empty patch keeps everything
        const kept = yield* client.update("behaviour-update", {})
        deepStrictEqual({ ...core(kept), updated: null }, { ...core(first), updated: null })

        // clear the rest; empty lists replace too
        const second = yield* client.update(created.id, {
          displayName: null,
          avatarUrl: null,
          email: "again@example.com",
          tags: [],
          metadata: {}
        })
        assert.isTrue(Option.isNone(second.displayName))
        assert.isTrue(Option.isNone(second.avatarUrl))
        deepStrictEqual(second.email, Option.some("again@example.com"))
        deepStrictEqual(second.tags, [])
        deepStrictEqual(second.metadata, {})
        deepStrictEqual(core(yield* client.retrieve("behaviour-update")), core(second))
      }))

    it.effect("an undefined field means absent: create leaves it empty, update keeps it, list ignores it", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tags = ["behaviour-undefined"]
        // what code without exactOptionalPropertyTypes writes: `{ email: form.email }`
        const created = yield* client.create({
          externalId: "behaviour-undefined",
          displayName: "Kept",
          email: undefined,
          avatarUrl: "https://example.com/kept.png",
          tags,
          metadata: undefined
        })
        assert.isTrue(Option.isNone(created.email))
        deepStrictEqual(created.metadata, {})

        const updated = yield* client.update(created.id, {
          displayName: undefined,
          email: "set@example.com",
          avatarUrl: undefined,
          tags: undefined,
          metadata: undefined
        })
        deepStrictEqual(updated.displayName, Option.some("Kept"))
        deepStrictEqual(updated.email, Option.some("set@example.com"))
        deepStrictEqual(updated.avatarUrl, Option.some("https://example.com/kept.png"))
        deepStrictEqual(updated.tags, tags)
        // null still clears, next to an undefined that keeps
        const cleared = yield* client.update(created.id, { displayName: null, email: undefined })
        assert.isTrue(Option.isNone(cleared.displayName))
        deepStrictEqual(cleared.email, Option.some("set@example.com"))
        deepStrictEqual(core(yield* client.retrieve(created.id)), core(cleared))

        const page = yield* client.list({
          tags,
          limit: undefined,
          startingAfter: undefined,
          endingBefore: undefined,
          search: undefined,
          includeMetrics: undefined
        })
        deepStrictEqual(ids(page.data), [created.id])
        const streamed = yield* Stream.runCollect(client.stream({ tags, limit: undefined, search: undefined }))
        deepStrictEqual(ids(Chunk.toReadonlyArray(streamed)), [created.id])
      }))

    it.effect("retrieve, update and delete of an unknown id fail with NotFound naming the id", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const id = "behaviour-missing"
        const errors = [
          yield* failure(client.retrieve(id)),
          yield* failure(client.update(id, { displayName: "x" })),
          yield* failure(client.delete(id))
        ]
        for (const error of errors) {
          assert.strictEqual(error._tag, "NotFound")
          assert.strictEqual(error._tag === "NotFound" ? error.id : undefined, id)
        }
        // the failed update created nothing
        assert.strictEqual((yield* failure(client.retrieve(id)))._tag, "NotFound")
      }))

    it.effect("a duplicate external_id fails with Conflict and changes nothing", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tags = ["behaviour-duplicate"]
        const first = yield* client.create({ externalId: "behaviour-duplicate", displayName: "First", tags })
        const error = yield* failure(client.create({ externalId: "behaviour-duplicate", displayName: "Second", tags }))
        assert.strictEqual(error._tag, "Conflict")
        assert.strictEqual(error._tag === "Conflict" ? error.externalId : undefined, "behaviour-duplicate")
        deepStrictEqual(core(yield* client.retrieve("behaviour-duplicate")), core(first))
        deepStrictEqual(ids((yield* client.list({ tags })).data), [first.id])
      }))

    it.effect("list pages through 5 identities 2 at a time, forwards then backwards", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tag = "behaviour-pages"
        const created = yield* createTagged(tag, 5)

        // forwards: starting_after the last item of each page, until has_more is false
        const forward = yield* walk(
          (startingAfter) => client.list({ limit: 2, tags: [tag], ...(startingAfter ? { startingAfter } : {}) }),
          lastId,
          undefined,
          5
        )
        deepStrictEqual(forward.map((page) => page.data.length), [2, 2, 1])
        deepStrictEqual(forward.map((page) => page.hasMore), [true, true, false])
        const forwardIds = forward.flatMap((page) => ids(page.data))
        assertNoDuplicates(forwardIds)
        deepStrictEqual(sorted(forwardIds), sorted(ids(created)))

        // backwards: ending_before the first item of each page, from the last identity to the start
        const last = forwardIds[forwardIds.length - 1]
        const backward = yield* walk(
          (endingBefore) => client.list({ limit: 2, tags: [tag], ...(endingBefore ? { endingBefore } : {}) }),
          firstId,
          last,
          5
        )
        deepStrictEqual(backward.map((page) => page.data.length), [2, 2])
        deepStrictEqual(backward.map((page) => page.hasMore), [true, false])
        const backwardIds = backward.flatMap((page) => ids(page.data))
        assert.notInclude(backwardIds, last)
        assertNoDuplicates([...backwardIds, last])
        deepStrictEqual(sorted([...backwardIds, last]), sorted(ids(created)))
        // a page reads the same whichever way it was reached
        deepStrictEqual(ids(backward[1].data), ids(forward[0].data))
      }))

    it.effect("list without filters never repeats an identity and respects the limit", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const created = yield* createTagged("behaviour-unfiltered", 3)
        // bounded: far more pages than this suite ever creates
        const pages = yield* walk(
          (startingAfter) => client.list({ limit: 3, ...(startingAfter ? { startingAfter } : {}) }),
          lastId,
          undefined,
          200
        )
        assert.isFalse(pages[pages.length - 1].hasMore)
        for (const page of pages) assert.isAtMost(page.data.length, 3)
        const seen = pages.flatMap((page) => ids(page.data))
        assertNoDuplicates(seen)
        for (const identity of created) assert.include(seen, identity.id)
      }))

    it.effect("list gives 10 identities a page when no limit is given", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tag = "behaviour-default-limit"
        yield* createTagged(tag, 11)
        const first = yield* client.list({ tags: [tag] })
        assert.strictEqual(first.data.length, 10)
        assert.isTrue(first.hasMore)
        const rest = yield* client.list({ tags: [tag], startingAfter: first.data[9].id })
        assert.strictEqual(rest.data.length, 1)
        assert.isFalse(rest.hasMore)
      }))

    it.effect("search matches display name or email, case-insensitively", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const byName = yield* client.create({ externalId: "behaviour-search-1", displayName: "Zebrafinch Quill" })
        const byEmail = yield* client.create({
          externalId: "behaviour-search-2",
          displayName: "Someone",
          email: "Hummingbird.Quill@Example.com"
        })
        const searched = (search: string) => Effect.map(client.list({ search, limit: 50 }), (page) => ids(page.data))

        deepStrictEqual(yield* searched("zebraFINCH"), [byName.id])
        deepStrictEqual(yield* searched("HUMMINGBIRD.quill@"), [byEmail.id])
        deepStrictEqual(sorted(yield* searched("quill")), sorted([byName.id, byEmail.id]))
        // the external_id is not searched
        deepStrictEqual(yield* searched("behaviour-search-1"), [])
        deepStrictEqual(yield* searched("no such name anywhere"), [])
      }))

    it.effect("the tag filter keeps identities having any of the tags", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const red = yield* client.create({ externalId: "behaviour-tags-red", tags: ["behaviour-red", "shared"] })
        const blue = yield* client.create({ externalId: "behaviour-tags-blue", tags: ["behaviour-blue"] })
        yield* client.create({ externalId: "behaviour-tags-green", tags: ["behaviour-green"] })
        yield* client.create({ externalId: "behaviour-tags-none" })
        const tagged = (tags: ReadonlyArray<string>) =>
          Effect.map(client.list({ tags, limit: 50 }), (page) => sorted(ids(page.data)))

        deepStrictEqual(yield* tagged(["behaviour-red"]), [red.id])
        deepStrictEqual(yield* tagged(["behaviour-red", "behaviour-blue"]), sorted([red.id, blue.id]))
        deepStrictEqual(yield* tagged(["behaviour-blue", "behaviour-nobody"]), [blue.id])
        deepStrictEqual(yield* tagged(["behaviour-nobody"]), [])
      }))

    it.effect("include_metrics adds usage metrics on retrieve and on every listed identity", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tag = "behaviour-metrics"
        yield* createTagged(tag, 3)
        const plain = yield* client.retrieve(`${tag}-0`)
        assert.isTrue(Option.isNone(plain.metrics))
        const measured = yield* client.retrieve(`${tag}-0`, { includeMetrics: true })
        assert.isTrue(Option.isSome(measured.metrics))
        Option.map(measured.metrics, (metrics) => {
          for (const value of [metrics.totalCost, metrics.totalTokens, metrics.totalRequests, metrics.errorRate]) {
            assert.isTrue(Number.isFinite(value) && value >= 0)
          }
        })
        deepStrictEqual(core(measured), core(plain))

        const page = yield* client.list({ tags: [tag], includeMetrics: true })
        assert.strictEqual(page.data.length, 3)
        assert.isTrue(page.data.every((identity) => Option.isSome(identity.metrics)))
      }))

    it.effect("stream yields every identity exactly once across pages", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tag = "behaviour-stream"
        const created = yield* createTagged(tag, 5)
        for (const limit of [1, 2, 5, 50]) {
          const streamed = yield* Stream.runCollect(client.stream({ tags: [tag], limit }))
          const streamedIds = ids(Chunk.toReadonlyArray(streamed))
          assertNoDuplicates(streamedIds)
          deepStrictEqual(sorted(streamedIds), sorted(ids(created)))
        }
        // without filters: every identity of the store once, ours among them
        const everything = ids(Chunk.toReadonlyArray(yield* Stream.runCollect(client.stream({ limit: 2 }))))
        assertNoDuplicates(everything)
        for (const identity of created) assert.include(everything, identity.id)
        // nothing matches: an empty stream
        assert.strictEqual(Chunk.size(yield* Stream.runCollect(client.stream({ tags: ["behaviour-nobody"] }))), 0)
      }))

    it.effect("a stream started after an id yields exactly the identities after it", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tags = ["behaviour-stream-resume"]
        yield* createTagged(tags[0], 5)
        const all = ids(Chunk.toReadonlyArray(yield* Stream.runCollect(client.stream({ tags }))))
        assert.strictEqual(all.length, 5)
        for (const [at, limit] of [[0, 2], [1, 1], [2, 50], [4, 2]] as const) {
          const resumed = yield* Stream.runCollect(client.stream({ tags, limit, startingAfter: all[at] }))
          deepStrictEqual(ids(Chunk.toReadonlyArray(resumed)), all.slice(at + 1))
        }
      }))

    it.effect("delete removes the identity: retrieve, update and a second delete fail with NotFound", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const tags = ["behaviour-delete"]
        const byId = yield* client.create({ externalId: "behaviour-delete-1", tags })
        const byExternal = yield* client.create({ externalId: "behaviour-delete-2", tags })
        yield* client.delete(byId.id)
        yield* client.delete("behaviour-delete-2")
        for (const [identity, reference] of [[byId, byId.id], [byExternal, "behaviour-delete-2"]] as const) {
          for (const attempt of [client.retrieve(identity.id), client.retrieve(identity.externalId)]) {
            assert.strictEqual((yield* failure(attempt))._tag, "NotFound")
          }
          assert.strictEqual((yield* failure(client.update(reference, { displayName: "x" })))._tag, "NotFound")
          assert.strictEqual((yield* failure(client.delete(reference)))._tag, "NotFound")
        }
        deepStrictEqual((yield* client.list({ tags })).data, [])
        // the external_id is free again
        const again = yield* client.create({ externalId: "behaviour-delete-1" })
        assert.notStrictEqual(again.id, byId.id)
      }))

    it.effect("refused input fails with InvalidRequest naming the field and changes nothing", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const original = yield* client.create({ externalId: "behaviour-refused", email: "kept@example.com" })

        const refusals = [
          { field: "id", error: yield* failure(client.retrieve("   ")) },
          { field: "id", error: yield* failure(client.update("", { displayName: "x" })) },
          { field: "id", error: yield* failure(client.delete(" \t")) },
          { field: "email", error: yield* failure(client.update(original.id, { email: "not-an-email" })) },
          { field: "avatarUrl", error: yield* failure(client.update(original.id, { avatarUrl: "not a url" })) },
          {
            field: "email",
            error: yield* failure(client.create({ externalId: "behaviour-refused-new", email: "nope@" }))
          },
          { field: "externalId", error: yield* failure(client.create({ externalId: "" })) },
          { field: "limit", error: yield* failure(client.list({ limit: 51 })) },
          { field: "limit", error: yield* failure(client.list({ limit: 0 })) }
        ]
        for (const { error, field } of refusals) {
          assert.strictEqual(error._tag, "InvalidRequest", `${field}: ${error.message}`)
          if (error._tag === "InvalidRequest") {
            assert.strictEqual(error.field, field, error.message)
            assert.include(error.message, field)
            // refused by the client: no server status
            assert.isUndefined(error.status)
          }
        }

        // nothing changed
        deepStrictEqual(core(yield* client.retrieve(original.id)), core(original))
        assert.strictEqual((yield* failure(client.retrieve("behaviour-refused-new")))._tag, "NotFound")
      }))

    it.effect("an update with a bad id and a bad patch is one InvalidRequest naming both", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const error = yield* failure(client.update(" ", { email: "nope" }))
        assert.strictEqual(error._tag, "InvalidRequest", error.message)
        if (error._tag === "InvalidRequest") {
          assert.strictEqual(error.field, "id")
          assert.strictEqual(error.message, "id: must not be empty or blank; email: must be a valid email address")
          assert.isUndefined(error.status)
        }
      }))

    it.effect("an unknown key is refused with InvalidRequest naming it, and changes nothing", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const original = yield* client.create({ externalId: "behaviour-unknown-key", displayName: "Kept" })
        // values built outside the compiler's sight (JavaScript, parsed JSON) can carry any key
        const typo: UpdateIdentity & { readonly [key: string]: unknown } = { displayNmae: "Jane" }
        const wireName: UpdateIdentity & { readonly [key: string]: unknown } = { display_name: "Jane" }
        const create: CreateIdentity & { readonly [key: string]: unknown } = {
          externalId: "behaviour-unknown-key-new",
          display_name: "x"
        }
        const list: ListIdentities & { readonly [key: string]: unknown } = { limit: 5, filter: "x" }
        const refusals = [
          { key: "displayNmae", error: yield* failure(client.update(original.id, typo)) },
          { key: "display_name", error: yield* failure(client.update(original.id, wireName)) },
          { key: "display_name", error: yield* failure(client.create(create)) },
          { key: "filter", error: yield* failure(client.list(list)) }
        ]
        for (const { error, key } of refusals) {
          assert.strictEqual(error._tag, "InvalidRequest", error.message)
          if (error._tag === "InvalidRequest") {
            assert.strictEqual(error.field, key, error.message)
            assert.include(error.message, `${key}: is not a known field`)
            assert.isUndefined(error.status)
          }
        }
        deepStrictEqual(core(yield* client.retrieve(original.id)), core(original))
        assert.strictEqual((yield* failure(client.retrieve("behaviour-unknown-key-new")))._tag, "NotFound")
      }))

    it.effect("timestamps come from the Clock: created on create, updated moves on update", () =>
      Effect.gen(function*() {
        const client = yield* IdentityClient
        const createdAt = yield* Clock.currentTimeMillis
        const created = yield* client.create({ externalId: "behaviour-clock" })
        assert.strictEqual(millisOf(created.created), createdAt)
        assert.strictEqual(millisOf(created.updated), createdAt)

        yield* TestClock.adjust("90 minutes")
        const updatedAt = yield* Clock.currentTimeMillis
        assert.strictEqual(updatedAt - createdAt, 90 * 60 * 1000)
        const updated = yield* client.update(created.id, { displayName: "Later" })
        assert.strictEqual(millisOf(updated.created), createdAt)
        assert.strictEqual(millisOf(updated.updated), updatedAt)

        // a read does not touch them
        yield* TestClock.adjust("1 minute")
        const read = yield* client.retrieve(created.id)
        assert.strictEqual(millisOf(read.created), createdAt)
        assert.strictEqual(millisOf(read.updated), updatedAt)
      }))
  })
