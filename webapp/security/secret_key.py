"""The key that signs session cookies, JWTs and password links: never a published string.

Without SECRET_KEY in the environment the app makes a random key on its first start and keeps it in
the instance folder (file mode 600), so every later start and every worker signs with the same key.
A SECRET_KEY that is published (in this code, in FAB's or Flask's examples) or shorter than
MIN_LENGTH stops the app at start, except in tests.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile

KEY_FILE = "secret_key"
MIN_LENGTH = 32
# Keys that appeared in this repository, in FAB's and Flask's documentation and examples: anyone could forge cookies.
PUBLISHED_KEYS = frozenset({
    "dev-only-change-me",
    "test-secret",
    "test-only-key-published-in-config-py-never-deploy",  # config.TestConfig
    "\2\1thisismyscretkey\1\2\\e\\y\\y\\h",
    "thisismyscretkey",
    "dev",
    "development",
    "secret",
    "secret-key",
    "changeme",
    "change-me",
    "change_me",
    "you-will-never-guess",
    "super-secret",
})


class InsecureSecretKey(RuntimeError):
    pass


def refusal(key: str) -> str | None:
    """Why `key` must not sign anything, or None when it may."""
    if key.strip() in PUBLISHED_KEYS:
        return "SECRET_KEY is a published example value: anyone could sign session cookies with it"
    if len(key) < MIN_LENGTH:
        return f"SECRET_KEY is shorter than {MIN_LENGTH} characters"
    return None


def _create_key_file(path: str) -> None:
    """Write a new random key, atomically: when two processes start at once, the first file stays."""
    directory = os.path.dirname(path)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".secret_key.")  # mode 600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: use its key
    finally:
        os.unlink(temporary)


def instance_secret_key(instance_path: str) -> str:
    """The key kept in the instance folder, made on the first start."""
    path = os.path.join(instance_path, KEY_FILE)
    if not os.path.exists(path):
        _create_key_file(path)
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        os.chmod(path, 0o600)  # readable by the app's own user only
    with open(path, encoding="ascii") as handle:
        key = handle.read().strip()
    problem = refusal(key)
    if problem:
        raise InsecureSecretKey(f"{path}: {problem}; delete the file to have a new key made")
    return key


def configure_secret_key(app) -> None:
    """Set app.config['SECRET_KEY'] from the environment's value or the instance folder's key file."""
    key = app.config.get("SECRET_KEY")
    if not key:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
        return
    problem = refusal(key)
    if problem and not app.testing:
        raise InsecureSecretKey(f"{problem}. Set SECRET_KEY to a random value of at least {MIN_LENGTH} characters "
                                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                                "or unset it to have one made in the instance folder.")
