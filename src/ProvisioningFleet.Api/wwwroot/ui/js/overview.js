import { ApiError, canOperate, currentSession, get, post, query, signOut } from './api.js';
import { drawStatesOverTime, legend } from './chart.js';
import { STATES, deviceLink, el, errorText, fillTable, outcomeBadge, report, stateBadge, time } from './view.js';

const REFRESH_MS = 5000;
let operator = false;

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
  document.getElementById('overdue-count').textContent = page.total > page.items.length ? `(${page.items.length} of ${page.total})` : `(${page.total})`;
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

async function refresh() {
  const [summary, overdue, sweeps, remediations] = await Promise.all([
    get('/api/v1/fleet/summary'),
    get(`/api/v1/devices${query({ state: 'Overdue', pageSize: 50 })}`),
    get(`/api/v1/sweeps${query({ pageSize: 40 })}`),
    get(`/api/v1/remediations${query({ pageSize: 20 })}`),
  ]);
  showSummary(summary);
  showOverdue(overdue);
  showSweeps(sweeps);
  showRemediations(remediations);
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
    for (const node of document.querySelectorAll('.operator-only')) node.hidden = !operator;
    document.getElementById('sweep-form').addEventListener('submit', startSweep);
    await refresh();
  } catch (error) {
    report(String(error.message ?? error), true);
  }
  setInterval(() => refresh().catch((error) => report(String(error.message ?? error), true)), REFRESH_MS);
}

start();
