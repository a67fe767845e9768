/**
 * TCP and UDP services from ConfigMaps, as ingress-nginx's `--tcp-services-configmap` and
 * `--udp-services-configmap` define them: each entry `"PORT": "namespace/service:port"` opens PORT
 * and sends what arrives there to that Service port. Two optional fields follow, as in
 * ingress-nginx: `:PROXY` in the third place decodes a PROXY protocol header sent by clients, in
 * the fourth sends one to the backend (`namespace/service:port::PROXY` sends without decoding).
 * signalbox sends (version 1, TCP only) but does not decode on these ports, so an entry asking
 * for that is refused rather than served with the client's header forwarded as payload.
 */
import type { Listener } from '../../model/table.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { isDns1035Label, isDns1123Label, isIanaSvcName, isRecord } from '../shared/guards.ts';
import type { Identified } from '../shared/objects.ts';
import type { StreamCandidate } from './stream-candidates.ts';

const PORT = /^[1-9]\d{0,4}$/;

/**
 * The candidates of the ConfigMap `name` (`namespace/name`, or null when the flag is not set) for
 * `protocol`, in port order. Bad entries are reported and skipped; the others serve.
 */
export function streamServices(name: string | null, protocol: 'TCP' | 'UDP', configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): StreamCandidate[] {
  if (name === null) return [];
  const item = configMaps.get(name);
  const flag = protocol === 'TCP' ? '--tcp-services-configmap' : '--udp-services-configmap';
  if (item === undefined) {
    const [namespace = '', object = ''] = name.split('/');
    sink.report({ kind: 'ConfigMap', namespace, name: object }, 'StreamServicesConfigMapNotFound', 'warning', `ConfigMap ${name} (${flag}) does not exist; no ${protocol} port is served from it`);
    return [];
  }
  const owner = { id: item.id, rank: 0, created: null };
  const data = item.obj['data'];
  if (data === undefined || data === null) return [];
  if (!isRecord(data)) {
    sink.report(item.id, 'StreamServiceEntryInvalid', 'error', 'data is not a map of port to "namespace/service:port"; no port is served from it', `${item.id.provenance}/data`);
    return [];
  }
  const out: StreamCandidate[] = [];
  const keys = Object.keys(data).sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const at = `${item.id.provenance}/data/${key}`;
    const invalid = (why: string): void => sink.report(item.id, 'StreamServiceEntryInvalid', 'error', `entry ${JSON.stringify(key)}: ${why}; it is ignored`, at);
    const port = PORT.test(key) ? Number(key) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      invalid('the key is not a port number (1-65535)');
      continue;
    }
    const value = data[key];
    if (typeof value !== 'string') {
      invalid('the value is not a string');
      continue;
    }
    const parsed = parseEntry(value.trim());
    if (typeof parsed === 'string') {
      invalid(parsed);
      continue;
    }
    if (parsed.decodeProxy || (protocol === 'UDP' && parsed.sendProxy)) {
      const why = parsed.decodeProxy
        ? 'decoding a PROXY protocol header from clients (the third field) is not supported on TCP and UDP ports (--proxy-protocol applies to the HTTP and HTTPS ports)'
        : 'UDP has no PROXY protocol header to send';
      sink.report(item.id, 'StreamProxyProtocolUnsupported', 'error', `entry ${JSON.stringify(key)}: ${why}; it is ignored`, at);
      continue;
    }
    const lower = protocol.toLowerCase();
    const listener: Listener = { name: `${lower}-${port}`, protocol, port, hostname: null, tls: null, defaultRoute: false, provenance: at };
    out.push({
      owner,
      listener,
      hostnames: [],
      service: { namespace: parsed.namespace, service: parsed.service, port: parsed.port, ...(protocol === 'UDP' ? { protocol: 'UDP' as const } : {}) },
      sendProxyProtocol: parsed.sendProxy,
      provenance: at,
    });
  }
  return out;
}

interface Entry {
  readonly namespace: string;
  readonly service: string;
  readonly port: number | string;
  readonly decodeProxy: boolean;
  readonly sendProxy: boolean;
}

/** `namespace/service:port[:PROXY[:PROXY]]`, or why not. */
function parseEntry(value: string): Entry | string {
  const slash = value.indexOf('/');
  if (slash < 0) return `${JSON.stringify(value)} is not namespace/service:port`;
  const namespace = value.slice(0, slash);
  const [service = '', portText = '', decode = '', send = '', ...rest] = value.slice(slash + 1).split(':');
  if (!isDns1123Label(namespace)) return `namespace ${JSON.stringify(namespace)} is not a valid namespace name`;
  if (!isDns1035Label(service)) return `service ${JSON.stringify(service)} is not a valid Service name`;
  let port: number | string;
  if (PORT.test(portText) && Number(portText) <= 65535) port = Number(portText);
  else if (isIanaSvcName(portText)) port = portText;
  else return `port ${JSON.stringify(portText)} is not a port number or name`;
  if (rest.length > 0) return 'it has more than four fields';
  for (const f of [decode, send]) if (f !== '' && f !== 'PROXY') return `field ${JSON.stringify(f)} is not PROXY or empty`;
  return { namespace, service, port, decodeProxy: decode === 'PROXY', sendProxy: send === 'PROXY' };
}
