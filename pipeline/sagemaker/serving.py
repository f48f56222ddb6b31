"""The SageMaker XGBoost container's serving rules, checked on a registered inference specification.

In algorithm mode (no user script) the container loads ``xgboost-model`` from the model archive and answers
``text/csv`` (also libsvm, recordio-protobuf, JSON); it reads ``SAGEMAKER_PROGRAM`` as the name of a user module
whenever the variable is *present*, so an empty value makes it import ``""`` and fail every request.

>>> serving_problems({"Image": "x/sagemaker-xgboost:3.2-0", "ModelDataUrl": "s3://b/m/model.tar.gz",
...                   "Environment": {"SAGEMAKER_PROGRAM": ""}}, {"SupportedContentTypes": ["text/csv"],
...                   "SupportedResponseMIMETypes": ["text/csv"]})
['SAGEMAKER_PROGRAM is empty: the container imports it as a module name']
"""

from __future__ import annotations

# What the algorithm-mode container accepts as request bodies and returns.
XGBOOST_CONTENT_TYPES = {"text/csv", "text/libsvm", "text/x-libsvm", "application/x-recordio-protobuf",
                         "application/json", "application/jsonlines"}
XGBOOST_RESPONSE_TYPES = {"text/csv", "application/json", "application/jsonlines",
                          "application/x-recordio-protobuf"}


def serving_problems(container: dict, specification: dict) -> list[str]:
    """Every way ``container`` (and its ``InferenceSpecification``) breaks the XGBoost container's serving rules."""
    problems = [f"{key} is empty: the container imports it as a module name" if key == "SAGEMAKER_PROGRAM"
                else f"{key} is empty: the container reads an empty value as set"
                for key, value in (container.get("Environment") or {}).items()
                if key.startswith("SAGEMAKER_") and value == ""]
    image = str(container.get("Image", ""))
    if "sagemaker-xgboost" not in image:
        problems.append(f"{image or 'no image'}: not SageMaker's XGBoost container")
    data = str(container.get("ModelDataUrl", ""))
    if not (data.startswith("s3://") and data.endswith(".tar.gz")):
        problems.append(f"ModelDataUrl {data or 'missing'}: the container loads an s3:// model.tar.gz")
    for field, allowed in (("SupportedContentTypes", XGBOOST_CONTENT_TYPES),
                           ("SupportedResponseMIMETypes", XGBOOST_RESPONSE_TYPES)):
        given = set(specification.get(field) or [])
        if not given:
            problems.append(f"{field} is empty")
        elif given - allowed:
            problems.append(f"{field} {sorted(given - allowed)}: not served by the XGBoost container")
    return problems


__all__ = ["XGBOOST_CONTENT_TYPES", "XGBOOST_RESPONSE_TYPES", "serving_problems"]
