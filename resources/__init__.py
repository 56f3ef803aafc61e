"""Data files shipped with dms-desktop (installed as the package ``dms_desktop.resources``)."""
