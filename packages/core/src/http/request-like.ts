/**
 * The minimal request shape the core reads. A web `Request` satisfies it; adapters build one cheaply from
 * their native request without copying the body.
 */
export interface RequestLike {
  method: string
  /** Absolute URL or origin-form path with query (`/mcp?x=1`). */
  url: string
  headers: { get(name: string): string | null }
  /**
   * Set by adapters whose framework already parsed the body: a form body carrying `access_token` (RFC 6750
   * §2.2) must be refused, since MCP tokens travel only in the header.
   */
  bodyHasAccessToken?: boolean
}
