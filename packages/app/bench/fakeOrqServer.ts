/**
 * FakeOrq in a child process for the stream and bulk sections, so that the server's memory and CPU are not the
 * client's: seeds the store with `seed` identities (`<prefix>_<n>`), optionally behind a FakeOrqRateLimit, and
 * sends its URL over IPC; answers `"stats"` with the rate limiter's counters. Prints nothing.
 */
import { IdentityStore } from "@orq-effect/client"
import { Identity } from "@orq-effect/domain/Identity"
import { DateTime, Effect, Exit, Option, Scope } from "effect"
import * as FakeOrq from "../src/FakeOrq.js"
import * as FakeOrqRateLimit from "../src/FakeOrqRateLimit.js"

/** What the parent asks for, as JSON in argv[2]. */
export interface ServerOptions {
  readonly seed: number
  readonly prefix?: string
  readonly rateLimit?: FakeOrqRateLimit.RateLimitOptions
}

/** What the server sends back. */
export type ServerMessage =
  | { readonly _tag: "Ready"; readonly url: string }
  | { readonly _tag: "Stats"; readonly stats: FakeOrqRateLimit.Stats }

const options: ServerOptions = JSON.parse(process.argv[2] ?? "{}")

const seedIdentities = (count: number, prefix: string) => {
  const at = Option.some(DateTime.unsafeMake(Date.UTC(2026, 0, 1)))
  return Array.from({ length: count }, (_, i) =>
    new Identity({
      id: `identity_${String(i).padStart(26, "0")}`,
      externalId: `${prefix}_${i}`,
      displayName: Option.some(`User ${i}`),
      email: Option.some(`user${i}@example.com`),
      avatarUrl: Option.none(),
      tags: ["seed"],
      metadata: { n: i },
      created: at,
      updated: at,
      workspaceId: Option.none(),
      metrics: Option.none()
    }))
}

const main = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const store = yield* IdentityStore.make(seedIdentities(options.seed, options.prefix ?? "seed"))
  const limited = options.rateLimit
  if (limited === undefined) {
    const url = yield* Scope.extend(FakeOrq.start({ store }), scope)
    return { url, stats: Effect.succeed<FakeOrqRateLimit.Stats>({ allowed: 0, limited: 0 }), scope }
  }
  const { stats, url } = yield* Scope.extend(FakeOrqRateLimit.start({ store, rateLimit: limited }), scope)
  return { url, stats, scope }
})

const send = (message: ServerMessage) => process.send?.(message)

if (process.send !== undefined) {
  const { scope, stats, url } = await Effect.runPromise(main)
  process.on("message", (message) => {
    if (message === "stats") void Effect.runPromise(stats).then((stats) => send({ _tag: "Stats", stats }))
  })
  process.on("disconnect", () => void Effect.runPromise(Scope.close(scope, Exit.void)).then(() => process.exit(0)))
  send({ _tag: "Ready", url })
}
