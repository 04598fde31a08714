import type { BuildOptions } from "esbuild"

/** The esbuild options of a Node ESM bundle: what `pnpm orq` runs and what the benchmarks time. */
export declare const nodeBundle: BuildOptions
