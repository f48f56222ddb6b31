"""Post-market monitoring: captured endpoint traffic judged against the baseline the training run left behind.

    from governance.monitoring import load_policy, monitor, write_report
    report = monitor("model.tar.gz", "evidence/", "capture/quickloan/AllTraffic/", load_policy(),
                     labels="ground-truth/")
    write_report(report, "monitoring/", signer)      # monitoring.json (+ .sig), monitoring.sarif

Baselines are written by the pipeline (:mod:`.baseline`); :mod:`.capture` reads SageMaker Data Capture and
Model Monitor ground truth; :mod:`.stats` holds PSI and the intervals; :mod:`.policy` the warn/fail levels.
"""

from governance.monitoring.assess import monitor, verdict_of
from governance.monitoring.policy import MonitoringPolicy, load_policy
from governance.monitoring.report import write_report

__all__ = ["MonitoringPolicy", "load_policy", "monitor", "verdict_of", "write_report"]
