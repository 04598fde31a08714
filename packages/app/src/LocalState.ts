/**
 * The persisted state of the embedded local orq: a JSON file holding every identity in the API's wire shape,
 * written atomically after every change (a temp file in the same directory, fsync, rename, fsync of the
 * directory), so that the file always parses, whatever kills the process. A `.lock` file next to it keeps two
 * orq processes from overwriting each other's changes.
 *
 * @since 0.1.0
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { IdentityStore } from "@orq-effect/client"
import { Identity } from "@orq-effect/domain/Identity"
import { decodeFailureReason } from "@orq-effect/domain/IdentityError"
import type { ParseResult } from "effect"
import { Clock, Console, DateTime, Duration, Effect, Option, Random, Schedule, Schema, type Scope } from "effect"
import { hostname } from "node:os"

/** Where the state lives when `ORQ_LOCAL_STATE` is not set, relative to the current directory. */
export const DEFAULT_PATH = ".orq-local.json"

/** Why the state file could not be used: unreadable content, an I/O failure, or another orq holds it. */
export class LocalStateError extends Schema.TaggedError<LocalStateError>()("LocalStateError", {
  path: Schema.String,
  reason: Schema.Literal("Corrupt", "Io", "Busy"),
  message: Schema.String
}) {}

/** The file's content. `version` lets a later format be told apart. */
export const StateFile = Schema.Struct({
  version: Schema.Literal(1),
  identities: Schema.Array(Identity)
}).annotations({ identifier: "StateFile" })

const decodeFile = Schema.decodeUnknown(Schema.parseJson(StateFile))
const encodeFile = Schema.encode(Schema.parseJson(StateFile, { space: 2 }))

const seedTime = DateTime.unsafeMake("2024-01-15T10:30:00Z")

/** The example identity of orq's "Update an identity" page, present on first use. */
export const seed: Identity = new Identity({
  id: "contact_01ARZ3NDEKTSV4RRFFQ69G5FAV",
  externalId: "user_12345",
  displayName: Option.some("Jane Smith"),
  email: Option.some("jane.smith@example.com"),
  avatarUrl: Option.some("https://example.com/avatars/jane-smith.jpg"),
  tags: ["premium", "beta-user", "enterprise"],
  metadata: {
    department: "Engineering",
    role: "Senior Developer",
    subscription_tier: "premium",
    last_login: "2024-01-15T10:30:00Z"
  },
  created: Option.some(seedTime),
  updated: Option.some(seedTime),
  workspaceId: Option.none(),
  metrics: Option.none()
})

const io = (path: string, what: string) => (error: { readonly message: string }) =>
  new LocalStateError({ path, reason: "Io", message: `${path}: could not ${what}: ${error.message}` })

/** A decode failure, naming paths in the file, never values (the file holds emails and names). */
const corrupt = (path: string, error: ParseResult.ParseError) =>
  new LocalStateError({
    path,
    reason: "Corrupt",
    message: `${path} is not a valid orq local state file (${
      decodeFailureReason(error)
    }); fix it, or move it away to start again from the example identity`
  })

/** The identities saved at `path`, or `None` when there is no file yet. */
export const load = (
  path: string
): Effect.Effect<Option.Option<ReadonlyArray<Identity>>, LocalStateError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (error) => error._tag === "SystemError" && error.reason === "NotFound",
        () => Effect.succeedNone
      ),
      Effect.mapError(io(path, "read it"))
    )
    if (Option.isNone(text)) return Option.none()
    const file = yield* Effect.mapError(decodeFile(text.value), (error) => corrupt(path, error))
    return Option.some(file.identities)
  })

/**
 * Writes `identities` to `path` atomically: into a fresh temp file next to it, flushed to disk, then renamed
 * over `path`, then the directory flushed. A reader sees the old content or the new one, never a mix.
 */
export const save = (
  path: string,
  identities: ReadonlyArray<Identity>
): Effect.Effect<void, LocalStateError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const text = yield* Effect.mapError(
      encodeFile({ version: 1, identities }),
      (error) => corrupt(path, error)
    )
    const suffix = (yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)
    const temp = `${path}.${process.pid}.${suffix}.tmp`
    yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(temp, { flag: "wx", mode: 0o600 })
      yield* file.writeAll(new TextEncoder().encode(text + "\n"))
      yield* file.sync
    })).pipe(
      Effect.zipRight(fs.rename(temp, path)),
      Effect.mapError(io(path, "write it")),
      Effect.tapError(() => Effect.ignore(fs.remove(temp)))
    )
    // make the rename itself durable; not every platform can sync a directory, which only costs durability
    yield* Effect.scoped(Effect.flatMap(fs.open(paths.dirname(path), { flag: "r" }), (dir) => dir.sync)).pipe(
      Effect.ignore
    )
  })

/** Removes the temp files a killed writer may have left next to `path`. Call it only while holding the lock. */
const removeLeftovers = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const base = paths.basename(path)
    const names = yield* fs.readDirectory(paths.dirname(path))
    const leftovers = names.filter((name) => name.startsWith(`${base}.`) && name.endsWith(".tmp"))
    yield* Effect.forEach(leftovers, (name) => fs.remove(paths.join(paths.dirname(path), name)), { discard: true })
  }).pipe(Effect.ignore)

/** Whether process `pid` is alive (a process of another user counts as alive). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM"
  }
}

/**
 * The lock files this process holds or is creating, by absolute path, with how many of its fibers do. A lock
 * holding this process's own pid that none of them holds is a leftover of an earlier process that had the same pid
 * (in a container, orq is PID 1 on every run, including the run killed by SIGKILL or the OOM killer).
 */
const ours = new Map<string, number>()

const claim = (key: string) => Effect.sync(() => ours.set(key, (ours.get(key) ?? 0) + 1))

const unclaim = (key: string) =>
  Effect.sync(() => {
    const count = (ours.get(key) ?? 0) - 1
    if (count > 0) ours.set(key, count)
    else ours.delete(key)
  })

/** What a lock file holds: the holder's pid and host (`<pid> <host>`; older orq versions wrote the pid alone). */
const LOCK_HOLDER = `${process.pid} ${hostname()}`

/** The pid and host of a lock's holder; a lock of an older orq names no host, and is taken to be of this one. */
const parseHolder = (holder: string): { readonly pid: number; readonly host: string | undefined } => {
  const [pid = "", host] = holder.split(" ")
  return { pid: pid === "" ? Number.NaN : Number(pid), host }
}

/** How long to wait for another orq process to release the state file. */
export const LOCK_WAIT = Duration.seconds(3)

/** A lock file without a pid older than this is a leftover of a writer killed between create and write. */
const EMPTY_LOCK_AGE = Duration.seconds(2)

/**
 * Holds `<path>.lock` (holding the pid and host) for the life of the scope. A lock of this host whose process is
 * gone (killed), or that holds this process's own pid while no fiber of it holds the lock, is taken over; a live
 * one, or one of another host, is waited for up to `wait` (default {@link LOCK_WAIT}), then refused as `Busy`.
 */
export const lock = (
  path: string,
  wait: Duration.DurationInput = LOCK_WAIT
): Effect.Effect<void, LocalStateError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const lockPath = `${path}.lock`
    const key = (yield* Path.Path).resolve(lockPath)
    /** Whether a lock holding this process's pid is one of ours (held, or being created by one of our fibers). */
    const isOurs = (holder: string) => parseHolder(holder).pid === process.pid && ours.has(key)
    const busy = (holder: string) =>
      new LocalStateError({
        path,
        reason: "Busy",
        message:
          `${path} is in use by another orq process (${
            holder === "" ? "unknown pid" : `pid ${holder.replace(" ", " on ")}`
          }, ` +
          `see ${lockPath}); if it is \`orq serve\`, reach it with ORQ_API_KEY and ORQ_BASE_URL instead`
      })
    const isStale = (holder: string) =>
      Effect.gen(function*() {
        const { host, pid } = parseHolder(holder)
        if (Number.isInteger(pid) && pid > 0) {
          // another host's processes cannot be seen from here (two containers sharing the file, both PID 1)
          if (host !== undefined && host !== hostname()) return false
          return pid === process.pid ? !isOurs(holder) : !isAlive(pid)
        }
        const info = yield* fs.stat(lockPath)
        const now = yield* Clock.currentTimeMillis
        const age = Option.match(info.mtime, { onNone: () => 0, onSome: (mtime) => now - mtime.getTime() })
        return age > Duration.toMillis(EMPTY_LOCK_AGE)
      })
    /**
     * Moves a stale lock aside and checks it was still the stale one; puts back a lock taken meanwhile (by
     * another process, or by another fiber of this one, whose lock holds the same pid as the stale one).
     */
    const takeOver = (holder: string) =>
      Effect.gen(function*() {
        // unique to the attempt: two fibers of this process may take over at once
        const aside = `${lockPath}.${process.pid}.${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}.stale`
        yield* fs.rename(lockPath, aside)
        const moved = (yield* fs.readFileString(aside)).trim()
        if (moved !== holder || isOurs(moved)) yield* Effect.ignore(fs.link(aside, lockPath))
        yield* fs.remove(aside)
      })
    // claimed before the file exists, so that no fiber of this process ever sees the new lock as a leftover
    const create = claim(key).pipe(
      Effect.zipRight(fs.writeFileString(lockPath, `${LOCK_HOLDER}\n`, { flag: "wx", mode: 0o600 })),
      Effect.onError(() => unclaim(key))
    )
    const alreadyExists = (error: PlatformError) => error._tag === "SystemError" && error.reason === "AlreadyExists"
    /** The holder of the lock in place, or `None` once it is free (taken over from a dead holder, or gone). */
    const holderOf = Effect.gen(function*() {
      const holder = (yield* fs.readFileString(lockPath)).trim()
      if (!(yield* isStale(holder))) return Option.some(holder)
      yield* takeOver(holder)
      return Option.none<string>()
    }).pipe(
      Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.succeedNone)
    )
    const attempt = create.pipe(
      Effect.catchIf(alreadyExists, () =>
        Effect.flatMap(holderOf, (holder) =>
          Option.match(holder, {
            onSome: (pid) => Effect.fail(busy(pid)),
            // free again: one more try, and if someone else got it first, it is theirs
            onNone: () => Effect.catchIf(create, alreadyExists, () => Effect.fail(busy("")))
          }))),
      Effect.mapError((error) => error instanceof LocalStateError ? error : io(path, "lock it")(error))
    )
    yield* Effect.acquireRelease(
      attempt.pipe(
        Effect.retry({
          schedule: Schedule.spaced(Duration.millis(50)).pipe(Schedule.upTo(wait)),
          while: (error) => error.reason === "Busy"
        })
      ),
      () => Effect.ensuring(Effect.ignore(fs.remove(lockPath)), unclaim(key))
    )
  })

/** Options of {@link store}. */
export interface StoreOptions {
  /** How long to wait for another orq process holding the file. Defaults to {@link LOCK_WAIT}. */
  readonly lockWait?: Duration.DurationInput | undefined
}

/** What {@link open} gives: the store, and whether its file was created (seeded) by this call. */
export interface Opened {
  readonly store: IdentityStore.IdentityStore
  /** `true` when there was no file: it now holds the seed, written by this process under its lock. */
  readonly created: boolean
}

/**
 * {@link store}, also saying whether the file was created by this call, so that a caller that fails before
 * using it (`orq serve` on a port in use) can remove the file again instead of leaving a seeded file behind.
 */
export const open = (
  path: string,
  options: StoreOptions = {}
): Effect.Effect<Opened, LocalStateError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const pathService = yield* Path.Path
    yield* lock(path, options.lockWait)
    yield* removeLeftovers(path)
    const saved = yield* load(path)
    const initial = Option.getOrElse(saved, () => [seed])
    if (Option.isNone(saved)) yield* save(path, initial)
    // a save once started runs to the end, even if the request that caused it goes away
    const persist = (identities: ReadonlyArray<Identity>) =>
      save(path, identities).pipe(
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(Path.Path, pathService),
        Effect.tapError((error) => Console.error(`orq: ${error.message}`)),
        Effect.orDie,
        Effect.uninterruptible
      )
    const store = yield* IdentityStore.make(initial, { onChange: persist })
    return { store, created: Option.isNone(saved) }
  })

/**
 * An `IdentityStore` over the file at `path`, for the life of the scope: locked, loaded (or seeded with
 * {@link seed} and written on first use), and saved after every change before the change is answered.
 * A change that cannot be saved fails the request (the HTTP server answers 500) after saying why on stderr.
 */
export const store = (
  path: string,
  options: StoreOptions = {}
): Effect.Effect<IdentityStore.IdentityStore, LocalStateError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.map(open(path, options), (opened) => opened.store)
