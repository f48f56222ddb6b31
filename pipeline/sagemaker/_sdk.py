"""The SageMaker Python SDK v3, imported once and lazily (it takes seconds and pulls about 1 GB of packages).

The SDK configures the root logger at import (``logging.basicConfig(level=INFO)``) and logs a warning for every
job name it drops from a definition; neither belongs on a command line's stderr, so both are undone here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from functools import cache
from types import SimpleNamespace

from governance.errors import InputError


@cache
def sdk() -> SimpleNamespace:
    """The SDK names this package uses, in one namespace; an :class:`InputError` when the SDK is not installed."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # Some SDK modules create clients at import and raise NoRegionError without a region; the sessions this
    # package builds always name their region, so any placeholder will do for the import itself.
    borrowed_region = not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    if borrowed_region:
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sagemaker.core import image_uris
            from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
            from sagemaker.core.network import NetworkConfig
            from sagemaker.core.processing import Processor
            from sagemaker.core.shapes import (
                ProcessingInput,
                ProcessingOutput,
                ProcessingS3Input,
                ProcessingS3Output,
                StoppingCondition,
            )
            from sagemaker.core.training.configs import Compute, InputData, Networking, OutputDataConfig
            from sagemaker.core.workflow.conditions import ConditionEquals, ConditionGreaterThanOrEqualTo
            from sagemaker.core.workflow.execution_variables import ExecutionVariables
            from sagemaker.core.workflow.functions import Join, JsonGet
            from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
            from sagemaker.core.workflow.pipeline_context import PipelineSession
            from sagemaker.core.workflow.properties import PropertyFile
            from sagemaker.mlops.workflow.condition_step import ConditionStep
            from sagemaker.mlops.workflow.fail_step import FailStep
            from sagemaker.mlops.workflow.model_step import ModelStep
            from sagemaker.mlops.workflow.pipeline import Pipeline
            from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
            from sagemaker.serve.model_builder import ModelBuilder
            from sagemaker.train import ModelTrainer
    except ImportError as err:
        raise InputError(
            "SAGEMAKER_SDK_MISSING",
            f"the SageMaker Python SDK v3 is needed for this command ({err}); "
            "install it with: pip install 'quickloan-governance[sagemaker]'",
        ) from None
    finally:
        if borrowed_region:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    # The SDK sets DEBUG/INFO on some of its own loggers; a governance command's stderr is for its own lines.
    for name in [*logging.root.manager.loggerDict, "sagemaker"]:
        if name.startswith("sagemaker"):
            logging.getLogger(name).setLevel(logging.ERROR)
    return SimpleNamespace(
        image_uris=image_uris, MetricsSource=MetricsSource, ModelMetrics=ModelMetrics, NetworkConfig=NetworkConfig,
        Processor=Processor, ProcessingInput=ProcessingInput, ProcessingOutput=ProcessingOutput,
        ProcessingS3Input=ProcessingS3Input, ProcessingS3Output=ProcessingS3Output, ConditionEquals=ConditionEquals,
        ConditionGreaterThanOrEqualTo=ConditionGreaterThanOrEqualTo, ExecutionVariables=ExecutionVariables,
        Join=Join, JsonGet=JsonGet, ParameterFloat=ParameterFloat, ParameterInteger=ParameterInteger,
        ParameterString=ParameterString, PipelineSession=PipelineSession, PropertyFile=PropertyFile,
        ConditionStep=ConditionStep, FailStep=FailStep, ModelStep=ModelStep, Pipeline=Pipeline,
        ProcessingStep=ProcessingStep, TrainingStep=TrainingStep, ModelBuilder=ModelBuilder,
        ModelTrainer=ModelTrainer, Compute=Compute, InputData=InputData, Networking=Networking,
        OutputDataConfig=OutputDataConfig, StoppingCondition=StoppingCondition,
    )


@contextlib.contextmanager
def quiet_build(region: str) -> Iterator[None]:
    """Build steps offline: no role lookup through IAM, a region for the SDK's throwaway local sessions, no warnings."""
    saved = {name: os.environ.get(name) for name in ("SAGEMAKER_VALIDATE_ROLE", "AWS_DEFAULT_REGION")}
    # The role is passed in as a full ARN; looking it up needs IAM access that an offline build does not have.
    os.environ["SAGEMAKER_VALIDATE_ROLE"] = "false"
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = region
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # raised inside the SDK about its own internals
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
