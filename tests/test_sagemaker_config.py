"""Pipeline settings: file + environment, validation, and the errors a user sees for anything missing."""

from __future__ import annotations

import pytest

from governance.errors import InputError
from pipeline.sagemaker.config import REQUIRED, env_name, example_values, load_settings

COMPLETE = {
    "region": "eu-west-1",
    "role_arn": "arn:aws:iam::111122223333:role/quickloan-pipeline",
    "bucket": "quickloan-artefacts-111122223333",
    "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/0f5c8a52-8a3c-4d55-9a8e-2a9a3c0e1b11",
    "signing_key_id": "alias/quickloan-model-signing",
    "image_uri": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/quickloan-governance:0.1.0",
}


def write_settings(path, values: dict) -> str:
    import yaml

    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return str(path)


def test_file_settings_load_and_environment_wins(tmp_path):
    config = write_settings(tmp_path / "sagemaker.yaml", {**COMPLETE, "govern_instance_type": "ml.m5.4xlarge"})
    environ = {env_name("bucket"): "other-bucket", env_name("subnets"): "subnet-1, subnet-2"}
    loaded = load_settings(config, environ=environ)
    assert loaded.complete and loaded.missing == []
    assert loaded.values.bucket == "other-bucket" and loaded.sources["bucket"] == "environment"
    assert loaded.values.subnets == ("subnet-1", "subnet-2")
    assert loaded.values.govern_instance_type == "ml.m5.4xlarge"
    assert loaded.values.account == "111122223333"
    assert loaded.values.default_input_data_uri == "s3://other-bucket/quickloan/data/"


def test_region_falls_back_to_the_aws_environment(tmp_path):
    values = {k: v for k, v in COMPLETE.items() if k != "region"}
    config = write_settings(tmp_path / "s.yaml", values)
    assert load_settings(config, environ={"AWS_DEFAULT_REGION": "eu-central-1"}).values.region == "eu-central-1"


def test_deploy_names_every_missing_setting_and_where_to_set_it(tmp_path):
    config = write_settings(tmp_path / "s.yaml", {"region": "eu-west-1", "bucket": COMPLETE["bucket"]})
    with pytest.raises(InputError) as caught:
        load_settings(config, environ={})
    assert caught.value.reason == "CONFIG_MISSING" and caught.value.exit_code == 2
    for key in ("role_arn", "kms_key_id", "signing_key_id", "image_uri"):
        assert key in caught.value.message and env_name(key) in caught.value.message
    assert "bucket," not in caught.value.message and str(config) in caught.value.message


def test_offline_definition_fills_gaps_with_recognisable_examples():
    loaded = load_settings(None, environ={env_name("region"): "us-east-1"}, require=False)
    assert loaded.missing == [key for key in REQUIRED if key != "region"]
    assert loaded.values.region == "us-east-1"
    assert loaded.values.role_arn == example_values("us-east-1")["role_arn"]
    assert all(loaded.sources[key] == "example" for key in loaded.missing)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("role_arn", "quickloan-pipeline"),  # a name is not an ARN: the role is passed in, never looked up
        ("bucket", "s3://quickloan-artefacts"),
        ("kms_key_id", "my key"),
        ("image_uri", "quickloan-governance"),  # no tag or digest
        ("processing_instance_type", "m5.xlarge"),
        ("region", "europe"),
        ("input_data_uri", "/data/cs-training.csv"),
    ],
)
def test_invalid_values_are_named(tmp_path, key, value):
    config = write_settings(tmp_path / "s.yaml", {**COMPLETE, key: value})
    with pytest.raises(InputError) as caught:
        load_settings(config, environ={})
    assert caught.value.reason == "BAD_CONFIG" and caught.value.message.count(key) >= 1


def test_unknown_keys_and_bad_yaml_are_refused(tmp_path):
    config = write_settings(tmp_path / "s.yaml", {**COMPLETE, "rol_arn": "x"})
    with pytest.raises(InputError, match="unknown setting"):
        load_settings(config, environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("region: eu-west-1\nbucket: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(broken, environ={})
    assert caught.value.reason == "BAD_CONFIG" and f"{broken}:" in caught.value.message
    with pytest.raises(InputError) as caught:
        load_settings(tmp_path / "absent.yaml", environ={})
    assert caught.value.reason == "CONFIG_NOT_FOUND"


def test_config_file_from_the_environment(tmp_path):
    config = write_settings(tmp_path / "s.yaml", COMPLETE)
    loaded = load_settings(None, environ={env_name("config"): config})
    assert loaded.values.role_arn == COMPLETE["role_arn"] and loaded.sources["role_arn"] == config
