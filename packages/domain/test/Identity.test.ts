import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import {
  CreateIdentity,
  Email,
  Identity,
  IdentityPage,
  IdentityResponse,
  ListIdentities,
  MAX_METADATA_DEPTH,
  toSeedWire,
  UpdateIdentity,
  Url
} from "@orq-effect/domain/Identity"
import { refusedInput } from "@orq-effect/domain/IdentityError"
import { DateTime, Effect, Either, FastCheck as fc, Option, Schema } from "effect"

/** Bounded runs; a generous timeout, as the suites share a small machine. */
const props = { timeout: 60_000, fastCheck: { numRuns: 100 } }

/** A seed-generation identity: flat, nullable fields, as the legacy spec's example. */
const seedIdentity = {
  _id: "contact_01ARZ3NDEKTSV4RRFFQ69G5FAV",
  external_id: "user_12345",
  display_name: null,
  email: null,
  avatar_url: null,
  tags: ["premium"],
  metadata: { plan: "pro", seats: 3 },
  created: "2024-01-15T10:30:00.000Z",
  updated: "2024-01-16T08:00:00.000Z"
}

/** A current-generation answer: wrapped, `workspace_id` and `metrics` present, plus fields we do not model. */
const currentAnswer = {
  identity: {
    _id: "01JJ1HDHN79XAS7A01WB3HYSDB",
    external_id: "customer_12345",
    workspace_id: "ws_1",
    display_name: "Jane Doe",
    email: "jane@example.com",
    avatar_url: "https://example.com/jane.png",
    tags: [],
    metadata: {},
    created: "2025-03-01T00:00:00Z",
    updated: "2025-03-02T00:00:00Z",
    metrics: { total_cost: 1.25, total_tokens: 4200, total_requests: 17, error_rate: 0.05 },
    budget: { budget_id: "b_1", limits: { amount: 10 } }
  },
  request_id: "extra wrapper field"
}

const decodeIdentity = Schema.decodeUnknownEither(IdentityResponse)

/** The refusal of `input` by `schema`'s encoding (what `checkCreate` and friends run), as a typed error. */
const refuse = <A, I>(schema: Schema.Schema<A, I>, input: unknown) =>
  Schema.encodeUnknown(schema)(input, { errors: "all" }).pipe(Effect.mapError(refusedInput), Effect.flip)

describe("Identity decoding", () => {
  it("reads a seed identity with null fields", () => {
    const identity = Either.getOrThrow(decodeIdentity(seedIdentity))
    assert.strictEqual(identity.id, seedIdentity._id)
    assert.strictEqual(identity.externalId, "user_12345")
    deepStrictEqual(identity.displayName, Option.none())
    deepStrictEqual(identity.email, Option.none())
    deepStrictEqual(identity.avatarUrl, Option.none())
    deepStrictEqual(identity.tags, ["premium"])
    deepStrictEqual(identity.metadata, { plan: "pro", seats: 3 })
    deepStrictEqual(identity.created.pipe(Option.map(DateTime.toEpochMillis)), Option.some(1705314600000))
    assert.isTrue(Option.isNone(identity.workspaceId))
    assert.isTrue(Option.isNone(identity.metrics))
  })

  it("reads a seed identity with only its ids: absent fields take their defaults", () => {
    const identity = Either.getOrThrow(decodeIdentity({ _id: "a", external_id: "b" }))
    deepStrictEqual(identity.tags, [])
    deepStrictEqual(identity.metadata, {})
    assert.isTrue(Option.isNone(identity.displayName))
    assert.isTrue(Option.isNone(identity.email))
    assert.isTrue(Option.isNone(identity.created))
    assert.isTrue(Option.isNone(identity.updated))
  })

  it("reads null tags and metadata as empty", () => {
    const identity = Either.getOrThrow(decodeIdentity({ _id: "a", external_id: "b", tags: null, metadata: null }))
    deepStrictEqual(identity.tags, [])
    deepStrictEqual(identity.metadata, {})
  })

  it("reads the current `{ identity }` shape with workspace_id and metrics, ignoring unknown fields", () => {
    const identity = Either.getOrThrow(decodeIdentity(currentAnswer))
    assert.strictEqual(identity.id, "01JJ1HDHN79XAS7A01WB3HYSDB")
    deepStrictEqual(identity.workspaceId, Option.some("ws_1"))
    deepStrictEqual(identity.displayName, Option.some("Jane Doe"))
    deepStrictEqual(identity.email, Option.some("jane@example.com"))
    const metrics = Option.getOrThrow(identity.metrics)
    deepStrictEqual(
      [metrics.totalCost, metrics.totalTokens, metrics.totalRequests, metrics.errorRate],
      [1.25, 4200, 17, 0.05]
    )
    assert.isFalse("budget" in identity)
  })

  it("reads the flat shape with unknown extra fields", () => {
    const identity = Either.getOrThrow(decodeIdentity({ ...seedIdentity, object: "identity", future_field: [1] }))
    assert.strictEqual(identity.externalId, "user_12345")
    assert.isFalse("future_field" in identity)
  })

  it("refuses answers that are not an identity", () => {
    for (const body of [{}, { identity: null }, { _id: "a" }, { external_id: "b" }, [], "identity", null]) {
      assert.isTrue(Either.isLeft(decodeIdentity(body)), JSON.stringify(body))
    }
  })

  it("reads a list page `{ object: \"list\", data, has_more }`", () => {
    const page = Schema.decodeUnknownSync(IdentityPage)({
      object: "list",
      data: [seedIdentity, currentAnswer.identity],
      has_more: true
    })
    deepStrictEqual(page.data.map((identity) => identity.externalId), ["user_12345", "customer_12345"])
    assert.isTrue(page.hasMore)
  })

  it("refuses a page without has_more or with a broken item", () => {
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(IdentityPage)({ object: "list", data: [] })))
    assert.isTrue(
      Either.isLeft(Schema.decodeUnknownEither(IdentityPage)({ data: [{ _id: 1 }], has_more: false }))
    )
  })
})

describe("toSeedWire", () => {
  it("answers the seed wire: API field order, absent text as null, present fields kept", () => {
    const identity = Schema.decodeUnknownSync(Identity)({
      tags: ["a"],
      email: "a@b.io",
      external_id: "u1",
      _id: "id_1",
      created: "2024-01-15T10:30:00Z"
    })
    const wire = toSeedWire(identity)
    deepStrictEqual(Object.keys(wire), [
      "_id",
      "external_id",
      "display_name",
      "email",
      "avatar_url",
      "tags",
      "metadata",
      "created"
    ])
    deepStrictEqual(wire, {
      _id: "id_1",
      external_id: "u1",
      display_name: null,
      email: "a@b.io",
      avatar_url: null,
      tags: ["a"],
      metadata: {},
      created: "2024-01-15T10:30:00.000Z"
    })
  })
})

describe("request bodies", () => {
  const patchJson = (patch: UpdateIdentity) => JSON.stringify(Schema.encodeSync(UpdateIdentity)(patch))

  it("a PATCH field has three states on the wire: absent, null, value", () => {
    assert.strictEqual(patchJson({}), "{}")
    assert.strictEqual(patchJson({ displayName: null }), `{"display_name":null}`)
    assert.strictEqual(patchJson({ displayName: "x" }), `{"display_name":"x"}`)
  })

  it("every PATCH field can be cleared: text with null, tags and metadata (never null in the contract) emptied", () => {
    assert.strictEqual(
      patchJson({ displayName: null, email: null, avatarUrl: null, tags: null, metadata: null }),
      `{"display_name":null,"email":null,"avatar_url":null,"tags":[],"metadata":{}}`
    )
  })

  it("a PATCH body with null tags or metadata is refused when read (the contract has no null for them)", () => {
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(UpdateIdentity)({ tags: null })))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(UpdateIdentity)({ metadata: null })))
    const emptied = Schema.decodeUnknownSync(UpdateIdentity)({ tags: [], metadata: {} })
    deepStrictEqual(emptied, { tags: [], metadata: {} })
  })

  it("an undefined field means absent: its key is not sent, on create, update and list", () => {
    // what code compiled without exactOptionalPropertyTypes writes for a value it may not have
    const create = Schema.encodeSync(CreateIdentity)({
      externalId: "u1",
      displayName: undefined,
      email: undefined,
      avatarUrl: undefined,
      tags: undefined,
      metadata: undefined
    })
    deepStrictEqual(Object.keys(create), ["external_id"])
    const patch = Schema.encodeSync(UpdateIdentity)({
      displayName: undefined,
      email: null,
      avatarUrl: "https://example.com/a.png",
      tags: undefined,
      metadata: undefined
    })
    assert.strictEqual(JSON.stringify(patch), `{"email":null,"avatar_url":"https://example.com/a.png"}`)
    deepStrictEqual(Object.keys(patch), ["email", "avatar_url"])
    const query = Schema.encodeSync(ListIdentities)({
      limit: undefined,
      startingAfter: undefined,
      endingBefore: undefined,
      search: undefined,
      tags: undefined,
      includeMetrics: undefined
    })
    deepStrictEqual(Object.keys(query), [])
  })

  it("a create body is the snake_case encoding", () => {
    const body = Schema.encodeSync(CreateIdentity)({
      externalId: "user_1",
      displayName: "Ada",
      email: "ada@example.com",
      avatarUrl: "https://example.com/a.png",
      tags: ["a", "b"],
      metadata: { nested: { n: 1 } }
    })
    assert.strictEqual(
      JSON.stringify(body),
      `{"external_id":"user_1","display_name":"Ada","email":"ada@example.com",` +
        `"avatar_url":"https://example.com/a.png","tags":["a","b"],"metadata":{"nested":{"n":1}}}`
    )
  })

  it("list parameters encode to their snake_case query names", () => {
    deepStrictEqual(
      Schema.encodeSync(ListIdentities)({ limit: 5, startingAfter: "id_1", includeMetrics: true, tags: ["x"] }),
      { limit: 5, starting_after: "id_1", include_metrics: true, tags: ["x"] }
    )
  })
})

describe("invalid input is refused, naming the field", () => {
  const cases: ReadonlyArray<readonly [string, Schema.Schema.AnyNoContext, unknown, string]> = [
    ["bad email on create", CreateIdentity, { externalId: "a", email: "not-an-email" }, "email"],
    ["bad email on update", UpdateIdentity, { email: "a@b" }, "email"],
    ["bad URL on create", CreateIdentity, { externalId: "a", avatarUrl: "not a url" }, "avatarUrl"],
    ["bad URL on update", UpdateIdentity, { avatarUrl: "/relative.png" }, "avatarUrl"],
    ["external_id of 0 characters", CreateIdentity, { externalId: "" }, "externalId"],
    ["external_id of 121 characters", CreateIdentity, { externalId: "x".repeat(121) }, "externalId"],
    ["blank external_id", CreateIdentity, { externalId: "   " }, "externalId"],
    ["missing external_id", CreateIdentity, { displayName: "a" }, "externalId"],
    ["limit 0", ListIdentities, { limit: 0 }, "limit"],
    ["limit 51", ListIdentities, { limit: 51 }, "limit"],
    ["limit 2.5", ListIdentities, { limit: 2.5 }, "limit"],
    ["limit NaN", ListIdentities, { limit: Number.NaN }, "limit"],
    ["search of 1 character", ListIdentities, { search: "j" }, "search"],
    ["non-string tag on create", CreateIdentity, { externalId: "a", tags: ["ok", 1] }, "tags"],
    ["non-string tag on update", UpdateIdentity, { tags: [null] }, "tags"],
    ["non-string tag on list", ListIdentities, { tags: [true] }, "tags"],
    ["empty tag", CreateIdentity, { externalId: "a", tags: [""] }, "tags"],
    ["tag filter with a comma", ListIdentities, { tags: ["a,b"] }, "tags"],
    ["blank starting_after", ListIdentities, { startingAfter: " " }, "startingAfter"],
    ["blank ending_before", ListIdentities, { endingBefore: "" }, "endingBefore"],
    ["metadata that is not an object", UpdateIdentity, { metadata: [1] }, "metadata"],
    // a lone surrogate has no UTF-8 form: the query string would silently carry U+FFFD instead
    ["a cursor with a lone surrogate", ListIdentities, { startingAfter: "id_\uD800" }, "startingAfter"],
    ["a search with a lone surrogate", ListIdentities, { search: "\uDC00jo" }, "search"],
    ["a tag filter with a lone surrogate", ListIdentities, { tags: ["ok", "a\uD83D"] }, "tags"]
  ]
  for (const [name, schema, input, field] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const error = yield* refuse(schema, input)
        assert.strictEqual(error._tag, "InvalidRequest")
        assert.strictEqual(error.field, field)
        assert.isTrue(error.message.startsWith(`${field}`), error.message)
        assert.isUndefined(error.status)
      }))
  }

  it.effect("every offending field gets its own line, the value's reason kept over `Expected null`", () =>
    Effect.gen(function*() {
      const error = yield* refuse(UpdateIdentity, { email: "nope", avatarUrl: "nope" })
      assert.strictEqual(error.field, "email")
      assert.strictEqual(error.message, "email: must be a valid email address; avatarUrl: must be an absolute URL")
    }))
})

/** `input` without its `undefined` fields: what an input means, and what its wire form carries. */
const given = (input: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined))

describe("Url and Email take what the contract's format: uri / format: email take", () => {
  const refusedUrls = [
    " https://a.b/x ",
    "https://a.b/x y",
    "\thttps://a.b",
    "https://a.b/\n",
    "https://a.b/\u0000",
    "https://a.b/\\x",
    "https:\\\\a.b/x",
    "https://a.b/100%.png",
    "https://a.b/%zz",
    "not a url",
    "/relative.png",
    "https://x.com/<a>",
    "https://x.com/a\"b",
    "https://x.com/a|b",
    "https://x.com/{a}",
    "https://x.com/a^b",
    "https://x.com/`",
    "https://x.com/a\u200bb",
    "https://exämple.de/a"
  ]
  const acceptedUrls = [
    "https://example.com/avatars/jane.png",
    "https://example.com/a.png?size=64&fmt=webp#top",
    "https://example.com/caf%C3%A9%20au%20lait.png?q=a%2Fb",
    "http://127.0.0.1:8080/x"
  ]
  const refusedEmails = [
    "a..b@c.d",
    ".a@b.c",
    "a.@b.c",
    "a@-b.c",
    "a@b-.c",
    "a@b.c-",
    "a@b..c",
    "a@b",
    "a b@c.d",
    "a@b.c/d",
    "a@b.c?x",
    "a@b.c#",
    "a@b.c%",
    "a@b_c.com",
    "a@b.co\u200b",
    // `format: email` is RFC 5321's ASCII mailbox; an internationalized one is `idn-email`
    "jörg@exämple.de"
  ]
  const acceptedEmails = [
    "jane.smith+tag@example.co.uk",
    "a@b.c",
    "o'neil_x-y@my-domain.example.org",
    "first.middle.last@sub-1.example.com",
    "x!#$%&*/=?^`{|}~@example.com"
  ]

  it.effect("a URL with a character RFC 3986 does not allow (white space, a backslash, '<', …) or a stray '%' is refused, unquoted", () =>
    Effect.gen(function*() {
      for (const avatarUrl of refusedUrls) {
        const error = yield* refuse(UpdateIdentity, { avatarUrl })
        assert.strictEqual(error.field, "avatarUrl", JSON.stringify(avatarUrl))
        assert.isTrue(error.message.startsWith("avatarUrl: must be an absolute URL"), error.message)
        assert.notInclude(error.message, "a.b")
      }
    }))

  it("URLs with a query, a fragment, a port and percent-escapes pass", () => {
    for (const url of acceptedUrls) assert.isTrue(Schema.is(Url)(url), url)
  })

  it.effect("an email with a leading, trailing or double dot, or a label at '-', is refused, unquoted", () =>
    Effect.gen(function*() {
      for (const email of refusedEmails) {
        const error = yield* refuse(CreateIdentity, { externalId: "a", email })
        assert.strictEqual(error.message, "email: must be a valid email address", email)
      }
    }))

  it("ordinary addresses pass", () => {
    for (const email of acceptedEmails) assert.isTrue(Schema.is(Email)(email), email)
  })
})

describe("round trips (property-based)", () => {
  /** Decoding the encoding gives back the value. */
  const roundTrips = <A, I>(schema: Schema.Schema<A, I>) => (value: A) => {
    deepStrictEqual(Schema.decodeUnknownSync(schema)(Schema.encodeSync(schema)(value)), value)
  }

  /** Decoding the encoding gives back the input, its `undefined` fields absent. */
  const inputRoundTrips = <A extends object, I>(schema: Schema.Schema<A, I>) => (input: A) => {
    deepStrictEqual<object>(Schema.decodeUnknownSync(schema)(Schema.encodeSync(schema)(input)), given(input))
  }

  it.prop("Identity", [Identity], ([identity]) => roundTrips(Identity)(identity), props)
  it.prop("IdentityPage", [IdentityPage], ([page]) => roundTrips(IdentityPage)(page), props)
  it.prop("CreateIdentity", [CreateIdentity], ([input]) => inputRoundTrips(CreateIdentity)(input), props)
  it.prop("UpdateIdentity, a cleared list or object read back empty", [UpdateIdentity], ([patch]) => {
    const back = Schema.decodeUnknownSync(UpdateIdentity)(Schema.encodeSync(UpdateIdentity)(patch))
    deepStrictEqual(back, {
      ...given(patch),
      ...(patch.tags === null ? { tags: [] } : {}),
      ...(patch.metadata === null ? { metadata: {} } : {})
    })
  }, props)
  it.prop("ListIdentities", [ListIdentities], ([params]) => inputRoundTrips(ListIdentities)(params), props)

  it.prop("an Identity read back from its `{ identity }` wrapping", [Identity], ([identity]) => {
    const wrapped = { identity: Schema.encodeSync(Identity)(identity) }
    deepStrictEqual(Schema.decodeUnknownSync(IdentityResponse)(wrapped), identity)
  }, props)

  /** The JSON text sent is stable: decoding it and encoding again gives the same text. */
  const wireIsStable = <A, I>(schema: Schema.Schema<A, I>) => (value: A) => {
    const wire = JSON.stringify(Schema.encodeSync(schema)(value))
    const again = JSON.stringify(Schema.encodeSync(schema)(Schema.decodeUnknownSync(schema)(JSON.parse(wire))))
    assert.strictEqual(again, wire)
  }

  it.prop("CreateIdentity through JSON", [CreateIdentity], ([input]) => wireIsStable(CreateIdentity)(input), props)
  it.prop("UpdateIdentity through JSON", [UpdateIdentity], ([patch]) => wireIsStable(UpdateIdentity)(patch), props)

  const snake: Record<string, string> = {
    displayName: "display_name",
    avatarUrl: "avatar_url",
    email: "email",
    tags: "tags",
    metadata: "metadata"
  }

  it.prop("a PATCH sends exactly the fields given, a cleared text as null", [UpdateIdentity], ([patch]) => {
    const body: Record<string, unknown> = Schema.encodeSync(UpdateIdentity)(patch)
    // an `undefined` field is not given: its key is not sent
    deepStrictEqual(Object.keys(body).sort(), Object.keys(given(patch)).map((key) => snake[key]).sort())
    for (const [key, value] of Object.entries(given(patch))) {
      const sent = body[snake[key]]
      if (key === "tags" || key === "metadata") {
        assert.isNotNull(sent)
        if (value === null) deepStrictEqual(sent, key === "tags" ? [] : {})
      } else {
        assert.strictEqual(sent === null, value === null)
      }
    }
  }, props)
})

describe("invalid input (property-based)", () => {
  it.effect.prop(
    "a string without '@' is refused as email",
    [fc.string().filter((s) => !s.includes("@"))],
    ([email]) =>
      Effect.gen(function*() {
        const error = yield* refuse(UpdateIdentity, { email })
        assert.strictEqual(error.field, "email")
        assert.isTrue(error.message.startsWith("email: "), error.message)
      }),
    props
  )

  it.effect.prop(
    "a non-integer limit is refused",
    [fc.double().filter((n) => !Number.isInteger(n))],
    ([limit]) =>
      Effect.gen(function*() {
        const error = yield* refuse(ListIdentities, { limit })
        assert.strictEqual(error.field, "limit")
        assert.isTrue(error.message.startsWith("limit: "), error.message)
      }),
    props
  )

  it.effect.prop(
    "an integer limit outside 1..50 is refused",
    [fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 51 }))],
    ([limit]) =>
      Effect.gen(function*() {
        const error = yield* refuse(ListIdentities, { limit })
        assert.strictEqual(error.field, "limit")
      }),
    props
  )

  it.effect.prop(
    "an external_id longer than 120 characters is refused",
    [fc.string({ minLength: 121, maxLength: 400 })],
    ([externalId]) =>
      Effect.gen(function*() {
        const error = yield* refuse(CreateIdentity, { externalId })
        assert.strictEqual(error.field, "externalId")
        assert.include(error.message, "at most 120")
      }),
    props
  )

  it("an external_id's 120 characters are counted as the contract counts them: an emoji is one", () => {
    const emoji = "\u{1F600}"
    assert.isTrue(Schema.is(CreateIdentity)({ externalId: emoji.repeat(120) }))
    assert.isFalse(Schema.is(CreateIdentity)({ externalId: emoji.repeat(121) }))
  })

  for (const externalId of ["ext-\uD800", ".", ".."]) {
    it.effect(`an external_id an identity could not be reached by (${JSON.stringify(externalId)}) is refused`, () =>
      Effect.gen(function*() {
        const error = yield* refuse(CreateIdentity, { externalId })
        assert.strictEqual(error.field, "externalId")
      }))
  }

  it.effect.prop(
    "a tag that is not a string is refused",
    [fc.anything().filter((value) => typeof value !== "string")],
    ([tag]) =>
      Effect.gen(function*() {
        const error = yield* refuse(CreateIdentity, { externalId: "a", tags: [tag] })
        assert.strictEqual(error.field, "tags")
      }),
    props
  )
})

describe("metadata is JSON", () => {
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const notJson: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
    ["a bigint", { n: 1n }, "metadata.n"],
    ["a function", { f: () => 1 }, "metadata.f"],
    ["a symbol", { s: Symbol("s") }, "metadata.s"],
    ["undefined", { u: undefined }, "metadata.u"],
    ["NaN in an array", { x: [1, Number.NaN] }, "metadata.x.1"],
    ["a hole in an array", { x: [1, , 3] }, "metadata.x.1"],
    ["Infinity", { deep: { er: Number.POSITIVE_INFINITY } }, "metadata.deep.er"],
    ["a Date", { d: new Date(0) }, "metadata.d"],
    ["a Map", { m: new Map([["k", "v"]]) }, "metadata.m"],
    ["a cycle", cyclic, "metadata.self"] // the copy the schema makes of the top level is not the cycle's start
  ]
  for (const [name, metadata, at] of notJson) {
    it.effect(`refuses ${name}, naming where`, () =>
      Effect.gen(function*() {
        const error = yield* refuse(CreateIdentity, { externalId: "a", metadata })
        assert.strictEqual(error.field, "metadata")
        assert.isTrue(error.message.startsWith(at), error.message)
        const patchError = yield* refuse(UpdateIdentity, { metadata })
        assert.strictEqual(patchError.field, "metadata")
      }))
  }

  /** An object `levels` deep: `{}` is 1. */
  const nested = (levels: number) => {
    let value: Record<string, unknown> = {}
    for (let i = 1; i < levels; i++) value = { a: value }
    return value
  }

  it.effect(`nests at most ${MAX_METADATA_DEPTH} levels deep; a value far deeper is refused at once`, () =>
    Effect.gen(function*() {
      assert.isTrue(Schema.is(CreateIdentity)({ externalId: "a", metadata: nested(MAX_METADATA_DEPTH) }))
      for (const levels of [MAX_METADATA_DEPTH + 1, 1_000_000]) {
        const error = yield* refuse(CreateIdentity, { externalId: "a", metadata: nested(levels) })
        assert.strictEqual(error.field, "metadata")
        assert.include(error.message, `at most ${MAX_METADATA_DEPTH} levels`)
        // a PATCH field's alternatives (`undefined`, `null`) do not quote the value: formatting it would overflow
        const patchError = yield* refuse(UpdateIdentity, { metadata: nested(levels) })
        assert.strictEqual(patchError.field, "metadata")
        assert.include(patchError.message, `at most ${MAX_METADATA_DEPTH} levels`)
      }
    }))

  it("accepts JSON, shared (not cyclic) references included", () => {
    const shared = { a: [1, "b", null, true] }
    const body = Schema.encodeSync(CreateIdentity)({ externalId: "a", metadata: { x: shared, y: shared, z: -1.5 } })
    assert.strictEqual(
      JSON.stringify(body.metadata),
      `{"x":{"a":[1,"b",null,true]},"y":{"a":[1,"b",null,true]},"z":-1.5}`
    )
  })

  it("keeps an own `__proto__` key as data, in answers and in requests", () => {
    const parsed = JSON.parse(`{"_id":"a","external_id":"b","metadata":{"__proto__":{"admin":true}}}`)
    const identity = Schema.decodeUnknownSync(Identity)(parsed)
    assert.isTrue(Object.hasOwn(identity.metadata, "__proto__"))
    assert.isUndefined(identity.metadata.admin)
    const body = Schema.encodeSync(UpdateIdentity)({ metadata: identity.metadata })
    assert.strictEqual(JSON.stringify(body), `{"metadata":{"__proto__":{"admin":true}}}`)
  })

  /** Any value at all, -0 left out (JSON keeps its value, not its sign). */
  const anything = fc.anything({
    values: [
      fc.boolean(),
      fc.integer(),
      fc.double().map((n) => (n === 0 ? 0 : n)),
      fc.string(),
      fc.constant(null),
      fc.constant(undefined),
      fc.bigInt()
    ],
    withDate: true,
    withMap: true,
    withSet: true,
    withBoxedValues: true,
    withSparseArray: true
  })

  it.effect.prop(
    "metadata is refused, or reaches the server exactly as given",
    [fc.dictionary(fc.string(), anything)],
    ([metadata]) =>
      Schema.encode(CreateIdentity)({ externalId: "a", metadata }).pipe(
        Effect.mapError(refusedInput),
        Effect.match({
          onFailure: (error) => assert.strictEqual(error.field, "metadata"),
          onSuccess: (body) => deepStrictEqual(JSON.parse(JSON.stringify(body)).metadata, metadata)
        })
      ),
    props
  )
})
