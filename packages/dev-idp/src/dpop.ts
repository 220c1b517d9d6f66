/**
 * DPoP (RFC 9449) at the dev IdP: oidc-provider's own `dPoP` feature. A client that sends a `DPoP` proof to the
 * token endpoint (the MCP SDK v2 client with a `DpopSession`) gets an access token bound to its key: `token_type:
 * "DPoP"` and `cnf.jkt` in the JWT (and in introspection answers). On by default, as in oidc-provider; `false`
 * turns it off (every token is a bearer token), `{ requireNonce: true }` makes the token endpoint demand a server
 * nonce (RFC 9449 §8: 400 `use_dpop_nonce` with a `DPoP-Nonce` header first).
 */
import { randomBytes } from 'node:crypto'
import type { Configuration } from 'oidc-provider'
import type { DevIdpOptions } from './types.js'

export type DevIdpDpop = NonNullable<DevIdpOptions['dpop']>

export function checkDpopOption(value: DevIdpOptions['dpop']): void {
  if (value === undefined || typeof value === 'boolean') return
  if (typeof value !== 'object' || value === null) throw new TypeError('dev-idp: dpop must be true, false or { requireNonce?: boolean }')
  for (const key of Object.keys(value)) if (key !== 'requireNonce') throw new TypeError(`dev-idp: unknown dpop option "${key}" (known: requireNonce)`)
  if (value.requireNonce !== undefined && typeof value.requireNonce !== 'boolean') throw new TypeError('dev-idp: dpop.requireNonce must be true or false')
}

/** The `features.dPoP` block of the provider configuration. */
export function dpopFeature(value: DevIdpOptions['dpop']): NonNullable<Configuration['features']>['dPoP'] {
  if (value === false) return { enabled: false }
  const requireNonce = typeof value === 'object' && value.requireNonce === true
  return {
    enabled: true,
    // Nonces are HMACs of a time window under this secret (oidc-provider's DPoPNonces); one per IdP start.
    ...(requireNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
  }
}
