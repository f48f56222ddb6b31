"""The QuickLoan credit-default pipeline: process → train → evaluate → AUC gate → register.

The step modules in :mod:`pipeline.steps` run unchanged inside SageMaker containers (default paths under
``/opt/ml``) and locally (paths from arguments); :mod:`pipeline.runner` runs them in order in a work folder.
"""
