import { ApiError, canOperate, currentSession, get, post, query, signOut } from './api.js';
import { el, errorText, fillTable, outcomeBadge, report, stateBadge, time } from './view.js';

const id = new URLSearchParams(location.search).get('id');

function fact(name, value) {
  return [el('dt', {}, name), el('dd', {}, value ?? '—')];
}

function yesNo(value) {
  return value === null || value === undefined ? '—' : value ? 'yes' : 'no';
}

function showDevice(device) {
  document.title = `${device.hostName} · ProvisioningFleet`;
  document.getElementById('host-name').textContent = device.hostName;
  document.getElementById('state').replaceChildren(stateBadge(device.state));
  document.getElementById('facts').replaceChildren(...[
    fact('Endpoint', `${device.endpoint} (${device.transport}, ${device.authentication})`),
    fact('Credential', device.credential),
    fact('Tags', (device.tags ?? []).join(', ') || '—'),
    fact('Enabled', yesNo(device.enabled)),
    fact('Excluded from remediation', yesNo(device.remediationExcluded)),
    fact('In provisioning mode', yesNo(device.inProvisioningMode)),
    fact('Provisioning enabled at', time(device.provisioningEnabledAt)),
    fact('Client timeout (minutes)', device.provisioningMaxMinutes),
    fact('Timeout window used (minutes)', device.effectiveTimeoutMinutes),
    fact('Overdue at', time(device.overdueAt)),
    fact('Clock skew (seconds)', device.clockSkewSeconds),
    fact('Task sequence running', yesNo(device.taskSequenceRunning)),
    fact('Client id', device.clientId),
    fact('Inventory source', device.source ?? 'none (created by hand)'),
    fact('Client id the site expects', device.expectedClientId),
    fact('Last checked', time(device.lastCheckedAt)),
    fact('Last error', errorText(device.lastError) || '—'),
  ].flat());
}

function showHistory(entries) {
  const rows = entries.map((entry) => el('tr', { 'data-state': entry.toState },
    el('td', {}, time(entry.at)),
    el('td', {}, stateBadge(entry.fromState)),
    el('td', {}, stateBadge(entry.toState)),
    el('td', {}, errorText(entry.error) || (entry.sweepId ? `sweep ${entry.sweepId}` : 'manual probe'))));
  fillTable(document.getElementById('history'), rows, 'No state change recorded');
}

function showRemediations(page) {
  const rows = page.items.map((r) => el('tr', { 'data-remediation': r.id },
    el('td', {}, time(r.requestedAt)),
    el('td', {}, time(r.finishedAt)),
    el('td', {}, r.trigger),
    el('td', {}, r.actor ?? ''),
    el('td', {}, outcomeBadge(r.outcome)),
    el('td', {}, yesNo(r.verified)),
    el('td', {}, [r.skipReason, errorText(r.error), r.justification].filter(Boolean).join(' · '))));
  fillTable(document.getElementById('remediations'), rows, 'No remediation yet');
}

async function refresh() {
  const [device, history, remediations] = await Promise.all([
    get(`/api/v1/devices/${encodeURIComponent(id)}`),
    get(`/api/v1/devices/${encodeURIComponent(id)}/history${query({ pageSize: 100 })}`),
    get(`/api/v1/remediations${query({ deviceId: id, pageSize: 50 })}`),
  ]);
  showDevice(device);
  showHistory(history.items);
  showRemediations(remediations);
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

async function start() {
  if (!id) {
    report('No device id in the address.', true);
    return;
  }
  try {
    const session = await currentSession();
    document.getElementById('who').textContent = `${session.name} (${session.role})`;
    document.getElementById('sign-out').addEventListener('click', signOut);
    const operator = canOperate(session);
    for (const node of document.querySelectorAll('.operator-only')) node.hidden = !operator;
    const probe = document.getElementById('probe');
    probe.addEventListener('click', () => act(probe, async () => {
      const device = await post(`/api/v1/devices/${encodeURIComponent(id)}/probe`);
      report(`Probed: ${device.state}`);
    }));
    document.getElementById('remediate-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      act(form.querySelector('button'), async () => {
        const body = { dryRun: form.dryRun.checked };
        if (form.justification.value.trim()) body.justification = form.justification.value.trim();
        const result = await post(`/api/v1/devices/${encodeURIComponent(id)}/remediate`, body);
        report(`Remediation: ${result.outcome}${result.skipReason ? ` (${result.skipReason})` : ''}`);
      });
    });
    await refresh();
  } catch (error) {
    report(String(error.message ?? error), true);
  }
}

start();
