"""What a raw file really is, from its first bytes, whatever its name says.

Schools rename files: an old ``.xls`` saved as ``.xlsx``, a CSV or a web page "exported to
Excel" as ``.xls``, a password-protected workbook, a WPS ``.et`` file, a zip of several files.
:func:`sniff` reads the magic bytes; :func:`read_as` decides how to read the file: as what it
is, with a note, when that is readable (a real .xls named .xlsx, a CSV named .xls), or one
:class:`~mentorlib.errors.InputError` in plain words (Chinese, then English) saying what to do.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputError
from ..labels import FILE_DIAGNOSTICS

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream an encrypted Office file (ECMA-376 agile/standard encryption) keeps its workbook in:
#: its name in the OLE directory, UTF-16LE.
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
WORKBOOK_EXT = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
TEXT_EXT = {".csv", ".txt", ".tsv"}
_HEAD = 1 << 16  # how much of a file is read to tell what it is
#: The first rows of a sheet or text file where its header row is looked for (title rows above).
MAX_HEADER_SCAN = 12


def sniff(path: Path) -> str:
    """The format of a file from its content.

    Returns
    -------
    str
        ``"xlsx"`` (an Office Open XML workbook), ``"ods"``, ``"zip"`` (another zip archive),
        ``"encrypted"`` (an OLE file holding an ``EncryptedPackage``: a password-protected
        workbook), ``"xls"`` (another OLE2 compound file: the old Excel format), ``"html"``,
        ``"text"``, ``"empty"`` or ``"binary"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xls"
    >>> _ = p.write_bytes("学籍号,姓名\\nG1,张三\\n".encode("gb18030"))
    >>> sniff(p)
    'text'
    """
    with open(path, "rb") as f:
        head = f.read(_HEAD)
    if not head.strip():
        return "empty"
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path)
    if head.startswith(OLE_MAGIC):
        return "encrypted" if _has_stream(path, ENCRYPTED_STREAM) else "xls"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()[:512].lower()
    if text.startswith((b"<!doctype", b"<html", b"<?xml")) or b"<html" in text:
        return "html"
    if b"\x00" in head:
        return "binary"
    return "text"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "mimetype" in names and b"spreadsheet" in z.read("mimetype"):
                return "ods"
    except (zipfile.BadZipFile, OSError, KeyError):
        return "binary"
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return "xlsx"
    return "zip"


def _has_stream(path: Path, name: bytes, chunk: int = 1 << 20) -> bool:
    """Whether an OLE file's bytes hold a directory entry of this (UTF-16LE) name."""
    with open(path, "rb") as f:
        tail = b""
        while block := f.read(chunk):
            if name in tail + block:
                return True
            tail = block[-len(name) :]
    return False


def read_as(path: Path, rel: str) -> tuple[str, str | None]:
    """How to read a file: ``("csv" | "workbook", note)``; the note says what was not as named.

    Raises
    ------
    InputError
        A password-protected workbook, a web page, a WPS ``.et`` file, a zip archive that is not
        a workbook, an empty file or unrecognised binary content: one line, Chinese then English,
        saying what to do.
    """
    ext = path.suffix.lower()
    kind = sniff(path)
    if ext == ".et":
        raise _err("wps_et", rel)
    if kind in ("encrypted", "html", "zip", "empty"):
        raise _err(kind, rel)
    if ext in TEXT_EXT:
        if kind in ("xlsx", "ods", "xls"):
            return "workbook", _note("workbook_named_csv", kind, ext)
        return "csv", None  # binary content is refused by the CSV reader, naming the file
    if ext in WORKBOOK_EXT:
        if kind == "text" and _delimited(path):
            return "csv", _note("text_named_workbook", kind, ext)
        if kind in ("binary", "text"):
            raise _err("not_workbook", rel)
        if kind == "xls" and ext in (".xlsx", ".xlsm"):
            return "workbook", _note("xls_named_xlsx", kind, ext)
        if kind == "xlsx" and ext == ".xls":
            return "workbook", _note("xlsx_named_xls", kind, ext)
        return "workbook", None
    raise InputError(f"unsupported file type {ext!r} (expected .xlsx, .xls or .csv)", file=rel)


def _delimited(path: Path) -> bool:
    """Whether a text file is split by commas or tabs (a CSV, not just text) in its first lines,
    where the header is looked for (a records system writes a title row above it)."""
    with open(path, "rb") as f:
        head = f.read(_HEAD)
    return any(b"," in ln or b"\t" in ln for ln in head.split(b"\n")[:MAX_HEADER_SCAN])


def _err(key: str, rel: str) -> InputError:
    zh, en = FILE_DIAGNOSTICS[key]
    return InputError(f"{zh} / {en}", file=rel)


def _note(key: str, kind: str, ext: str) -> str:
    zh, en = FILE_DIAGNOSTICS[key]
    return f"{zh} / {en}".format(kind=kind, ext=ext)
