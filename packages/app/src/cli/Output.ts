/**
 * The CLI's output streams going away under it: `orq identities list --all --json | head` closes stdout early,
 * and the next write fails with EPIPE. Unwatched, that error is an uncaught `'error'` event: a stack trace, exit 1,
 * and no finalizer run (the state file stays locked). {@link guard} turns it into a failure of the command, which
 * interrupts it (its finalizers run) and leaves {@link OutputError} for `ExitCode` to report.
 *
 * @since 0.1.0
 */
import { Data, Effect } from "effect"
import { constVoid } from "effect/Function"

/** `stream` failed with the error `code` (`EPIPE`: its reader went away). */
export class OutputError extends Data.TaggedError("OutputError")<{
  readonly stream: string
  readonly code: string
}> {}

/** A writable the CLI prints to, named as the error names it. */
export interface Output {
  readonly name: string
  readonly stream: NodeJS.EventEmitter
}

const errnoCode = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : "unknown error"

/** Fails with {@link OutputError} on the first error of `output`. */
const failed = (output: Output) =>
  Effect.async<never, OutputError>((resume) => {
    const onError = (error: unknown) =>
      resume(Effect.fail(new OutputError({ stream: output.name, code: errnoCode(error) })))
    output.stream.once("error", onError)
    return Effect.sync(() => output.stream.off("error", onError))
  })

/**
 * Runs `program` until it ends or one of `outputs` (default: the process's stdout and stderr) fails, whichever
 * comes first; in the latter case `program` is interrupted, its finalizers run, and the result is the
 * {@link OutputError}. An error of `outputs` never becomes an uncaught event: one after the program ended (a write
 * still in flight) is ignored.
 */
export const guard =
  (outputs?: ReadonlyArray<Output>) =>
  <A, E, R>(program: Effect.Effect<A, E, R>): Effect.Effect<A, E | OutputError, R> =>
    Effect.suspend(() => {
      const watched = outputs ??
        [{ name: "stdout", stream: process.stdout }, { name: "stderr", stream: process.stderr }]
      for (const output of watched) output.stream.on("error", constVoid)
      return watched.reduce<Effect.Effect<A, E | OutputError, R>>(
        (raced, output) => Effect.raceFirst(raced, failed(output)),
        program
      )
    })
