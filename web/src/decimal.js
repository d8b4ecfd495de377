// Exact decimal strings as the API gives them (core/decimal.h: 10 fractional digits),
// summed with BigInt so totals are exact, never floating point.
const SCALE = 10;
const ONE = 10n ** BigInt(SCALE);

// Parses "-123.4567" into a BigInt scaled by 1e10. Throws on anything else.
export function parseDec(text) {
  let s = String(text).trim();
  let neg = false;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  } else if (s.startsWith('+')) {
    s = s.slice(1);
  }
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) {
    throw new Error(`not a decimal amount: ${JSON.stringify(text)}`);
  }
  const frac = ((m[2] || '') + '0'.repeat(SCALE)).slice(0, SCALE);
  const v = BigInt(m[1] || '0') * ONE + BigInt(frac);
  return neg ? -v : v;
}

// Formats like Decimal::ToString: no trailing zeros, no trailing point, "0" for zero.
export function formatDec(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const frac = (a % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + (a / ONE).toString() + (frac ? '.' + frac : '');
}

export function sumDec(texts) {
  let s = 0n;
  for (const t of texts) s += parseDec(t);
  return formatDec(s);
}

// Rounds half away from zero to `digits` decimals and adds thousands separators.
export function displayDec(text, digits = 2) {
  if (digits === 2 && typeof text === 'string') {
    const fast = display2(text);
    if (fast !== null) return fast;
  }
  if (text === null || text === undefined || text === '') return '—';
  let v;
  try {
    v = parseDec(text);
  } catch {
    return String(text);
  }
  const neg = v < 0n;
  let a = neg ? -v : v;
  const p = 10n ** BigInt(SCALE - digits);
  let q = a / p;
  if ((a % p) * 2n >= p) q += 1n;
  const unit = 10n ** BigInt(digits);
  const int = (q / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = digits > 0 ? '.' + (q % unit).toString().padStart(digits, '0') : '';
  return (neg && q !== 0n ? '-' : '') + int + frac;
}

export function toNumber(text) {
  if (text === null || text === undefined || text === '') return null;
  return Number(text);
}

export function compareDec(a, b) {
  const x = parseDec(a);
  const y = parseDec(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// displayDec(text, 2) without BigInt for plain amounts (the common case in big tables).
function display2(text) {
  const m = /^(-?)(\d{1,15})(?:\.(\d*))?$/.exec(text);
  if (!m) return null;
  const f = m[3] || '';
  let cents = Number(m[2]) * 100 + Number((f + '00').slice(0, 2));
  if (f.length > 2 && f.charCodeAt(2) >= 53) cents += 1; // third digit >= 5: round half up (away from zero)
  if (!Number.isSafeInteger(cents)) return null;
  const int = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = (cents % 100).toString().padStart(2, '0');
  return (m[1] && cents !== 0 ? '-' : '') + int + '.' + frac;
}
