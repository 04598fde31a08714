/**
 * The `orq` command line: `orq identities …` against orq.ai or the embedded local orq, and `orq serve`.
 * See `cli/` for the commands, the output and the exit codes.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import type { IdentityClient } from "@orq-effect/client"
import { Effect, type Layer } from "effect"
import { UsageError } from "./cli/ExitCode.js"
import * as Flags from "./cli/Flags.js"
import * as Identities from "./cli/Identities.js"
import * as Serve from "./cli/Serve.js"
import * as Target from "./Target.js"

/** The CLI's version, as `orq --version` prints it. */
export const VERSION = "0.1.0"

/** The commands that have subcommands, by their full name, with the names of those subcommands. */
const SUBCOMMANDS: Readonly<Record<string, ReadonlyArray<string>>> = {
  "orq": ["identities", "serve"],
  "orq identities": ["get", "list", "create", "update", "delete"]
}

/** The `orq` command, its identities commands going to `client`. */
export const make = <E, R>(client: Layer.Layer<IdentityClient, E, R>) =>
  Command.make("orq").pipe(
    Command.withDescription(Flags.help(
      "The orq.ai Identities API from the command line. With ORQ_API_KEY (and optionally ORQ_BASE_URL) set, " +
        "commands go to that server; otherwise to an embedded local orq whose state lives in ORQ_LOCAL_STATE " +
        "(default .orq-local.json). Exit codes: 0 ok, 1 API or transport error, 2 usage or input error, " +
        "141 output closed by its reader.",
      "orq identities update user_12345 --display-name \"Jane Smith-Wilson\" --tag premium",
      "orq identities list --all --json",
      "orq serve --port 4010"
    )),
    Command.withSubcommands([Identities.make(client), Serve.command])
  )

/**
 * The word of `argv` that names no subcommand of the command before it, as a {@link UsageError}:
 * `unknown command 'bogus' for 'orq identities' (get, list, …)`. @effect/cli's own message names the
 * top-level command whatever the level of the mistake.
 */
export const unknownCommand = (argv: ReadonlyArray<string>): UsageError | undefined => {
  const path = ["orq"]
  for (const word of argv.slice(2)) {
    if (word.startsWith("-")) continue
    const children = SUBCOMMANDS[path.join(" ")]
    if (children === undefined) return undefined
    if (!children.includes(word)) {
      return new UsageError({
        message: `unknown command '${word}' for '${path.join(" ")}' (${children.join(", ")})`
      })
    }
    path.push(word)
  }
  return undefined
}

/**
 * Runs the CLI on `argv` (as `process.argv`) with its identities commands going to `client`. A failure of
 * @effect/cli's parser is not printed by @effect/cli but left for `ExitCode` to report as one `orq: …` line,
 * like every other failure; the commands themselves print to the console as it was given.
 */
export const runWith = <E, R>(client: Layer.Layer<IdentityClient, E, R>) => (argv: ReadonlyArray<string>) =>
  Effect.flatMap(Effect.console, (console) => {
    const command = make(client).pipe(Command.transformHandler((handler) => Effect.withConsole(handler, console)))
    return Command.run(command, { name: "orq", version: VERSION })(argv).pipe(
      // @effect/cli prints its parser's errors with `Console.error`, and nothing else
      Effect.withConsole({ ...console, error: () => Effect.void }),
      Effect.mapError((error) =>
        ValidationError.isValidationError(error) && ValidationError.isCommandMismatch(error)
          ? unknownCommand(argv) ?? error
          : error
      )
    )
  })

/** Runs the CLI on `argv` (as `process.argv`) against the target the environment chooses. */
export const run = runWith(Target.layer)
