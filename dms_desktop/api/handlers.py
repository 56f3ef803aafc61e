"""The Lambda entry points behind API Gateway (REST API, proxy integration):

- ``create_document``   POST   /documents                          201, the document to be and an
                                                                   upload URL (status "pending")
- ``complete_upload``   POST   /documents/{documentId}/complete    201, the stored document
- ``get_documents``     GET    /documents                          200, a page, newest first
- ``get_document_by_id``GET    /documents/{documentId}             200, the document and a
                                                                   download URL
- ``delete_document``   DELETE /documents/{documentId}             200, the document, moved to
                                                                   the trash; 204 with
                                                                   ``?permanently=true``
- ``restore_document``  POST   /documents/{documentId}/restore     200, the document, out of
                                                                   the trash as it was

Share links (``POST /documents/{documentId}/share``, ``GET /share/{token}``) are in api.share.

A document is written as the desktop writes it (core.records): body first, metadata second.
Create keeps the record it will write as a pending upload (api.pending) and hands out a presigned
PUT; the client uploads the body, then calls complete, which writes the record once the body is
in the bucket with the size and checksum given. Until then the document is not listed, and a body
whose upload is never completed is an orphan that `dms admin check --repair` removes.

The caller is the identity pool identity id API Gateway puts into the event of a route with IAM
authorisation (``requestContext.identity.cognitoIdentityId``, for an authenticated identity): the
same id the desktop app, the IAM policies and Amplify's ``private/`` folders use, so a person has
one partition everywhere. A user id in the body or path is never read. Answers: 400 with the
invalid fields, 404, 409 (client token reused), 503 (backend unavailable), 500 without internals.
Each call logs one JSON line with the request ids, an input summary (no filenames, tags, tokens or
URLs), the outcome and the duration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.change_report import ChangeResult, ChangeStatus
from ..core.errors import Conflict, InTrash, NotFound, Unavailable, ValidationError
from ..core.ids import new_document_id
from ..core.models import Document
from ..core.records import new_document_record, store_record_of_upload
from ..core.schema import is_user_id
from .backend import Backend, current_backend
from .inputs import (
    InvalidInput,
    parse_create_input,
    parse_document_id,
    parse_list_input,
    parse_permanently,
)
from .jsonlog import configure_api_logging

log = configure_api_logging()

ProxyEvent = dict[str, Any]
ProxyResult = dict[str, Any]


class Unauthenticated(Exception):
    """The event carries no authenticated identity: the route is not IAM-authorised, or the
    caller signed with a guest identity's credentials."""


@dataclass
class Call:
    """One invocation: the event, the caller and what the log line will say about it."""

    event: ProxyEvent
    user_id: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None = None
    outcome: str = "ok"

    def to_proxy_result(self, request_id: str) -> ProxyResult:
        headers = {"X-Request-Id": request_id}
        if self.body is None:
            return {"statusCode": self.status, "headers": headers, "body": ""}
        headers["Content-Type"] = "application/json"
        return {
            "statusCode": self.status,
            "headers": headers,
            "body": json.dumps(self.body, ensure_ascii=False),
        }


def _field(container: Any, name: str) -> Any:
    """``container[name]`` if ``container`` is a JSON object, else None: an event's parts may
    have any shape (``null``, a string), and none of them may crash the handler."""
    return container.get(name) if isinstance(container, dict) else None


def caller_id(event: ProxyEvent) -> str:
    """The caller's identity id (``region:uuid``), which API Gateway took from the credentials
    that signed the request: the user's partition and folder."""
    identity = _field(_field(event, "requestContext"), "identity")
    identity_id = _field(identity, "cognitoIdentityId")
    if (
        _field(identity, "cognitoAuthenticationType") != "authenticated"
        or not isinstance(identity_id, str)
        or not is_user_id(identity_id)
    ):
        raise Unauthenticated
    return identity_id


def _error(status: int, code: str, message: str, outcome: str, **extra: Any) -> Reply:
    return Reply(status, {"error": code, "message": message, **extra}, outcome)


def _endpoint(operation: str) -> Callable[[Callable[[Call, Backend], Reply]], Any]:
    """Wraps an action into a Lambda handler: the caller, error replies and the log line."""

    def decorate(action: Callable[[Call, Backend], Reply]) -> Callable[[ProxyEvent, Any], Any]:
        def handler(event: ProxyEvent, context: Any) -> ProxyResult:
            started = time.perf_counter()
            request_id = str(getattr(context, "aws_request_id", "") or "")
            api_request_id = _api_request_id(event)
            call: Call | None = None
            try:
                call = Call(event, caller_id(event))
                reply = action(call, current_backend())
            except Unauthenticated:
                reply = _error(401, "Unauthorized", "Sign in first.", "unauthenticated")
            except InvalidInput as exc:
                reply = _error(400, "InvalidInput", exc.message, "invalid", fields=exc.fields)
            except ValidationError as exc:
                reply = _error(400, "InvalidInput", exc.message, "invalid")
            except NotFound as exc:
                reply = _error(404, "NotFound", exc.message, "not_found")
            except Conflict as exc:
                reply = _error(409, "Conflict", exc.message, "conflict")
            except Unavailable:
                log.warning("backend unavailable", exc_info=True, extra=_ids(request_id, event))
                reply = _error(
                    503, "Unavailable", "The service is busy; try again shortly.", "unavailable"
                )
            except Exception:
                log.exception("unexpected failure", extra=_ids(request_id, event))
                reply = _error(
                    500,
                    "InternalError",
                    "Something went wrong on our side; quote the request id if you report it.",
                    "error",
                    requestId=request_id,
                )
            fields: dict[str, Any] = {
                "operation": operation,
                "requestId": request_id,
                "apiRequestId": api_request_id,
                "userId": call.user_id if call else None,
                "input": call.summary if call else {},
                "status": reply.status,
                "outcome": reply.outcome,
                "durationMs": round((time.perf_counter() - started) * 1000, 1),
            }
            if reply.body and "fields" in reply.body:
                fields["invalidFields"] = sorted(reply.body["fields"])
            log.info("%s %d", operation, reply.status, extra={"fields": fields})
            return reply.to_proxy_result(request_id)

        handler.__name__ = action.__name__
        handler.__doc__ = action.__doc__
        return handler

    return decorate


def _api_request_id(event: ProxyEvent) -> str | None:
    value = _field(_field(event, "requestContext"), "requestId")
    return value if isinstance(value, str) else None


def _ids(request_id: str, event: ProxyEvent) -> dict[str, Any]:
    return {"fields": {"requestId": request_id, "apiRequestId": _api_request_id(event)}}


@_endpoint("CreateDocument")
def create_document(call: Call, backend: Backend) -> Reply:
    """Plan a new document and hand out an upload URL; ``complete_upload`` stores it after the
    client has PUT the body there. A retry with the same client token gets the same document
    (a fresh URL while it is pending; the stored document once it is complete)."""
    request = parse_create_input(call.event.get("body"), call.event.get("isBase64Encoded") is True)
    call.summary.update(
        size=request.size,
        fileType=request.media_type,
        tagCount=len(request.tags),
        clientToken=request.client_token is not None,
    )
    document_id = new_document_id()
    if request.client_token is not None:
        document_id = backend.client_tokens.reserve(
            call.user_id, request.client_token, request.fingerprint(), document_id
        )
        stored = _stored(backend, call.user_id, document_id)
        if stored is not None:  # completed by an earlier attempt
            call.summary.update(documentId=document_id, replayed=True)
            return Reply(200, {"document": stored.to_json_dict(), "status": "stored"}, "replayed")
    call.summary["documentId"] = document_id
    document = backend.pending.find(call.user_id, document_id) or new_document_record(
        user_id=call.user_id,
        document_id=document_id,
        filename=request.filename,
        file_type=request.media_type,
        size=request.size,
        checksum=request.checksum,
        tags=request.tags,
        folder=request.folder,
    )
    backend.pending.keep(document)  # kept a day from now, also when a retry found it
    return Reply(
        201,
        {
            "document": document.to_json_dict(),
            "status": "pending",
            "upload": backend.upload_target(document),
        },
        "created",
    )


@_endpoint("CompleteUpload")
def complete_upload(call: Call, backend: Backend) -> Reply:
    """Store the document whose body the client has uploaded: 201 with the document; 409 if
    the body is not there yet or does not match; 404 if no such upload is pending. Calling it
    again after it succeeded answers 200 with the same document."""
    document_id = parse_document_id(call.event.get("pathParameters"))
    call.summary["documentId"] = document_id
    pending = backend.pending.find(call.user_id, document_id)
    if pending is None:
        stored = _stored(backend, call.user_id, document_id)
        if stored is None:
            raise NotFound(
                f"No upload of document {document_id} is waiting to be completed: create it with "
                "POST /documents first (an upload not completed within a day is forgotten)."
            )
        call.summary["replayed"] = True
        return Reply(200, {"document": stored.to_json_dict()}, "replayed")
    document = store_record_of_upload(backend.repository, backend.blobs, pending)
    backend.pending.forget(call.user_id, document_id)
    return Reply(201, {"document": document.to_json_dict()}, "created")


def _stored(backend: Backend, user_id: str, document_id: str) -> Document | None:
    try:
        return backend.repository.get(user_id, document_id)
    except NotFound:
        return None


@_endpoint("GetDocuments")
def get_documents(call: Call, backend: Backend) -> Reply:
    """One page of the caller's documents, newest first; ``nextToken`` continues."""
    request = parse_list_input(call.event.get("queryStringParameters"))
    call.summary.update(
        limit=request.query.page_size,
        tagFilter=request.query.tag is not None,
        nextToken=request.next_token is not None,
    )
    try:
        page = backend.service(call.user_id).list_page(request.query, request.next_token)
    except ValidationError as exc:
        if request.next_token is None:
            raise
        raise InvalidInput({"nextToken": exc.message}) from exc
    call.summary["returned"] = len(page.documents)
    return Reply(
        200,
        {
            "documents": [document.to_json_dict() for document in page.documents],
            "nextToken": page.cursor,
        },
    )


@_endpoint("GetDocumentById")
def get_document_by_id(call: Call, backend: Backend) -> Reply:
    """The document and a short-lived download URL for its body."""
    document_id = parse_document_id(call.event.get("pathParameters"))
    call.summary["documentId"] = document_id
    document = backend.service(call.user_id).get(document_id)
    if document.in_trash:  # restored first, in the app (404: a list does not show it either)
        raise InTrash(document.filename, document_id)
    return Reply(
        200, {"document": document.to_json_dict(), "download": backend.download_target(document)}
    )


@_endpoint("DeleteDocument")
def delete_document(call: Call, backend: Backend) -> Reply:
    """Move the document to the trash, as the desktop's Delete does (404 if there is none, or
    it is in the trash already). With ``?permanently=true``: delete the metadata, then the body
    (the core's delete order), also of a document in the trash."""
    document_id = parse_document_id(call.event.get("pathParameters"))
    permanently = parse_permanently(call.event.get("queryStringParameters"))
    call.summary.update(documentId=document_id, permanently=permanently)
    service = backend.service(call.user_id)
    if permanently:
        service.delete(document_id)
        return Reply(204, None, "deleted")
    result = service.trash_many([document_id]).results[0]
    return _changed(result, "trashed")


@_endpoint("RestoreDocument")
def restore_document(call: Call, backend: Backend) -> Reply:
    """Take the document out of the trash as it was (404 if it is not in the trash)."""
    document_id = parse_document_id(call.event.get("pathParameters"))
    call.summary["documentId"] = document_id
    result = backend.service(call.user_id).restore_many([document_id]).results[0]
    return _changed(result, "restored")


def _changed(result: ChangeResult, outcome: str) -> Reply:
    """The reply of a batched change of one document: its error raised, or the document."""
    if result.status is not ChangeStatus.DONE:
        raise result.error or Unavailable("The document could not be changed; try again.")
    body = {"document": result.document.to_json_dict()} if result.document is not None else {}
    return Reply(200, body or None, outcome)
