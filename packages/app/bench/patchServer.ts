/**
 * The loopback server of the throughput bench, run in a child process so that the contenders do not share its
 * event loop: a bare `node:http` server that reads any request body and answers one fixed identity as JSON.
 * Prints nothing; sends its port to the parent over IPC.
 */
import { createServer } from "node:http"
import { IDENTITY } from "./shared.js"

const body = Buffer.from(JSON.stringify(IDENTITY))

const server = createServer((request, response) => {
  request.on("data", () => {})
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json", "content-length": body.length })
    response.end(body)
  })
})
server.keepAliveTimeout = 60_000

if (process.send !== undefined) {
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.send?.({ port: typeof address === "object" && address !== null ? address.port : 0 })
  })
  process.on("disconnect", () => server.close(() => process.exit(0)))
}
