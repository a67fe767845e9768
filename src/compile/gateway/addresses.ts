/**
 * Addresses of their own for Gateways (`--gateway-addresses`): with a pool of IP addresses, each
 * of our Gateways gets one, so that two Gateways with the same port, protocol and hostname stay
 * distinct — their listeners are served on sockets bound to their own address, and the address is
 * the Gateway's `status.addresses`. Without a pool every Gateway shares the data plane's address.
 *
 * Assignment is deterministic for one snapshot and stable across compiles: the Gateways in age
 * order, each keeps the pool address it already has in `status.addresses` (or asks for in
 * `spec.addresses`) when no older Gateway holds it, then the others take the first free address
 * of the pool, in pool order.
 */
import { isIP } from 'node:net';
import { field } from '../shared/guards.ts';
import type { OurGateway } from './gateways.ts';

/** Most addresses a pool may hold: a /24 of IPv4 and then some. */
export const MAX_POOL_ADDRESSES = 1024;

/** The address assigned to each Gateway (by `namespace/name`), or why one could not be. */
export type AddressAssignment = ReadonlyMap<string, { readonly address: string } | { readonly problem: string; readonly reason: 'AddressNotAssigned' | 'AddressNotUsable' | 'UnsupportedAddress' }>;

/**
 * Assigns pool addresses to `gateways` (oldest first; `objects` gives each Gateway's object by
 * `namespace/name`, for its spec and status). An empty pool assigns nothing.
 */
export function assignAddresses(gateways: readonly OurGateway[], objects: ReadonlyMap<string, unknown>, pool: readonly string[]): AddressAssignment {
  const out = new Map<string, { address: string } | { problem: string; reason: 'AddressNotAssigned' | 'AddressNotUsable' | 'UnsupportedAddress' }>();
  if (pool.length === 0) return out;
  const inPool = new Set(pool);
  const taken = new Set<string>();
  const wanting: OurGateway[] = [];
  for (const g of gateways) {
    if (g.refused !== null) continue;
    const obj = objects.get(g.owner.id.key);
    const requested = requestedAddresses(obj);
    if ('problem' in requested) {
      out.set(g.owner.id.key, { reason: 'UnsupportedAddress', problem: requested.problem });
      continue;
    }
    if (requested.addresses.length > 0) {
      // Every address asked for must be usable: in the pool and held by no older Gateway.
      const unusable = requested.addresses.filter((a) => !inPool.has(a) || taken.has(a));
      if (unusable.length > 0) out.set(g.owner.id.key, { reason: 'AddressNotUsable', problem: `spec.addresses asks for ${unusable.join(', ')}, not in --gateway-addresses or held by an older Gateway` });
      else if (requested.addresses.length > 1) out.set(g.owner.id.key, { reason: 'AddressNotUsable', problem: 'spec.addresses asks for several addresses, and a Gateway is served on one' });
      else {
        taken.add(requested.addresses[0]!);
        out.set(g.owner.id.key, { address: requested.addresses[0]! });
      }
      continue;
    }
    const held = statusAddresses(obj).find((a) => inPool.has(a) && !taken.has(a));
    if (held !== undefined) {
      taken.add(held);
      out.set(g.owner.id.key, { address: held });
    } else wanting.push(g);
  }
  for (const g of wanting) {
    const free = pool.find((a) => !taken.has(a));
    if (free === undefined) {
      out.set(g.owner.id.key, { reason: 'AddressNotAssigned', problem: `every address of --gateway-addresses (${pool.length}) is held by an older Gateway` });
      continue;
    }
    taken.add(free);
    out.set(g.owner.id.key, { address: free });
  }
  return out;
}

/** `spec.addresses` of IPAddress type (the default), or why they cannot be honoured. */
function requestedAddresses(obj: unknown): { addresses: string[] } | { problem: string } {
  const list = field(field(obj, 'spec'), 'addresses');
  if (!Array.isArray(list)) return { addresses: [] };
  const addresses: string[] = [];
  for (const entry of list as unknown[]) {
    const type = field(entry, 'type') ?? 'IPAddress';
    const value = field(entry, 'value');
    if (type !== 'IPAddress') return { problem: `spec.addresses of type ${String(type)} are not supported, only IPAddress` };
    // An IPAddress without a value asks for one of the pool's, as if none were asked for.
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' || isIP(value) === 0) return { problem: `spec.addresses value ${JSON.stringify(value)} is not an IP address` };
    addresses.push(value);
  }
  return { addresses };
}

/** The IP addresses in a Gateway's `status.addresses` (what it was given before). */
function statusAddresses(obj: unknown): string[] {
  const list = field(field(obj, 'status'), 'addresses');
  return (Array.isArray(list) ? (list as unknown[]) : []).flatMap((a) => {
    const value = field(a, 'value');
    return typeof value === 'string' && isIP(value) !== 0 ? [value] : [];
  });
}
