/**
 * The machine the numbers came from, and how much CPU other processes took while a scenario ran: on a
 * shared 2-core box a neighbour's test run can cost a scenario a third of its throughput, so every
 * measurement carries its interference and a disturbed run is repeated.
 */
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'

export interface MachineInfo {
  cpus: number
  model: string
  memoryGb: number
  node: string
  platform: string
  date: string
}

export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  }
}

/** Busy and total time of all CPUs since boot, in ms (Linux `/proc/stat`; USER_HZ = 100). */
function systemCpuMs(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = fields.reduce((a, b) => a + b, 0)
    const idle = fields[3]! + fields[4]!
    return { busy: (total - idle) * 10, total: total * 10 }
  } catch {
    return undefined
  }
}

/**
 * Measures, over a window, the CPU time the machine spent on anything but this process (other processes,
 * and the hypervisor's steal), as a share of one core.
 */
export class InterferenceMeter {
  #sys = systemCpuMs()
  #own = process.cpuUsage()
  #wall = performance.now()

  /**
   * Foreign CPU over the window as a fraction of one core (0.25 = a quarter of a core), or undefined off Linux.
   * `alsoOursMs`: CPU of this run's own child processes (the servers), which is not foreign either.
   */
  stop(alsoOursMs = 0): number | undefined {
    const sys = systemCpuMs()
    if (!sys || !this.#sys) return undefined
    const own = process.cpuUsage(this.#own)
    const ownMs = (own.user + own.system) / 1000 + alsoOursMs
    const wall = performance.now() - this.#wall
    const foreign = Math.max(0, sys.busy - this.#sys.busy - ownMs)
    return wall > 0 ? foreign / wall : undefined
  }
}
