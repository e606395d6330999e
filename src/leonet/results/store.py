"""A run's output directory: Parquet tables, chunked by time, and a manifest.

Layout::

    RUN/
      manifest.json                 resolved scenario, version, seed, grid, inputs, chunks, status
      <table>/chunk-000000.parquet  one file per table per time chunk
      <table>.parquet               single-file tables (time-independent)
      report.html                   the offline report (leonet.report)
      .leonet.lock                  the writer's lock (leonet.results.lock)

The manifest is the truth: a file exists for leonet (queries, the report,
resume) only once the manifest lists it, with its row count, size and sha256.
Every file is written atomically (`leonet.results.files`), and the manifest
is rewritten after each file, so a run killed at any instant leaves a
directory that resumes to the same tables.

The life of a run directory
---------------------------
* `RunDirectory.create` starts a new run: it takes the lock, refuses to
  replace a run that is already there (complete or not) or a folder of other
  files unless ``force``, writes the new manifest (status ``running``) and
  only then removes the previous run's tables, each table folder as a whole.
* `RunDirectory.resume` continues one: it takes the lock and keeps the
  chunks whose files still match their checksums.
* `RunDirectory.finish` marks it ``complete`` after removing every chunk file
  the manifest does not list, so ``pandas.read_parquet("RUN/<table>")`` reads
  exactly the run's rows; `RunDirectory.stop` marks it ``interrupted`` or
  ``failed``.  A run killed outright stays ``running`` with its lock free,
  which `run_status` reports as ``interrupted``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq

from .._version import __version__
from ..errors import RunDirectoryError
from .files import LEONET_MARKER, fsync_dir, write_bytes_atomic, write_json_atomic
from .lock import LOCK_NAME, RunLock, is_locked

__all__ = [
    "RunDirectory",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_table_atomic",
    "read_manifest",
    "listed_files",
    "run_status",
    "MANIFEST",
    "FORMAT",
]

MANIFEST = "manifest.json"
FORMAT = "leonet-run/1"

#: Table names are DuckDB view names and folder names: a restricted alphabet.
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CHUNK_FILE = re.compile(r"^chunk-\d{6,}\.parquet$")
#: Where a replaced run's files go before they are deleted (removed on the next open if a kill interrupts it).
_OLD_PREFIX = ".leonet-old-"


def write_table_atomic(path: Path | str, table: pa.Table) -> str:
    """Write a Parquet file (zstd, marked as leonet's) atomically; return its sha256."""
    metadata = dict(table.schema.metadata or {})
    metadata[LEONET_MARKER.encode()] = __version__.encode()
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(metadata), sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------
# Reading a manifest
# ----------------------------------------------------------------------


def read_manifest(run_dir: Path | str) -> dict:
    """The run's manifest; `RunDirectoryError` when ``run_dir`` is not a leonet run or the manifest is damaged."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.is_file():
        raise RunDirectoryError(f"{run_dir}: not a leonet run (no {MANIFEST}); give the directory a `leonet run` wrote")
    try:
        with open(path, "rb") as f:
            data = f.read(256 * 1024 * 1024 + 1)
        if len(data) > 256 * 1024 * 1024:
            raise ValueError("larger than 256 MB")
        manifest = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise RunDirectoryError(f"{path}: manifest is corrupt ({str(exc)[:200]}); re-run or resume the run") from None
    if not isinstance(manifest, dict):
        raise RunDirectoryError(
            f"{path}: manifest is corrupt (a JSON {type(manifest).__name__}, not an object); re-run or resume the run"
        )
    if not isinstance(manifest.get("chunks", []), list) or not isinstance(manifest.get("tables", {}), dict):
        raise RunDirectoryError(
            f"{path}: manifest is corrupt (\"chunks\" is not a list or \"tables\" not an object); re-run or resume the run"
        )
    return manifest


def run_status(run_dir: Path | str, manifest: dict | None = None) -> str:
    """The run's status: ``complete``, ``running`` (its writer is alive), ``interrupted`` or ``failed``.

    A manifest that says ``running`` while nobody holds the run's lock was
    left by a run that was killed: ``interrupted``.
    """
    manifest = read_manifest(run_dir) if manifest is None else manifest
    status = manifest.get("status")
    status = status if isinstance(status, str) else "unknown"
    if status == "running" and not is_locked(run_dir):
        return "interrupted"
    return status


def _inside(run_dir: Path, rel: object, where: str) -> Path:
    """``run_dir / rel`` for a relative path the manifest gives, refusing anything that leaves the run."""
    bad = None
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel:
        bad = "not a relative file name"
    else:
        pure = PurePosixPath(rel)
        if pure.is_absolute():
            bad = "an absolute path"
        elif any(part in ("..", "") for part in rel.split("/")) or rel.startswith("./"):
            bad = "a path with '..' or empty parts"
    if bad is None:
        path = run_dir / rel
        try:
            if path.is_symlink() or any((run_dir / p).is_symlink() for p in PurePosixPath(rel).parents if str(p) != "."):
                bad = "a symbolic link"
        except OSError:
            bad = "not readable"
    if bad is not None:
        raise RunDirectoryError(
            f"{run_dir / MANIFEST}: {where} names {str(rel)[:100]!r}, {bad}; a run's files are inside its directory. "
            "The manifest was changed by hand or is not leonet's: re-run the scenario"
        )
    return run_dir / rel


def _entries(manifest: dict) -> list[tuple[str, dict]]:
    """(table name, file record) of every file the manifest lists, chunks first."""
    out = []
    try:
        for chunk in manifest.get("chunks", []):
            for name, info in chunk["files"].items():
                out.append((name, info))
        for name, info in manifest.get("tables", {}).items():
            out.append((name, info))
    except (AttributeError, KeyError, TypeError) as exc:
        raise RunDirectoryError(
            f"manifest is corrupt (its list of chunks and tables does not read: {type(exc).__name__}: {exc}); "
            "re-run or resume the run"
        ) from None
    for name, info in out:
        if not isinstance(name, str) or not _TABLE_NAME.match(name) or not isinstance(info, dict):
            raise RunDirectoryError(
                f"manifest is corrupt (table name {str(name)[:60]!r} or its record is not one leonet writes); re-run the scenario"
            )
    return out


def listed_files(run_dir: Path | str, manifest: dict | None = None, *, verify: bool = True) -> dict[str, list[Path]]:
    """Table name -> the Parquet files the manifest lists, each checked against its record.

    Every path must lie inside ``run_dir`` (no absolute paths, ``..`` or
    symbolic links).  With ``verify``, a file whose size and modification time
    are those the run recorded is trusted as written; any other is hashed and
    must have the recorded sha256 (so a run directory copied elsewhere is
    still accepted, after one hashing per reader, and a file replaced by
    another run's is not).

    Raises
    ------
    RunDirectoryError
        A path leaves the run, or a file is missing, damaged or foreign.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir) if manifest is None else manifest
    try:
        entries = _entries(manifest)
    except RunDirectoryError as exc:
        raise RunDirectoryError(f"{run_dir / MANIFEST}: {exc}") from None
    files: dict[str, list[Path]] = {}
    for name, info in entries:
        if not isinstance(info.get("file"), str):
            raise RunDirectoryError(
                f"{run_dir / MANIFEST}: manifest is corrupt (table {name!r} names no file); re-run or resume the run"
            )
        path = _inside(run_dir, info.get("file"), f"table {name!r}")
        if verify:
            _verify(run_dir, path, info)
        files.setdefault(name, []).append(path)
    return files


def _verify(run_dir: Path, path: Path, info: dict) -> None:
    fix = f"resume the run to recompute it (leonet.resume({str(run_dir)!r})) or re-run the scenario"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise RunDirectoryError(f"{path}: the manifest lists this file but it is missing; {fix}") from None
    except OSError as exc:
        raise RunDirectoryError(f"{path}: cannot read it ({exc.strerror or exc}); {fix}") from None
    if st.st_size == info.get("bytes") and st.st_mtime_ns == info.get("mtime_ns"):
        return
    try:
        digest = _sha256(path)
    except OSError as exc:
        raise RunDirectoryError(f"{path}: cannot read it ({exc.strerror or exc}); {fix}") from None
    if digest != info.get("sha256"):
        raise RunDirectoryError(
            f"{path}: its contents are not what this run wrote (sha256 {digest[:12]}..., the manifest records "
            f"{str(info.get('sha256'))[:12]}...): it was changed, damaged or replaced by another file; {fix}"
        )


# ----------------------------------------------------------------------
# Writing a run
# ----------------------------------------------------------------------


class RunDirectory:
    """The output directory of one run, its lock and its manifest.

    Open it with `create` (a new run) or `resume`; use it as a context
    manager (or call `close`) so that the lock is released.
    """

    def __init__(self, path: Path | str, lock: RunLock):
        self.path = Path(path)
        self.lock = lock
        self.manifest: dict = {}

    # -- opening ---------------------------------------------------------

    @staticmethod
    def _lock(path: Path) -> RunLock:
        if path.is_symlink() and not path.is_dir():
            raise RunDirectoryError(f"{path}: is a symbolic link to no directory; choose another output directory")
        if path.exists() and not path.is_dir():
            raise RunDirectoryError(f"{path}: exists and is not a directory; choose another output directory")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirectoryError(f"{path}: cannot create the output directory ({exc.strerror or exc}); choose another") from None
        lock = RunLock(path).acquire()
        # Leftovers of a write or a replacement that a kill interrupted.
        try:
            for stale in list(path.glob(".*.tmp")) + list(path.glob("*/.*.tmp")):
                stale.unlink(missing_ok=True)
            for old in path.glob(_OLD_PREFIX + "*"):
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
        return lock

    @classmethod
    def create(cls, path: Path | str, header: dict, *, force: bool = False) -> "RunDirectory":
        """Start a new run in ``path`` (created if missing) with manifest ``header``.

        Parameters
        ----------
        path : path
        header : dict
            What the manifest records of the run (scenario, grid, inputs...).
        force : bool
            Replace a run that is already there (complete or not), or write
            into a folder that holds other files (those are left alone).

        Raises
        ------
        RunDirectoryError
            Another run is writing there; or, without ``force``, the directory
            holds a run or other files.
        """
        path = Path(path)
        lock = cls._lock(path)
        try:
            old = cls._refuse_to_replace(path, force)
            run = cls(path, lock)
            run.manifest = {
                "format": FORMAT,
                **header,
                "status": "running",
                "started_utc": dt.datetime.now(dt.timezone.utc).isoformat(),
                "chunks": [],
                "tables": {},
            }
            # The new manifest replaces the old one first (atomically): from
            # here on the previous run's files are listed nowhere, whatever
            # instant a kill comes at.  Then they go, table folders whole.
            write_json_atomic(path / MANIFEST, run.manifest)
            run._remove_previous(old)
        except BaseException:
            lock.release()
            raise
        return run

    @staticmethod
    def _refuse_to_replace(path: Path, force: bool) -> dict:
        """The manifest of the run in ``path`` ({} if none), after refusing what needs ``force``."""
        ours = {LOCK_NAME}
        entries = [p for p in path.iterdir() if p.name not in ours and not p.name.startswith(_OLD_PREFIX)]
        if not entries:
            return {}
        if not (path / MANIFEST).exists():
            if force:
                return {}
            raise RunDirectoryError(
                f"{path}: the output directory is not empty and holds no leonet run ({len(entries)} entries, e.g. "
                f"{entries[0].name!r}); choose an empty or new directory, or pass force=True to write into it anyway "
                "(its other files are left alone)"
            )
        try:
            old = read_manifest(path)
            status = run_status(path, old)
        except RunDirectoryError:
            if force:
                return {}
            raise RunDirectoryError(
                f"{path}: holds a leonet run whose manifest cannot be read; pass force=True to replace it, or choose another "
                "output directory"
            ) from None
        if force:
            return old
        scenario = (old.get("scenario") or {}).get("scenario", {}).get("name", "?") if isinstance(old.get("scenario"), dict) else "?"
        if status == "complete":
            raise RunDirectoryError(
                f"{path}: already holds a complete run of scenario {scenario!r} (finished {old.get('finished_utc', '?')}); "
                "leonet does not replace it. Write to another directory (out=DIR), or pass force=True to replace it"
            )
        raise RunDirectoryError(
            f"{path}: holds an unfinished run of scenario {scenario!r} (status {status}, "
            f"{len(old.get('chunks', []))} chunks done); continue it with leonet.resume({str(path)!r}), "
            "write to another directory (out=DIR), or pass force=True to start it over"
        )

    def _remove_previous(self, old: dict) -> None:
        """Delete the previous run's tables and report (each table folder as a whole)."""
        names: set[str] = set()
        try:
            for name, info in _entries(old):
                names.add(name)
        except RunDirectoryError:
            pass
        victims = []
        for name in names:
            victims += [self.path / name, self.path / f"{name}.parquet"]
        # Table folders of a run whose manifest was lost: only leonet's chunk files in them.
        for entry in self.path.iterdir():
            if entry.is_dir() and not entry.is_symlink() and _TABLE_NAME.match(entry.name):
                try:
                    inner = [p.name for p in entry.iterdir()]
                except OSError:
                    continue
                if inner and all(_CHUNK_FILE.match(n) or n.endswith(".tmp") for n in inner):
                    victims.append(entry)
        victims.append(self.path / "report.html")
        trash = self.path / f"{_OLD_PREFIX}{os.getpid()}"
        moved = False
        for victim in dict.fromkeys(victims):
            if victim.exists() or victim.is_symlink():
                trash.mkdir(exist_ok=True)
                os.replace(victim, trash / victim.name)
                moved = True
        if moved:
            fsync_dir(self.path)
            shutil.rmtree(trash, ignore_errors=True)

    @classmethod
    def resume(cls, path: Path | str) -> "RunDirectory":
        """Open an existing run to continue it: lock it and keep only chunks whose files verify.

        Raises
        ------
        RunDirectoryError
            Not a run, the manifest is damaged, or another run is writing there.
        """
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise RunDirectoryError(f"{path}: not a leonet run (no {MANIFEST}); give the directory a `leonet run` wrote")
        lock = cls._lock(path)
        try:
            run = cls(path, lock)
            run.manifest = read_manifest(path)
            run._keep_verified()
        except BaseException:
            lock.release()
            raise
        return run

    def _keep_verified(self) -> None:
        """Drop chunk and table records whose files are missing or do not match their checksum."""
        def good(info: dict) -> bool:
            try:
                path = _inside(self.path, info.get("file"), "a file")
                _verify(self.path, path, info)
            except RunDirectoryError:
                return False
            return True

        chunks = self.manifest.get("chunks", [])
        try:
            self.manifest["chunks"] = [c for c in chunks if all(good(i) for i in c["files"].values())]
            self.manifest["tables"] = {k: v for k, v in self.manifest.get("tables", {}).items() if good(v)}
        except (AttributeError, KeyError, TypeError):
            raise RunDirectoryError(f"{self.path / MANIFEST}: manifest is corrupt; start the run again (force=True)") from None

    # -- writing ---------------------------------------------------------

    def _record(self, rel: str, table: pa.Table) -> dict:
        digest = write_table_atomic(self.path / rel, table)
        st = os.stat(self.path / rel)
        return {"file": rel, "rows": table.num_rows, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}

    def set_status(self, status: str, **fields) -> None:
        """Record ``status`` (and extra fields) in the manifest."""
        self.manifest["status"] = status
        self.manifest.update(fields)
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def write_chunk(self, index: int, step_range: tuple[int, int], tables: dict[str, pa.Table]) -> None:
        """Write one time chunk's tables, then record the chunk as complete."""
        files = {}
        for name, table in tables.items():
            (self.path / name).mkdir(exist_ok=True)
            files[name] = self._record(f"{name}/chunk-{index:06d}.parquet", table)
        self.manifest["chunks"] = [c for c in self.manifest["chunks"] if c["index"] != index]
        self.manifest["chunks"].append({"index": index, "steps": list(step_range), "files": files})
        self.manifest["chunks"].sort(key=lambda c: c["index"])
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def has_table(self, name: str) -> bool:
        """Whether the single-file table ``name`` is recorded (and, after `resume`, verified)."""
        return name in self.manifest.get("tables", {})

    def write_table(self, name: str, table: pa.Table) -> None:
        """Write a single-file table (``<name>.parquet``)."""
        self.manifest["tables"][name] = self._record(f"{name}.parquet", table)
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def _prune(self) -> None:
        """Remove chunk files the manifest does not list, in the folders of the tables it lists."""
        listed = {info["file"] for _, info in _entries(self.manifest)}
        for folder in {f.split("/", 1)[0] for f in listed if "/" in f}:
            for p in (self.path / folder).iterdir():
                if (_CHUNK_FILE.match(p.name) or p.name.endswith(".tmp")) and f"{folder}/{p.name}" not in listed:
                    p.unlink(missing_ok=True)

    def finish(self, summary: dict) -> None:
        """Mark the run complete (after pruning stray chunk files) and record its summary."""
        self._prune()
        self.set_status("complete", finished_utc=dt.datetime.now(dt.timezone.utc).isoformat(), summary=summary)

    def stop(self, status: str, message: str | None = None) -> None:
        """Mark the run ``interrupted`` or ``failed`` (best effort: never raises)."""
        try:
            extra = {"stopped_utc": dt.datetime.now(dt.timezone.utc).isoformat()}
            if message:
                extra["error"] = message[:2000]
            self.set_status(status, **extra)
        except Exception:  # noqa: BLE001 - the original error matters more
            pass

    def close(self) -> None:
        """Release the lock."""
        self.lock.release()

    def __enter__(self) -> "RunDirectory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
