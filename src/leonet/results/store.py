"""A run's output directory: Parquet tables, chunked by time, and a manifest.

Layout::

    RUN/
      manifest.json                 resolved scenario, version, seed, grid, chunks, status
      <table>/chunk-000000.parquet  one file per table per time chunk
      <table>.parquet               single-file tables (small, written at the end)

Every file is written atomically: to a temporary name in the same directory,
flushed and fsynced, then renamed over the final name, so a killed run leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ScenarioError

__all__ = ["RunDirectory", "write_bytes_atomic", "write_json_atomic", "write_table_atomic", "MANIFEST"]

MANIFEST = "manifest.json"
FORMAT = "leonet-run/1"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the ordinary mode (0666 less umask).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8"))


def write_table_atomic(path: Path, table: pa.Table) -> str:
    """Write a Parquet file atomically; return its sha256."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


class RunDirectory:
    """The output directory of one run and its manifest.

    Parameters
    ----------
    path : Path
    force : bool
        Allow writing into a non-empty directory that is not a leonet run.
    """

    def __init__(self, path: Path | str, *, force: bool = False):
        self.path = Path(path)
        if self.path.exists():
            if not self.path.is_dir():
                raise ScenarioError(f"{self.path}: output path exists and is not a directory; choose another --out")
            entries = [p for p in self.path.iterdir()]
            if entries and not (self.path / MANIFEST).exists() and not force:
                raise ScenarioError(
                    f"{self.path}: output directory is not empty and holds no leonet run "
                    f"({len(entries)} entries, e.g. {entries[0].name!r}); choose an empty or new directory, "
                    "or pass --force to write into it anyway"
                )
        self.path.mkdir(parents=True, exist_ok=True)
        # Temporary files of a write that was interrupted (a killed run).
        for stale in list(self.path.glob(".*.tmp")) + list(self.path.glob("*/.*.tmp")):
            stale.unlink(missing_ok=True)
        self.manifest: dict = {}

    def start(self, manifest: dict) -> None:
        """Write the initial manifest (status ``running``, no chunks)."""
        self.manifest = {
            "format": FORMAT,
            **manifest,
            "status": "running",
            "started_utc": dt.datetime.now(dt.timezone.utc).isoformat(),
            "chunks": [],
            "tables": {},
        }
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def write_chunk(self, index: int, step_range: tuple[int, int], tables: dict[str, pa.Table]) -> None:
        """Write one time chunk's tables, then record the chunk as complete."""
        files = {}
        for name, table in tables.items():
            folder = self.path / name
            folder.mkdir(exist_ok=True)
            rel = f"{name}/chunk-{index:06d}.parquet"
            digest = write_table_atomic(self.path / rel, table)
            files[name] = {"file": rel, "rows": table.num_rows, "sha256": digest}
        self.manifest["chunks"] = [c for c in self.manifest["chunks"] if c["index"] != index]
        self.manifest["chunks"].append({"index": index, "steps": list(step_range), "files": files})
        self.manifest["chunks"].sort(key=lambda c: c["index"])
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def verified_chunks(self) -> set[int]:
        """Indices of recorded chunks whose every file exists with its recorded checksum."""
        good = set()
        for chunk in self.manifest.get("chunks", []):
            ok = True
            for info in chunk["files"].values():
                path = self.path / info["file"]
                if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != info["sha256"]:
                    ok = False
                    break
            if ok:
                good.add(int(chunk["index"]))
        self.manifest["chunks"] = [c for c in self.manifest.get("chunks", []) if int(c["index"]) in good]
        return good

    def mark_running(self) -> None:
        """Set a resumed run's status back to ``running``."""
        self.manifest["status"] = "running"
        self.manifest.setdefault("tables", {})
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def write_table(self, name: str, table: pa.Table) -> None:
        """Write a single-file table (``<name>.parquet``)."""
        digest = write_table_atomic(self.path / f"{name}.parquet", table)
        self.manifest["tables"][name] = {"file": f"{name}.parquet", "rows": table.num_rows, "sha256": digest}
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def finish(self, summary: dict) -> None:
        self.manifest["status"] = "complete"
        self.manifest["finished_utc"] = dt.datetime.now(dt.timezone.utc).isoformat()
        self.manifest["summary"] = summary
        write_json_atomic(self.path / MANIFEST, self.manifest)
