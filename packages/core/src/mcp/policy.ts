/**
 * MCP-aware authorization: which scopes a JSON-RPC request needs, per tool (`tools/call` by `params.name`),
 * per prompt (`prompts/get`), per resource (`resources/read` by URI, exact or prefix), per method, by default,
 * or by a function that can read claims. Evaluated on the request body (one message or a batch) or, for MCP
 * 2026-07-28 requests, on the `Mcp-Method` / `Mcp-Name` headers that mirror it (mcp/request-metadata.ts), so
 * the HTTP layer can answer 403 `insufficient_scope` per tool and clients can step up (MCP authorization,
 * "Scope challenge handling").
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
  /** For `prompts/get`: the prompt's name. */
  prompt?: string
  /** For `resources/read`: the resource's URI. */
  resource?: string
  /** The JSON-RPC params; absent when the request was judged from its MCP 2026-07-28 headers alone. */
  params?: unknown
  /** Where the policy read this request from: the JSON-RPC body, or the SEP-2243 headers (cross-checked with the body). */
  source?: 'body' | 'headers'
}

/** What a policy function returns: scopes needed (the 403 asks for them), `true`/`undefined` (no more needed), `false` (refused). */
export type PolicyDecision = readonly string[] | boolean | undefined

/** Scopes by tool and by method. Unknown tool names are fine (tools can be added later); malformed entries are not. */
export interface McpPolicy {
  /** Scopes per tool name, for `tools/call`, e.g. `{ deploy: ['mcp:admin'] }`. */
  tools?: Record<string, readonly string[]>
  /** Scopes per prompt name, for `prompts/get`, e.g. `{ 'incident-report': ['reports:read'] }`. */
  prompts?: Record<string, readonly string[]>
  /**
   * Scopes per resource URI, for `resources/read`: an exact URI, or a prefix ending in `*`
   * (`'file:///secrets/*'`). Every entry that matches applies (their scopes add up).
   */
  resources?: Record<string, readonly string[]>
  /** Scopes per JSON-RPC method, e.g. `{ 'resources/read': ['files:read'] }`. */
  methods?: Record<string, readonly string[]>
  /** Scopes for a request no `tools`/`prompts`/`resources`/`methods` entry names. Default: none (only `requiredScopes`). */
  default?: readonly string[]
  /**
   * A rule that needs claims (roles, groups, tenant) or the params: called per JSON-RPC request after the token
   * is verified, on top of the static rules. With a `check`, the body is always read (it gets `params`).
   */
  check?: (request: PolicyRequest, auth: AuthInfo) => PolicyDecision | Promise<PolicyDecision>
  /**
   * Filter `tools/list` results so a token sees only the tools its scopes allow (opt-in). Default false: hiding
   * tools also hides what a step-up would unlock, so a client cannot offer to ask for more.
   */
  filterToolsList?: boolean
  /**
   * Scope hierarchies (MCP authorization: servers MUST account for a broader scope implying narrower ones):
   * `{ 'mcp:admin': ['mcp:tools', 'files:read'] }` lets a token with `mcp:admin` do what needs `mcp:tools`.
   * Applies to every scope check (`requiredScopes` too) and to `tools/list` filtering; chains are followed.
   */
  impliedScopes?: Record<string, readonly string[]>
  /**
   * Header-only mode for MCP 2026-07-28 requests: decide from the `Mcp-Method` / `Mcp-Name` headers and never
   * read the body for the policy. Default `false`: the body is always checked against the headers before the
   * request runs. Safe ONLY when the transport behind validates the headers itself and refuses a mismatch
   * (the MCP SDK v2 `createMcpHandler` does, with 400 `-32020`); never behind an SDK v1 transport, which runs
   * the body whatever the headers say. A body the host parsed anyway (Fastify, `express.json()` first) is
   * still checked.
   */
  trustHeaders?: boolean
}

export interface ResolvedPolicy {
  tools: ReadonlyMap<string, readonly string[]>
  prompts: ReadonlyMap<string, readonly string[]>
  /** Exact resource URIs. */
  resources: ReadonlyMap<string, readonly string[]>
  /** Resource URI prefixes (the keys that ended in `*`, without it). */
  resourcePrefixes: ReadonlyArray<readonly [string, readonly string[]]>
  methods: ReadonlyMap<string, readonly string[]>
  default: readonly string[]
  check: McpPolicy['check']
  filterToolsList: boolean
  trustHeaders: boolean
  /** Broader scope → the narrower ones it implies (direct entries; {@link effectiveScopes} follows chains). */
  implied: ReadonlyMap<string, readonly string[]>
}

const KNOWN = new Set(['tools', 'prompts', 'resources', 'methods', 'default', 'check', 'filterToolsList', 'trustHeaders', 'impliedScopes'])

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
  if (policy.trustHeaders !== undefined && typeof policy.trustHeaders !== 'boolean') throw new McpAuthConfigError('policy.trustHeaders', 'must be true or false.')
  const resources = new Map<string, string[]>()
  const resourcePrefixes: Array<[string, string[]]> = []
  for (const [uri, scopes] of scopeMap(policy.resources, 'policy.resources')) {
    const star = uri.indexOf('*')
    if (star === -1) resources.set(uri, scopes)
    else if (star === uri.length - 1 && uri.length > 1) resourcePrefixes.push([uri.slice(0, -1), scopes])
    else throw new McpAuthConfigError(`policy.resources.${uri}`, 'a "*" may only end a prefix, e.g. "file:///secrets/*".')
  }
  return {
    tools: scopeMap(policy.tools, 'policy.tools'),
    prompts: scopeMap(policy.prompts, 'policy.prompts'),
    resources,
    resourcePrefixes,
    methods: scopeMap(policy.methods, 'policy.methods'),
    default: policy.default === undefined ? [] : scopeList(policy.default, 'policy.default'),
    check: policy.check,
    filterToolsList: policy.filterToolsList === true,
    trustHeaders: policy.trustHeaders === true,
    implied: scopeMap(policy.impliedScopes, 'policy.impliedScopes'),
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
    const request: PolicyRequest = { method, params, source: 'body' }
    if (typeof id === 'string' || typeof id === 'number') request.id = id
    name(request, method, params !== null && typeof params === 'object' ? (params as Record<string, unknown>)[method === 'resources/read' ? 'uri' : 'name'] : undefined)
    out.push(request)
  }
  return out
}

/** Set what `method` names (a tool, a prompt, a resource URI) from `value`, when it is a string. */
function name(request: PolicyRequest, method: string, value: unknown): void {
  if (typeof value !== 'string') return
  if (method === 'tools/call') request.tool = value
  else if (method === 'prompts/get') request.prompt = value
  else if (method === 'resources/read') request.resource = value
}

/** The request an MCP 2026-07-28 `Mcp-Method` (and decoded `Mcp-Name`) header describes. */
export function headerRequest(method: string, mcpName: string | undefined): PolicyRequest {
  const request: PolicyRequest = { method, source: 'headers' }
  name(request, method, mcpName)
  return request
}

/** Scopes the static rules ask of one request: its method's, and its tool's, prompt's or resource's. */
export function staticScopes(policy: ResolvedPolicy, request: PolicyRequest): string[] {
  const found: Array<readonly string[]> = []
  const byMethod = policy.methods.get(request.method)
  if (byMethod) found.push(byMethod)
  if (request.tool !== undefined) {
    const byTool = policy.tools.get(request.tool)
    if (byTool) found.push(byTool)
  }
  if (request.prompt !== undefined) {
    const byPrompt = policy.prompts.get(request.prompt)
    if (byPrompt) found.push(byPrompt)
  }
  if (request.resource !== undefined) {
    const uri = request.resource
    const exact = policy.resources.get(uri)
    if (exact) found.push(exact)
    for (const [prefix, scopes] of policy.resourcePrefixes) if (uri.startsWith(prefix)) found.push(scopes)
  }
  if (found.length === 0) return [...policy.default]
  return found.flat()
}

/** The token's scopes and every scope they imply (`impliedScopes`, chains followed); the scopes as they are without a hierarchy. */
export function effectiveScopes(policy: ResolvedPolicy | undefined, scopes: readonly string[]): readonly string[] {
  if (!policy || policy.implied.size === 0) return scopes
  const all = new Set(scopes)
  const queue = [...scopes]
  for (let s = queue.pop(); s !== undefined; s = queue.pop()) {
    for (const narrower of policy.implied.get(s) ?? []) {
      if (!all.has(narrower)) {
        all.add(narrower)
        queue.push(narrower)
      }
    }
  }
  return [...all]
}

/** May a token with `scopes` call `tool`? (For `tools/list` filtering and `requireScopes`.) */
export function toolAllowed(policy: ResolvedPolicy, tool: string, scopes: readonly string[]): boolean {
  const have = effectiveScopes(policy, scopes)
  return staticScopes(policy, { method: 'tools/call', tool }).every((s) => have.includes(s))
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
