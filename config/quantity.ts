/**
 * Kubernetes resource quantities (`200Mi`, `1Gi`, `500M`), kept as the user wrote them:
 * a PVC of `200Mi` must stay `200Mi`, not be rounded to whole GiB.
 */

const QUANTITY = /^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const MULTIPLIER: Record<string, number> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Bytes in a storage quantity, or undefined when `text` is not one. */
export function quantityBytes(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * MULTIPLIER[match[3] ?? ""]!;
}

/** A size as the smallest whole number of MiB (or GiB from 10Gi) that holds `bytes`. */
export function formatQuantity(bytes: number): string {
  const gib = 2 ** 30;
  if (bytes >= 10 * gib) return `${Math.ceil(bytes / gib)}Gi`;
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
