/**
 * Narrowing helpers for untrusted input. Snapshot objects may come from hand-written YAML, so the
 * compiler reads every field through these instead of trusting the declared types: a field of the
 * wrong type reads as `undefined` and the caller decides whether that is an error.
 */

/** A plain object (not null, not an array) whose fields are still unchecked. */
export type Dict = { readonly [key: string]: unknown };

/** True for a plain object: not null, not an array. */
export function isRecord(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One own field of an object, or `undefined` when `obj` is not an object or lacks the field.
 * Own fields only, so YAML keys like `__proto__` or `constructor` never reach the prototype.
 */
export function field(obj: unknown, key: string): unknown {
  return isRecord(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** A field that must be a string, or `undefined`. */
export function stringField(obj: unknown, key: string): string | undefined {
  const value = field(obj, key);
  return typeof value === 'string' ? value : undefined;
}

/** True when a field is absent, null or the empty string: the ways YAML spells "not set". */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A TCP port number: an integer in 1..65535. */
export function isPortNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** A value of a string map such as `metadata.labels`, or `undefined`. */
export function mapValue(obj: unknown, mapKey: string, key: string): string | undefined {
  return stringField(field(obj, mapKey), key);
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9]|-(?!-))*$/;

/** RFC 1123 label: lower-case alphanumerics and '-', at most 63 characters. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every(isDns1123Label);
}

/** RFC 1035 label (Service names): like an RFC 1123 label but starting with a letter. */
export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && DNS1035_LABEL.test(value);
}

/**
 * IANA service name (named ports): at most 15 characters, at least one letter, no leading,
 * trailing or double '-'. The letter rule keeps `ns/svc:80` (a number) and a port named `http`
 * apart in cluster names.
 */
export function isIanaSvcName(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 15 &&
    IANA_SVC_NAME.test(value) &&
    !value.endsWith('-') &&
    /[a-z]/.test(value)
  );
}
