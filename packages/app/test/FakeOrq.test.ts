import { NodeHttpClient } from "@effect/platform-node"
import { IdentityStore } from "@orq-effect/client"
import { layer as clientLayer } from "@orq-effect/client/IdentityClient"
import { Effect, Layer, Redacted } from "effect"
import { identityBehaviour } from "../../client/test/behaviour/IdentityBehaviour.js"
import * as FakeOrq from "../src/FakeOrq.js"

const API_KEY = Redacted.make("sk-test-fake-orq")

/** The live `IdentityClient` over undici, against a fresh FakeOrq of `generation` on a loopback port. */
const live = (generation: FakeOrq.Generation) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const store = yield* IdentityStore.make()
      const baseUrl = yield* FakeOrq.start({ store, generation, apiKey: API_KEY })
      return clientLayer({ apiKey: API_KEY, baseUrl })
    })
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

identityBehaviour("IdentityClient over HTTP against FakeOrq (seed)", live("seed"))
identityBehaviour("IdentityClient over HTTP against FakeOrq (current)", live("current"))
