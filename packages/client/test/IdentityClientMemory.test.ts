import { identityBehaviour } from "./behaviour/IdentityBehaviour.js"
import { layerMemory } from "../src/IdentityClientMemory.js"

identityBehaviour("IdentityClientMemory.layerMemory", layerMemory())
