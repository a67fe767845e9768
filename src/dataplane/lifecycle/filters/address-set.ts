import { parseCidr, parseIPv4, parseIPv6 } from '../../../model/cidr.ts';

/**
 * A set of CIDR blocks, prepared once per table swap for the question asked on every request: is
 * this client address in it? The blocks become sorted, merged ranges — IPv4 as numbers, IPv6 as
 * bigints — searched by bisection, so a request costs the parse of its one address and a few
 * comparisons, whatever the length of the list. (node:net's BlockList checks its rules one by one
 * and builds a SocketAddress per call: several times slower on a list of a hundred blocks.)
 */
export class AddressSet {
  /** IPv4 ranges: starts[i]..ends[i], sorted, disjoint and not adjacent. */
  readonly #v4Starts: Float64Array;
  readonly #v4Ends: Float64Array;
  readonly #v6Starts: readonly bigint[];
  readonly #v6Ends: readonly bigint[];
  /** Whether the set holds no block at all. */
  readonly empty: boolean;

  /** `blocks` as the table holds them (checkTable has checked them); a block that does not parse is skipped. */
  constructor(blocks: readonly string[]) {
    const v4: [bigint, bigint][] = [];
    const v6: [bigint, bigint][] = [];
    for (const block of blocks) {
      const range = parseCidr(block);
      if (range !== null) (range.family === 4 ? v4 : v6).push([range.first, range.last]);
    }
    const m4 = merge(v4);
    const m6 = merge(v6);
    this.#v4Starts = Float64Array.from(m4, ([first]) => Number(first));
    this.#v4Ends = Float64Array.from(m4, ([, last]) => Number(last));
    this.#v6Starts = m6.map(([first]) => first);
    this.#v6Ends = m6.map(([, last]) => last);
    this.empty = m4.length === 0 && m6.length === 0;
  }

  /**
   * Whether `address` — as RouteScripts see `clientIp`: IPv4, IPv6, or IPv4-mapped IPv6, which is
   * the IPv4 address it maps — is in a block of the set. Text that is no address is in none.
   */
  has(address: string): boolean {
    if (!address.includes(':')) {
      const v4 = parseIPv4(address);
      return v4 >= 0 && within(this.#v4Starts, this.#v4Ends, v4);
    }
    const v6 = parseIPv6(address);
    if (v6 === null) return false;
    if (v6 >> 32n === 0xffffn) return within(this.#v4Starts, this.#v4Ends, Number(v6 & 0xffff_ffffn));
    const starts = this.#v6Starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (v6 < starts[mid]!) hi = mid - 1;
      else if (v6 > this.#v6Ends[mid]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

function within(starts: Float64Array, ends: Float64Array, value: number): boolean {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (value < starts[mid]!) hi = mid - 1;
    else if (value > ends[mid]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Sorted, merged ranges: overlapping and adjacent ones become one. */
function merge(ranges: [bigint, bigint][]): [bigint, bigint][] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [first, last] of ranges) {
    const prev = out.at(-1);
    if (prev !== undefined && first <= prev[1] + 1n) {
      if (last > prev[1]) prev[1] = last;
    } else out.push([first, last]);
  }
  return out;
}
