/**
 * A hand-driven OAuth client for the bridge's attack tests: every request is explicit so a test can change
 * exactly one thing (a redirect URI, a verifier, a state, an iss) and see the bridge refuse it.
 */
import { createHash, randomBytes } from 'node:crypto'

export interface Registered {
  client_id: string
  redirect_uris: string[]
}

export interface AuthorizationRequest {
  url: URL
  verifier: string
  state: string
  redirectUri: string
}

export interface AsMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  registration_endpoint: string
  revocation_endpoint: string
  device_authorization_endpoint: string
  jwks_uri: string
  [k: string]: unknown
}

export async function metadata(issuer: string): Promise<AsMetadata> {
  const u = new URL(issuer)
  const res = await fetch(`${u.origin}/.well-known/oauth-authorization-server${u.pathname === '/' ? '' : u.pathname}`)
  if (res.status !== 200) throw new Error(`metadata: HTTP ${res.status}`)
  return (await res.json()) as AsMetadata
}

export async function register(as: AsMetadata, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(as.registration_endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export function authorizationRequest(as: AsMetadata, clientId: string, redirectUri: string, params: Record<string, string | undefined> = {}): AuthorizationRequest {
  const { verifier, challenge } = pkce()
  const state = randomBytes(12).toString('base64url')
  const url = new URL(as.authorization_endpoint)
  const all: Record<string, string | undefined> = {
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'mcp:tools', state,
    code_challenge: challenge, code_challenge_method: 'S256', ...params,
  }
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v)
  return { url, verifier, state, redirectUri }
}

export async function token(as: AsMetadata, form: Record<string, string | undefined>): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v)
  const res = await fetch(as.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}
