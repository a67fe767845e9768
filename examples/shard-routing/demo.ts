/**
 * `make demo-shards` (`node examples/shard-routing/demo.ts [--variant data-map|lookup-service]`):
 * starts the demo backends and the shard directory (backends.ts, 127.0.0.1:19101-19104) and
 * `signalbox serve` on the variant's manifests, then prints what to try. Ctrl-C stops everything.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { endWithSignalbox, spawnSignalbox, startedOrExit } from '../demo-process.ts';
import { DEMO_PORTS, startShardBackends } from './backends.ts';

const VARIANTS = ['data-map', 'lookup-service'];
const here = import.meta.dirname;

const { values } = parseArgs({ options: { variant: { type: 'string', default: 'data-map' } } });
const variant = values.variant;
if (!VARIANTS.includes(variant)) {
  process.stderr.write(`demo: --variant must be one of ${VARIANTS.join(', ')}, got ${JSON.stringify(variant)}\n`);
  process.exit(2);
}
const manifests = join(here, variant);

const backends = await startedOrExit(startShardBackends({ log: (line) => process.stderr.write(`${line}\n`) }));
const proxy = spawnSignalbox(['serve', '--manifests', manifests, '--bind', '127.0.0.1', '--http-port', '8080', '--https-port', 'off', '--admin-bind', '127.0.0.1', '--admin-port', '9901', '--workers', '2']);

const shop = "curl -s -H 'Host: shop.example.com'";
const live = variant === 'data-map'
  ? `Edit spec.data in examples/shard-routing/data-map/30-routescript.yaml (move shop 1 to shard-b)
and the next request goes there: signalbox picks the change up within a second.`
  : `Move a shop in the directory; signalbox sees it once the cached answer expires (30 s, per worker):
  curl -s -X PUT --data shard-b http://127.0.0.1:${DEMO_PORTS['shard-directory']}/shards/1`;
proxy.stderr.on('data', (chunk: Buffer) => {
  process.stderr.write(chunk);
  if (chunk.toString().includes('signalbox: serving')) {
    process.stdout.write(`
Variant ${variant}. Try:
  ${shop} -H 'x-shop-id: 1' http://127.0.0.1:8080/cart   # → shop-a, x-shard: shard-a
  ${shop} -H 'x-shop-id: 2' http://127.0.0.1:8080/cart   # → shop-b, x-shard: shard-b
  ${shop} -b 'shop=2' http://127.0.0.1:8080/cart          # → shop-b (shop cookie)
  ${shop} http://127.0.0.1:8080/shops/3/orders           # → shop-a (path prefix)
  ${shop} -i -H 'x-shop-id: 99' http://127.0.0.1:8080/   # → 404 unknown shop
  ${shop} http://127.0.0.1:8080/                         # → shop (no shop named)
  curl -s http://127.0.0.1:9902/debug/scripts    # script health (debug port);  :9901/metrics has signalbox_script_*
${live}
Ctrl-C stops.
`);
  }
});
endWithSignalbox(proxy, () => backends.close());
