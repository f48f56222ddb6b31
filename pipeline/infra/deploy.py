"""From an empty account to a running, governed pipeline, one idempotent step at a time::

    python -m pipeline.infra.deploy --stack-name quickloan --region eu-west-1 \\
        --code-bucket my-deploy-bucket-eu-west-1 --data cs-training.csv.gz --image-tag 0.1.0

Steps, in order (``--skip STEP`` leaves one out, ``--dry-run`` only says what each would do):

``code-bucket``  the bucket for the scan function's zip and the packaged nested template (created if absent:
                 SSE-S3, versioned, public access blocked); it must exist before the stack, which reads from it
``lambda-zip``   build the scan function's zip (:mod:`pipeline.infra.lambda_zip`, boto3 bundled), upload it
                 under a content-addressed key, so a changed zip updates the function
``package``      upload ``scan-schedule.yaml`` and write the main template with its S3 URL, as
                 ``aws cloudformation package`` does
``stack``        create the stack, or update it (no change is not an error), and wait for it
``settings``     write the pipeline settings (``sagemaker.yaml``) from the stack's outputs
``image``        log in to ECR (GetAuthorizationToken), build the step image for linux/amd64 (SageMaker's ml.*
                 instances), push it; skipped when the tag is already in the (immutable) repository
``data``         upload the training data under ``s3://BUCKET/PREFIX/data/`` with the stack's KMS key, unless
                 an object with the same sha256 is already there
``pipeline``     ``governance pipeline deploy``: upsert the pipeline and start it (``--rehearse`` runs
                 ``governance pipeline rehearse`` instead, to see it work before paying for it)

Every AWS call goes through boto3 (``--endpoint-url`` points them all elsewhere), the ECR login included; the
image step runs the ``docker`` commands it prints (the password goes to ``docker login`` on stdin).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from governance.errors import GovernanceError, Incomplete, InputError
from governance.storage import aws_error

INFRA = Path(__file__).resolve().parent
REPO = INFRA.parents[1]
MAIN_TEMPLATE = INFRA / "quickloan-governance.yaml"
SCAN_TEMPLATE = INFRA / "scan-schedule.yaml"
DOCKERFILE = REPO / "pipeline" / "sagemaker" / "Dockerfile"
# CloudFormation puts the stack's tags on every resource that takes tags (the keys carry none of their own).
STACK_TAGS = [{"Key": "project", "Value": "quickloan"}]
STEPS = ("code-bucket", "lambda-zip", "package", "stack", "settings", "image", "data", "pipeline")
# Stack outputs → pipeline settings keys (the template's Metadata.Settings says the same).
SETTINGS_FROM_OUTPUTS = {"role_arn": "PipelineRoleArn", "bucket": "ArtefactBucketName", "prefix": "ArtefactPrefix",
                         "kms_key_id": "ArtefactKeyArn", "signing_key_id": "SigningKeyArn",
                         "model_package_group": "ModelPackageGroupName", "pipeline_name": "PipelineName",
                         "object_lock_mode": "ObjectLockMode", "artefact_retention_days": "ArtefactRetentionDays"}


@dataclass
class Deployment:
    stack_name: str
    region: str
    code_bucket: str
    image_tag: str
    data: Path | None = None
    build_dir: Path = Path("build")
    settings_file: Path = Path("sagemaker.yaml")
    parameters: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    rehearse: bool = False
    pipeline_parameters: dict[str, str] = field(default_factory=dict)
    say: Callable[[str], None] = lambda message: print(message, file=sys.stderr)
    state: dict = field(default_factory=dict)

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=self.region)

    def call(self, what: str, action):
        try:
            return action()
        except (BotoCoreError, ClientError) as err:
            raise aws_error(err, what) from None

    # --- steps ----------------------------------------------------------------------------------------------------

    def code_bucket_step(self) -> None:
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=self.code_bucket)
            self.say(f"code-bucket: s3://{self.code_bucket} exists")
            return
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise aws_error(err, f"s3://{self.code_bucket}") from None
        if self.dry_run:
            self.say(f"code-bucket: would create s3://{self.code_bucket}")
            return
        options = {} if self.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": self.region}}
        self.call("CreateBucket", lambda: s3.create_bucket(Bucket=self.code_bucket, **options))
        self.call("PutPublicAccessBlock", lambda: s3.put_public_access_block(
            Bucket=self.code_bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True}))
        self.call("PutBucketEncryption", lambda: s3.put_bucket_encryption(
            Bucket=self.code_bucket, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}))
        self.call("PutBucketVersioning", lambda: s3.put_bucket_versioning(
            Bucket=self.code_bucket, VersioningConfiguration={"Status": "Enabled"}))
        self.say(f"code-bucket: created s3://{self.code_bucket}")

    def _upload_once(self, path: Path, key: str) -> str:
        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=self.code_bucket, Key=key)
            self.say(f"  s3://{self.code_bucket}/{key} already uploaded")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise aws_error(err, f"s3://{self.code_bucket}/{key}") from None
            if not self.dry_run:
                self.call(f"upload {key}", lambda: s3.upload_file(str(path), self.code_bucket, key))
            self.say(f"  {'would upload' if self.dry_run else 'uploaded'} s3://{self.code_bucket}/{key}")
        return key

    def lambda_zip_step(self) -> None:
        from pipeline.infra import lambda_zip

        zipped = self.build_dir / "governance-scan.zip"
        if not zipped.is_file() and not self.dry_run:
            self.say("lambda-zip: building (pip downloads the runtime's wheels)")
            lambda_zip.build(zipped)
        digest = _sha256(zipped)[:16] if zipped.is_file() else "unbuilt"
        self.state["code_key"] = self._upload_once(zipped, f"lambda/governance-scan-{digest}.zip")
        self.say(f"lambda-zip: ScanCodeS3Key={self.state['code_key']}")

    def package_step(self) -> None:
        digest = _sha256(SCAN_TEMPLATE)[:16]
        key = self._upload_once(SCAN_TEMPLATE, f"templates/scan-schedule-{digest}.yaml")
        url = f"https://{self.code_bucket}.s3.{self.region}.amazonaws.com/{key}"
        packaged = packaged_template(MAIN_TEMPLATE.read_text(encoding="utf-8"), url)
        out = self.build_dir / "quickloan-governance.packaged.yaml"
        if not self.dry_run:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(packaged, encoding="utf-8")
        self.state["template"] = out
        self.say(f"package: {out} (TemplateURL {url})")

    def stack_parameters(self) -> list[dict]:
        values = {"EnableScanSchedule": "true", "ScanCodeS3Bucket": self.code_bucket,
                  "ScanCodeS3Key": self.state.get("code_key", ""), **self.parameters}
        return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()]

    def stack_step(self) -> None:
        cfn = self.client("cloudformation")
        body = Path(self.state.get("template") or self.build_dir / "quickloan-governance.packaged.yaml")
        request = {"StackName": self.stack_name, "TemplateBody": body.read_text(encoding="utf-8") if body.is_file()
                   else "", "Parameters": self.stack_parameters(), "Capabilities": ["CAPABILITY_IAM"],
                   "Tags": STACK_TAGS}
        exists = self._stack_exists(cfn)
        if self.dry_run:
            self.say(f"stack: would {'update' if exists else 'create'} {self.stack_name}")
            return
        if exists:
            try:
                cfn.update_stack(**request)
            except ClientError as err:
                if "No updates are to be performed" in str(err):
                    self.say(f"stack: {self.stack_name} is up to date")
                    return
                raise aws_error(err, f"update stack {self.stack_name}") from None
            waiter = "stack_update_complete"
        else:
            self.call(f"create stack {self.stack_name}", lambda: cfn.create_stack(**request))
            waiter = "stack_create_complete"
        self.say(f"stack: waiting for {self.stack_name}")
        self.call(f"wait for {self.stack_name}", lambda: cfn.get_waiter(waiter).wait(StackName=self.stack_name))
        self.say(f"stack: {self.stack_name} ready")

    def _stack_exists(self, cfn) -> bool:
        try:
            stacks = cfn.describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError as err:
            if "does not exist" in str(err):
                return False
            raise aws_error(err, f"describe stack {self.stack_name}") from None
        return bool(stacks) and stacks[0]["StackStatus"] != "DELETE_COMPLETE"

    def outputs(self) -> dict[str, str]:
        if "outputs" not in self.state:
            cfn = self.client("cloudformation")
            stack = self.call(f"describe stack {self.stack_name}",
                              lambda: cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0])
            self.state["outputs"] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return self.state["outputs"]

    def image_uri(self) -> str:
        return f"{self.outputs()['ImageRepositoryUri']}:{self.image_tag}"

    def settings_step(self) -> None:
        import yaml

        out = self.outputs()
        missing = sorted(v for v in SETTINGS_FROM_OUTPUTS.values() if v not in out)
        if missing:
            raise Incomplete("STACK_OUTPUTS_MISSING", f"stack {self.stack_name} has no output(s) {', '.join(missing)}")
        settings = {"region": self.region, **{key: out[name] for key, name in SETTINGS_FROM_OUTPUTS.items()},
                    "image_uri": self.image_uri()}
        settings["artefact_retention_days"] = int(settings["artefact_retention_days"])
        text = yaml.safe_dump(settings, sort_keys=False)
        if not self.dry_run:
            from governance.storage import write_bytes_atomic

            write_bytes_atomic(self.settings_file, text.encode("utf-8"))
        self.say(f"settings: {self.settings_file}")

    def image_commands(self) -> list[list[str]]:
        """The registry login (its password from ECR GetAuthorizationToken, on stdin), the linux/amd64 build and
        the push: what the image step runs."""
        uri = self.image_uri()
        registry = uri.split("/", 1)[0]
        return [
            ["docker", "login", "--username", "AWS", "--password-stdin", registry],
            ["docker", "build", "--platform", "linux/amd64", "-f", str(DOCKERFILE.relative_to(REPO)), "-t", uri,
             "."],
            ["docker", "push", uri],
        ]

    def _registry_password(self, ecr) -> str:
        token = self.call("GetAuthorizationToken", lambda: ecr.get_authorization_token())["authorizationData"][0]
        user, _, password = base64.b64decode(token["authorizationToken"]).decode("utf-8").partition(":")
        if user != "AWS" or not password:
            raise Incomplete("ECR_TOKEN", "ECR returned an authorization token that is not AWS:<password>")
        return password

    def image_step(self) -> None:
        ecr = self.client("ecr")
        repository = self.image_uri().split("/", 1)[1].rsplit(":", 1)[0]
        try:
            found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": self.image_tag}])
            if found.get("imageDetails"):
                self.say(f"image: {self.image_uri()} already pushed (tags are immutable)")
                return
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ImageNotFoundException":
                raise aws_error(err, f"describe image {self.image_uri()}") from None
        password = None if self.dry_run else self._registry_password(ecr)
        for command in self.image_commands():
            self.say("image: " + " ".join(command))
            if self.dry_run:
                continue
            secret = password if "--password-stdin" in command else None
            done = subprocess.run(command, cwd=REPO, check=False, input=secret, text=True)
            if done.returncode != 0:
                raise Incomplete("IMAGE_FAILED", f"{' '.join(command[:2])} exited {done.returncode}")

    def data_step(self) -> None:
        if self.data is None:
            self.say("data: no --data given; upload later under s3://BUCKET/PREFIX/data/")
            return
        if not self.data.is_file():
            raise InputError("FILE_NOT_FOUND", f"{self.data}: no such data file")
        out = self.outputs()
        bucket, key = out["ArtefactBucketName"], f"{out['ArtefactPrefix']}/data/{self.data.name}"
        digest = _sha256(self.data)
        s3 = self.client("s3")
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
            if head.get("Metadata", {}).get("sha256") == digest:
                self.say(f"data: s3://{bucket}/{key} already holds this file")
                return
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise aws_error(err, f"s3://{bucket}/{key}") from None
        if not self.dry_run:
            self.call(f"upload s3://{bucket}/{key}", lambda: s3.upload_file(
                str(self.data), bucket, key, ExtraArgs={"ServerSideEncryption": "aws:kms",
                                                        "SSEKMSKeyId": out["ArtefactKeyArn"],
                                                        "Metadata": {"sha256": digest}}))
        self.say(f"data: {'would upload' if self.dry_run else 'uploaded'} s3://{bucket}/{key}")

    def pipeline_step(self) -> None:
        from pipeline.sagemaker.config import load_settings

        if self.dry_run:
            self.say(f"pipeline: would {'rehearse' if self.rehearse else 'deploy and start'} with "
                     f"{self.settings_file}")
            return
        settings = load_settings(self.settings_file).values
        if self.rehearse:
            from pipeline.sagemaker.definition import pipeline_definition
            from pipeline.sagemaker.rehearse import rehearse

            result = rehearse(pipeline_definition(settings), parameters=self.pipeline_parameters,
                              region=self.region, pipeline_name=settings.pipeline_name, on_event=self.say)
            self.state["rehearsal"] = result
            self.say(f"pipeline: rehearsal ended in {result.outcome}: {result.message}")
            if result.exit_code:
                raise Incomplete("REHEARSAL_FAILED", result.message)
            return
        from pipeline.sagemaker.deploy import deploy

        result = deploy(settings, start=True, parameters=self.pipeline_parameters)
        self.state["deployed"] = result
        self.say(f"pipeline: {result.pipeline_arn} started {result.execution_arn}")

    def run(self, skip: set[str] = frozenset()) -> None:
        for step in STEPS:
            if step in skip:
                self.say(f"{step}: skipped")
                continue
            getattr(self, step.replace("-", "_") + "_step")()


def packaged_template(text: str, url: str) -> str:
    """The main template with the nested template's local path replaced by its uploaded URL."""
    line = "      TemplateURL: scan-schedule.yaml"
    if text.count(line) != 1:
        raise InputError("BAD_TEMPLATE", "the main template must name scan-schedule.yaml once as its TemplateURL")
    return text.replace(line, f"      TemplateURL: {url}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pairs(items: list[str], what: str) -> dict[str, str]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError("BAD_PARAMETER", f"{what} {item!r}: expected NAME=VALUE")
        values[name] = value
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline.infra.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default="quickloan")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--code-bucket", required=True, help="bucket for the function's zip and nested template")
    parser.add_argument("--image-tag", required=True, help="tag to push the step image under (immutable)")
    parser.add_argument("--data", type=Path, help="training data to upload (CSV, plain or .gz)")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="stack parameter override, e.g. ObjectLockMode=COMPLIANCE (repeatable)")
    parser.add_argument("--pipeline-parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="pipeline parameter for the started execution (repeatable)")
    parser.add_argument("--settings-file", type=Path, default=Path("sagemaker.yaml"))
    parser.add_argument("--build-dir", type=Path, default=Path("build"))
    parser.add_argument("--endpoint-url", help="send every AWS call here (e.g. a local moto server)")
    parser.add_argument("--skip", action="append", default=[], choices=STEPS, help="leave a step out")
    parser.add_argument("--rehearse", action="store_true", help="rehearse the pipeline instead of starting it")
    parser.add_argument("--dry-run", action="store_true", help="say what each step would do, change nothing")
    args = parser.parse_args(argv)
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    try:
        if not args.region:
            raise InputError("NO_REGION", "give --region (or set AWS_REGION)")
        deployment = Deployment(args.stack_name, args.region, args.code_bucket, args.image_tag, args.data,
                                args.build_dir, args.settings_file, _pairs(args.parameter, "--parameter"),
                                args.dry_run, args.rehearse, _pairs(args.pipeline_parameter, "--pipeline-parameter"))
        deployment.run(set(args.skip))
    except GovernanceError as err:
        print(f"{err.reason}: {err.message}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["STEPS", "Deployment", "main", "packaged_template"]
