"""The model re-trained from the re-made train split with the hyperparameters ``training.json`` recorded.

Training is seeded with a fixed thread count and the archive layout is reproducible, so the same split and
hyperparameters give the same ``model.tar.gz`` bytes: its digest is compared with the one the pack states.
"""

from __future__ import annotations

import pandas as pd

from governance.credit_data import FEATURES, RAW_TARGET
from governance.integrity.model_check import MODEL_MEMBER
from governance.model_artifact import tarball_bytes


def retrain(train: pd.DataFrame, hyperparameters: dict):
    """``(booster, archive bytes)`` for the imputed ``train`` frame and the recorded hyperparameters."""
    import xgboost

    params = {key: value for key, value in hyperparameters.items() if key != "num_round"}
    matrix = xgboost.DMatrix(train[list(FEATURES)], label=train[RAW_TARGET].astype(int), feature_names=list(FEATURES))
    booster = xgboost.train(params, matrix, num_boost_round=int(hyperparameters["num_round"]))
    return booster, tarball_bytes({MODEL_MEMBER: bytes(booster.save_raw("ubj"))})


def default_probability(booster, features: pd.DataFrame):
    import numpy as np
    import xgboost

    return booster.predict(xgboost.DMatrix(np.asarray(features, dtype=np.float64), feature_names=list(FEATURES)))


def log_odds(booster, features: pd.DataFrame):
    import numpy as np
    import xgboost

    matrix = xgboost.DMatrix(np.asarray(features, dtype=np.float64), feature_names=list(FEATURES))
    return booster.predict(matrix, output_margin=True).astype(np.float64)
