// Small helpers shared by the @pay/wechat tests.

/** A copy of `data` with one bit of the byte at `index` flipped (negative index counts from the end). */
export function flipByte(data: Uint8Array, index: number, mask = 1): Buffer {
  const out = Buffer.from(data);
  const i = index < 0 ? out.length + index : index;
  out[i] = (out[i] as number) ^ mask;
  return out;
}
