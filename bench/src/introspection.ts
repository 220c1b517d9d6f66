/**
 * Introspection under concurrency: N distinct opaque tokens from the dev IdP, each presented by 100 requests
 * at once (N × 100 in flight). Single-flight plus the cache must turn that into exactly N calls to the IdP's
 * introspection endpoint, counted by the IdP itself.
 */
import { createMcpAuth } from '@mcp-oauth/core'
import type { DevIdp } from '@mcp-oauth/dev-idp'

export interface IntrospectionResult {
  tokens: number
  perToken: number
  calls: number
  authenticated: number
  seconds: number
}

export async function introspectionCalls(idp: DevIdp, resource: string, tokens: readonly string[], perToken = 100): Promise<IntrospectionResult> {
  const auth = createMcpAuth({ resource, issuer: idp.issuer, introspection: idp.resourceServerClient })
  idp.resetCounts()
  const start = performance.now()
  const results = await Promise.allSettled(tokens.flatMap((token) => Array.from({ length: perToken }, () =>
    auth.authenticate(new Request(resource, { method: 'POST', headers: { authorization: `Bearer ${token}` } })))))
  return {
    tokens: tokens.length,
    perToken,
    calls: idp.counts.introspection,
    authenticated: results.filter((r) => r.status === 'fulfilled').length,
    seconds: (performance.now() - start) / 1000,
  }
}
