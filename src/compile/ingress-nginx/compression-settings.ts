/**
 * ingress-nginx's response compression keys (`use-gzip`, `gzip-*`, `enable-brotli`, `brotli-*`)
 * read from the controller ConfigMap into the one {@link CompressFilter} every route of the
 * profile then carries. The directives are those ingress-nginx's nginx.tmpl writes at http level:
 * `gzip on; gzip_comp_level; gzip_disable; gzip_http_version 1.1; gzip_min_length; gzip_types;
 * gzip_proxied any; gzip_vary on;` and `brotli on; brotli_comp_level; brotli_min_length; brotli_types;`.
 */
import type { CompressCoding, CompressFilter } from '../../model/table.ts';
import { parseBool, parseInteger, type Parsed } from './values.ts';

/** The ConfigMap keys read here. */
export const COMPRESSION_KEYS = ['use-gzip', 'gzip-level', 'gzip-min-length', 'gzip-types', 'gzip-disable', 'enable-brotli', 'brotli-level', 'brotli-min-length', 'brotli-types'] as const;

/** One of {@link COMPRESSION_KEYS}. */
export type CompressionKey = (typeof COMPRESSION_KEYS)[number];

/** Whether `key` is one of {@link COMPRESSION_KEYS}. */
export function isCompressionKey(key: string): key is CompressionKey {
  return (COMPRESSION_KEYS as readonly string[]).includes(key);
}

// ingress-nginx's defaults (docs/user-guide/nginx-configuration/configmap.md).
const GZIP_TYPES = 'application/atom+xml application/javascript application/x-javascript application/json application/rss+xml application/vnd.ms-fontobject application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml application/xml font/opentype image/svg+xml image/x-icon text/css text/javascript text/plain text/x-component';
const BROTLI_TYPES = `application/xml+rss ${GZIP_TYPES}`;

// nginx's `msie6` mask: MSIE 4 to 6, but not 6 with SP2 (SV1), which decompresses correctly.
const MSIE6 = 'MSIE [4-6]\\.(?!.*SV1)';

const MEDIA_TYPE = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The Compress filter of the ConfigMap's compression keys (`values`, as written), or null when
 * neither `use-gzip` nor `enable-brotli` is on. A value that does not parse is reported through
 * `report` and its default used; a media type that is not one is reported and left out.
 */
export function compressFilter(values: Readonly<Partial<Record<CompressionKey, string>>>, report: (key: CompressionKey, message: string) => void): CompressFilter | null {
  const read = <T>(key: CompressionKey, parse: (text: string) => Parsed<T>, fallback: T): T => {
    const raw = values[key];
    if (raw === undefined) return fallback;
    const parsed = parse(raw);
    if (parsed.ok) return parsed.value;
    report(key, `${parsed.message}; its default is used`);
    return fallback;
  };
  const useGzip = read('use-gzip', parseBool, false);
  const useBrotli = read('enable-brotli', parseBool, false);
  if (!useGzip && !useBrotli) return null;
  const gzip: CompressCoding | null = !useGzip ? null : {
    level: read('gzip-level', (t) => parseInteger(t, 1, 9), 1),
    minLength: read('gzip-min-length', (t) => parseInteger(t, 0, 2 ** 31 - 1), 256),
    types: mediaTypes('gzip-types', values['gzip-types'] ?? GZIP_TYPES, report),
  };
  const brotli: CompressCoding | null = !useBrotli ? null : {
    level: read('brotli-level', (t) => parseInteger(t, 0, 11), 4),
    minLength: read('brotli-min-length', (t) => parseInteger(t, 0, 2 ** 31 - 1), 20),
    types: mediaTypes('brotli-types', values['brotli-types'] ?? BROTLI_TYPES, report),
  };
  return { type: 'Compress', gzip, brotli, gzipDisable: useGzip ? gzipDisable(values['gzip-disable'], report) : null };
}

/**
 * nginx's `gzip_types` and `brotli_types`: text/html always, then the types listed (space
 * separated, compared without case); `*` alone stands for every type.
 */
function mediaTypes(key: CompressionKey, text: string, report: (key: CompressionKey, message: string) => void): string[] {
  const listed = text.split(/\s+/).filter((t) => t !== '').map((t) => t.toLowerCase());
  if (listed.includes('*')) return ['*'];
  const types = new Set(['text/html']);
  for (const t of listed) {
    if (MEDIA_TYPE.test(t)) types.add(t);
    else report(key, `${JSON.stringify(t)} is not a type/subtype; it is left out`);
  }
  return [...types];
}

/** `gzip-disable`: `msie6`, or one regular expression matched against User-Agent without case. */
function gzipDisable(text: string | undefined, report: (key: CompressionKey, message: string) => void): string | null {
  const t = text?.trim() ?? '';
  if (t === '') return null;
  if (t === 'msie6') return MSIE6;
  try {
    new RegExp(t, 'i');
    return t;
  } catch {
    report('gzip-disable', `${JSON.stringify(t)} is not a regular expression; no User-Agent is excluded`);
    return null;
  }
}
