"""The product's keys, each for one job, read from the environment or from a file.

`NAME` holds the value itself; `NAME_FILE` names a file that holds it (systemd's credentials,
a Docker or Kubernetes secret), so that the key need not appear in a unit file or `ps`.

Production (DJANGO_PRODUCTION=1) must be given every key. Elsewhere (the embedded default, the
lab with PostgreSQL and Redis) a missing key is generated once per checkout into var/keys/ and kept
there: no key of this product is ever published in its repository, and every process of one
checkout (Daphne, the Celery worker, the media server, the tests) reads the same one.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Long enough for Django's own deploy check (50 characters, 5 different ones).
MINIMUM_KEY_LENGTH = 50


class UnsafeSettings(ImproperlyConfigured):
    """A setting that would run the product unsafely; production refuses to start on it."""


def from_environment(name: str) -> str:
    """Return `name` from the environment or the file `name`_FILE names; "" when neither is set."""
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise UnsafeSettings(f"{name} and {name}_FILE are both set: keep one")
    if not path:
        return value
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UnsafeSettings(f"{name}_FILE={path}: {exc.strerror}") from exc


def key_for(name: str, *, production: bool, keys_dir: Path) -> str:
    """Return the key `name`: given, or (outside production) generated once into keys_dir."""
    value = from_environment(name)
    if value:
        if production and len(value) < MINIMUM_KEY_LENGTH:
            raise UnsafeSettings(
                f"{name} is {len(value)} characters long; production needs at least "
                f"{MINIMUM_KEY_LENGTH} (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if production and len(set(value)) < 5:
            raise UnsafeSettings(f"{name} has fewer than 5 different characters")
        return value
    if production:
        raise UnsafeSettings(
            f"{name} is not set: production needs its own key in {name} or {name}_FILE "
            f"(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return _generated(keys_dir / name.lower(), name)


def _generated(path: Path, name: str) -> str:
    """Return the key kept at `path`, creating it if it is not there yet.

    Several processes may start at once (a test run starts Daphne and a worker): the key is written
    to a file of its own and linked into place, so a reader sees the whole key or no file at all.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won: its key is the one
        finally:
            draft.unlink()
    for _attempt in range(50):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
        time.sleep(0.01)
    raise UnsafeSettings(
        f"{path} (the generated {name}) is empty: delete it to have a new one made"
    )


def distinct(keys: dict[str, str]) -> None:
    """Refuse one value used for two jobs: a leak of one would then open the other."""
    seen: dict[str, str] = {}
    for name, value in keys.items():
        if not value:
            continue
        if value in seen:
            raise UnsafeSettings(
                f"{name} is the same as {seen[value]}: each needs a key of its own"
            )
        seen[value] = name
