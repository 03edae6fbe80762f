import { cpus, totalmem, release, platform } from 'node:os'

/** The machine a run was on, for the JSON line and docs/benchmarks.md. */
export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  node: string
}

/** Describes this machine. */
export function machineInfo (): MachineInfo {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${platform()} ${release()}`,
    node: process.version
  }
}
