// The system check (R-TAKE-1): browser, device type, camera, microphone, whole-screen share and
// upload speed measured against this server. The page shows each result and the server records it.
const PROBE_BYTES = 1024 * 1024;  // 8 Mbit: long enough to measure, short enough for a slow line
const PROBE_RUNS = 2;

export function browserFacts() {
  const ua = navigator.userAgent;
  const brands = (navigator.userAgentData?.brands || []).map((b) => b.brand);
  const isChrome = brands.length
    ? brands.some((b) => b === 'Google Chrome' || b === 'Chromium' || b === 'HeadlessChrome')
      && !brands.some((b) => /Edge|Opera|Brave|Yandex/.test(b))
    : /Chrome\/\d+/.test(ua) && !/Edg\/|OPR\/|SamsungBrowser|YaBrowser/.test(ua);
  const isPhone = navigator.userAgentData ? navigator.userAgentData.mobile : /iPhone|Android.+Mobile|Mobi/.test(ua);
  return { isChrome, isPhone };
}

export async function measureUpload(url, csrfToken) {
  const blob = new Blob([new Uint8Array(PROBE_BYTES).map((_, i) => (i * 7919) & 255)]);
  let best = 0;
  for (let run = 0; run < PROBE_RUNS; run += 1) {
    const began = performance.now();
    const response = await fetch(url, {
      method: 'POST', body: blob, credentials: 'same-origin', cache: 'no-store',
      headers: { 'X-CSRFToken': csrfToken, 'Content-Type': 'application/octet-stream' },
    });
    if (!response.ok) throw new Error(`upload probe: ${response.status}`);
    const { received } = await response.json();
    const seconds = Math.max((performance.now() - began) / 1000, 0.001);
    best = Math.max(best, (received * 8) / seconds / 1e6);
  }
  return Math.round(best * 10) / 10;
}

export async function recordCheck(url, csrfToken, result) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken },
    body: JSON.stringify(result),
  });
  return response.json();
}

// Draw one row of the check list: name, state (ok / bad / running) and a note.
export function showRow(root, key, state, note = '') {
  const row = root.querySelector(`[data-check="${key}"]`);
  if (!row) return;
  row.dataset.state = state;
  row.querySelector('.state').textContent = note;
}
