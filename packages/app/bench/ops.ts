/**
 * Effect run-loop steps per call: the PATCH of the throughput section, counted rather than timed, so the numbers
 * do not depend on the machine's load. A fiber running with `OpSupervision` on calls its supervisor's `onEffect`
 * once per step of its run loop (a `flatMap`, a `sync`, a FiberRef update, …). Steps differ in cost (BENCHMARKS.md
 * times some), so their count is a proxy for what a client adds to a call, free of noise, not a measure of CPU.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { IdentityClient, layer as clientLayer } from "@orq-effect/client"
import * as PrivateSpan from "@orq-effect/client/PrivateSpan"
import {
  Duration,
  Effect,
  FiberRef,
  Layer,
  ManagedRuntime,
  Redacted,
  RuntimeFlags,
  RuntimeFlagsPatch,
  Supervisor
} from "effect"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import { API_KEY, fmt, startChild, table } from "./shared.js"
import { barePatch, oursLayer, oursOver, oursUpdate } from "./throughput.js"

/** Counts the run-loop steps of the fibers it supervises. */
class StepCounter extends Supervisor.AbstractSupervisor<number> {
  steps = 0
  get value() {
    return Effect.sync(() => this.steps)
  }
  override onEffect(): void {
    this.steps++
  }
}

/** Run-loop steps per run of `effect`, averaged over `runs` sequential runs that follow one uncounted run. */
const stepsPerRun = async <R, ER>(
  runtime: ManagedRuntime.ManagedRuntime<R, ER>,
  effect: Effect.Effect<unknown, unknown, R>,
  runs = 200
): Promise<number> => {
  await runtime.runPromise(effect)
  const counter = new StepCounter()
  await runtime.runPromise(
    Effect.repeatN(effect, runs - 1).pipe(
      Effect.supervised(counter),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    )
  )
  return counter.steps / runs
}

/** Steps per call of `effect` over the services of `layer`. */
const stepsOver = async <R, ER>(layer: Layer.Layer<R, ER>, effect: Effect.Effect<unknown, unknown, R>) => {
  const runtime = ManagedRuntime.make(layer)
  try {
    return await stepsPerRun(runtime, effect)
  } finally {
    await runtime.dispose()
  }
}

const ref = FiberRef.unsafeMake(0)
const spanOptions = { kind: "client", captureStackTrace: false } as const

/** What the client's features cost on their own: each wraps `Effect.void`, whose own steps are subtracted. */
const PRIMITIVES: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
  ["Effect.withSpan", Effect.withSpan(Effect.void, "span", spanOptions)],
  ["PrivateSpan.withSpan (the client's span)", PrivateSpan.withSpan("span", spanOptions)(Effect.void)],
  ["Effect.locally (a FiberRef for one call)", Effect.locally(Effect.void, ref, 1)],
  ["Effect.timeoutFail", Effect.timeoutFail(Effect.void, { duration: Duration.seconds(10), onTimeout: () => "late" })]
]

export const run = async (): Promise<void> => {
  const server = await startChild<{ port: number }>("patchServer.ts")
  const baseUrl = `http://127.0.0.1:${server.message.port}`
  const bare = Effect.flatMap(HttpClient.HttpClient, barePatch(baseUrl))
  const update = Effect.flatMap(IdentityClient, oursUpdate)
  try {
    console.log("\n## Effect run-loop steps per PATCH (counted, sequential calls)\n")
    const bareLean = await stepsOver(UndiciHttpClient.layer, bare)
    const rows: Array<readonly [string, number]> = [
      ["bare HttpClient (lean undici)", bareLean],
      ["bare HttpClient (layerUndici)", await stepsOver(NodeHttpClient.layerUndici, bare)],
      ["ours (IdentitiesLive: lean undici)", await stepsOver(oursLayer(baseUrl), update)],
      [
        "ours without RetryPolicy (lean undici)",
        await stepsOver(
          clientLayer({ apiKey: Redacted.make(API_KEY), baseUrl }).pipe(Layer.provide(UndiciHttpClient.layer)),
          update
        )
      ],
      [
        "ours over layerUndici (Effect's timeouts)",
        await stepsOver(oursOver(baseUrl, NodeHttpClient.layerUndici), update)
      ]
    ]
    table(
      ["contender", "steps/call", "over bare (lean)"],
      rows.map(([name, steps]) => [name, fmt(steps, 1), fmt(steps - bareLean, 1)])
    )
    console.log(
      `\nAt 0.9x the bare client's speed, if steps cost alike, ours could take ${
        fmt(bareLean / 0.9, 1)
      } steps per call: ${fmt(bareLean / 0.9 - bareLean, 1)} more than the bare client.\n`
    )
    const empty = await stepsOver(Layer.empty, Effect.void)
    const parts: Array<readonly [string, string]> = []
    for (const [name, effect] of PRIMITIVES) parts.push([name, fmt((await stepsOver(Layer.empty, effect)) - empty, 1)])
    table(["one feature, on its own", "steps"], parts)
  } finally {
    server.stop()
  }
}
