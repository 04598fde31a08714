/**
 * Flags shared by the CLI's commands, parsed with messages that name the flag. Only the syntax of a flag is
 * checked here (an integer, a JSON object); what the API accepts is checked by the client's own input checks.
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import { Metadata } from "@orq-effect/domain/Identity"
import { Effect, Either, Option, Schema } from "effect"

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

/** `--json`: print the API's wire shape instead of the readable view. */
export const json = Options.boolean("json").pipe(
  Options.withDescription("Print the API's JSON (snake_case wire shape) instead of the readable view.")
)

/** An integer flag whose error names the flag (`--limit: expected an integer, got 'x'`). */
export const integer = (name: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("N"),
    Options.mapEffect((raw) =>
      /^[+-]?\d+$/.test(raw.trim())
        ? Effect.succeed(Number(raw.trim()))
        : Effect.fail(invalid(`--${name}: expected an integer, got '${raw}'`))
    )
  )

/** A flag taking one of `choices`, whose error names the flag (`--generation: expected seed or current`). */
export const choice = <const C extends ReadonlyArray<string>>(name: string, choices: C) =>
  Options.text(name).pipe(
    Options.withPseudoName(choices.join(" | ")),
    Options.mapEffect((raw) => {
      const found = choices.find((choice) => choice === raw)
      return found === undefined
        ? Effect.fail(invalid(`--${name}: expected ${choices.join(" or ")}, got '${raw}'`))
        : Effect.succeed<C[number]>(found)
    })
  )

const PER = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60 } as const

/** `--rate-limit N/s` (or `N/min`, or a bare `N` per second): requests per second, above zero. */
export const rate = (name: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("N/s"),
    Options.mapEffect((raw) => {
      const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/.exec(raw)
      const perSecond = match === null ? NaN : Number(match[1]) / PER[(match[2] ?? "s") as keyof typeof PER]
      return perSecond > 0
        ? Effect.succeed(perSecond)
        : Effect.fail(invalid(`--${name}: expected a rate such as 100/s or 600/min, got '${raw}'`))
    })
  )

const decodeMetadata = Schema.decodeUnknownEither(Schema.parseJson(Metadata))

/** `--metadata JSON`: a JSON object. */
export const metadata = Options.text("metadata").pipe(
  Options.withPseudoName("JSON"),
  Options.mapEffect((raw) =>
    Either.match(decodeMetadata(raw), {
      onLeft: () => Effect.fail(invalid(`--metadata: expected a JSON object, e.g. '{"plan":"pro"}', got '${raw}'`)),
      onRight: Effect.succeed
    })
  )
)

/** `--tag T`, repeatable and optional (`[--tag T...]` in the usage line): the tags given, in order. */
export const tags = Options.text("tag").pipe(
  Options.withPseudoName("T"),
  Options.repeated,
  Options.optional,
  Options.map(Option.getOrElse((): ReadonlyArray<string> => []))
)

/** `--display-name S`. */
export const displayName = Options.text("display-name").pipe(Options.withPseudoName("S"), Options.optional)

/** `--email S`. */
export const email = Options.text("email").pipe(Options.withPseudoName("S"), Options.optional)

/** `--avatar-url U`. */
export const avatarUrl = Options.text("avatar-url").pipe(Options.withPseudoName("U"), Options.optional)

/** A command's help text: what it does, then examples (shown by `--help`). */
export const help = (summary: string, ...examples: ReadonlyArray<string>): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(summary),
    HelpDoc.h2(examples.length === 1 ? "Example" : "Examples"),
    ...examples.map((example) => HelpDoc.p(`  $ ${example}`))
  ])
