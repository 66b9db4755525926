import { ApiError, canOperate, currentSession, get, post, query, signOut } from './api.js';
import { drawStatesOverTime, legend } from './chart.js';
import { STATES, deviceLink, el, errorText, fillTable, outcomeBadge, report, stateBadge, time } from './view.js';

const REFRESH_MS = 5000;
let operator = false;
let admin = false;

function sweepLine(sweep) {
  if (!sweep) return 'never';
  const progress = sweep.status === 'Running' ? ` ${sweep.probed}/${sweep.total}` : '';
  return `${sweep.status}${progress}${sweep.dryRun ? ' (dry run)' : ''} · ${new Date(sweep.startedAt ?? sweep.requestedAt).toLocaleString()}`;
}

function showSummary(summary) {
  document.getElementById('total').textContent = summary.total;
  document.getElementById('overdue').textContent = summary.overdue;
  document.getElementById('remediated24h').textContent = summary.remediatedLast24h;
  const last = document.getElementById('last-sweep');
  last.textContent = sweepLine(summary.lastSweep);
  last.dataset.sweepId = summary.lastSweep?.id ?? '';
  last.dataset.status = summary.lastSweep?.status ?? '';

  const rows = STATES.map((state) => {
    const count = summary.byState?.[state] ?? 0;
    const share = summary.total ? (100 * count) / summary.total : 0;
    const bar = el('span', { class: `bar fill-${state}` });
    // Through the style property, not a style attribute: the Content-Security-Policy allows no inline style.
    bar.style.width = `${share.toFixed(1)}%`;
    return el('tr', { 'data-state': state },
      el('td', {}, stateBadge(state)),
      el('td', { class: 'num' }, count),
      el('td', { class: 'bar-cell' }, bar));
  });
  fillTable(document.getElementById('by-state'), rows, 'No devices');
}

async function act(button, work) {
  button.disabled = true;
  try {
    await work();
    await refresh();
  } catch (error) {
    report(error instanceof ApiError ? `${error.status}: ${error.message}` : String(error), true);
  } finally {
    button.disabled = false;
  }
}

function deviceActions(device) {
  const probe = el('button', { type: 'button', class: 'small' }, 'Probe');
  probe.addEventListener('click', () => act(probe, async () => {
    const updated = await post(`/api/v1/devices/${device.id}/probe`);
    report(`${updated.hostName}: ${updated.state}`);
  }));
  const remediate = el('button', { type: 'button', class: 'small danger' }, 'Remediate');
  remediate.addEventListener('click', () => act(remediate, async () => {
    const justification = prompt(`Take ${device.hostName} out of provisioning mode. Justification (optional):`);
    if (justification === null) return;
    const result = await post(`/api/v1/devices/${device.id}/remediate`, { justification: justification || undefined });
    report(`${result.hostName}: ${result.outcome}${result.skipReason ? ` (${result.skipReason})` : ''}`);
  }));
  return el('td', { class: 'actions' }, probe, ' ', remediate);
}

function showOverdue(page) {
  // Past the service's counting bound the total is a lower bound (totalExact false).
  const total = page.totalExact ? `${page.total}` : `${page.total}+`;
  document.getElementById('overdue-count').textContent = page.total > page.items.length ? `(${page.items.length} of ${total})` : `(${total})`;
  const rows = page.items.map((device) => el('tr', { 'data-device': device.id },
    el('td', {}, deviceLink(device.id, device.hostName)),
    el('td', {}, time(device.provisioningEnabledAt)),
    el('td', {}, time(device.overdueAt)),
    el('td', {}, time(device.lastCheckedAt)),
    operator ? deviceActions(device) : null));
  fillTable(document.getElementById('overdue-list'), rows, 'No overdue device');
}

function showSweeps(page) {
  const rows = page.items.slice(0, 10).map((sweep) => el('tr', { 'data-sweep': sweep.id, 'data-status': sweep.status },
    el('td', {}, time(sweep.startedAt ?? sweep.requestedAt)),
    el('td', {}, sweep.trigger, sweep.tag ? ` · ${sweep.tag}` : '', sweep.dryRun ? ' (dry run)' : ''),
    el('td', {}, el('span', { class: `badge sweep-${sweep.status}` }, sweep.status)),
    el('td', { class: 'num' }, `${sweep.probed} / ${sweep.total}`),
    el('td', { class: 'num' }, sweep.remediated),
    el('td', { class: 'num' }, sweep.remediationsFailed),
    el('td', { class: 'num' }, sweep.skipped),
    el('td', { class: 'num' }, sweep.wouldRemediate)));
  fillTable(document.getElementById('sweeps'), rows, 'No sweep yet');
  drawStatesOverTime(document.getElementById('chart'), page.items);
}

function showRemediations(page) {
  const rows = page.items.map((r) => el('tr', { 'data-remediation': r.id },
    el('td', {}, time(r.requestedAt)),
    el('td', {}, deviceLink(r.deviceId, r.hostName)),
    el('td', {}, r.trigger),
    el('td', {}, r.actor ?? ''),
    el('td', {}, outcomeBadge(r.outcome)),
    el('td', {}, r.skipReason ?? errorText(r.error) ?? '')));
  fillTable(document.getElementById('remediations'), rows, 'No remediation yet');
}

function syncLine(run) {
  if (!run) return 'never';
  const badge = el('span', { class: `badge sync-${run.status}`, title: run.error ?? '' }, run.status);
  return [badge, run.dryRun ? ' (dry run) ' : ' ', time(run.finishedAt ?? run.startedAt ?? run.requestedAt), run.error ? el('div', { class: 'error-text' }, run.error) : null];
}

function syncActions(source) {
  const sync = el('button', { type: 'button', class: 'small', 'data-testid': 'sync-now' }, 'Sync now');
  sync.addEventListener('click', () => act(sync, async () => {
    const run = await post(`/api/v1/inventory-sources/${source.id}/sync`, { dryRun: false });
    report(`${source.name}: sync ${run.id} ${run.status}`);
  }));
  return el('td', { class: 'actions' }, sync);
}

function showSources(page) {
  const rows = page.items.map((source) => {
    const run = source.lastRun;
    const skipped = run ? el('span', { title: run.skipped.slice(0, 20).map((s) => `${s.name}: ${s.reason}`).join('\n') }, run.skipped.length) : '—';
    return el('tr', { 'data-source': source.id, 'data-status': run?.status ?? '' },
      el('td', {}, source.name, source.enabled ? '' : ' (disabled)'),
      el('td', {}, source.collectionIds.join(', ')),
      el('td', { class: 'num' }, source.devices),
      el('td', {}, syncLine(run)),
      el('td', { class: 'num' }, run?.seen ?? '—'),
      el('td', { class: 'num' }, run?.created ?? '—'),
      el('td', { class: 'num' }, run?.updated ?? '—'),
      el('td', { class: 'num' }, run?.disabled ?? '—'),
      el('td', { class: 'num' }, run?.deleted ?? '—'),
      el('td', { class: 'num' }, skipped),
      admin ? syncActions(source) : null);
  });
  fillTable(document.getElementById('inventory-sources'), rows, 'No inventory source: devices are added by hand or imported');
}

async function refresh() {
  const [summary, overdue, sweeps, remediations, sources] = await Promise.all([
    get('/api/v1/fleet/summary'),
    get(`/api/v1/devices${query({ state: 'Overdue', pageSize: 50 })}`),
    get(`/api/v1/sweeps${query({ pageSize: 40 })}`),
    get(`/api/v1/remediations${query({ pageSize: 20 })}`),
    get(`/api/v1/inventory-sources${query({ pageSize: 100 })}`),
  ]);
  showSummary(summary);
  showOverdue(overdue);
  showSweeps(sweeps);
  showRemediations(remediations);
  showSources(sources);
  document.body.dataset.refreshedAt = new Date().toISOString();
}

async function startSweep(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button');
  await act(button, async () => {
    const body = { dryRun: form.dryRun.checked };
    if (form.tag.value.trim()) body.tag = form.tag.value.trim();
    const sweep = await post('/api/v1/sweeps', body);
    report(`Sweep ${sweep.id} ${sweep.status}`);
  });
}

async function start() {
  legend(document.getElementById('legend'));
  try {
    const session = await currentSession();
    operator = canOperate(session);
    document.getElementById('who').textContent = `${session.name} (${session.role})`;
    document.getElementById('sign-out').addEventListener('click', signOut);
    admin = session.role === 'Admin';
    for (const node of document.querySelectorAll('.operator-only')) node.hidden = !operator;
    for (const node of document.querySelectorAll('.admin-only')) node.hidden = !admin;
    document.getElementById('sweep-form').addEventListener('submit', startSweep);
    await refresh();
  } catch (error) {
    report(String(error.message ?? error), true);
  }
  setInterval(() => refresh().catch((error) => report(String(error.message ?? error), true)), REFRESH_MS);
}

start();
