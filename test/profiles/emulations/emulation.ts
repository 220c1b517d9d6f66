/**
 * The base of the provider emulations: a node:http server on 127.0.0.1:0 with a route table, request log,
 * signing keys generated per run, and a signer that writes exactly the header and claims given (no defaults:
 * each emulation spells out what its provider puts in a token).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose'

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string, url: URL) => void

export interface SigningKey {
  kid: string
  alg: 'RS256' | 'ES384'
  privateKey: CryptoKey
  publicJwk: JWK
}

export interface Emulation {
  origin: string
  port: number
  /** Every request as "METHOD /path", in order. */
  requests: string[]
  route(method: string, path: string, handler: Handler): void
  /** Answer what no route matched (default 404 with an empty JSON object). */
  fallback: Handler
  json(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void
  close(): Promise<void>
}

export async function startEmulation(): Promise<Emulation> {
  const routes = new Map<string, Handler>()
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const origin = `http://127.0.0.1:${port}`
  const emulation: Emulation = {
    origin,
    port,
    requests: [],
    route: (method, path, handler) => void routes.set(`${method} ${path}`, handler),
    fallback: (_req, res) => emulation.json(res, 404, {}),
    json(res, status, body, headers = {}) {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body))
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
  server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin)
      emulation.requests.push(`${req.method} ${url.pathname}`)
      const handler = routes.get(`${req.method} ${url.pathname}`) ?? emulation.fallback
      handler(req, res, Buffer.concat(chunks).toString('utf8'), url)
    })
  })
  return emulation
}

export async function signingKey(alg: SigningKey['alg'] = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomBytes(16).toString('base64url')
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid } }
}

/** Sign exactly this header (plus `alg` and `kid` unless given) and payload. */
export function sign(key: SigningKey, header: Record<string, unknown>, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header } as never).sign(key.privateKey)
}

export const now = (): number => Math.floor(Date.now() / 1000)
export const uuid = (): string => randomUUID()
/** Random base64url text, the shape of most providers' opaque ids. */
export const random = (bytes = 16): string => randomBytes(bytes).toString('base64url')
