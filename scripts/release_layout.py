"""Writes one platform's zip into a provider release directory and rewrites
the version's SHA256SUMS, manifest and network-mirror indexes over every
zip of that version there. Called by release-provider.sh:

    release_layout.py OUT VERSION OS_ARCH BINARY
"""

import base64
import hashlib
import json
import os
import shutil
import sys
import zipfile

NAME = "terraform-provider-ssoplane"
MIRROR = os.path.join("mirror", "registry.terraform.io", "ssoplane", "ssoplane")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def h1(zip_path):
    """Terraform's h1: hash of a package: the files inside the zip, sorted."""
    lines = []
    with zipfile.ZipFile(zip_path) as z:
        for info in sorted(z.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            digest = hashlib.sha256(z.read(info)).hexdigest()
            lines.append(f"{digest}  {info.filename}\n")
    summary = hashlib.sha256("".join(lines).encode()).digest()
    return "h1:" + base64.b64encode(summary).decode()


def main(out, version, platform, binary):
    zip_name = f"{NAME}_{version}_{platform}.zip"
    zip_path = os.path.join(out, zip_name)
    info = zipfile.ZipInfo(f"{NAME}_v{version}", date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f, zipfile.ZipFile(zip_path, "w") as z:
        z.writestr(info, f.read())

    manifest = f"{NAME}_{version}_manifest.json"
    with open(os.path.join(out, manifest), "w") as f:
        json.dump({"version": 1, "metadata": {"protocol_versions": ["6.0"]}}, f, indent=2)
        f.write("\n")

    prefix = f"{NAME}_{version}_"
    zips = sorted(n for n in os.listdir(out) if n.startswith(prefix) and n.endswith(".zip"))
    with open(os.path.join(out, f"{NAME}_{version}_SHA256SUMS"), "w") as f:
        for n in sorted(zips + [manifest]):
            f.write(f"{sha256_file(os.path.join(out, n))}  {n}\n")

    mirror = os.path.join(out, MIRROR)
    os.makedirs(mirror, exist_ok=True)
    archives = {}
    for n in zips:
        shutil.copyfile(os.path.join(out, n), os.path.join(mirror, n))
        plat = n[len(prefix):-len(".zip")]
        path = os.path.join(out, n)
        archives[plat] = {"url": n, "hashes": [h1(path), "zh:" + sha256_file(path)]}
    with open(os.path.join(mirror, f"{version}.json"), "w") as f:
        json.dump({"archives": archives}, f, indent=2, sort_keys=True)
        f.write("\n")
    index_path = os.path.join(mirror, "index.json")
    versions = {}
    if os.path.exists(index_path):
        with open(index_path) as f:
            versions = json.load(f).get("versions", {})
    versions[version] = {}
    with open(index_path, "w") as f:
        json.dump({"versions": versions}, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"{zip_path} ({platform}); sums, manifest and mirror/ indexes in {out}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
