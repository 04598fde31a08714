/**
 * Bundle size of a consumer that only updates an identity: ours (`IdentityClient` over `FetchHttpClient`) next
 * to the official SDK's standalone `identitiesUpdate` function. esbuild, ESM, minified, tree-shaken; gzip -9.
 */
import * as esbuild from "esbuild"
import { gzipSync } from "node:zlib"
import { fmt, here, table } from "./shared.js"

/** The update-only consumer of ours, as a user would write it. */
export const OURS = `
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { IdentityClient, layer } from "@orq-effect/client/IdentityClient"
import { Effect, Layer, Redacted } from "effect"

const program = Effect.flatMap(IdentityClient, (client) => client.update("user_12345", { displayName: "Jane" }))
const live = layer({ apiKey: Redacted.make(process.env.ORQ_API_KEY ?? "") }).pipe(Layer.provide(FetchHttpClient.layer))
Effect.runPromise(Effect.provide(program, live)).then(console.log, console.error)
`

const SDK = `
import { OrqCore } from "@orq-ai/node-4.9.4/core.js"
import { identitiesUpdate } from "@orq-ai/node-4.9.4/funcs/identitiesUpdate.js"

const orq = new OrqCore({ apiKey: process.env.ORQ_API_KEY ?? "" })
identitiesUpdate(orq, { id: "user_12345", requestBody: { displayName: "Jane" } }).then(console.log, console.error)
`

/** The 150 KB gzip budget of the update-only bundle. */
export const BUDGET_GZIP_BYTES = 150 * 1024

interface Size {
  readonly minified: number
  readonly gzip: number
  /** Bytes of the minified output per package, largest first. */
  readonly packages: ReadonlyArray<readonly [string, number]>
}

const packageOf = (path: string): string => {
  if (path.endsWith("entry.ts")) return "(entry)"
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(path)
  if (match !== null) return match[1]
  const workspace = /packages\/([^/]+)\//.exec(path)
  return workspace !== null ? `@orq-effect/${workspace[1]}` : path
}

export const measure = async (contents: string): Promise<Size> => {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: here("."), sourcefile: "entry.ts", loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["import", "default"],
    minify: true,
    treeShaking: true,
    write: false,
    metafile: true,
    logLevel: "error",
    // node built-ins are the runtime's, not the bundle's
    external: ["node:*"]
  })
  const code = result.outputFiles[0].contents
  const byPackage = new Map<string, number>()
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path)
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput)
    }
  }
  return {
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    packages: [...byPackage.entries()].sort((a, b) => b[1] - a[1])
  }
}

const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KB`

export const run = async (): Promise<void> => {
  console.log("\n## Bundle size of an update-only consumer (esbuild, ESM, minified, gzip -9)\n")
  const ours = await measure(OURS)
  const sdk = await measure(SDK)
  table(["bundle", "minified", "gzip", "budget"], [
    [
      "ours: IdentityClient + FetchHttpClient",
      kb(ours.minified),
      kb(ours.gzip),
      `${kb(BUDGET_GZIP_BYTES)} ${ours.gzip <= BUDGET_GZIP_BYTES ? "met" : "NOT met"}`
    ],
    ["@orq-ai/node 4.9.4: funcs/identitiesUpdate + OrqCore", kb(sdk.minified), kb(sdk.gzip), ""]
  ])
  console.log(`\nours / SDK (gzip): ${(ours.gzip / sdk.gzip).toFixed(2)}x`)
  for (const [name, size] of [["ours", ours], ["SDK", sdk]] as const) {
    console.log(
      `largest parts of ${name} (minified): ${size.packages.slice(0, 6).map(([p, b]) => `${p} ${kb(b)}`).join(", ")}`
    )
  }
}
