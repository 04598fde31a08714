/**
 * How the CLI prints identities: the API's wire shape for `--json` (snake_case, as the seed generation
 * answers), a key/value view of one identity and a table of many for people. Text meant for a terminal has
 * its control characters escaped, so that a stored name cannot drive the terminal.
 *
 * @since 0.1.0
 */
import { type Identity, type IdentityPage, toSeedWire } from "@orq-effect/domain/Identity"
import { DateTime, Option } from "effect"

/** A page in the wire shape of `GET /v2/identities`. */
export const wirePage = (page: IdentityPage): Record<string, unknown> => ({
  object: "list",
  data: page.data.map(toSeedWire),
  has_more: page.hasMore
})

/** `value` as pretty JSON (one document), or compact (one line, for `--all --json` streams). */
export const json = (value: unknown, compact = false): string => JSON.stringify(value, null, compact ? undefined : 2)

/** Escapes control characters (ESC, CR, BEL, …) so that printed data cannot move the cursor or recolour. */
export const safe = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** `text` without its ANSI escape sequences (colours, bold). */
export const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "")

const NONE = "-"

const text = (value: Option.Option<string>) => Option.match(value, { onNone: () => NONE, onSome: safe })

const time = (value: Option.Option<DateTime.Utc>) =>
  Option.match(value, { onNone: () => NONE, onSome: DateTime.formatIso })

const scalar = (value: unknown): string => safe(typeof value === "string" ? value : JSON.stringify(value) ?? "null")

/** One identity as aligned `key  value` lines; metadata one entry per line. */
export const identityView = (identity: Identity): string => {
  const metadata = Object.entries(identity.metadata).map(([key, value]) => `${safe(key)}=${scalar(value)}`)
  const rows: Array<readonly [string, ReadonlyArray<string>]> = [
    ["_id", [safe(identity.id)]],
    ["external_id", [safe(identity.externalId)]],
    ["display_name", [text(identity.displayName)]],
    ["email", [text(identity.email)]],
    ["avatar_url", [text(identity.avatarUrl)]],
    ["tags", [identity.tags.length === 0 ? NONE : identity.tags.map(safe).join(", ")]],
    ["metadata", metadata.length === 0 ? [NONE] : metadata],
    ["created", [time(identity.created)]],
    ["updated", [time(identity.updated)]]
  ]
  if (Option.isSome(identity.workspaceId)) rows.push(["workspace_id", [safe(identity.workspaceId.value)]])
  if (Option.isSome(identity.metrics)) {
    const metrics = identity.metrics.value
    rows.push(["metrics", [
      `total_cost=${metrics.totalCost}`,
      `total_tokens=${metrics.totalTokens}`,
      `total_requests=${metrics.totalRequests}`,
      `error_rate=${metrics.errorRate}`
    ]])
  }
  const width = Math.max(...rows.map(([key]) => key.length)) + 2
  return rows
    .flatMap(([key, values]) => values.map((value, i) => `${(i === 0 ? key : "").padEnd(width)}${value}`))
    .join("\n")
}

const MAX_CELL = 40

const cell = (value: string) => (value.length > MAX_CELL ? `${value.slice(0, MAX_CELL - 1)}…` : value)

/** Identities as a table: id, external id, display name, email and tags, long cells cut at 40 characters. */
export const table = (identities: ReadonlyArray<Identity>): string => {
  const header = ["_ID", "EXTERNAL_ID", "DISPLAY_NAME", "EMAIL", "TAGS"]
  const rows = identities.map((identity) => [
    safe(identity.id),
    cell(safe(identity.externalId)),
    cell(text(identity.displayName)),
    cell(text(identity.email)),
    cell(identity.tags.length === 0 ? NONE : identity.tags.map(safe).join(","))
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  return [header, ...rows]
    .map((row) => row.map((value, column) => value.padEnd(widths[column])).join("  ").trimEnd())
    .join("\n")
}
