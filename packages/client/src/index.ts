/**
 * @since 0.1.0
 */
export * as ErrorResponse from "./ErrorResponse.js"
export * from "./IdentityClient.js"
export * as IdentityClientMemory from "./IdentityClientMemory.js"
export { layerMemory } from "./IdentityClientMemory.js"
export * as IdentityStore from "./IdentityStore.js"
export * as IdentitySync from "./IdentitySync.js"
export * as PrivateSpan from "./PrivateSpan.js"
export * as ResponseBody from "./ResponseBody.js"
export * as RetryAfter from "./RetryAfter.js"
