/**
 * http/idp-fetch.ts against a real node:http server that drops connections: a request whose connection is
 * closed before any answer (the IdP closing a kept-alive connection as the request goes out) is sent once more;
 * anything else is not.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { idpFetch, IdpUnavailable } from '../../packages/core/src/http/idp-fetch.js'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ url: string; requests: () => number }> {
  let n = 0
  server = createServer((req, res) => handler(req, res, ++n))
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, requests: () => n }
}

const options = { fetch, timeout: 2000 }
const json = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}')

describe('idpFetch and dropped connections', () => {
  it.each(['GET', 'POST'])('%s: a connection closed before any answer is sent once more, and the answer used', async (method) => {
    const idp = await serve((req, res, n) => (n === 1 ? req.socket.destroy() : json(res)))
    const { response, body } = await idpFetch(idp.url, { method, ...(method === 'POST' ? { body: 'token=x' } : {}) }, options)
    expect(response.status).toBe(200)
    expect(body).toBe('{"keys":[]}')
    expect(idp.requests()).toBe(2)
  })

  it('a kept-alive connection the IdP closed: the next request still gets its answer', async () => {
    // The IdP answers, then closes the idle connection; the client's next request may go out on it.
    const idp = await serve((req, res) => {
      json(res)
      res.on('finish', () => setImmediate(() => req.socket.destroy()))
    })
    for (let i = 0; i < 5; i++) expect((await idpFetch(idp.url, { method: 'GET' }, options)).response.status).toBe(200)
  })

  it('dropped twice: unavailable after two requests, not more', async () => {
    const idp = await serve((req) => req.socket.destroy())
    const err = await idpFetch(idp.url, { method: 'GET' }, options).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IdpUnavailable)
    expect(idp.requests()).toBe(2)
  })

  it('a timeout is not retried: one request, "timed out"', async () => {
    const idp = await serve(() => undefined)
    const err = await idpFetch(idp.url, { method: 'GET' }, { fetch, timeout: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IdpUnavailable)
    expect((err as Error).message).toBe('timed out')
    expect(idp.requests()).toBe(1)
  })

  it('a refused connection (nothing listening) is not retried', async () => {
    let calls = 0
    const counting: typeof fetch = (input, init) => { calls++; return fetch(input, init) }
    // A port that was just free: listen on it, then close.
    const idp = await serve(() => undefined)
    await new Promise((resolve) => server!.close(resolve))
    server = undefined
    const err = await idpFetch(idp.url, { method: 'GET' }, { fetch: counting, timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IdpUnavailable)
    expect((err as Error).message).toBe('ECONNREFUSED')
    expect(calls).toBe(1)
  })
})
