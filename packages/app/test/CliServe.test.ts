/**
 * `orq serve` as a user runs it: a child process on a free loopback port over a temp state file, reached with
 * fetch, a raw socket and the CLI itself, then stopped with SIGTERM.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Command from "@effect/platform/Command"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Deferred, Effect, Option, Queue, Stream } from "effect"
import * as Net from "node:net"
import { fileURLToPath } from "node:url"
import * as LocalState from "../src/LocalState.js"

const ROOT = fileURLToPath(new URL("../../..", import.meta.url))
const BIN = "packages/app/src/bin.ts"
const TIMEOUT = 120_000

const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith("ORQ_") && !key.startsWith("OTEL_"))
)

const command = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Command.make("node", "--import", "tsx", BIN, ...args).pipe(
    Command.workingDirectory(ROOT),
    Command.env({ ...cleanEnv, ...env }, { extendEnv: false })
  )

/** Runs `orq args` to completion. */
const orq = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.scoped(Effect.gen(function*() {
    const child = yield* Command.start(command(args, env))
    const [stdout, stderr, code] = yield* Effect.all([
      Stream.mkString(Stream.decodeText(child.stdout)),
      Stream.mkString(Stream.decodeText(child.stderr)),
      child.exitCode
    ], { concurrency: "unbounded" })
    return { code, stdout, stderr }
  }))

/** Lines of `stream` as they come, in a queue. */
const linesOf = (stream: Stream.Stream<Uint8Array, unknown>) =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<string>()
    yield* stream.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) => Queue.offer(queue, line)),
      Effect.ignore,
      Effect.forkScoped
    )
    return queue
  })

/** Takes lines until one matches `pattern`; returns the match (bounded by the test's timeout). */
const waitFor = (lines: Queue.Queue<string>, pattern: RegExp): Effect.Effect<RegExpMatchArray> =>
  Effect.flatMap(Queue.take(lines), (line) => {
    const match = line.match(pattern)
    return match === null ? waitFor(lines, pattern) : Effect.succeed(match)
  })

/** `orq serve args` for the test's scope: the URL it printed, its stderr lines, and the process. */
const serve = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const child = yield* Command.start(command(["serve", "--port", "0", ...args], env))
    const stdout = yield* linesOf(child.stdout)
    const stderr = yield* linesOf(child.stderr)
    const [, url] = yield* waitFor(stdout, /^orq serve: listening on (http:\/\/127\.0\.0\.1:\d+)$/)
    return { child, url, stderr }
  })

/** A temp state file path (not created). */
const tempState = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "orq-serve-" })
  return { dir, state: path.join(dir, "state.json") }
})

/** A raw HTTP/1.1 connection, to hold a request in flight. Resolves `answer` with all it receives. */
const rawConnection = (url: string) =>
  Effect.gen(function*() {
    const { hostname, port } = new URL(url)
    const answer = yield* Deferred.make<string>()
    const socket = yield* Effect.acquireRelease(
      Effect.async<Net.Socket>((resume) => {
        const socket = Net.connect(Number(port), hostname, () => resume(Effect.succeed(socket)))
        let received = ""
        socket.on("data", (chunk) => void (received += chunk.toString("utf8")))
        socket.on("close", () => Deferred.unsafeDone(answer, Effect.succeed(received)))
        socket.on("error", () => undefined)
      }),
      (socket) => Effect.sync(() => socket.destroy())
    )
    const write = (text: string) => Effect.async<void>((resume) => void socket.write(text, () => resume(Effect.void)))
    return { write, answer: Deferred.await(answer) }
  })

describe.concurrent("orq serve", () => {
  it.scopedLive(
    "serves the state over HTTP, holds it against other writers, and on SIGTERM lets a request in flight finish",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { dir, state } = yield* tempState
        const { child, stderr, url } = yield* serve(["--state", state])

        // plain HTTP, any key (none is required)
        const created = yield* Effect.promise(() =>
          fetch(`${url}/v2/identities`, {
            method: "POST",
            headers: { authorization: "Bearer anything", "content-type": "application/json" },
            body: JSON.stringify({ external_id: "via_fetch", email: "fetch@example.com" })
          })
        )
        assert.strictEqual(created.status, 201)

        // a request whose body is only half sent
        const body = JSON.stringify({ external_id: "in_flight", display_name: "Still Sending" })
        const inFlight = yield* rawConnection(url)
        yield* inFlight.write(
          "POST /v2/identities HTTP/1.1\r\nHost: orq\r\nAuthorization: Bearer anything\r\nConnection: close\r\n" +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
            body.slice(0, 10)
        )

        // the CLI reaches it as a remote orq; the embedded target on the same file is refused
        const [remote, embedded] = yield* Effect.all([
          orq(["identities", "get", "via_fetch", "--json"], { ORQ_API_KEY: "anything", ORQ_BASE_URL: url }),
          orq(["identities", "get", "user_12345"], { ORQ_LOCAL_STATE: state })
        ], { concurrency: "unbounded" })
        assert.strictEqual(remote.code, 0, remote.stderr)
        assert.strictEqual(JSON.parse(remote.stdout).email, "fetch@example.com")
        assert.strictEqual(embedded.code, 1)
        assert.include(embedded.stderr, "LocalStateError (Busy)")
        assert.include(embedded.stderr, "ORQ_BASE_URL")

        // stop it while the request is in flight, then finish sending (`kill` waits for the exit: fork it)
        const stopped = yield* Effect.fork(child.kill("SIGTERM"))
        yield* waitFor(stderr, /stopping/)
        yield* inFlight.write(body.slice(10))
        const answer = yield* inFlight.answer
        assert.match(answer, /^HTTP\/1\.1 201 /)
        assert.include(answer, "\"external_id\":\"in_flight\"")

        yield* stopped.await
        assert.strictEqual(yield* child.exitCode, 0)
        const saved = Option.getOrThrow(yield* LocalState.load(state))
        deepStrictEqual(saved.map((identity) => identity.externalId).sort(), [
          "in_flight",
          "user_12345",
          "via_fetch"
        ])
        // the lock is released, no temp file is left
        deepStrictEqual(yield* fs.readDirectory(dir), ["state.json"])
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "--api-key is required on every request; --generation current answers wrapped identities",
    () =>
      Effect.gen(function*() {
        const { state } = yield* tempState
        const { child, url } = yield* serve(["--state", state, "--api-key", "local-secret", "--generation", "current"])
        const get = (key: string) =>
          Effect.promise(async () => {
            const response = await fetch(`${url}/v2/identities/user_12345`, {
              headers: { authorization: `Bearer ${key}` }
            })
            return { status: response.status, body: await response.json() }
          })
        const [wrong, right] = yield* Effect.all([get("not-the-key"), get("local-secret")])
        assert.strictEqual(wrong.status, 401)
        assert.strictEqual(right.status, 200)
        assert.strictEqual(right.body.identity.external_id, "user_12345")
        yield* child.kill("SIGINT")
        assert.strictEqual(yield* child.exitCode, 0)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "the key can come from ORQ_SERVE_API_KEY instead of the command line; an empty one is refused",
    () =>
      Effect.gen(function*() {
        const { state } = yield* tempState
        const { child, url } = yield* serve(["--state", state], { ORQ_SERVE_API_KEY: "env-secret" })
        const status = (key: string) =>
          Effect.promise(async () => {
            const response = await fetch(`${url}/v2/identities/user_12345`, {
              headers: { authorization: `Bearer ${key}` }
            })
            await response.arrayBuffer()
            return response.status
          })
        deepStrictEqual(yield* Effect.all([status("not-the-key"), status("env-secret")]), [401, 200])
        yield* child.kill("SIGTERM")
        assert.strictEqual(yield* child.exitCode, 0)

        const empty = yield* orq(["serve", "--port", "0", "--state", state], { ORQ_SERVE_API_KEY: "" })
        assert.strictEqual(empty.code, 2)
        assert.strictEqual(empty.stderr, "orq: --api-key (or ORQ_SERVE_API_KEY): must not be empty\n")
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "a port in use fails with exit 1 and leaves no new state file behind; an existing one is kept",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const first = yield* tempState
        const { child, url } = yield* serve(["--state", first.state])
        const port = new URL(url).port

        const { dir, state } = yield* tempState
        const refused = yield* orq(["serve", "--port", port, "--state", state], {})
        assert.strictEqual(refused.code, 1)
        assert.include(refused.stderr, "EADDRINUSE")
        deepStrictEqual(yield* fs.readDirectory(dir), [])

        const existing = path.join(dir, "existing.json")
        yield* fs.writeFileString(existing, "{\"version\":1,\"identities\":[]}")
        const again = yield* orq(["serve", "--port", port, "--state", existing], {})
        assert.strictEqual(again.code, 1)
        deepStrictEqual(yield* fs.readDirectory(dir), ["existing.json"])
        assert.strictEqual(yield* fs.readFileString(existing), "{\"version\":1,\"identities\":[]}")

        yield* child.kill("SIGTERM")
        assert.strictEqual(yield* child.exitCode, 0)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.scopedLive(
    "--rate-limit answers 429 with Retry-After and X-RateLimit-* once the bucket is empty",
    () =>
      Effect.gen(function*() {
        const { state } = yield* tempState
        const { child, url } = yield* serve(["--state", state, "--rate-limit", "2/min"])
        // a bucket of 1 token refilled every 30 s: the second quick request finds it empty
        const statuses: Array<{ status: number; headers: Headers }> = []
        for (let i = 0; i < 2; i++) {
          statuses.push(
            yield* Effect.promise(async () => {
              const response = await fetch(`${url}/v2/identities/user_12345`)
              await response.arrayBuffer()
              return { status: response.status, headers: response.headers }
            })
          )
        }
        deepStrictEqual(statuses.map((answer) => answer.status), [200, 429])
        const limited = statuses[1].headers
        assert.strictEqual(limited.get("x-ratelimit-limit"), "1")
        assert.strictEqual(limited.get("x-ratelimit-remaining"), "0")
        assert.isAbove(Number(limited.get("retry-after")), 0)
        yield* child.kill("SIGTERM")
        assert.strictEqual(yield* child.exitCode, 0)
      }).pipe(Effect.provide(NodeContext.layer)),
    TIMEOUT
  )

  it.effect("--rate-limit refuses what is not a rate, naming the flag", () =>
    Effect.gen(function*() {
      const { stderr, code } = yield* orq(["serve", "--rate-limit", "fast"], {})
      assert.strictEqual(code, 2)
      assert.include(stderr, "--rate-limit")
    }).pipe(Effect.provide(NodeContext.layer)), TIMEOUT)
})
