"""The types a skops file may hold without ``--allow-pickle``: a list, not whole libraries.

skops restores an object in one of two ways, both driven by the file: it calls the class with
arguments read from the file (``ConstructorFromReduceNode``, ``ReduceNode``, ``ListNode``, ...),
or it calls ``cls.__new__`` and then ``__setstate__`` with state read from the file
(``ObjectNode``). A type belongs here only when both are harmless for *any* arguments and state:
they store values or compute on arrays, and never run a string, import a name, or open a path.

Trusting every class of numpy, scipy and scikit-learn, as whichmodel once did, fails that test:

- scipy.stats distributions ``exec`` a string from their state in ``__setstate__``
  (``rv_generic._attach_argparser_methods``), so a crafted file runs any code it likes;
- ``numpy.memmap(path, dtype, "w+")`` truncates any path the user can write.

The list: scikit-learn's estimators (``sklearn.utils.all_estimators``) and the helper objects
fitted estimators hold (trees, losses, kernels, distance metrics, splitters, ...); the XGBoost and
LightGBM scikit-learn classes and their boosters; numpy arrays, scalars, dtypes and random
generators; scipy sparse matrices and ``BSpline``; plain containers. Functions are trusted only
when they are pure computations that scikit-learn's own estimators hold by default (score
functions, ``np.mean`` for pooling); any other function still needs ``--allow-pickle``, as does
any type not listed. skops' own defaults (numpy and scipy ufuncs, ...) stay trusted.
``tests/sources/test_skops_trust.py`` fits scikit-learn's estimators and checks they all load.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

# Every class defined in these modules: loss functions and links (GradientBoosting*,
# HistGradientBoosting*, SGD*), kernels (GaussianProcess*), distance metrics (neighbours),
# cross-validation splitters (*CV, CalibratedClassifierCV).
_SKLEARN_HELPER_MODULES = (
    "sklearn._loss.loss",
    "sklearn._loss._loss",
    "sklearn._loss.link",
    "sklearn.linear_model._sgd_fast",
    "sklearn.metrics._dist_metrics",
    "sklearn.gaussian_process.kernels",
    "sklearn.model_selection._split",
)
# Private classes fitted estimators hold, by name: a name a scikit-learn version lacks is simply
# never met in a file.
_SKLEARN_HELPERS = frozenset({
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.cluster._bisect_k_means._BisectingTree",
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.metrics._scorer._PassthroughScorer",
    "sklearn.metrics._scorer._Scorer",
    "sklearn.utils._bunch.Bunch",
    "sklearn.compose._column_transformer._RemainderColsList",
    # scikit-learn 1.5 keeps a fitted GridSearchCV's metadata routing requests: an owner name
    # and dicts of parameter names to bool/str; no __setstate__ or __reduce__ of their own.
    "sklearn.utils._metadata_requests.MetadataRequest",
    "sklearn.utils._metadata_requests.MethodMetadataRequest",
})
# Pure functions scikit-learn's estimators hold by default (SelectKBest's score_func,
# FeatureAgglomeration's pooling_func, BisectingKMeans' inner k-means, HistGradientBoosting's
# categorical check, BSpline's array constructor).
_FUNCTIONS = frozenset({
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.f_regression",
    "sklearn.feature_selection._univariate_selection.r_regression",
    "sklearn.feature_selection._univariate_selection.chi2",
    "sklearn.feature_selection._mutual_info.mutual_info_classif",
    "sklearn.feature_selection._mutual_info.mutual_info_regression",
    "sklearn.cluster._kmeans._kmeans_single_lloyd",
    "sklearn.cluster._kmeans._kmeans_single_elkan",
    "sklearn.utils.validation.check_array",
    "scipy._lib.array_api_compat.numpy._aliases.asarray",
    "numpy.asarray",
    *(f"numpy.{name}" for name in ("mean", "median", "average", "sum", "prod", "min", "max",
                                   "amin", "amax", "std", "var", "nanmean", "nanmedian",
                                   "nansum", "nanmin", "nanmax", "nanstd", "nanvar")),
})
# Named as strings so that a scikit-learn model never pays for importing XGBoost or LightGBM.
_BOOSTING = frozenset({
    "xgboost.sklearn.XGBModel",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRanker",
    "xgboost.sklearn.XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor",
    "xgboost.core.Booster",
    "lightgbm.sklearn.LGBMModel",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
    "lightgbm.basic.Booster",
})
_CONTAINERS = frozenset({
    *(f"builtins.{name}" for name in ("dict", "list", "tuple", "set", "frozenset", "str", "int",
                                      "float", "complex", "bool", "bytes", "bytearray",
                                      "slice")),
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "functools.partial",  # its function and arguments are audited as nodes of their own
})
#: Types that are safe restored from their state, but whose constructor opens a path:
#: ``Booster(model_file=PATH)`` reads any file. skops restores them with ``ObjectNode``
#: (``__new__`` + ``__setstate__`` from the model bytes); any other node naming them is refused.
STATE_ONLY = frozenset({"xgboost.core.Booster", "lightgbm.basic.Booster"})

# Why a type is refused, for the families whose danger is known (one clause each).
_REASONS = (
    ("scipy.stats.", "scipy.stats distributions run code from the file (exec) when restored"),
    ("numpy.memmap", "numpy.memmap opens, and can overwrite, a path the file names"),
    ("builtins.eval", "eval runs code"),
    ("builtins.exec", "exec runs code"),
    ("builtins.open", "open reads or overwrites a path"),
    ("os.", "os functions run commands and touch files"),
    ("subprocess.", "subprocess runs commands"),
)


def is_trusted(name: str) -> bool:
    """True when ``module.Name`` (as skops names a type or function) is on the list."""
    return name in trusted_names()


@lru_cache(maxsize=1)
def trusted_names() -> frozenset[str]:
    """Every ``module.Name`` whichmodel lets skops restore without ``--allow-pickle``."""
    return frozenset(
        {*_sklearn_names(), *_numpy_names(), *_scipy_names(), *_FUNCTIONS, *_BOOSTING,
         *_CONTAINERS}
    )


def reason(name: str) -> str | None:
    """Why ``name`` is dangerous, when it belongs to a family known to be."""
    return next((why for prefix, why in _REASONS if name.startswith(prefix)), None)


def _name(obj: Any) -> str:
    """``module.Name``, as skops writes it in a file's schema."""
    return f"{obj.__module__}.{obj.__name__}"


def _sklearn_names() -> set[str]:
    from sklearn.utils import all_estimators

    names = {_name(cls) for _, cls in all_estimators()}
    for module_name in _SKLEARN_HELPER_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a scikit-learn version without it
            continue
        names.update(
            _name(obj) for obj in vars(module).values()
            if isinstance(obj, type) and obj.__module__ == module_name
        )
    return {n for n in names if n.startswith("sklearn.")} | _SKLEARN_HELPERS


def _numpy_names() -> set[str]:
    import numpy as np

    types: list[Any] = [np.ndarray, np.ma.MaskedArray, np.dtype, np.random.RandomState,
                        np.random.Generator, np.random.SeedSequence]
    types += [t for t in vars(np.random).values() if isinstance(t, type)
              and issubclass(t, np.random.BitGenerator) and t is not np.random.BitGenerator]
    types += list(np.sctypeDict.values())  # scalar types: numpy.float64, numpy.int64, ...
    names = {_name(t) for t in types}
    # skops names bit generators by their public path (numpy.random.PCG64) as well.
    names.update(f"numpy.random.{t.__name__}" for t in types
                 if issubclass(t, np.random.BitGenerator))
    return names


def _scipy_names() -> set[str]:
    import scipy.sparse as sparse
    from scipy.interpolate import BSpline

    matrices = [obj for obj in vars(sparse).values() if isinstance(obj, type)
                and issubclass(obj, sparse.spmatrix | sparse.sparray)]
    return {_name(t) for t in [*matrices, BSpline]}
