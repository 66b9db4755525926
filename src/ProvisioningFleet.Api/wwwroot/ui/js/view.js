// Small DOM helpers. Everything from the API is set as text, never as markup.

export const STATES = [
  'Overdue', 'Provisioning', 'TaskSequenceRunning', 'IdentityMismatch', 'Healthy',
  'Unreachable', 'AccessDenied', 'NoClient', 'Error', 'Unknown',
];

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function time(value) {
  if (!value) return '—';
  const date = new Date(value);
  return el('time', { datetime: value, title: date.toISOString() }, date.toLocaleString());
}

export function stateBadge(state) {
  return el('span', { class: `badge state-${state ?? 'Unknown'}` }, state ?? 'Unknown');
}

export function outcomeBadge(outcome) {
  return el('span', { class: `badge outcome-${outcome}` }, outcome);
}

export function errorText(error) {
  if (!error) return '';
  return `${error.category}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
}

export function deviceLink(id, hostName) {
  return el('a', { href: `/ui/device.html?id=${encodeURIComponent(id)}` }, hostName);
}

export function fillTable(tbody, rows, emptyText) {
  const columns = tbody.closest('table').querySelectorAll('thead th').length;
  tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: columns, class: 'empty' }, emptyText))]));
}

/** Shows what happened in the page's status line; errors stay until the next message. */
export function report(message, isError = false) {
  const status = document.getElementById('status');
  status.textContent = message;
  status.className = isError ? 'status error' : 'status';
}
