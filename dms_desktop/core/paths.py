"""Where the app keeps its config, data, cache and logs.

By default the platform's locations (platformdirs). ``DMS_HOME`` (or ``--home``) puts all four
under one folder, for tests and portable use.

All four are the user's own: folders 0700, and the programs create their files 0600 (umask 077,
see :func:`keep_new_files_private`), as aws-cli and ssh do with theirs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "dms-desktop"
HOME_ENV = "DMS_HOME"

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


def private_folder(path: Path) -> Path:
    """``path`` (with missing parents) as a folder only its owner can enter (0700); an existing
    folder's mode is narrowed too (earlier versions made them 0755)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_FOLDER_MODE)
    return path


def keep_new_files_private() -> int:
    """From now on this process creates files 0600 and folders 0700 (umask 077): the state,
    bodies, logs, audit logs, config and caches, and the parts of downloads. Returns the umask it
    replaces. A no-op where there are no umasks (Windows: the user's profile folder is private)."""
    if os.name != "posix":
        return 0
    return os.umask(PRIVATE_UMASK)


def restore_umask(previous: int) -> None:
    """Undo :func:`keep_new_files_private` (``dms`` run in-process, e.g. by tests)."""
    if os.name == "posix":
        os.umask(previous)


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> AppPaths:
        """The paths for ``home`` if given, else ``$DMS_HOME``, else platformdirs."""
        chosen = home if home is not None else os.environ.get(HOME_ENV) or None
        if chosen is not None:
            root = Path(chosen).expanduser().resolve()
            return cls(root / "config", root / "data", root / "cache", root / "logs")
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            Path(dirs.user_config_dir),
            Path(dirs.user_data_dir),
            Path(dirs.user_cache_dir),
            Path(dirs.user_log_dir),
        )

    def make_private(self) -> None:
        """Create the four folders 0700, or narrow them to 0700 (what is inside an existing one
        is then out of other users' reach whatever its own mode)."""
        for folder in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            private_folder(folder)

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def locks_dir(self) -> Path:
        """Lock files the app's processes share (uploads of the same content)."""
        return self.data_dir / "locks"

    @property
    def sandbox_dir(self) -> Path:
        """The local sandbox's state: one sandbox per data folder."""
        return self.data_dir / "sandbox"
