/**
 * What the resource server does to an authenticated request's response: bind a new `Mcp-Session-Id`
 * (mcp/session-stage.ts) and, with `policy.filterToolsList`, filter `tools/list` results
 * (mcp/tools-list-filter.ts). Node hosts apply the hooks with http/node-response.ts, the fetch host directly.
 */
import type { AuthInfo } from '../auth-info.js'
import type { InterceptHooks } from '../http/node-response.js'
import { toolAllowed, type PolicyRequest, type ResolvedPolicy } from './policy.js'
import type { SessionStage } from './session-stage.js'
import { filterToolsListBody } from './tools-list-filter.js'

export function responseHooks(
  sessions: SessionStage,
  policy: ResolvedPolicy | undefined,
  info: AuthInfo,
  requests: readonly PolicyRequest[],
  mayCreateSession: boolean,
): InterceptHooks | undefined {
  // Most requests need neither hook: no object for them.
  if (!(sessions.store && mayCreateSession) && !policy?.filterToolsList) return undefined
  const hooks: InterceptHooks = {}
  if (sessions.store && mayCreateSession) hooks.onSessionId = (id) => void sessions.bind(id, info)
  if (policy?.filterToolsList) {
    const ids = new Set(requests.filter((r) => r.method === 'tools/list' && r.id !== undefined).map((r) => r.id!))
    if (ids.size > 0) hooks.transformBody = (body, type) => filterToolsListBody(body, type, ids, (tool) => toolAllowed(policy, tool, info.scopes))
  }
  return hooks.onSessionId || hooks.transformBody ? hooks : undefined
}
