import { FathomError } from './errors.js';

const units: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Parses a byte size written as a Kubernetes quantity: `512`, `100M`, `10Gi`. */
export function parseByteSize(text: string, flag = 'size'): number {
  const m = /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * units[m[2]!]!) : NaN;
  if (!m || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `${flag}: invalid size "${text}" (use forms like 500Mi, 10Gi, 1048576)`,
      {
        details: { flag, value: text },
      },
    );
  }
  return bytes;
}
