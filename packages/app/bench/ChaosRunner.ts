/**
 * The fault-injection run shared by `Chaos.test.ts` and `pnpm chaos`: many mixed operations at a fixed
 * concurrency through the live client (undici + RetryPolicy; the lean transport or the platform's) against FakeOrqChaos on loopback, each checked
 * against a model of what the server may hold.
 *
 * The model: operations on one `external_id` run one at a time (a semaphore per key), so each key has a
 * sequential history; for each key it keeps the set of states the server may be in (absent, or present with
 * given fields). A success or a `NotFound` makes the state certain; a failure that may or may not have taken
 * effect widens the set. Every certain answer must agree with the set before it, and at the end the store's
 * state of every key must be in its set.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type { ServeError } from "@effect/platform/HttpServerError"
import { IdentityStore } from "@orq-effect/client"
import * as IdentityClient from "@orq-effect/client/IdentityClient"
import type { CreateIdentity, Identity, IdentityPage, UpdateIdentity } from "@orq-effect/domain/Identity"
import { type IdentityError, IdentityErrorTags, isIdentityError } from "@orq-effect/domain/IdentityError"
import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Exit,
  FiberRef,
  Layer,
  Option,
  Random,
  Redacted,
  Ref,
  type Scope
} from "effect"
import * as FakeOrqChaos from "../src/FakeOrqChaos.js"
import type * as RetryPolicy from "../src/RetryPolicy.js"
import * as RetryPolicyLive from "../src/RetryPolicy.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"

/** What to run. */
export interface Options {
  readonly operations: number
  readonly concurrency: number
  /** How many distinct `external_id`s the operations share. */
  readonly keys: number
  /** Seeds the operations and the faults. */
  readonly seed: string
  readonly chaos: Omit<FakeOrqChaos.ChaosOptions, "seed">
  readonly policy: RetryPolicy.Options
  /**
   * The transport under the policy: `"lean"`, `IdentitiesLive`'s (the lean `UndiciHttpClient`, which enforces
   * the attempt timeouts itself), or `"platform"` (`NodeHttpClient.layerUndici`: Effect's timeouts).
   */
  readonly transport: "lean" | "platform"
}

/** Defaults sized for CI: about 20% of requests faulted, timeouts well above a loopback round trip. */
export const defaults = (operations: number): Options => ({
  operations,
  concurrency: 16,
  keys: Math.max(16, Math.round(operations / 16)),
  seed: "chaos",
  chaos: { rates: FakeOrqChaos.uniform(0.016), slowBy: Duration.millis(2500), retryAfter: Duration.millis(20) },
  policy: {
    maxRetries: 2,
    timeout: Duration.seconds(2),
    deadline: Duration.seconds(8),
    baseDelay: Duration.millis(10),
    maxDelay: Duration.millis(100)
  },
  transport: "lean"
})

/** The kinds of operation. */
export type Kind = "create" | "retrieve" | "update" | "delete" | "list"

const KINDS: ReadonlyArray<Kind> = ["create", "retrieve", "update", "delete", "list"]

/** The tags of `IdentityError`. */
export const ERROR_TAGS = IdentityErrorTags

/** How each call ended: `"ok"`, an error tag, or `"defect"`. */
export type Outcome = "ok" | IdentityError["_tag"] | "defect"

/** What a run observed. */
export interface Report {
  readonly operations: number
  readonly concurrency: number
  /** Per kind of operation, how many calls ended in each outcome. */
  readonly outcomes: Readonly<Record<Kind, Readonly<Partial<Record<Outcome, number>>>>>
  /** HTTP attempts sent, lookups after a 409 included. */
  readonly attempts: number
  /** `attempts` beyond one per call. */
  readonly retries: number
  /** Lookups by `external_id` after a create answered 409 following an ambiguous attempt. */
  readonly lookups: number
  /** What the server injected. */
  readonly faults: FakeOrqChaos.Tally
  /** Defects, interruptions and unhandled rejections, described. */
  readonly defects: ReadonlyArray<string>
  /** Answers that contradict the model, or a final state outside it. */
  readonly violations: ReadonlyArray<string>
  /** Calls that ended after the deadline (plus a grace for scheduling). */
  readonly late: number
  readonly slowestCallMillis: number
  readonly elapsedMillis: number
  /** Keys whose final state was certain from the answers alone, of all keys. */
  readonly certainKeys: number
  readonly keys: number
}

// ---------------------------------------------------------------------------------------------------------------------
// the model
// ---------------------------------------------------------------------------------------------------------------------

interface Fields {
  readonly displayName: string | null
  readonly tags: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, unknown>>
}

/** A state one key may be in: `undefined` is absent. */
type State = Fields | undefined

const stateKey = (state: State) => state === undefined ? "absent" : JSON.stringify(state)

/** A set of states, by their JSON. */
class Possible {
  constructor(readonly states: ReadonlyMap<string, State>) {}
  static of(...states: ReadonlyArray<State>) {
    return new Possible(new Map(states.map((state) => [stateKey(state), state])))
  }
  has(state: State) {
    return this.states.has(stateKey(state))
  }
  get absentPossible() {
    return this.states.has("absent")
  }
  get present(): ReadonlyArray<Fields> {
    return [...this.states.values()].filter((state): state is Fields => state !== undefined)
  }
  with(...states: ReadonlyArray<State>) {
    return Possible.of(...this.states.values(), ...states)
  }
  describe() {
    return [...this.states.keys()].join(" | ")
  }
}

const fieldsOf = (identity: Identity): Fields => ({
  displayName: Option.getOrNull(identity.displayName),
  tags: identity.tags,
  metadata: identity.metadata
})

const created = (input: CreateIdentity): Fields => ({
  displayName: input.displayName ?? null,
  tags: input.tags ?? [],
  metadata: input.metadata ?? {}
})

const patched = (fields: Fields, patch: UpdateIdentity): Fields => ({
  displayName: patch.displayName === undefined ? fields.displayName : patch.displayName,
  tags: patch.tags === undefined ? fields.tags : patch.tags ?? [],
  metadata: patch.metadata === undefined ? fields.metadata : patch.metadata ?? {}
})

// ---------------------------------------------------------------------------------------------------------------------
// the operations
// ---------------------------------------------------------------------------------------------------------------------

type Operation =
  | { readonly kind: "create"; readonly key: string; readonly input: CreateIdentity }
  | { readonly kind: "retrieve"; readonly key: string }
  | { readonly kind: "update"; readonly key: string; readonly patch: UpdateIdentity }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "list"; readonly key: string }

/** The operations of a run, drawn from `seed`: 30% create, 25% retrieve, 20% update, 15% delete, 10% list. */
const operations = (options: Options): Effect.Effect<ReadonlyArray<Operation>> => {
  const random = Random.make(options.seed)
  return Effect.forEach(Array.from({ length: options.operations }, (_, i) => i), (i) =>
    Effect.gen(function*() {
      const key = `chaos-${yield* random.nextIntBetween(0, options.keys)}`
      const roll = yield* random.nextIntBetween(0, 100)
      const flip = yield* random.nextBoolean
      if (roll < 30) {
        const input = { externalId: key, displayName: `n${i}`, tags: [`t${i % 3}`], metadata: { op: i } }
        return { kind: "create", key, input }
      }
      if (roll < 55) return { kind: "retrieve", key }
      if (roll < 75) {
        const patch: UpdateIdentity = flip
          ? { displayName: `u${i}`, metadata: { op: i, nested: { at: i } } }
          : { displayName: null, tags: [`p${i % 5}`, "x"], metadata: null }
        return { kind: "update", key, patch }
      }
      if (roll < 90) return { kind: "delete", key }
      return { kind: "list", key }
    }))
}

/** What a successful call answered. */
type Answer =
  | { readonly identity: Identity }
  | { readonly page: IdentityPage }
  | { readonly deleted: true }

/** The kind of operation the current fiber runs, to tell a create's lookup from a retrieve. */
const currentKind = FiberRef.unsafeMake<Kind | undefined>(undefined)

/** Late by more than this past the deadline counts as late (scheduling on a busy CI box). */
const LATE_GRACE_MILLIS = 1000

/** Runs the operations against a fresh FakeOrqChaos and checks every answer against the model. */
export const run = (options: Options): Effect.Effect<Report, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKey = Redacted.make("sk-chaos-run")
    const store = yield* IdentityStore.make()
    const server = yield* FakeOrqChaos.start({ store, apiKey, chaos: { ...options.chaos, seed: options.seed } })

    // every attempt reaches the transport below the policy: count them there, and the lookups of creates
    const attempts = yield* Ref.make(0)
    const lookups = yield* Ref.make(0)
    // the lean stack as IdentitiesLive builds it: one limit, enforced by the transport and known to the policy
    const limit = options.transport === "lean" ? RetryPolicyLive.attemptLimit(options.policy) : undefined
    const undici = Context.get(
      yield* Layer.build(limit === undefined ? NodeHttpClient.layerUndici : UndiciHttpClient.layerWith({ limit })),
      HttpClient.HttpClient
    )
    const counted = HttpClient.transform(undici, (send, request) =>
      Effect.gen(function*() {
        yield* Ref.update(attempts, (n) => n + 1)
        if (request.method === "GET" && (yield* FiberRef.get(currentKind)) === "create") {
          yield* Ref.update(lookups, (n) => n + 1)
        }
        return yield* send
      }))
    const client = yield* IdentityClient.make({
      apiKey,
      baseUrl: server.url,
      transformClient: RetryPolicyLive.transformClient({ ...options.policy, transportLimit: limit })
    }).pipe(Effect.provideService(HttpClient.HttpClient, counted))

    // unhandled rejections anywhere in the process during the run are defects too
    const rejections: Array<string> = []
    const onRejection = (reason: unknown) => {
      rejections.push(`unhandled rejection: ${String(reason)}`)
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => process.on("unhandledRejection", onRejection)),
      () => Effect.sync(() => process.off("unhandledRejection", onRejection))
    )

    const ops = yield* operations(options)
    const keys = Array.from({ length: options.keys }, (_, i) => `chaos-${i}`)
    const locks = new Map<string, Effect.Semaphore>()
    for (const key of keys) locks.set(key, yield* Effect.makeSemaphore(1))
    const model = new Map<string, Possible>(keys.map((key) => [key, Possible.of(undefined)]))
    const outcomes: Record<Kind, Partial<Record<Outcome, number>>> = {
      create: {},
      retrieve: {},
      update: {},
      delete: {},
      list: {}
    }
    const defects: Array<string> = []
    const violations: Array<string> = []
    let late = 0
    let slowest = 0
    const deadline = Duration.toMillis(options.policy.deadline)
    const runStarted = yield* Clock.currentTimeMillis

    // the recent answers of each key, to explain a violation
    const history = new Map<string, Array<string>>()
    const check = (condition: boolean, what: () => string, key?: string) => {
      if (!condition) {
        const recent = key === undefined ? [] : (history.get(key) ?? []).slice(-6)
        violations.push([what(), ...recent.map((line) => `    after ${line}`)].join("\n"))
      }
    }

    /** Applies the answer of `op` to the model of its key, checking that the answer was possible. */
    const observe = (op: Operation, exit: Exit.Exit<Answer, IdentityError>) => {
      const before = model.get(op.key) ?? Possible.of(undefined)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      const answer = Exit.isSuccess(exit) ? exit.value : undefined
      const identity = answer !== undefined && "identity" in answer ? answer.identity : undefined
      const at = `${op.kind} ${op.key}`
      const answered = (fields: Fields) => () => `${at}: answered ${stateKey(fields)}, possible ${before.describe()}`
      const set = (after: Possible) => model.set(op.key, after)
      switch (op.kind) {
        case "create": {
          const input = created(op.input)
          if (identity !== undefined) {
            const fields = fieldsOf(identity)
            const fresh = before.absentPossible && stateKey(fields) === stateKey(input)
            check(fresh || before.has(fields), answered(fields), op.key)
            return set(Possible.of(fields))
          }
          if (error?._tag === "Conflict") {
            // no identity twice, and no Conflict for an identity only this call created
            check(before.present.length > 0, () => `${at}: Conflict, yet no earlier call may have created it`, op.key)
            return set(before.present.length > 0 ? Possible.of(...before.present) : Possible.of(input))
          }
          return set(before.absentPossible ? before.with(input) : before)
        }
        case "retrieve": {
          if (identity !== undefined) {
            const fields = fieldsOf(identity)
            check(before.has(fields), answered(fields), op.key)
            return set(Possible.of(fields))
          }
          if (error?._tag === "NotFound") {
            check(before.absentPossible, () => `${at}: NotFound, possible ${before.describe()}`, op.key)
            return set(Possible.of(undefined))
          }
          return
        }
        case "update": {
          const results = before.present.map((fields) => patched(fields, op.patch))
          if (identity !== undefined) {
            const fields = fieldsOf(identity)
            check(
              results.some((result) => stateKey(result) === stateKey(fields)),
              () => `${at}: answered ${stateKey(fields)}, possible before ${before.describe()}`,
              op.key
            )
            return set(Possible.of(fields))
          }
          if (error?._tag === "NotFound") {
            check(before.absentPossible, () => `${at}: NotFound, possible ${before.describe()}`, op.key)
            return set(Possible.of(undefined))
          }
          return set(before.with(...results))
        }
        case "delete": {
          if (Exit.isSuccess(exit)) {
            check(before.present.length > 0, () => `${at}: deleted, possible ${before.describe()}`, op.key)
            return set(Possible.of(undefined))
          }
          // a NotFound may follow an earlier attempt that did delete it: absent either way
          if (error?._tag === "NotFound") return set(Possible.of(undefined))
          return set(before.with(undefined))
        }
        case "list": {
          if (answer !== undefined && "page" in answer) {
            const page = answer.page
            const seen = page.data.map((identity) => identity.externalId)
            check(new Set(seen).size === seen.length, () => `list: an external_id twice in one page`, op.key)
            check(seen.every((id) => model.has(id)), () => `list: an identity outside the run`, op.key)
          }
          return
        }
      }
    }

    const call = (op: Operation): Effect.Effect<Answer, IdentityError> => {
      switch (op.kind) {
        case "create":
          return Effect.map(client.create(op.input), (identity) => ({ identity }))
        case "retrieve":
          return Effect.map(client.retrieve(op.key), (identity) => ({ identity }))
        case "update":
          return Effect.map(client.update(op.key, op.patch), (identity) => ({ identity }))
        case "delete":
          return Effect.as(client.delete(op.key), { deleted: true } as const)
        case "list":
          return Effect.map(client.list({ limit: 50 }), (page) => ({ page }))
      }
    }

    const runOne = (op: Operation) =>
      Effect.gen(function*() {
        const started = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(Effect.locally(call(op), currentKind, op.kind))
        const took = (yield* Clock.currentTimeMillis) - started
        slowest = Math.max(slowest, took)
        if (took > deadline + LATE_GRACE_MILLIS) late++
        // a success, or a single typed failure: anything else (a defect, an interruption) is a defect
        const outcome: Outcome = Exit.isSuccess(exit)
          ? "ok"
          : Cause.isFailType(exit.cause) && isIdentityError(exit.cause.error)
          ? exit.cause.error._tag
          : "defect"
        if (outcome === "defect" && Exit.isFailure(exit)) {
          defects.push(`${op.kind} ${op.key}: ${Cause.pretty(exit.cause)}`)
        }
        outcomes[op.kind][outcome] = (outcomes[op.kind][outcome] ?? 0) + 1
        if (outcome !== "defect") observe(op, exit)
        if (op.kind !== "list") {
          const lines = history.get(op.key) ?? []
          lines.push(`${op.kind} -> ${outcome} (${started - runStarted}..${started - runStarted + took} ms)`)
          history.set(op.key, lines)
        }
      }).pipe((effect) => {
        const lock = op.kind === "list" ? undefined : locks.get(op.key)
        return lock === undefined ? effect : lock.withPermits(1)(effect)
      })

    yield* Effect.forEach(ops, runOne, { concurrency: options.concurrency, discard: true })
    const elapsed = (yield* Clock.currentTimeMillis) - runStarted

    // the final state of every key must be one the answers allow
    const final = yield* store.all
    const externalIds = final.map((identity) => identity.externalId)
    check(new Set(externalIds).size === externalIds.length, () => "the store holds an external_id twice")
    const byKey = new Map(final.map((identity) => [identity.externalId, identity]))
    for (const id of externalIds) check(model.has(id), () => `the store holds ${id}, which no call created`)
    let certainKeys = 0
    for (const key of keys) {
      const possible = model.get(key) ?? Possible.of(undefined)
      if (possible.states.size === 1) certainKeys++
      const identity = byKey.get(key)
      const actual: State = identity === undefined ? undefined : fieldsOf(identity)
      const what = () => `final ${key}: the store holds ${stateKey(actual)}, possible ${possible.describe()}`
      check(possible.has(actual), what, key)
    }

    const sent = yield* Ref.get(attempts)
    return {
      operations: options.operations,
      concurrency: options.concurrency,
      outcomes,
      attempts: sent,
      retries: sent - options.operations,
      lookups: yield* Ref.get(lookups),
      faults: yield* server.tally,
      defects: [...defects, ...rejections],
      violations,
      late,
      slowestCallMillis: slowest,
      elapsedMillis: elapsed,
      certainKeys,
      keys: options.keys
    }
  })

/** The report as a text table. */
export const table = (report: Report): string => {
  const columns: ReadonlyArray<Outcome> = ["ok", ...ERROR_TAGS, "defect"]
  const used = columns.filter((column) => KINDS.some((kind) => (report.outcomes[kind][column] ?? 0) > 0))
  const header = ["operation", ...used, "total"]
  const rows = KINDS.map((kind) => {
    const counts = used.map((column) => report.outcomes[kind][column] ?? 0)
    return [kind, ...counts.map(String), String(counts.reduce((a, b) => a + b, 0))]
  })
  const totals = used.map((column) => KINDS.reduce((sum, kind) => sum + (report.outcomes[kind][column] ?? 0), 0))
  rows.push(["all", ...totals.map(String), String(totals.reduce((a, b) => a + b, 0))])
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  const faults = Object.entries(report.faults.faults).map(([fault, n]) => `${fault} ${n}`).join(", ")
  return [
    line(header),
    ...rows.map(line),
    "",
    `calls ${report.operations} at concurrency ${report.concurrency} ` +
    `in ${(report.elapsedMillis / 1000).toFixed(1)} s; ` +
    `slowest call ${report.slowestCallMillis} ms; late ${report.late}`,
    `attempts ${report.attempts}; retries ${report.retries}; creates resolved after an ambiguous attempt and a 409 ` +
    `${report.lookups}`,
    `server: ${report.faults.requests} requests; faults injected: ${faults}`,
    `model: ${report.certainKeys} of ${report.keys} keys certain at the end; violations ${report.violations.length}; ` +
    `defects ${report.defects.length}`
  ].join("\n")
}
