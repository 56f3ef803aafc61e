"""Large bodies in the sandbox without moto's extra copies.

Two changes to moto's S3 models, installed by the sandbox server (:func:`install`):

- **Completing a multipart upload copies nothing.** moto's ``FakeMultipart.complete`` joins the
  parts in a ``bytearray``, copies that into ``bytes``, and the new key copies those into its temp
  file: completing a 1 GB upload took the server 2 GB of memory and about 40% of the upload's
  time. :func:`complete` checks the parts as moto does (same ETag, same checksum), and the new
  key reads its body from the parts' own files (:class:`PartsBody`: their temp files, or the
  body files of parts kept across a restart), which moto would have deleted with the parts.
- **A body too large for memory goes straight to its temp file.** A key's body is spooled: in
  memory up to ~5 MB, then moved to a temp file. moto wrote each 16 MB part into memory first and
  then copied it to the file; such a body is now written to the file at once.
"""

from __future__ import annotations

import bisect
import io
import itertools
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
from moto.s3.models import FakeKey, FakeMultipart, MultipartChecksumBuilder
from moto.settings import S3_UPLOAD_PART_MIN_SIZE
from moto.utilities.utils import md5_hash

_moto_value: property = FakeKey.value  # type: ignore[assignment]


class PartsBody(io.RawIOBase):
    """The body of a completed multipart upload: its parts' temp files, read one after another.

    It takes the files over from the parts (moto disposes of the parts once the upload is
    complete) and closes them when it is closed: at the next checkpoint, once the object has
    its body file, which it reads from then on (see ``persistence``)."""

    def __init__(self, parts: list[FakeKey]) -> None:
        super().__init__()
        self._files: list[IO[bytes]] = []
        for part in parts:
            self._files.append(part._value_buffer)
            part._value_buffer = tempfile.SpooledTemporaryFile()  # noqa: SIM115 (moto closes it)
        self._starts = list(itertools.accumulate((p.contentsize for p in parts), initial=0))
        self._position = 0
        self._lock = threading.Lock()  # the files' positions

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._starts[-1]}
        self._position = max(0, base[whence] + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        total = self._starts[-1]
        end = total if size is None or size < 0 else min(total, self._position + size)
        chunks = []
        while self._position < end:
            index = bisect.bisect_right(self._starts, self._position) - 1
            wanted = min(end, self._starts[index + 1]) - self._position
            with self._lock:
                self._files[index].seek(self._position - self._starts[index])
                data = self._files[index].read(wanted)
            if not data:
                break
            chunks.append(data)
            self._position += len(data)
        return b"".join(chunks)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        if not self.closed:
            for file in self._files:
                file.close()
        super().close()


class AssembledBody:
    """What :func:`complete` hands moto as the new key's value: a body to keep, not to copy."""

    def __init__(self, body: PartsBody, size: int) -> None:
        self.body = body
        self.size = size

    def __len__(self) -> int:
        return self.size


def complete(
    multipart: FakeMultipart, body: Iterator[tuple[int, str]]
) -> tuple[AssembledBody, str, Any]:
    """moto's ``FakeMultipart.complete``: the same checks, ETag and checksum, without a copy."""
    builder = MultipartChecksumBuilder(
        multipart.metadata.get("x-amz-checksum-algorithm"),
        multipart.metadata.get("x-amz-checksum-type"),
    )
    md5s = bytearray()
    parts: list[FakeKey] = []
    for number, etag in body:
        part = multipart.parts.get(number)
        part_etag = part.etag.replace('"', "") if part is not None else None
        if part is None or part_etag != etag.replace('"', ""):
            raise InvalidPart()
        if parts and parts[-1].contentsize < S3_UPLOAD_PART_MIN_SIZE:
            raise EntityTooSmall()
        md5s.extend(bytes.fromhex(part_etag))
        builder.addPart(part.value)
        parts.append(part)
    if not parts:
        raise MalformedXML()
    full_etag = md5_hash()
    full_etag.update(bytes(md5s))
    size = sum(part.contentsize for part in parts)
    etag = f"{full_etag.hexdigest()}-{len(parts)}"
    assembled = AssembledBody(PartsBody(parts), size)
    # The parts are the object's body now: the upload, which the new key keeps (moto answers
    # GETs of a part number from it), no longer holds them, so they are not saved with it.
    multipart.completed_part_sizes = [part.contentsize for part in parts]
    multipart.parts = {}
    multipart.partlist = []
    return assembled, etag, builder.build()


def _set_value(key: FakeKey, value: Any) -> None:
    if isinstance(value, AssembledBody):
        key._value_buffer.close()
        key._value_buffer = value.body  # type: ignore[assignment]
        key.contentsize = value.size
        return
    if len(value) > key._max_buffer_size:
        key._value_buffer.rollover()  # to its temp file now, not through memory
    assert _moto_value.fset is not None
    _moto_value.fset(key, value)


def install() -> None:
    """Make moto's S3 models work as described above (process-wide, idempotent)."""
    FakeMultipart.complete = complete  # type: ignore[method-assign,assignment]
    FakeKey.value = property(_moto_value.fget, _set_value)  # type: ignore[method-assign,assignment]
