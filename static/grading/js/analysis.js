// Start the item-analysis task and follow its progress (like pretix's AsyncAction): the form
// still works without this script (a plain POST and a redirect back).
const job = document.getElementById('job');
const form = job.querySelector('form');
const button = document.getElementById('analyse');
const bar = document.querySelector('#progress progress');
const box = document.getElementById('progress');
const text = document.getElementById('progress-text');
const error = document.getElementById('job-error');

function show(status) {
  box.hidden = status.state !== 'running';
  bar.value = status.progress || 0;
  text.textContent = `${Math.round((status.progress || 0) * 100)} %`;
  error.hidden = status.state !== 'failed';
  if (status.state === 'failed') error.textContent = status.error || 'failed';
  button.disabled = status.state === 'running';
}

async function poll(tries = 0) {
  try {
    const response = await fetch(job.dataset.status, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.ok) {
      const status = await response.json();
      show(status);
      if (status.state === 'done') { window.location.reload(); return; }
      if (status.state !== 'running') return;
    }
  } catch { /* offline for a moment: try again */ }
  if (tries < 1800) setTimeout(() => poll(tries + 1), 1000);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  box.hidden = false;
  const response = await fetch(form.action, {
    method: 'POST', body: new FormData(form), credentials: 'same-origin', headers: { Accept: 'application/json' },
  });
  if (!response.ok) { button.disabled = false; error.hidden = false; error.textContent = response.statusText; return; }
  show(await response.json());
  poll();
});

if (job.dataset.running === '1') poll();
