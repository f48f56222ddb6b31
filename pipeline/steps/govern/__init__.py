"""Govern step: sign, record lineage, assess fairness and explanations, scan against policy, render the audit pack —
then write ``governance.json``, the verdict the registration condition reads (:mod:`governance.verdict`).

The same function, :func:`govern`, runs in the SageMaker processing container and in the local runner:

- ``checks.py`` — the checks themselves, and what turns an exception into FAIL or ERROR;
- ``run.py`` — :func:`govern`: the checks in order, then the signed verdict;
- ``contract.py`` — :class:`GovernArgs`, the container's flags and paths, shared with the pipeline definition;
- ``container.py`` — the container entry point (``python -m pipeline.steps.govern``);
- ``local.py`` — the local runner's hook: ``run_pipeline(data, workdir, govern=govern_hook(key=...))``.
"""

from pipeline.steps.govern.checks import GovernContext
from pipeline.steps.govern.container import main
from pipeline.steps.govern.contract import GovernArgs, build_parser
from pipeline.steps.govern.local import govern_hook, local_govern
from pipeline.steps.govern.run import govern

__all__ = ["GovernArgs", "GovernContext", "build_parser", "govern", "govern_hook", "local_govern", "main"]
