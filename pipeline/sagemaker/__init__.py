"""The QuickLoan pipeline on Amazon SageMaker: settings, the pipeline definition, and deployment.

The SageMaker Python SDK v3 is imported only here, lazily, and only when a definition is built::

    from pipeline.sagemaker.config import load_settings
    from pipeline.sagemaker.definition import pipeline_definition
    from pipeline.sagemaker.deploy import deploy

    definition = pipeline_definition(load_settings(require=False).values)   # offline
    deploy(load_settings().values, start=True)                             # upsert and start
"""
