#!/usr/bin/env node
/**
 * The `orq` executable: `pnpm orq …` from the repository root.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Duration, Effect, Layer, Option, Ref } from "effect"
import * as Cli from "./Cli.js"
import * as ExitCode from "./cli/ExitCode.js"
import * as Output from "./cli/Output.js"
import * as TracingEndpoint from "./TracingEndpoint.js"

/**
 * OTLP export of the spans when an endpoint is set (as `Tracing.layer`). The OpenTelemetry SDK is only loaded
 * then: a command that does not trace does not pay for it at start-up. A collector gets 2 s to take a command's
 * spans: one that never answers must not keep the command from exiting.
 */
const tracing = Layer.unwrapEffect(
  Effect.gen(function*() {
    const url = yield* TracingEndpoint.endpoint
    if (Option.isNone(url)) return Layer.empty
    const Tracing = yield* Effect.promise(() => import("./Tracing.js"))
    return Tracing.layerOtlp(url.value, { exportTimeout: Duration.seconds(2) })
  })
)

const signalExitCode = Ref.unsafeMake(ExitCode.INTERRUPTED)

Cli.run(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeContext.layer, Layer.succeed(ExitCode.SignalExitCode, signalExitCode))),
  Effect.provide(tracing),
  // a closed stdout (`orq … | head`) stops the command, its finalizers run, and it exits 141 quietly
  Output.guard(),
  ExitCode.report,
  NodeRuntime.runMain({ disableErrorReporting: true, teardown: ExitCode.teardown(signalExitCode) })
)
