/**
 * The tracker's flow table: (srcPort << 16 | dstPort), a small integer (no boxed number per
 * lookup) → the flows with those ports, chained by `samePorts` (different addresses, rarely more
 * than one): one hash lookup per packet and no key string built, where nested maps by address
 * cost three lookups and their cache misses (~0.5 µs a packet on a capture of 100,000
 * connections). Open connections have Flows in it (connection.ts), released ones their
 * tombstone's TombstoneFlows (tombstone.ts).
 */

/** What the table needs of an entry: its addresses and ports, and the next entry with the same ports. */
export interface ChainedFlow {
  /** True for a released connection's entry (a TombstoneFlow), false for an open one's (a Flow). */
  readonly isTombstone: boolean
  readonly src: string
  readonly dst: string
  readonly ports: number
  samePorts: ChainedFlow | undefined
}

export type FlowTable = Map<number, ChainedFlow>

/** The flow table's key: both ports in one 32-bit integer (an int32, so V8 keeps it unboxed). */
export function flowPorts(srcPort: number, dstPort: number): number {
  return (srcPort << 16) | dstPort
}

export function addFlow(table: FlowTable, flow: ChainedFlow): void {
  flow.samePorts = table.get(flow.ports)
  table.set(flow.ports, flow)
}

/** Puts `replacement` (same ports and addresses) where `flow` is in its chain. */
export function replaceFlow(table: FlowTable, flow: ChainedFlow, replacement: ChainedFlow): void {
  replacement.samePorts = flow.samePorts
  relinkFlow(table, flow, replacement)
}

export function removeFlow(table: FlowTable, flow: ChainedFlow): void {
  relinkFlow(table, flow, flow.samePorts)
}

/** Takes `flow` out of its chain of flows with the same ports, `next` in its place. */
function relinkFlow(table: FlowTable, flow: ChainedFlow, next: ChainedFlow | undefined): void {
  let at = table.get(flow.ports)
  if (at === flow) {
    if (next === undefined) table.delete(flow.ports)
    else table.set(flow.ports, next)
  } else {
    while (at !== undefined && at.samePorts !== flow) at = at.samePorts
    if (at !== undefined) at.samePorts = next
  }
  flow.samePorts = undefined
}
