// `pnpm orq`: runs the orq CLI from one ESM bundle of its sources (node_modules/.cache/orq/orq.mjs), rebuilt by
// esbuild whenever a source is newer than it. A bundle starts about 3x faster than loading the TypeScript sources
// through tsx (see BENCHMARKS.md), and the mtime check keeps it from ever running stale code.
import * as esbuild from "esbuild"
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { nodeBundle } from "./bundle.mjs"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const entry = join(root, "packages/app/src/bin.ts")
const bundle = join(root, "node_modules/.cache/orq/orq.mjs")

/** The newest modification time among the sources, their manifests, the lockfile and the build scripts. */
const newestSource = () => {
  let newest = statSync(join(root, "pnpm-lock.yaml")).mtimeMs
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (/\.m?[jt]s$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  for (const pkg of ["domain", "client", "app"]) {
    walk(join(root, "packages", pkg, "src"))
    newest = Math.max(newest, statSync(join(root, "packages", pkg, "package.json")).mtimeMs)
  }
  // the build itself (this script and its esbuild options) counts too
  walk(join(root, "packages/app/scripts"))
  return newest
}

if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource()) {
  const result = await esbuild.build({ ...nodeBundle, entryPoints: [entry], write: false, outfile: bundle })
  mkdirSync(dirname(bundle), { recursive: true })
  // written aside then renamed: a concurrent `pnpm orq` never imports half a file
  const temp = `${bundle}.${process.pid}.tmp`
  writeFileSync(temp, result.outputFiles[0].contents)
  renameSync(temp, bundle)
}

await import(pathToFileURL(bundle).href)
