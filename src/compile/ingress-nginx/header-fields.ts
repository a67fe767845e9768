/**
 * ConfigMaps of header fields, as ingress-nginx reads them (`proxy-set-headers`, `add-headers`,
 * `custom-headers`): each data entry a field name and its value.
 */
import { isRecord } from '../shared/guards.ts';
import type { Identified } from '../shared/objects.ts';
import type { HeaderField } from './settings.ts';

// RFC 9110 field names, and values without line breaks or control characters.
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// Fields the proxy owns on the way upstream or back: framing, routing and hop-by-hop ones.
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection']);

/** One entry of a headers ConfigMap and what is wrong with it, if anything. */
export interface HeaderEntry {
  /** The name as written. */
  readonly name: string;
  readonly field: HeaderField;
  /** Why it cannot be sent, or null. */
  readonly problem: string | null;
}

/**
 * The entries of `configMap`, in name order. A field the proxy owns (Host, the framing, hop-by-hop
 * fields), a name or value that is not a header's, and a value with an nginx variable
 * (`$remote_addr`, which signalbox does not expand) each carry their problem.
 */
export function headerEntries(configMap: Identified): HeaderEntry[] {
  const raw = configMap.obj['data'];
  const data: Readonly<Record<string, unknown>> = isRecord(raw) ? raw : {};
  return Object.keys(data).sort().map((name) => {
    const value = data[name];
    const text = typeof value === 'string' ? value : '';
    const field: HeaderField = { name: name.toLowerCase(), value: text.trim() };
    let problem: string | null = null;
    if (!FIELD_NAME.test(name)) problem = 'is not a header name';
    else if (RESERVED.has(field.name)) problem = 'is a field signalbox owns';
    else if (typeof value !== 'string' || !FIELD_VALUE.test(value)) problem = 'has a value that is not a header\'s';
    else if (value.includes('$')) problem = 'has an nginx variable, which signalbox does not expand';
    return { name, field, problem };
  });
}

/**
 * The ConfigMap an Ingress annotation names (`name`, or `namespace/name` of the Ingress's own
 * namespace: `custom-headers`, `auth-proxy-set-headers`) and its label for messages; or why it
 * cannot be used.
 */
export function annotatedHeaderConfigMap(text: string, namespace: string, configMaps: ReadonlyMap<string, Identified>): { source: Identified; label: string } | { problem: string } {
  const parts = text.split('/');
  const [ns, name] = parts.length === 2 ? parts : [namespace, parts[0] ?? ''];
  if (parts.length > 2 || name === undefined || name === '') return { problem: `${JSON.stringify(text)} is not namespace/name of a ConfigMap` };
  if (ns !== namespace) return { problem: `ConfigMap ${text} is in another namespace than the Ingress` };
  const source = configMaps.get(`${ns}/${name}`);
  if (source === undefined) return { problem: `ConfigMap ${ns}/${name} does not exist` };
  return { source, label: `${ns}/${name}` };
}
