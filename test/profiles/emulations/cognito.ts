/**
 * An Amazon Cognito user pool as its documentation shows it: issuer
 * `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`, metadata only at
 * `/{userPoolId}/.well-known/openid-configuration` (no `code_challenge_methods_supported`, no registration
 * endpoint, authorize/token on the pool's separate domain), keys at `/{userPoolId}/.well-known/jwks.json`, and
 * the cognito-idp host's 400 `BadRequest` for any other path. Access tokens: header without `typ`, no `aud`,
 * `client_id`, `token_use: "access"`, `scope`, `cognito:groups`, `username`, `version: 2`. ID tokens:
 * `aud` = the app client, `token_use: "id"`, `at_hash`, `cognito:username`.
 *
 * Sources: docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html,
 * …-using-the-id-token.html, …-using-tokens-verifying-a-jwt.html; the discovery document as in
 * openiddict/openiddict-core#1586 and anthropics/claude-code#13275.
 */
import { now, random, sign, signingKey, startEmulation, uuid, type Emulation } from './emulation.js'

export interface CognitoEmulation {
  emulation: Emulation
  /** What `endpoint` is set to (the loopback origin standing in for cognito-idp.{region}.amazonaws.com). */
  endpoint: string
  region: string
  userPoolId: string
  issuer: string
  clientId: string
  accessToken(opts?: { clientId?: string; scope?: string; tokenUse?: string }): Promise<string>
  /** An ID token; `at_hash` is there when it was issued with an access token (code flow). */
  idToken(opts?: { atHash?: boolean }): Promise<string>
  close(): Promise<void>
}

export async function startCognito(): Promise<CognitoEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const region = 'eu-west-1'
  const userPoolId = `${region}_Xy7kQ2pLm`
  const issuer = `${emulation.origin}/${userPoolId}`
  const domain = `${emulation.origin}/hosted-ui` // stands in for https://{prefix}.auth.{region}.amazoncognito.com
  const clientId = '4d1f9u0hs8jcm2o3vbq6k7e5tl'
  const metadata = {
    authorization_endpoint: `${domain}/oauth2/authorize`,
    end_session_endpoint: `${domain}/logout`,
    id_token_signing_alg_values_supported: ['RS256'],
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['code', 'token'],
    revocation_endpoint: `${domain}/oauth2/revoke`,
    scopes_supported: ['openid', 'email', 'phone', 'profile'],
    subject_types_supported: ['public'],
    token_endpoint: `${domain}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    userinfo_endpoint: `${domain}/oauth2/userInfo`,
  }
  emulation.route('GET', `/${userPoolId}/.well-known/openid-configuration`, (_req, res) => emulation.json(res, 200, metadata))
  emulation.route('GET', `/${userPoolId}/.well-known/jwks.json`, (_req, res) => emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'RS256', use: 'sig' }] }))
  emulation.fallback = (_req, res) => emulation.json(res, 400, { code: 'BadRequest', message: 'The server did not understand the operation that was requested.', type: 'client' })

  const user = { sub: uuid(), username: 'alice' }
  return {
    emulation,
    endpoint: emulation.origin,
    region,
    userPoolId,
    issuer,
    clientId,
    accessToken: ({ clientId: cid = clientId, scope = 'openid https://mcp.example.com/tools.read', tokenUse = 'access' } = {}) => {
      const t = now()
      return sign(key, {}, {
        sub: user.sub, 'cognito:groups': ['mcp-users'], iss: issuer, version: 2, client_id: cid, origin_jti: uuid(), event_id: uuid(),
        token_use: tokenUse, scope, auth_time: t - 5, exp: t + 3600, iat: t, jti: uuid(), username: user.username,
      })
    },
    idToken: ({ atHash = true } = {}) => {
      const t = now()
      return sign(key, {}, {
        ...(atHash ? { at_hash: random() } : {}), sub: user.sub, 'cognito:groups': ['mcp-users'], email_verified: true, iss: issuer, 'cognito:username': user.username,
        origin_jti: uuid(), aud: clientId, event_id: uuid(), token_use: 'id', auth_time: t - 5, exp: t + 3600, iat: t, jti: uuid(), email: 'alice@example.com',
      })
    },
    close: () => emulation.close(),
  }
}
