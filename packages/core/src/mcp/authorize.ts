/**
 * The authorize stage: which scopes a request needs — the path's (`requiredScopes`, or the call's own
 * `scopes`), then the policy's per JSON-RPC request (mcp/policy.ts), static rules before the token is known and
 * the `check` function after — and the 403 `insufficient_scope` when the token lacks one.
 *
 * For an MCP 2026-07-28 request the policy can decide from the `Mcp-Method` / `Mcp-Name` headers
 * (mcp/request-metadata.ts) before the body is read; the body, whenever the layer has it, is then
 * cross-checked with them and judged on its own (`checkBody`): the body is what runs, so a call never runs
 * with fewer scopes than its body needs.
 */
import type { AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { RequestLike } from '../http/request-like.js'
import { scopeTokens } from '../token/rfc6750.js'
import { effectiveScopes, headerRequest, jsonRpcRequests, policyNeeds, staticScopes, type PolicyRequest, type ResolvedPolicy } from './policy.js'
import { crossCheckBody, readMcpHeaders, type McpRequestHeaders } from './request-metadata.js'

/** Shared by every request without a JSON-RPC body to evaluate, instead of a new empty array each time. */
const NO_REQUESTS: readonly PolicyRequest[] = Object.freeze([])

/** Refresh tokens are not a resource requirement: never asked for in a challenge (MCP 2026-07-28, SEP-2207). */
const OFFLINE_ACCESS = 'offline_access'

/** Methods whose `Mcp-Name` the policy keys on: without it the headers do not say enough. */
const NAMED = new Set(['tools/call', 'prompts/get', 'resources/read'])

function union(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a
  return [...new Set([...a, ...b])]
}

/**
 * Throws ERR_INSUFFICIENT_SCOPE when `info` lacks one of `required`. The challenge asks for what this
 * operation needs, all of it at once (MCP 2026-07-28, SEP-2350: the client adds what it already has); for
 * `modern: false` (2025-11-25 clients, which re-authorize with exactly the challenged scopes) it asks for the
 * token's scopes plus the missing ones, so re-authorization does not lose any. Never `offline_access`.
 */
export function checkScopes(info: AuthInfo, required: readonly string[], modern = false, policy?: ResolvedPolicy): void {
  if (required.length === 0) return
  const have = effectiveScopes(policy, info.scopes)
  if (required.every((s) => have.includes(s))) return
  const asked = modern ? required : [...info.scopes, ...required]
  throw new McpAuthError('ERR_INSUFFICIENT_SCOPE', 'The access token lacks a scope this request needs', {
    scopes: scopeTokens(asked.filter((s) => s !== OFFLINE_ACCESS)),
  })
}

/** How the policy reads one request: from its body, from its SEP-2243 headers, or not at all. */
export interface RequestPlan {
  /** MCP 2026-07-28 (stateless: no session to check or bind) rather than 2025-11-25. */
  modern: boolean
  /** What the policy judged. */
  requests: readonly PolicyRequest[]
  decidedBy: 'headers' | 'body' | 'none'
  /** The headers, for the body check. */
  headers: McpRequestHeaders
}

export class Authorizer {
  constructor(
    private readonly requiredScopes: readonly string[],
    readonly policy: ResolvedPolicy | undefined,
  ) {}

  /**
   * Read the SEP-2243 headers and decide where the policy looks. `'needs-body'`: the headers do not say enough
   * (a 2025-11-25 request, a `check` function, a missing header) and the host can still give the body.
   * Throws the 400 `-32020` refusal for a malformed header (before the token is looked at: it costs nothing).
   */
  plan(request: RequestLike, body: unknown, bodyPending: boolean): RequestPlan | 'needs-body' {
    const headers = readMcpHeaders(request.headers)
    const post = request.method === 'POST'
    const policy = this.policy
    if (post && headers.modern && headers.method !== undefined && (policy === undefined || this.headersSuffice(headers))) {
      const requests = policy ? [headerRequest(headers.method, headers.name)] : NO_REQUESTS
      return { modern: true, requests, decidedBy: policy ? 'headers' : 'none', headers }
    }
    if (post && policy && body === undefined && bodyPending) return 'needs-body'
    if (post && policy && body !== undefined) {
      // The era is the body's (as the SDK decides it); the cross-check with the headers comes after the token.
      return { modern: headers.modern, requests: jsonRpcRequests(body), decidedBy: 'body', headers }
    }
    // GET and DELETE are 2025-11-25 session operations whatever a header says (2026-07-28 has neither).
    return { modern: post && headers.modern, requests: NO_REQUESTS, decidedBy: 'none', headers }
  }

  private headersSuffice(headers: McpRequestHeaders): boolean {
    if (this.policy?.check) return false
    return !NAMED.has(headers.method!) || headers.name !== undefined
  }

  /** What the request needs before its token is known: its path's scopes and the policy's static rules. */
  staticNeeds(requests: readonly PolicyRequest[], scopes: readonly string[] | undefined): readonly string[] {
    let needs = scopes ?? this.requiredScopes
    const policy = this.policy
    if (policy) for (const r of requests) needs = union(needs, staticScopes(policy, r))
    return needs
  }

  /** Whether {@link decide} must run (the policy has a `check` and there is something to check). */
  hasCheck(requests: readonly PolicyRequest[]): boolean {
    return this.policy?.check !== undefined && requests.length > 0
  }

  /** The `check` function's verdict: `needs` widened by what it asked for, and whether it refused outright. */
  async decide(requests: readonly PolicyRequest[], info: AuthInfo, needs: readonly string[], modern: boolean): Promise<{ needs: readonly string[]; denied: McpAuthError | undefined }> {
    const decided = await policyNeeds(this.policy!, requests, info)
    const widened = union(needs, decided.scopes)
    const asked = modern ? widened : [...info.scopes, ...widened]
    const denied = decided.denied
      ? new McpAuthError('ERR_INSUFFICIENT_SCOPE', 'The access token is not allowed to make this request', { scopes: scopeTokens(asked.filter((s) => s !== OFFLINE_ACCESS)) })
      : undefined
    return { needs: widened, denied }
  }

  /**
   * The body check, once the token is good: the headers must agree with the body (400 `-32020` otherwise),
   * and when the policy decided from the headers, the body is judged again on its own — a 2025-11-25 batch
   * message by message — so it never runs with fewer scopes than it needs. Returns the body's era and the
   * requests it holds (for `tools/list` filtering). Synchronous: a policy with `check` never decides from headers.
   */
  checkBody(plan: RequestPlan, body: unknown, info: AuthInfo, scopes: readonly string[] | undefined): { modern: boolean; requests: readonly PolicyRequest[] } {
    const modern = crossCheckBody(plan.headers, body)
    if (plan.decidedBy !== 'headers') return { modern, requests: plan.requests }
    const requests = jsonRpcRequests(body)
    checkScopes(info, this.staticNeeds(requests, scopes), modern, this.policy)
    return { modern, requests }
  }
}
