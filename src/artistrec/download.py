"""Fetch the HetRec 2011 Last.fm-2k archive and unpack it only if its MD5 matches."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from artistrec import io
from artistrec.datasets.lastfm_2k import ARCHIVE_MEMBERS as MEMBERS
from artistrec.errors import InputError

log = logging.getLogger(__name__)


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack_checked(archive: Path, md5: str, folder: Path) -> None:
    """Unpack the archive's files into ``folder`` if the archive has the expected MD5."""
    actual = md5sum(archive)
    if actual != md5:
        raise InputError(
            str(archive),
            "md5",
            f"is {actual}, expected {md5} (corrupt or different file)",
            "download it again (re-run), or unpack a checked copy and set LASTFM_2K_DIR to its folder",
        )
    with zipfile.ZipFile(archive) as bundle:
        names = {Path(n).name: n for n in bundle.namelist()}
        missing = [member for member in MEMBERS if member not in names]
        if missing:  # checked before writing anything, so a bad archive leaves no partial folder
            raise InputError(str(archive), missing[0], "is not in the archive", "download the original archive")
        for member in MEMBERS:
            with (
                bundle.open(names[member]) as source,
                io.atomic_path(folder / member) as tmp,
                open(tmp, "wb") as target,
            ):
                shutil.copyfileobj(source, target)
    log.info("unpacked %s (md5 %s) into %s", archive.name, actual, folder)


def fetch_lastfm_2k(url: str, md5: str, folder: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "hetrec2011-lastfm-2k.zip"
        log.info("downloading %s", url)
        try:
            urllib.request.urlretrieve(url, archive)
        except OSError as err:  # URLError, timeouts, refused connections (e.g. an offline compute node)
            raise InputError(
                url,
                "download",
                f"failed ({err})",
                "check the network, or unpack the archive by hand and set LASTFM_2K_DIR",
            ) from None
        unpack_checked(archive, md5, Path(folder))
