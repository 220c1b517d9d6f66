/**
 * The decision for a Node request (Express, node:http), with the body read only when it has to be: an MCP
 * 2026-07-28 request is decided from its `Mcp-Method` / `Mcp-Name` headers first, so a refusal (401, 403, 400)
 * reads no body; when the request may run, the body is read once (left on `req.body` for the transport) and
 * checked against the headers. A body the framework already parsed is checked straight away. Without a
 * policy nothing depends on the body, so it is not read.
 */
import { nodeJsonBody, type NodeRequestLike } from '../http/node-request.js'
import type { RequestLike } from '../http/request-like.js'
import type { HandleOptions, McpAuth, McpAuthOutcome } from './types.js'

type ReadableNodeRequest = NodeRequestLike & AsyncIterable<unknown> & { _body?: boolean; readableEnded?: boolean }

export async function handleNodeRequest(auth: Pick<McpAuth, 'handle' | 'checkBody'>, req: ReadableNodeRequest, like: RequestLike, opts?: HandleOptions): Promise<McpAuthOutcome> {
  const parsed = req.body
  if (parsed !== undefined) return auth.handle(like, { ...opts, body: parsed })
  let outcome = await auth.handle(like, { ...opts, bodyPending: true })
  if (outcome.type === 'needs-body') {
    const body = await nodeJsonBody(req)
    outcome = await auth.handle(like, body === undefined ? opts : { ...opts, body })
  } else if (outcome.type === 'authenticated' && outcome.needsBody) {
    outcome = await auth.checkBody(outcome, await nodeJsonBody(req))
  }
  return outcome
}
