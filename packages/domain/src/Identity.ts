/**
 * The orq.ai Identity resource and the inputs of its five operations.
 *
 * Responses are read tolerantly (nullable or absent fields, unknown extra fields, flat or `{ identity }`
 * wrapped) so that a successful call never fails on shape drift between API generations. Inputs are
 * checked strictly (formats, lengths, types; the client's checks encode with `onExcessProperty: "error"`, so an
 * unknown key is refused too) so that bad input is refused before any request is sent.
 *
 * @since 0.1.0
 */
import type { FastCheck } from "effect"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------------------------------------------------
// field schemas
// ---------------------------------------------------------------------------------------------------------------------

/**
 * Refuses a lone UTF-16 surrogate in a string bound for a URL: it has no UTF-8 form (`URLSearchParams` would
 * silently send U+FFFD instead, and `encodeURIComponent` throws).
 */
const wellFormed = <S extends Schema.Schema<string, string>>(self: S) =>
  self.pipe(Schema.filter((s) => !/\p{Surrogate}/u.test(s) || "must be well-formed Unicode (it has a lone surrogate)"))

/** A string that can go into a URL. */
export const UrlSafeString = Schema.String.pipe(wellFormed, Schema.annotations({ identifier: "UrlSafeString" }))

/** A list search (display name or email): the API asks for at least 2 characters. */
export const SearchTerm = UrlSafeString.pipe(
  Schema.filter((s) => s.trim().length >= 2 || "must be at least 2 characters"),
  Schema.annotations({ identifier: "SearchTerm" })
)

/**
 * An identity reference: its `_id` or its `external_id`. Non-blank, and not `.` or `..` (as a path segment, URL
 * resolution would swallow it).
 */
export const IdentityId = UrlSafeString.pipe(
  Schema.filter((s) => s.trim().length > 0 || "must not be empty or blank"),
  Schema.filter((s) => (s !== "." && s !== "..") || `'${s}' cannot be used as an identity id`),
  Schema.annotations({ identifier: "IdentityId" })
)

/** How many characters (code points, as the contract's `maxLength` counts them) `s` has, counting up to `max + 1`. */
const characters = (s: string, max: number): number => {
  let count = 0
  for (const _ of s) if (++count > max) break
  return count
}

/**
 * The customer's own id of an identity: 1..120 characters, counted as the contract's `maxLength` counts them (an
 * emoji is one). As an identity can be reached by it, it must also be an {@link IdentityId}.
 */
export const ExternalId = IdentityId.pipe(
  Schema.filter((s) => characters(s, 120) <= 120 || `must be at most 120 characters (got ${characters(s, Infinity)})`),
  Schema.annotations({ identifier: "ExternalId" })
)

/** A character of an email's local part, as RFC 5322's `atext` (ASCII: `format: email` is not `idn-email`). */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
/** A host name label: letters, digits and inner hyphens. */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
/** A dot-atom local part (no leading, trailing or double dot), `@`, then a host name of at least two labels. */
const EMAIL = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*@${LABEL}(?:\\.${LABEL})+$`)

/** An email address (the `format: email` of the API: RFC 5321's ASCII mailbox, not `idn-email`). */
export const Email = Schema.String.pipe(
  Schema.filter((s) => (s.length <= 254 && EMAIL.test(s)) || "must be a valid email address"),
  Schema.annotations({ identifier: "Email" })
)

/**
 * What RFC 3986 lets a URI hold: unreserved, reserved and `%` (escapes are checked apart); ASCII only. Without `[`
 * and `]`, which it allows only around an IPv6 host: such an avatar URL is refused too.
 */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]*$/

/**
 * Why `s` is not a URI the contract's `format: uri` takes, or `true`. `URL.canParse` alone is too lenient: it trims
 * surrounding white space and control characters, drops tabs and newlines inside, reads `\` as `/` and encodes a
 * space or a `"`. The reasons do not quote the value.
 */
const uriProblem = (s: string): true | string => {
  if (!URI_CHARACTERS.test(s)) {
    return "must be an absolute URL of the characters RFC 3986 allows (others percent-escaped, no white space)"
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return "must be an absolute URL with '%' only in percent-escapes (%XX)"
  if (s.indexOf("#") !== s.lastIndexOf("#")) return "must be an absolute URL with at most one '#'"
  // a scheme, then a path or an authority: `mailto:#` parses, but names nothing
  return (/^[A-Za-z][A-Za-z0-9+.-]*:[^?#]/.test(s) && URL.canParse(s)) || "must be an absolute URL"
}

/** An absolute URL (the `format: uri` of the API). */
export const Url = Schema.String.pipe(
  Schema.filter(uriProblem),
  Schema.annotations({ identifier: "Url" })
)

/** A display name: any string (the API sets no format or length). */
export const DisplayName = Schema.String.annotations({ identifier: "DisplayName" })

/** A tag: a non-empty string. */
export const Tag = Schema.String.pipe(
  Schema.filter((s) => s.length > 0 || "must not be empty"),
  Schema.annotations({ identifier: "Tag" })
)

/** How deep metadata may nest: far past any real use, well within what a JSON parser or `JSON.stringify` can take. */
export const MAX_METADATA_DEPTH = 100

/** A path inside a value, from its last key up (a parent link per level, not a copy per level). */
interface PathNode {
  readonly parent: PathNode | undefined
  readonly key: PropertyKey
  readonly depth: number
}

const pathOf = (node: PathNode | undefined): Array<PropertyKey> => {
  const path: Array<PropertyKey> = []
  for (let at = node; at !== undefined; at = at.parent) path.unshift(at.key)
  return path
}

/**
 * Where `value` stops being JSON, or nests deeper than {@link MAX_METADATA_DEPTH}, or `undefined` if it is JSON
 * throughout. Iterative: a value nested deeper than the stack is reported, not overflowed.
 */
const notJson = (
  value: unknown
): { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } | undefined => {
  type Step = { readonly value: unknown; readonly at: PathNode | undefined } | { readonly leave: object }
  const ancestors = new Set<object>()
  const stack: Array<Step> = [{ value, at: undefined }]
  const child = (at: PathNode | undefined, key: PropertyKey): PathNode => ({
    parent: at,
    key,
    depth: (at?.depth ?? 0) + 1
  })
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    if ("leave" in step) {
      ancestors.delete(step.leave)
      continue
    }
    const { at, value } = step
    if (value === null || typeof value === "string" || typeof value === "boolean") continue
    if (typeof value === "number") {
      if (Number.isFinite(value)) continue
      return { path: pathOf(at), message: `must be a finite number (got ${value})` }
    }
    if (typeof value !== "object") return { path: pathOf(at), message: `must be a JSON value, not ${typeof value}` }
    if (ancestors.has(value)) return { path: pathOf(at), message: "must not contain itself" }
    const prototype = Object.getPrototypeOf(value)
    if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
      return { path: pathOf(at), message: "must be a plain object, an array, a string, a number, a boolean or null" }
    }
    // JSON.stringify would call it, even when it is not enumerable, and send what it returns
    if (Object.hasOwn(value, "toJSON")) return { path: pathOf(at), message: "must not define toJSON" }
    if ((at?.depth ?? 0) >= MAX_METADATA_DEPTH) {
      return { path: [], message: `must be nested at most ${MAX_METADATA_DEPTH} levels deep` }
    }
    ancestors.add(value)
    stack.push({ leave: value })
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], at: child(at, i) })
    } else {
      for (const [key, item] of Object.entries(value).reverse()) stack.push({ value: item, at: child(at, key) })
    }
  }
  return undefined
}

const jsonObject = (fc: typeof FastCheck) => fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }))

/**
 * A JSON object, checked in place: `Schema.Record` would copy it key by key, and the copy turns an own
 * `__proto__` key (which `JSON.parse` produces) into the prototype, or drops it.
 */
const JsonObject = Schema.declare(
  (u: unknown): u is { readonly [key: string]: unknown } => typeof u === "object" && u !== null && !Array.isArray(u),
  { identifier: "JsonObject", description: "a JSON object", arbitrary: () => jsonObject }
)

/**
 * Free-form key/value metadata: a JSON object. Values JSON cannot carry as given (`undefined`, functions,
 * bigints, non-finite numbers, dates, maps, cycles, a `toJSON` of their own) and objects that throw when read are
 * refused rather than silently changed, dropped or thrown.
 */
export const Metadata = JsonObject.pipe(
  Schema.filter((metadata) => {
    try {
      return notJson(metadata)
    } catch {
      return "must be plain data: reading it threw"
    }
  }),
  Schema.annotations({ identifier: "Metadata" })
)

/** Metadata as read from an answer: JSON already, so not checked again. */
const AnyMetadata = JsonObject

// ---------------------------------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------------------------------

const optionalText = Schema.optionalWith(Schema.String, { nullable: true, as: "Option" })

/** Usage metrics, present when asked for with `includeMetrics`. */
export class IdentityMetrics extends Schema.Class<IdentityMetrics>("IdentityMetrics")({
  totalCost: Schema.propertySignature(Schema.Number).pipe(Schema.fromKey("total_cost")),
  totalTokens: Schema.propertySignature(Schema.Number).pipe(Schema.fromKey("total_tokens")),
  totalRequests: Schema.propertySignature(Schema.Number).pipe(Schema.fromKey("total_requests")),
  errorRate: Schema.propertySignature(Schema.Number).pipe(Schema.fromKey("error_rate"))
}) {}

/**
 * An identity as the API returns it. Nullable or absent text fields decode to `Option.none()`, absent tags to
 * `[]` and absent metadata to `{}`; unknown extra fields are ignored.
 */
export class Identity extends Schema.Class<Identity>("Identity")({
  id: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("_id")),
  externalId: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("external_id")),
  displayName: optionalText.pipe(Schema.fromKey("display_name")),
  email: optionalText,
  avatarUrl: optionalText.pipe(Schema.fromKey("avatar_url")),
  tags: Schema.optionalWith(Schema.Array(Schema.String), { nullable: true, default: () => [] }),
  metadata: Schema.optionalWith(AnyMetadata, { nullable: true, default: () => ({}) }),
  created: Schema.optionalWith(Schema.DateTimeUtc, { nullable: true, as: "Option" }),
  updated: Schema.optionalWith(Schema.DateTimeUtc, { nullable: true, as: "Option" }),
  workspaceId: optionalText.pipe(Schema.fromKey("workspace_id")),
  metrics: Schema.optionalWith(IdentityMetrics, { nullable: true, as: "Option" })
}) {}

const encodeIdentity = Schema.encodeSync(Identity)

/**
 * An identity in the seed generation's wire shape, as `GET /v2/identities/{id}` answers it: snake_case, in the
 * API's field order, absent text fields as `null`.
 */
export const toSeedWire = (identity: Identity): Record<string, unknown> => {
  const { _id, external_id, ...fields } = encodeIdentity(identity)
  // the literal fixes the order; the spread fills in every value the identity has
  return { _id, external_id, display_name: null, email: null, avatar_url: null, ...fields }
}

/** The body of a single-identity answer of either generation: a flat identity or `{ identity: … }`. */
export const IdentityResponse: Schema.Schema<
  Identity,
  typeof Identity.Encoded | { readonly identity: typeof Identity.Encoded }
> = Schema.Union(Identity, Schema.Struct({ identity: Identity })).pipe(
  Schema.transform(Schema.typeSchema(Identity), {
    strict: true,
    decode: (body) => (body instanceof Identity ? body : body.identity),
    encode: (identity) => identity
  })
)

// ---------------------------------------------------------------------------------------------------------------------
// inputs
// ---------------------------------------------------------------------------------------------------------------------

// `undefined` and `null` as the alternatives of a field: their messages do not quote the value (formatting one
// nested deeper than the stack, as an input may be, would overflow it)
const Absent = Schema.Undefined.annotations({ message: () => "Expected undefined" })
const Cleared = Schema.Null.annotations({ message: () => "Expected null" })

/**
 * An optional input field, typed `?: A | undefined`: absent and `undefined` both mean "not given" (code compiled
 * without `exactOptionalPropertyTypes` writes `{ email: form.email }` for a value it may not have), and such a key
 * is left out of the wire form, not sent. A value is checked against `schema`. The wire form has no `undefined`.
 */
const optionalInput = <A, I, R>(schema: Schema.Schema<A, I, R>) =>
  Schema.optionalToOptional(schema, Schema.Union(Absent, Schema.typeSchema(schema)), {
    decode: identity,
    encode: Option.filter((value): value is A => value !== undefined)
  })

/** A PATCH field: absent or `undefined` keeps the value, `null` clears it, a value sets it. */
const patchField = <A, I, R>(schema: Schema.Schema<A, I, R>) => optionalInput(Schema.Union(Cleared, schema))

/**
 * The body of `POST /v2/identities`. `externalId` is required; everything else is optional (absent or
 * `undefined`: not sent).
 */
export const CreateIdentity = Schema.Struct({
  externalId: Schema.propertySignature(ExternalId).pipe(Schema.fromKey("external_id")),
  displayName: patchField(DisplayName).pipe(Schema.fromKey("display_name")),
  email: patchField(Email),
  avatarUrl: patchField(Url).pipe(Schema.fromKey("avatar_url")),
  tags: optionalInput(Schema.Array(Tag)),
  metadata: optionalInput(Metadata)
}).annotations({ identifier: "CreateIdentity" })

/** The input of {@link CreateIdentity}. */
export type CreateIdentity = typeof CreateIdentity.Type

/**
 * A PATCH field the contract never lets be `null` (a list, an object): absent or `undefined` keeps (not sent),
 * `null` still means "clear", and is sent as the empty value, which replaces the stored one. A `null` on the wire
 * is refused when read.
 */
const clearedAsEmpty = <A>(schema: Schema.Schema<A>, empty: () => A) =>
  Schema.optionalToOptional(schema, Schema.Union(Absent, Cleared, Schema.typeSchema(schema)), {
    decode: identity,
    encode: Option.flatMap((value) => value === undefined ? Option.none() : Option.some(value ?? empty()))
  })

/**
 * The body of `PATCH /v2/identities/{id}`. Every field has three states: absent (or `undefined`) keeps the stored
 * value and is not sent, `null` clears it, a value sets it. `tags` and `metadata` replace the stored value as a
 * whole; as the contract has no `null` for them, clearing them sends `[]` / `{}`.
 */
export const UpdateIdentity = Schema.Struct({
  displayName: patchField(DisplayName).pipe(Schema.fromKey("display_name")),
  email: patchField(Email),
  avatarUrl: patchField(Url).pipe(Schema.fromKey("avatar_url")),
  tags: clearedAsEmpty(Schema.Array(Tag), () => []),
  metadata: clearedAsEmpty(Metadata, () => ({}))
}).annotations({ identifier: "UpdateIdentity" })

/** The input of {@link UpdateIdentity}. */
export type UpdateIdentity = typeof UpdateIdentity.Type

/** A page size: an integer from 1 to 50. */
export const PageLimit = Schema.Number.pipe(
  Schema.filter((n) => (Number.isInteger(n) && n >= 1 && n <= 50) || `must be an integer from 1 to 50 (got ${n})`),
  Schema.annotations({ identifier: "PageLimit", arbitrary: () => (fc) => fc.integer({ min: 1, max: 50 }) })
)

/** A tag used as a list filter: the wire joins tags with commas, so a tag may not contain one. */
export const TagFilter = Tag.pipe(
  wellFormed,
  Schema.filter((s) => !s.includes(",") || "must not contain ','")
)

/**
 * The query of `GET /v2/identities`. `startingAfter` / `endingBefore` are `_id` cursors. Every parameter is optional
 * (absent or `undefined`: not sent).
 */
export const ListIdentities = Schema.Struct({
  limit: optionalInput(PageLimit),
  startingAfter: optionalInput(IdentityId).pipe(Schema.fromKey("starting_after")),
  endingBefore: optionalInput(IdentityId).pipe(Schema.fromKey("ending_before")),
  search: optionalInput(SearchTerm),
  tags: optionalInput(Schema.Array(TagFilter)),
  includeMetrics: optionalInput(Schema.Boolean).pipe(Schema.fromKey("include_metrics"))
}).annotations({ identifier: "ListIdentities" })

/** The input of {@link ListIdentities}. */
export type ListIdentities = typeof ListIdentities.Type

/** One page of identities. The API gives no cursor: the next one is the last item's `id`. */
export class IdentityPage extends Schema.Class<IdentityPage>("IdentityPage")({
  data: Schema.Array(Identity),
  hasMore: Schema.propertySignature(Schema.Boolean).pipe(Schema.fromKey("has_more"))
}) {}
