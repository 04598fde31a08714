/**
 * Bulk upsert: sync a `Stream` of identities into orq with bounded concurrency and a client-side rate that
 * adapts to the server's 429s.
 *
 * Each input is created; when its `external_id` is taken (`Conflict`), the identity is fetched by `external_id`
 * and updated by its `_id` with the same fields: three calls. The API resolves a path's `{id}` as `_id` first, so
 * an `external_id` that is also another identity's `_id` fetches that other identity; such an item fails with a
 * `Conflict` instead of updating the wrong one.
 *
 * Calls go through an {@link AdaptiveLimiter}: it paces them at a rate that grows while calls succeed (doubling
 * per second until the first 429, then a few permits per second more each second) and shrinks on each 429,
 * pausing every caller for the `Retry-After` the server asked for, up to `maxWait` (60 s by default). A
 * rate-limited call is retried through the limiter, unless its `Retry-After` is longer than `maxWait`; a call that
 * failed in passing (408, 500, 502, 503, 504, a timeout, a broken connection) is retried after a backoff. Any other error, or one
 * still there after the retries, ends the item as `Failed` and the sync goes on.
 *
 * Give this module a client that does not retry itself (`ORQ_MAX_RETRIES=0`): otherwise the limiter never hears of
 * the 429s, and the retries multiply.
 *
 * @since 0.1.0
 */
import type { CreateIdentity, Identity, UpdateIdentity } from "@orq-effect/domain/Identity"
import { Conflict, type IdentityError, type RateLimited } from "@orq-effect/domain/IdentityError"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { NOT_APPLIED_STATUSES, TRANSIENT_STATUSES } from "./ErrorResponse.js"
import { checkCreate, IdentityClient } from "./IdentityClient.js"

// ---------------------------------------------------------------------------------------------------------------------
// the adaptive limiter
// ---------------------------------------------------------------------------------------------------------------------

/** The knobs of the {@link AdaptiveLimiter}; rates are calls per second. */
export interface LimiterOptions {
  /** The starting rate. Defaults to 25: a modest start that still reaches 100/s within two seconds. */
  readonly initialRate?: number | undefined
  /** The rate never goes below this. Defaults to 1. */
  readonly minRate?: number | undefined
  /** The rate never goes above this. Defaults to 1000. */
  readonly maxRate?: number | undefined
  /**
   * After the first 429, what each successful call adds to the rate: the rate grows by this fraction of itself
   * per second. Defaults to 0.05. (Before the first 429 each success adds 1: the rate doubles about every second.)
   */
  readonly increase?: number | undefined
  /**
   * The factor applied to the rate on a 429. Defaults to 0.9. The first 429 halves the rate, but no cut goes
   * below this factor times the rate at which slots were actually taken in the last second.
   */
  readonly decrease?: number | undefined
  /**
   * The longest `Retry-After` that pauses every caller. Defaults to 60 seconds (a negative or `NaN` one is zero, as
   * `Duration` reads it). A 429 asking for longer still cuts the rate but pauses one slot only, and a sync ends its
   * item as `Failed` with that `RateLimited`.
   */
  readonly maxWait?: Duration.DurationInput | undefined
}

/** A granted call slot: which rate epoch it was granted in. */
export interface Permit {
  readonly epoch: number
}

/** A client-side rate limit with additive increase and multiplicative decrease (AIMD). */
export interface AdaptiveLimiter {
  /** Waits for the next call slot (paced at the current rate, after any pause). */
  readonly take: Effect.Effect<Permit>
  /**
   * A call was answered without complaint about the rate: probe the rate up, unless it is already twice the rate
   * at which slots were taken in the last second. When the callers, not the limiter, set the pace (too few of
   * them, or slow answers), a success says nothing about a higher rate, and growing anyway would only set up a
   * volley of 429s for the moment the callers speed up.
   */
  readonly succeeded: Effect.Effect<void>
  /**
   * A call made with `permit` was answered 429: pause every caller for `retryAfter` (one slot when absent or
   * longer than {@link maxWait}) and, once per epoch, cut the rate, so that a volley of 429s from calls already in
   * flight cuts it only once.
   */
  readonly rateLimited: (permit: Permit, retryAfter: Option.Option<Duration.Duration>) => Effect.Effect<void>
  /**
   * Runs `call` in a slot and reports its outcome: `RateLimited` to {@link rateLimited}, any other answer to
   * {@link succeeded}; a `ServerError` or `TransportError` reports nothing. Errors pass through unchanged.
   */
  readonly limit: <A, E extends { readonly _tag: string }, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** The current rate, calls per second. */
  readonly rate: Effect.Effect<number>
  /** How many 429s were reported so far. */
  readonly rateLimitedCount: Effect.Effect<number>
  /** The longest `Retry-After` that pauses every caller (see {@link LimiterOptions.maxWait}). */
  readonly maxWait: Duration.Duration
}

interface LimiterState {
  readonly rate: number
  /** Multiplicative growth until the first 429, as TCP's slow start. */
  readonly slowStart: boolean
  /** When the next slot is free, epoch millis. */
  readonly nextAt: number
  /** No slot is granted before this, epoch millis. */
  readonly pausedUntil: number
  readonly epoch: number
  readonly rateLimited: number
  /** Slots taken since `windowStart`; `taken` is their rate over the last whole window (per second). */
  readonly windowStart: number
  readonly windowCount: number
  readonly taken: number
}

const positive = (value: number | undefined, fallback: number) =>
  value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback

/** A fresh limiter. Time is read from `Clock`, so `TestClock` drives it in tests. */
export const makeLimiter = (options: LimiterOptions = {}): Effect.Effect<AdaptiveLimiter> =>
  Effect.gen(function*() {
    const minRate = positive(options.minRate, 1)
    const maxRate = Math.max(minRate, positive(options.maxRate, 1000))
    const clamp = (rate: number) => Math.min(maxRate, Math.max(minRate, rate))
    const increase = positive(options.increase, 0.05)
    const decrease = Math.min(positive(options.decrease, 0.9), 1)
    const maxWait = Duration.decode(options.maxWait ?? Duration.seconds(60))
    const state = yield* Ref.make<LimiterState>({
      rate: clamp(positive(options.initialRate, 25)),
      slowStart: true,
      nextAt: 0,
      pausedUntil: 0,
      epoch: 0,
      rateLimited: 0,
      windowStart: yield* Clock.currentTimeMillis,
      windowCount: 0,
      taken: Number.POSITIVE_INFINITY
    })

    /** Reserves the next slot; returns how long to wait for it. */
    const reserve = (now: number) =>
      Ref.modify(state, (s): [readonly [number, number], LimiterState] => {
        const slot = Math.max(now, s.nextAt, s.pausedUntil)
        const elapsed = now - s.windowStart
        const window = elapsed >= 1000
          ? { windowStart: now, windowCount: 1, taken: (s.windowCount * 1000) / elapsed }
          : { windowCount: s.windowCount + 1 }
        return [[slot - now, s.epoch], { ...s, ...window, nextAt: slot + 1000 / s.rate }]
      })

    // a pause imposed while we waited for our slot sends us to the back of the queue; bounded by the 429s seen
    const take: Effect.Effect<Permit> = Effect.gen(function*() {
      const [wait, epoch] = yield* reserve(yield* Clock.currentTimeMillis)
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
      const now = yield* Clock.currentTimeMillis
      const s = yield* Ref.get(state)
      return s.pausedUntil > now ? yield* take : { epoch }
    })

    const succeeded = Ref.update(state, (s) =>
      s.rate < 2 * s.taken ? { ...s, rate: clamp(s.rate + (s.slowStart ? 1 : increase)) } : s)

    const rateLimited = (permit: Permit, retryAfter: Option.Option<Duration.Duration>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(state, (s) => {
          const cut = permit.epoch === s.epoch
          // the cut goes no lower than `decrease` times what was actually taken in the last second: a rate far
          // above what callers achieved (possible just before the first 429) would otherwise be cut far too deep
          const factor = s.slowStart ? Math.min(decrease, 0.5) : decrease
          const floor = Number.isFinite(s.taken) ? Math.min(s.rate, s.taken) * decrease : 0
          const rate = cut ? clamp(Math.max(s.rate * factor, floor)) : s.rate
          const wait = Option.match(Option.filter(retryAfter, Duration.lessThanOrEqualTo(maxWait)), {
            onNone: () =>
              1000 / rate,
            onSome: Duration.toMillis
          })
          const pausedUntil = Math.max(s.pausedUntil, now + wait)
          return {
            ...s,
            rate,
            slowStart: s.slowStart && !cut,
            nextAt: Math.max(s.nextAt, pausedUntil),
            pausedUntil,
            epoch: cut ? s.epoch + 1 : s.epoch,
            rateLimited: s.rateLimited + 1
          }
        }))

    const limit = <A, E extends { readonly _tag: string }, R>(call: Effect.Effect<A, E, R>) =>
      Effect.flatMap(take, (permit) =>
        call.pipe(
          Effect.tapBoth({
            onSuccess: () => succeeded,
            onFailure: (error) =>
              isRateLimited(error)
                ? rateLimited(permit, Option.fromNullable(error.retryAfter))
                : error._tag === "ServerError" || error._tag === "TransportError"
                ? Effect.void
                : succeeded
          })
        ))

    return {
      take,
      succeeded,
      rateLimited,
      limit,
      rate: Effect.map(Ref.get(state), (s) => s.rate),
      rateLimitedCount: Effect.map(Ref.get(state), (s) => s.rateLimited),
      maxWait
    }
  })

const isRateLimited = (error: { readonly _tag: string }): error is RateLimited => error._tag === "RateLimited"

/** A failure in passing: the same call may well succeed a moment later (a 429 is the limiter's, not this). */
const isTransient = (error: IdentityError): boolean =>
  error._tag === "TransportError" || (error._tag === "ServerError" && TRANSIENT_STATUSES.has(error.status))

/** A failure in passing after which a create may have taken effect all the same: no answer, or a 408, 5xx but 503. */
const isAmbiguous = (error: IdentityError): boolean =>
  isTransient(error) && !(error._tag === "ServerError" && NOT_APPLIED_STATUSES.has(error.status))

/** The wait before each retry of a transient failure. */
const transientBackoff = Schedule.exponential(Duration.millis(250)).pipe(Schedule.jittered)

/** A 429 worth waiting for: one whose `Retry-After`, if any, is within `maxWait`. */
const isRetryable = (maxWait: Duration.Duration) => (error: { readonly _tag: string }): boolean =>
  isRateLimited(error) && (error.retryAfter === undefined || Duration.lessThanOrEqualTo(error.retryAfter, maxWait))

// ---------------------------------------------------------------------------------------------------------------------
// upsert
// ---------------------------------------------------------------------------------------------------------------------

/**
 * What became of one input. `rateLimited` counts the 429s its calls met on the way; `requests` its calls;
 * `externalId` is the input's (`""` when reading it threw).
 */
export type Outcome = Data.TaggedEnum<{
  Created: {
    readonly externalId: string
    readonly identity: Identity
    readonly requests: number
    readonly rateLimited: number
  }
  Updated: {
    readonly externalId: string
    readonly identity: Identity
    readonly requests: number
    readonly rateLimited: number
  }
  Failed: {
    readonly externalId: string
    readonly error: IdentityError
    readonly requests: number
    readonly rateLimited: number
  }
}>

/** Constructors and matchers of {@link Outcome}. */
export const Outcome = Data.taggedEnum<Outcome>()

/** The totals of a sync. */
export interface Summary {
  readonly created: number
  readonly updated: number
  readonly failed: number
  /** 429 answers met, all retried or counted in `failed`. */
  readonly rateLimited: number
  /** Calls made (creates, updates and retries). */
  readonly requests: number
}

/** The knobs of a sync. */
export interface Options extends LimiterOptions {
  /**
   * Inputs in progress at most. Defaults to 8 (also for `NaN`); a fraction is rounded down, and anything below 1
   * is 1. `Infinity` or `"unbounded"` takes in every input at once, each waiting for a slot of the limiter: memory
   * grows with the stream.
   */
  readonly concurrency?: number | "unbounded" | undefined
  /**
   * Retries of one call answered 429, through the limiter, before the item fails. Defaults to 10. A 429 whose
   * `Retry-After` is longer than the limiter's `maxWait` is not retried.
   */
  readonly maxRateLimitedRetries?: number | undefined
  /**
   * Retries of one call that failed in passing (a 408, 500, 502, 503 or 504 answer, a timeout, a broken connection) before the item
   * fails, each after an exponential, jittered backoff from 250 ms. Defaults to 2. These calls are safe to repeat: a
   * create that took effect the first time is answered 409, the identity is updated with the same fields, and the
   * outcome is `Created` (a 409 after a create that got no answer, a 408, 500, 502 or 504, is taken to be that
   * create's).
   */
  readonly maxTransientRetries?: number | undefined
  /** A limiter to share between syncs (its own options apply, `maxWait` too); a fresh one from these otherwise. */
  readonly limiter?: AdaptiveLimiter | undefined
}

/** The patch that gives an existing identity the fields of `input`: every field of `input` but its external id. */
export const toUpdate = ({ externalId: _, ...fields }: CreateIdentity): UpdateIdentity => fields

/** A count of retries as given: a fraction rounded down, below zero (or `NaN`) zero, absent `fallback`. */
const retriesOf = (given: number | undefined, fallback: number): number =>
  given === undefined ? fallback : Number.isNaN(given) ? 0 : Math.max(0, Math.floor(given))

/** The input's external id, read once; `""` when reading it throws (the check then refuses the input). */
const externalIdOf = (input: CreateIdentity): string => Either.getOrElse(Either.try(() => input.externalId), () => "")

/**
 * Upserts one input through `limiter`: create, or on `Conflict` fetch by `external_id` and update by `_id`. Never
 * fails: an error ends as a `Failed` outcome. Input the API would refuse fails at once, without a request or a slot.
 */
export const upsertOne = (
  limiter: AdaptiveLimiter,
  input: CreateIdentity,
  options: Pick<Options, "maxRateLimitedRetries" | "maxTransientRetries"> = {}
): Effect.Effect<Outcome, never, IdentityClient> =>
  Effect.gen(function*() {
    const client = yield* IdentityClient
    const counts = yield* Ref.make({ requests: 0, rateLimited: 0 })
    const retries = retriesOf(options.maxRateLimitedRetries, 10)
    const transientRetries = retriesOf(options.maxTransientRetries, 2)
    const call = <A>(effect: Effect.Effect<A, IdentityError>) =>
      Ref.update(counts, (c) => ({ ...c, requests: c.requests + 1 })).pipe(
        Effect.zipRight(limiter.limit(effect)),
        Effect.tapError((error) =>
          isRateLimited(error) ? Ref.update(counts, (c) => ({ ...c, rateLimited: c.rateLimited + 1 })) : Effect.void
        ),
        // the limiter's own pause is the wait between attempts
        Effect.retry({ times: retries, while: isRetryable(limiter.maxWait) }),
        Effect.retry({ schedule: transientBackoff, times: transientRetries, while: isTransient })
      )
    const externalId = externalIdOf(input)
    /** An outcome with the requests and 429s counted so far. */
    const counted = <A>(f: (counts: { readonly requests: number; readonly rateLimited: number }) => A) =>
      Effect.map(Ref.get(counts), f)
    // a create that failed without a clear answer may have taken effect all the same: its retry is answered 409
    const mayHaveCreated = yield* Ref.make(false)
    const create = Effect.tapError(
      client.create(input),
      (error) => isAmbiguous(error) ? Ref.set(mayHaveCreated, true) : Effect.void
    )
    // bad input is refused here, before it takes a slot
    return yield* checkCreate(input).pipe(
      Effect.zipRight(call(create)),
      Effect.flatMap((identity) => counted((c) => Outcome.Created({ externalId, identity, ...c }))),
      Effect.catchTag("Conflict", () =>
        call(client.retrieve(externalId)).pipe(
          // `{id}` is resolved as `_id` first: the identity found may not be the one that holds this external id
          Effect.filterOrFail(
            (found) => found.externalId === externalId,
            (found) =>
              new Conflict({
                externalId,
                message: `external_id ${externalId} is taken, but it is also the _id of another identity ` +
                  `(external_id ${found.externalId}): the API cannot address the identity that holds it`
              })
          ),
          // written again all the same: the fields are the input's whoever created it
          Effect.flatMap((found) => call(client.update(found.id, toUpdate(input)))),
          Effect.flatMap((identity) =>
            Effect.flatMap(Ref.get(mayHaveCreated), (created) =>
              counted((c) =>
                created
                  ? Outcome.Created({ externalId, identity, ...c })
                  : Outcome.Updated({ externalId, identity, ...c })
              ))
          )
        )),
      Effect.catchAll((error) => counted((c) => Outcome.Failed({ externalId, error, ...c })))
    )
  })

/**
 * The `concurrency` option as `Stream.mapEffect` takes it. (`Infinity` there, with `unordered`, makes it emit
 * nothing for inputs that do not finish at once: so it becomes `"unbounded"`.)
 */
const concurrencyOf = (concurrency: Options["concurrency"]): number | "unbounded" =>
  concurrency === "unbounded" || concurrency === Number.POSITIVE_INFINITY
    ? "unbounded"
    : concurrency === undefined || Number.isNaN(concurrency)
    ? 8
    : Math.max(1, Math.floor(concurrency))

/**
 * Upserts every input, `concurrency` at a time under one adaptive limiter; emits each outcome as it is known
 * (not in input order). Fails only when `inputs` does.
 */
export const upsertStream = <E, R>(
  inputs: Stream.Stream<CreateIdentity, E, R>,
  options: Options = {}
): Stream.Stream<Outcome, E, R | IdentityClient> =>
  Stream.unwrap(
    Effect.map(
      options.limiter === undefined ? makeLimiter(options) : Effect.succeed(options.limiter),
      (limiter) =>
        Stream.mapEffect(inputs, (input) => upsertOne(limiter, input, options), {
          concurrency: concurrencyOf(options.concurrency),
          unordered: true
        })
    )
  )

const emptySummary: Summary = { created: 0, updated: 0, failed: 0, rateLimited: 0, requests: 0 }

/** Adds one outcome to a summary. */
export const summarize = (summary: Summary, outcome: Outcome): Summary => ({
  created: summary.created + (outcome._tag === "Created" ? 1 : 0),
  updated: summary.updated + (outcome._tag === "Updated" ? 1 : 0),
  failed: summary.failed + (outcome._tag === "Failed" ? 1 : 0),
  rateLimited: summary.rateLimited + outcome.rateLimited,
  requests: summary.requests + outcome.requests
})

/** Upserts every input (see {@link upsertStream}) and returns the totals. */
export const upsert = <E, R>(
  inputs: Stream.Stream<CreateIdentity, E, R>,
  options: Options = {}
): Effect.Effect<Summary, E, R | IdentityClient> =>
  Stream.runFold(upsertStream(inputs, options), emptySummary, summarize)
