"""The web API: Lambda functions behind API Gateway, on the same core as the desktop app.

Qt-free (an import-linter contract and a test keep it so): the Lambda bundle carries only
``dms_desktop/__init__.py``, ``dms_desktop/core`` and this package, plus boto3 and pydantic
(see :mod:`dms_desktop.api.bundle`).
"""
