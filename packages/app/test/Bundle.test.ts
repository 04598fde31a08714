/**
 * The bundle-size budget of an update-only consumer (the bench's `bundle` section, asserted): a change that
 * brings back a whole Effect module (an `import { Schema } from "effect"` in a library source, say) fails here.
 */
import { assert, describe, it } from "@effect/vitest"
import { BUDGET_GZIP_BYTES, measure, OURS } from "../bench/bundle.js"

describe("Bundle", () => {
  it("an update-only consumer (IdentityClient + FetchHttpClient) stays within the gzip budget", async () => {
    const size = await measure(OURS)
    assert.isAtMost(size.gzip, BUDGET_GZIP_BYTES, `${size.gzip} bytes gzip`)
    assert.notInclude(size.packages.map(([name]) => name), "fast-check")
  }, 30_000)
})
