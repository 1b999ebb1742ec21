"""A folder that holds only what the AWS Lambda Python runtime adds to the standard library: boto3 and its
dependencies (linked from this environment). Used to import the deployment zip as Lambda would."""

from __future__ import annotations

import importlib.util
from pathlib import Path

LAMBDA_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def lambda_runtime_dir(parent: Path) -> Path:
    folder = parent / "lambda-runtime"
    folder.mkdir()
    for name in LAMBDA_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed here")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder
