/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), as a Prometheus
 * server reads a scrape: every line must be a comment, HELP, TYPE or a sample; names, label
 * names and escaped label values must be valid; a sample must belong to a declared family.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count', ''], counter: ['', '_total'] };

/**
 * A sample value as Prometheus reads it (Go's strconv.ParseFloat): NaN and Inf in any case.
 * prom-client writes `Nan`, for instance for the event-loop lag mean of a scrape that follows
 * another within the lag monitor's resolution (no delay recorded in between).
 */
function parseValue(text: string, where: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: "${text}" is not a number`);
  return Number(text);
}

/** Reads `{a="x",b="y\"z"}` from `text` at `start`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (text[i] !== '}') {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name || text[i + name.length] !== '=' || text[i + name.length + 1] !== '"') throw new Error(`${where}: bad label at "${text.slice(i)}"`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    i += name.length + 2;
    let value = '';
    for (; text[i] !== '"'; i += 1) {
      if (i >= text.length) throw new Error(`${where}: unterminated label value`);
      if (text[i] === '\\') {
        const escaped = text[i + 1];
        if (!['\\', '"', 'n'].includes(escaped)) throw new Error(`${where}: bad escape \\${escaped}`);
        value += escaped === 'n' ? '\n' : escaped;
        i += 1;
      } else value += text[i];
    }
    labels[name] = value;
    i += 1;
    if (text[i] === ',') i += 1;
    else if (text[i] !== '}') throw new Error(`${where}: expected , or } after label ${name}`);
  }
  return { labels, end: i + 1 };
}

function familyOf(families: Map<string, Family>, sample: string): Family | undefined {
  for (const family of families.values()) {
    const suffixes = SUFFIXES[family.type] ?? [''];
    if (suffixes.some((suffix) => `${family.name}${suffix}` === sample)) return family;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  text.slice(0, -1).split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      const family = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.includes(rest)) throw new Error(`${where}: bad type ${rest}`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE of ${name} after its samples`);
        family.type = rest;
      } else family.help = rest;
      families.set(name, family);
      return;
    }
    if (line.startsWith('#')) return;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new Error(`${where}: not a sample: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, name.length, where);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const [, value, timestamp, extra] = rest.split(' ');
    if (!rest.startsWith(' ') || value === undefined || extra !== undefined) throw new Error(`${where}: expected "<value> [timestamp]": ${line}`);
    if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) throw new Error(`${where}: bad timestamp ${timestamp}`);
    const family = familyOf(families, name);
    if (!family) throw new Error(`${where}: sample ${name} has no HELP/TYPE family`);
    for (const label of Object.keys(labels)) if (!LABEL_NAME.test(label)) throw new Error(`${where}: bad label name ${label}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    series.add(key);
    family.samples.push({ name, labels, value: parseValue(value, where) });
  });
  return families;
}
