/**
 * Writes a classic pcap of N unanswered SYNs from distinct clients (test/regression/syn-flood.ts
 * records), for measuring peak RSS on issue 16's "1M unanswered SYNs" case without keeping a
 * 70 MB file in the repository:
 *
 *   node --import tsx scripts/gen-syn-flood.ts 1000000 /tmp/syn1M.pcap
 */
import {closeSync, openSync, writeSync} from 'node:fs'
import {FILE_HEADER, synRecords} from '../test/regression/syn-flood.js'

const count = Number(process.argv[2] ?? 1_000_000)
const out = process.argv[3] ?? `/tmp/syn-flood-${count}.pcap`
const CHUNK = 50_000
const fd = openSync(out, 'w')
writeSync(fd, FILE_HEADER)
for (let first = 0; first < count; first += CHUNK) writeSync(fd, synRecords(first, Math.min(CHUNK, count - first)))
closeSync(fd)
console.log(`${out}: ${count} SYNs from distinct clients`)
