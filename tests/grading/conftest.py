import pytest


@pytest.fixture(autouse=True)
def _tasks_in_process(settings):
    # Unit tests run the tasks a service queues (re-scores, result e-mails) right here, also when
    # REDIS_URL is set; a real worker process is tested in tests/integration/.
    settings.CELERY_TASK_ALWAYS_EAGER = True
