"""What each Lambda function ships: its deployment package and its layers, zipped and unzipped.

Run from the repo root: `.venv/bin/python bench/package_sizes.py` (also part of `make bench`).

It packages the stage exactly as `make package` does (infra/package.py: `chalice package
--merge-template infra/template.yaml` on a copy of the project, so the tree's `.chalice/deployments`
cache is left alone), then reads the generated SAM template: for every function, the code it gets
(`CodeUri`, Chalice's one deployment.zip) and the layers it gets (`Layers` -> the template's `AWS::Lambda::LayerVersion`
resources, whose `Content` is `build/layers/*.zip`; a missing one is built with
`layers/<name>/build.py`). Fake AWS credentials are set and nothing calls AWS: only `pip download`
(Chalice's, and the layer builders') uses the network, to PyPI, and the Debian archive for the protoc
layer's Go plugins when they are not cached yet.

`--project-dir DIR` measures another checkout (for example `git archive` of an older commit), with
this checkout's layer builders. Figures are bytes as Lambda counts them: zipped = the ZIP file,
unzipped = the sum of its files (Lambda's 250 MB limit applies to a function plus its layers, unzipped).
"""
from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.package import package as package_stage  # noqa: E402  (the same packaging `make package` does)

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# What the functions must not carry: gRPC tooling (the compile function's layer has it) and chalice's
# CLI dependencies (chalice is a build tool; `chalice package` adds its runtime module itself).
UNWANTED = ("grpc", "grpc_tools", "click", "inquirer", "blessed", "readchar", "pip", "setuptools", "wheel",
            "yaml", "wcwidth", "jinxed", "editor", "runs", "xmod")
PROJECT_FILES = ("app.py", "requirements.txt", "chalicelib", ".chalice/config.json", "vendor")


def mb(size: int) -> str:
    return f"{size / 1e6:6.1f} MB"


def zip_sizes(path: Path) -> tuple[int, int]:
    with zipfile.ZipFile(path) as archive:
        return path.stat().st_size, sum(info.file_size for info in archive.infolist())


def top_level(path: Path) -> Counter[str]:
    """Unzipped bytes per top-level entry (a package, a module, or *.dist-info)."""
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            top = info.filename.split("/")[0]
            sizes["*.dist-info" if top.endswith(".dist-info") else top.removesuffix(".py")] += info.file_size
    return sizes


def layer_zip(content: str) -> Path:
    """The layer ZIP a LayerVersion's Content names (absolute in the package), built if it is missing."""
    path = Path(content)
    if not path.is_file():
        builder = importlib.import_module(f"layers.{path.stem}.build")
        print(f"(building {path.name} with layers/{path.stem}/build.py)", file=sys.stderr)
        builder.build_layer(path, ROOT / "build" / "layers" / "cache")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    project = args.project_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="spoke-sizes-") as scratch:
        out = Path(scratch) / "out"
        template = package_stage(args.stage, out, project_root=project)
        resources = template["Resources"]
        functions = {name: r["Properties"] for name, r in resources.items()
                     if r.get("Type") == "AWS::Serverless::Function"}
        packages = {uri: zip_sizes(out / uri) for uri in {p["CodeUri"] for p in functions.values()}}
        layers: dict[str, tuple[int, int]] = {}
        print(f"== What each Lambda function ships (chalice package --stage {args.stage} "
              f"--merge-template infra/template.yaml{'' if project == ROOT else f'; project {project}'})")
        print(f"  {'function':<16}{'package zip':>13}{'unzipped':>11}   {'layers':<29}{'zip':>8}{'unzipped':>11}"
              f"   {'total zip':>11}{'unzipped':>11}")
        for name, props in sorted(functions.items()):
            package = packages[props["CodeUri"]]
            refs = [layer["Ref"] for layer in props.get("Layers", []) if isinstance(layer, dict) and "Ref" in layer]
            for ref in refs:
                if ref not in layers:
                    layers[ref] = zip_sizes(layer_zip(resources[ref]["Properties"]["Content"]))
            layer_zip_total = sum(layers[ref][0] for ref in refs)
            layer_raw_total = sum(layers[ref][1] for ref in refs)
            unzipped = package[1] + layer_raw_total
            print(f"  {name:<16}{mb(package[0]):>13}{mb(package[1]):>11}   {', '.join(refs) or '-':<29}"
                  f"{mb(layer_zip_total):>8}{mb(layer_raw_total):>11}   {mb(package[0] + layer_zip_total):>11}"
                  f"{mb(unzipped):>11}  ({unzipped / LAMBDA_UNZIPPED_LIMIT:.0%} of 250 MiB)")
        for ref, (zipped, raw) in sorted(layers.items()):
            print(f"  layer {ref:<20} {mb(zipped)} zipped, {mb(raw)} unzipped")
        for uri in sorted(packages):
            sizes = top_level(out / uri)
            print(f"\n  {uri} (one package, shared by {sum(p['CodeUri'] == uri for p in functions.values())} "
                  f"functions: Chalice builds one): {len(sizes)} top-level entries; the largest, unzipped:")
            print("   " + ", ".join(f"{name} {size / 1e6:.1f}" for name, size in sizes.most_common(12)))
            present = [name for name in UNWANTED if name in sizes]
            print(f"  gRPC tooling or chalice CLI dependencies in it: {', '.join(present) if present else 'none'}")


if __name__ == "__main__":
    main()
