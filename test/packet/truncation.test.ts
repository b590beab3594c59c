/**
 * Every real frame cut at every length from 0 to its full size: decodePacket never throws, and
 * `truncated` is true exactly when the cut falls before the end of the outermost IP packet
 * (tshark's ip.len / ipv6.plen, recorded as ipEnd) or, for non-IP frames, inside the link
 * header. Ethernet padding after the IP packet may be cut freely.
 */
import {describe, expect, it} from 'vitest'
import {decodePacket} from '../../src/packet/packet.js'
import type {RawFrame} from '../../src/capture/types.js'
import {capturePath, presentCaptures} from './expected.js'
import {loadFrames} from './load-frames.js'

/** Link header lengths by LINKTYPE (https://www.tcpdump.org/linktypes.html). */
const LINK_HEADER: Record<number, number> = {0: 4, 1: 14, 101: 0, 113: 16, 276: 20}

describe('frames cut at every length', () => {
  for (const capture of presentCaptures()) {
    it(`${capture.source}`, async () => {
      const {frames} = await loadFrames(capturePath(capture.source))
      for (const [i, frame] of frames.entries()) {
        const expected = capture.frames[i]!
        const needed = expected.ipEnd ?? LINK_HEADER[capture.linkType]! + 4 * (expected.vlanIds?.length ?? 0)
        for (let length = 0; length <= frame.data.length; length++) {
          const cut: RawFrame = {...frame, data: frame.data.subarray(0, length)}
          const packet = decodePacket(cut)
          if (packet.truncated !== length < needed) {
            expect.fail(`frame ${frame.index} cut at ${length}/${frame.data.length}: truncated=${packet.truncated}, IP ends at ${needed}`)
          }
        }
      }
      expect(frames.length).toBe(capture.frames.length)
    })
  }
})
