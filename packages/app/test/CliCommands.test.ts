/**
 * The `orq` command tree run in process (fast): what `--help` shows, how flags become client calls and
 * output, that refused input never even builds the client, and how each failure maps to an exit code.
 * `Cli.test.ts` runs the real executable end to end.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Headers from "@effect/platform/Headers"
import { assert, describe, it, layer } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { IdentityClient, IdentityClientMemory, IdentityStore, type StreamIdentities } from "@orq-effect/client"
import * as ErrorResponse from "@orq-effect/client/ErrorResponse"
import {
  Conflict,
  InvalidRequest,
  MalformedResponse,
  NotFound,
  RateLimited,
  ServerError,
  TransportError,
  Unauthorized
} from "@orq-effect/domain/IdentityError"
import {
  Cause,
  ConfigError,
  ConfigProvider,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberId,
  Layer,
  Option,
  Random,
  Redacted,
  Ref,
  Stream
} from "effect"
import { EventEmitter } from "node:events"
import { readFileSync } from "node:fs"
import * as Cli from "../src/Cli.js"
import * as ExitCode from "../src/cli/ExitCode.js"
import * as Output from "../src/cli/Output.js"
import * as LocalState from "../src/LocalState.js"
import * as Target from "../src/Target.js"

interface Captured {
  readonly out: Array<string>
  readonly err: Array<string>
}

/** Runs `orq args` in process over `client`, capturing what it prints. */
const runWith = <E>(client: Layer.Layer<IdentityClient, E>, args: ReadonlyArray<string>, options?: Cli.RunOptions) =>
  Effect.gen(function*() {
    const captured: Captured = { out: [], err: [] }
    const console = yield* Effect.console
    const exit = yield* Cli.runWith(client, options)(["node", "orq", ...args])
      .pipe(
        Effect.withConsole({
          ...console,
          log: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void captured.out.push(parts.join(" "))),
          error: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void captured.err.push(parts.join(" ")))
        }),
        Effect.provideServiceEffect(ExitCode.SignalExitCode, Ref.make(ExitCode.INTERRUPTED)),
        Effect.exit
      )
    return { exit, out: captured.out.join("\n"), err: captured.err.join("\n") }
  })

/** A client over a shared in-memory store holding the example identity. */
const memory = Effect.map(
  IdentityStore.make([LocalState.seed]),
  (store) => ({ store, client: Layer.succeed(IdentityClient, IdentityClientMemory.fromStore(store)) })
)

/** A client that records whether anything tried to build it. */
const untouchable = Effect.map(Ref.make(false), (built) => ({
  built,
  client: Layer.effect(IdentityClient, Effect.zipRight(Ref.set(built, true), Effect.dieMessage("built")))
}))

layer(NodeContext.layer)("orq commands in process", (it) => {
  it.effect("--help on every command shows its examples", () =>
    Effect.gen(function*() {
      const { built, client } = yield* untouchable
      const commands = [
        [],
        ["identities"],
        ["identities", "get"],
        ["identities", "list"],
        ["identities", "create"],
        ["identities", "update"],
        ["identities", "delete"],
        ["serve"]
      ]
      for (const command of commands) {
        const { exit, out } = yield* runWith(client, [...command, "--help"])
        assert.isTrue(exit._tag === "Success", command.join(" "))
        assert.match(out, /Examples?/, command.join(" "))
        assert.include(out, `$ orq ${command.join(" ")}`.trimEnd(), command.join(" "))
      }
      assert.isFalse(yield* Ref.get(built))
    }))

  it.effect("--help: --tag reads as optional, no filler sentences, colours only when asked", () =>
    Effect.gen(function*() {
      const { client } = yield* untouchable
      for (const command of ["list", "create", "update"]) {
        const plain = yield* runWith(client, ["identities", command, "--help"], { colour: false })
        assert.include(plain.out, "[--tag T...]", command)
        assert.notInclude(plain.out, "A user-defined piece of text", command)
        assert.notInclude(plain.out, "A true or false value", command)
        assert.notInclude(plain.out, "\u001b", command)
        // the option's own text is still there
        assert.include(plain.out, "(repeatable", command)
      }
      const coloured = yield* runWith(client, ["identities", "list", "--help"], { colour: true })
      assert.include(coloured.out, "\u001b[")
      assert.notInclude(coloured.out, "A user-defined piece of text")
    }))

  it.effect("help is coloured only on a terminal, and never with NO_COLOR set", () =>
    Effect.gen(function*() {
      const withEnv = (env: ReadonlyArray<readonly [string, string]>, isTTY: boolean) =>
        Effect.withConfigProvider(Cli.helpInColour(isTTY), ConfigProvider.fromMap(new Map(env)))
      assert.isTrue(yield* withEnv([], true))
      assert.isTrue(yield* withEnv([["NO_COLOR", ""]], true))
      assert.isFalse(yield* withEnv([["NO_COLOR", "1"]], true))
      assert.isFalse(yield* withEnv([], false))
    }))

  it.effect("refused input exits 2, names the flag, and never builds the client", () =>
    Effect.gen(function*() {
      const { built, client } = yield* untouchable
      const cases: ReadonlyArray<readonly [args: ReadonlyArray<string>, says: string]> = [
        [["identities", "create", "user_1", "--email", "not-an-email"], "--email: must be a valid email address"],
        [["identities", "create", "user_1", "--avatar-url", "not a url"], "--avatar-url: must be an absolute URL"],
        [["identities", "create", ""], "<external-id>: must not be empty"],
        [["identities", "create", "x".repeat(121)], "<external-id>: must be at most 120 characters"],
        [["identities", "create", "user_1", "--metadata", "[1,2]"], "--metadata: expected a JSON object"],
        [["identities", "create", "user_1", "--metadata", "{oops"], "--metadata: expected a JSON object"],
        [["identities", "list", "--limit", "0"], "--limit: must be an integer from 1 to 50"],
        [["identities", "list", "--limit", "51"], "--limit: must be an integer from 1 to 50"],
        [["identities", "list", "--limit", "ten"], "--limit: expected an integer, got 'ten'"],
        [["identities", "list", "--tag", "a,b"], "--tag: must not contain ','"],
        [["identities", "list", "--all", "--ending-before", "identity_1"], "--ending-before"],
        [["identities", "list", "--starting-after", "a", "--ending-before", "b"], "--starting-after, --ending-before"],
        [["identities", "get", "user_12345", "--bogus"], "orq: Received unknown argument: '--bogus'"],
        [["identities", "get"], "orq: Missing argument <id>"],
        [["identities", "get", " "], "<id>: must not be empty or blank"],
        [["identities", "delete", ".."], "<id>: '..' cannot be used"],
        [["identities", "update", "user_12345", "--display-name", "A", "--clear-display-name"], "--clear-display-name"],
        [["identities", "update", "user_12345", "--email", "a@b.co", "--clear-email"], "--clear-email"],
        [
          ["identities", "update", "user_12345", "--avatar-url", "https://a.b/c", "--clear-avatar-url"],
          "--clear-avatar-url"
        ],
        [["identities", "update", "user_12345", "--tag", "a", "--clear-tags"], "--clear-tags"],
        [["identities", "update", "user_12345", "--metadata", "{}", "--clear-metadata"], "--clear-metadata"],
        [["identities", "update", "user_12345"], "nothing to update"],
        [["identities", "update", "user_12345", "--email", "nope"], "--email: must be a valid email address"],
        [
          ["identities", "frobnicate"],
          "orq: unknown command 'frobnicate' for 'orq identities' (get, list, create, update, delete)"
        ],
        [["frobnicate"], "orq: unknown command 'frobnicate' for 'orq' (identities, serve)"],
        [["--log-level", "debug", "frobnicate"], "orq: unknown command 'frobnicate' for 'orq' (identities, serve)"],
        [["serve", "--port", "70000"], "--port: expected 0 to 65535"],
        [["serve", "--host", "0.0.0.0"], "--api-key"],
        [["serve", "--generation", "next"], "--generation: expected seed or current, got 'next'"]
      ]
      for (const [args, says] of cases) {
        const { err, exit, out } = yield* runWith(client, args)
        assert.isTrue(exit._tag === "Failure", args.join(" "))
        if (exit._tag === "Success") continue
        const error = Cause.failureOption(exit.cause)
        assert.isTrue(Option.isSome(error), `${args.join(" ")}: ${Cause.pretty(exit.cause)}`)
        const verdict = ExitCode.verdict(Option.getOrThrow(error))
        assert.strictEqual(verdict.code, ExitCode.USAGE, args.join(" "))
        // one `orq: …` line, said by the verdict only: @effect/cli's parser prints nothing itself
        const message = Option.getOrThrow(verdict.message)
        assert.include(message, says, args.join(" "))
        assert.match(message, /^orq: [^\n]+$/, args.join(" "))
        assert.strictEqual(err, "", args.join(" "))
        assert.strictEqual(out, "", args.join(" "))
      }
      assert.isFalse(yield* Ref.get(built))
    }))

  it.effect("list --all: pages of 50 unless --limit says otherwise; a late failure prints what came first", () =>
    Effect.gen(function*() {
      const store = yield* IdentityStore.make([LocalState.seed])
      const memory = IdentityClientMemory.fromStore(store)
      for (const externalId of ["user_a", "user_b", "user_c"]) yield* memory.create({ externalId })
      const streamed = yield* Ref.make<ReadonlyArray<StreamIdentities | undefined>>([])
      /** The memory client, whose `stream` is recorded and, with `failAfter`, fails after that many identities. */
      const client = (failAfter?: number) =>
        Layer.succeed(IdentityClient, {
          ...memory,
          stream: (params?: StreamIdentities) =>
            Stream.unwrap(Effect.as(
              Ref.update(streamed, (all) => [...all, params]),
              failAfter === undefined ? memory.stream(params) : Stream.concat(
                Stream.take(memory.stream(params), failAfter),
                Stream.fail(new ServerError({ status: 503, message: "late page" }))
              )
            ))
        })

      const all = yield* runWith(client(), ["identities", "list", "--all"])
      assert.isTrue(all.exit._tag === "Success")
      assert.strictEqual(all.out.split("\n").length, 1 + 4)
      yield* runWith(client(), ["identities", "list", "--all", "--limit", "7", "--json"])
      yield* runWith(client(), ["identities", "list", "--all", "--json"])
      deepStrictEqual((yield* Ref.get(streamed)).map((params) => params?.limit), [50, 7, 50])

      const failed = yield* runWith(client(2), ["identities", "list", "--all"])
      deepStrictEqual(failed.exit, Exit.fail(new ServerError({ status: 503, message: "late page" })))
      const [header, ...rows] = failed.out.split("\n")
      assert.match(header, /^_ID\s+EXTERNAL_ID/)
      assert.strictEqual(rows.length, 2)
      // where to go on from: after the last identity printed
      const lastId = rows[1].split(/\s+/)[0]
      assert.include(
        failed.err,
        `incomplete: a page failed after 2 identities; go on with --all --starting-after ${lastId}`
      )
      const failedJson = yield* runWith(client(2), ["identities", "list", "--all", "--json"])
      assert.strictEqual(failedJson.out.split("\n").length, 2)
      assert.include(failedJson.err, `--all --starting-after ${lastId}`)

      // and going on from there yields the rest
      const rest = yield* runWith(client(), ["identities", "list", "--all", "--starting-after", lastId])
      assert.isTrue(rest.exit._tag === "Success")
      assert.strictEqual((yield* Ref.get(streamed)).at(-1)?.startingAfter, lastId)
      assert.strictEqual(rest.out.split("\n").length, 1 + 2)
      assert.notInclude(rest.out, lastId)
    }))

  it.effect("update sends only what was given: a value sets, a clear flag clears, the rest is kept", () =>
    Effect.gen(function*() {
      const { client, store } = yield* memory
      const { exit, out } = yield* runWith(client, [
        "identities",
        "update",
        "user_12345",
        "--clear-email",
        "--clear-tags",
        "--avatar-url",
        "https://example.com/new.png",
        "--metadata",
        "{\"tier\":\"gold\"}"
      ])
      assert.isTrue(exit._tag === "Success")
      const jane = yield* store.retrieve("user_12345")
      deepStrictEqual(jane.email, Option.none())
      deepStrictEqual(jane.tags, [])
      deepStrictEqual(jane.avatarUrl, Option.some("https://example.com/new.png"))
      deepStrictEqual(jane.metadata, { tier: "gold" })
      deepStrictEqual(jane.displayName, LocalState.seed.displayName)
      // the readable view of what the server answered
      assert.match(out, /^email\s+-$/m)
      assert.match(out, /^tags\s+-$/m)
      assert.match(out, /^metadata\s+tier=gold$/m)
    }))

  it.effect("--json prints the API's wire shape: snake_case keys, null for absent text, metrics on request", () =>
    Effect.gen(function*() {
      const { client } = yield* memory
      const created = yield* runWith(client, ["identities", "create", "user_2", "--tag", "a", "--json"])
      const wire = JSON.parse(created.out)
      deepStrictEqual(Object.keys(wire).slice(0, 9), [
        "_id",
        "external_id",
        "display_name",
        "email",
        "avatar_url",
        "tags",
        "metadata",
        "created",
        "updated"
      ])
      assert.strictEqual(wire.display_name, null)
      deepStrictEqual(wire.tags, ["a"])
      const withMetrics = JSON.parse(
        (yield* runWith(client, ["identities", "get", "user_2", "--include-metrics", "--json"])).out
      )
      deepStrictEqual(Object.keys(withMetrics.metrics).sort(), [
        "error_rate",
        "total_cost",
        "total_requests",
        "total_tokens"
      ])
      const page = JSON.parse((yield* runWith(client, ["identities", "list", "--limit", "1", "--json"])).out)
      assert.strictEqual(page.object, "list")
      assert.strictEqual(page.has_more, true)
      assert.strictEqual(page.data.length, 1)
    }))
})

describe("exit codes", () => {
  it("API and transport errors are 1, with the tag, the HTTP status and the request id when known", () => {
    const cases = [
      [new NotFound({ id: "u", message: "u not found", requestId: "req_1" }), "NotFound (HTTP 404, request id req_1)"],
      [new Unauthorized({ status: 403, message: "forbidden" }), "Unauthorized (HTTP 403)"],
      [new Conflict({ message: "taken", requestId: "req_2" }), "Conflict (HTTP 409, request id req_2)"],
      [new InvalidRequest({ status: 422, field: "email", message: "bad" }), "InvalidRequest (HTTP 422)"],
      [new RateLimited({ retryAfter: Duration.seconds(3), message: "wait" }), "RateLimited (HTTP 429, retry after 3s)"],
      [
        new RateLimited({ retryAfter: Duration.infinity, message: "wait" }),
        "RateLimited (HTTP 429, retry after indefinitely)"
      ],
      [new ServerError({ status: 503, message: "x", requestId: "req_3" }), "ServerError (HTTP 503, request id req_3)"],
      [new TransportError({ reason: "Timeout", message: "no answer" }), "TransportError: no answer"],
      [new MalformedResponse({ status: 200, message: "not JSON" }), "MalformedResponse (HTTP 200)"],
      [new LocalState.LocalStateError({ path: "s.json", reason: "Io", message: "disk full" }), "LocalStateError (Io)"]
    ] as const
    for (const [error, says] of cases) {
      const verdict = ExitCode.verdict(error)
      assert.strictEqual(verdict.code, ExitCode.FAILURE, says)
      assert.include(Option.getOrThrow(verdict.message), says)
    }
  })

  it("a 429 says its retry delay once", () => {
    const answer = (retryAfter: string) =>
      ErrorResponse.fromStatus({
        status: 429,
        headers: Headers.fromInput({ "retry-after": retryAfter }),
        body: JSON.stringify({ message: "slow down" }),
        subject: {},
        nowMillis: 0,
        redact: (text) => text
      })
    deepStrictEqual(
      ExitCode.verdict(answer("1")).message,
      Option.some("orq: RateLimited (HTTP 429, retry after 1s): slow down")
    )
    // a message without the delay is left whole
    deepStrictEqual(
      ExitCode.verdict(new RateLimited({ retryAfter: Duration.seconds(2), message: "wait (please)" })).message,
      Option.some("orq: RateLimited (HTTP 429, retry after 2s): wait (please)")
    )
  })

  it("input refused before sending, configuration and a corrupt state file are 2", () => {
    const refused = ExitCode.verdict(new InvalidRequest({ field: "displayName", message: "displayName: too long" }))
    assert.strictEqual(refused.code, ExitCode.USAGE)
    assert.include(Option.getOrThrow(refused.message), "--display-name: too long (nothing was sent)")
    const config = ExitCode.verdict(ConfigError.MissingData(["ORQ_API_KEY"], "Expected ORQ_API_KEY to exist"))
    assert.strictEqual(config.code, ExitCode.USAGE)
    assert.include(Option.getOrThrow(config.message), "ORQ_API_KEY")
    const corrupt = ExitCode.verdict(
      new LocalState.LocalStateError({ path: "s.json", reason: "Corrupt", message: "x" })
    )
    assert.strictEqual(corrupt.code, ExitCode.USAGE)
  })

  it.effect("an empty ORQ_LOCAL_STATE is a configuration error naming it (exit 2), not the default file", () =>
    Effect.gen(function*() {
      const withEnv = (env: ReadonlyArray<readonly [string, string]>) =>
        Effect.withConfigProvider(Target.statePath, ConfigProvider.fromMap(new Map(env)))
      assert.strictEqual(yield* withEnv([]), LocalState.DEFAULT_PATH)
      assert.strictEqual(yield* withEnv([["ORQ_LOCAL_STATE", "/tmp/s.json"]]), "/tmp/s.json")
      for (const empty of ["", "  "]) {
        const error = yield* Effect.flip(withEnv([["ORQ_LOCAL_STATE", empty]]))
        const verdict = ExitCode.verdict(error)
        assert.strictEqual(verdict.code, ExitCode.USAGE)
        assert.include(Option.getOrThrow(verdict.message), "ORQ_LOCAL_STATE is empty")
      }
      // the embedded target is not chosen with it
      const error = yield* Effect.flip(
        Effect.withConfigProvider(Target.target, ConfigProvider.fromMap(new Map([["ORQ_LOCAL_STATE", ""]])))
      )
      assert.include(Option.getOrThrow(ExitCode.verdict(error).message), "ORQ_LOCAL_STATE")
    }))

  it.effect("the embedded server's session key: 24 random bytes from node:crypto, whatever Effect's Random", () =>
    Effect.gen(function*() {
      // a seeded Random repeats itself; the key must not
      const seeded = Random.make("same seed")
      const [first, second] = yield* Effect.all([
        Effect.withRandom(Target.sessionKey, seeded),
        Effect.withRandom(Target.sessionKey, Random.make("same seed"))
      ])
      assert.isTrue(Redacted.isRedacted(first))
      assert.match(Redacted.value(first), /^local_[A-Za-z0-9_-]{32}$/)
      assert.notStrictEqual(Redacted.value(first), Redacted.value(second))
      assert.notInclude(String(first), Redacted.value(first))
    }))

  it("the process exit code: the reported code, 130 when interrupted, 0 once serve turned signals into a stop", () => {
    const codeOf = (exit: Exit.Exit<unknown, unknown>, onSignal: number) => {
      let code = -1
      ExitCode.teardown(Ref.unsafeMake(onSignal))(exit, (c) => void (code = c))
      return code
    }
    assert.strictEqual(codeOf(Exit.void, ExitCode.INTERRUPTED), 0)
    assert.strictEqual(codeOf(Exit.fail(new ExitCode.Exited({ code: 2 })), ExitCode.INTERRUPTED), 2)
    assert.strictEqual(codeOf(Exit.die(new Error("bug")), ExitCode.INTERRUPTED), 1)
    assert.strictEqual(codeOf(Exit.interrupt(FiberId.none), ExitCode.INTERRUPTED), 130)
    assert.strictEqual(codeOf(Exit.interrupt(FiberId.none), ExitCode.OK), 0)
  })

  it.effect("a defect is reported as one line, never a stack trace", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const console = yield* Effect.console
      const exit = yield* ExitCode.report(Effect.die(new Error("kaboom"))).pipe(
        Effect.withConsole({
          ...console,
          error: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(parts.join(" ")))
        }),
        Effect.exit
      )
      deepStrictEqual(exit, Exit.fail(new ExitCode.Exited({ code: 1 })))
      deepStrictEqual(lines, ["orq: unexpected error: kaboom"])
    }))

  it.effect("a failing output stops the command, runs its finalizers, and is reported: EPIPE as 141, silently", () =>
    Effect.gen(function*() {
      const stdout = new EventEmitter()
      const guard = Output.guard([{ name: "stdout", stream: stdout }])
      const released = yield* Ref.make(false)
      const started = yield* Deferred.make<void>()
      const running = yield* Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Effect.never),
        Effect.ensuring(Ref.set(released, true)),
        guard,
        Effect.flip,
        Effect.fork
      )
      yield* Deferred.await(started)
      stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))
      const error = yield* Fiber.join(running)
      deepStrictEqual(error, new Output.OutputError({ stream: "stdout", code: "EPIPE" }))
      assert.isTrue(yield* Ref.get(released))
      deepStrictEqual(ExitCode.verdict(error), { code: ExitCode.PIPE_CLOSED, message: Option.none() })
      // a write that fails after the command ended is of no consequence (an unheard 'error' event would throw)
      assert.strictEqual(yield* guard(Effect.succeed("done")), "done")
      stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))
      // any other failure to write is an error of the command
      const full = ExitCode.verdict(new Output.OutputError({ stream: "stdout", code: "ENOSPC" }))
      assert.strictEqual(full.code, ExitCode.FAILURE)
      deepStrictEqual(full.message, Option.some("orq: could not write to stdout: ENOSPC"))
    }))

  it.effect("the README and --help document every exit code, delete --json's shape and update --tag replacing", () =>
    Effect.gen(function*() {
      const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
      for (const code of [ExitCode.OK, ExitCode.FAILURE, ExitCode.USAGE, ExitCode.INTERRUPTED, ExitCode.PIPE_CLOSED]) {
        assert.include(readme, `| \`${code}\` |`, `exit code ${code}`)
      }
      assert.include(readme, "`{\"id\": \"<the id given>\", \"deleted\": true}`")
      assert.include(readme, "`--tag` on `update` replaces the whole list")
      const { client } = yield* untouchable
      const root = yield* runWith(client, ["--help"], { colour: false })
      for (const code of ["0 ok", "1 API", "2 usage", "130 interrupted", "141 output"]) assert.include(root.out, code)
      const remove = yield* runWith(client, ["identities", "delete", "--help"], { colour: false })
      assert.include(remove.out, "Print {\"id\": <id>, \"deleted\": true}")
      const update = yield* runWith(client, ["identities", "update", "--help"], { colour: false })
      assert.include(update.out, "Replace all tags with these")
    }).pipe(Effect.provide(NodeContext.layer)))

  it("a message from the server cannot drive the terminal", () => {
    const verdict = ExitCode.verdict(new ServerError({ status: 500, message: "boom\u001b[2J\r" }))
    assert.notInclude(Option.getOrThrow(verdict.message), "\u001b")
    assert.include(Option.getOrThrow(verdict.message), "boom\\u001b[2J\\u000d")
  })
})
