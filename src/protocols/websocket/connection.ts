/**
 * WebSocketConnectionReader: one connection's application bytes (cleartext ws:// or decrypted
 * TLS application data) → HTTP upgrade facts, then WebSocket facts. The HTTP reader hands each
 * direction's bytes after the 101 straight to a WebSocketReader made at that moment, knowing
 * whether permessage-deflate was accepted; nothing is copied on the way.
 */
import type {Direction, FrameRef, StreamHandler} from '../../stream/types.js'
import {HttpUpgradeReader, type HttpUpgradeReaderOptions} from '../http/upgrade.js'
import type {HttpUpgradeFacts} from '../http/types.js'
import {WebSocketReader, type WebSocketReaderOptions} from './frames.js'
import type {WebSocketFacts} from './types.js'

export interface WebSocketConnectionReaderOptions {
  http?: Omit<HttpUpgradeReaderOptions, 'onUpgrade'>
  /** permessageDeflate is set from the handshake. */
  websocket?: Omit<WebSocketReaderOptions, 'permessageDeflate'>
}

export class WebSocketConnectionReader implements StreamHandler {
  readonly http: HttpUpgradeReader
  /** Made when the 101 is read. */
  websocket?: WebSocketReader

  constructor(options: WebSocketConnectionReaderOptions = {}) {
    this.http = new HttpUpgradeReader({
      ...options.http,
      onUpgrade: (facts) => {
        this.websocket = new WebSocketReader({...options.websocket, permessageDeflate: facts.permessageDeflate.accepted})
        return this.websocket
      },
    })
  }

  get facts(): {http: HttpUpgradeFacts; ws?: WebSocketFacts} {
    return {http: this.http.facts, ws: this.websocket?.facts}
  }

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    this.http.data(direction, bytes, ref)
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    this.http.gap(direction, size, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    this.http.end(direction, ref)
  }
}
