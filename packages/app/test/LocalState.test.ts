import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Command from "@effect/platform/Command"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, layer } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Identity } from "@orq-effect/domain/Identity"
import { Chunk, Deferred, Duration, Effect, Either, Fiber, Option, Stream, TestClock } from "effect"
import { hostname } from "node:os"
import { fileURLToPath } from "node:url"
import * as LocalState from "../src/LocalState.js"

const APP_DIR = fileURLToPath(new URL("..", import.meta.url))
const LOCAL_STATE_TS = fileURLToPath(new URL("../src/LocalState.ts", import.meta.url))

/** A fresh directory for the test's scope, and the state file path in it. */
const tempState = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "orq-local-state-" })
  return { dir, file: path.join(dir, "state.json") }
})

const identity = (n: number) =>
  new Identity({ ...LocalState.seed, id: `identity_${String(n).padStart(6, "0")}`, externalId: `user_${n}` })

layer(NodeContext.layer)("LocalState", (it) => {
  it.scoped("a first use seeds the example identity and writes it at once", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { file } = yield* tempState
      const jane = yield* Effect.scoped(
        Effect.flatMap(LocalState.store(file), (store) => store.retrieve("user_12345"))
      )
      assert.strictEqual(jane.id, "contact_01ARZ3NDEKTSV4RRFFQ69G5FAV")
      deepStrictEqual(jane.displayName, Option.some("Jane Smith"))
      deepStrictEqual(jane.email, Option.some("jane.smith@example.com"))
      deepStrictEqual(jane.avatarUrl, Option.some("https://example.com/avatars/jane-smith.jpg"))
      deepStrictEqual(jane.tags, ["premium", "beta-user", "enterprise"])
      assert.strictEqual(jane.metadata.department, "Engineering")
      const saved = yield* LocalState.load(file)
      deepStrictEqual(Option.map(saved, (all) => all.map((one) => one.externalId)), Option.some(["user_12345"]))
      // the lock is gone with the scope
      assert.isFalse(yield* fs.exists(`${file}.lock`))
    }))

  it.scoped("every change is saved before it is answered, atomically, readable by the owner only", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { dir, file } = yield* tempState
      const store = yield* LocalState.store(file)
      for (let n = 1; n <= 15; n++) {
        yield* store.create({ externalId: `user_${n}`, email: `user${n}@example.com`, tags: ["t"] })
        // no temp file is ever left next to the state, and what is on disk is the whole state
        deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["state.json", "state.json.lock"])
        const saved = yield* LocalState.load(file)
        deepStrictEqual(Option.map(saved, (all) => all.length), Option.some(n + 1))
      }
      yield* store.update("user_3", { displayName: "Three", email: null })
      yield* store.delete("user_12345")
      const saved = Option.getOrThrow(yield* LocalState.load(file))
      deepStrictEqual(saved.map((one) => one.externalId).includes("user_12345"), false)
      const three = saved.find((one) => one.externalId === "user_3")
      deepStrictEqual(three?.displayName, Option.some("Three"))
      deepStrictEqual(three?.email, Option.none())
      assert.strictEqual((yield* fs.stat(file)).mode & 0o777, 0o600)
    }))

  it.scoped("a file that is not a state file is refused as Corrupt, naming the file but no value, and kept", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { file } = yield* tempState
      const cases = [
        "{not json",
        "",
        JSON.stringify({ version: 1, identities: [{ _id: 7, external_id: "x", email: "secret@example.com" }] }),
        JSON.stringify({ version: 2, identities: [] })
      ]
      for (const content of cases) {
        yield* fs.writeFileString(file, content)
        const error = yield* Effect.flip(Effect.scoped(LocalState.store(file)))
        assert.strictEqual(error.reason, "Corrupt")
        assert.include(error.message, file)
        assert.notInclude(error.message, "secret@example.com")
        assert.strictEqual(yield* fs.readFileString(file), content)
      }
    }))

  it.scoped("a second holder is refused as Busy while the first holds the file, and let in after", () =>
    Effect.gen(function*() {
      const { file } = yield* tempState
      const refused = yield* Effect.scoped(
        Effect.zipRight(LocalState.store(file), Effect.flip(Effect.scoped(LocalState.store(file, { lockWait: 0 }))))
      )
      assert.strictEqual(refused.reason, "Busy")
      assert.include(refused.message, `pid ${process.pid}`)
      const again = yield* Effect.scoped(Effect.flatMap(LocalState.store(file, { lockWait: 0 }), (store) => store.all))
      assert.strictEqual(again.length, 1)
    }))

  it.scoped("a lock left by a dead process, or an old empty one, is taken over; a fresh empty one is not", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { file } = yield* tempState
      const lockFile = `${file}.lock`
      // above Linux's largest pid_max: no process has it
      yield* fs.writeFileString(lockFile, `${2 ** 22 + 1}\n`)
      assert.isTrue(Either.isRight(yield* Effect.either(Effect.scoped(LocalState.store(file, { lockWait: 0 })))))
      yield* fs.writeFileString(lockFile, "")
      const fresh = yield* Effect.flip(Effect.scoped(LocalState.store(file, { lockWait: 0 })))
      assert.strictEqual(fresh.reason, "Busy")
      // an empty lock older than a couple of seconds is a writer killed between create and write
      yield* fs.utimes(lockFile, new Date(0), new Date(0))
      yield* TestClock.adjust(Duration.minutes(1))
      assert.isTrue(Either.isRight(yield* Effect.either(Effect.scoped(LocalState.store(file, { lockWait: 0 })))))
      assert.isFalse(yield* fs.exists(lockFile))
    }))

  it.scoped("a lock holding this process's own pid, held by none of its fibers, is a leftover and taken over", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { dir, file } = yield* tempState
      const lockFile = `${file}.lock`
      // a container's PID 1 killed by SIGKILL, then started again with the same pid
      yield* fs.writeFileString(lockFile, `${process.pid}\n`)
      yield* Effect.scoped(Effect.gen(function*() {
        yield* LocalState.store(file, { lockWait: 0 })
        // held now: refused to another opener of this process, however the path is spelled
        // (a string: path.join would drop the "." and spell it the same)
        const refused = yield* Effect.flip(Effect.scoped(LocalState.store(`${dir}/./state.json`, { lockWait: 0 })))
        assert.strictEqual(refused.reason, "Busy")
      }))
      assert.isFalse(yield* fs.exists(lockFile))
      // a fiber that found the leftover and is about to move it aside, while another takes it over first and holds
      // the lock: the first must not move the new lock (holding the same pid) away as if it were the leftover
      yield* fs.writeFileString(lockFile, `${process.pid}\n`)
      const aboutToMove = yield* Deferred.make<void>()
      const holding = yield* Deferred.make<void>()
      const done = yield* Deferred.make<void>()
      const late = FileSystem.FileSystem.of({
        ...fs,
        rename: (from, to) =>
          Deferred.succeed(aboutToMove, undefined).pipe(
            Effect.zipRight(Deferred.await(holding)),
            Effect.zipRight(fs.rename(from, to))
          )
      })
      const first = yield* Effect.scoped(LocalState.store(file, { lockWait: 0 })).pipe(
        Effect.provideService(FileSystem.FileSystem, late),
        Effect.flip,
        Effect.fork
      )
      yield* Deferred.await(aboutToMove)
      const second = yield* Effect.scoped(
        LocalState.store(file, { lockWait: 0 }).pipe(
          Effect.zipRight(Deferred.succeed(holding, undefined)),
          Effect.zipRight(Deferred.await(done))
        )
      ).pipe(Effect.fork)
      const refused = yield* Fiber.join(first)
      assert.strictEqual(refused.reason, "Busy")
      assert.strictEqual((yield* fs.readFileString(lockFile)).trim(), `${process.pid} ${hostname()}`)
      yield* Deferred.succeed(done, undefined)
      yield* Fiber.join(second)
      assert.isFalse(yield* fs.exists(lockFile))
    }))

  it.scoped("a lock of another host is never taken over: its processes cannot be seen from here", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { file } = yield* tempState
      const lockFile = `${file}.lock`
      // two containers sharing the state file, both PID 1; and a pid no process here has
      for (const pid of [process.pid, 2 ** 22 + 1]) {
        yield* fs.writeFileString(lockFile, `${pid} another-host\n`)
        const refused = yield* Effect.flip(Effect.scoped(LocalState.store(file, { lockWait: 0 })))
        assert.strictEqual(refused.reason, "Busy")
        assert.include(refused.message, `pid ${pid} on another-host`)
        assert.strictEqual(yield* fs.readFileString(lockFile), `${pid} another-host\n`)
      }
    }))

  it.scoped("temp files left by a killed writer are removed when the file is next opened", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { dir, file } = yield* tempState
      yield* Effect.scoped(LocalState.store(file))
      yield* fs.writeFileString(`${file}.4242.abc.tmp`, "{\"version\":1,\"ident")
      yield* fs.writeFileString(`${dir}/other.json.1.x.tmp`, "not ours")
      yield* Effect.scoped(LocalState.store(file))
      deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["other.json.1.x.tmp", "state.json"])
    }))

  /** A process saving a growing state in a bounded loop, printing the count after each save. */
  const writer = (file: string) =>
    Command.make(
      "node",
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `
      const LocalState = await import(${JSON.stringify(LOCAL_STATE_TS)})
      const { Identity } = await import("@orq-effect/domain/Identity")
      const NodeContext = await import("@effect/platform-node/NodeContext")
      const { Effect } = await import("effect")
      const identities = [LocalState.seed]
      for (let n = 1; n <= 5000; n++) {
        identities.push(new Identity({ ...LocalState.seed, id: "identity_" + String(n).padStart(6, "0"),
          externalId: "user_" + n, metadata: { padding: "x".repeat(2000) } }))
        await Effect.runPromise(Effect.provide(LocalState.save(process.argv[1], identities), NodeContext.layer))
        console.log(n)
      }
      `,
      file
    ).pipe(Command.workingDirectory(APP_DIR))

  it.scoped(
    "kill -9 in the middle of a write loop leaves a file that parses, holding a whole state",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const killAfter = [3, 17, 41]
        const results = yield* Effect.forEach(killAfter, (writes) =>
          Effect.gen(function*() {
            const dir = yield* fs.makeTempDirectoryScoped({ prefix: "orq-kill9-" })
            const file = path.join(dir, "state.json")
            const child = yield* Command.start(writer(file))
            const seen = yield* child.stdout.pipe(
              Stream.decodeText(),
              Stream.splitLines,
              Stream.take(writes),
              Stream.runCollect
            )
            assert.strictEqual(Chunk.size(seen), writes)
            yield* child.kill("SIGKILL")
            yield* Effect.ignore(child.exitCode)
            const saved = Option.getOrThrow(yield* LocalState.load(file))
            // at least what was reported saved, each identity whole, in order
            assert.isAtLeast(saved.length, writes + 1)
            deepStrictEqual(saved.map((one) => one.externalId), [
              "user_12345",
              ...Array.from({ length: saved.length - 1 }, (_, i) => `user_${i + 1}`)
            ])
            // opening it again cleans whatever temp file the kill left
            const reopened = yield* Effect.scoped(Effect.flatMap(LocalState.store(file), (store) => store.all))
            assert.strictEqual(reopened.length, saved.length)
            deepStrictEqual(yield* fs.readDirectory(dir), ["state.json"])
            return saved.length
          }), { concurrency: "unbounded" })
        assert.strictEqual(results.length, killAfter.length)
      }),
    120_000
  )

  it.effect("identities keep every field through save and load", () =>
    Effect.gen(function*() {
      const { file } = yield* tempState
      const all = [LocalState.seed, identity(1), identity(2)]
      yield* LocalState.save(file, all)
      const loaded = Option.getOrThrow(yield* LocalState.load(file))
      deepStrictEqual(loaded, all)
    }).pipe(Effect.scoped))
})
