"""The Govern container contract: what the pipeline definition writes is what the container entry point reads."""

import subprocess
import sys
from dataclasses import fields

from pipeline.steps.govern.contract import INPUT_DIRS, OUTPUT_DIRS, GovernArgs, build_parser


def test_every_field_round_trips_through_the_argument_list():
    args = GovernArgs(model="m/model.tar.gz", kms_key_id="alias/signing", artefact_uri="s3://b/p/model.tar.gz",
                      data_uri="s3://b/raw.csv", evidence_uri="s3://b/e", publish_uri="s3://b/g",
                      auc_threshold=0.75, decision_threshold=0.5, training_job="arn:aws:sagemaker:x", execution="e",
                      image_uri="i", training_image_uri="t", policies="p", governance_file="g.yaml",
                      skip=["audit_pack", "policy"], strict=True)
    assert GovernArgs.from_argv(args.to_argv()) == args


def test_every_flag_is_a_field_and_every_field_a_flag():
    options = {option for action in build_parser()._actions for option in action.option_strings} - {"-h", "--help"}
    assert options == {"--" + spec.name.replace("_", "-") for spec in fields(GovernArgs)}


def test_defaults_are_the_container_paths_the_definition_mounts():
    args = GovernArgs.from_argv(["--key", "k.pem"])
    for name in INPUT_DIRS:
        assert getattr(args, name).startswith(INPUT_DIRS[name] + "/")
    assert (args.evidence_dir, args.out_dir) == (OUTPUT_DIRS["evidence"], OUTPUT_DIRS["governance"])


def test_pipeline_values_pass_through_untouched():
    marker = object()  # a SageMaker pipeline variable is rendered by the SDK, not by the contract
    argv = GovernArgs(artefact_uri=marker).to_argv()
    assert argv[argv.index("--artefact-uri") + 1] is marker


def test_the_contract_needs_no_sagemaker_sdk():
    code = "import sys, pipeline.steps.govern.contract; print('sagemaker' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
