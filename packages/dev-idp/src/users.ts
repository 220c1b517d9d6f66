import type { FindAccount } from 'oidc-provider'
import type { DevIdpUser } from './types.js'

export const DEFAULT_USER: DevIdpUser = {
  id: 'demo-user',
  username: 'demo',
  password: 'demo',
  claims: { name: 'Demo User', email: 'demo@example.com' },
}

/** The in-memory user directory: sign-in by username, OIDC accounts by id. */
export class Users {
  readonly first: DevIdpUser
  private readonly byId: Map<string, DevIdpUser>
  private readonly byName: Map<string, DevIdpUser>

  constructor(users: DevIdpUser[] = [DEFAULT_USER]) {
    const first = users[0]
    if (!first) throw new TypeError('dev-idp: users must contain at least one user')
    this.first = first
    this.byId = new Map(users.map((u) => [u.id, u]))
    this.byName = new Map(users.map((u) => [u.username, u]))
  }

  byUsername(username: string): DevIdpUser | undefined {
    return this.byName.get(username)
  }

  /** oidc-provider's `findAccount`: the user's claims, with `preferred_username` and `sub` set. */
  readonly findAccount: FindAccount = async (_ctx, sub) => {
    const user = this.byId.get(sub)
    if (!user) return undefined
    return {
      accountId: user.id,
      async claims() {
        return { preferred_username: user.username, ...user.claims, sub: user.id }
      },
    }
  }
}
