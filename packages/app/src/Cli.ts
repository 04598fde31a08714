/**
 * The `orq` command line: `orq identities …` against orq.ai or the embedded local orq, and `orq serve`.
 * See `cli/` for the commands, the output and the exit codes.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import type { IdentityClient } from "@orq-effect/client"
import type { Layer } from "effect"
import * as Flags from "./cli/Flags.js"
import * as Identities from "./cli/Identities.js"
import * as Serve from "./cli/Serve.js"
import * as Target from "./Target.js"

/** The CLI's version, as `orq --version` prints it. */
export const VERSION = "0.1.0"

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

/** Runs the CLI on `argv` (as `process.argv`) against the target the environment chooses. */
export const run = (argv: ReadonlyArray<string>) =>
  Command.run(make(Target.layer), { name: "orq", version: VERSION })(argv)
