/**
 * `pnpm chaos [operations]`: the fault-injection run of `Chaos.test.ts` at a larger size (10,000 operations by
 * default), printing the same table. Exits non-zero on any defect, model violation or late call.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import * as ChaosRunner from "./ChaosRunner.js"

const operations = Number(process.argv[2] ?? 10_000)

const program = Effect.gen(function*() {
  if (!Number.isInteger(operations) || operations < 1) {
    return yield* Effect.dieMessage(`operations must be a positive integer (got ${process.argv[2]})`)
  }
  const report = yield* ChaosRunner.run(ChaosRunner.defaults(operations))
  yield* Console.log(ChaosRunner.table(report))
  for (const line of [...report.violations, ...report.defects].slice(0, 20)) yield* Console.error(line)
  if (report.violations.length > 0 || report.defects.length > 0 || report.late > 0) {
    return yield* Effect.dieMessage("the chaos run found problems")
  }
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
