/**
 * Where `mcp-oauth login` keeps what it got: one JSON file (mode 0600), entries keyed by the MCP resource. Like
 * any CLI credential file (gh, gcloud), it holds the tokens themselves: keep it out of repositories and images.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

export interface StoredLogin {
  resource: string
  issuer: string
  clientId: string
  accessToken: string
  refreshToken?: string
  /** Seconds since the epoch. */
  expiresAt?: number
  scope?: string
}

interface File {
  version: 1
  logins: Record<string, StoredLogin>
  /** Client ids this tool registered, per issuer (DCR once, reused). */
  clients: Record<string, string>
}

export class TokenFile {
  constructor(readonly path: string) {}

  async #read(): Promise<File> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<File>
      return { version: 1, logins: parsed.logins ?? {}, clients: parsed.clients ?? {} }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, logins: {}, clients: {} }
      throw err
    }
  }

  async #write(file: File): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
    const tmp = `${this.path}.${process.pid}.tmp`
    await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
    await chmod(tmp, 0o600)
    await rename(tmp, this.path)
  }

  async login(resource: string): Promise<StoredLogin | undefined> {
    return (await this.#read()).logins[resource]
  }

  async saveLogin(login: StoredLogin): Promise<void> {
    const file = await this.#read()
    file.logins[login.resource] = login
    await this.#write(file)
  }

  async client(issuer: string): Promise<string | undefined> {
    return (await this.#read()).clients[issuer]
  }

  async saveClient(issuer: string, clientId: string): Promise<void> {
    const file = await this.#read()
    file.clients[issuer] = clientId
    await this.#write(file)
  }
}
