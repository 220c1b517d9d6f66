/** `pnpm demo --bridge` and `pnpm demo --bridge --device`, run as a user would, from the repository root. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

describe('the bridge demo', () => {
  it('--bridge: DCR and CIMD runs through the bridge, every step printed, exit 0', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts', '--bridge'], { cwd: root, timeout: 60_000 })
    for (let n = 1; n <= 8; n++) expect(stdout).toContain(`Step ${n}`)
    for (const text of ['Dynamic Client Registration', 'Client ID Metadata Document', 'Consent at the bridge', 'ONE pre-registered client', 'this upstream has no PKCE', 'The flow worked']) {
      expect(stdout).toContain(text)
    }
    expect(stdout).toMatch(/code_challenge_method\s+S256/)
    expect(stdout).toMatch(/"authorization_response_iss_parameter_supported": true/)
    expect(stdout).toMatch(/upstream-user\s+\{"status":200,"sub":"demo-user","sameAsBridgeToken":false\}/)
    // No token is ever printed: only first characters and decoded claims.
    expect(stdout).not.toMatch(/eyJ[\w-]{20,}\.eyJ[\w-]{20,}\./)
    expect(stdout.match(/result\s+ok/g)).toHaveLength(2)
  }, 90_000)

  it('--bridge --device: a headless client through the device flow, exit 0', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts', '--bridge', '--device'], { cwd: root, timeout: 60_000 })
    for (let n = 1; n <= 7; n++) expect(stdout).toContain(`Step ${n}`)
    expect(stdout).toMatch(/user_code\s+[A-Z]{4}-[A-Z]{4}/)
    expect(stdout).toContain('authorization_pending')
    expect(stdout).toContain('Device connected')
    expect(stdout).toContain('The flow worked')
    expect(stdout).not.toMatch(/eyJ[\w-]{20,}\.eyJ[\w-]{20,}\./)
  }, 90_000)
})
