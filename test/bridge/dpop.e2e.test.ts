/**
 * DPoP (RFC 9449) through the bridge: a client that sends a proof to the bridge's token endpoint gets a DPoP-bound
 * access token (oidc-provider's dPoP feature: `token_type: DPoP`, `cnf.jkt` in the JWT), which the MCP server behind
 * the bridge (the core, `dpop: 'allowed'`) accepts only with a fresh proof of that key — never as a Bearer token,
 * never with another key's proof. A client that sends no proof still gets a Bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calculateJwkThumbprint, decodeJwt } from 'jose'
import { browse, Jar } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'
import { authorizationRequest, metadata, register, type AsMetadata } from '../helpers/oauth-client.js'
import { forgeProof, proofKey, type ProofKey } from '../helpers/dpop.js'

const REDIRECT = 'http://127.0.0.1:8090/callback'
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'dpop-through-the-bridge', version: '1' } },
})
let world: BridgeWorld
let as: AsMetadata
let clientId: string

beforeAll(async () => {
  world = await startBridgeWorld({ mode: 'github-like' })
  as = await metadata(world.bridge.issuer)
  const reg = await register(as, { client_name: 'dpop client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] })
  clientId = reg.json['client_id'] as string
})
afterAll(async () => world?.close())

/** Sign in through the bridge (consent, upstream login) and redeem the code, with a DPoP proof when a key is given. */
async function signIn(key: ProofKey | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  const req = authorizationRequest(as, clientId, REDIRECT, { resource: world.mcpUrl })
  const result = await browse(req.url, { origins: [world.origin, world.idp.url], jar: new Jar() })
  if (result.kind !== 'redirect') throw new Error(`ended at ${result.kind}`)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (key) headers['dpop'] = await forgeProof({ key, url: as.token_endpoint })
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: result.url.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: req.verifier, client_id: clientId, resource: world.mcpUrl })
  const res = await fetch(as.token_endpoint, { method: 'POST', headers, body })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

function callMcp(authorization: string, proof?: string): Promise<Response> {
  const headers: Record<string, string> = { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  if (proof) headers['dpop'] = proof
  return fetch(world.mcpUrl, { method: 'POST', headers, body: INITIALIZE })
}

describe('DPoP through the bridge', () => {
  it('metadata advertises DPoP proof algorithms', () => {
    expect(as['dpop_signing_alg_values_supported']).toEqual(expect.arrayContaining(['ES256']))
  })

  it('a proof at the token endpoint → a DPoP-bound bridge JWT; the MCP server takes it only with a fresh proof of that key', async () => {
    const key = await proofKey()
    const issued = await signIn(key)
    expect(issued.status).toBe(200)
    expect(issued.json['token_type']).toBe('DPoP')
    const accessToken = issued.json['access_token'] as string
    const claims = decodeJwt(accessToken)
    expect(claims.aud).toBe(world.mcpUrl)
    expect((claims['cnf'] as { jkt?: string } | undefined)?.jkt).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))

    const ok = await callMcp(`DPoP ${accessToken}`, await forgeProof({ key, url: world.mcpUrl, token: accessToken }))
    expect(ok.status).toBe(200)

    // Downgrade: the bound token as a Bearer token.
    const asBearer = await callMcp(`Bearer ${accessToken}`)
    expect(asBearer.status).toBe(401)
    expect(asBearer.headers.get('www-authenticate')).toMatch(/invalid_token/)

    // A thief's own key: the proof is valid, but not for this token's key.
    const thief = await proofKey()
    const stolen = await callMcp(`DPoP ${accessToken}`, await forgeProof({ key: thief, url: world.mcpUrl, token: accessToken }))
    expect(stolen.status).toBe(401)
    expect(stolen.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_token", error_description="The DPoP proof key is not the key the access token is bound to"/)
  })

  it('no proof at the token endpoint → a Bearer token without cnf, accepted as Bearer', async () => {
    const issued = await signIn(undefined)
    expect(issued.status).toBe(200)
    expect(issued.json['token_type']).toBe('Bearer')
    const accessToken = issued.json['access_token'] as string
    expect(decodeJwt(accessToken)['cnf']).toBeUndefined()
    expect((await callMcp(`Bearer ${accessToken}`)).status).toBe(200)
  })
})
