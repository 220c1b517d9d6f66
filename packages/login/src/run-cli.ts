/**
 * The `mcp-oauth` command line. Everything for people goes to stderr; stdout gets only a token (`--print`, `token`),
 * so `export MCP_TOKEN=$(mcp-oauth token https://mcp.example.com/mcp)` works in CI.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { accessToken, login } from './device-login.js'
import { LoginError } from './errors.js'
import { TokenFile } from './token-store.js'

export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  env: Record<string, string | undefined>
}

const USAGE = `usage:
  mcp-oauth login <mcp-url> [--client-id ID] [--scope "a b"] [--print] [--store FILE | --no-store]
      sign in through the device flow: prints a code and a URL to open in any browser, waits, stores the token
  mcp-oauth token <mcp-url> [--store FILE]
      print a valid access token from the store (refreshed when it expired)

  --store FILE   token file (default $MCP_OAUTH_TOKENS, else ~/.config/mcp-oauth/tokens.json, mode 0600)
  --print        also print the access token on stdout (for CI: TOKEN=$(mcp-oauth login URL --print))`

function defaultStore(env: CliIo['env']): string {
  return env['MCP_OAUTH_TOKENS'] || join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'mcp-oauth', 'tokens.json')
}

/** Runs a command; resolves with the exit code (0 ok, 1 failed, 2 usage or not possible with this server). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, url, ...rest] = argv
  if (!command || command === '--help' || command === '-h' || (command !== 'login' && command !== 'token') || !url) {
    io.stderr(USAGE)
    return command === '--help' || command === '-h' ? 0 : 2
  }
  const flags = new Map<string, string | true>()
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!
    if (flag === '--print' || flag === '--no-store') flags.set(flag, true)
    else if (flag === '--client-id' || flag === '--scope' || flag === '--store') {
      const value = rest[++i]
      if (value === undefined) {
        io.stderr(`${flag} needs a value\n${USAGE}`)
        return 2
      }
      flags.set(flag, value)
    } else {
      io.stderr(`unknown option ${flag}\n${USAGE}`)
      return 2
    }
  }
  try {
    new URL(url)
  } catch {
    io.stderr(`${url} is not a URL: give the MCP endpoint, e.g. https://mcp.example.com/mcp`)
    return 2
  }
  const store = flags.has('--no-store') ? undefined : new TokenFile(String(flags.get('--store') ?? defaultStore(io.env)))
  try {
    if (command === 'token') {
      if (!store) {
        io.stderr('token reads the store: drop --no-store')
        return 2
      }
      io.stdout((await accessToken({ mcpUrl: url, store })).accessToken)
      return 0
    }
    const scope = flags.get('--scope')
    const clientId = flags.get('--client-id')
    const result = await login({
      mcpUrl: url,
      ...(store ? { store } : {}),
      ...(typeof clientId === 'string' ? { clientId } : {}),
      ...(typeof scope === 'string' ? { scopes: scope.split(' ').filter(Boolean) } : {}),
      onProgress: (message) => io.stderr(message),
      onCode: (code) => {
        io.stderr('')
        io.stderr(`  Open      ${code.verificationUriComplete ?? code.verificationUri}`)
        io.stderr(`  and check the code  ${code.userCode}${code.verificationUriComplete ? '' : `  (enter it at ${code.verificationUri})`}`)
        io.stderr('')
        io.stderr(`waiting for the sign-in (the code expires in ${Math.round(code.expiresIn / 60)} min)…`)
      },
    })
    const expires = result.expiresAt ? ` (expires ${new Date(result.expiresAt * 1000).toISOString()})` : ''
    io.stderr(`✔ signed in to ${result.resource}${result.scope ? ` with ${result.scope}` : ''}${expires}`)
    if (store) io.stderr(`  token stored in ${store.path}; \`mcp-oauth token ${url}\` prints a fresh one`)
    if (flags.has('--print') || !store) io.stdout(result.accessToken)
    return 0
  } catch (err) {
    if (err instanceof LoginError) {
      io.stderr(`✘ ${err.message}`)
      return err.code === 'ERR_LOGIN_NO_DEVICE_FLOW' || err.code === 'ERR_LOGIN_NOT_PROTECTED' || err.code === 'ERR_LOGIN_NO_CLIENT' ? 2 : 1
    }
    io.stderr(`✘ ${(err as Error).message}`)
    return 1
  }
}
