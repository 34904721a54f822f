"""Checking uploaded attachments by their content, not by the name or type the browser sent.

Allowed: images (PNG, JPEG, GIF, WebP), PDF, Office documents (DOCX/XLSX/PPTX and the old
DOC/XLS/PPT), and plain text/CSV. HTML, SVG, scripts and executables are refused even when
renamed to .png or .pdf, so a stored file can never run in a viewer's browser.
"""

import codecs
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

_OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
}
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-office", ".doc"),
]
# Markup that a browser would render: refused in "plain text" too.
_MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<iframe")


@dataclass(frozen=True)
class Detected:
    content_type: str
    extension: str


def detect(upload: UploadedFile) -> Detected | None:
    """The real type of the upload from its first bytes, or None when it is not allowed."""
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    for magic, content_type, extension in _MAGIC:
        if head.startswith(magic):
            return Detected(content_type, extension)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Detected("image/webp", ".webp")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return None
        finally:
            upload.seek(0)
        for prefix, (content_type, extension) in _OOXML.items():
            if any(name.startswith(prefix) for name in names):
                return Detected(content_type, extension)
        return None
    return _plain_text(head)


def _plain_text(head: bytes) -> Detected | None:
    if b"\0" in head:
        return None
    lowered = head.lstrip().lower()
    if any(marker in lowered for marker in _MARKUP):
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # Not final: the 2 KB sample may end inside a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return Detected("text/plain", ".txt")
    return None


def check_attachment(upload: UploadedFile) -> Detected:
    """Raise a translated ValidationError for a file that is too big or of a refused type."""
    limit = settings.ATTACHMENT_MAX_MB * 1024 * 1024
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is %(size)s; files may be at most %(limit)s.")
            % {"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_big",
        )
    detected = detect(upload)
    if detected is None:
        raise ValidationError(
            _(
                "%(name)s is not an allowed file type. Upload an image, a PDF, an Office document "
                "or plain text."
            )
            % {"name": upload.name},
            code="type",
        )
    return detected
