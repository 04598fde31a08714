// ESLint with the Effect team's settings: typescript-eslint's recommended rules, and dprint (through
// @effect/eslint-plugin) as the formatter: no semicolons, double quotes, 120 columns.
import effect from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/.cache/**", "**/*.md"] },
  ...tseslint.configs.recommended,
  ...effect.configs.dprint,
  {
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error"
    }
  },
  {
    files: ["packages/*/test/**/*.ts"],
    rules: {
      "no-restricted-properties": ["error", {
        object: "assert",
        property: "deepStrictEqual",
        message: "chai's deepStrictEqual takes Option.some(x) for Option.none(): use deepStrictEqual (or assertSome, " +
          "assertNone) from \"@effect/vitest/utils\""
      }]
    }
  },
  {
    // the libraries' users bundle them: through the barrel, esbuild keeps every export of a namespace it reaches
    // (`Schema.x` on `import { Schema } from "effect"` keeps all of Schema.js, FastCheck included)
    files: ["packages/domain/src/**/*.ts", "packages/client/src/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", {
        paths: [{
          name: "effect",
          allowTypeImports: true,
          message:
            "import the module's subpath (import * as Schema from \"effect/Schema\"): the barrel defeats tree shaking"
        }]
      }]
    }
  }
)
