/**
 * The one place where the CLI's failures become a line on stderr and an exit code:
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | success (and `orq serve` stopped by SIGINT/SIGTERM) |
 * | 1 | the API or the transport failed, the local state could not be written, or an unexpected defect |
 * | 2 | a usage error, a configuration error, or input refused before anything was sent |
 * | 130 | a command interrupted by SIGINT/SIGTERM |
 * | 141 | stdout (or stderr) closed by its reader, as `orq … \| head` does: the command stopped, silently |
 *
 * The stderr line names the error's tag, the HTTP status and request id when known, or the flag at fault.
 * Nothing printed ever holds the API key.
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import type { Teardown } from "@effect/platform/Runtime"
import { type IdentityError, isIdentityError } from "@orq-effect/domain/IdentityError"
import {
  Cause,
  ConfigError,
  Console,
  Context,
  Data,
  Duration,
  Effect,
  Exit,
  Option,
  Predicate,
  Ref,
  Schema
} from "effect"
import { LocalStateError } from "../LocalState.js"
import { OutputError } from "./Output.js"
import { safe, stripAnsi } from "./Render.js"

/** Success. */
export const OK = 0
/** The API, the transport or the local state failed. */
export const FAILURE = 1
/** A usage, configuration or input error: nothing was sent. */
export const USAGE = 2
/** Interrupted by a signal (128 + SIGINT). */
export const INTERRUPTED = 130
/** The output's reader went away (EPIPE): 128 + SIGPIPE, the status of a shell tool killed by it. */
export const PIPE_CLOSED = 141

/** Flags that parse but do not make sense together, or a command with nothing to do. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

/** The failure of the CLI once reported: only the code is left to hand to the process. */
export class Exited extends Data.TaggedError("Exited")<{ readonly code: number }> {}

/**
 * The exit code of an interruption by signal. A command leaves the default ({@link INTERRUPTED}); `orq serve`
 * sets it to {@link OK} once listening, since SIGTERM is how a server is asked to stop.
 */
export class SignalExitCode
  extends Context.Tag("@orq-effect/app/cli/SignalExitCode")<SignalExitCode, Ref.Ref<number>>()
{}

/** The flag or argument a field of an input comes from. */
const FLAGS: Record<string, string> = {
  id: "<id>",
  externalId: "<external-id>",
  displayName: "--display-name",
  email: "--email",
  avatarUrl: "--avatar-url",
  tags: "--tag",
  metadata: "--metadata",
  limit: "--limit",
  search: "--search",
  startingAfter: "--starting-after",
  endingBefore: "--ending-before"
}

/** `email: must be …; tags.0: must …` with each field replaced by its flag: `--email: must …; --tag: must …`. */
export const withFlags = (message: string): string =>
  message
    .split("; ")
    .map((line) => {
      const colon = line.indexOf(": ")
      if (colon < 0) return line
      const fields = line.slice(0, colon).split(", ").map((path) => FLAGS[path.split(".")[0]] ?? path)
      return `${fields.join(", ")}${line.slice(colon)}`
    })
    .join("; ")

const HTTP_STATUS: Partial<Record<IdentityError["_tag"], number>> = { NotFound: 404, Conflict: 409, RateLimited: 429 }

const RETRY_AFTER_SUFFIX = /\s*\(retry after:? [^()]*\)$/

/** The stderr line and exit code of an `IdentityError`. */
const identityVerdict = (error: IdentityError): Verdict => {
  if (error._tag === "InvalidRequest" && error.status === undefined) {
    return { code: USAGE, message: Option.some(`orq: ${safe(withFlags(error.message))} (nothing was sent)`) }
  }
  const status = "status" in error && typeof error.status === "number" ? error.status : HTTP_STATUS[error._tag]
  const details = [
    status === undefined ? undefined : `HTTP ${status}`,
    "requestId" in error && error.requestId !== undefined ? `request id ${safe(error.requestId)}` : undefined,
    error._tag === "RateLimited" && error.retryAfter !== undefined
      ? `retry after ${Duration.isFinite(error.retryAfter) ? Duration.format(error.retryAfter) : "indefinitely"}`
      : undefined
  ].filter(Predicate.isNotUndefined)
  const where = details.length === 0 ? "" : ` (${details.join(", ")})`
  // the client's message of a 429 ends with its own `(retry after 1s)`, which `where` already says
  const message = error._tag === "RateLimited" && error.retryAfter !== undefined
    ? error.message.replace(RETRY_AFTER_SUFFIX, "")
    : error.message
  return { code: FAILURE, message: Option.some(`orq: ${error._tag}${where}: ${safe(message)}`) }
}

/** What to say about a failure, and with which exit code. */
export interface Verdict {
  readonly code: number
  /** `None` when nothing is to be said (stdout closed by its reader). */
  readonly message: Option.Option<string>
}

/** The verdict on one failure of the CLI. */
export const verdict = (error: unknown): Verdict => {
  if (ValidationError.isValidationError(error)) {
    // @effect/cli's message (`Missing argument <id>`), as one line
    const text = stripAnsi(HelpDoc.toAnsiText(error.error)).trim().replace(/\s*\n\s*/g, " ")
    return { code: USAGE, message: Option.some(`orq: ${safe(text)}`) }
  }
  if (error instanceof UsageError) return { code: USAGE, message: Option.some(`orq: ${safe(error.message)}`) }
  if (ConfigError.isConfigError(error)) {
    return { code: USAGE, message: Option.some(`orq: configuration error: ${safe(String(error))}`) }
  }
  if (error instanceof LocalStateError) {
    return {
      code: error.reason === "Corrupt" ? USAGE : FAILURE,
      message: Option.some(`orq: LocalStateError (${error.reason}): ${safe(error.message)}`)
    }
  }
  if (isIdentityError(error)) return identityVerdict(error)
  if (error instanceof OutputError) {
    return error.code === "EPIPE"
      ? { code: PIPE_CLOSED, message: Option.none() }
      : { code: FAILURE, message: Option.some(`orq: could not write to ${error.stream}: ${safe(error.code)}`) }
  }
  if (Predicate.isTagged(error, "ServeError")) {
    const cause = Predicate.hasProperty(error, "cause") ? error.cause : undefined
    return {
      code: FAILURE,
      message: Option.some(`orq: could not listen: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
  }
  return {
    code: FAILURE,
    message: Option.some(`orq: unexpected error: ${safe(error instanceof Error ? error.message : String(error))}`)
  }
}

/**
 * Runs `program`; a failure (or a defect) is printed as one line on stderr, never as a stack trace, and
 * leaves only {@link Exited} with its code. Interruption passes through.
 */
export const report = <A, E, R>(program: Effect.Effect<A, E, R>): Effect.Effect<void, Exited, R> =>
  program.pipe(
    Effect.asVoid,
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(Cause.map(cause, () => new Exited({ code: OK })))
      const error = Option.getOrElse(
        Option.orElse(Cause.failureOption(cause), () => Cause.dieOption(cause)),
        (): unknown => new Error("a failure without a reason")
      )
      const { code, message } = verdict(error)
      return Effect.zipRight(
        Option.match(message, { onNone: () => Effect.void, onSome: Console.error }),
        Effect.fail(new Exited({ code }))
      )
    })
  )

/** The `teardown` of `NodeRuntime.runMain`: the code of {@link Exited}, or the signal's code when interrupted. */
export const teardown = (signalExitCode: Ref.Ref<number>): Teardown => (exit, onExit) => {
  if (Exit.isSuccess(exit)) return onExit(OK)
  if (Cause.isInterruptedOnly(exit.cause)) return onExit(Effect.runSync(Ref.get(signalExitCode)))
  const failure = Cause.failureOption(exit.cause)
  onExit(Option.isSome(failure) && failure.value instanceof Exited ? failure.value.code : FAILURE)
}
