/**
 * MCP-aware authorization: which scopes a JSON-RPC request needs, per tool (`tools/call` by `params.name`),
 * per method, by default, or by a function that can read claims. Evaluated on the request body the adapter
 * already has (one message or a batch), so the HTTP layer can answer 403 `insufficient_scope` per tool and
 * clients can step up (MCP authorization, "Scope challenge handling").
 */
import type { AuthInfo } from '../auth-info.js'
import { SCOPE_TOKEN } from '../token/rfc6750.js'
import { McpAuthConfigError, McpAuthError } from '../errors.js'

/** One JSON-RPC request of the body, as the policy sees it. */
export interface PolicyRequest {
  method: string
  /** The JSON-RPC id (absent for notifications). */
  id?: string | number
  /** For `tools/call`: the tool's name. */
  tool?: string
  params?: unknown
}

/** What a policy function returns: scopes needed (the 403 asks for them), `true`/`undefined` (no more needed), `false` (refused). */
export type PolicyDecision = readonly string[] | boolean | undefined

/** Scopes by tool and by method. Unknown tool names are fine (tools can be added later); malformed entries are not. */
export interface McpPolicy {
  /** Scopes per tool name, for `tools/call`, e.g. `{ deploy: ['mcp:admin'] }`. */
  tools?: Record<string, readonly string[]>
  /** Scopes per JSON-RPC method, e.g. `{ 'resources/read': ['files:read'] }`. */
  methods?: Record<string, readonly string[]>
  /** Scopes for a request no `tools`/`methods` entry names. Default: none (only `requiredScopes`). */
  default?: readonly string[]
  /**
   * A rule that needs claims (roles, groups, tenant): called per JSON-RPC request after the token is verified,
   * on top of the static rules.
   */
  check?: (request: PolicyRequest, auth: AuthInfo) => PolicyDecision | Promise<PolicyDecision>
  /**
   * Filter `tools/list` results so a token sees only the tools its scopes allow (opt-in). Default false: hiding
   * tools also hides what a step-up would unlock, so a client cannot offer to ask for more.
   */
  filterToolsList?: boolean
}

export interface ResolvedPolicy {
  tools: ReadonlyMap<string, readonly string[]>
  methods: ReadonlyMap<string, readonly string[]>
  default: readonly string[]
  check: McpPolicy['check']
  filterToolsList: boolean
}

const KNOWN = new Set(['tools', 'methods', 'default', 'check', 'filterToolsList'])

function scopeList(value: unknown, option: string): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))) {
    throw new McpAuthConfigError(option, 'must be an array of scope strings (no spaces, quotes or backslashes), e.g. ["mcp:admin"].')
  }
  return [...new Set(value as string[])]
}

function scopeMap(value: unknown, option: string): Map<string, string[]> {
  const map = new Map<string, string[]>()
  if (value === undefined) return map
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new McpAuthConfigError(option, 'must be an object mapping names to scope arrays, e.g. { deploy: ["mcp:admin"] }.')
  }
  for (const [name, scopes] of Object.entries(value)) {
    if (name === '') throw new McpAuthConfigError(option, 'has an empty name.')
    map.set(name, scopeList(scopes, `${option}.${name}`))
  }
  return map
}

export function resolvePolicy(policy: McpPolicy | undefined): ResolvedPolicy | undefined {
  if (policy === undefined) return undefined
  if (policy === null || typeof policy !== 'object') throw new McpAuthConfigError('policy', 'must be an object like { tools: { deploy: ["mcp:admin"] } }.')
  for (const key of Object.keys(policy)) {
    if (!KNOWN.has(key)) throw new McpAuthConfigError(`policy.${key}`, `unknown option. Known: ${[...KNOWN].join(', ')}.`)
  }
  if (policy.check !== undefined && typeof policy.check !== 'function') throw new McpAuthConfigError('policy.check', 'must be a function (request, auth) => string[] | boolean.')
  if (policy.filterToolsList !== undefined && typeof policy.filterToolsList !== 'boolean') throw new McpAuthConfigError('policy.filterToolsList', 'must be true or false.')
  return {
    tools: scopeMap(policy.tools, 'policy.tools'),
    methods: scopeMap(policy.methods, 'policy.methods'),
    default: policy.default === undefined ? [] : scopeList(policy.default, 'policy.default'),
    check: policy.check,
    filterToolsList: policy.filterToolsList === true,
  }
}

/**
 * The JSON-RPC requests in a body (a single message or a batch). Responses and notifications without a
 * method are ignored; anything that is not JSON-RPC yields an empty list (the transport will refuse it).
 */
export function jsonRpcRequests(body: unknown): PolicyRequest[] {
  const messages = Array.isArray(body) ? body : [body]
  const out: PolicyRequest[] = []
  for (const m of messages) {
    if (m === null || typeof m !== 'object' || typeof (m as { method?: unknown }).method !== 'string') continue
    const { method, params, id } = m as { method: string; params?: unknown; id?: unknown }
    const request: PolicyRequest = { method, params }
    if (typeof id === 'string' || typeof id === 'number') request.id = id
    if (method === 'tools/call' && params !== null && typeof params === 'object') {
      const name = (params as { name?: unknown }).name
      if (typeof name === 'string') request.tool = name
    }
    out.push(request)
  }
  return out
}

/** Scopes the static rules ask of one request: its method's, and its tool's. */
export function staticScopes(policy: ResolvedPolicy, request: PolicyRequest): string[] {
  const byMethod = policy.methods.get(request.method)
  const byTool = request.tool === undefined ? undefined : policy.tools.get(request.tool)
  if (!byMethod && !byTool) return [...policy.default]
  return [...(byMethod ?? []), ...(byTool ?? [])]
}

/** May a token with `scopes` call `tool`? (For `tools/list` filtering and `requireScopes`.) */
export function toolAllowed(policy: ResolvedPolicy, tool: string, scopes: readonly string[]): boolean {
  return staticScopes(policy, { method: 'tools/call', tool }).every((s) => scopes.includes(s))
}

/** What the whole body needs: the union over its requests, and whether a rule refused outright. */
export async function policyNeeds(policy: ResolvedPolicy, requests: readonly PolicyRequest[], auth: AuthInfo | undefined): Promise<{ scopes: string[]; denied: boolean }> {
  const scopes = new Set<string>()
  let denied = false
  for (const request of requests) {
    for (const s of staticScopes(policy, request)) scopes.add(s)
    if (policy.check && auth) {
      const decision = await policy.check(request, auth)
      if (decision === false) denied = true
      else if (Array.isArray(decision)) for (const s of decision) if (typeof s === 'string' && SCOPE_TOKEN.test(s)) scopes.add(s)
    }
  }
  return { scopes: [...scopes], denied }
}

/** The scopes in `required` that `auth` lacks. */
export function missingScopes(auth: Pick<AuthInfo, 'scopes'> | undefined, required: readonly string[]): string[] {
  const have = auth?.scopes ?? []
  return required.filter((s) => !have.includes(s))
}

/**
 * For checks inside a tool handler that depend on the arguments. Throws an `ERR_INSUFFICIENT_SCOPE`
 * {@link McpAuthError} when scopes are missing; the MCP SDK turns a throw in a tool into a tool error
 * (`isError: true`) carrying the message. It cannot be an HTTP 403 — the transport already answered — so
 * when the needed scopes are known from the tool name alone, put them in `policy.tools` instead: that one
 * is a real 403 the client can step up from.
 *
 * @example
 * ```ts
 * server.registerTool('write_file', { inputSchema }, ({ path }, extra) => {
 *   requireScopes(extra, path.startsWith('/etc') ? ['files:admin'] : ['files:write'])
 *   …
 * })
 * ```
 */
export function requireScopes(extra: { authInfo?: Pick<AuthInfo, 'scopes'> | undefined }, required: readonly string[]): void {
  const missing = missingScopes(extra.authInfo, required)
  if (missing.length > 0) {
    throw new McpAuthError('ERR_INSUFFICIENT_SCOPE', `This call needs the scope(s): ${missing.join(' ')}`, {
      scopes: [...(extra.authInfo?.scopes ?? []), ...missing],
    })
  }
}
