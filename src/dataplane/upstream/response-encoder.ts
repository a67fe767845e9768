/**
 * A response body on its way through a Compress filter's encoder: what the upstream sends goes in
 * (flushed through at each read), what comes out goes to the client. A client that takes none
 * pauses the encoder; the encoder's full buffers then refuse the upstream's next chunk, and the
 * exchange pauses the upstream: backpressure from end to end, nothing piled up in the proxy. One
 * per compressed response.
 */
import type { ServerResponse } from 'node:http';
import { flushEncoder, type BodyEncoder } from '../lifecycle/filters/compress.ts';
import type { ClientResponse } from '../lifecycle/proxy-state.ts';

/** What the exchange hears of the client's side. */
export interface EncodedSink {
  /** `bytes` of encoded body went to the client. */
  wrote(bytes: number): void;
  /** The client took no more; the encoder waits for it. */
  blocked(): void;
  /** The client took what it held back; the encoder goes on. */
  drained(): void;
  /** The encoder failed: the response cannot be completed. */
  failed(err: Error): void;
}

/** One compressed response's encoder between the upstream's body and the client. */
export class ResponseEncoder {
  readonly #encoder: BodyEncoder;
  #ended = false;

  constructor(encoder: BodyEncoder, res: ClientResponse, sink: EncodedSink) {
    this.#encoder = encoder;
    const out = res as ServerResponse;
    encoder.on('data', (chunk: Buffer) => {
      sink.wrote(chunk.length);
      if (out.write(chunk)) return;
      encoder.pause();
      sink.blocked();
      out.once('drain', () => {
        sink.drained();
        encoder.resume();
      });
    });
    encoder.once('error', (err: Error) => sink.failed(err));
  }

  /**
   * Takes a chunk of the upstream's body; false when the encoder's buffers are full, and the
   * upstream should wait for {@link onceDrained}.
   */
  write(chunk: Buffer): boolean {
    const taken = this.#encoder.write(chunk);
    // Each upstream read is flushed through, as nginx's gzip does without proxy buffering: a
    // stream of events or a long poll reaches the client as it comes, not when a block fills.
    flushEncoder(this.#encoder);
    return taken;
  }

  /** Calls `then` once the encoder takes chunks again. */
  onceDrained(then: () => void): void {
    this.#encoder.once('drain', then);
  }

  /**
   * The upstream's body ended: `then` runs once the encoder's last bytes are out to the client.
   * False (and nothing done) when the end was taken already: the response may end now.
   */
  end(then: () => void): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.#encoder.once('end', then);
    this.#encoder.end();
    return true;
  }

  /** Frees the encoder of a response cut short (a no-op once it ended). */
  destroy(): void {
    if (!this.#encoder.destroyed) this.#encoder.destroy();
  }
}
