/**
 * The typed errors of the Identities API. Every failure of an `IdentityClient` call is one of these: HTTP and
 * parse errors of the platform never leak. Each carries a readable `message` and, when the server sent one,
 * the `x-request-id` of the answer. None ever carries the API key or a request body.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"

const requestId = Schema.optional(Schema.String)

/** 404: no identity has this `_id` or `external_id`. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  id: Schema.String,
  message: Schema.String,
  requestId
}) {}

/** 401 or 403: the API key is missing, wrong, or not allowed to do this. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  status: Schema.Literal(401, 403),
  message: Schema.String,
  requestId
}) {}

/** 409: an identity with this `external_id` already exists. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  externalId: Schema.optional(Schema.String),
  message: Schema.String,
  requestId
}) {}

/**
 * The request is invalid: refused by the server (400, 422) or, with no `status`, refused by the client before
 * anything was sent. `field` names the offending input when it is known.
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  status: Schema.optional(Schema.Int),
  field: Schema.optional(Schema.String),
  message: Schema.String,
  requestId
}) {}

/**
 * The {@link InvalidRequest} for input refused before any request: one line per offending field, e.g.
 * `email: must be a valid email address`, or per unknown key, e.g. `display_name: is not a known field, expected:
 * "externalId" | "displayName" | …`; a failure of the input as a whole is named `root`. Where a field fails
 * several alternatives (a value, `null` or `undefined`), the reason of the value is kept.
 */
export const refusedInput = (error: ParseResult.ParseError, root = "input"): InvalidRequest => {
  let issues: Array<ParseResult.ArrayFormatterIssue>
  try {
    issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  } catch {
    // the messages quote the input, and reading an input whose getters throw throws again
    return new InvalidRequest({ field: root, message: `${root}: refused, and reading it to say why threw` })
  }
  // a nullable (or optional) field that fails reports "Expected null" ("Expected undefined") too: keep the reason
  // of the value
  const relevant = issues.filter((issue) => !/^Expected (null|undefined)\b/.test(issue.message))
  const lines = new Map<string, string>()
  for (const issue of relevant.length > 0 ? relevant : issues) {
    // String: an unknown key may be a symbol, which `join` would throw on
    const field = issue.path.length === 0 ? root : issue.path.map(String).join(".")
    // the parser's "actual …" quotes the value: the input may be personal data, and errors get logged
    const reason = issue._tag === "Unexpected"
      ? issue.message.replace(/^is unexpected/, "is not a known field")
      : issue.message.replace(/, actual [\s\S]*$/, "")
    if (!lines.has(field)) lines.set(field, `${field}: ${reason}`)
  }
  const first = [...lines.keys()][0] ?? root
  return new InvalidRequest({ field: first.split(".")[0], message: [...lines.values()].join("; ") })
}

/**
 * 429: too many requests. `retryAfter` is the server's `Retry-After`, with the `X-RateLimit-*` values. Encoded, the
 * wait is JSON (`Schema.Duration`), infinite included.
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfter: Schema.optional(Schema.Duration),
  limit: Schema.optional(Schema.Finite),
  remaining: Schema.optional(Schema.Finite),
  reset: Schema.optional(Schema.Finite),
  message: Schema.String,
  requestId
}) {}

/** 5xx, or any status the API does not document for the operation. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  status: Schema.Int,
  message: Schema.String,
  requestId
}) {}

/** No answer: the connection failed, was reset, or the attempt timed out. */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  reason: Schema.Literal("Timeout", "Connection"),
  message: Schema.String
}) {}

/** A 2xx answer whose body is not what the API promises (not JSON, truncated, wrong shape, too large). */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", {
  status: Schema.Int,
  message: Schema.String,
  requestId
}) {}

/** Every error an `IdentityClient` call can fail with. */
export type IdentityError =
  | NotFound
  | Unauthorized
  | Conflict
  | InvalidRequest
  | RateLimited
  | ServerError
  | TransportError
  | MalformedResponse

/** The schema of {@link IdentityError}, e.g. to send it over RPC. */
export const IdentityError: Schema.Union<[
  typeof NotFound,
  typeof Unauthorized,
  typeof Conflict,
  typeof InvalidRequest,
  typeof RateLimited,
  typeof ServerError,
  typeof TransportError,
  typeof MalformedResponse
]> = Schema.Union(
  NotFound,
  Unauthorized,
  Conflict,
  InvalidRequest,
  RateLimited,
  ServerError,
  TransportError,
  MalformedResponse
)

/** The `_tag` of every {@link IdentityError}, in a stable order. */
export const IdentityErrorTags: ReadonlyArray<IdentityError["_tag"]> = IdentityError.members.map((member) =>
  member._tag
)

/** Whether `u` is an {@link IdentityError} (of any tag). */
export const isIdentityError: (u: unknown) => u is IdentityError = Schema.is(IdentityError)

interface IssueLine {
  readonly path: string
  readonly reason: string
}

/** What the schema expected, in a few words (the AST's own description of a struct spells out every field). */
const expected = (ast: AST.AST): string =>
  ast._tag === "TypeLiteral" ? "an object" : ast._tag === "TupleType" ? "an array" : String(ast).slice(0, 120)

/** The leaves of `issue` with their paths, at most `max` of them, read from the schema only (see below). */
const issueLines = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>,
  lines: Array<IssueLine>,
  max: number
): void => {
  if (lines.length >= max) return
  const line = (reason: string) => lines.push({ path: path.map(String).join("."), reason })
  switch (issue._tag) {
    case "Pointer":
      return issueLines(issue.issue, path.concat(issue.path), lines, max)
    case "Composite":
      for (const inner of Array.isArray(issue.issues) ? issue.issues : [issue.issues]) {
        issueLines(inner, path, lines, max)
      }
      return
    case "Refinement":
    case "Transformation":
      return issueLines(issue.issue, path, lines, max)
    case "Type":
      return void line(`expected ${expected(issue.ast)}`)
    case "Missing":
      return void line("is missing")
    case "Unexpected":
      return void line("is unexpected")
    case "Forbidden":
      return void line("cannot be decoded synchronously")
  }
}

/**
 * A short reason a value did not decode: its first three offending paths, each with what the schema expected there
 * (of a nullable field, what its value should have been, not `null`). Built from the schema alone, never
 * from the value or the parser's messages: those quote the value, which may hold personal data or an echoed secret,
 * and formatting a deeply nested one overflows the stack.
 */
export const decodeFailureReason = (error: ParseResult.ParseError): string => {
  const lines: Array<IssueLine> = []
  issueLines(error.issue, [], lines, 24)
  // a nullable field that fails reports "expected null" (or "undefined") too: keep the reason of the value
  const relevant = lines.filter((line) => !/^expected (null|undefined)$/.test(line.reason))
  const reasons = new Map<string, string>()
  for (const { path, reason } of relevant.length > 0 ? relevant : lines) {
    if (!reasons.has(path)) reasons.set(path, reason)
  }
  return [...reasons].slice(0, 3).map(([path, reason]) => path.length > 0 ? `${path}: ${reason}` : reason).join("; ")
}
