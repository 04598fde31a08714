/** The test projects: one per package, each running its own `test/` folder against sources. */
export default ["packages/domain", "packages/client", "packages/app"]
