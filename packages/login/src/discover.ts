/**
 * From an MCP server URL to its authorization server, the way MCP clients do it: the 401's
 * `resource_metadata` (RFC 9728 via RFC 6750), else the path-inserted then root well-known PRM URL; then the
 * authorization server's metadata in the MCP order (RFC 8414, OpenID path-inserted, OpenID appended).
 */
import * as oauth from 'oauth4webapi'
import { authorizationServerMetadataUrls, protectedResourceMetadataUrl } from '@mcp-oauth/core'
import { LoginError } from './errors.js'

export interface Discovered {
  /** The PRM `resource`: what tokens are for. */
  resource: string
  /** Scopes to ask for: the 401's `scope`, else PRM `scopes_supported`. */
  scopes: string[]
  issuer: string
  as: oauth.AuthorizationServer
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const MAX_BYTES = 256 * 1024

export function httpOptions(url: string | undefined, timeoutMs = 10_000): { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
  const options: { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } = { signal: AbortSignal.timeout(timeoutMs) }
  if (url) {
    const u = new URL(url)
    if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) options[oauth.allowInsecureRequests] = true
  }
  return options
}

function param(challenge: string, name: string): string | undefined {
  return new RegExp(`(?:^|[\\s,])${name}="([^"]*)"`).exec(challenge)?.[1]
}

async function json(url: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
  if (!res || res.status !== 200) {
    await res?.body?.cancel().catch(() => {})
    return undefined
  }
  const text = await res.text()
  if (text.length > MAX_BYTES) return undefined
  try {
    const body = JSON.parse(text) as unknown
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export async function discover(mcpUrl: string): Promise<Discovered> {
  let probe: Response
  try {
    // A JSON-RPC ping without credentials: a protected MCP server answers 401 with its challenge.
    probe = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (cause) {
    throw new LoginError('ERR_LOGIN_NOT_PROTECTED', `${mcpUrl} could not be reached: ${(cause as Error).message}`, { cause })
  }
  await probe.body?.cancel().catch(() => {})
  const challenge = probe.headers.get('www-authenticate') ?? ''
  if (probe.status !== 401 || !/^bearer\b/i.test(challenge)) {
    throw new LoginError('ERR_LOGIN_NOT_PROTECTED', `${mcpUrl} answered ${probe.status} without a Bearer challenge: it is not an OAuth-protected MCP endpoint (check the URL, e.g. https://host/mcp)`)
  }
  const candidates = [param(challenge, 'resource_metadata'), protectedResourceMetadataUrl(mcpUrl), `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource`]
  let prm: Record<string, unknown> | undefined
  for (const url of candidates) if (url && !prm) prm = await json(url)
  const issuers = prm?.['authorization_servers']
  if (!prm || typeof prm['resource'] !== 'string' || !Array.isArray(issuers) || typeof issuers[0] !== 'string') {
    throw new LoginError('ERR_LOGIN_DISCOVERY', `${mcpUrl} publishes no usable protected resource metadata (RFC 9728: resource and authorization_servers)`)
  }
  const issuer = issuers[0]
  let as: oauth.AuthorizationServer | undefined
  for (const url of authorizationServerMetadataUrls(issuer)) {
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
    if (!res || res.status !== 200) {
      await res?.body?.cancel().catch(() => {})
      continue
    }
    try {
      as = await oauth.processDiscoveryResponse(new URL(issuer), res)
      break
    } catch (cause) {
      throw new LoginError('ERR_LOGIN_DISCOVERY', `the metadata of ${issuer} at ${url} is not valid for that issuer: ${(cause as Error).message}`, { cause })
    }
  }
  if (!as) throw new LoginError('ERR_LOGIN_DISCOVERY', `no authorization server metadata found for ${issuer} (tried ${authorizationServerMetadataUrls(issuer).join(', ')})`)
  const fromChallenge = param(challenge, 'scope')
  const supported = Array.isArray(prm['scopes_supported']) ? (prm['scopes_supported'] as unknown[]).filter((s): s is string => typeof s === 'string') : []
  return { resource: prm['resource'], scopes: fromChallenge ? fromChallenge.split(' ').filter(Boolean) : supported, issuer, as }
}
