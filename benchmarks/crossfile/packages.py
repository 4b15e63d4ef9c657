"""The pinned packages the cross-file cases come from: pure-Python wheels from PyPI (`pip download
--no-deps`), TypeScript and JavaScript sources from npm (`npm pack`) and Go, C++ and Java sources
from Debian packages (`apt-get download`), downloaded into benchmarks/data/crossfile/wheels
(gitignored), verified by SHA-256 and unpacked. Each package gets three copies: `src/NAME` is the workspace `ghosttype serve` runs in (the
case's file holds the masked document while the case runs), `check/NAME` is where the checker runs
pyright or tsc (it writes completed variants there), and `pristine/NAME`, which the case rule reads,
so none sees another's files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.quality.fetch import sha256_of

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "crossfile"
WHEELS = DATA / "wheels"


@dataclass(frozen=True)
class Package:
    name: str  # the name the cases use (the registry's name, except for parts of one archive)
    version: str
    wheel: str  # the archive's file name
    sha256: str
    folders: tuple[str, ...]  # the folders inside the archive that cases come from
    # "pypi" (a wheel) | "npm" (a tarball whose top folder is package/) | "deb" (apt-get download)
    registry: str = "pypi"
    # npm: the top-level entries kept when unpacking (the sources and their compiler settings; the
    # built copies in dist/ would hand the server the masked line); none named: all of them.
    # deb: the paths of the package's files kept (with their path); a .zip among them is not kept
    # but its members under `folders` are unpacked (the JDK's src.zip)
    keep: tuple[str, ...] = ()
    language: str = "python"  # also the LSP language id the runner opens the files with
    suite: str = "crossfile"  # "crossfile" (cases.jsonl, cases-ts.jsonl) | "api" (cases-api.jsonl)
    registry_name: str = ""  # the package's name in its registry, when not `name`

    @property
    def fetch_name(self) -> str:
        return self.registry_name or self.name


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
            registry="npm", keep=("src", "package.json", "tsconfig.json"), language="typescript"),
    # The API-call lines (api_cases.py): other packages, in five languages
    Package("packaging", "24.2", "packaging-24.2-py3-none-any.whl",
            "09abb1bccd265c01f4a3aa3f7a7db064b36514d2cba19a2f694fe6150451a759", ("packaging",),
            suite="api"),
    Package("markdown-it-py", "3.0.0", "markdown_it_py-3.0.0-py3-none-any.whl",
            "355216845c60bd96232cd8d8c40e8f9765cc86f46880e43a8fd22dc1a1a8cab1", ("markdown_it",),
            suite="api"),
    Package("tomlkit", "0.13.2", "tomlkit-0.13.2-py3-none-any.whl",
            "7a974427f6e119197f670fbbbeae7bef749a6c14e793db934baefc1b5f03efde", ("tomlkit",),
            suite="api"),
    Package("immer", "10.1.1", "immer-10.1.1.tgz",
            "946cc79684ad1e080b09d4f2da14247b272aa667f3aaa100f35846148689f08f", ("src",),
            registry="npm", keep=("src", "package.json"), language="typescript", suite="api"),
    Package("mobx", "6.13.5", "mobx-6.13.5.tgz",
            "b85a7f765065c081724a7c49e91f59950151607b2f1c5a77c8ec4231f7129a1b", ("src",),
            registry="npm", keep=("src", "package.json"), language="typescript", suite="api"),
    Package("lodash-es", "4.17.21", "lodash-es-4.17.21.tgz",
            "777598ac703f02b403ef678cd11bce2150ad788f35c774ea7c9cc241a892cb7b", ("",),
            registry="npm", language="javascript", suite="api"),
    *(Package(name, version, f"{deb}_{version.replace(':', '%3a')}_all.deb", sha256,
              (f"usr/share/gocode/src/{path}",), registry="deb", keep=("usr/share/gocode/src",),
              language="go", suite="api", registry_name=deb)
      for name, deb, version, path, sha256 in (
        ("cobra", "golang-github-spf13-cobra-dev", "1.6.1-1", "github.com/spf13/cobra",
         "4f5d20855133319beef3c5b49d3c21a0406f270bf94fb4b6f4d406b691283cb2"),
        ("logrus", "golang-github-sirupsen-logrus-dev", "1.9.0-1", "github.com/sirupsen/logrus",
         "51fb87b05452e96be38b97c03d5f997f6ce3a144421f911338d6c4ea2e8aa118"),
        ("mux", "golang-github-gorilla-mux-dev", "1.8.0-1", "github.com/gorilla/mux",
         "0880a4019fe68496a0e0a749c2948c029e489f49edd448bed2fedaba33f848c2"),
        ("urfave-cli", "golang-github-urfave-cli-dev", "1.22.9-2", "github.com/urfave/cli",
         "ed1e942459d1f07bf74e1e4f64b9c37551b20d461e03014bbdf4dbfb0f83913d"),
        ("go-toml", "golang-github-pelletier-go-toml-dev", "1.9.4-1",
         "github.com/pelletier/go-toml",
         "7aa25a19f2c90b2d504ef958844f557f8c26924d0d983783aa43775d67ea3446"),
    )),
    *(Package(name, version, f"{deb}_{version.replace(':', '%3a')}_{arch}.deb", sha256,
              (f"usr/include/{folder}",), registry="deb", keep=("usr/include",),
              language="cpp", suite="api", registry_name=deb)
      for name, deb, version, arch, folder, sha256 in (
        ("nlohmann-json", "nlohmann-json3-dev", "3.11.2-2", "all", "nlohmann",
         "ec57940def6b6186c30be0e0ee81d1e58f86d11a54a145b28686a1e3e4aae801"),
        ("fmt", "libfmt-dev", "9.1.0+ds1-2", "amd64", "fmt",
         "c8fa00dd0269e6eda9fd06668df3d720de4b5a1f647dcd3c6e0ba63f0cbf2150"),
        ("spdlog", "libspdlog-dev", "1:1.10.0+ds-0.4", "amd64", "spdlog",
         "4e19d647fe9bc9ec6a1fae81be00a69b1796b41660e8a7a4cf567264b463dcfb"),
        ("cli11", "libcli11-dev", "2.1.2+ds-1", "all", "CLI",
         "f1f6ee9ec053e0e0bcec47345e241b6a8ee006321248b4329e9ce88d2b4b64a8"),
    )),
    # One package of the JDK's sources per project (its src.zip holds them all; a workspace of
    # the whole JDK would be 15,000 files)
    *(Package(f"jdk-{folder.rsplit('/', 1)[-1]}", "17.0.19+10-1~deb12u2",
              "openjdk-17-source_17.0.19+10-1~deb12u2_all.deb",
              "2591b37131025f872f057be99467b45f7fa2aed928c8d779208db9c3239e1190",
              (f"java.base/{folder}",), registry="deb",
              keep=("usr/lib/jvm/openjdk-17/lib/src.zip",), language="java", suite="api",
              registry_name="openjdk-17-source")
      for folder in ("java/util/regex", "java/util/zip", "java/util/stream", "java/text")),
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
        elif package.registry == "deb":
            # Debian keeps only the current versions of a release: a pin that left it fails here
            command = ["apt-get", "download", "-q", f"{package.fetch_name}={package.version}"]
        else:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                       ":all:", "--quiet", "--dest", str(WHEELS),
                       f"{package.name}=={package.version}"]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=WHEELS)
    if not path.exists():
        raise RuntimeError(
            f"{package.name} {package.version}: {package.registry} did not give {package.wheel}"
        )
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
        for entry in package.keep or [child.name for child in top.iterdir()]:
            (top / entry).rename(dest / entry)
        shutil.rmtree(top)
    elif package.registry == "deb":
        _unpack_deb(package, dest)
    else:
        with zipfile.ZipFile(wheel(package)) as archive:
            archive.extractall(dest)
    marker.write_text(package.sha256)
    return dest


def _unpack_deb(package: Package, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(wheel(package)), tmp], check=True)
        for entry in package.keep:
            if entry.endswith(".zip"):
                with zipfile.ZipFile(Path(tmp) / entry) as archive:
                    prefixes = tuple(folder.rstrip("/") + "/" for folder in package.folders)
                    archive.extractall(
                        dest, [m for m in archive.namelist() if m.startswith(prefixes)]
                    )
            else:
                (dest / entry).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(Path(tmp) / entry, dest / entry)


def original_text(package: Package, file: str) -> str:
    """A file's text as the archive holds it (the runner writes masked documents over the copy)."""
    if package.registry == "deb":  # the pristine copy: nobody writes there
        return (unpacked(package, "pristine") / file).read_text(encoding="utf-8")
    if package.registry == "npm":
        with tarfile.open(wheel(package)) as archive:
            member = archive.extractfile(f"package/{file}")
            assert member is not None, file
            return member.read().decode("utf-8")
    with zipfile.ZipFile(wheel(package)) as archive:
        return archive.read(file).decode("utf-8")


SUFFIXES = {
    "python": (".py",), "typescript": (".ts",), "javascript": (".js",), "go": (".go",),
    "java": (".java",), "cpp": (".h", ".hpp"),
}  # fmt: skip


def source_files(package: Package, root: Path) -> list[Path]:
    """The package's modules, relative to root, in a fixed order (not Go's tests, not
    TypeScript's declaration files)."""
    files: list[Path] = []
    for folder in package.folders:
        files += sorted(
            p.relative_to(root)
            for p in (root / folder).rglob("*")
            if p.suffix in SUFFIXES[package.language]
            and not p.name.endswith(("_test.go", ".d.ts"))
            and p.is_file()
        )
    return files
