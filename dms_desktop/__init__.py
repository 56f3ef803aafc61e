"""dms-desktop: a desktop client for an AWS-backed document management system."""

__version__ = "0.1.0"
