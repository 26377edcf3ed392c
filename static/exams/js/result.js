// Poll the score box until the scoring task has stored the machine-scored part. A published
// or disqualified result has no score box: nothing to wait for.
const box = document.getElementById('score');
let tries = 0;
async function poll() {
  if (box.querySelector('[data-state=scored]') || tries++ > 120) return;
  try {
    const response = await fetch(box.dataset.poll, { credentials: 'same-origin' });
    if (response.ok) box.innerHTML = await response.text();
  } catch { /* offline for a moment: try again */ }
  setTimeout(poll, 1000);
}
if (box) setTimeout(poll, 500);
