/**
 * The auto-submitting HTML form of page / WAP pay and the legacy services.
 *
 * @module
 * @internal
 */

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** A form that POSTs `params` (names and values HTML-escaped) to `action` and submits itself. @internal */
export function autoSubmitForm(action: string, params: Readonly<Record<string, string>>): string {
  const inputs = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return `<form id="alipaysubmit" name="alipaysubmit" action="${escapeHtml(action)}" method="POST" accept-charset="utf-8">${inputs}<input type="submit" value="Pay" style="display:none"></form><script>document.forms['alipaysubmit'].submit();</script>`;
}
