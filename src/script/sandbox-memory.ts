/**
 * The JavaScript that runs first in every script's context and closes the ways of allocating
 * memory that isolated-vm's `memoryLimit` does not see. The limit covers V8's heap and the
 * ArrayBuffers made through the isolate's allocator; V8 allocates three kinds of buffer elsewhere,
 * by reserving address space and committing pages as they are touched, and none of them is counted
 * (measured on Node 24, in a 16 MiB isolate, each holding ~500 MiB of resident memory afterwards):
 *
 * - WebAssembly memories (`new WebAssembly.Memory(...)`, `memory.grow(n)`);
 * - resizable ArrayBuffers (`new ArrayBuffer(n, {maxByteLength})`, even before any `resize`);
 * - growable SharedArrayBuffers (`new SharedArrayBuffer(n, {maxByteLength})`, `grow`).
 *
 * So the sandbox has no `WebAssembly` and no `SharedArrayBuffer` (no script needs threads or
 * shared memory, and WebAssembly's accounting cannot be made real from outside V8), and its
 * `ArrayBuffer` only makes fixed-length buffers: the options argument is dropped, and `resize` is
 * gone from the prototype. Fixed-length buffers go through the allocator and are refused past the
 * limit (`RangeError: Array buffer allocation failed`).
 *
 * It runs as a plain script before the prelude, so that nothing the script can reach still refers
 * to the originals: the native constructor is reachable from no global and no prototype afterwards.
 */
export const SANDBOX_MEMORY_GUARD = String.raw`
'use strict';
(() => {
  const NativeArrayBuffer = ArrayBuffer;
  const construct = Reflect.construct;
  const defineProperty = Object.defineProperty;
  const TypeErrorCtor = TypeError;
  delete globalThis.WebAssembly;
  delete globalThis.SharedArrayBuffer;
  delete NativeArrayBuffer.prototype.resize;
  // A fixed-length ArrayBuffer whatever the options: V8 counts those against the isolate's limit.
  const FixedArrayBuffer = function ArrayBuffer(length) {
    if (new.target === undefined) throw new TypeErrorCtor("Constructor ArrayBuffer requires 'new'");
    return construct(NativeArrayBuffer, [length], new.target);
  };
  defineProperty(FixedArrayBuffer, 'prototype', { value: NativeArrayBuffer.prototype, writable: false, enumerable: false, configurable: false });
  defineProperty(FixedArrayBuffer, 'isView', { value: NativeArrayBuffer.isView, writable: true, enumerable: false, configurable: true });
  defineProperty(FixedArrayBuffer, Symbol.species, { get: function () { return this; }, enumerable: false, configurable: true });
  defineProperty(NativeArrayBuffer.prototype, 'constructor', { value: FixedArrayBuffer, writable: true, enumerable: false, configurable: true });
  defineProperty(globalThis, 'ArrayBuffer', { value: FixedArrayBuffer, writable: true, enumerable: false, configurable: true });
})();
`;
