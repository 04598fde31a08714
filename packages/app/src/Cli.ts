/**
 * The `orq` command line: `orq identities …` against orq.ai or the embedded local orq, and `orq serve`.
 * See `cli/` for the commands, the output and the exit codes.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import type { IdentityClient } from "@orq-effect/client"
import { Config, Effect, type Layer } from "effect"
import { UsageError } from "./cli/ExitCode.js"
import * as Flags from "./cli/Flags.js"
import * as Identities from "./cli/Identities.js"
import { stripAnsi } from "./cli/Render.js"
import * as Serve from "./cli/Serve.js"
import * as Target from "./Target.js"

/** The CLI's version, as `orq --version` prints it. */
export const VERSION = "0.1.0"

/** @effect/cli's built-in options that take a value as the next word. */
const BUILT_IN_WITH_VALUE: ReadonlySet<string> = new Set(["--log-level", "--completions"])

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
        "(default .orq-local.json). Exit codes: 0 ok; 1 API or transport error, state file unreadable, unwritable " +
        "or locked by another orq; 2 usage, input or configuration error, or a corrupt state file; 130 interrupted " +
        "(Ctrl-C); 141 output closed by its reader.",
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
  const words = argv.slice(2)
  for (let i = 0; i < words.length; i++) {
    const word = words[i]
    if (word.startsWith("-")) {
      // the value of a built-in option is not a command
      if (BUILT_IN_WITH_VALUE.has(word)) i++
      continue
    }
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

/** The sentences @effect/cli adds to every option of a type, saying nothing the option's own text does not. */
const FILLER = new Set([
  "A user-defined piece of text.",
  "A user-defined piece of text that is confidential.",
  "A true or false value."
])

/**
 * Text printed by @effect/cli itself (help, version): without the paragraphs of {@link FILLER}, and
 * without its ANSI colours unless `colour`.
 */
export const parserOutput = (text: string, colour: boolean): string => {
  const lines = text.split("\n")
  const kept = lines.filter((line, i) =>
    !FILLER.has(stripAnsi(line).trim()) && !(FILLER.has(stripAnsi(lines[i - 1] ?? "").trim()) && line.trim() === "")
  )
  return colour ? kept.join("\n") : stripAnsi(kept.join("\n"))
}

/**
 * Whether help is printed in colour: stdout is a terminal (`isTTY`) and `NO_COLOR` is unset or empty
 * (https://no-color.org).
 */
export const helpInColour = (isTTY: boolean): Effect.Effect<boolean> =>
  Config.string("NO_COLOR").pipe(
    Config.withDefault(""),
    Effect.orElseSucceed(() => ""),
    Effect.map((noColor) => isTTY && noColor === "")
  )

/** How {@link runWith} prints @effect/cli's own output: in colour or not (default: {@link helpInColour}). */
export interface RunOptions {
  readonly colour?: boolean
}

/**
 * Runs the CLI on `argv` (as `process.argv`) with its identities commands going to `client`. A failure of
 * @effect/cli's parser is not printed by @effect/cli but left for `ExitCode` to report as one `orq: …` line,
 * like every other failure; help is printed through {@link parserOutput}; the commands themselves print to
 * the console as it was given.
 */
export const runWith =
  <E, R>(client: Layer.Layer<IdentityClient, E, R>, options: RunOptions = {}) => (argv: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const console = yield* Effect.console
      const colour = options.colour ?? (yield* helpInColour(process.stdout.isTTY === true))
      const command = make(client).pipe(Command.transformHandler((handler) => Effect.withConsole(handler, console)))
      return yield* Command.run(command, { name: "orq", version: VERSION })(argv).pipe(
        Effect.withConsole({
          ...console,
          // @effect/cli prints its parser's errors with `Console.error`, and nothing else
          error: () => Effect.void,
          log: (...args: ReadonlyArray<unknown>) =>
            console.log(...args.map((arg) => typeof arg === "string" ? parserOutput(arg, colour) : arg))
        }),
        Effect.mapError((error) =>
          ValidationError.isValidationError(error) && ValidationError.isCommandMismatch(error)
            ? unknownCommand(argv) ?? error
            : error
        )
      )
    })

/** Runs the CLI on `argv` (as `process.argv`) against the target the environment chooses. */
export const run = runWith(Target.layer)
