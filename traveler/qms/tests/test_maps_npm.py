"""The 3D viewer's JavaScript package as ./dev installs it: from a checked tarball (cache or registry),
only the listed files, skipped when installed, refused when the integrity does not match. No network:
the tarballs are built here and the "registry" is a local folder."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def dev():
    loader = SourceFileLoader("traveler_dev_script_npm", str(ROOT / "dev"))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def _tarball(path: Path, files: dict[str, bytes]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


FILES = {"LICENSE": b"MIT License", "package.json": b'{"name": "viewer"}', "build/viewer.js": b"export const a = 1;",
         "src/unused.js": b"not extracted"}


def _spec(integrity: str, target: str = "static/viewer") -> dict:
    return {"version": "1.2.3", "integrity": integrity, "target": target,
            "files": ["LICENSE", "package.json", "build/viewer.js"]}


def test_the_pinned_manifest_lists_three_with_a_sha512_and_its_licence():
    spec = json.loads((ROOT / "requirements" / "npm.json").read_text())["packages"]["three"]
    assert spec["integrity"].startswith("sha512-") and spec["version"].count(".") == 2
    assert "LICENSE" in spec["files"] and spec["target"].startswith("traveler/qms/static/")


def test_a_cached_tarball_is_checked_and_only_the_listed_files_are_extracted(dev, tmp_path):
    cache = tmp_path / "cache"
    integrity = _tarball(cache / "viewer-1.2.3.tgz", FILES)
    assert dev.npm_install("viewer", _spec(integrity), root=tmp_path, cache=cache, registry="file:///nowhere")
    target = tmp_path / "static" / "viewer"
    assert (target / "build" / "viewer.js").read_bytes() == FILES["build/viewer.js"]
    assert (target / "LICENSE").read_bytes() == b"MIT License"
    assert not (target / "src").exists()
    # Installed at that version: nothing to do, even with the tarball gone.
    (cache / "viewer-1.2.3.tgz").unlink()
    assert dev.npm_install("viewer", _spec(integrity), root=tmp_path, cache=cache) is False


def test_a_tarball_that_does_not_match_the_pinned_integrity_is_refused(dev, tmp_path):
    cache = tmp_path / "cache"
    good = _tarball(tmp_path / "good" / "viewer-1.2.3.tgz", FILES)
    _tarball(cache / "viewer-1.2.3.tgz", {**FILES, "build/viewer.js": b"export const a = 'tampered';"})
    with pytest.raises(dev.NpmError, match="does not match the pinned integrity"):
        dev.npm_install("viewer", _spec(good), root=tmp_path, cache=cache, registry="file:///nowhere")
    assert not (tmp_path / "static").exists() or not any((tmp_path / "static").iterdir())


def test_a_new_version_replaces_the_installed_files(dev, tmp_path):
    cache = tmp_path / "cache"
    first = _tarball(cache / "viewer-1.2.3.tgz", FILES)
    dev.npm_install("viewer", _spec(first), root=tmp_path, cache=cache)
    second = _tarball(cache / "viewer-1.2.4.tgz", {**FILES, "build/viewer.js": b"export const a = 2;"})
    assert dev.npm_install("viewer", {**_spec(second), "version": "1.2.4"}, root=tmp_path, cache=cache)
    assert (tmp_path / "static" / "viewer" / "build" / "viewer.js").read_bytes() == b"export const a = 2;"
    assert "viewer@1.2.4" in (tmp_path / "static" / "viewer" / ".npm-installed").read_text()


def test_a_missing_tarball_is_fetched_from_the_registry_into_the_cache(dev, tmp_path):
    registry = tmp_path / "registry"
    integrity = _tarball(registry / "viewer" / "-" / "viewer-1.2.3.tgz", FILES)
    cache = tmp_path / "cache"
    assert dev.npm_install("viewer", _spec(integrity), root=tmp_path, cache=cache, registry=registry.as_uri())
    assert (cache / "viewer-1.2.3.tgz").exists()


def test_a_failed_download_says_where_to_put_the_tarball(dev, tmp_path):
    with pytest.raises(dev.NpmError, match=r"download of .* failed.*put viewer-1\.2\.3\.tgz in"):
        dev.npm_install("viewer", _spec("sha512-AAAA"), root=tmp_path, cache=tmp_path / "cache",
                        registry=(tmp_path / "no-registry").as_uri())
    assert not (tmp_path / "cache" / "viewer-1.2.3.tgz").exists()


def test_a_listed_file_missing_from_the_tarball_installs_nothing(dev, tmp_path):
    cache = tmp_path / "cache"
    integrity = _tarball(cache / "viewer-1.2.3.tgz", FILES)
    spec = {**_spec(integrity), "files": ["LICENSE", "build/absent.js"]}
    with pytest.raises(dev.NpmError, match="has no file build/absent.js"):
        dev.npm_install("viewer", spec, root=tmp_path, cache=cache)
    assert not (tmp_path / "static" / "viewer").exists()
