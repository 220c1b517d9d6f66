/**
 * What a verified request carries. Structurally identical to the MCP SDK's `AuthInfo`
 * (`@modelcontextprotocol/sdk/server/auth/types.js`), so it can be handed to the SDK transport as
 * `req.auth` and reaches tool handlers as `extra.authInfo`.
 */
export interface AuthInfo {
  /** The access token (kept so a tool can call a downstream API on the user's behalf; never logged). */
  token: string
  /** `client_id` (or `azp`) of the client the token was issued to. */
  clientId: string
  /** Scopes granted to the token. */
  scopes: string[]
  /** Expiry, seconds since the epoch. */
  expiresAt?: number
  /** The resource the token was checked against (this server's canonical URI). */
  resource?: URL
  /**
   * Subject, issuer, the full claims set and how the token was verified ({@link AuthInfoExtra}). Typed as the
   * SDK types it, so both libraries' `req.auth` declarations agree; read it with {@link authInfoExtra}.
   */
  extra?: Record<string, unknown>
}

export interface AuthInfoExtra {
  /** `sub` claim. */
  subject?: string
  /** The issuer that vouched for the token. */
  issuer?: string
  /** The JWT claims set or the introspection response. */
  claims?: Record<string, unknown>
  /** How the token was verified. */
  verifiedBy?: 'jwt' | 'introspection' | 'custom'
}

/** The typed view of `auth.extra` as filled by mcp-oauth. */
export function authInfoExtra(info: AuthInfo): AuthInfoExtra {
  return (info.extra ?? {}) as AuthInfoExtra
}
