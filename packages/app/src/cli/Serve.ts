/**
 * `orq serve`: the local orq (FakeOrq over the persisted state file) in the foreground, until SIGINT or
 * SIGTERM. Stopping closes the listener, lets the requests in flight finish (every change is already saved
 * before it is answered), releases the state file and exits 0.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import { Config, Console, Effect, Option, Redacted, Ref } from "effect"
import * as FakeOrq from "../FakeOrq.js"
import * as FakeOrqRateLimit from "../FakeOrqRateLimit.js"
import * as LocalState from "../LocalState.js"
import * as OrqConfig from "../OrqConfig.js"
import * as Target from "../Target.js"
import { OK, SignalExitCode, UsageError } from "./ExitCode.js"
import * as Flags from "./Flags.js"

/** The `serve` command. */
export const command = Command.make("serve", {
  host: Options.text("host").pipe(
    Options.withDescription("The address to listen on. Other than loopback, --api-key is required."),
    Options.withDefault("127.0.0.1")
  ),
  port: Flags.integer("port").pipe(
    Options.withDescription("The port to listen on; 0 picks a free one."),
    Options.withDefault(4010)
  ),
  state: Options.text("state").pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription("The state file (default: ORQ_LOCAL_STATE, else .orq-local.json)."),
    Options.withFallbackConfig(Target.statePath)
  ),
  apiKey: Options.redacted("api-key").pipe(
    Options.withPseudoName("KEY"),
    Options.withDescription(
      "Require `Authorization: Bearer KEY` on every request (default: ORQ_SERVE_API_KEY, else no key needed). " +
        "Prefer ORQ_SERVE_API_KEY: a key on the command line shows in `ps` and in pnpm's echo of the command."
    ),
    Options.withFallbackConfig(Config.redacted("ORQ_SERVE_API_KEY")),
    Options.optional
  ),
  rateLimit: Flags.rate("rate-limit").pipe(
    Options.withDescription(
      "Answer 429 with Retry-After and X-RateLimit-* above this rate (token bucket holding a second's worth, at least 1)."
    ),
    Options.optional
  ),
  generation: Flags.choice("generation", ["seed", "current"]).pipe(
    Options.withDescription("The wire of the API to speak: flat identities (seed) or wrapped ones (current)."),
    Options.withDefault("seed" as const)
  )
}, (flags) =>
  Effect.gen(function*() {
    if (flags.port < 0 || flags.port > 65535) {
      return yield* new UsageError({ message: `--port: expected 0 to 65535, got ${flags.port}` })
    }
    if (Option.isNone(flags.apiKey) && !OrqConfig.isLoopbackHost(flags.host)) {
      return yield* new UsageError({
        message: `--host ${flags.host} is not loopback: give --api-key (or set ORQ_SERVE_API_KEY) so that the ` +
          "state is not open to the network"
      })
    }
    if (Option.exists(flags.apiKey, (key) => Redacted.value(key).trim() === "")) {
      return yield* new UsageError({ message: "--api-key (or ORQ_SERVE_API_KEY): must not be empty" })
    }
    const signalExitCode = yield* SignalExitCode
    const fs = yield* FileSystem.FileSystem
    yield* Effect.scoped(Effect.gen(function*() {
      // added first, so it runs last: after the listener closed and the state file was released
      const listening = yield* Ref.make(false)
      yield* Effect.addFinalizer(() => Effect.whenEffect(Console.error("orq serve: stopped"), Ref.get(listening)))
      const { created, store } = yield* LocalState.open(flags.state)
      const server = {
        store,
        apiKey: Option.getOrUndefined(flags.apiKey),
        generation: flags.generation,
        host: flags.host,
        port: flags.port
      }
      const url = yield* Option.match(flags.rateLimit, {
        onNone: () => FakeOrq.start(server),
        onSome: (rate) =>
          Effect.map(
            FakeOrqRateLimit.start({ ...server, rateLimit: { rate } }),
            (started) => started.url
          )
      }).pipe(
        // nothing was served: a state file this run created (and seeded) is not left behind
        Effect.tapError(() => created ? Effect.ignore(fs.remove(flags.state)) : Effect.void)
      )
      yield* Ref.set(signalExitCode, OK)
      yield* Ref.set(listening, true)
      yield* Console.log(`orq serve: listening on ${url}`)
      yield* Console.error(
        `orq serve: state in ${flags.state}, ${flags.generation} wire, ` +
          Option.match(flags.rateLimit, { onNone: () => "", onSome: (rate) => `limited to ${rate}/s, ` }) +
          (Option.isSome(flags.apiKey) ? "API key required" : "any API key accepted") +
          `; use it with ORQ_BASE_URL=${url} ORQ_API_KEY=<key>; stop with Ctrl-C`
      )
      return yield* Effect.never.pipe(
        Effect.onInterrupt(() => Console.error("orq serve: stopping; requests in flight may finish"))
      )
    }))
  })).pipe(
    Command.withDescription(Flags.help(
      "Run the local orq (the Identities API over a state file) in the foreground until Ctrl-C or SIGTERM.",
      "orq serve --port 4010",
      "ORQ_SERVE_API_KEY=local-secret orq serve --port 0 --state /tmp/orq.json --generation current",
      "orq serve --rate-limit 100/s"
    ))
  )
