// Poll the score box until the scoring task has stored the machine-scored part.
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
setTimeout(poll, 500);
