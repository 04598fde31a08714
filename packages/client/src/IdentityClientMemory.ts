/**
 * An in-memory `IdentityClient` with the API's semantics, for the tests of backends that use the client:
 * the same input checks (refused before any "I/O" with the same `InvalidRequest`), ids and timestamps from
 * `Clock`, 404 and 409 exactly where the API gives them, partial update, search, tag filter and cursors.
 *
 * @since 0.1.0
 */
import type { Identity } from "@orq-effect/domain/Identity"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import {
  checkCreate,
  checkId,
  checkIdAndUpdate,
  checkList,
  IdentityClient,
  paginate,
  type Service
} from "./IdentityClient.js"
import * as IdentityStore from "./IdentityStore.js"

/** The service over an {@link IdentityStore.IdentityStore}. */
export const fromStore = (store: IdentityStore.IdentityStore): Service => {
  const service: Service = {
    retrieve: (id, options) => Effect.zipRight(checkId(id), store.retrieve(id, options)),
    update: (id, patch) => Effect.zipRight(checkIdAndUpdate(id, patch), store.update(id, patch)),
    create: (input) => Effect.zipRight(checkCreate(input), store.create(input)),
    delete: (id) => Effect.zipRight(checkId(id), store.delete(id)),
    list: (params = {}) => Effect.zipRight(checkList(params), store.list(params)),
    stream: (params = {}) => paginate(service.list, params)
  }
  return service
}

/** Builds the in-memory service, holding `initial`. */
export const make = (initial: Iterable<Identity> = []): Effect.Effect<Service> =>
  Effect.map(IdentityStore.make(initial), fromStore)

/** The in-memory `IdentityClient`: a fresh, empty (or `initial`) store per layer build. */
export const layerMemory = (initial: Iterable<Identity> = []): Layer.Layer<IdentityClient> =>
  Layer.effect(IdentityClient, make(initial))
