"""The pinned packages the cross-file cases come from: pure-Python wheels from PyPI (`pip download
--no-deps`) and TypeScript sources from npm (`npm pack`), downloaded into
benchmarks/data/crossfile/wheels (gitignored), verified by SHA-256 and unpacked. Each package gets three copies: `src/NAME` is the workspace `ghosttype serve` runs in (the
case's file holds the masked document while the case runs), `check/NAME` is where the checker runs
pyright or tsc (it writes completed variants there), and `pristine/NAME`, which the case rule reads,
so none sees another's files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.quality.fetch import sha256_of

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "crossfile"
WHEELS = DATA / "wheels"


@dataclass(frozen=True)
class Package:
    name: str  # the PyPI name
    version: str
    wheel: str
    sha256: str
    folders: tuple[str, ...]  # the folders inside the archive that cases come from
    registry: str = "pypi"  # "pypi" (a wheel) | "npm" (a tarball whose top folder is package/)
    # npm: the top-level entries kept when unpacking (the sources and their compiler settings; the
    # built copies in dist/ would hand the server the masked line)
    keep: tuple[str, ...] = ()

    @property
    def language(self) -> str:
        return "python" if self.registry == "pypi" else "typescript"


PACKAGES = (
    Package("attrs", "24.2.0", "attrs-24.2.0-py3-none-any.whl",
            "81921eb96de3191c8258c199618104dd27ac608d9366f5e35d011eae1867ede2", ("attr", "attrs")),
    Package("click", "8.1.7", "click-8.1.7-py3-none-any.whl",
            "ae74fb96c20a0277a1d615f1e4d73c8414f5a98db8b799a7931d1582f3390c28", ("click",)),
    Package("httpx", "0.27.2", "httpx-0.27.2-py3-none-any.whl",
            "7bb2708e112d8fdd7829cd4243970f0c223274051cb35ee80c03301ee29a3df0", ("httpx",)),
    Package("jinja2", "3.1.4", "jinja2-3.1.4-py3-none-any.whl",
            "bc5dd2abb727a5319567b7a813e6a2e7318c39f4f487cfe6c89c6f9c7d25197d", ("jinja2",)),
    Package("pygments", "2.18.0", "pygments-2.18.0-py3-none-any.whl",
            "b8e6aca0523f3ab76fee51799c488e38782ac06eafcf95e7ba832985c8e7b13a", ("pygments",)),
    Package("requests", "2.32.3", "requests-2.32.3-py3-none-any.whl",
            "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6", ("requests",)),
    Package("rich", "13.9.4", "rich-13.9.4-py3-none-any.whl",
            "6049d5e6ec054bf2779ab3358186963bac2ea89175919d699e378b99738c2a90", ("rich",)),
    Package("werkzeug", "3.1.3", "werkzeug-3.1.3-py3-none-any.whl",
            "54b78bf3716d19a65be4fceccc0d1d7b89e608834989dfae50ea87564639213e", ("werkzeug",)),
    Package("rxjs", "7.8.1", "rxjs-7.8.1.tgz",
            "c532167725ab7d085123209156c93cef22f2479cb9c8527060f1cd903aa9d149", ("src/internal",),
            registry="npm", keep=("src", "package.json", "tsconfig.json")),
)  # fmt: skip
BY_NAME = {package.name: package for package in PACKAGES}


def wheel(package: Package) -> Path:
    """The verified archive (a wheel, or an npm tarball), downloaded when missing."""
    path = WHEELS / package.wheel
    if not path.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        if package.registry == "npm":
            command = ["npm", "pack", "--silent", "--pack-destination", str(WHEELS),
                       f"{package.name}@{package.version}"]  # fmt: skip
        else:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                       ":all:", "--quiet", "--dest", str(WHEELS),
                       f"{package.name}=={package.version}"]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    if not path.exists():
        raise RuntimeError(f"{package.name} {package.version}: PyPI did not give {package.wheel}")
    actual = sha256_of(path)
    if actual != package.sha256:
        path.unlink()
        raise RuntimeError(f"{package.wheel}: SHA-256 {actual}, pinned {package.sha256}; removed")
    return path


def unpacked(package: Package, copy: str = "src") -> Path:
    """The wheel unpacked under data/crossfile/COPY/NAME (COPY: "src", "check" or "pristine"), once."""
    dest = DATA / copy / package.name
    marker = dest / ".ghosttype-bench-sha256"
    if marker.exists() and marker.read_text() == package.sha256:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if package.registry == "npm":
        with tarfile.open(wheel(package)) as archive:
            archive.extractall(dest, filter="data")
        top = dest / "package"
        for entry in package.keep:
            (top / entry).rename(dest / entry)
        shutil.rmtree(top)
    else:
        with zipfile.ZipFile(wheel(package)) as archive:
            archive.extractall(dest)
    marker.write_text(package.sha256)
    return dest


def original_text(package: Package, file: str) -> str:
    """A file's text as the archive holds it (the runner writes masked documents over the copy)."""
    if package.registry == "npm":
        with tarfile.open(wheel(package)) as archive:
            member = archive.extractfile(f"package/{file}")
            assert member is not None, file
            return member.read().decode("utf-8")
    with zipfile.ZipFile(wheel(package)) as archive:
        return archive.read(file).decode("utf-8")


def source_files(package: Package, root: Path) -> list[Path]:
    """The package's modules, relative to root, in a fixed order."""
    files: list[Path] = []
    for folder in package.folders:
        suffix = "*.py" if package.language == "python" else "*.ts"
        files += sorted(p.relative_to(root) for p in (root / folder).rglob(suffix))
    return files
