/**
 * `make demo`: starts the two example backends (coffee on 127.0.0.1:9101, tea on 127.0.0.1:9102)
 * and `signalbox serve` on this directory, then prints what to try. Ctrl-C stops everything.
 */
import { endWithSignalbox, spawnSignalbox, startedOrExit } from '../demo-process.ts';
import { startExampleBackend } from './backend.ts';

const here = import.meta.dirname;

const backends = await startedOrExit(Promise.all([startExampleBackend('coffee', 9101), startExampleBackend('tea', 9102)]));
// Loopback only, the admin port included: a demo is not for the network.
const proxy = spawnSignalbox(['serve', '--manifests', here, '--bind', '127.0.0.1', '--http-port', '8080', '--https-port', '8443',
  '--admin-bind', '127.0.0.1', '--admin-port', '9901', '--workers', '2']);
proxy.stderr.on('data', (chunk: Buffer) => {
  process.stderr.write(chunk);
  if (chunk.toString().includes('signalbox: serving')) {
    process.stdout.write(`
Try:
  curl -s -H 'Host: cafe.example.com' http://127.0.0.1:8080/coffee     # → coffee
  curl -s -H 'Host: cafe.example.com' http://127.0.0.1:8080/tea/green  # → tea
  curl -s -H 'Host: cafe.example.com' http://127.0.0.1:8080/menu       # → tea (Prefix /)
  curl -s -H 'Host: a.tea.example.com' http://127.0.0.1:8080/          # → tea (wildcard host)
  curl -s -H 'Host: elsewhere.test' http://127.0.0.1:8080/             # → coffee (default backend)
  curl -sk --http2 --resolve cafe.example.com:8443:127.0.0.1 https://cafe.example.com:8443/coffee
  curl -s http://127.0.0.1:9902/debug/table    # the routing table (debug port);  :9901 has /metrics, /readyz, /healthz
Edit the YAML files in examples/quickstart/ and the change is live within a second. Ctrl-C stops.
`);
  }
});
endWithSignalbox(proxy, () => {
  for (const b of backends) b.close();
});
