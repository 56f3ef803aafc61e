"""dms-desktop: a desktop client for an AWS-backed document management system."""

__version__ = "0.1.0"


def _resources_of_a_clone() -> None:
    """Make the clone's top-level ``resources/`` folder the package ``dms_desktop.resources``, as
    installing does (pyproject.toml's package-dir), when the package runs from a clone that is
    not installed: the data files are then reached the same way everywhere,
    ``importlib.resources.files("dms_desktop.resources")``."""
    import importlib.util
    import sys
    from pathlib import Path

    name = f"{__name__}.resources"
    if importlib.util.find_spec(name) is not None:  # a wheel, or an editable install
        return
    folder = Path(__file__).resolve().parent.parent / "resources"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None or not (folder / "__init__.py").is_file():
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_resources_of_a_clone()
