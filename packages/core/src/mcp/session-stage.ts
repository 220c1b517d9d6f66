/**
 * The session stage: a request naming an `Mcp-Session-Id` must come from the user the session was bound to
 * (mcp/session-binding.ts), and a response that creates a session binds it to the user of its request.
 */
import type { AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import { bindingOf, sameBinding, type SessionStore } from './session-binding.js'

/** Could this body start a session? Unknown (not parsed by the host) counts as yes. */
export function mayInitialize(body: unknown): boolean {
  if (body === undefined) return true
  if (Array.isArray(body)) return body.some((m) => (m as { method?: unknown } | null)?.method === 'initialize')
  return (body as { method?: unknown } | null)?.method === 'initialize'
}

export class SessionStage {
  constructor(readonly store: SessionStore | undefined) {}

  /** Throws ERR_SESSION_MISMATCH (answered 404) when `sessionId` is bound to another user. */
  async check(sessionId: string, info: AuthInfo): Promise<void> {
    const bound = await this.store!.get(sessionId)
    if (bound && !sameBinding(bound, bindingOf(info))) throw new McpAuthError('ERR_SESSION_MISMATCH', 'Session not found')
  }

  /** Remember that `sessionId` belongs to the user of `info`. Never fails the response. */
  async bind(sessionId: string, info: AuthInfo): Promise<void> {
    try {
      await this.store?.set(sessionId, bindingOf(info))
    } catch {
      // A failing external store must not fail the response; the session is then simply unbound.
    }
  }
}
