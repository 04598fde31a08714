/**
 * @since 0.1.0
 */
export * from "./Identity.js"
export * from "./IdentityError.js"
