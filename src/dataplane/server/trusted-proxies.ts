import { BlockList } from 'node:net';

/**
 * Decides whether a peer's forwarding headers (X-Forwarded-*, X-Real-IP) are believed, and which
 * address is the real client: the right-most address of the X-Forwarded-For chain that is not a
 * trusted proxy, the way nginx's real-IP module works with recursion on.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  /** True when no proxy is trusted: the common case, checked first on the hot path. */
  readonly none: boolean;

  constructor(entries: readonly string[]) {
    this.none = entries.length === 0;
    for (const entry of entries) {
      const [addr = '', bits] = entry.split('/');
      const type = addr.includes(':') ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(bits), type);
    }
  }

  /** Whether `address` (as Node reports a peer: IPv4, IPv6, or IPv4-mapped IPv6) is trusted. */
  isTrusted(address: string): boolean {
    if (this.none || address === '') return false;
    const plain = unmapIPv4(address);
    return this.#list.check(plain, plain.includes(':') ? 'ipv6' : 'ipv4');
  }

  /**
   * The client address for a request from `peer` carrying X-Forwarded-For `xff`: the peer itself
   * unless it is trusted, else the right-most untrusted address in the chain.
   */
  clientAddress(peer: string, xff: string | undefined): string {
    const plainPeer = unmapIPv4(peer);
    if (xff === undefined || !this.isTrusted(plainPeer)) return plainPeer;
    const hops = xff.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (hop === '') continue;
      if (!this.isTrusted(hop)) return hop;
    }
    return hops[0]?.trim() || plainPeer;
  }
}

/** `::ffff:10.1.2.3` → `10.1.2.3`; anything else unchanged. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
