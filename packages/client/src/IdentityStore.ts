/**
 * The Identities API's semantics over in-memory state: what `layerMemory` serves to tests and what the local
 * fake orq server serves over HTTP. Inputs are taken as already checked; the store only decides what the API
 * decides: ids, timestamps, lookup by `_id` or `external_id`, 404, 409, partial update, search, tag filter
 * and cursor pagination. As over the wire, nothing is shared with the caller: `tags` and `metadata` are copied
 * on the way in and on the way out, so mutating an input or an answer changes no later answer.
 *
 * @since 0.1.0
 */
import {
  type CreateIdentity,
  Identity,
  IdentityMetrics,
  IdentityPage,
  type ListIdentities,
  type UpdateIdentity
} from "@orq-effect/domain/Identity"
import { Conflict, NotFound } from "@orq-effect/domain/IdentityError"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"

/** The operations of the API on the store's state. */
export interface IdentityStore {
  readonly create: (input: CreateIdentity) => Effect.Effect<Identity, Conflict>
  readonly retrieve: (id: string, options?: { readonly includeMetrics?: boolean | undefined }) => Effect.Effect<
    Identity,
    NotFound
  >
  readonly update: (id: string, patch: UpdateIdentity) => Effect.Effect<Identity, NotFound>
  readonly delete: (id: string) => Effect.Effect<void, NotFound>
  readonly list: (params: ListIdentities) => Effect.Effect<IdentityPage>
  /** Every identity, in `_id` order (copies, as every answer). */
  readonly all: Effect.Effect<ReadonlyArray<Identity>>
}

/** Options of {@link make}. */
export interface StoreOptions {
  /** Called after every change, with the whole state, before the change is answered (e.g. to persist it). */
  readonly onChange?: ((identities: ReadonlyArray<Identity>) => Effect.Effect<void>) | undefined
}

/** The page size when `limit` is not given, as in the API. */
export const DEFAULT_LIMIT = 10

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const encodeTime = (millis: number): string => {
  let out = ""
  for (let i = 0, t = millis; i < 10; i++, t = Math.floor(t / 32)) out = CROCKFORD[t % 32] + out
  return out
}

/** The next ULID after `previous` in the same millisecond: the random part plus one. */
const increment = (ulid: string): string => {
  const chars = ulid.split("")
  for (let i = chars.length - 1; i >= 0; i--) {
    const next = CROCKFORD.indexOf(chars[i]) + 1
    if (next < 32) {
      chars[i] = CROCKFORD[next]
      return chars.join("")
    }
    chars[i] = "0"
  }
  return chars.join("")
}

const PREFIX = "identity_"

const NO_METRICS = new IdentityMetrics({ totalCost: 0, totalTokens: 0, totalRequests: 0, errorRate: 0 })

const matches = (identity: Identity, search: string | undefined, tags: ReadonlyArray<string> | undefined) => {
  if (search !== undefined && search.length > 0) {
    const needle = search.toLowerCase()
    const hit = [identity.displayName, identity.email].some((field) =>
      Option.exists(field, (value) => value.toLowerCase().includes(needle))
    )
    if (!hit) return false
  }
  return tags === undefined || tags.length === 0 || tags.some((tag) => identity.tags.includes(tag))
}

/** A copy of JSON `metadata`, as a fresh answer of the API would carry it. */
const copyMetadata = (metadata: { readonly [key: string]: unknown }): { readonly [key: string]: unknown } =>
  JSON.parse(JSON.stringify(metadata))

/** `identity` with its own `tags` and `metadata`: what the store keeps and what it answers. */
const copy = (identity: Identity): Identity =>
  new Identity({ ...identity, tags: [...identity.tags], metadata: copyMetadata(identity.metadata) })

/** The index of the first identity whose `_id` is above `id` (`strict`) or at least `id`: a binary search. */
const firstAbove = (identities: ReadonlyArray<Identity>, id: string, strict: boolean): number => {
  let low = 0
  let high = identities.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const at = identities[middle].id
    if (at < id || (strict && at === id)) low = middle + 1
    else high = middle
  }
  return low
}

/** A store holding `initial`, ordered by `_id` (identities created here get monotonic ULID ids). */
export const make = (initial: Iterable<Identity> = [], options: StoreOptions = {}): Effect.Effect<IdentityStore> =>
  Effect.gen(function*() {
    const sorted = (identities: Iterable<Identity>) =>
      [...identities].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const state = yield* Ref.make<ReadonlyArray<Identity>>(sorted(Array.from(initial, copy)))
    const lastUlid = yield* Ref.make("")
    const writes = yield* Effect.makeSemaphore(1)
    const onChange = options.onChange ?? (() => Effect.void)

    /** By `_id` (a binary search: the array is in `_id` order), else by `external_id`. */
    const find = (identities: ReadonlyArray<Identity>, id: string) => {
      const byId = identities[firstAbove(identities, id, false)]
      return byId?.id === id ? byId : identities.find((identity) => identity.externalId === id)
    }

    const notFound = (id: string) => new NotFound({ id, message: `identity ${id} not found` })

    const nextId = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      let random = ""
      for (let i = 0; i < 16; i++) random += CROCKFORD[yield* Random.nextIntBetween(0, 32)]
      const candidate = encodeTime(now) + random
      const previous = yield* Ref.get(lastUlid)
      const ulid = candidate > previous ? candidate : increment(previous)
      yield* Ref.set(lastUlid, ulid)
      return PREFIX + ulid
    })

    /** Runs a change under the write lock and hands the new state to `onChange` before answering. */
    const write = <A, E>(
      change: (identities: ReadonlyArray<Identity>) => Effect.Effect<readonly [A, ReadonlyArray<Identity>], E>
    ): Effect.Effect<A, E> =>
      writes.withPermits(1)(
        Effect.gen(function*() {
          const [result, next] = yield* change(yield* Ref.get(state))
          // persist first: a failed save must not leave memory ahead of what was saved
          yield* onChange(next)
          yield* Ref.set(state, next)
          return result
        })
      )

    const create = (input: CreateIdentity) =>
      write((identities) =>
        Effect.gen(function*() {
          if (identities.some((identity) => identity.externalId === input.externalId)) {
            return yield* new Conflict({
              externalId: input.externalId,
              message: `an identity with external_id ${input.externalId} already exists`
            })
          }
          const now = yield* DateTime.now
          const identity = new Identity({
            id: yield* nextId,
            externalId: input.externalId,
            displayName: Option.fromNullable(input.displayName),
            email: Option.fromNullable(input.email),
            avatarUrl: Option.fromNullable(input.avatarUrl),
            tags: [...(input.tags ?? [])],
            metadata: copyMetadata(input.metadata ?? {}),
            created: Option.some(now),
            updated: Option.some(now),
            workspaceId: Option.none(),
            metrics: Option.none()
          })
          // new ids are monotonic, but an initial store may hold ids above them: insert in order
          const at = firstAbove(identities, identity.id, false)
          return [copy(identity), [...identities.slice(0, at), identity, ...identities.slice(at)]] as const
        })
      )

    const retrieve = (id: string, options?: { readonly includeMetrics?: boolean | undefined }) =>
      Effect.flatMap(Ref.get(state), (identities) => {
        const identity = find(identities, id)
        if (identity === undefined) return Effect.fail(notFound(id))
        return Effect.succeed(
          copy(
            options?.includeMetrics === true
              ? new Identity({ ...identity, metrics: Option.some(NO_METRICS) })
              : identity
          )
        )
      })

    const update = (id: string, patch: UpdateIdentity) =>
      write((identities) =>
        Effect.gen(function*() {
          const current = find(identities, id)
          if (current === undefined) return yield* notFound(id)
          const text = (value: string | null | undefined, kept: Option.Option<string>) =>
            value === undefined ? kept : Option.fromNullable(value)
          const updated = new Identity({
            ...current,
            displayName: text(patch.displayName, current.displayName),
            email: text(patch.email, current.email),
            avatarUrl: text(patch.avatarUrl, current.avatarUrl),
            tags: patch.tags === undefined ? current.tags : [...(patch.tags ?? [])],
            metadata: patch.metadata === undefined ? current.metadata : copyMetadata(patch.metadata ?? {}),
            updated: Option.some(yield* DateTime.now)
          })
          return [copy(updated), identities.map((identity) => (identity === current ? updated : identity))] as const
        })
      )

    const delete_ = (id: string) =>
      write((identities) => {
        const current = find(identities, id)
        return current === undefined
          ? Effect.fail(notFound(id))
          : Effect.succeed([undefined, identities.filter((identity) => identity !== current)] as const)
      })

    /**
     * One page, walking from the cursor (found by binary search in the `_id` order) only as far as the page needs:
     * `limit` matches plus one to know whether there are more.
     */
    const list = (params: ListIdentities) =>
      Effect.map(Ref.get(state), (identities) => {
        const limit = params.limit ?? DEFAULT_LIMIT
        const page: Array<Identity> = []
        // before a cursor, the walk goes down from it and the page is turned round at the end
        const backward = params.endingBefore !== undefined
        let i = params.endingBefore !== undefined
          ? firstAbove(identities, params.endingBefore, false) - 1
          : params.startingAfter === undefined
          ? 0
          : firstAbove(identities, params.startingAfter, true)
        let hasMore = false
        for (; i >= 0 && i < identities.length && !hasMore; i += backward ? -1 : 1) {
          if (!matches(identities[i], params.search, params.tags)) continue
          if (page.length === limit) hasMore = true
          else page.push(identities[i])
        }
        if (backward) page.reverse()
        const data = page.map((identity) =>
          copy(
            params.includeMetrics === true ? new Identity({ ...identity, metrics: Option.some(NO_METRICS) }) : identity
          )
        )
        return new IdentityPage({ data, hasMore })
      })

    return { create, retrieve, update, delete: delete_, list, all: Effect.map(Ref.get(state), (all) => all.map(copy)) }
  })
