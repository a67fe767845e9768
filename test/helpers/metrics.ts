/** Reading a running proxy's `/metrics` in tests. */
import { request } from 'undici';
import type { TestProxy } from './proxy.ts';

/** The whole Prometheus text of the proxy's admin endpoint. */
export async function metricsText(proxy: TestProxy): Promise<string> {
  return (await request(`${proxy.admin}/metrics`)).body.text();
}

/** The number captured by `pattern`'s first group in `/metrics`, or 0 when the series is absent. */
export async function metric(proxy: TestProxy, pattern: RegExp): Promise<number> {
  return Number(pattern.exec(await metricsText(proxy))?.[1] ?? 0);
}

/** Polls `/metrics` until `pattern` matches (bounded); the text that matched, else the assertion fails. */
export async function waitForMetric(proxy: TestProxy, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await metricsText(proxy);
    if (pattern.test(text) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!pattern.test(text)) throw new Error(`metric ${pattern} did not appear within ${timeoutMs} ms`);
  return text;
}
