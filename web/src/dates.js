// Calendar arithmetic on YYYY-MM-DD strings, in UTC (the bill's days are UTC days).
export function parseDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
}

export function fmtDate(d) {
  return d.toISOString().slice(0, 10);
}

export function addDays(s, n) {
  const d = parseDate(s);
  d.setUTCDate(d.getUTCDate() + n);
  return fmtDate(d);
}

export function addMonths(s, n) {
  const d = parseDate(s);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return fmtDate(d);
}

export function maxDate(a, b) {
  return a > b ? a : b;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Period label: "2024-01-05" for days, "Jan 2024" for a month that starts on the 1st.
export function periodLabel(start, end, granularity) {
  if (granularity === 'MONTHLY') {
    const d = parseDate(start);
    const label = `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
    return d.getUTCDate() === 1 && end === addMonths(start, 1) ? label : `${start}…`;
  }
  if (granularity === 'HOURLY') return start.replace('T', ' ').replace(/:00Z$/, '');
  return start;
}
