"""Deleting document bodies for good: every stored version of each key, and every delete marker.

The bucket keeps old versions of a body (core.versions). A plain delete of a key on such a bucket
only hides the body under a delete marker; its versions stay until the lifecycle rule expires them.
Every delete that is meant to be for good (Delete permanently, emptying the trash, the trash's
purge, the admin's cleanup, and the next start finishing one of these) goes through
:func:`delete_bodies_for_good`, which lists the versions and delete markers of the keys
(ListObjectVersions, 1,000 a page) and deletes each of them by its version id (DeleteObjects,
1,000 a request). On a bucket that keeps no versions, S3 lists each object as the version "null",
and deleting that version deletes the object.

Few keys of a folder are listed one by one (``Prefix`` = the key; only entries of exactly that key
are taken); many keys of one folder (one user's ``private/{identityId}/``) are found by listing the
folder once and picking them out, so 1,000 documents cost a few pages instead of 1,000 listings.
The keys are the callers' to derive (from owner and document id, or an admin's listing of the
bucket); an item's stored ``s3Key`` must never be passed here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .aws import aws_errors
from .batches import BODY_BATCH, BatchOutcome
from .errors import AuthError, DmsError

log = logging.getLogger(__name__)

# Listing key by key costs one request per key whatever the folder holds; listing the folder
# costs one request per 1,000 versions stored in it, whatever is deleted. Up to this many keys of
# a folder, one by one is cheap and does not depend on how much else the user keeps (deleting 3
# documents of 100,000 must not page through all of them); above it, the folder listing wins
# unless the folder is very large, and it stops as soon as it has passed the last key asked for.
FOLDER_LISTING_ABOVE = 20


@dataclass
class BodiesDeleted(BatchOutcome[str]):
    """Each key: done (every version and delete marker gone, or there was none), or failed with
    the reason. ``requests`` counts the DeleteObjects requests, ``listings`` the
    ListObjectVersions requests, ``versions`` the versions and delete markers deleted and
    ``versions_left`` those that were found but not deleted."""

    listings: int = 0
    versions: int = 0
    versions_left: int = 0


def delete_bodies_for_good(
    s3: Any, bucket: str, keys: Iterable[str], *, current_only_if_listing_refused: bool = True
) -> BodiesDeleted:
    """Delete every version and delete marker of each of ``keys`` (derived keys only, see the
    module docstring). Never raises for S3's refusals or an unreachable backend: each key whose
    versions could not be listed or deleted is in ``failed`` with the reason, and the other keys
    are still deleted.

    If listing the versions is refused, the current objects are deleted instead (a user of a
    stack deployed before users could list versions), unless ``current_only_if_listing_refused``
    is False: then those keys fail (a service role that the template grants the listing must not
    quietly leave old versions behind)."""
    todo = list(dict.fromkeys(keys))
    outcome = BodiesDeleted()
    by_folder: dict[str, list[str]] = {}
    for key in todo:
        by_folder.setdefault(_folder_of(key), []).append(key)
    found: list[tuple[str, str]] = []  # (key, version id), in the order listed
    for folder, folder_keys in by_folder.items():
        if folder and len(folder_keys) > FOLDER_LISTING_ABOVE:
            listed = [(folder, folder_keys)]
        else:
            listed = [(key, [key]) for key in folder_keys]
        for prefix, wanted in listed:
            try:
                found += _versions_of(s3, bucket, prefix, set(wanted), outcome)
            except AuthError as error:
                if not current_only_if_listing_refused:
                    outcome.failed.update(
                        (key, f"{type(error).__name__}: {error}") for key in wanted
                    )
                    continue
                # A stack deployed before users could list versions: delete the current objects
                # as before (their old versions stay until the lifecycle rule expires them).
                log.warning("cannot list versions to delete (%s); deleting current objects", error)
                found += [(key, "") for key in wanted]
            except DmsError as error:
                outcome.failed.update((key, f"{type(error).__name__}: {error}") for key in wanted)
    delete_versions(s3, bucket, found, outcome)
    outcome.done = [key for key in todo if key not in outcome.failed]
    return outcome


def _folder_of(key: str) -> str:
    """``private/{identityId}/`` of a document's key ("" for a key in no folder)."""
    return key[: key.rfind("/") + 1]


def _versions_of(
    s3: Any, bucket: str, prefix: str, wanted: set[str], outcome: BodiesDeleted
) -> list[tuple[str, str]]:
    """(key, version id) of every version and delete marker of the ``wanted`` keys under
    ``prefix``. The listing is in key order, so it stops once past the last wanted key."""
    last = max(wanted)
    found: list[tuple[str, str]] = []
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    with aws_errors("list the stored versions of the files to delete"):
        while True:
            outcome.listings += 1
            page = s3.list_object_versions(**request)
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                key = str(entry.get("Key", ""))
                if key in wanted:  # a prefix also matches longer keys and other documents
                    found.append((key, str(entry.get("VersionId") or "null")))
            next_key = page.get("NextKeyMarker")
            if not page.get("IsTruncated") or not next_key or str(next_key) > last:
                return found
            request["KeyMarker"] = next_key
            request["VersionIdMarker"] = page.get("NextVersionIdMarker")


def delete_versions(
    s3: Any, bucket: str, found: list[tuple[str, str]], outcome: BodiesDeleted
) -> None:
    """DeleteObjects, 1,000 versions a request (``""``: the key's current object, as a plain
    delete of it); a key fails if any of its versions does, with S3's reason, and a request
    that fails fails all its keys (with the error's message) while the next is still sent."""
    for start in range(0, len(found), BODY_BATCH):
        batch = found[start : start + BODY_BATCH]
        objects = [
            {"Key": key, "VersionId": version} if version else {"Key": key}
            for key, version in batch
        ]
        outcome.requests += 1
        try:
            with aws_errors("delete stored files"):
                response = s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": objects, "Quiet": True}
                )
        except DmsError as error:
            for key, _version in batch:
                outcome.failed.setdefault(key, f"{type(error).__name__}: {error}")
            outcome.versions_left += len(batch)
            continue
        refused = response.get("Errors") or []
        for entry in refused:
            key = str(entry.get("Key", ""))
            outcome.failed.setdefault(key, f"{entry.get('Code', 'Error')}: {entry.get('Message')}")
        outcome.versions += len(batch) - len(refused)
        outcome.versions_left += len(refused)
