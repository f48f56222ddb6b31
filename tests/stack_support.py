"""The stack of ``pipeline/infra/*.yaml`` in moto: created through moto's CloudFormation where it can, the rest from
the templates' own properties.

:func:`created_through_cloudformation` reads back a stack moto's CloudFormation created (the deployment guide's
own CreateStack) and completes it: moto 5.2.5 creates none of S3::BucketPolicy, IAM::RolePolicy,
SageMaker::ModelPackageGroup, Scheduler::Schedule, CloudWatch::Alarm, Lambda::EventInvokeConfig, SQS::QueuePolicy,
applies only a bucket's encryption and tags, attaches no role's ``ManagedPolicyArns``, and creates every KMS key
symmetric (see :func:`kms_cloudformation_key_specs`). :func:`create_stack` creates a template's resources without
CloudFormation (the rehearsal tests, which need only some of them). Either way the test resolves the intrinsic
functions itself and sends each resource's properties, as read from the template, through the service's API; nothing
about the stack is written here by hand. Types the rehearsal does not use (alarms, topics, the schedule, the function
itself — its handler is invoked in-process) are listed in ``Stack.skipped``.

moto evaluates no bucket-policy condition: a Deny with a condition denies every request (moto 5.2.5
``IAMPolicyStatement._check_conditions`` treats a condition it has no value for as met). :func:`tls_requests`
makes moto treat each request as what the rehearsal sends on AWS — TLS 1.2+, uploads asking for SSE-KMS — so
those conditional Deny statements do not match, while the policy stays in the bucket for the scan to read.
:func:`kms_digest_signing` makes moto's KMS sign a ``DIGEST`` message as KMS does (moto hashes it again);
:func:`kms_key_resources` and :func:`sagemaker_resources` make moto's IAM enforcement check KMS and SageMaker calls
against the resource's ARN (moto checks "*"); :func:`s3_inventory_fields` makes moto list an inventory's fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
INFRA = REPO / "pipeline" / "infra"
MAIN_TEMPLATE = INFRA / "quickloan-governance.yaml"
SCAN_TEMPLATE = INFRA / "scan-schedule.yaml"
ACCOUNT = "123456789012"  # moto's account
STACK_ID_SUFFIX = "0f6b3c3e-7a51-4c55-9f39-7f2d0a1b2c3d"
_NO_VALUE = object()


def load_template(path: Path) -> dict:
    from cfnlint.decode import decode_str

    parsed, problems = decode_str(path.read_text(encoding="utf-8"))
    assert not problems, problems
    return parsed


@dataclass
class Stack:
    """One template's resources as created: logical id → physical id and attributes."""

    template: dict
    name: str
    region: str
    parameters: dict[str, Any]
    physical: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    created_id: str = ""  # the StackId CloudFormation gave it, when it was created through CloudFormation

    @property
    def stack_id(self) -> str:
        return self.created_id or f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{self.name}/{STACK_ID_SUFFIX}"

    # --- intrinsic functions -----------------------------------------------------------------------------------

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": "aws",
                  "AWS::StackName": self.name, "AWS::StackId": self.stack_id, "AWS::URLSuffix": "amazonaws.com",
                  "AWS::NoValue": _NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            spec = self.template["Parameters"][name]
            value = self.parameters.get(name, spec.get("Default", ""))
            if spec.get("Type") == "CommaDelimitedList":
                return [v for v in str(value).split(",")] if not isinstance(value, list) else value
            return value
        if name in self.physical:
            return self.physical[name]
        raise KeyError(f"Ref to {name}, which is not created (yet)")

    def get_att(self, resource: str, attribute: str) -> Any:
        return self.attributes[resource][attribute]

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            handler = {
                "Ref": lambda v: self.ref(v),
                "Fn::GetAtt": lambda v: self.get_att(*(v if isinstance(v, list) else v.split(".", 1))),
                "Fn::Sub": self._sub,
                "Fn::If": lambda v: self.resolve(v[1] if self.condition(v[0]) else v[2]),
                "Fn::Join": lambda v: str(v[0]).join(str(x) for x in self.resolve(v[1])),
                "Fn::Split": lambda v: str(self.resolve(v[1])).split(v[0]),
                "Fn::Select": lambda v: self.resolve(v[1])[int(self.resolve(v[0]))],
                "Fn::Equals": lambda v: self.resolve(v[0]) == self.resolve(v[1]),
                "Fn::Not": lambda v: not self.resolve(v[0]),
                "Fn::And": lambda v: all(self.resolve(x) for x in v),
                "Fn::Or": lambda v: any(self.resolve(x) for x in v),
                "Condition": lambda v: self.condition(v),
            }.get(key)
            if handler is not None:
                return handler(value)
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in node.items()) if r is not _NO_VALUE}

    def _sub(self, value: Any) -> str:
        text, names = (value, {}) if isinstance(value, str) else (value[0], self.resolve(value[1]))

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name in names:
                return str(names[name])
            if "." in name and name.split(".", 1)[0] in self.attributes:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!][^}]*)\}", one, text)

    def properties(self, logical: str) -> dict:
        return self.resolve(self.template["Resources"][logical].get("Properties", {}))


def offline_stack(template: dict, name: str, region: str = "eu-west-1", **parameters) -> Stack:
    """The template resolvable as CloudFormation would, with made-up physical ids and ARNs (nothing created)."""
    stack = Stack(template, name, region, parameters)
    for logical, resource in template["Resources"].items():
        service = resource["Type"].split("::")[1].lower()
        stack.physical[logical] = f"{logical.lower()}-id"
        stack.attributes[logical] = {"Arn": f"arn:aws:{service}:{region}:{ACCOUNT}:{logical.lower()}"
                                     if service != "kms" else f"arn:aws:kms:{region}:{ACCOUNT}:key/{logical.lower()}"}
    return stack


def _dependencies(resource: dict) -> set[str]:
    text = json.dumps(resource)
    names = set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text))
    names |= set(re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text))
    names |= set(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text))
    return names


def _order(resources: dict) -> list[str]:
    done: list[str] = []
    pending = dict(resources)
    while pending:
        ready = [name for name, r in pending.items() if not (_dependencies(r) & set(pending)) - {name}]
        assert ready, f"dependency cycle among {sorted(pending)}"
        for name in sorted(ready):
            done.append(name)
            del pending[name]
    return done


def _lifecycle_rule(rule: dict) -> dict:
    api: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"],
                           "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return api


class _Creator:
    def __init__(self, stack: Stack, clients) -> None:
        self.stack, self.client = stack, clients

    def create(self, logical: str, resource: dict) -> None:
        kind = resource["Type"]
        if "Condition" in resource and not self.stack.condition(resource["Condition"]):
            self.stack.skipped[logical] = f"{kind}: condition {resource['Condition']} is false"
            return
        method = getattr(self, kind.replace("AWS::", "").replace("::", "_").lower(), None)
        if method is None:
            self.stack.skipped[logical] = f"{kind}: not used by the rehearsal"
            return
        method(logical, self.stack.properties(logical))

    def kms_key(self, logical: str, p: dict) -> None:
        kms = self.client("kms")
        key = kms.create_key(Description=p.get("Description", ""), KeySpec=p.get("KeySpec", "SYMMETRIC_DEFAULT"),
                             KeyUsage=p.get("KeyUsage", "ENCRYPT_DECRYPT"), Policy=json.dumps(p["KeyPolicy"]),
                             Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in p.get("Tags", [])])
        metadata = key["KeyMetadata"]
        if p.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        self.stack.physical[logical] = metadata["KeyId"]
        self.stack.attributes[logical] = {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}

    def kms_alias(self, logical: str, p: dict) -> None:
        self.client("kms").create_alias(AliasName=p["AliasName"], TargetKeyId=p["TargetKeyId"])
        self.stack.physical[logical] = p["AliasName"]

    def s3_bucket(self, logical: str, p: dict) -> None:
        s3 = self.client("s3")
        name = p.get("BucketName") or f"{self.stack.name}-{logical}".lower()[:63]
        options = {"ObjectLockEnabledForBucket": True} if p.get("ObjectLockEnabled") else {}
        if self.stack.region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.stack.region}
        s3.create_bucket(Bucket=name, **options)
        self._configure_bucket(logical, name, p)

    def _configure_bucket(self, logical: str, name: str, p: dict) -> None:
        s3 = self.client("s3")
        if "BucketEncryption" in p:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                 **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {})}
                for rule in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
        if "PublicAccessBlockConfiguration" in p:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"])
        if "OwnershipControls" in p:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=p["OwnershipControls"])
        if "VersioningConfiguration" in p:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
        if "ObjectLockConfiguration" in p:
            lock = p["ObjectLockConfiguration"]
            retention = lock["Rule"]["DefaultRetention"]
            s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
                "ObjectLockEnabled": lock["ObjectLockEnabled"],
                "Rule": {"DefaultRetention": {"Mode": retention["Mode"], "Days": int(retention["Days"])}}})
        if "LifecycleConfiguration" in p:
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
                "Rules": [_lifecycle_rule(rule) for rule in p["LifecycleConfiguration"]["Rules"]]})
        if "LoggingConfiguration" in p:
            logging = p["LoggingConfiguration"]
            from botocore.exceptions import ClientError

            try:
                s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": {
                    "TargetBucket": logging["DestinationBucketName"],
                    "TargetPrefix": logging.get("LogFilePrefix", "")}})
            except ClientError as err:  # moto 5.2.5 answers 500 when the target's policy has a "*" principal
                self.stack.skipped[f"{logical}.LoggingConfiguration"] = f"moto could not apply it: {err}"
        for inventory in p.get("InventoryConfigurations", []):
            destination = inventory["Destination"]
            s3.put_bucket_inventory_configuration(Bucket=name, Id=inventory["Id"], InventoryConfiguration={
                "Id": inventory["Id"], "IsEnabled": inventory["Enabled"],
                "IncludedObjectVersions": inventory["IncludedObjectVersions"],
                "Schedule": {"Frequency": inventory["ScheduleFrequency"]},
                "OptionalFields": inventory.get("OptionalFields", []),
                "Destination": {"S3BucketDestination": {
                    "Bucket": destination["BucketArn"], "Format": destination["Format"],
                    **({"Prefix": destination["Prefix"]} if destination.get("Prefix") else {}),
                    **({"AccountId": destination["BucketAccountId"]} if destination.get("BucketAccountId") else {})}},
                **({"Filter": {"Prefix": inventory["Prefix"]}} if inventory.get("Prefix") else {})})
        if p.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": p["Tags"]})
        self.stack.physical[logical] = name
        self.stack.attributes[logical] = {"Arn": f"arn:aws:s3:::{name}"}

    def s3_bucketpolicy(self, logical: str, p: dict) -> None:
        self.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))
        self.stack.physical[logical] = p["Bucket"]

    def sagemaker_modelpackagegroup(self, logical: str, p: dict) -> None:
        created = self.client("sagemaker").create_model_package_group(
            ModelPackageGroupName=p["ModelPackageGroupName"],
            ModelPackageGroupDescription=p.get("ModelPackageGroupDescription", ""), Tags=p.get("Tags", []))
        self.stack.physical[logical] = p["ModelPackageGroupName"]
        self.stack.attributes[logical] = {"ModelPackageGroupArn": created["ModelPackageGroupArn"]}

    def ecr_repository(self, logical: str, p: dict) -> None:
        created = self.client("ecr").create_repository(repositoryName=p["RepositoryName"])["repository"]
        self.stack.physical[logical] = p["RepositoryName"]
        self.stack.attributes[logical] = {"Arn": created["repositoryArn"], "RepositoryUri": created["repositoryUri"]}

    def sqs_queue(self, logical: str, p: dict) -> None:
        sqs = self.client("sqs")
        attributes = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in p.items()
                      if key in ("MessageRetentionPeriod", "SqsManagedSseEnabled", "KmsMasterKeyId")}
        url = sqs.create_queue(QueueName=f"{self.stack.name}-{logical}"[:80], Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.stack.physical[logical] = url
        self.stack.attributes[logical] = {"Arn": arn, "QueueName": url.rsplit("/", 1)[-1]}

    def logs_loggroup(self, logical: str, p: dict) -> None:
        logs = self.client("logs")
        options = {"kmsKeyId": p["KmsKeyId"]} if p.get("KmsKeyId") else {}
        logs.create_log_group(logGroupName=p["LogGroupName"], **options)
        if p.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=p["LogGroupName"], retentionInDays=int(p["RetentionInDays"]))
        self.stack.physical[logical] = p["LogGroupName"]
        self.stack.attributes[logical] = {
            "Arn": f"arn:aws:logs:{self.stack.region}:{ACCOUNT}:log-group:{p['LogGroupName']}:*"}

    def iam_role(self, logical: str, p: dict) -> None:
        iam = self.client("iam")
        name = f"{self.stack.name}-{logical}"[:64]
        options = {"PermissionsBoundary": p["PermissionsBoundary"]} if p.get("PermissionsBoundary") else {}
        created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
                                  Description=p.get("Description", ""), **options)["Role"]
        for policy in p.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))
        self._attach_managed_policies(name, p)
        self.stack.physical[logical] = name
        self.stack.attributes[logical] = {"Arn": created["Arn"], "RoleId": created["RoleId"]}

    def _attach_managed_policies(self, role: str, p: dict) -> None:
        iam = self.client("iam")
        attached = {a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}
        for arn in p.get("ManagedPolicyArns", []):
            if arn not in attached:
                iam.attach_role_policy(RoleName=role, PolicyArn=arn)

    def iam_rolepolicy(self, logical: str, p: dict) -> None:
        self.client("iam").put_role_policy(RoleName=p["RoleName"], PolicyName=p["PolicyName"],
                                           PolicyDocument=json.dumps(p["PolicyDocument"]))
        self.stack.physical[logical] = p["PolicyName"]

    def iam_managedpolicy(self, logical: str, p: dict) -> None:
        created = self.client("iam").create_policy(PolicyName=f"{self.stack.name}-{logical}"[:128],
                                                   PolicyDocument=json.dumps(p["PolicyDocument"]))["Policy"]
        self.stack.physical[logical] = created["Arn"]


def create_stack(template_path: Path, name: str, region: str, parameters: dict[str, Any], clients,
                 only: set[str] | None = None) -> Stack:
    """Create ``template_path``'s resources (or ``only`` those) in dependency order; returns the stack."""
    template = load_template(template_path)
    stack = Stack(template, name, region, dict(parameters))
    creator = _Creator(stack, clients)
    resources = template["Resources"]
    for logical in _order(resources):
        if only is not None and logical not in only:
            stack.skipped[logical] = f"{resources[logical]['Type']}: not used by the rehearsal"
            continue
        creator.create(logical, resources[logical])
    return stack


class _Adopter(_Creator):
    """Reads back what CloudFormation created and applies the template properties moto's CloudFormation drops."""

    def adopt(self, logical: str, resource: dict, physical: str) -> None:
        self.stack.physical[logical] = physical
        kind = resource["Type"].replace("AWS::", "").replace("::", "_").lower()
        method = getattr(self, f"adopt_{kind}", None)
        if method is not None:
            method(logical, physical)

    def adopt_kms_key(self, logical: str, physical: str) -> None:
        metadata = self.client("kms").describe_key(KeyId=physical)["KeyMetadata"]
        expected = self.stack.properties(logical)
        assert metadata["KeySpec"] == expected.get("KeySpec", "SYMMETRIC_DEFAULT"), (logical, metadata["KeySpec"])
        self.stack.attributes[logical] = {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}

    def adopt_s3_bucket(self, logical: str, physical: str) -> None:
        # moto 5.2.5 applies only BucketEncryption and Tags: the rest from the template's properties.
        self.stack.attributes[logical] = {"Arn": f"arn:aws:s3:::{physical}"}
        self._configure_bucket(logical, physical, self.stack.properties(logical))

    def adopt_ecr_repository(self, logical: str, physical: str) -> None:
        found = self.client("ecr").describe_repositories(repositoryNames=[physical])["repositories"][0]
        self.stack.attributes[logical] = {"Arn": found["repositoryArn"], "RepositoryUri": found["repositoryUri"]}

    def adopt_iam_role(self, logical: str, physical: str) -> None:
        role = self.client("iam").get_role(RoleName=physical)["Role"]
        self.stack.attributes[logical] = {"Arn": role["Arn"], "RoleId": role["RoleId"]}
        self._attach_managed_policies(physical, self.stack.properties(logical))  # moto 5.2.5 drops them

    def adopt_sqs_queue(self, logical: str, physical: str) -> None:
        arn = self.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.stack.attributes[logical] = {"Arn": arn, "QueueName": physical.rsplit("/", 1)[-1]}

    def adopt_logs_loggroup(self, logical: str, physical: str) -> None:
        self.stack.attributes[logical] = {"Arn": f"arn:aws:logs:{self.stack.region}:{ACCOUNT}:log-group:{physical}:*"}

    def adopt_lambda_function(self, logical: str, physical: str) -> None:
        arn = self.client("lambda").get_function_configuration(FunctionName=physical)["FunctionArn"]
        self.stack.attributes[logical] = {"Arn": arn}


def created_through_cloudformation(name: str, template_path: Path, region: str, clients,
                                   parameters: dict[str, Any] | None = None) -> Stack:
    """Stack ``name`` as CloudFormation created it, completed from ``template_path``'s own properties.

    Every resource CloudFormation created is read back (physical id, attributes); the types moto's CloudFormation
    does not create (bucket policies, role policies, the model package group) are created here, and the bucket
    properties and role managed policies moto drops are applied to what it created. ``parameters`` default to the
    stack's own; give the parent's resolved ones for a nested stack (moto lists a CommaDelimitedList parameter as a
    Python list's text).
    """
    cfn = clients("cloudformation")
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    if parameters is None:
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    stack = Stack(load_template(template_path), described["StackName"], region, dict(parameters),
                  created_id=described["StackId"])
    created = {r["LogicalResourceId"]: r["PhysicalResourceId"]
               for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"] if r["LogicalResourceId"]}
    adopter = _Adopter(stack, clients)
    resources = stack.template["Resources"]
    for logical in _order(resources):
        if logical in created:
            adopter.adopt(logical, resources[logical], created[logical])
        else:
            adopter.create(logical, resources[logical])
    return stack


def cloudformation_stack(template_path: Path, name: str, region: str, clients,
                         parameters: dict[str, Any] | None = None) -> Stack:
    """Create ``template_path`` as stack ``name`` through (moto's) CloudFormation, then complete it as above."""
    clients("cloudformation").create_stack(
        StackName=name, TemplateBody=template_path.read_text(encoding="utf-8"), Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in (parameters or {}).items()])
    return created_through_cloudformation(name, template_path, region, clients)


def kms_cloudformation_key_specs(monkeypatch) -> None:
    """Make moto's CloudFormation create an ``AWS::KMS::Key`` with its ``KeySpec`` and ``KeyUsage`` (moto 5.2.5
    creates every key as SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT, so the ECDSA signing key could not sign)."""
    from moto.kms.models import Key, kms_backends

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        key = kms_backends[account_id][region_name].create_key(
            policy=json.dumps(p["KeyPolicy"]) if isinstance(p["KeyPolicy"], dict) else p["KeyPolicy"],
            key_usage=p.get("KeyUsage", "ENCRYPT_DECRYPT"), key_spec=p.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=p.get("Description"), tags=[{"TagKey": t["Key"], "TagValue": t["Value"]}
                                                    for t in p.get("Tags", [])])
        key.key_rotation_status = bool(p.get("EnableKeyRotation", False))
        key.enabled = p.get("Enabled", True)
        return key

    monkeypatch.setattr(Key, "create_from_cloudformation_json", classmethod(create))


def outputs(stack: Stack) -> dict[str, Any]:
    return {name: stack.resolve(spec["Value"]) for name, spec in stack.template.get("Outputs", {}).items()
            if "Condition" not in spec or stack.condition(spec["Condition"])}


def tls_requests(monkeypatch) -> None:
    """Make moto treat every S3 request as a TLS 1.2+ request that asks for SSE-KMS (see the module docstring)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def permission(self, action: str, resource: str):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        listed = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        document["Statement"] = [s for s in listed if not (s.get("Effect") == "Deny" and s.get("Condition"))]
        return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)

    monkeypatch.setattr(FakeBucket, "get_permission", permission)


def kms_digest_signing(monkeypatch) -> None:
    """Make moto's KMS ``Sign`` with ``MessageType=DIGEST`` sign the given digest, as KMS does (moto 5.2.5 hashes
    it again, so a signature over a long message would not verify against the message)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from moto.kms.responses import KmsResponse

    original = KmsResponse.sign

    def sign(self) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        message = self._get_param("Message")
        digest = base64.b64decode(message) if isinstance(message, str) else message
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(),
                           "SigningAlgorithm": self._get_param("SigningAlgorithm")})

    monkeypatch.setattr(KmsResponse, "sign", sign)


class iam_enforced:
    """moto checks every request against IAM while inside (``/moto-api/reset-auth``): the credentials in use must be
    a known principal's, and its policies must allow the call."""

    def __init__(self, server) -> None:
        self.server = server

    def _set(self, count: str) -> None:
        import urllib.request

        request = urllib.request.Request(f"{self.server.endpoint}/moto-api/reset-auth", data=count.encode(),
                                         method="POST", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def __enter__(self) -> iam_enforced:
        self._set("0")
        return self

    def __exit__(self, *exc) -> None:
        self._set("inf")


def role_credentials(role_arn: str, session: str, region: str) -> dict[str, str]:
    """Environment variables holding temporary credentials of ``role_arn`` (STS AssumeRole)."""
    import boto3

    credentials = boto3.client("sts", region_name=region).assume_role(RoleArn=role_arn, RoleSessionName=session)[
        "Credentials"]
    return {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"]}


def kms_key_resources(monkeypatch) -> None:
    """Make moto authorize a KMS request against the key's ARN, as AWS does (moto 5.2.5 checks every KMS call
    against the resource "*", so a statement scoped to a key never matches under IAM enforcement)."""
    from moto.kms.responses import KmsResponse

    def determine_resource(self) -> str:
        key = self._get_param("KeyId")
        if not key:
            return "*"
        try:
            return self.kms_backend.describe_key(key).arn
        except Exception:  # an unknown key: the call reports its own error
            return "*"

    monkeypatch.setattr(KmsResponse, "_determine_resource", determine_resource, raising=False)


_SAGEMAKER_RESOURCES = (("TrainingJobName", "training-job"), ("ProcessingJobName", "processing-job"),
                        ("ModelName", "model"), ("ModelPackageGroupName", "model-package-group"))


def sagemaker_resources(monkeypatch, region: str) -> None:
    """Make moto authorize the SageMaker calls the stack scopes by resource against that resource's ARN, as AWS
    does (moto 5.2.5 checks them against "*")."""
    from moto.sagemaker.responses import SageMakerResponse

    def determine_resource(self) -> str:
        package = self._get_param("ModelPackageName") or self._get_param("ModelPackageArn")  # Update names it so
        if package:
            return package if package.startswith("arn:") else "*"
        for parameter, kind in _SAGEMAKER_RESOURCES:
            name = self._get_param(parameter)
            if name:
                return f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name.lower()}"
        return "*"

    monkeypatch.setattr(SageMakerResponse, "_determine_resource", determine_resource, raising=False)


def admin_credentials(name: str = "deployer") -> dict[str, str]:
    """An IAM user allowed everything (the person running the deployment), as environment variables."""
    import boto3

    iam = boto3.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="administrator", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def s3_inventory_fields(monkeypatch) -> None:
    """Make moto list an inventory configuration's OptionalFields as stored (moto 5.2.5 lists ``['Field']``)."""
    import copy

    from moto.s3.models import S3Backend

    original = S3Backend.list_bucket_inventory_configurations

    def listed(self, *args, **kwargs):
        configurations = []
        for config in original(self, *args, **kwargs):
            fields = config.optional_fields
            if isinstance(fields, dict):
                config = copy.copy(config)
                config.optional_fields = fields.get("Field", [])
                config.optional_fields = [config.optional_fields] if isinstance(config.optional_fields, str) \
                    else config.optional_fields
            configurations.append(config)
        return configurations

    monkeypatch.setattr(S3Backend, "list_bucket_inventory_configurations", listed)
