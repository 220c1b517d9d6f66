/**
 * With a policy the JSON-RPC body is read before the token (to know the tool's scopes), so the read is capped:
 * past 4 MB the core answers 413 on every host that leaves the body to it.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { withMcpAuth } from '@mcp-oauth/node'
import { mcpAuth } from '@mcp-oauth/express'
import type { McpAuthOptions } from '@mcp-oauth/core'

const options: McpAuthOptions = { resource: 'http://127.0.0.1:1/mcp', issuer: 'http://127.0.0.1:1', policy: { tools: { deploy: ['mcp:admin'] } } }
const servers: Server[] = []
afterAll(() => servers.forEach((s) => s.close()))

async function listen(listener: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(listener)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
}

const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', pad: 'a'.repeat(5 * 1024 * 1024) } })

describe.each([
  ['node:http', () => listen(withMcpAuth(options, (_req, res) => void res.end('reached')))],
  ['Express without a body parser', () => {
    const app = express()
    app.use(mcpAuth(options))
    app.post('/mcp', (_req, res) => { res.send('reached') })
    return listen(app)
  }],
])('%s', (_name, start) => {
  it('a body over 4 MB → 413, never the handler', async () => {
    const url = await start()
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('a normal body is read once and still reaches the policy (401 asks for the tool\'s scope)', async () => {
    const url = await start()
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy' } }) })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/scope="mcp:admin", DPoP algs="[^"]+"$/)
  })
})
