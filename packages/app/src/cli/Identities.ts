/**
 * `orq identities get | list | create | update | delete`. Each command parses its flags, checks the input
 * with the client's own checks (so bad input is refused before any target is even started), calls
 * `IdentityClient` and prints. No API logic lives here.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import {
  checkCreate,
  checkId,
  checkIdAndUpdate,
  checkList,
  IdentityClient,
  PrivateSpan,
  type Service
} from "@orq-effect/client"
import {
  type CreateIdentity,
  type Identity,
  type ListIdentities,
  toSeedWire,
  type UpdateIdentity
} from "@orq-effect/domain/Identity"
import { Console, Effect, type Layer, Option, Stream } from "effect"
import { UsageError } from "./ExitCode.js"
import * as Flags from "./Flags.js"
import * as Render from "./Render.js"

/** The page size of `list --all` when `--limit` is not given: the API's largest, for the fewest requests. */
export const ALL_PAGE_SIZE = 50

/** `{ key: value }` when the flag was given, `{}` otherwise (exact optional fields stay absent). */
const given = <K extends string, A>(key: K, value: Option.Option<A>): { readonly [P in K]?: A } =>
  Option.isSome(value) ? ({ [key]: value.value } as { readonly [P in K]?: A }) : {}

const idArg = Args.text({ name: "id" }).pipe(Args.withDescription("The identity's _id or external_id."))

const clear = (name: string, what: string) =>
  Options.boolean(`clear-${name}`).pipe(Options.withDescription(`Clear ${what}.`))

/** Refuses a value flag given together with the flag that clears the same field. */
const exclusive = (
  pairs: ReadonlyArray<readonly [set: string, clear: string, setGiven: boolean, clearGiven: boolean]>
) => {
  const both = pairs.find(([, , setGiven, clearGiven]) => setGiven && clearGiven)
  return both === undefined
    ? Effect.void
    : Effect.fail(new UsageError({ message: `--${both[0]} and --${both[1]} cannot be used together` }))
}

/**
 * Each command is a span (`orq identities update`, …) around the client's own spans; like them, it records no
 * PII, neither in attributes nor from a failure's message.
 */
const traced = <Name extends string, R, E, A>(name: Name, command: Command.Command<Name, R, E, A>) =>
  Command.transformHandler(command, PrivateSpan.withSpan(`orq identities ${name}`))

/** The identities commands over the client `client` (started only once the input passed its checks). */
export const make = <E, R>(client: Layer.Layer<IdentityClient, E, R>) => {
  const withClient = <A, E2>(use: (service: Service) => Effect.Effect<A, E2>) =>
    Effect.flatMap(IdentityClient, use).pipe(Effect.provide(client))

  const print = (json: boolean) => (identity: Identity) =>
    Console.log(json ? Render.json(toSeedWire(identity)) : Render.identityView(identity))

  const get = Command.make("get", {
    id: idArg,
    includeMetrics: Options.boolean("include-metrics").pipe(Options.withDescription("Include usage metrics.")),
    json: Flags.json
  }, ({ id, includeMetrics, json }) =>
    checkId(id).pipe(
      Effect.zipRight(withClient((service) => service.retrieve(id, includeMetrics ? { includeMetrics } : {}))),
      Effect.flatMap(print(json))
    )).pipe(
      Command.withDescription(Flags.help(
        "Show one identity, by _id or external_id.",
        "orq identities get user_12345",
        "orq identities get user_12345 --include-metrics --json"
      ))
    )

  const list = Command.make("list", {
    limit: Flags.integer("limit").pipe(
      Options.withDescription(
        `Page size, 1 to 50 (default 10; with --all, ${ALL_PAGE_SIZE}, the size of each page fetched).`
      ),
      Options.optional
    ),
    search: Options.text("search").pipe(
      Options.withPseudoName("S"),
      Options.withDescription("Only identities whose display name or email contains S."),
      Options.optional
    ),
    tags: Flags.tags.pipe(Options.withDescription("Only identities with this tag (repeatable: any of them).")),
    startingAfter: Options.text("starting-after").pipe(
      Options.withPseudoName("ID"),
      Options.withDescription("The page after this _id."),
      Options.optional
    ),
    endingBefore: Options.text("ending-before").pipe(
      Options.withPseudoName("ID"),
      Options.withDescription("The page before this _id."),
      Options.optional
    ),
    all: Options.boolean("all").pipe(
      Options.withDescription(
        `Every matching identity (after --starting-after, if given), in pages of ${ALL_PAGE_SIZE} unless --limit ` +
          "says otherwise. With --json: one JSON object per line, printed as the pages arrive. Without: one table, " +
          "printed once every page has arrived (its columns fit all the rows). If a page fails, the identities " +
          "fetched before it are printed, then where to go on from (--starting-after), then the error."
      )
    ),
    includeMetrics: Options.boolean("include-metrics").pipe(Options.withDescription("Include usage metrics.")),
    json: Flags.json
  }, (flags) =>
    Effect.gen(function*() {
      const params: ListIdentities = {
        // --all walks every page: the largest page takes the fewest requests
        ...given("limit", flags.all ? Option.orElseSome(flags.limit, () => ALL_PAGE_SIZE) : flags.limit),
        ...given("search", flags.search),
        ...(flags.tags.length > 0 ? { tags: flags.tags } : {}),
        ...given("startingAfter", flags.startingAfter),
        ...given("endingBefore", flags.endingBefore),
        ...(flags.includeMetrics ? { includeMetrics: true } : {})
      }
      if (flags.all) {
        if (params.endingBefore !== undefined) {
          return yield* new UsageError({
            message: "--all walks forward from the start, or from --starting-after: it cannot take --ending-before"
          })
        }
        yield* checkList(params)
        const every: Array<Identity> = []
        /** After a late page failed: where the walk stopped, and how to go on from there. */
        const incomplete = Effect.suspend(() => {
          const last = every.at(-1)
          return last === undefined ? Effect.void : Console.error(
            `orq: the list is incomplete: a page failed after ${every.length} identities; go on with ` +
              `--all --starting-after ${Render.safe(last.id)}`
          )
        })
        if (flags.json) {
          // one line per identity, printed as the pages arrive
          return yield* withClient((service) =>
            Stream.runForEach(
              service.stream(params),
              (identity) =>
                Effect.zipRight(
                  Console.log(Render.json(toSeedWire(identity), true)),
                  Effect.sync(() => every.push(identity))
                )
            )
          ).pipe(Effect.tapError(() => incomplete))
        }
        yield* withClient((service) =>
          Stream.runForEach(service.stream(params), (identity) => Effect.sync(() => void every.push(identity)))
        ).pipe(
          // a late page failed: what was fetched is still shown, said to be incomplete, then the error
          Effect.tapError(() =>
            every.length === 0 ? Effect.void : Effect.zipRight(Console.log(Render.table(every)), incomplete)
          )
        )
        return yield* Console.log(every.length === 0 ? "No identities." : Render.table(every))
      }
      yield* checkList(params)
      const page = yield* withClient((service) => service.list(params))
      if (flags.json) return yield* Console.log(Render.json(Render.wirePage(page)))
      yield* Console.log(page.data.length === 0 ? "No identities." : Render.table(page.data))
      // the API gives no cursor: the next page starts after the last _id (or, going back, before the first)
      const backwards = params.endingBefore !== undefined
      const edge = backwards ? page.data.at(0) : page.data.at(-1)
      if (page.hasMore && edge !== undefined) {
        const flag = backwards ? "--ending-before" : "--starting-after"
        yield* Console.error(`orq: more identities: ${flag} ${Render.safe(edge.id)}, or --all for every page`)
      }
    })).pipe(
      Command.withDescription(Flags.help(
        "List identities, one page at a time, or every page with --all.",
        "orq identities list --limit 20 --tag premium",
        "orq identities list --search jane --all --json"
      ))
    )

  const create = Command.make("create", {
    externalId: Args.text({ name: "external-id" }).pipe(
      Args.withDescription("Your own id of the user, 1 to 120 characters.")
    ),
    displayName: Flags.displayName.pipe(Options.withDescription("The display name.")),
    email: Flags.email.pipe(Options.withDescription("The email address.")),
    avatarUrl: Flags.avatarUrl.pipe(Options.withDescription("The avatar's absolute URL.")),
    tags: Flags.tags.pipe(Options.withDescription("A tag (repeatable).")),
    metadata: Flags.metadata.pipe(Options.withDescription("Metadata as a JSON object."), Options.optional),
    json: Flags.json
  }, (flags) => {
    const input: CreateIdentity = {
      externalId: flags.externalId,
      ...given("displayName", flags.displayName),
      ...given("email", flags.email),
      ...given("avatarUrl", flags.avatarUrl),
      ...(flags.tags.length > 0 ? { tags: flags.tags } : {}),
      ...given("metadata", flags.metadata)
    }
    return checkCreate(input).pipe(
      Effect.zipRight(withClient((service) => service.create(input))),
      Effect.flatMap(print(flags.json))
    )
  }).pipe(
    Command.withDescription(Flags.help(
      "Create an identity; fails with Conflict when the external id is taken.",
      "orq identities create user_67890 --display-name \"Ada Lovelace\" --email ada@example.com --tag beta-user",
      "orq identities create user_67890 --metadata '{\"plan\":\"pro\"}' --json"
    ))
  )

  const update = Command.make("update", {
    id: idArg,
    displayName: Flags.displayName.pipe(Options.withDescription("Set the display name.")),
    email: Flags.email.pipe(Options.withDescription("Set the email address.")),
    avatarUrl: Flags.avatarUrl.pipe(Options.withDescription("Set the avatar's absolute URL.")),
    tags: Flags.tags.pipe(Options.withDescription("Replace all tags with these (repeatable).")),
    metadata: Flags.metadata.pipe(
      Options.withDescription("Replace the whole metadata with this JSON object."),
      Options.optional
    ),
    clearDisplayName: clear("display-name", "the display name"),
    clearEmail: clear("email", "the email address"),
    clearAvatarUrl: clear("avatar-url", "the avatar URL"),
    clearTags: clear("tags", "every tag"),
    clearMetadata: clear("metadata", "the metadata"),
    json: Flags.json
  }, (flags) =>
    Effect.gen(function*() {
      yield* exclusive([
        ["display-name", "clear-display-name", Option.isSome(flags.displayName), flags.clearDisplayName],
        ["email", "clear-email", Option.isSome(flags.email), flags.clearEmail],
        ["avatar-url", "clear-avatar-url", Option.isSome(flags.avatarUrl), flags.clearAvatarUrl],
        ["tag", "clear-tags", flags.tags.length > 0, flags.clearTags],
        ["metadata", "clear-metadata", Option.isSome(flags.metadata), flags.clearMetadata]
      ])
      const patch: UpdateIdentity = {
        ...(flags.clearDisplayName ? { displayName: null } : given("displayName", flags.displayName)),
        ...(flags.clearEmail ? { email: null } : given("email", flags.email)),
        ...(flags.clearAvatarUrl ? { avatarUrl: null } : given("avatarUrl", flags.avatarUrl)),
        // the API's tags and metadata are not nullable: clearing sends them empty
        ...(flags.clearTags ? { tags: [] } : flags.tags.length > 0 ? { tags: flags.tags } : {}),
        ...(flags.clearMetadata ? { metadata: {} } : given("metadata", flags.metadata))
      }
      if (Object.keys(patch).length === 0) {
        return yield* new UsageError({
          message: "nothing to update: give at least one of --display-name, --email, --avatar-url, --tag, " +
            "--metadata or a --clear-… flag"
        })
      }
      yield* checkIdAndUpdate(flags.id, patch)
      const updated = yield* withClient((service) => service.update(flags.id, patch))
      yield* print(flags.json)(updated)
    })).pipe(
      Command.withDescription(Flags.help(
        "Update an identity: only the fields given change; prints the updated identity.",
        "orq identities update user_12345 --display-name \"Jane Smith-Wilson\" --tag premium",
        "orq identities update user_12345 --clear-avatar-url --metadata '{\"role\":\"Staff Engineer\"}' --json"
      ))
    )

  const delete_ = Command.make("delete", {
    id: idArg,
    json: Options.boolean("json").pipe(
      Options.withDescription(
        "Print {\"id\": <id>, \"deleted\": true} (the CLI's own JSON: the API answers 204 with no body)."
      )
    )
  }, ({ id, json }) =>
    checkId(id).pipe(
      Effect.zipRight(withClient((service) => service.delete(id))),
      Effect.zipRight(Console.log(json ? Render.json({ id, deleted: true }) : `Deleted identity ${Render.safe(id)}.`))
    )).pipe(
      Command.withDescription(Flags.help("Delete an identity.", "orq identities delete user_67890"))
    )

  return Command.make("identities").pipe(
    Command.withDescription(Flags.help(
      "Read and change identities of orq.ai, or of the embedded local orq when ORQ_API_KEY is not set.",
      "orq identities get user_12345"
    )),
    Command.withSubcommands([
      traced("get", get),
      traced("list", list),
      traced("create", create),
      traced("update", update),
      traced("delete", delete_)
    ])
  )
}
