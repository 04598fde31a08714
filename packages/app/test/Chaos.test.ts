import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Console, Effect } from "effect"
import * as ChaosRunner from "../bench/ChaosRunner.js"
import * as FakeOrqChaos from "../src/FakeOrqChaos.js"

/** What a call may end with against a server that fails but never refuses our key or our input. */
const EXPECTED: ReadonlySet<ChaosRunner.Outcome> = new Set([
  "ok",
  "NotFound",
  "Conflict",
  "RateLimited",
  "ServerError",
  "TransportError",
  "MalformedResponse"
])

describe("Chaos", () => {
  for (const transport of ["lean", "platform"] as const) {
    it.live(
      `2,000 mixed operations at concurrency 16 against FakeOrq with faults (${transport} transport)`,
      () =>
        Effect.gen(function*() {
          const report = yield* ChaosRunner.run({ ...ChaosRunner.defaults(2000), transport }).pipe(Effect.scoped)
          yield* Console.log(ChaosRunner.table(report))

          // every call ended, in success or a typed IdentityError, within the deadline
          const ended = Object.values(report.outcomes).flatMap((counts) => Object.values(counts))
          assert.strictEqual(ended.reduce((sum, n) => sum + (n ?? 0), 0), 2000)
          deepStrictEqual(report.defects, [])
          for (const counts of Object.values(report.outcomes)) {
            for (const outcome of Object.keys(counts)) {
              assert.isTrue(EXPECTED.has(outcome as ChaosRunner.Outcome), `unexpected outcome ${outcome}`)
            }
          }
          assert.strictEqual(report.late, 0)

          // no identity twice, no Conflict for an identity only this call created, the store as the answers say
          deepStrictEqual(report.violations, [], JSON.stringify(report.violations))

          // the run exercised what it claims to: every fault fired, retries happened, ambiguous creates were resolved
          for (const fault of FakeOrqChaos.FAULTS) {
            assert.isAbove(report.faults.faults[fault], 0, `${fault} never fired`)
          }
          assert.isAbove(report.retries, 0)
          assert.isAbove(report.lookups, 0)
          assert.isAbove(report.outcomes.create.ok ?? 0, 0)
          assert.isAbove(report.outcomes.delete.ok ?? 0, 0)
        }),
      { timeout: 180_000 }
    )
  }
})
