import type { McpAuthErrorCode } from './errors.js'

/**
 * Observability events. By construction none of them carries a token, a token hash or an `Authorization`
 * header: only issuers, subjects, client ids, codes and counts.
 */
export type McpAuthEvent =
  | {
    type: 'authenticated'; issuer?: string; subject?: string; clientId: string; verifiedBy: 'jwt' | 'introspection' | 'custom'
    /** `modern`: an MCP 2026-07-28 request; `legacy`: 2025-11-25 or before. */
    revision?: 'modern' | 'legacy'
    /** What the policy judged: the SEP-2243 headers, the body, or nothing (no policy). */
    policyFrom?: 'headers' | 'body' | 'none'
  }
  /** A configuration the server accepted but that works against clients (e.g. `offline_access` in `scopesSupported`). */
  | { type: 'config_warning'; option: string; message: string }
  | { type: 'rejected'; code: McpAuthErrorCode; status: number; issuer?: string }
  | { type: 'cache'; hit: boolean; cache: 'token' | 'introspection' }
  | { type: 'discovery'; issuer: string; ok: boolean; url?: string; reason?: string }
  | { type: 'jwks_fetch'; issuer: string; ok: boolean; reason?: string }
  | { type: 'jwks_stale'; issuer: string; ageSeconds: number }
  | { type: 'introspection'; issuer: string; ok: boolean; active?: boolean; reason?: string }
  | { type: 'idp_unavailable'; issuer: string; what: 'discovery' | 'jwks' | 'introspection'; reason: string }
  /** A shared store (session bindings) did not answer: the request got 503, or (`set`) a new session is unbound. */
  | { type: 'store_unavailable'; what: 'session'; operation: 'get' | 'set' | 'probe'; reason: string }

export type EventSink = (event: McpAuthEvent) => void

/** Wrap the user's hook so a throwing hook never breaks a request. */
export function eventSink(hook: ((event: McpAuthEvent) => void) | undefined): EventSink | undefined {
  if (!hook) return undefined
  return (event) => {
    try {
      hook(event)
    } catch {
      // An observability hook must not change the outcome of a request.
    }
  }
}
