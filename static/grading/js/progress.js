// A long job's progress bar (a re-score): polls until done, like pretix's AsyncAction.
const bar = document.getElementById('rescore');
const text = document.getElementById('rescore-text');
async function poll() {
  if (!bar) return;
  try {
    const response = await fetch(bar.dataset.url, { credentials: 'same-origin', cache: 'no-store' });
    const { done, total } = await response.json();
    bar.max = Math.max(total, 1); bar.value = done; text.textContent = `${done} / ${total}`;
    if (done >= total) return;
  } catch { /* try again */ }
  setTimeout(poll, 1000);
}
poll();
