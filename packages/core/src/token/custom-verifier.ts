/** The `verify` option: a caller's own verifier, its answer checked like any other verification result. */
import type { AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { CustomVerifier } from '../options.js'

export async function runCustomVerifier(verify: CustomVerifier, token: string, resource: string, resourceUrl: URL): Promise<AuthInfo> {
  let info: AuthInfo
  try {
    info = await verify(token, { resource })
  } catch (err) {
    if (err instanceof McpAuthError) throw err
    throw new McpAuthError('ERR_TOKEN_REJECTED', 'The access token was rejected', { cause: err })
  }
  if (info === null || typeof info !== 'object' || typeof info.clientId !== 'string' || !Array.isArray(info.scopes)) {
    throw new McpAuthError('ERR_TOKEN_REJECTED', 'The access token was rejected', {
      cause: new TypeError('verify() must return an AuthInfo: { token, clientId: string, scopes: string[], … }'),
    })
  }
  if (info.expiresAt !== undefined && (!Number.isFinite(info.expiresAt) || info.expiresAt <= Date.now() / 1000)) {
    throw new McpAuthError('ERR_TOKEN_EXPIRED', 'The access token expired')
  }
  return { ...info, token, resource: info.resource ?? resourceUrl, extra: { verifiedBy: 'custom', ...info.extra } }
}
