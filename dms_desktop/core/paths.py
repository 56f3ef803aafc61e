"""Where the app keeps its config, data, cache and logs.

By default the platform's locations (platformdirs). ``DMS_HOME`` (or ``--home``) puts all four
under one folder, for tests and portable use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "dms-desktop"
HOME_ENV = "DMS_HOME"


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
