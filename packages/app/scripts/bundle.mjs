// The esbuild options of a Node ESM bundle of this repository's TypeScript, shared by `pnpm orq` (scripts/orq.mjs)
// and the benchmarks, so that what `pnpm bench` times is what `pnpm orq` runs.

/** @type {import("esbuild").BuildOptions} */
export const nodeBundle = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  logLevel: "error",
  // CommonJS dependencies inside an ESM bundle still call require
  banner: {
    js: "import { createRequire as __orqRequire } from 'node:module'; const require = __orqRequire(import.meta.url);"
  }
}
