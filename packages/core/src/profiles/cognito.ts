import type { AuthorizationServerOptions } from '../options.js'
import { audienceValue, fail, originOf, profileOptions, requireStrings, requireToken } from './profile-options.js'

/** Options of {@link cognito}. */
export interface CognitoOptions {
  /** The user pool's AWS region, e.g. `us-east-1`. Default: the prefix of `userPoolId`. */
  region?: string
  /** The user pool ID, e.g. `us-east-1_AbCdEf123`. */
  userPoolId: string
  /** The app client ID(s) whose access tokens are accepted (Cognito writes it in `client_id`; its access tokens have no `aud`). */
  clientId: string | string[]
  /** The Cognito IdP endpoint. Default `https://cognito-idp.{region}.amazonaws.com`; for local emulators (cognito-local, LocalStack) and tests. */
  endpoint?: string
}

const KNOWN = ['region', 'userPoolId', 'clientId', 'endpoint']
const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/

/**
 * An Amazon Cognito user pool.
 *
 * Sets the issuer `https://cognito-idp.{region}.amazonaws.com/{userPoolId}` and its key set
 * `{issuer}/.well-known/jwks.json`. Cognito access tokens have no `aud`; the audience is checked on
 * `client_id` instead (`audienceClaim: 'client_id'`), which also refuses Cognito ID tokens (`token_use: "id"`):
 * they carry the client in `aud` and have no `client_id`. Scopes come from `scope` (custom scopes are
 * `{resource server identifier}/{scope}`), RS256 only.
 *
 * Cognito's metadata omits `code_challenge_methods_supported` although it supports PKCE S256, and it has no
 * dynamic client registration: MCP clients need a pre-registered app client.
 *
 * @example
 * ```ts
 * authorizationServers: [cognito({ userPoolId: 'us-east-1_AbCdEf123', clientId: '1example23456789' })]
 * ```
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 */
export function cognito(options: CognitoOptions): AuthorizationServerOptions {
  const o = profileOptions(options, 'cognito', KNOWN, `{ userPoolId: 'us-east-1_AbCdEf123', clientId: '<app client ID>' }`)
  const userPoolId = requireToken(o.userPoolId, 'cognito().userPoolId', '"us-east-1_AbCdEf123"')
  const match = POOL_ID.exec(userPoolId)
  if (!match) fail('cognito().userPoolId', `${JSON.stringify(userPoolId)} is not a user pool ID; it looks like "us-east-1_AbCdEf123" (Cognito → User pools → Overview).`)
  const region = o.region === undefined ? match[1]! : requireToken(o.region, 'cognito().region', '"us-east-1"')
  if (region !== match[1]) fail('cognito().region', `is ${JSON.stringify(region)} but the user pool ${userPoolId} is in ${match[1]}; omit region or write "${match[1]}".`)
  const clientIds = requireStrings(o.clientId, 'cognito().clientId', '"1example23456789" (Cognito → User pools → App clients)')
  const endpoint = originOf(o.endpoint ?? `https://cognito-idp.${region}.amazonaws.com`, 'cognito().endpoint', `"https://cognito-idp.${region}.amazonaws.com"`)
  const issuer = `${endpoint}/${userPoolId}`
  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    audience: audienceValue(clientIds),
    audienceClaim: 'client_id',
    scopeClaims: ['scope'],
    clientIdClaims: ['client_id'],
    algorithms: ['RS256'],
    // Cognito's ID tokens are signed by the same keys; only access tokens say token_use "access".
    requiredClaims: { token_use: 'access' },
  }
}
