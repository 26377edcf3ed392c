// The system check page, before the day (R-TAKE-1).
import { SystemCheck } from './candidate/run_check.js';

const data = JSON.parse(document.getElementById('check-data').textContent);
const csrfToken = document.querySelector('input[name=csrfmiddlewaretoken]').value;
const check = new SystemCheck({ root: document.querySelector('main'), data, csrfToken });
check.run();
