"""boto3 sessions for tests under moto: fake credentials, never the default session."""

from __future__ import annotations

import boto3
import botocore.loaders
import botocore.session

USER_ID = "us-east-1:11111111-2222-3333-4444-555555555555"
OTHER_USER_ID = "us-east-1:99999999-8888-7777-6666-555555555555"

# Parsed service models, shared by the test sessions: a fresh loader per test costs ~0.2 s.
_LOADER = botocore.loaders.create_loader()


def new_session() -> boto3.session.Session:
    """A Session of its own with fake credentials (never the default session)."""
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        botocore_session=core,
    )
