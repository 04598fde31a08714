/**
 * The `orq` CLI as a user runs it: `node --import tsx packages/app/src/bin.ts …` from the repository root, as a
 * child process, with a temporary `ORQ_LOCAL_STATE` and no `ORQ_API_KEY` / `ORQ_BASE_URL` (the embedded local
 * orq) unless a test points it at a server of its own.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Command from "@effect/platform/Command"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { IdentityStore } from "@orq-effect/client"
import { Identity } from "@orq-effect/domain/Identity"
import { Effect, Option, Redacted, Stream } from "effect"
import { fileURLToPath } from "node:url"
import * as FakeOrq from "../src/FakeOrq.js"
import * as LocalState from "../src/LocalState.js"

const ROOT = fileURLToPath(new URL("../../..", import.meta.url))
const BIN = "packages/app/src/bin.ts"
const TIMEOUT = 120_000

/** The test runner's environment without any orq or OpenTelemetry setting. */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith("ORQ_") && !key.startsWith("OTEL_"))
)

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `pnpm orq`'s launcher: the CLI bundled from the sources (rebuilt when they change). */
const LAUNCHER = "packages/app/scripts/orq.mjs"

const orqCommand = (args: ReadonlyArray<string>, env: Record<string, string>, launcher = false) =>
  Command.make("node", ...(launcher ? [LAUNCHER] : ["--import", "tsx", BIN]), ...args).pipe(
    Command.workingDirectory(ROOT),
    Command.env({ ...cleanEnv, ...env }, { extendEnv: false })
  )

/** Runs `orq args` to completion, from the sources through tsx or, with `launcher`, as `pnpm orq` does. */
const orq = (args: ReadonlyArray<string>, env: Record<string, string>, launcher = false) =>
  Effect.scoped(Effect.gen(function*() {
    const child = yield* Command.start(orqCommand(args, env, launcher))
    const [stdout, stderr, code] = yield* Effect.all([
      Stream.mkString(Stream.decodeText(child.stdout)),
      Stream.mkString(Stream.decodeText(child.stderr)),
      child.exitCode
    ], { concurrency: "unbounded" })
    return { code, stdout, stderr } satisfies Run
  }))

/** A temp directory for the test, and the environment of an embedded orq whose state lives in it. */
const embedded = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "orq-cli-" })
  const state = path.join(dir, "state.json")
  return { dir, state, env: { ORQ_LOCAL_STATE: state } }
})

const EMBEDDED_NOTICE = "using the embedded local orq"

const count = (text: string, part: string) => text.split(part).length - 1

const parse = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text)
  assert.isTrue(typeof value === "object" && value !== null && !Array.isArray(value), `not a JSON object: ${text}`)
  return value as Record<string, unknown>
}

const assertOk = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}, stderr: ${run.stderr}`)

describe.concurrent("orq CLI", () => {
  it.scopedLive(
    "the README's job, through pnpm orq's launcher: update user_12345, then a second run shows it",
    () =>
      Effect.gen(function*() {
        const { env, state } = yield* embedded
        const updated = yield* orq(
          ["identities", "update", "user_12345", "--display-name", "Jane Smith-Wilson", "--tag", "premium"],
          env,
          true
        )
        assertOk(updated)
        assert.match(updated.stdout, /^display_name\s+Jane Smith-Wilson$/m)
        assert.match(updated.stdout, /^tags\s+premium$/m)
        assert.strictEqual(count(updated.stderr, EMBEDDED_NOTICE), 1)

        const got = yield* orq(["identities", "get", "user_12345", "--json"], env, true)
        assertOk(got)
        const jane = parse(got.stdout)
        assert.strictEqual(jane._id, "contact_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        assert.strictEqual(jane.external_id, "user_12345")
        assert.strictEqual(jane.display_name, "Jane Smith-Wilson")
        deepStrictEqual(jane.tags, ["premium"])
        // untouched fields keep the seed's values
        assert.strictEqual(jane.email, "jane.smith@example.com")
        deepStrictEqual(jane.metadata, LocalState.seed.metadata)
        assert.notStrictEqual(jane.updated, jane.created)

        const saved = Option.getOrThrow(yield* LocalState.load(state))
        deepStrictEqual(saved[0].displayName, Option.some("Jane Smith-Wilson"))
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "create, get, list, update, delete: readable by default, the API's wire with --json",
    () =>
      Effect.gen(function*() {
        const { env } = yield* embedded
        const created = yield* orq([
          "identities",
          "create",
          "user_67890",
          "--display-name",
          "Ada \u001b[2J Lovelace",
          "--email",
          "ada@example.com",
          "--avatar-url",
          "https://example.com/ada.png",
          "--tag",
          "beta-user",
          "--tag",
          "math",
          "--metadata",
          "{\"plan\":\"pro\",\"seats\":3}",
          "--json"
        ], env)
        assertOk(created)
        const ada = parse(created.stdout)
        assert.match(String(ada._id), /^identity_[0-9A-Z]{26}$/)
        assert.strictEqual(ada.external_id, "user_67890")
        assert.strictEqual(ada.email, "ada@example.com")
        assert.strictEqual(ada.avatar_url, "https://example.com/ada.png")
        deepStrictEqual(ada.tags, ["beta-user", "math"])
        deepStrictEqual(ada.metadata, { plan: "pro", seats: 3 })

        const [byId, listed] = yield* Effect.all([
          orq(["identities", "get", String(ada._id)], env),
          orq(["identities", "list", "--json"], env)
        ], { concurrency: "unbounded" })
        assertOk(byId)
        assert.match(byId.stdout, /^external_id\s+user_67890$/m)
        assert.match(byId.stdout, /^metadata\s+plan=pro$/m)
        assert.match(byId.stdout, /^\s+seats=3$/m)
        // a control character stored in a name is shown escaped, never sent to the terminal
        assert.include(byId.stdout, "Ada \\u001b[2J Lovelace")
        assert.notInclude(byId.stdout, "\u001b")
        assertOk(listed)
        const page = parse(listed.stdout)
        assert.strictEqual(page.object, "list")
        assert.strictEqual(page.has_more, false)
        deepStrictEqual(
          (page.data as Array<Record<string, unknown>>).map((identity) => identity.external_id),
          ["user_12345", "user_67890"]
        )

        const cleared = yield* orq(
          ["identities", "update", "user_67890", "--clear-email", "--clear-tags", "--display-name", "Ada", "--json"],
          env
        )
        assertOk(cleared)
        const after = parse(cleared.stdout)
        assert.strictEqual(after.email, null)
        deepStrictEqual(after.tags, [])
        assert.strictEqual(after.display_name, "Ada")
        assert.strictEqual(after.avatar_url, "https://example.com/ada.png")

        const deleted = yield* orq(["identities", "delete", "user_67890", "--json"], env)
        assertOk(deleted)
        deepStrictEqual(parse(deleted.stdout), { id: "user_67890", deleted: true })
        const gone = yield* orq(["identities", "get", "user_67890"], env)
        assert.strictEqual(gone.code, 1)
        assert.match(gone.stderr, /NotFound \(HTTP 404, request id \S+\)/)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "usage errors exit 2 naming the flag, print nothing on stdout, and never touch the state",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        // the four the issue names; CliCommands.test.ts runs every refused input in process
        const cases: ReadonlyArray<readonly [args: ReadonlyArray<string>, says: string]> = [
          [["identities", "create", "user_1", "--email", "not-an-email"], "--email"],
          [["identities", "list", "--limit", "0"], "--limit"],
          [["identities", "get", "user_12345", "--bogus"], "--bogus"],
          [
            ["identities", "update", "user_12345", "--display-name", "A", "--clear-display-name"],
            "--clear-display-name"
          ]
        ]
        // a state file that exists must stay byte for byte as it is
        const existing = yield* embedded
        yield* LocalState.save(existing.state, [LocalState.seed])
        const before = yield* fs.readFileString(existing.state)
        const runs = yield* Effect.forEach(cases, ([args, says]) =>
          Effect.gen(function*() {
            const fresh = yield* embedded
            const run = yield* orq(args, fresh.env)
            assert.strictEqual(run.code, 2, `${args.join(" ")}: exit ${run.code}, stderr: ${run.stderr}`)
            assert.include(run.stderr, says, args.join(" "))
            assert.strictEqual(run.stdout, "", args.join(" "))
            assert.notInclude(run.stderr, EMBEDDED_NOTICE, args.join(" "))
            assert.notInclude(run.stderr, "    at ", args.join(" "))
            deepStrictEqual(yield* fs.readDirectory(fresh.dir), [], args.join(" "))
            return run
          }), { concurrency: "unbounded" })
        assert.strictEqual(runs.length, cases.length)
        const refused = yield* orq(["identities", "update", "user_12345", "--email", "nope"], existing.env)
        assert.strictEqual(refused.code, 2)
        assert.strictEqual(yield* fs.readFileString(existing.state), before)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "configuration: ORQ_BASE_URL without ORQ_API_KEY, or an empty key, exit 2 naming ORQ_API_KEY",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { dir, env } = yield* embedded
        const [noKey, emptyKey] = yield* Effect.all([
          orq(["identities", "get", "user_12345"], { ...env, ORQ_BASE_URL: "http://127.0.0.1:9" }),
          orq(["identities", "get", "user_12345"], { ...env, ORQ_API_KEY: "" })
        ], { concurrency: "unbounded" })
        for (const run of [noKey, emptyKey]) {
          assert.strictEqual(run.code, 2, run.stderr)
          assert.include(run.stderr, "ORQ_API_KEY")
          assert.strictEqual(run.stdout, "")
        }
        // none of them fell back to the local state
        deepStrictEqual(yield* fs.readDirectory(dir), [])
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "configuration: an OTLP endpoint that is not an http(s) URL exits 2 naming the variable, and nothing runs",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { dir, env } = yield* embedded
        const run = yield* orq(["identities", "get", "user_12345"], {
          ...env,
          OTEL_EXPORTER_OTLP_ENDPOINT: "not a url"
        })
        assert.strictEqual(run.code, 2, run.stderr)
        assert.match(run.stderr, /^orq: configuration error: .*OTEL_EXPORTER_OTLP_ENDPOINT/)
        assert.notInclude(run.stderr, "    at ")
        assert.strictEqual(run.stdout, "")
        deepStrictEqual(yield* fs.readDirectory(dir), [])
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "an API error exits 1 naming the error, the HTTP status and the request id",
    () =>
      Effect.gen(function*() {
        const { env } = yield* embedded
        const taken = yield* orq(["identities", "create", "user_12345"], env)
        assert.strictEqual(taken.code, 1)
        assert.match(taken.stderr, /orq: Conflict \(HTTP 409, request id \S+\): .*user_12345/)
        assert.strictEqual(taken.stdout, "")
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "with ORQ_API_KEY the commands go to that server, and the key is never printed",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { dir, env } = yield* embedded
        const key = "sk-live-test-key-0123456789"
        const store = yield* IdentityStore.make([LocalState.seed])
        const url = yield* FakeOrq.start({ store, apiKey: Redacted.make(key) })
        const [good, wrong] = yield* Effect.all([
          orq(["identities", "update", "user_12345", "--email", "jane@example.org", "--json"], {
            ...env,
            ORQ_API_KEY: key,
            ORQ_BASE_URL: url
          }),
          orq(["identities", "get", "user_12345"], {
            ...env,
            ORQ_API_KEY: "sk-wrong-key-9876543210",
            ORQ_BASE_URL: url
          })
        ], { concurrency: "unbounded" })
        assertOk(good)
        assert.strictEqual(parse(good.stdout).email, "jane@example.org")
        assert.notInclude(good.stderr, EMBEDDED_NOTICE)
        deepStrictEqual((yield* store.retrieve("user_12345")).email, Option.some("jane@example.org"))
        assert.strictEqual(wrong.code, 1)
        assert.match(wrong.stderr, /orq: Unauthorized \(HTTP 401, request id \S+\)/)
        for (const run of [good, wrong]) {
          assert.notInclude(run.stdout + run.stderr, key)
          assert.notInclude(run.stdout + run.stderr, "sk-wrong-key-9876543210")
        }
        // the local state was never used
        deepStrictEqual(yield* fs.readDirectory(dir), [])
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "list walks pages: --all --json prints every identity as one JSON line, in order",
    () =>
      Effect.gen(function*() {
        const { env, state } = yield* embedded
        const others = Array.from({ length: 23 }, (_, i) =>
          new Identity({
            ...LocalState.seed,
            id: `identity_${String(i + 1).padStart(4, "0")}`,
            externalId: `user_${i + 1}`,
            tags: i % 2 === 0 ? ["even"] : ["odd"]
          }))
        yield* LocalState.save(state, [LocalState.seed, ...others])
        const [all, page, evens] = yield* Effect.all([
          orq(["identities", "list", "--all", "--json", "--limit", "5"], env),
          orq(["identities", "list", "--limit", "5"], env),
          orq(["identities", "list", "--all", "--tag", "even", "--limit", "4"], env)
        ], { concurrency: "unbounded" })
        assertOk(all)
        const lines = all.stdout.trimEnd().split("\n")
        assert.strictEqual(lines.length, 24)
        deepStrictEqual(lines.map((line) => parse(line).external_id), [
          "user_12345",
          ...others.map((identity) => identity.externalId)
        ])
        assertOk(page)
        const [header, ...rows] = page.stdout.trimEnd().split("\n")
        assert.match(header, /^_ID\s+EXTERNAL_ID\s+DISPLAY_NAME\s+EMAIL\s+TAGS$/)
        assert.strictEqual(rows.length, 5)
        assert.match(rows[1], /^identity_0001\s+user_1\s+Jane Smith\s+jane\.smith@example\.com\s+even$/)
        assert.match(page.stderr, /more identities: --starting-after identity_0004/)
        assertOk(evens)
        assert.strictEqual(evens.stdout.trimEnd().split("\n").length, 1 + 12)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "a reader closing stdout early (| head) stops the command quietly, exit 141, the state file released",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { dir, env, state } = yield* embedded
        // more than a pipe holds (64 KiB): some write is bound to find the reader gone
        const identities = Array.from({ length: 40 }, (_, i) =>
          new Identity({
            ...LocalState.seed,
            id: `identity_${String(i + 1).padStart(4, "0")}`,
            externalId: `user_${i + 1}`,
            metadata: { padding: "x".repeat(4000) }
          }))
        yield* LocalState.save(state, identities)
        const before = yield* fs.readFileString(state)
        const piped = Command.make(
          "bash",
          "-c",
          `node --import tsx ${BIN} identities list --all --json --limit 50 | head -c 10 >/dev/null; exit \${PIPESTATUS[0]}`
        ).pipe(Command.workingDirectory(ROOT), Command.env({ ...cleanEnv, ...env }, { extendEnv: false }))
        const child = yield* Command.start(piped)
        const [stderr, code] = yield* Effect.all([
          Stream.mkString(Stream.decodeText(child.stderr)),
          child.exitCode
        ], { concurrency: "unbounded" })
        assert.strictEqual(code, 141, stderr)
        assert.notInclude(stderr, "EPIPE")
        assert.notInclude(stderr, "    at ")
        // the finalizers ran: the lock is gone, the state is as it was
        deepStrictEqual(yield* fs.readDirectory(dir), ["state.json"])
        assert.strictEqual(yield* fs.readFileString(state), before)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "a corrupt state file is a clear error, without a stack trace, and is left as it was",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { env, state } = yield* embedded
        yield* fs.writeFileString(state, "{\"version\":1,\"identities\":[{\"external_id\":")
        const run = yield* orq(["identities", "get", "user_12345"], env)
        assert.strictEqual(run.code, 2)
        assert.include(run.stderr, `${state} is not a valid orq local state file`)
        assert.notInclude(run.stderr, "    at ")
        assert.strictEqual(yield* fs.readFileString(state), "{\"version\":1,\"identities\":[{\"external_id\":")
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive("a mistyped command or flag is one `orq: …` line on stderr, exit 2", () =>
    Effect.gen(function*() {
      const { env } = yield* embedded
      const cases = [
        [
          ["identities", "bogus"],
          "orq: unknown command 'bogus' for 'orq identities' (get, list, create, update, delete)\n"
        ],
        [["identities", "get"], "orq: Missing argument <id>\n"],
        [["identities", "get", "user_12345", "--bogus"], "orq: Received unknown argument: '--bogus'\n"]
      ] as const
      for (const [args, stderr] of cases) {
        const run = yield* orq(args, env)
        assert.strictEqual(run.code, 2, args.join(" "))
        assert.strictEqual(run.stderr, stderr, args.join(" "))
        assert.strictEqual(run.stdout, "", args.join(" "))
      }
    }).pipe(Effect.provide(NodeContext.layer)), TIMEOUT)

  it.scopedLive("--help shows the command's examples and starts nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { dir, env } = yield* embedded
      const run = yield* orq(["identities", "update", "--help"], env)
      assertOk(run)
      assert.include(
        run.stdout,
        "$ orq identities update user_12345 --display-name \"Jane Smith-Wilson\" --tag premium"
      )
      // stdout is a pipe here: no colour codes
      assert.notInclude(run.stdout, "\u001b")
      deepStrictEqual(yield* fs.readDirectory(dir), [])
    }).pipe(Effect.provide(NodeContext.layer)), TIMEOUT)
})
