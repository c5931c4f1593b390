// The Sluice dashboard: a plain ES module, no framework and no build step. It reads the admin API
// of the server that serves it (docs/dashboard.md): the overview as a stream of server-sent
// events, the dead letters and the live tail of the stream selected.
//
// Event streams are read with fetch, not EventSource: fetch can send the Authorization header, so
// the token never travels in a URL (logs, history, Referer).

const TOKEN_KEY = 'sluice.token';
/** Streams shown per page: the table stays fast whatever the number of streams. */
const PAGE_SIZE = 50;
/** Points kept per series: five minutes at one overview a second. */
const HISTORY_POINTS = 300;
/** Events kept on screen by the live tail. */
const TAIL_ROWS = 200;
const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#be185d'];

const $ = (id) => document.getElementById(id);

const state = {
  /** The latest overview from the server. */
  overview: null,
  /** Findings of the latest overview, by stream. */
  alerts: new Map(),
  /** Rates and lags over time, by stream: { t: [], in: [], groups: Map<name, { out: [], lag: [] }> }. */
  history: new Map(),
  selected: null,
  tab: 'groups',
  sort: { key: 'name', dir: 1 },
  filter: '',
  alertsOnly: false,
  page: 0,
};

// ---------------------------------------------------------------------------------------------
// Formatting

const numbers = new Intl.NumberFormat('en-US');

function count(n) {
  return n === null || n === undefined ? '–' : numbers.format(Math.round(n));
}

function perSecond(n) {
  if (n === null || n === undefined) return '–';
  if (n === 0) return '0';
  return n < 10 ? n.toFixed(1) : numbers.format(Math.round(n));
}

/** A duration as the CLI shows it: 850ms, 12.3s, 4m05s, 2h10m, 3d4h. */
function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function clock(ms) {
  const d = new Date(ms);
  return `${d.toLocaleTimeString('en-GB', { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Builds an element: `el('td', { className: 'num' }, 'text', child)`. Text is always text, never HTML. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('aria') || key === 'role' || key === 'title' || key === 'scope') node.setAttribute(key.replace(/^aria([A-Z])/, (_, c) => `aria-${c.toLowerCase()}`), value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Talking to the server

class HttpFailure extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

function headers(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  $('forget-token').hidden = !token;
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function jsonOf(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON request; asks for the token (and tries again) when the server answers 401. */
async function api(path, { method = 'GET', body } = {}) {
  for (;;) {
    const init = { method, cache: 'no-store', headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(path, init);
    const json = await jsonOf(response);
    if (response.status === 401) {
      await askToken();
      continue;
    }
    if (!response.ok) throw new HttpFailure(response.status, json);
    return json;
  }
}

/**
 * Reads a server-sent event stream with fetch, calling `onEvent(name, data, id)` per event (`id`:
 * the event's `id:` line, if any), until the stream ends or `signal` aborts. With `lastEventId`,
 * sends it as `Last-Event-ID`, as an EventSource does when it reconnects. Throws HttpFailure when
 * the server refuses the request.
 */
async function readEvents(path, onEvent, signal, lastEventId) {
  const extra = lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId };
  const response = await fetch(path, { cache: 'no-store', headers: headers({ Accept: 'text/event-stream', ...extra }), signal });
  if (!response.ok) throw new HttpFailure(response.status, await jsonOf(response));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let id;
        const data = [];
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = text;
          else if (field === 'data') data.push(text);
          else if (field === 'id') id = text;
        }
        if (data.length > 0) onEvent(event, data.join('\n'), id);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let tokenPrompt = null;

/** Shows the token dialog; resolves once a token was entered. Concurrent callers share one dialog. */
function askToken() {
  tokenPrompt ??= new Promise((resolve) => {
    const dialog = $('token-dialog');
    const form = $('token-form');
    $('token-error').textContent = sessionStorage.getItem(TOKEN_KEY) ? 'That token was refused: check it and try again.' : '';
    sessionStorage.removeItem(TOKEN_KEY);
    $('forget-token').hidden = true;
    const onSubmit = (event) => {
      event.preventDefault();
      const token = $('token-input').value.trim();
      if (token === '') return;
      sessionStorage.setItem(TOKEN_KEY, token);
      form.removeEventListener('submit', onSubmit);
      $('token-input').value = '';
      dialog.close();
      tokenPrompt = null;
      resolve();
    };
    form.addEventListener('submit', onSubmit);
    dialog.showModal();
    $('token-input').focus();
  });
  return tokenPrompt;
}

function setStatus(kind, text) {
  const status = $('status');
  status.dataset.state = kind;
  status.textContent = text;
}

/** Follows the overview stream for as long as the page is open, reconnecting with backoff. */
async function watchOverview() {
  let delay = 1000;
  for (;;) {
    try {
      await readEvents('/api/overview/stream', (event, data) => {
        if (event === 'overview') {
          delay = 1000;
          setStatus('live', 'live');
          onOverview(JSON.parse(data));
        } else if (event === 'error') {
          setStatus('error', `Redis: ${JSON.parse(data).error?.message ?? 'error'}`);
        }
      });
      setStatus('offline', 'reconnecting…');
    } catch (error) {
      if (error instanceof HttpFailure && error.status === 401) {
        setStatus('offline', 'token required');
        await askToken();
        continue;
      }
      setStatus('offline', `offline (${error.message}); reconnecting…`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 10_000);
  }
}

// ---------------------------------------------------------------------------------------------
// The overview: history, alerts, the streams table

function maxLag(stream) {
  let max = null;
  for (const group of stream.groups) if (group.lag !== null && (max === null || group.lag > max)) max = group.lag;
  return max;
}

function pendingOf(stream) {
  return stream.groups.reduce((sum, group) => sum + group.pending, 0);
}

function severityOf(findings) {
  if (!findings || findings.length === 0) return 0;
  return findings.some((f) => f.severity === 'fail') ? 2 : 1;
}

function onOverview(overview) {
  state.overview = overview;
  state.alerts = new Map();
  for (const finding of overview.alerts) {
    const list = state.alerts.get(finding.stream);
    if (list) list.push(finding);
    else state.alerts.set(finding.stream, [finding]);
  }
  record(overview);
  $('updated').textContent = `updated ${new Date(overview.at).toLocaleTimeString('en-GB', { hour12: false })}`;
  renderAlerts();
  renderStreams();
  renderDetail();
}

/** Adds the overview's rates and lags to each stream's history (oldest points dropped). */
function record(overview) {
  const t = overview.at / 1000;
  const seen = new Set();
  for (const stream of overview.streams) {
    seen.add(stream.name);
    let h = state.history.get(stream.name);
    if (!h) {
      h = { t: [], in: [], groups: new Map() };
      state.history.set(stream.name, h);
    }
    const length = h.t.length;
    h.t.push(t);
    h.in.push(stream.inRate);
    for (const group of stream.groups) {
      if (!h.groups.has(group.name)) h.groups.set(group.name, { out: new Array(length).fill(null), lag: new Array(length).fill(null) });
    }
    for (const [name, series] of h.groups) {
      const group = stream.groups.find((g) => g.name === name);
      series.out.push(group ? group.outRate : null);
      series.lag.push(group ? group.lag : null);
    }
    if (h.t.length > HISTORY_POINTS) {
      h.t.shift();
      h.in.shift();
      for (const series of h.groups.values()) {
        series.out.shift();
        series.lag.shift();
      }
    }
  }
  // Streams gone from the server take their history with them.
  for (const name of state.history.keys()) if (!seen.has(name)) state.history.delete(name);
}

function renderAlerts() {
  const { alerts } = state.overview;
  const box = $('alerts');
  box.hidden = alerts.length === 0;
  if (alerts.length === 0) return;
  const fails = alerts.filter((a) => a.severity === 'fail').length;
  box.dataset.severity = fails > 0 ? 'fail' : 'warn';
  const warns = alerts.length - fails;
  $('alerts-summary').textContent = `${alerts.length} alert${alerts.length === 1 ? '' : 's'}: ${fails} failing, ${warns} warning${warns === 1 ? '' : 's'}`;
  const shown = [...alerts].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'fail' ? -1 : 1)).slice(0, 5);
  $('alerts-list').replaceChildren(
    ...shown.map((finding) =>
      el(
        'li',
        { className: `alert-${finding.severity}` },
        el('button', { type: 'button', className: 'link', onclick: () => select(finding.stream) }, finding.stream),
        finding.group ? ` · ${finding.group}` : '',
        el('span', { className: 'kind' }, finding.kind),
        finding.message,
      ),
    ),
    ...(alerts.length > shown.length ? [el('li', { className: 'muted' }, `and ${alerts.length - shown.length} more: tick “with alerts only” to list their streams`)] : []),
  );
}

const SORT_VALUES = {
  name: (s) => s.name,
  length: (s) => s.length,
  inRate: (s) => s.inRate ?? -1,
  lag: (s) => maxLag(s) ?? -1,
  pending: (s) => pendingOf(s),
  groups: (s) => s.groups.length,
  deadLetters: (s) => s.deadLetters,
  alerts: (s) => severityOf(state.alerts.get(s.name)),
};

function visibleStreams() {
  const filter = state.filter.toLowerCase();
  let streams = state.overview.streams;
  if (filter) streams = streams.filter((s) => s.name.toLowerCase().includes(filter));
  if (state.alertsOnly) streams = streams.filter((s) => state.alerts.has(s.name));
  const value = SORT_VALUES[state.sort.key];
  const dir = state.sort.dir;
  return [...streams].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const order = va < vb ? -1 : va > vb ? 1 : 0;
    return order * dir || (a.name < b.name ? -1 : 1);
  });
}

function renderStreams() {
  if (!state.overview) return;
  const all = state.overview.streams;
  const streams = visibleStreams();
  const pages = Math.max(1, Math.ceil(streams.length / PAGE_SIZE));
  state.page = Math.min(state.page, pages - 1);
  const start = state.page * PAGE_SIZE;
  const rows = streams.slice(start, start + PAGE_SIZE).map(streamRow);
  $('streams').tBodies[0].replaceChildren(...rows);
  $('stream-count').textContent = streams.length === all.length ? `(${count(all.length)})` : `(${count(streams.length)} of ${count(all.length)})`;
  $('page-info').textContent = streams.length === 0 ? '' : `${count(start + 1)}–${count(start + rows.length)} of ${count(streams.length)}`;
  $('prev-page').disabled = state.page === 0;
  $('next-page').disabled = state.page >= pages - 1;
  const empty = $('streams-empty');
  empty.hidden = streams.length > 0;
  empty.textContent = all.length === 0 ? 'No streams on this server yet: publish an event to create one.' : 'No stream matches the filter.';
  const truncated = $('truncated');
  truncated.hidden = !state.overview.truncated;
  truncated.textContent = `Only the first ${count(all.length)} streams (by name) are shown: the server reads at most that many.`;
  for (const th of $('streams').tHead.rows[0].cells) {
    th.setAttribute('aria-sort', th.dataset.sort === state.sort.key ? (state.sort.dir === 1 ? 'ascending' : 'descending') : 'none');
  }
}

function streamRow(stream) {
  const findings = state.alerts.get(stream.name);
  const severity = severityOf(findings);
  const classes = ['clickable'];
  if (severity === 2) classes.push('alert-fail');
  else if (severity === 1) classes.push('alert-warn');
  if (stream.name === state.selected) classes.push('selected');
  const kinds = findings ? [...new Set(findings.map((f) => f.kind))].join(', ') : '';
  return el(
    'tr',
    { className: classes.join(' '), tabIndex: 0, dataset: { stream: stream.name }, title: findings ? findings.map((f) => f.message).join('\n') : '' },
    el('td', { className: 'name' }, stream.name),
    el('td', { className: 'num c-length' }, count(stream.length)),
    el('td', { className: 'num c-in' }, perSecond(stream.inRate)),
    el('td', { className: 'num c-lag' }, count(maxLag(stream))),
    el('td', { className: 'num c-pending' }, count(pendingOf(stream))),
    el('td', { className: 'num c-groups' }, count(stream.groups.length)),
    el('td', { className: `num c-dlq${stream.deadLetters > 0 ? ' has-dlq' : ''}` }, count(stream.deadLetters)),
    el('td', { className: 'c-alerts' }, kinds),
  );
}

// ---------------------------------------------------------------------------------------------
// The stream selected: groups, charts

function select(name) {
  const changed = state.selected !== name;
  if (changed) {
    stopTail();
    state.selected = name;
    dlq.loadedFor = null;
    dlq.letters = [];
    dlq.selected.clear();
    $('dead-letters').tBodies[0].replaceChildren();
    $('dlq-message').hidden = true;
    $('group-message').hidden = true;
    $('tail-events').replaceChildren();
    $('tail-status').textContent = '';
    charts.destroy();
  }
  history.replaceState(null, '', name ? `#stream=${encodeURIComponent(name)}` : location.pathname);
  renderStreams();
  renderDetail();
  // Below the streams table: brought into view when it is not (a no-op when it already is).
  if (name && changed) $('detail').scrollIntoView({ block: 'nearest' });
  if (name && state.tab === 'dlq') loadDeadLetters();
}

function currentStream() {
  return state.overview?.streams.find((s) => s.name === state.selected);
}

function renderDetail() {
  const panel = $('detail');
  panel.hidden = state.selected === null;
  if (state.selected === null) return;
  const stream = currentStream();
  $('detail-title').textContent = state.selected;
  $('detail-gone').hidden = stream !== undefined || state.overview === null;
  if (!stream) return;
  const parts = [
    `${count(stream.length)} entries`,
    stream.newestAgeMs !== null ? `newest ${duration(stream.newestAgeMs)} ago` : 'empty',
    stream.oldestAgeMs !== null ? `oldest ${duration(stream.oldestAgeMs)} ago` : null,
    stream.memoryBytes !== null ? bytes(stream.memoryBytes) : null,
    `${count(stream.entriesAdded)} added in all`,
    stream.heldBack ? `retention held back by ${stream.heldBack.group} (${count(stream.heldBack.entries)} entries)` : null,
  ];
  $('detail-summary').textContent = parts.filter(Boolean).join(' · ');
  $('dlq-badge').textContent = stream.deadLetters > 0 ? count(stream.deadLetters) : '';
  if (state.tab === 'groups') {
    renderGroups(stream);
    charts.render(stream.name);
  }
  if (state.tab === 'dlq' && dlq.size !== stream.deadLetters && !dlq.loading && dlq.loadedFor === stream.name) {
    // The overview saw the dead-letter stream change: the list follows.
    loadDeadLetters();
  }
}

function renderGroups(stream) {
  const findings = state.alerts.get(stream.name) ?? [];
  const rows = [];
  for (const group of stream.groups) {
    const mine = findings.filter((f) => f.group === group.name);
    const severity = severityOf(mine);
    rows.push(
      el(
        'tr',
        { className: `group${severity === 2 ? ' alert-fail' : severity === 1 ? ' alert-warn' : ''}`, dataset: { group: group.name }, title: mine.map((f) => f.message).join('\n') },
        el('td', { className: 'name' }, group.name, mine.length > 0 ? el('span', { className: 'kind' }, mine.map((f) => f.kind).join(', ')) : null),
        el('td', { className: 'num c-lag' }, count(group.lag)),
        // Caught up (0) shows as a dash, as an unknown does.
        el('td', { className: 'num c-behind' }, duration(group.behindMs || null)),
        el('td', { className: 'num c-pending' }, count(group.pending)),
        el('td', { className: 'num c-oldest' }, duration(group.oldestPendingAgeMs)),
        el('td', { className: 'num c-out' }, perSecond(group.outRate)),
        el('td', { className: 'num' }, ''),
        el('td', { className: 'mono' }, group.lastDeliveredId),
      ),
    );
    for (const consumer of group.consumers) {
      rows.push(
        el(
          'tr',
          { className: 'consumer', dataset: { consumer: consumer.name } },
          el('td', { className: 'name' }, consumer.name),
          el('td', { className: 'num' }, ''),
          el('td', { className: 'num' }, ''),
          el('td', { className: 'num' }, count(consumer.pending)),
          el('td', { className: 'num' }, ''),
          el('td', { className: 'num' }, ''),
          el('td', { className: 'num' }, duration(consumer.idleMs)),
          el('td', {}, ''),
        ),
      );
    }
  }
  $('groups').tBodies[0].replaceChildren(...rows);
  $('groups-empty').hidden = stream.groups.length > 0;
  renderGroupChoices(stream.groups.map((g) => g.name));
}

/** The group picker of the move / delete form; rebuilt only when the set of groups changes. */
function renderGroupChoices(names) {
  const picker = $('group-select');
  $('group-form').hidden = names.length === 0;
  const shown = [...picker.options].map((o) => o.value);
  if (shown.length === names.length && shown.every((name, i) => name === names[i])) return;
  const kept = picker.value;
  picker.replaceChildren(...names.map((name) => el('option', { value: name }, name)));
  if (names.includes(kept)) picker.value = kept;
}

function showGroupMessage(text, error = false) {
  const message = $('group-message');
  message.hidden = false;
  message.textContent = text;
  message.classList.toggle('error', error);
}

/** A duration like 90s, 15m or 1h30m: sent as `since`; anything else as the position `to`. */
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/;

async function resetGroup() {
  const name = state.selected;
  const group = $('group-select').value;
  const where = $('group-to').value.trim();
  if (!group || !where) return;
  const since = DURATION.test(where);
  const what = since ? `the events of the last ${where}` : where === '$' ? 'no event there now (the backlog is skipped)' : where === '0' ? 'every event of the stream' : `the events after ${where}`;
  const ok = await confirmAction(
    'Move the group?',
    `Group ${group} of ${name} will deliver ${what}, and go on from there. Its workers handle those events again; other groups are not affected.`,
    'Move group',
  );
  if (!ok) return;
  try {
    const result = await api(`${streamPath(name, 'groups')}/${encodeURIComponent(group)}/reset`, { method: 'POST', body: since ? { confirm: true, since: where } : { confirm: true, to: where } });
    const lag = result.lag === null ? 'an unknown number of' : count(result.lag);
    showGroupMessage(`Moved ${group} from ${result.previousId} to ${result.lastDeliveredId}: ${lag} event${result.lag === 1 ? '' : 's'} to deliver.`);
  } catch (error) {
    showGroupMessage(`Could not move ${group}: ${error.message}`, true);
  }
}

async function deleteGroup() {
  const name = state.selected;
  const group = $('group-select').value;
  if (!group) return;
  const ok = await confirmAction(
    'Delete the group?',
    `Delete group ${group} of ${name}? It no longer holds retention back. Refused while it has pending entries or running consumers.`,
    'Delete group',
  );
  if (!ok) return;
  try {
    await api(`${streamPath(name, 'groups')}/${encodeURIComponent(group)}/delete`, { method: 'POST', body: { confirm: true } });
    showGroupMessage(`Deleted group ${group}.`);
  } catch (error) {
    showGroupMessage(`Could not delete ${group}: ${error.message}`, true);
  }
}

/** The two uPlot charts of the stream selected, rebuilt when its set of groups changes. */
const charts = {
  rates: null,
  lag: null,
  key: '',

  destroy() {
    this.rates?.destroy();
    this.lag?.destroy();
    this.rates = this.lag = null;
    this.key = '';
  },

  render(name) {
    const h = state.history.get(name);
    const UPlot = globalThis.uPlot;
    if (!h || !UPlot) return;
    const groups = [...h.groups.keys()];
    const rates = [h.t, h.in, ...groups.map((g) => h.groups.get(g).out)];
    const lags = [h.t, ...groups.map((g) => h.groups.get(g).lag)];
    const key = `${name}\u0000${groups.join('\u0000')}`;
    if (key !== this.key) {
      this.destroy();
      this.key = key;
      const rateBox = $('chart-rates');
      const lagBox = $('chart-lag');
      this.rates = new UPlot(chartOptions(['in', ...groups.map((g) => `out: ${g}`)], rateBox, perSecond, false), rates, rateBox);
      this.lag = new UPlot(chartOptions(groups.map((g) => `lag: ${g}`), lagBox, count, true), lags, lagBox);
    } else {
      this.rates.setData(rates);
      this.lag.setData(lags);
    }
    showLatest(this.rates);
    showLatest(this.lag);
  },

  resize() {
    for (const [chart, box] of [
      [this.rates, $('chart-rates')],
      [this.lag, $('chart-lag')],
    ]) {
      if (chart) chart.setSize({ width: chartWidth(box), height: 220 });
    }
  },
};

function chartWidth(box) {
  return Math.max(240, box.clientWidth || box.parentElement.clientWidth || 480);
}

/** Axis steps: whole seconds for time, 1-2-5 steps for counts (a lag of 1.5 entries means nothing). */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
const COUNT_STEPS = Array.from({ length: 13 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

function axisNumber(v) {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(2));
}

function chartOptions(labels, box, format, wholeNumbers) {
  const y = { stroke: '#64748b', size: 56, values: (_u, values) => values.map(axisNumber) };
  if (wholeNumbers) y.incrs = COUNT_STEPS;
  return {
    width: chartWidth(box),
    height: 220,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(wholeNumbers ? 5 : 1, (max ?? 0) * 1.1)] } },
    axes: [
      {
        stroke: '#64748b',
        incrs: TIME_STEPS,
        values: (_u, splits) => splits.map((t) => new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false })),
      },
      y,
    ],
    series: [
      { value: (_u, t) => (t === null || t === undefined ? '–' : new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false })) },
      ...labels.map((label, i) => ({
        label,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        value: (_u, v) => (v === null || v === undefined ? '–' : format(v)),
      })),
    ],
  };
}

/** The legend shows the latest values while the pointer is not over the chart. */
function showLatest(chart) {
  if (chart.cursor.left >= 0) return;
  const last = chart.data[0].length - 1;
  if (last >= 0) chart.setLegend({ idx: last });
}

// ---------------------------------------------------------------------------------------------
// Dead letters

const dlq = { loadedFor: null, letters: [], next: null, size: 0, selected: new Set(), loading: false };

function streamPath(name, rest) {
  return `/api/streams/${encodeURIComponent(name)}/${rest}`;
}

async function loadDeadLetters(more = false) {
  const name = state.selected;
  if (!name) return;
  dlq.loading = true;
  try {
    const after = more && dlq.next ? `&after=${encodeURIComponent(dlq.next)}` : '';
    const page = await api(streamPath(name, `dead-letters?count=50${after}`));
    if (state.selected !== name) return;
    if (!more) {
      dlq.letters = [];
      dlq.selected.clear();
    }
    dlq.loadedFor = name;
    dlq.letters.push(...page.deadLetters);
    dlq.next = page.next;
    dlq.size = page.size;
    renderDeadLetters();
  } catch (error) {
    showDlqMessage(`Could not list the dead letters: ${error.message}`, true);
  } finally {
    dlq.loading = false;
  }
}

function renderDeadLetters() {
  const rows = dlq.letters.map((letter) => {
    const box = el('input', { type: 'checkbox', checked: dlq.selected.has(letter.id), ariaLabel: `Select dead letter ${letter.id}` });
    box.addEventListener('change', () => {
      if (box.checked) dlq.selected.add(letter.id);
      else dlq.selected.delete(letter.id);
      updateDlqButtons();
    });
    return el(
      'tr',
      { dataset: { id: letter.id } },
      el('td', {}, box),
      el('td', { className: 'mono', title: letter.id }, new Date(letter.time).toLocaleString('en-GB', { hour12: false })),
      el('td', { className: 'mono' }, letter.originalId),
      el('td', {}, letter.group),
      el('td', {}, letter.reason),
      el('td', { className: 'error-text' }, letter.error),
      el('td', { className: 'num' }, letter.deliveryCount === null ? '–' : String(letter.deliveryCount)),
      el('td', { className: 'mono fields' }, JSON.stringify(letter.fields)),
    );
  });
  $('dead-letters').tBodies[0].replaceChildren(...rows);
  $('dlq-empty').hidden = dlq.letters.length > 0;
  $('dlq-more').hidden = dlq.next === null;
  $('dlq-info').textContent = `${count(dlq.size)} dead letter${dlq.size === 1 ? '' : 's'} in ${state.selected ? `{${state.selected}}:dlq` : ''}${dlq.letters.length < dlq.size ? `, ${count(dlq.letters.length)} shown` : ''}`;
  updateDlqButtons();
}

function updateDlqButtons() {
  const selected = dlq.selected.size;
  $('dlq-redrive-selected').disabled = selected === 0;
  $('dlq-redrive-selected').textContent = selected === 0 ? 'Redrive selected' : `Redrive ${selected} selected`;
  $('dlq-redrive-all').disabled = dlq.size === 0;
  $('dlq-purge').disabled = dlq.size === 0;
  $('dlq-select-all').checked = dlq.letters.length > 0 && selected === dlq.letters.length;
}

function showDlqMessage(text, error = false) {
  const message = $('dlq-message');
  message.hidden = false;
  message.textContent = text;
  message.classList.toggle('error', error);
}

/** Asks in a modal dialog; resolves to true when the person confirmed. */
function confirmAction(title, message, action) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-message').textContent = message;
  $('confirm-ok').textContent = action;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $('confirm-ok').removeEventListener('click', onOk);
      $('confirm-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      resolve(answer);
    };
    const onOk = () => finish(true);
    const onCancel = (event) => {
      event.preventDefault();
      finish(false);
    };
    $('confirm-ok').addEventListener('click', onOk);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

async function redrive(all) {
  const name = state.selected;
  const ids = [...dlq.selected];
  const what = all ? `all ${count(dlq.size)} dead letters` : `${ids.length} dead letter${ids.length === 1 ? '' : 's'}`;
  const ok = await confirmAction('Redrive dead letters?', `Send ${what} back to ${name} as new events? Each group of the stream will receive them again.`, 'Redrive');
  if (!ok) return;
  try {
    const result = await api(streamPath(name, 'dead-letters/redrive'), { method: 'POST', body: all ? { confirm: true, all: true } : { confirm: true, ids } });
    showDlqMessage(`Redriven ${count(result.redriven)} dead letter${result.redriven === 1 ? '' : 's'} to ${name}.`);
  } catch (error) {
    showDlqMessage(`Redrive failed: ${error.message}`, true);
  }
  await loadDeadLetters();
}

async function purge() {
  const name = state.selected;
  const ok = await confirmAction('Purge dead letters?', `Delete all ${count(dlq.size)} dead letters of ${name}? This cannot be undone.`, 'Purge');
  if (!ok) return;
  try {
    const result = await api(streamPath(name, 'dead-letters/purge'), { method: 'POST', body: { confirm: true } });
    showDlqMessage(`Purged ${count(result.purged)} dead letter${result.purged === 1 ? '' : 's'} of ${name}.`);
  } catch (error) {
    showDlqMessage(`Purge failed: ${error.message}`, true);
  }
  await loadDeadLetters();
}

// ---------------------------------------------------------------------------------------------
// Live tail

let tail = null;

function stopTail() {
  if (!tail) return;
  tail.controller.abort();
  tail = null;
  $('tail-toggle').textContent = 'Start';
}

async function startTail() {
  stopTail();
  const name = state.selected;
  const field = $('tail-field').value.trim();
  const value = $('tail-value').value;
  if (value !== '' && field === '') {
    $('tail-status').textContent = 'Name the field that should equal this value.';
    return;
  }
  const query = new URLSearchParams();
  if (field) query.set('field', field);
  if (field && value !== '') query.set('value', value);
  const controller = new AbortController();
  const current = { controller };
  tail = current;
  $('tail-toggle').textContent = 'Stop';
  $('tail-events').replaceChildren();
  // Written only while this tail is the one on screen (or none is, on this stream): a tail
  // started since, or another stream's panel, owns the line.
  const status = (text) => {
    if ((tail === current || tail === null) && state.selected === name) $('tail-status').textContent = text;
  };
  status('connecting…');
  const path = `${streamPath(name, 'tail')}${query.size > 0 ? `?${query}` : ''}`;
  let shown = 0;
  const tally = () => `${count(shown)} event${shown === 1 ? '' : 's'}${field ? ` matching ${field}${value !== '' ? ` = ${value}` : ''}` : ''}`;
  // The id of the last event received (the server's `ready` and `entry` events carry their stream
  // ID): after a lost connection or a server restart the tail goes on right after it, nothing
  // missed and nothing shown twice, as an EventSource would.
  let lastId;
  let delay = 1000;
  try {
    for (;;) {
      let why = 'the server ended the tail';
      try {
        await readEvents(
          path,
          (event, data, id) => {
            if (id !== undefined) lastId = id;
            const payload = JSON.parse(data);
            if (event === 'ready') {
              delay = 1000;
              status(shown === 0 ? `listening${field ? ` for ${field}${value !== '' ? ` = ${value}` : ' (any value)'}` : ''}…` : tally());
            } else if (event === 'entry') {
              shown++;
              status(tally());
              addTailEvent(payload);
            } else if (event === 'error') {
              why = payload.error?.message ?? 'error';
            }
          },
          controller.signal,
          lastId,
        );
      } catch (error) {
        if (controller.signal.aborted) break;
        if (error instanceof HttpFailure && error.status === 401) {
          await askToken();
          continue;
        }
        if (error instanceof HttpFailure && error.status < 500) {
          // Refused (a bad request, too many tails): trying again would not help.
          status(`could not tail: ${error.message}`);
          return;
        }
        // The connection dropped, or the server is unavailable for now (503 while it restarts).
        why = error instanceof HttpFailure ? `the server answered ${error.status} (${error.message})` : `connection lost: ${error.message}`;
      }
      if (controller.signal.aborted) break;
      status(`${tally()}; ${why}, reconnecting…`);
      await sleep(delay);
      delay = Math.min(delay * 2, 10_000);
      if (controller.signal.aborted) break;
    }
    status(`stopped after ${count(shown)} event${shown === 1 ? '' : 's'}`);
  } finally {
    if (tail === current) stopTail();
  }
}

function addTailEvent(event) {
  const list = $('tail-events');
  const fields = Object.entries(event.fields).map(([k, v]) => el('span', { className: 'field' }, el('b', {}, k), `=${v}`));
  list.prepend(el('li', { dataset: { id: event.id } }, el('span', { className: 'mono muted' }, `${clock(event.time)} ${event.id}`), ...fields));
  while (list.childElementCount > TAIL_ROWS) list.lastElementChild.remove();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll('.tabs [data-tab]')) button.setAttribute('aria-selected', String(button.dataset.tab === tab));
  for (const name of ['groups', 'dlq', 'tail']) $(`tab-${name}`).hidden = name !== tab;
  if (tab !== 'groups') charts.destroy();
  if (tab === 'dlq') loadDeadLetters();
  renderDetail();
}

function wire() {
  $('search').addEventListener('input', (event) => {
    state.filter = event.target.value.trim();
    state.page = 0;
    renderStreams();
  });
  $('alerts-only').addEventListener('change', (event) => {
    state.alertsOnly = event.target.checked;
    state.page = 0;
    renderStreams();
  });
  $('prev-page').addEventListener('click', () => {
    state.page = Math.max(0, state.page - 1);
    renderStreams();
  });
  $('next-page').addEventListener('click', () => {
    state.page++;
    renderStreams();
  });
  for (const th of $('streams').tHead.rows[0].cells) {
    th.classList.add('sortable');
    th.tabIndex = 0;
    const sort = () => {
      const key = th.dataset.sort;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : key === 'name' ? 1 : -1 };
      renderStreams();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (event) => event.key === 'Enter' && sort());
  }
  const tbody = $('streams').tBodies[0];
  tbody.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-stream]');
    if (row) select(row.dataset.stream);
  });
  tbody.addEventListener('keydown', (event) => {
    const row = event.target.closest('tr[data-stream]');
    if (row && event.key === 'Enter') select(row.dataset.stream);
  });
  $('close-detail').addEventListener('click', () => select(null));
  for (const button of document.querySelectorAll('.tabs [data-tab]')) button.addEventListener('click', () => showTab(button.dataset.tab));
  $('dlq-refresh').addEventListener('click', () => loadDeadLetters());
  $('dlq-more').addEventListener('click', () => loadDeadLetters(true));
  $('dlq-redrive-selected').addEventListener('click', () => redrive(false));
  $('dlq-redrive-all').addEventListener('click', () => redrive(true));
  $('dlq-purge').addEventListener('click', () => purge());
  $('group-form').addEventListener('submit', (event) => {
    event.preventDefault();
    resetGroup();
  });
  $('group-delete').addEventListener('click', () => deleteGroup());
  $('dlq-select-all').addEventListener('change', (event) => {
    dlq.selected = event.target.checked ? new Set(dlq.letters.map((l) => l.id)) : new Set();
    renderDeadLetters();
  });
  $('tail-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (tail) stopTail();
    else startTail();
  });
  $('token-dialog').addEventListener('cancel', (event) => event.preventDefault());
  $('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  let resizing = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(() => charts.resize());
  });
}

wire();
const initial = /^#stream=(.+)$/.exec(location.hash);
if (initial) select(decodeURIComponent(initial[1]));
watchOverview();
