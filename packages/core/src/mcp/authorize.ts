/**
 * The authorize stage: which scopes a request needs — the path's (`requiredScopes`, or the call's own
 * `scopes`), then the policy's per JSON-RPC request (mcp/policy.ts), static rules before the token is known and
 * the `check` function after — and the 403 `insufficient_scope` when the token lacks one.
 */
import type { AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import { scopeTokens } from '../token/rfc6750.js'
import { jsonRpcRequests, policyNeeds, staticScopes, type PolicyRequest, type ResolvedPolicy } from './policy.js'

/** Shared by every request without a JSON-RPC body to evaluate, instead of a new empty array each time. */
const NO_REQUESTS: readonly PolicyRequest[] = Object.freeze([])

function union(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a
  return [...new Set([...a, ...b])]
}

/** Throws ERR_INSUFFICIENT_SCOPE when `info` lacks one of `required`. */
export function checkScopes(info: AuthInfo, required: readonly string[]): void {
  if (required.length === 0) return
  const missing = required.filter((s) => !info.scopes.includes(s))
  if (missing.length > 0) {
    // RFC 6750 §3.1 and MCP step-up: ask for what the token has plus what it lacks, so re-authorization does not lose scopes.
    throw new McpAuthError('ERR_INSUFFICIENT_SCOPE', 'The access token lacks a scope this request needs', {
      scopes: scopeTokens([...info.scopes, ...required]),
    })
  }
}

export class Authorizer {
  constructor(
    private readonly requiredScopes: readonly string[],
    readonly policy: ResolvedPolicy | undefined,
  ) {}

  /** The JSON-RPC requests the policy evaluates (none without a policy or a body). */
  requestsOf(body: unknown): readonly PolicyRequest[] {
    return this.policy && body !== undefined ? jsonRpcRequests(body) : NO_REQUESTS
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
  async decide(requests: readonly PolicyRequest[], info: AuthInfo, needs: readonly string[]): Promise<{ needs: readonly string[]; denied: McpAuthError | undefined }> {
    const decided = await policyNeeds(this.policy!, requests, info)
    const widened = union(needs, decided.scopes)
    const denied = decided.denied
      ? new McpAuthError('ERR_INSUFFICIENT_SCOPE', 'The access token is not allowed to make this request', { scopes: scopeTokens([...info.scopes, ...widened]) })
      : undefined
    return { needs: widened, denied }
  }
}
