"""Package one stage for CloudFormation: `chalice package` merged with infra/template.yaml, pinned to the stage.

`python -m infra.package --stage prod --out build/package/prod` (what `make package STAGE=prod` runs)
writes `sam.json` and Chalice's `deployment.zip` into `--out`. It makes no AWS call: fake credentials
are set for Chalice, which only reads a region. `infra/deploy.sh` uploads and deploys the result.

On top of `chalice package --merge-template infra/template.yaml` it
- packages a copy of the project (the tree's `.chalice/deployments` cache is left alone), with the
  stage's queue names in the environment, so what Chalice reads at import time is the stage's too;
- lets the template's intrinsic functions replace Chalice's values (`Fn::GetAtt` of the queues for
  the SQS event sources; Chalice's merge would join the two objects);
- pins the template's `Stage` parameter to the packaged stage (Default and AllowedValues): a prod
  package cannot be deployed as dev, nor the other way round;
- makes the layers' `Content` paths absolute (they are relative to infra/, the package is elsewhere);
- refuses a package that still names another stage's resources.
`--no-dependencies` packages with an empty requirements.txt (tests, `make lint-infra`): the template
does not depend on the vendored libraries, and nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
STAGES = ("dev", "prod")
PROJECT_FILES = ("app.py", "requirements.txt", "chalicelib", ".chalice/config.json", ".chalice/policy.json", "vendor")


class PackagingError(RuntimeError):
    """`chalice package` failed, or its template is not the stage's alone."""


def _copy_project(target: Path, with_dependencies: bool, project_root: Path = ROOT) -> None:
    for name in PROJECT_FILES:
        source = project_root / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    if not with_dependencies:
        (target / "requirements.txt").write_text("")


def _packaging_environment(stage: str) -> dict[str, str]:
    """No credentials or profile of the caller's reach Chalice; the stage's names are what it imports."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "SPOKE_"))}
    env.update(AWS_ACCESS_KEY_ID="packaging-only", AWS_SECRET_ACCESS_KEY="packaging-only",
               AWS_DEFAULT_REGION=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               SPOKE_STAGE=stage, SPOKE_COMPILE_QUEUE_NAME=f"spoke-{stage}-compile",
               SPOKE_EVENTS_QUEUE_NAME=f"spoke-{stage}-events")
    return env


def pin_stage(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """The Stage parameter accepts the packaged stage only (and defaults to it)."""
    parameter = template["Parameters"]["Stage"]
    parameter["Default"] = stage
    parameter["AllowedValues"] = [stage]
    return template


def absolute_layer_paths(template: dict[str, Any], infra_dir: Path = TEMPLATE.parent) -> dict[str, Any]:
    """A layer's Content is relative to infra/ in the source template; the package lives elsewhere."""
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Lambda::LayerVersion":
            content = resource["Properties"]["Content"]
            if isinstance(content, str) and not re.match(r"^[a-z0-9]+://", content):
                resource["Properties"]["Content"] = str((infra_dir / content).resolve())
    return template


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def apply_intrinsics(merge: Any, packaged: Any) -> Any:
    """Where infra/template.yaml gives an intrinsic function (`{"Fn::GetAtt": ...}`), it replaces Chalice's
    value whole. Chalice's merge joins two dicts key by key, so its `{"Fn::Sub": "...spoke-dev-compile"}`
    and the template's `{"Fn::GetAtt": [CompileQueue, Arn]}` would otherwise end up in one object."""
    if _is_intrinsic(merge):
        return merge
    if isinstance(merge, dict) and isinstance(packaged, dict):
        for key, value in merge.items():
            if key in packaged:
                packaged[key] = apply_intrinsics(value, packaged[key])
    return packaged


def foreign_stage_names(template: dict[str, Any], stage: str) -> list[str]:
    """Every text in the template that names another stage's resources (`spoke-<other>...`, `/spoke/<other>/`)."""
    others = [other for other in (*STAGES, "local") if other != stage]
    pattern = re.compile(r"(spoke-|/spoke/)(" + "|".join(others) + r")\b")
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and pattern.search(value):
            found.append(value)

    walk(template["Resources"])
    return found


def package(stage: str, out: Path, with_dependencies: bool = True, project_root: Path = ROOT) -> dict[str, Any]:
    """`chalice package` of the stage into `out` (sam.json, deployment.zip); the pinned template.
    `project_root`: another checkout to package with its own template (bench/package_sizes.py)."""
    template_file = project_root / "infra" / "template.yaml"
    if stage not in STAGES:
        raise PackagingError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory(prefix=f"spoke-package-{stage}-") as scratch:
        project = Path(scratch) / "project"
        _copy_project(project, with_dependencies, project_root)
        result = subprocess.run(
            [str(chalice), "--project-dir", str(project), "package", "--stage", stage,
             "--merge-template", str(template_file), str(out)],
            capture_output=True, text=True, env=_packaging_environment(stage), check=False)
    if result.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    import yaml  # a YAML merge template makes Chalice write sam.yaml; the package is JSON (no anchors)

    written = out / "sam.yaml"
    merged = apply_intrinsics(yaml.safe_load(template_file.read_text()), yaml.safe_load(written.read_text()))
    template = absolute_layer_paths(pin_stage(merged, stage), template_file.parent)
    written.unlink()
    path = out / "sam.json"
    foreign = foreign_stage_names(template, stage)
    if foreign:
        raise PackagingError(f"the {stage} package names another stage's resources: {foreign}")
    path.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--out", type=Path, required=True, help="directory for sam.json and deployment.zip")
    parser.add_argument("--no-dependencies", action="store_true",
                        help="package with an empty requirements.txt (template checks; nothing downloaded)")
    args = parser.parse_args()
    try:
        package(args.stage, args.out, with_dependencies=not args.no_dependencies)
    except PackagingError as error:
        raise SystemExit(str(error)) from None
    print(f"packaged {args.stage}: {args.out / 'sam.json'}")


if __name__ == "__main__":
    main()
